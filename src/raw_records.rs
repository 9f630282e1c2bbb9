//! Result rows as JSON text, written once and spliced into the response.
//!
//! A large `get_table_data` result used to cross five forms: D1's arrays as JSON text, parsed into
//! `serde_json` values, turned into one ordered map per row, serialised for the text content and
//! serialised again for `structuredContent`. When no row needs changing (no masked column, no
//! related rows to attach), [`records_from_arrays`] writes the records' JSON text straight from
//! D1's text (each cell copied as the engine wrote it) and [`RawRecords`] carries it to the
//! response: the tool's value holds a fresh random marker string where the records go, and the
//! final JSON-RPC body gets the records in place of the marker twice: as JSON in
//! `structuredContent`, and escaped in the text content, where the marker sits as `\"marker\"`.
//! The escaped form is written with the records (keys escaped once per column, number and literal
//! cells copied as they are), so the text content is not escaped byte by byte. The marker is 128
//! random bits, new for every result, and only ever appears in values this server builds, so no
//! data can forge it.

use std::cell::RefCell;

use serde_json::Value as Json;

use records_text::push_escaped;

use crate::db::{DbError, QueryResult};

/// The JSON text of an array of row objects (column names as keys, in column order).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsText {
    pub text: String,
    /// `text` as the inside of a JSON string (what serde_json writes for it).
    pub escaped: String,
    /// Rows in `text`.
    pub rows: usize,
    /// Whether the engine returned more rows than were kept.
    pub more: bool,
}

impl RecordsText {
    /// From rows already read into values (engines without a text form, and duplicate column
    /// names, where the last value of a name wins as in a JSON object built row by row).
    pub fn from_result(result: QueryResult, max_rows: usize) -> Self {
        let more = result.rows.len() > max_rows;
        let mut objects = result.into_objects();
        objects.truncate(max_rows);
        let rows = objects.len();
        let text = Json::Array(objects.into_iter().map(Json::Object).collect()).to_string();
        let mut escaped = String::with_capacity(text.len() + text.len() / 4);
        push_escaped(&mut escaped, &text);
        RecordsText { text, escaped, rows, more }
    }
}

/// Converts `[[column names...], [cells...], ...]` (D1's `raw({columnNames: true})` as JSON text)
/// into the records text, keeping at most `max_rows` rows. Cells are copied as written, never
/// re-encoded: the text is `JSON.stringify`'s, and the `records-text` crate (the loop itself,
/// compiled for speed) checks its shape as it goes.
pub fn records_from_arrays(text: &str, max_rows: usize) -> Result<RecordsText, DbError> {
    let unreadable = |why: &str| DbError::new(format!("could not read D1 result: {why}"));
    let Some((header, rows_from)) = records_text::header(text).map_err(unreadable)? else {
        return Ok(RecordsText { text: "[]".into(), escaped: "[]".into(), rows: 0, more: false });
    };
    let columns: Vec<String> = header
        .iter()
        .map(|name| serde_json::from_str::<String>(name))
        .collect::<Result<_, _>>()
        .map_err(|_| unreadable("column names are not strings"))?;
    let distinct = columns.iter().enumerate().all(|(i, name)| !columns[..i].contains(name));
    if !distinct {
        // The same shape checks as below (rows of as many JSON values as there are columns),
        // writing nothing, before the values are read.
        let nothing = vec![String::new(); columns.len()];
        records_text::write_records(text, rows_from, &nothing, &nothing, 0).map_err(unreadable)?;
        let values: Json = serde_json::from_str(text).map_err(|e| unreadable(&e.to_string()))?;
        return Ok(RecordsText::from_result(arrays_to_result(columns, values), max_rows));
    }
    // What goes before each cell, once per column, as JSON and escaped: `"name":` for the first
    // column, `,"name":` for the others.
    let keys: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(at, c)| format!("{}{}:", if at == 0 { "" } else { "," }, Json::from(c.as_str())))
        .collect();
    let escaped_keys: Vec<String> = keys
        .iter()
        .map(|key| {
            let mut out = String::with_capacity(key.len() + 8);
            push_escaped(&mut out, key);
            out
        })
        .collect();
    let written = records_text::write_records(text, rows_from, &keys, &escaped_keys, max_rows).map_err(unreadable)?;
    Ok(RecordsText { text: written.text, escaped: written.escaped, rows: written.rows, more: written.more })
}

fn arrays_to_result(columns: Vec<String>, values: Json) -> QueryResult {
    let Json::Array(arrays) = values else { return QueryResult { columns, ..Default::default() } };
    let rows = arrays
        .into_iter()
        .skip(1)
        .map(|row| match row {
            Json::Array(cells) => cells,
            other => vec![other],
        })
        .collect();
    QueryResult { columns, rows, rows_affected: None }
}

/// The records texts of one HTTP request's results, by marker, until the response is written.
/// The default takes nothing (tools keep their values); only the MCP endpoints make an accepting
/// one, for single messages whose body they write themselves (a JSON-RPC batch measures each
/// answer's size as a value, so its tools keep values).
#[derive(Default)]
pub struct RawRecords {
    /// Marker, records text, records text escaped.
    pending: RefCell<Vec<(String, String, String)>>,
    accepting: bool,
}

impl RawRecords {
    pub fn accepting() -> Self {
        RawRecords { pending: Default::default(), accepting: true }
    }

    /// Whether [`put`](Self::put) keeps text (else a tool should build values directly).
    pub fn accepts(&self) -> bool {
        self.accepting
    }

    /// Keeps the records and returns the marker to put where they go, or gives their text back
    /// when this holder takes nothing or no randomness is available.
    pub fn put(&self, records: RecordsText) -> Result<Json, String> {
        if !self.accepting {
            return Err(records.text);
        }
        let Ok(marker) = new_marker() else { return Err(records.text) };
        self.pending.borrow_mut().push((marker.clone(), records.text, records.escaped));
        Ok(Json::String(marker))
    }

    pub fn is_empty(&self) -> bool {
        self.pending.borrow().is_empty()
    }

    /// The final body with every marker replaced: `"marker"` (in `structuredContent`) by the
    /// records, `\"marker\"` (inside the text content's string) by the records escaped. The texts
    /// are released.
    pub fn splice_body(&self, body: String) -> String {
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        let mut body = body;
        for (marker, text, escaped) in pending {
            body = replace_once(&body, &format!("\\\"{marker}\\\""), &escaped);
            body = replace_once(&body, &format!("\"{marker}\""), &text);
        }
        body
    }
}

/// `pattern` in `text` replaced by `with` (the first occurrence: there is one).
fn replace_once(text: &str, pattern: &str, with: &str) -> String {
    match text.find(pattern) {
        Some(at) => {
            let mut out = String::with_capacity(text.len() + with.len());
            out.push_str(&text[..at]);
            out.push_str(with);
            out.push_str(&text[at + pattern.len()..]);
            out
        }
        None => text.to_string(),
    }
}

/// `dbmcp-records-` and 128 random bits in hex.
fn new_marker() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    let mut marker = String::with_capacity(14 + 32);
    marker.push_str("dbmcp-records-");
    for b in bytes {
        marker.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        marker.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    Ok(marker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_are_written_in_their_shortest_form() {
        // ryu's `small` table (Cargo.toml) must write what the full one does.
        let values = json!([0.1, 19.99, 24.99, 1e-7, 1.5e300, -2.5, 123456.789, 5e-324, 1.7976931348623157e308]);
        assert_eq!(values.to_string(), "[0.1,19.99,24.99,1e-7,1.5e300,-2.5,123456.789,5e-324,1.7976931348623157e308]");
    }

    #[test]
    fn arrays_become_objects_in_column_order_with_cells_as_written() {
        let text = r#"[["id","note","price","blob"],[1,"a \"quoted\" <b>\n",1.5,[1,2]],[2,null,1e+21,[]]]"#;
        let records = records_from_arrays(text, 10).unwrap();
        assert_eq!(records.rows, 2);
        assert!(!records.more);
        assert_eq!(
            records.text,
            r#"[{"id":1,"note":"a \"quoted\" <b>\n","price":1.5,"blob":[1,2]},{"id":2,"note":null,"price":1e+21,"blob":[]}]"#
        );
        let parsed: Json = serde_json::from_str(&records.text).unwrap();
        assert_eq!(parsed[0]["note"], "a \"quoted\" <b>\n");
        // Key order is the column order, not sorted.
        let keys: Vec<&String> = parsed[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "note", "price", "blob"]);
    }

    #[test]
    fn rows_beyond_the_cap_are_dropped_and_reported() {
        let text = r#"[["id"],[1],[2],[3]]"#;
        let records = records_from_arrays(text, 2).unwrap();
        assert_eq!((records.text.as_str(), records.rows, records.more), (r#"[{"id":1},{"id":2}]"#, 2, true));
        let exact = records_from_arrays(text, 3).unwrap();
        assert_eq!((exact.rows, exact.more), (3, false));
    }

    #[test]
    fn no_rows_and_empty_results_are_an_empty_array() {
        assert_eq!(records_from_arrays("[]", 5).unwrap().text, "[]");
        assert_eq!(records_from_arrays(" [ [ \"a\" ] , [ 1 ] , [ [ ] ] ] ", 5).unwrap().text, r#"[{"a":1},{"a":[ ]}]"#);
        assert_eq!(
            records_from_arrays(r#"[["id"]]"#, 5).unwrap(),
            RecordsText { text: "[]".into(), escaped: "[]".into(), rows: 0, more: false }
        );
    }

    #[test]
    fn escaped_column_names_stay_valid_json() {
        let records = records_from_arrays(r#"[["we\"ird","ü"],[1,2]]"#, 5).unwrap();
        let parsed: Json = serde_json::from_str(&records.text).unwrap();
        assert_eq!(parsed, json!([{ "we\"ird": 1, "ü": 2 }]));
    }

    #[test]
    fn duplicate_column_names_behave_as_an_object_built_row_by_row() {
        let records = records_from_arrays(r#"[["a","b","a"],[1,2,3]]"#, 5).unwrap();
        assert_eq!(serde_json::from_str::<Json>(&records.text).unwrap(), json!([{ "a": 3, "b": 2 }]));
    }

    #[test]
    fn every_row_is_checked_even_past_the_cap() {
        // A row the cap leaves out is still refused when its cells do not match the columns.
        assert!(records_from_arrays(r#"[["a"],[1],[1,2]]"#, 1).is_err());
        assert!(records_from_arrays(r#"[["a"],[1],[]]"#, 1).is_err());
        assert_eq!(records_from_arrays(r#"[["a"],[1],[2]]"#, 1).unwrap().text, r#"[{"a":1}]"#);
        // With duplicate column names (read as values) the rows are checked the same way.
        for bad in [r#"[["a","a"],5]"#, r#"[["a","a"],[1]]"#, r#"[["a","a"],[1,2,3]]"#, r#"[["a","a"],[1,2]] x"#] {
            assert!(records_from_arrays(bad, 5).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn long_results_keep_every_row() {
        // Rows longer than the first (the texts are sized after it) and many of them.
        let mut text = String::from(r#"[["id","note"],[1,"a"]"#);
        for i in 2..=500 {
            text.push_str(&format!(r#",[{i},"{}"]"#, r#"x\""#.repeat(i % 40)));
        }
        text.push(']');
        let records = records_from_arrays(&text, 400).unwrap();
        assert_eq!((records.rows, records.more), (400, true));
        let parsed: Json = serde_json::from_str(&records.text).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 400);
        assert_eq!(parsed[398]["note"], "x\"".repeat(399 % 40));
        assert_eq!(format!("\"{}\"", records.escaped), serde_json::to_string(&records.text).unwrap());
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{}",
            "[1]",
            r#"[["a"],[1,2]]"#,
            r#"[[1],[2]]"#,
            r#"[["a"],[1]"#,
            r#"[["a"],[nul]]"#,
            r#"[["a"],["x]]"#,
            r#"[["a"],[[1,2]]"#,
            r#"[["a"],[1]] x"#,
            r#"[["a"],[1,]]"#,
            r#"[["a"] ["b"]]"#,
            r#"[["a"],[abc]]"#,
        ] {
            assert!(records_from_arrays(bad, 5).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_same_as_the_value_path() {
        let result = QueryResult {
            columns: vec!["id".into(), "name".into()],
            rows: vec![vec![json!(1), json!("x")], vec![json!(2), json!("y")], vec![json!(3), json!(null)]],
            rows_affected: None,
        };
        let text = serde_json::to_string(&{
            let mut arrays = vec![json!(result.columns)];
            arrays.extend(result.rows.iter().map(|r| json!(r)));
            arrays
        })
        .unwrap();
        assert_eq!(records_from_arrays(&text, 2).unwrap(), RecordsText::from_result(result, 2));
    }

    /// Cells of every kind: strings with quotes, backslashes, escapes and control characters,
    /// non-ASCII text, nested JSON, numbers and literals.
    const AWKWARD: &str = r#"[["id","note","doc","ok"],[1,"say \"hi\"\\ \n\t\u0001 é ✓","{\"a\":[1,\"b\"]}",true],[-2.5e3,"",[1,{"k":"v\"w"}],null],[3,"\"dbmcp-records-0\"",{"x":"</untrusted>"},false]]"#;

    #[test]
    fn the_escaped_text_is_what_serde_json_writes_for_the_text() {
        for (arrays, rows) in [(AWKWARD, 3), (AWKWARD, 1), (r#"[["a"]]"#, 5), ("[]", 5)] {
            let records = records_from_arrays(arrays, rows).unwrap();
            assert_eq!(format!("\"{}\"", records.escaped), serde_json::to_string(&records.text).unwrap(), "{arrays}");
        }
        let mut every_byte = String::new();
        push_escaped(&mut every_byte, &(0u8..0x80).map(char::from).collect::<String>());
        assert_eq!(
            format!("\"{every_byte}\""),
            serde_json::to_string(&(0u8..0x80).map(char::from).collect::<String>()).unwrap()
        );
    }

    #[test]
    fn markers_are_fresh_and_spliced_into_text_and_body() {
        let holder = RawRecords::accepting();
        let records = records_from_arrays(AWKWARD, 3).unwrap();
        let expected: Json = serde_json::from_str(&records.text).unwrap();
        let marker = holder.put(records).unwrap();
        let other = RawRecords::accepting().put(records_from_arrays("[]", 1).unwrap()).unwrap();
        assert_ne!(marker, other);
        // As a tool result holds them: the marker in the value, and in the text that shows it.
        let value = json!({ "table": "t", "records": marker });
        let body = json!({ "content": [{ "type": "text", "text": format!("fenced:\n{value}\nend") }], "structuredContent": value });
        let spliced = holder.splice_body(body.to_string());
        let parsed: Json = serde_json::from_str(&spliced).unwrap();
        assert_eq!(parsed["structuredContent"]["records"], expected);
        assert_eq!(parsed["structuredContent"]["records"][2]["note"], "\"dbmcp-records-0\"");
        let text = parsed["content"][0]["text"].as_str().unwrap();
        let inner = text.strip_prefix("fenced:\n").and_then(|t| t.strip_suffix("\nend")).unwrap();
        assert_eq!(serde_json::from_str::<Json>(inner).unwrap(), parsed["structuredContent"]);
        assert!(holder.is_empty(), "the body takes the texts");
    }

    #[test]
    fn the_default_holder_gives_the_text_back() {
        assert_eq!(RawRecords::default().put(records_from_arrays("[]", 1).unwrap()), Err("[]".to_string()));
    }
}

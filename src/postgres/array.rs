//! Postgres array literals (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`): parsed into a tree,
//! and written from JSON arrays.

use serde_json::Value as Json;

/// Nesting beyond this is refused (Postgres itself allows at most 6 dimensions).
const MAX_DEPTH: usize = 8;

#[derive(Debug, PartialEq)]
pub enum ArrayTree {
    Null,
    Item(String),
    List(Vec<ArrayTree>),
}

impl ArrayTree {
    pub fn into_json(self, convert: &dyn Fn(&str) -> Json) -> Json {
        match self {
            ArrayTree::Null => Json::Null,
            ArrayTree::Item(text) => convert(&text),
            ArrayTree::List(items) => Json::Array(items.into_iter().map(|i| i.into_json(convert)).collect()),
        }
    }
}

/// `None` when the text is not a well-formed array literal.
pub fn parse_array(text: &str) -> Option<ArrayTree> {
    // Arrays with non-default bounds print as `[0:1]={...}`.
    let body = match text.find("={") {
        Some(at) if text.starts_with('[') => &text[at + 1..],
        _ => text,
    };
    let chars: Vec<char> = body.chars().collect();
    let mut pos = 0;
    let tree = list(&chars, &mut pos, 0)?;
    (pos == chars.len()).then_some(tree)
}

fn list(chars: &[char], pos: &mut usize, depth: usize) -> Option<ArrayTree> {
    if depth >= MAX_DEPTH || chars.get(*pos) != Some(&'{') {
        return None;
    }
    *pos += 1;
    let mut items = Vec::new();
    if chars.get(*pos) == Some(&'}') {
        *pos += 1;
        return Some(ArrayTree::List(items));
    }
    loop {
        let item = match chars.get(*pos)? {
            '{' => list(chars, pos, depth + 1)?,
            '"' => quoted(chars, pos)?,
            _ => unquoted(chars, pos)?,
        };
        items.push(item);
        match chars.get(*pos)? {
            ',' => *pos += 1,
            '}' => {
                *pos += 1;
                return Some(ArrayTree::List(items));
            }
            _ => return None,
        }
    }
}

fn quoted(chars: &[char], pos: &mut usize) -> Option<ArrayTree> {
    *pos += 1;
    let mut text = String::new();
    loop {
        match chars.get(*pos)? {
            '"' => {
                *pos += 1;
                return Some(ArrayTree::Item(text));
            }
            '\\' => {
                text.push(*chars.get(*pos + 1)?);
                *pos += 2;
            }
            c => {
                text.push(*c);
                *pos += 1;
            }
        }
    }
}

fn unquoted(chars: &[char], pos: &mut usize) -> Option<ArrayTree> {
    let start = *pos;
    while let Some(c) = chars.get(*pos) {
        if *c == ',' || *c == '}' {
            break;
        }
        *pos += 1;
    }
    let text: String = chars[start..*pos].iter().collect::<String>().trim().to_string();
    if text.is_empty() {
        return None;
    }
    Some(if text.eq_ignore_ascii_case("NULL") { ArrayTree::Null } else { ArrayTree::Item(text) })
}

/// A JSON array as a Postgres array literal, to be bound as one text parameter. Null is `NULL`;
/// every string is double-quoted with `\` and `"` escaped, so commas, braces, spaces, the word
/// NULL and the empty string all stay themselves; numbers and booleans are written bare;
/// objects (for `json[]`/`jsonb[]`) are quoted JSON text; nested arrays are sub-arrays.
pub fn to_literal(items: &[Json]) -> String {
    let mut out = String::new();
    write_list(items, &mut out);
    out
}

fn write_list(items: &[Json], out: &mut String) {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Json::Null => out.push_str("NULL"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(&n.to_string()),
            Json::String(s) => write_quoted(s, out),
            Json::Object(_) => write_quoted(&item.to_string(), out),
            Json::Array(inner) => write_list(inner, out),
        }
    }
    out.push('}');
}

fn write_quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Dimensions of a JSON array (1 for `[1]`, 2 for `[[1]]`): the deepest nesting of arrays.
pub fn depth(items: &[Json]) -> usize {
    1 + items.iter().filter_map(Json::as_array).map(|inner| depth(inner)).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse_array("{a,NULL}"), Some(ArrayTree::List(vec![ArrayTree::Item("a".into()), ArrayTree::Null])));
        assert_eq!(
            parse_array("[0:1]={1,2}").map(|t| t.into_json(&|s| Json::String(s.into()))),
            Some(serde_json::json!(["1", "2"]))
        );
        assert_eq!(parse_array("{1,}"), None);
        assert_eq!(parse_array("{1}x"), None);
        assert_eq!(parse_array("{\"open"), None);
        assert_eq!(parse_array(&"{".repeat(100)), None);
    }

    #[test]
    fn writes_literals_that_quote_every_hostile_element() {
        use serde_json::json;
        assert_eq!(to_literal(&[json!(1), json!(2), json!(3)]), "{1,2,3}");
        assert_eq!(to_literal(&[]), "{}");
        assert_eq!(to_literal(&[json!(null), json!("NULL"), json!("")]), r#"{NULL,"NULL",""}"#);
        assert_eq!(to_literal(&[json!("a\"b"), json!("c\\d")]), r#"{"a\"b","c\\d"}"#);
        assert_eq!(to_literal(&[json!("x,y"), json!("{z}"), json!(" pad ")]), r#"{"x,y","{z}"," pad "}"#);
        assert_eq!(to_literal(&[json!([1, null]), json!([3, 4])]), "{{1,NULL},{3,4}}");
        assert_eq!(to_literal(&[json!({"k": "v\""}), json!(true), json!(1.5)]), r#"{"{\"k\":\"v\\\"\"}",true,1.5}"#);
        assert_eq!(depth(&[json!([[1]]), json!(2)]), 3);
        // Whatever the elements, the parser reads back exactly what was written.
        let hostile = [json!("a\"b"), json!("\\"), json!("}{,"), json!("NULL"), json!(null), json!(""), json!("é 😀")];
        let back = parse_array(&to_literal(&hostile)).unwrap().into_json(&|s| Json::String(s.into()));
        assert_eq!(back, Json::Array(hostile.to_vec()));
    }
}

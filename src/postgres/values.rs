//! Postgres text output -> JSON, by type OID.
//!
//! Neon's HTTP protocol returns every cell as Postgres's text form (`Neon-Raw-Text-Output`), so
//! the conversion is ours to make, and it must never round: `int8` and `numeric` values that a
//! JSON number (an f64) cannot hold exactly stay strings.
//!
//! | type | JSON |
//! |---|---|
//! | bool | true / false |
//! | int2, int4, oid | number |
//! | int8 | number within ±(2^53-1), else string |
//! | float4, float8 | number; NaN and ±Infinity as strings |
//! | numeric | number when it has at most 15 significant digits, else string |
//! | json, jsonb | the JSON itself |
//! | date, time | the text (`2023-01-05`) |
//! | timestamp, timestamptz | ISO 8601 (`2023-01-05T09:15:00`, `2023-01-05T09:15:00+00:00`) |
//! | bytea | hex text as Postgres writes it (`\x0102ff`) |
//! | arrays of the above | JSON arrays, element by element |
//! | anything else (text, uuid, enums, intervals, ...) | the text |

use serde_json::{Number, Value as Json};

use super::array::parse_array;

const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const NUMERIC: u32 = 1700;
    pub const DATE: u32 = 1082;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const JSONB: u32 = 3802;
}

/// Element type of an array type, for the array types worth converting.
fn array_element(type_oid: u32) -> Option<u32> {
    Some(match type_oid {
        1000 => oid::BOOL,
        1001 => oid::BYTEA,
        1005 => oid::INT2,
        1007 => oid::INT4,
        1016 => oid::INT8,
        1021 => oid::FLOAT4,
        1022 => oid::FLOAT8,
        1231 => oid::NUMERIC,
        199 => oid::JSON,
        3807 => oid::JSONB,
        1182 => oid::DATE,
        1115 => oid::TIMESTAMP,
        1185 => oid::TIMESTAMPTZ,
        // text[], varchar[], bpchar[], uuid[], name[], char[]: elements stay text.
        1009 | 1015 | 1014 | 2951 | 1003 | 1002 => 25,
        _ => return None,
    })
}

/// Converts one non-null cell.
pub fn text_to_json(type_oid: u32, text: &str) -> Json {
    if let Some(element) = array_element(type_oid) {
        return match parse_array(text) {
            Some(tree) => tree.into_json(&|cell| text_to_json(element, cell)),
            None => Json::String(text.to_string()),
        };
    }
    match type_oid {
        oid::BOOL => match text {
            "t" | "true" => Json::Bool(true),
            "f" | "false" => Json::Bool(false),
            other => Json::String(other.to_string()),
        },
        oid::INT2 | oid::INT4 | oid::INT8 | oid::OID => match text.parse::<i64>() {
            Ok(n) if n.unsigned_abs() <= MAX_SAFE_INTEGER as u64 => Json::from(n),
            _ => Json::String(text.to_string()),
        },
        oid::FLOAT4 | oid::FLOAT8 => match crate::float_text::parse(text).and_then(Number::from_f64) {
            Some(n) => Json::Number(n),
            None => Json::String(text.to_string()),
        },
        oid::NUMERIC => numeric(text),
        oid::JSON | oid::JSONB => serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string())),
        oid::TIMESTAMP => Json::String(text.replacen(' ', "T", 1)),
        oid::TIMESTAMPTZ => Json::String(iso_timestamptz(text)),
        _ => Json::String(text.to_string()),
    }
}

/// `numeric` as a JSON number only when an f64 holds it exactly enough (15 significant digits).
fn numeric(text: &str) -> Json {
    let digits = text.trim_start_matches(['-', '+']);
    let well_formed = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1;
    if !well_formed {
        return Json::String(text.to_string());
    }
    let significant = digits.chars().filter(char::is_ascii_digit).skip_while(|c| *c == '0').count();
    let integer_part_only = !digits.contains('.');
    if significant > 15 {
        return Json::String(text.to_string());
    }
    if integer_part_only {
        if let Ok(n) = text.parse::<i64>() {
            return Json::from(n);
        }
    }
    match crate::float_text::parse(text).and_then(Number::from_f64) {
        Some(n) => Json::Number(n),
        None => Json::String(text.to_string()),
    }
}

/// `2023-01-05 09:15:00+00` -> `2023-01-05T09:15:00+00:00`.
fn iso_timestamptz(text: &str) -> String {
    let mut out = text.replacen(' ', "T", 1);
    // Postgres writes a whole-hour offset as +HH; ISO 8601 wants +HH:MM.
    if let Some(sign_at) = out.rfind(['+', '-']).filter(|&i| i > 10) {
        let offset = &out[sign_at + 1..];
        if offset.len() == 2 && offset.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(":00");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_scalars_without_rounding() {
        assert_eq!(text_to_json(oid::BOOL, "t"), json!(true));
        assert_eq!(text_to_json(oid::INT4, "-42"), json!(-42));
        assert_eq!(text_to_json(oid::INT8, "9007199254740991"), json!(9007199254740991i64));
        assert_eq!(text_to_json(oid::INT8, "9007199254740993"), json!("9007199254740993"));
        assert_eq!(text_to_json(oid::INT8, "-9223372036854775808"), json!("-9223372036854775808"));
        assert_eq!(text_to_json(oid::FLOAT8, "1.5"), json!(1.5));
        assert_eq!(text_to_json(oid::FLOAT8, "NaN"), json!("NaN"));
        assert_eq!(text_to_json(oid::FLOAT4, "-Infinity"), json!("-Infinity"));
        assert_eq!(text_to_json(oid::NUMERIC, "24.99"), json!(24.99));
        assert_eq!(text_to_json(oid::NUMERIC, "3000"), json!(3000));
        assert_eq!(text_to_json(oid::NUMERIC, "0.000123"), json!(0.000123));
        assert_eq!(
            text_to_json(oid::NUMERIC, "12345678901234567890.123456789"),
            json!("12345678901234567890.123456789")
        );
        assert_eq!(text_to_json(oid::NUMERIC, "NaN"), json!("NaN"));
        assert_eq!(text_to_json(oid::JSONB, r#"{"a": [1, 2]}"#), json!({"a": [1, 2]}));
        assert_eq!(text_to_json(oid::BYTEA, "\\x01ff"), json!("\\x01ff"));
        assert_eq!(
            text_to_json(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        );
    }

    #[test]
    fn writes_dates_as_iso_8601() {
        assert_eq!(text_to_json(oid::DATE, "2023-01-05"), json!("2023-01-05"));
        assert_eq!(text_to_json(oid::TIMESTAMP, "2023-01-05 09:15:00"), json!("2023-01-05T09:15:00"));
        assert_eq!(text_to_json(oid::TIMESTAMPTZ, "2023-01-05 09:15:00+00"), json!("2023-01-05T09:15:00+00:00"));
        assert_eq!(text_to_json(oid::TIMESTAMPTZ, "2023-01-05 09:15:00.5-03:30"), json!("2023-01-05T09:15:00.5-03:30"));
    }

    #[test]
    fn converts_arrays_element_by_element() {
        assert_eq!(text_to_json(1007, "{1,2,NULL}"), json!([1, 2, null]));
        assert_eq!(text_to_json(1016, "{9007199254740993,1}"), json!(["9007199254740993", 1]));
        assert_eq!(text_to_json(1009, r#"{"a b","c\"d",plain,"NULL"}"#), json!(["a b", "c\"d", "plain", "NULL"]));
        assert_eq!(text_to_json(1007, "{{1,2},{3,4}}"), json!([[1, 2], [3, 4]]));
        assert_eq!(text_to_json(1000, "{t,f}"), json!([true, false]));
        assert_eq!(text_to_json(1007, "{}"), json!([]));
        assert_eq!(text_to_json(1007, "{1,2"), json!("{1,2"), "a malformed literal stays text");
    }
}

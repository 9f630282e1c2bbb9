//! JSON parsing that refuses an object naming the same key twice.
//!
//! `serde_json` keeps the last of repeated keys, so `{"name": "a", "name": "b"}` would reach a
//! tool as `{"name": "b"}`: a silent choice the caller never made. RFC 8259 leaves the meaning of
//! repeated names undefined; a message with them is answered with a parse error instead.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

/// Parses `bytes` as JSON, refusing repeated keys in any object at any depth.
pub fn from_slice(bytes: &[u8]) -> Result<Json, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|strict| strict.0)
}

struct Strict(Json);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Json::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Json::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Json::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(Json::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Json::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Json::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Json::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Json::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} appears twice in one object")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Strict(Json::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_what_serde_json_parses() {
        let text = br#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "big": 18446744073709551615, "k": "v"}"#;
        assert_eq!(from_slice(text).unwrap(), serde_json::from_slice::<Json>(text).unwrap());
        assert_eq!(from_slice(b"[]").unwrap(), json!([]));
        assert_eq!(from_slice(b"\"s\"").unwrap(), json!("s"));
    }

    #[test]
    fn keeps_key_order() {
        let parsed = from_slice(br#"{"z": 1, "a": 2, "m": 3}"#).unwrap();
        let keys: Vec<&String> = parsed.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn refuses_a_key_repeated_at_any_depth() {
        let err = from_slice(br#"{"name": "a", "name": "b"}"#).unwrap_err().to_string();
        assert!(err.contains("the key \"name\" appears twice in one object"), "{err}");
        let nested = br#"{"params": {"arguments": {"records": [{"id": 1, "id": 2}]}}}"#;
        assert!(from_slice(nested).unwrap_err().to_string().contains("\"id\" appears twice"));
        // The same key in sibling objects is fine; keys differing in case are distinct here.
        assert!(from_slice(br#"[{"id": 1}, {"id": 2}, {"ID": 3, "id": 4}]"#).is_ok());
    }

    #[test]
    fn escaped_spellings_of_one_key_are_the_same_key() {
        let err = from_slice(br#"{"name": 1, "n\u0061me": 2}"#).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowing() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(from_slice(deep.as_bytes()).is_err());
    }
}

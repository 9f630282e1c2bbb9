//! Column policy per service and table (`columns = { customers = { hidden = [...], masked =
//! {...}, read_only = [...] } }`):
//! - hidden columns are removed from the schema the service sees, so every tool, resource and
//!   completion that checks names against the schema answers them as unknown, and every read lists
//!   the visible columns explicitly;
//! - masked columns are returned masked (`a***@example.com`, `***4567`, `hmac:…`) and refused
//!   wherever their value would show through (filters, order, group_by, aggregates);
//! - read-only columns are refused in writes.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde_json::{Map, Value as Json};
use sha2::Sha256;

use crate::schema::Schema;

/// How a masked column's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// `alice@example.com` -> `a***@example.com`.
    Email,
    /// Only the last quarter of the text, at most 4 characters: `+47 555 12345` -> `***2345`.
    Partial,
    /// `hmac:` and the first 16 hex digits of the HMAC-SHA256 of the text under the service's
    /// mask key: equal values stay equal within the service. Keyed, because a plain hash of a
    /// phone number or tax id is reversed by hashing every candidate.
    Hash(MaskKey),
}

/// The secret a service's `hash` masks are keyed with: derived from the `MASK_KEY` secret and the
/// service's name, so the same value masks differently in two services.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MaskKey([u8; 32]);

/// The shortest `MASK_KEY` accepted: it must not be guessable.
pub const MIN_MASK_SECRET_CHARS: usize = 32;

impl MaskKey {
    pub fn derive(secret: &str, service: &str) -> MaskKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(b"dbmcp hash mask v1\n");
        mac.update(service.as_bytes());
        MaskKey(mac.finalize().into_bytes().into())
    }
}

impl std::fmt::Debug for MaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskKey(..)")
    }
}

impl Mask {
    /// `None`: not a mask kind. `Some(Err)`: `hash` without a key.
    fn parse(name: &str, key: Option<MaskKey>) -> Option<Result<Mask, ()>> {
        match name {
            "email" => Some(Ok(Mask::Email)),
            "partial" => Some(Ok(Mask::Partial)),
            "hash" => Some(key.map(Mask::Hash).ok_or(())),
            _ => None,
        }
    }
}

/// One table's rules as configured (names as written in the configuration).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnRules {
    pub hidden: Vec<String>,
    pub masked: Vec<(String, Mask)>,
    pub read_only: Vec<String>,
}

/// The `columns` setting: table name -> rules.
pub type ColumnPolicies = BTreeMap<String, ColumnRules>;

/// The rules of one table of a loaded schema, by real column name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TablePolicy {
    pub masked: Vec<(String, Mask)>,
    pub read_only: Vec<String>,
}

impl TablePolicy {
    pub fn mask_of(&self, column: &str) -> Option<Mask> {
        self.masked.iter().find(|(name, _)| name == column).map(|(_, mask)| *mask)
    }

    pub fn is_masked(&self, column: &str) -> bool {
        self.mask_of(column).is_some()
    }

    pub fn is_read_only(&self, column: &str) -> bool {
        self.read_only.iter().any(|name| name == column)
    }

    /// Masks the masked columns of one row in place.
    pub fn mask_record(&self, record: &mut Map<String, Json>) {
        for (column, mask) in &self.masked {
            if let Some(value) = record.get_mut(column) {
                *value = mask_value(*mask, value);
            }
        }
    }
}

/// Parses the `columns` setting; problems are reported with their path below `columns`.
/// `mask_key`: the service's key for `hash` masks (`None` when `MASK_KEY` is not set).
pub fn parse(value: &Json, mask_key: Option<MaskKey>) -> Result<ColumnPolicies, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = ColumnPolicies::new();
    let Some(tables) = value.as_object() else {
        return Err(vec![format!(
            "columns: must be a table of tables, e.g. {{ customers = {{ hidden = [\"password_hash\"] }} }}, got {value}"
        )]);
    };
    for (table, rules) in tables {
        let at = |field: &str| format!("columns.{table}.{field}");
        let Some(rules) = rules.as_object() else {
            errors.push(format!("columns.{table}: must be a table with hidden, masked and/or read_only, got {rules}"));
            continue;
        };
        let mut parsed = ColumnRules::default();
        for (key, value) in rules {
            match key.as_str() {
                "hidden" => parsed.hidden = names(value, &at("hidden"), &mut errors),
                "read_only" => parsed.read_only = names(value, &at("read_only"), &mut errors),
                "masked" => match value.as_object() {
                    Some(map) => {
                        for (column, how) in map {
                            match how.as_str().and_then(|how| Mask::parse(how, mask_key)) {
                                Some(Ok(mask)) if !column.trim().is_empty() => {
                                    parsed.masked.push((column.clone(), mask))
                                }
                                Some(Err(())) => errors.push(format!(
                                    "{}: \"hash\" needs the MASK_KEY secret, a random string of at least \
                                     {MIN_MASK_SECRET_CHARS} characters (wrangler secret put MASK_KEY)",
                                    at(&format!("masked.{column}"))
                                )),
                                _ => errors.push(format!(
                                    "{}: must be \"email\", \"partial\" or \"hash\", got {how}",
                                    at(&format!("masked.{column}"))
                                )),
                            }
                        }
                    }
                    None => errors.push(format!(
                        "{}: must be a table of column = \"email\" | \"partial\" | \"hash\", got {value}",
                        at("masked")
                    )),
                },
                other => errors.push(format!(
                    "columns.{table}: unknown field {other:?}; the fields are hidden, masked and read_only"
                )),
            }
        }
        // A column in two lists would leave it unclear which rule wins: say so instead.
        for (column, _) in &parsed.masked {
            if parsed.hidden.iter().any(|h| h.eq_ignore_ascii_case(column)) {
                errors.push(format!("columns.{table}: {column:?} is both hidden and masked; choose one"));
            }
        }
        out.insert(table.clone(), parsed);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn names(value: &Json, at: &str, errors: &mut Vec<String>) -> Vec<String> {
    match value.as_array() {
        Some(items) => items
            .iter()
            .filter_map(|item| match item.as_str().map(str::trim) {
                Some(name) if !name.is_empty() => Some(name.to_string()),
                _ => {
                    errors.push(format!("{at}: must be a list of column names; got the entry {item}"));
                    None
                }
            })
            .collect(),
        None => {
            errors.push(format!("{at}: must be a list of column names, got {value}"));
            vec![]
        }
    }
}

/// Whether a configured table name names `table` (as the tools list it): exactly, ignoring ASCII
/// case, or with the default schema's `public.`/`main.` prefix.
pub(crate) fn names_table(configured: &str, table: &str) -> bool {
    let bare = ["public.", "main."]
        .iter()
        .find_map(|prefix| {
            configured
                .get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .map(|_| &configured[prefix.len()..])
        })
        .unwrap_or(configured);
    configured.eq_ignore_ascii_case(table) || bare.eq_ignore_ascii_case(table)
}

/// Applies the policies to a schema whose hidden tables are already removed: hidden columns
/// leave the table, and with them the foreign keys and indexes naming them (anywhere), and their
/// names join `hidden_names` so database errors never show them; masked and read-only columns are
/// recorded on the table. A policy naming a table or column the database does not have is an
/// error (a typo in `hidden` must not quietly show the column); tables hidden whole are skipped.
pub fn apply(mut schema: Schema, policies: &ColumnPolicies) -> Result<Schema, String> {
    let mut unknown = Vec::new();
    // (table, column) pairs removed, to drop the foreign keys that point at them.
    let mut removed: Vec<(String, String)> = Vec::new();
    for (configured, rules) in policies {
        let Some(table) = schema.tables.iter_mut().find(|t| names_table(configured, &t.name)) else {
            if !schema.hidden_names.iter().any(|h| names_table(configured, h)) {
                unknown.push(format!("table {configured:?}"));
            }
            continue;
        };
        let real = |name: &str, unknown: &mut Vec<String>| -> Vec<String> {
            let found: Vec<String> =
                table.columns.iter().filter(|c| c.name.eq_ignore_ascii_case(name)).map(|c| c.name.clone()).collect();
            if found.is_empty() {
                unknown.push(format!("column {name:?} of table {configured:?}"));
            }
            found
        };
        let hidden: Vec<String> = rules.hidden.iter().flat_map(|name| real(name, &mut unknown)).collect();
        let mut policy = TablePolicy::default();
        for (name, mask) in &rules.masked {
            policy.masked.extend(real(name, &mut unknown).into_iter().map(|column| (column, *mask)));
        }
        for name in &rules.read_only {
            policy.read_only.extend(real(name, &mut unknown));
        }
        table.columns.retain(|c| !hidden.contains(&c.name));
        table.foreign_keys.retain(|fk| !fk.columns.iter().any(|c| hidden.contains(c)));
        table.indexes.retain(|index| !index.columns.iter().any(|c| hidden.contains(c)));
        table.policy = policy;
        removed.extend(hidden.iter().map(|c| (table.name.clone(), c.clone())));
        schema.hidden_names.extend(hidden);
    }
    if !unknown.is_empty() {
        return Err(format!(
            "this service's column policy (setting `columns`) names what the database does not have: {}. \
             Fix the configuration; until then no tool runs",
            unknown.join(", ")
        ));
    }
    if !removed.is_empty() {
        for table in &mut schema.tables {
            table
                .foreign_keys
                .retain(|fk| !fk.ref_columns.iter().any(|c| removed.iter().any(|(t, r)| *t == fk.ref_table && r == c)));
        }
    }
    Ok(schema)
}

/// A masked value: text, whatever the column's type; NULL stays NULL.
pub fn mask_value(mask: Mask, value: &Json) -> Json {
    let text = match value {
        Json::Null => return Json::Null,
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    Json::String(match mask {
        Mask::Email => match text.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                format!("{}***@{domain}", local.chars().next().unwrap_or('*'))
            }
            _ => partial(&text),
        },
        Mask::Partial => partial(&text),
        Mask::Hash(MaskKey(key)) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
            mac.update(text.as_bytes());
            let hex: String = mac.finalize().into_bytes().iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("hmac:{hex}")
        }
    })
}

fn partial(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let keep = (chars.len() / 4).min(4);
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_each_kind() {
        assert_eq!(mask_value(Mask::Email, &json!("alice@example.com")), json!("a***@example.com"));
        assert_eq!(mask_value(Mask::Email, &json!("not an email")), json!("***ail"));
        assert_eq!(mask_value(Mask::Email, &json!("@example.com")), json!("***com"));
        assert_eq!(mask_value(Mask::Partial, &json!("+47 555 12345")), json!("***345"));
        assert_eq!(mask_value(Mask::Partial, &json!("+1 (555) 010-4567 x12")), json!("*** x12"));
        assert_eq!(mask_value(Mask::Partial, &json!("abc")), json!("***"));
        assert_eq!(mask_value(Mask::Partial, &json!(123456789)), json!("***89"));
        assert_eq!(mask_value(Mask::Partial, &json!("ÅÄÖÜßéèê")), json!("***èê"), "by characters, not bytes");
        let hash = Mask::Hash(key());
        assert_eq!(mask_value(hash, &json!("x")), mask_value(hash, &json!("x")));
        assert_ne!(mask_value(hash, &json!("x")), mask_value(hash, &json!("y")));
        assert_eq!(mask_value(hash, &json!(12)), mask_value(hash, &json!("12")), "numbers mask as their text");
        for mask in [Mask::Email, Mask::Partial, hash] {
            assert_eq!(mask_value(mask, &Json::Null), Json::Null);
        }
    }

    fn key() -> MaskKey {
        MaskKey::derive("a test mask secret of 32 characters or more", "shop")
    }

    /// The attack on an unkeyed hash: hash every candidate (all phone numbers, all tax ids) and
    /// compare. With the key secret, the masked text matches no hash the attacker can compute.
    #[test]
    fn hash_masks_are_keyed_so_candidates_cannot_be_hashed_offline() {
        use sha2::Digest;
        let masked = mask_value(Mask::Hash(key()), &json!("555-0100"));
        let masked = masked.as_str().unwrap();
        assert!(masked.starts_with("hmac:") && masked.len() == "hmac:".len() + 16, "{masked}");
        let hex = |bytes: &[u8]| bytes.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>();
        let plain = hex(&Sha256::digest(b"555-0100"));
        assert!(!masked.ends_with(&plain), "the unkeyed SHA-256 of the value must not show");
        // Another secret, or the same secret for another service, masks differently.
        let other_secret = MaskKey::derive("another mask secret of 32 characters or more", "shop");
        let other_service = MaskKey::derive("a test mask secret of 32 characters or more", "crm");
        assert_ne!(mask_value(Mask::Hash(other_secret), &json!("555-0100")), json!(masked));
        assert_ne!(mask_value(Mask::Hash(other_service), &json!("555-0100")), json!(masked));
        assert_eq!(format!("{:?}", key()), "MaskKey(..)", "the key never shows in debug output");
    }

    #[test]
    fn a_hash_mask_without_the_secret_is_a_configuration_error() {
        let errors =
            parse(&json!({ "customers": { "masked": { "phone": "hash", "email": "email" } } }), None).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("columns.customers.masked.phone: \"hash\" needs the MASK_KEY secret"),
            "{errors:?}"
        );
        assert!(
            parse(&json!({ "customers": { "masked": { "email": "email" } } }), None).is_ok(),
            "other masks need no key"
        );
    }

    #[test]
    fn parses_and_reports_every_problem_with_its_path() {
        let policies = parse(
            &json!({
                "customers": { "hidden": ["password_hash"], "masked": { "email": "email", "phone": "hash" }, "read_only": ["created_at"] }
            }),
            Some(key()),
        )
        .unwrap();
        let rules = &policies["customers"];
        assert_eq!(rules.hidden, vec!["password_hash"]);
        assert_eq!(rules.masked, vec![("email".to_string(), Mask::Email), ("phone".to_string(), Mask::Hash(key()))]);
        assert_eq!(rules.read_only, vec!["created_at"]);
        let errors = parse(
            &json!({
                "a": { "hidden": "x" },
                "b": { "masked": { "email": "scramble" } },
                "c": { "read_only": [1] },
                "d": { "hiden": ["x"] },
                "e": ["x"],
                "f": { "hidden": ["Email"], "masked": { "email": "email" } }
            }),
            Some(key()),
        )
        .unwrap_err();
        let all = errors.join("\n");
        for expected in [
            "columns.a.hidden: must be a list of column names, got \"x\"",
            "columns.b.masked.email: must be \"email\", \"partial\" or \"hash\", got \"scramble\"",
            "columns.c.read_only: must be a list of column names; got the entry 1",
            "columns.d: unknown field \"hiden\"",
            "columns.e: must be a table",
            "columns.f: \"email\" is both hidden and masked",
        ] {
            assert!(all.contains(expected), "{expected}\n{all}");
        }
        assert!(parse(&json!(["customers"]), None).unwrap_err()[0].starts_with("columns: must be a table of tables"));
    }

    #[test]
    fn configured_table_names_match_as_the_tools_list_them() {
        assert!(names_table("customers", "customers"));
        assert!(names_table("Customers", "customers"));
        assert!(names_table("public.customers", "customers"));
        assert!(names_table("MAIN.customers", "customers"));
        assert!(names_table("reporting.daily", "reporting.daily"));
        assert!(!names_table("customer", "customers"));
        assert!(!names_table("сustomers", "customers"), "a Cyrillic look-alike names nothing");
    }
}

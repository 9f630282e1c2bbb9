//! Checks a client's value against the column it is meant for, so a typo such as
//! `{"price": "abc"}` is refused with a clear message instead of being stored (SQLite would
//! happily keep text in a REAL column).

use serde_json::{Map, Value as Json};

use crate::schema::{Column, Table};
use crate::sql::Dialect;

mod iso8601;

use crate::sql::affinity::is_date_or_time;
pub use crate::sql::affinity::{affinity, Affinity};

/// Postgres allows at most 6 array dimensions.
const MAX_ARRAY_DIMENSIONS: usize = 6;

/// A TIME column (not DATETIME, not TIMESTAMP) holds a time of day.
fn time_only(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    t.contains("TIME") && !t.contains("DATE") && !t.contains("STAMP")
}

fn describe(value: &Json) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// Checks one value for one column.
pub fn check_value(dialect: Dialect, column: &Column, value: &Json) -> Result<(), String> {
    let expect = |what: &str| {
        Err(format!("column {:?} ({}) expects {what}, got {}", column.name, column.data_type, describe(value)))
    };
    if value.is_null() {
        return if column.nullable || column.auto_increment {
            Ok(())
        } else {
            Err(format!("column {:?} is NOT NULL; give it a value", column.name))
        };
    }
    match affinity(dialect, &column.data_type) {
        Affinity::Integer => match value {
            Json::Number(n) if n.is_i64() => Ok(()),
            Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15) => {
                Ok(())
            }
            Json::Bool(_) => Ok(()),
            // Integers beyond 2^53 travel as strings so they are not rounded.
            Json::String(s) if s.trim().parse::<i64>().is_ok() => Ok(()),
            _ => expect("an integer"),
        },
        Affinity::Numeric if dialect == Dialect::Sqlite && is_date_or_time(&column.data_type) => match value {
            Json::Number(_) => Ok(()),
            Json::String(s) if crate::float_text::parse(s.trim()).is_some_and(f64::is_finite) => Ok(()),
            Json::String(s) if iso8601::is_date_or_datetime(s) => Ok(()),
            Json::String(s) if time_only(&column.data_type) && iso8601::is_time(s) => Ok(()),
            _ if time_only(&column.data_type) => expect("an ISO 8601 time (e.g. 13:45:00) or a number"),
            _ => expect(
                "an ISO 8601 date or date-time (e.g. 2024-05-01, 2024-05-01T13:45:00 or 2024-05-01T13:45:00Z) \
                 or a number",
            ),
        },
        Affinity::Real | Affinity::Numeric => match value {
            Json::Number(_) | Json::Bool(_) => Ok(()),
            Json::String(s) if crate::float_text::parse(s.trim()).is_some_and(f64::is_finite) => Ok(()),
            _ => expect("a number"),
        },
        Affinity::Boolean => match value {
            Json::Bool(_) => Ok(()),
            _ => expect("true or false"),
        },
        Affinity::Array => match value {
            Json::Array(items) if crate::postgres::array::depth(items) > MAX_ARRAY_DIMENSIONS => {
                expect("an array of at most 6 dimensions")
            }
            // A string is taken as an array literal already written in Postgres syntax.
            Json::Array(_) | Json::String(_) => Ok(()),
            _ => expect("a JSON array (e.g. [1, 2, 3])"),
        },
        Affinity::Text | Affinity::Any => Ok(()),
    }
}

/// Checks every field of a record: the column exists, is given once, and the value fits it.
/// Returns the record with the schema's real column spelling. Keys that differ only in case name
/// the same column: that is refused, never silently merged.
pub fn check_record(dialect: Dialect, table: &Table, record: &Map<String, Json>) -> Result<Map<String, Json>, String> {
    let mut checked = Map::new();
    // (real column name, key the client used), to name both spellings of a repeated column.
    let mut given_as: Vec<(&str, &str)> = Vec::with_capacity(record.len());
    for (name, value) in record {
        let column = resolve(table, name)?;
        if let Some((_, first)) = given_as.iter().find(|(real, _)| *real == column.name) {
            return Err(format!(
                "column {:?} is given more than once (as {first:?} and {name:?}); give each column once",
                column.name
            ));
        }
        check_value(dialect, column, value)?;
        given_as.push((&column.name, name));
        checked.insert(column.name.clone(), value.clone());
    }
    Ok(checked)
}

/// Refuses a record that writes a read-only column (other than `keys`, which only choose rows),
/// so a write is refused before any confirmation is asked; the SQL builder refuses it again.
pub fn refuse_read_only(table: &Table, record: &Map<String, Json>, keys: &[String]) -> Result<(), String> {
    for name in record.keys() {
        if let Ok(column) = resolve(table, name) {
            if table.policy.is_read_only(&column.name) && !keys.contains(&column.name) {
                return Err(crate::sql::read_only_message(table, &column.name));
            }
        }
    }
    Ok(())
}

/// The column a key names: exact spelling first, then the one column equal ignoring case.
fn resolve<'t>(table: &'t Table, name: &str) -> Result<&'t Column, String> {
    if let Some(column) = table.column(name) {
        return Ok(column);
    }
    let folded: Vec<&Column> = table.columns.iter().filter(|c| c.name.eq_ignore_ascii_case(name)).collect();
    match folded.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "unknown column {name:?} in table {:?}; columns are: {}",
            table.name,
            table.column_names().join(", ")
        )),
        many => Err(format!(
            "column {name:?} is ambiguous in table {:?}: it matches {} when case is ignored; use the exact spelling",
            table.name,
            many.iter().map(|c| format!("{:?}", c.name)).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            data_type: ty.into(),
            nullable,
            default: None,
            primary_key: 0,
            comment: None,
            auto_increment: false,
        }
    }

    #[test]
    fn refuses_values_that_do_not_fit() {
        let price = col("price", "REAL", false);
        assert!(check_value(Dialect::Sqlite, &price, &json!(9.5)).is_ok());
        assert!(check_value(Dialect::Sqlite, &price, &json!("9.50")).is_ok());
        let err = check_value(Dialect::Sqlite, &price, &json!("abc")).unwrap_err();
        assert_eq!(err, "column \"price\" (REAL) expects a number, got \"abc\"");
        let err = check_value(Dialect::Sqlite, &price, &Json::Null).unwrap_err();
        assert!(err.contains("NOT NULL"));
        let stock = col("stock", "INTEGER", true);
        assert!(check_value(Dialect::Sqlite, &stock, &json!("9007199254740993")).is_ok());
        assert!(check_value(Dialect::Sqlite, &stock, &json!(1.5)).is_err());
        assert!(check_value(Dialect::Sqlite, &stock, &Json::Null).is_ok());
    }

    #[test]
    fn checks_records_and_fixes_column_case() {
        let table = products();
        let record = json!({"NAME": "Lamp", "price": 3}).as_object().cloned().unwrap();
        let checked = check_record(Dialect::Sqlite, &table, &record).unwrap();
        assert_eq!(Json::Object(checked), json!({"name": "Lamp", "price": 3}));
        let record = json!({"colour": "red"}).as_object().cloned().unwrap();
        let err = check_record(Dialect::Sqlite, &table, &record).unwrap_err();
        assert!(err.contains("unknown column \"colour\" in table \"products\"; columns are: name, price"));
    }

    fn products() -> Table {
        Table {
            schema: None,
            name: "products".into(),
            kind: crate::schema::TableKind::Table,
            columns: vec![col("name", "TEXT", false), col("price", "REAL", false)],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        }
    }

    #[test]
    fn refuses_a_column_given_twice_in_different_case() {
        let record = json!({"name": "Lamp", "NAME": "Chair"}).as_object().cloned().unwrap();
        let err = check_record(Dialect::Sqlite, &products(), &record).unwrap_err();
        assert_eq!(err, "column \"name\" is given more than once (as \"name\" and \"NAME\"); give each column once");
        let record = json!({"Price": 1, "pRiCe": 2, "name": "x"}).as_object().cloned().unwrap();
        assert!(check_record(Dialect::Postgres, &products(), &record).unwrap_err().contains("more than once"));
        // Distinct columns whose names differ only in case (Postgres allows them) stay distinct.
        let mut table = products();
        table.columns.push(col("Name", "TEXT", true));
        let record = json!({"name": "a", "Name": "b"}).as_object().cloned().unwrap();
        let checked = check_record(Dialect::Postgres, &table, &record).unwrap();
        assert_eq!(Json::Object(checked), json!({"name": "a", "Name": "b"}));
        let record = json!({"NAME": "a"}).as_object().cloned().unwrap();
        assert!(check_record(Dialect::Postgres, &table, &record).unwrap_err().contains("is ambiguous"));
    }

    #[test]
    fn accepts_iso_dates_in_sqlite_date_columns_and_refuses_garbage() {
        for ty in ["DATETIME", "DATE", "TIMESTAMP"] {
            let c = col("at", ty, true);
            for ok in
                [json!("2024-05-01"), json!("2024-05-01T13:45:00Z"), json!("2024-05-01 13:45:00.5"), json!(1714571100)]
            {
                assert!(check_value(Dialect::Sqlite, &c, &ok).is_ok(), "{ty} {ok}");
            }
            let err = check_value(Dialect::Sqlite, &c, &json!("2024-02-30")).unwrap_err();
            assert!(err.contains("expects an ISO 8601 date or date-time"), "{err}");
            assert!(check_value(Dialect::Sqlite, &c, &json!("yesterday")).is_err());
            assert!(check_value(Dialect::Sqlite, &c, &json!(true)).is_err());
        }
        let time = col("at", "TIME", true);
        assert!(check_value(Dialect::Sqlite, &time, &json!("13:45:00")).is_ok());
        assert!(check_value(Dialect::Sqlite, &time, &json!("25:00")).unwrap_err().contains("ISO 8601 time"));
        // Other NUMERIC columns still want numbers.
        assert!(check_value(Dialect::Sqlite, &col("n", "DECIMAL", true), &json!("2024-05-01")).is_err());
    }

    #[test]
    fn postgres_array_columns_take_json_arrays() {
        let tags = col("tags", "text[]", true);
        assert!(check_value(Dialect::Postgres, &tags, &json!(["a", "b"])).is_ok());
        assert!(check_value(Dialect::Postgres, &tags, &json!("{a,b}")).is_ok());
        let err = check_value(Dialect::Postgres, &tags, &json!({"a": 1})).unwrap_err();
        assert!(err.contains("expects a JSON array"), "{err}");
        let deep = json!([[[[[[[1]]]]]]]);
        assert!(check_value(Dialect::Postgres, &tags, &deep).unwrap_err().contains("at most 6 dimensions"));
    }
}

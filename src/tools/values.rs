//! Checks a client's value against the column it is meant for, so a typo such as
//! `{"price": "abc"}` is refused with a clear message instead of being stored (SQLite would
//! happily keep text in a REAL column).

use serde_json::{Map, Value as Json};

use crate::schema::{Column, Table};
use crate::sql::Dialect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Real,
    Numeric,
    Boolean,
    Text,
    /// Anything goes (SQLite BLOB/untyped, or types we do not police).
    Any,
}

/// SQLite's affinity rules (https://sqlite.org/datatype3.html section 3.1), applied to the
/// declared type; Postgres type names map onto the same classes.
pub fn affinity(dialect: Dialect, declared: &str) -> Affinity {
    let t = declared.to_ascii_uppercase();
    match dialect {
        Dialect::Sqlite => {
            if t.contains("INT") {
                Affinity::Integer
            } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
                Affinity::Text
            } else if t.contains("BLOB") || t.is_empty() {
                Affinity::Any
            } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
                Affinity::Real
            } else {
                Affinity::Numeric
            }
        }
        Dialect::Postgres => {
            let base = t.split('(').next().unwrap_or("").trim();
            match base {
                "SMALLINT" | "INTEGER" | "BIGINT" | "INT" | "INT2" | "INT4" | "INT8" | "SERIAL" | "BIGSERIAL" => {
                    Affinity::Integer
                }
                "REAL" | "DOUBLE PRECISION" | "FLOAT4" | "FLOAT8" => Affinity::Real,
                "NUMERIC" | "DECIMAL" => Affinity::Numeric,
                "BOOLEAN" | "BOOL" => Affinity::Boolean,
                _ => Affinity::Any,
            }
        }
    }
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
        Affinity::Real | Affinity::Numeric => match value {
            Json::Number(_) | Json::Bool(_) => Ok(()),
            Json::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => Ok(()),
            _ => expect("a number"),
        },
        Affinity::Boolean => match value {
            Json::Bool(_) => Ok(()),
            _ => expect("true or false"),
        },
        Affinity::Text | Affinity::Any => Ok(()),
    }
}

/// Checks every field of a record: the column exists and the value fits it. Returns the record
/// with the schema's real column spelling.
pub fn check_record(dialect: Dialect, table: &Table, record: &Map<String, Json>) -> Result<Map<String, Json>, String> {
    let mut checked = Map::new();
    for (name, value) in record {
        let column = table
            .column(name)
            .or_else(|| table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
            .ok_or_else(|| {
                format!(
                    "unknown column {name:?} in table {:?}; columns are: {}",
                    table.name,
                    table.column_names().join(", ")
                )
            })?;
        check_value(dialect, column, value)?;
        checked.insert(column.name.clone(), value.clone());
    }
    Ok(checked)
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
    fn follows_sqlite_affinity_rules() {
        assert_eq!(affinity(Dialect::Sqlite, "BIGINT"), Affinity::Integer);
        assert_eq!(affinity(Dialect::Sqlite, "varchar(20)"), Affinity::Text);
        assert_eq!(affinity(Dialect::Sqlite, "DOUBLE"), Affinity::Real);
        assert_eq!(affinity(Dialect::Sqlite, "DECIMAL(10,2)"), Affinity::Numeric);
        assert_eq!(affinity(Dialect::Sqlite, ""), Affinity::Any);
        assert_eq!(affinity(Dialect::Postgres, "numeric(10,2)"), Affinity::Numeric);
        assert_eq!(affinity(Dialect::Postgres, "boolean"), Affinity::Boolean);
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
        let table = Table {
            schema: None,
            name: "products".into(),
            kind: crate::schema::TableKind::Table,
            columns: vec![col("name", "TEXT", false), col("price", "REAL", false)],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
        };
        let record = json!({"NAME": "Lamp", "price": 3}).as_object().cloned().unwrap();
        let checked = check_record(Dialect::Sqlite, &table, &record).unwrap();
        assert_eq!(Json::Object(checked), json!({"name": "Lamp", "price": 3}));
        let record = json!({"colour": "red"}).as_object().cloned().unwrap();
        let err = check_record(Dialect::Sqlite, &table, &record).unwrap_err();
        assert!(err.contains("unknown column \"colour\" in table \"products\"; columns are: name, price"));
    }
}

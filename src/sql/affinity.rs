//! The class of values a column takes, from its declared type: SQLite's affinity rules, with
//! Postgres type names mapped onto the same classes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Real,
    Numeric,
    Boolean,
    Text,
    /// A Postgres array type (`integer[]`, `text[]`, ...).
    Array,
    /// Anything goes (SQLite BLOB/untyped, or types we do not police).
    Any,
}

use super::Dialect;

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
            // `format_type` writes arrays as `integer[]`, `character varying(20)[]`.
            if t.trim_end().ends_with("[]") {
                return Affinity::Array;
            }
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

/// Whether a declared SQLite type names a date or time (`DATE`, `DATETIME`, `TIMESTAMP`, `TIME`):
/// NUMERIC affinity, but ISO-8601 text is how SQLite applications store such values.
pub fn is_date_or_time(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    t.contains("DATE") || t.contains("TIME")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_sqlite_affinity_rules() {
        assert_eq!(affinity(Dialect::Sqlite, "BIGINT"), Affinity::Integer);
        assert_eq!(affinity(Dialect::Sqlite, "varchar(20)"), Affinity::Text);
        assert_eq!(affinity(Dialect::Sqlite, "DOUBLE"), Affinity::Real);
        assert_eq!(affinity(Dialect::Sqlite, "DECIMAL(10,2)"), Affinity::Numeric);
        assert_eq!(affinity(Dialect::Sqlite, "DATETIME"), Affinity::Numeric);
        assert_eq!(affinity(Dialect::Sqlite, ""), Affinity::Any);
        assert_eq!(affinity(Dialect::Postgres, "numeric(10,2)"), Affinity::Numeric);
        assert_eq!(affinity(Dialect::Postgres, "boolean"), Affinity::Boolean);
    }

    #[test]
    fn recognises_postgres_arrays_and_sqlite_dates() {
        assert_eq!(affinity(Dialect::Postgres, "integer[]"), Affinity::Array);
        assert_eq!(affinity(Dialect::Postgres, "character varying(20)[]"), Affinity::Array);
        assert_eq!(affinity(Dialect::Postgres, "text[][]"), Affinity::Array);
        assert_eq!(affinity(Dialect::Sqlite, "text[]"), Affinity::Text);
        assert!(is_date_or_time("DATETIME") && is_date_or_time("timestamp") && is_date_or_time("Date"));
        assert!(!is_date_or_time("NUMERIC"));
    }
}

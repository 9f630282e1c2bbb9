//! The value bound for a column, adapted to the column's type so that it is stored (and
//! compared) as the client meant it, on every engine.
//!
//! D1 receives every JavaScript number as a REAL, so an integer written to a TEXT column would be
//! stored as `"42.0"` and `notes = 42` would match nothing: for TEXT affinity the integer is bound
//! as its decimal text, and a boolean as `"true"`/`"false"` (what PostgreSQL stores for a text
//! column). A boolean for a numeric column is bound as 1/0, which Postgres would refuse as text.
//! A JSON array for a Postgres array column becomes an array literal, bound as one parameter.

use serde_json::Value as Json;

use super::affinity::{affinity, Affinity};
use super::Dialect;
use crate::db::SqlValue;
use crate::postgres::array::to_literal;
use crate::schema::Column;

/// Adapts `value` to the declared type of `column`.
pub fn column_value(d: Dialect, column: &Column, value: SqlValue) -> SqlValue {
    typed_value(d, &column.data_type, value)
}

/// Whether a value written to `column` goes through `CAST(? AS INTEGER)`. D1 can bind no integer
/// (a JavaScript number arrives as REAL, a BigInt is refused), and a column without a declared
/// type (or BLOB) keeps whatever arrives: there the cast stores the integer it is, as native
/// SQLite would. Typed columns convert by their affinity already.
pub fn written_through_integer_cast(d: Dialect, column: &Column, value: &SqlValue) -> bool {
    matches!((d, affinity(d, &column.data_type), value), (Dialect::Sqlite, Affinity::Any, SqlValue::Integer(_)))
}

/// Adapts `value` to a declared type (a column's, or a routine argument's).
pub fn typed_value(d: Dialect, declared: &str, value: SqlValue) -> SqlValue {
    match (d, affinity(d, declared), value) {
        (Dialect::Postgres, Affinity::Array, SqlValue::Json(Json::Array(items))) => SqlValue::Text(to_literal(&items)),
        (Dialect::Sqlite, Affinity::Text, SqlValue::Integer(i)) => SqlValue::Text(i.to_string()),
        (Dialect::Sqlite, Affinity::Text, SqlValue::Bool(b)) => SqlValue::Text(b.to_string()),
        // SQLite has no boolean: 1/0, as an integer (for an untyped SQLite column through the
        // integer cast, since D1 would bind 1 as the REAL 1.0).
        (_, Affinity::Integer | Affinity::Real | Affinity::Numeric, SqlValue::Bool(b))
        | (Dialect::Sqlite, Affinity::Any, SqlValue::Bool(b)) => SqlValue::Integer(i64::from(b)),
        (_, _, value) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(ty: &str) -> Column {
        Column {
            name: "c".into(),
            data_type: ty.into(),
            nullable: true,
            default: None,
            primary_key: 0,
            comment: None,
            auto_increment: false,
        }
    }

    #[test]
    fn integers_and_booleans_for_sqlite_text_columns_become_their_text() {
        let text = col("TEXT");
        assert_eq!(column_value(Dialect::Sqlite, &text, SqlValue::Integer(42)), SqlValue::Text("42".into()));
        assert_eq!(column_value(Dialect::Sqlite, &text, SqlValue::Integer(-7)), SqlValue::Text("-7".into()));
        assert_eq!(column_value(Dialect::Sqlite, &text, SqlValue::Bool(true)), SqlValue::Text("true".into()));
        assert_eq!(
            column_value(Dialect::Sqlite, &col("varchar(10)"), SqlValue::Bool(false)),
            SqlValue::Text("false".into())
        );
        // Other values and other columns keep their kind.
        assert_eq!(column_value(Dialect::Sqlite, &text, SqlValue::Real(1.5)), SqlValue::Real(1.5));
        assert_eq!(column_value(Dialect::Sqlite, &col("INTEGER"), SqlValue::Integer(42)), SqlValue::Integer(42));
        assert_eq!(column_value(Dialect::Sqlite, &col(""), SqlValue::Integer(42)), SqlValue::Integer(42));
        // A boolean for an untyped column is the integer 1/0 (D1 would bind a bare 1 as REAL 1.0).
        assert_eq!(column_value(Dialect::Sqlite, &col(""), SqlValue::Bool(true)), SqlValue::Integer(1));
        assert_eq!(column_value(Dialect::Sqlite, &col("BLOB"), SqlValue::Bool(false)), SqlValue::Integer(0));
        assert_eq!(column_value(Dialect::Sqlite, &col("INTEGER"), SqlValue::Bool(true)), SqlValue::Integer(1));
        assert_eq!(column_value(Dialect::Sqlite, &col("BOOLEAN"), SqlValue::Bool(false)), SqlValue::Integer(0));
        assert_eq!(column_value(Dialect::Sqlite, &text, SqlValue::Null), SqlValue::Null);
    }

    #[test]
    fn postgres_arrays_become_literals_and_numeric_booleans_numbers() {
        let tags = col("text[]");
        assert_eq!(
            column_value(Dialect::Postgres, &tags, SqlValue::Json(json!(["a", null, "b,c"]))),
            SqlValue::Text(r#"{"a",NULL,"b,c"}"#.into())
        );
        assert_eq!(
            column_value(Dialect::Postgres, &col("integer[]"), SqlValue::Json(json!([[1, 2], [3, 4]]))),
            SqlValue::Text("{{1,2},{3,4}}".into())
        );
        // A literal given as text passes through; objects for jsonb stay JSON.
        assert_eq!(column_value(Dialect::Postgres, &tags, SqlValue::Text("{x}".into())), SqlValue::Text("{x}".into()));
        assert_eq!(
            column_value(Dialect::Postgres, &col("jsonb"), SqlValue::Json(json!([1]))),
            SqlValue::Json(json!([1]))
        );
        assert_eq!(column_value(Dialect::Postgres, &col("integer"), SqlValue::Bool(true)), SqlValue::Integer(1));
        assert_eq!(column_value(Dialect::Postgres, &col("text"), SqlValue::Integer(42)), SqlValue::Integer(42));
        // Routine arguments go through the same rule, by their declared type.
        assert_eq!(
            typed_value(Dialect::Postgres, "text[]", SqlValue::Json(json!(["a"]))),
            SqlValue::Text("{\"a\"}".into())
        );
    }

    /// The builder adapts every value it binds for a column: writes, filters, IN lists, BETWEEN,
    /// ids and related-row lookups.
    #[test]
    fn the_builder_binds_through_column_value() {
        use crate::schema::{Table, TableKind};
        use crate::sql::{insert, select, update, RowFilter, SelectSpec};
        let mut notes = col("TEXT");
        notes.name = "notes".into();
        let mut id = col("INTEGER");
        id.name = "id".into();
        id.primary_key = 1;
        let mut code = col("TEXT");
        code.name = "code".into();
        let table = Table {
            schema: None,
            name: "t".into(),
            kind: TableKind::Table,
            columns: vec![id, notes, code],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        };
        let record = json!({"notes": 42, "code": true}).as_object().cloned().unwrap();
        let st = insert(Dialect::Sqlite, &table, &record).unwrap();
        assert_eq!(st.params, vec![SqlValue::Text("42".into()), SqlValue::Text("true".into())]);
        let filter = |f: &str| RowFilter { filter: Some(crate::filter::parse(f).unwrap()), ..Default::default() };
        let rows = filter("notes = 42 AND notes IN (1, 2) AND notes BETWEEN 3 AND 4 AND id = 5");
        let st = select(Dialect::Sqlite, &table, &SelectSpec { rows, ..Default::default() }).unwrap();
        let text = |s: &str| SqlValue::Text(s.into());
        assert_eq!(st.params, vec![text("42"), text("1"), text("2"), text("3"), text("4"), SqlValue::Integer(5)]);
        let mut anything = col("");
        anything.name = "anything".into();
        let mut untyped = table.clone();
        untyped.columns.push(anything);
        let st = insert(Dialect::Sqlite, &untyped, &json!({"anything": 42}).as_object().cloned().unwrap()).unwrap();
        assert!(st.sql.contains("VALUES (CAST(?1 AS INTEGER))"), "{}", st.sql);
        let st = insert(Dialect::Sqlite, &untyped, &json!({"anything": true}).as_object().cloned().unwrap()).unwrap();
        assert!(st.sql.contains("VALUES (CAST(?1 AS INTEGER))"), "{}", st.sql);
        assert_eq!(st.params, vec![SqlValue::Integer(1)]);
        let st = insert(Dialect::Sqlite, &untyped, &json!({"anything": 4.5}).as_object().cloned().unwrap()).unwrap();
        assert!(st.sql.contains("VALUES (?1)"), "{}", st.sql);
        // Comparisons with an untyped column cast the integer too: the text of 2^53 + 1 (how D1
        // gets integers that large) would equal no integer stored there.
        let rows = filter("anything = 9007199254740993 OR anything IN (1, 2.5) OR anything BETWEEN 3 AND true");
        let st = select(Dialect::Sqlite, &untyped, &SelectSpec { rows, ..Default::default() }).unwrap();
        assert!(
            st.sql.contains(
                "\"anything\" = CAST(?1 AS INTEGER) OR \"anything\" IN (CAST(?2 AS INTEGER), ?3) OR \"anything\" BETWEEN CAST(?4 AS INTEGER) AND CAST(?5 AS INTEGER)"
            ),
            "{}",
            st.sql
        );
        assert_eq!(st.params[0], SqlValue::Integer(9_007_199_254_740_993));
        let by_id = select(
            Dialect::Sqlite,
            &untyped,
            &SelectSpec { rows: RowFilter { ids: Some(vec![json!(5)]), ..Default::default() }, ..Default::default() },
        )
        .unwrap();
        assert!(by_id.sql.contains("\"id\" IN (?1)"), "typed keys bind as before: {}", by_id.sql);
        let rows = RowFilter { column_in: Some(("notes".into(), vec![json!(7)])), ..Default::default() };
        let st = update(Dialect::Sqlite, &table, &json!({"code": 1}).as_object().cloned().unwrap(), &rows).unwrap();
        assert_eq!(st.params, vec![text("1"), text("7")]);
    }
}

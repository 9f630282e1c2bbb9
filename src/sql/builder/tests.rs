use serde_json::json;

use super::*;
use crate::filter;
use crate::schema::TableKind;

const SQ: Dialect = Dialect::Sqlite;
const PG: Dialect = Dialect::Postgres;

fn col(name: &str, data_type: &str, primary_key: u32) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        nullable: primary_key == 0,
        default: None,
        primary_key,
        comment: None,
        auto_increment: false,
    }
}

fn table(schema: Option<&str>, name: &str, columns: Vec<Column>) -> Table {
    Table {
        schema: schema.map(Into::into),
        name: name.into(),
        kind: TableKind::Table,
        columns,
        foreign_keys: vec![],
        indexes: vec![],
        comment: None,
        policy: Default::default(),
        rows: Default::default(),
    }
}

fn customers() -> Table {
    table(
        None,
        "customers",
        vec![col("id", "INTEGER", 1), col("name", "TEXT", 0), col("email", "TEXT", 0), col("CreatedAt", "TEXT", 0)],
    )
}

fn pg_customers() -> Table {
    table(
        Some("public"),
        "customers",
        vec![
            col("id", "integer", 1),
            col("name", "character varying(100)", 0),
            col("email", "text", 0),
            col("age", "integer", 0),
            col("tags", "text[]", 0),
        ],
    )
}

fn order_items() -> Table {
    table(
        None,
        "order_items",
        vec![col("order_id", "INTEGER", 1), col("product_id", "INTEGER", 2), col("qty", "INTEGER", 0)],
    )
}

fn logs() -> Table {
    table(None, "logs", vec![col("msg", "TEXT", 0), col("level", "INTEGER", 0)])
}

fn obj(v: serde_json::Value) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn with_filter(f: &str) -> RowFilter {
    RowFilter { filter: Some(filter::parse(f).expect("filter parses")), ..Default::default() }
}

fn with_ids(ids: Vec<Json>) -> RowFilter {
    RowFilter { ids: Some(ids), ..Default::default() }
}

/// The WHERE clause (without "WHERE") and params a row filter compiles to.
fn where_of(d: Dialect, t: &Table, rows: &RowFilter) -> Result<(String, Vec<SqlValue>), SqlError> {
    let st = count(d, t, rows)?;
    let prefix = format!("SELECT COUNT(*) AS \"count\" FROM {} WHERE ", table_ref(d, t));
    let clause = st.sql.strip_prefix(&prefix).unwrap_or_else(|| panic!("{}", st.sql)).to_string();
    Ok((clause, st.params))
}

fn filter_sql(d: Dialect, t: &Table, f: &str) -> (String, Vec<SqlValue>) {
    where_of(d, t, &with_filter(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.into())
}

fn int(i: i64) -> SqlValue {
    SqlValue::Integer(i)
}

fn sc(d: Dialect, names: &[&str]) -> String {
    names.iter().map(|n| select_column(d, n)).collect::<Vec<_>>().join(", ")
}

fn err_of<T: std::fmt::Debug>(r: Result<T, SqlError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn select_column_per_dialect() {
    assert_eq!(
        select_column(SQ, "id"),
        "CASE WHEN typeof(\"id\") = 'integer' AND (\"id\" > 9007199254740991 OR \"id\" < \
         -9007199254740991) THEN CAST(\"id\" AS TEXT) ELSE \"id\" END AS \"id\""
    );
    assert_eq!(select_column(PG, "id"), "\"id\"");
    assert_eq!(select_column(PG, "a\"b"), "\"a\"\"b\"");
}

#[test]
fn select_all_columns() {
    let st = select(SQ, &customers(), &SelectSpec::default()).unwrap();
    assert_eq!(st.sql, format!("SELECT {} FROM \"customers\"", sc(SQ, &["id", "name", "email", "CreatedAt"])));
    assert!(st.params.is_empty());
    let st = select(PG, &pg_customers(), &SelectSpec::default()).unwrap();
    assert_eq!(st.sql, "SELECT \"id\", \"name\", \"email\", \"age\", \"tags\" FROM \"public\".\"customers\"");
    // An empty field list is every column too.
    let spec = SelectSpec { fields: Some(vec![]), ..Default::default() };
    assert_eq!(select(PG, &pg_customers(), &spec).unwrap().sql, st.sql);
}

#[test]
fn select_full_sqlite() {
    let t = customers();
    let spec = SelectSpec {
        fields: Some(vec!["NAME".into(), " id ".into(), "name".into()]),
        rows: with_filter("name LIKE 'J%' AND id > 10"),
        order: parse_order("createdat DESC, id", &t).unwrap(),
        limit: Some(25),
        offset: 50,
    };
    let st = select(SQ, &t, &spec).unwrap();
    assert_eq!(
        st.sql,
        format!(
            "SELECT {} FROM \"customers\" WHERE \"name\" LIKE ?1 ESCAPE '\\' AND \"id\" > ?2 \
             ORDER BY \"customers\".\"CreatedAt\" DESC, \"customers\".\"id\" ASC LIMIT ?3 OFFSET ?4",
            sc(SQ, &["name", "id"])
        )
    );
    assert_eq!(st.params, vec![text("J%"), int(10), int(25), int(50)]);
}

#[test]
fn select_full_postgres() {
    let t = pg_customers();
    let spec = SelectSpec {
        fields: Some(vec!["id".into(), "email".into()]),
        rows: with_filter("age BETWEEN 18 AND 65 OR email IS NULL"),
        order: vec![OrderBy { column: "age".into(), direction: Direction::Desc }],
        limit: Some(10),
        offset: 0,
    };
    let st = select(PG, &t, &spec).unwrap();
    assert_eq!(
        st.sql,
        "SELECT \"id\", \"email\" FROM \"public\".\"customers\" WHERE \"age\" BETWEEN $1 AND $2 \
         OR \"email\" IS NULL ORDER BY \"public\".\"customers\".\"age\" DESC LIMIT $3"
    );
    assert_eq!(st.params, vec![int(18), int(65), int(10)]);
}

#[test]
fn offset_without_limit() {
    let spec = SelectSpec { fields: Some(vec!["id".into()]), offset: 5, ..Default::default() };
    let st = select(SQ, &customers(), &spec).unwrap();
    assert_eq!(st.sql, format!("SELECT {} FROM \"customers\" LIMIT -1 OFFSET ?1", sc(SQ, &["id"])));
    assert_eq!(st.params, vec![int(5)]);
    let st = select(PG, &pg_customers(), &spec).unwrap();
    assert_eq!(st.sql, "SELECT \"id\" FROM \"public\".\"customers\" OFFSET $1");
    let spec = SelectSpec { limit: Some(u64::MAX), ..spec };
    assert_eq!(select(PG, &pg_customers(), &spec).unwrap().params, vec![int(i64::MAX), int(5)]);
}

#[test]
fn count_statements() {
    let st = count(SQ, &customers(), &RowFilter::default()).unwrap();
    assert_eq!(st.sql, "SELECT COUNT(*) AS \"count\" FROM \"customers\"");
    assert!(st.params.is_empty());
    let st = count(PG, &pg_customers(), &with_filter("name = 'x'")).unwrap();
    assert_eq!(st.sql, "SELECT COUNT(*) AS \"count\" FROM \"public\".\"customers\" WHERE \"name\" = $1");
    assert_eq!(st.params, vec![text("x")]);
}

#[test]
fn filter_comparisons() {
    let t = customers();
    for (f, op) in [("=", "="), ("!=", "<>"), ("<>", "<>"), (">", ">"), (">=", ">="), ("<", "<"), ("<=", "<=")] {
        assert_eq!(filter_sql(SQ, &t, &format!("id {f} 3")), (format!("\"id\" {op} ?1"), vec![int(3)]));
    }
    assert_eq!(filter_sql(SQ, &t, "id = 1.5"), ("\"id\" = ?1".into(), vec![SqlValue::Real(1.5)]));
    // A boolean compared with a numeric column is bound as 1/0 (see sql::bind).
    assert_eq!(filter_sql(SQ, &t, "id = true"), ("\"id\" = ?1".into(), vec![int(1)]));
    assert_eq!(
        filter_sql(SQ, &t, "id = 99999999999999999999"),
        ("\"id\" = ?1".into(), vec![text("99999999999999999999")])
    );
    assert_eq!(filter_sql(PG, &t, "name = 'O''Brien'"), ("\"name\" = $1".into(), vec![text("O'Brien")]));
}

#[test]
fn filter_logic_and_precedence() {
    let t = customers();
    assert_eq!(
        filter_sql(SQ, &t, "id = 1 OR name = 'b' AND email = 'c'").0,
        "\"id\" = ?1 OR \"name\" = ?2 AND \"email\" = ?3"
    );
    assert_eq!(
        filter_sql(SQ, &t, "(id = 1 OR name = 'b') AND email = 'c'").0,
        "(\"id\" = ?1 OR \"name\" = ?2) AND \"email\" = ?3"
    );
    assert_eq!(
        filter_sql(SQ, &t, "email = 'c' AND (id = 1 OR id = 2 OR id = 3)").0,
        "\"email\" = ?1 AND (\"id\" = ?2 OR \"id\" = ?3 OR \"id\" = ?4)"
    );
    assert_eq!(
        filter_sql(SQ, &t, "NOT id = 1 AND NOT (name = 'a' OR email = 'b')").0,
        "NOT (\"id\" = ?1) AND NOT (\"name\" = ?2 OR \"email\" = ?3)"
    );
    let (sql, params) = filter_sql(SQ, &t, "id = 1 AND id = 2 AND id = 3");
    assert_eq!(sql, "\"id\" = ?1 AND \"id\" = ?2 AND \"id\" = ?3");
    assert_eq!(params, vec![int(1), int(2), int(3)]);
}

#[test]
fn filter_lists_nulls_ranges() {
    let t = customers();
    assert_eq!(filter_sql(SQ, &t, "id IN (1, 2, 3)"), ("\"id\" IN (?1, ?2, ?3)".into(), vec![int(1), int(2), int(3)]));
    assert_eq!(filter_sql(PG, &t, "id NOT IN (1, 2)").0, "\"id\" NOT IN ($1, $2)");
    assert_eq!(filter_sql(SQ, &t, "email IS NULL"), ("\"email\" IS NULL".into(), vec![]));
    assert_eq!(filter_sql(SQ, &t, "email IS NOT NULL").0, "\"email\" IS NOT NULL");
    assert_eq!(filter_sql(SQ, &t, "id BETWEEN 1 AND 9"), ("\"id\" BETWEEN ?1 AND ?2".into(), vec![int(1), int(9)]));
    assert_eq!(filter_sql(SQ, &t, "id NOT BETWEEN 1 AND 9").0, "\"id\" NOT BETWEEN ?1 AND ?2");
    // Hand-built trees: null comparisons and empty lists still compile sensibly.
    let rows = |e: Expr| RowFilter { filter: Some(e), ..Default::default() };
    let null_eq = Expr::Compare { column: "email".into(), op: CompareOp::Eq, value: Literal::Null };
    assert_eq!(where_of(SQ, &t, &rows(null_eq)).unwrap().0, "\"email\" IS NULL");
    let null_ne = Expr::Compare { column: "email".into(), op: CompareOp::Ne, value: Literal::Null };
    assert_eq!(where_of(SQ, &t, &rows(null_ne)).unwrap().0, "\"email\" IS NOT NULL");
    let null_gt = Expr::Compare { column: "email".into(), op: CompareOp::Gt, value: Literal::Null };
    assert!(err_of(where_of(SQ, &t, &rows(null_gt))).contains("IS NULL"));
    let empty_in = Expr::In { column: "id".into(), values: vec![], negated: false };
    assert_eq!(where_of(SQ, &t, &rows(empty_in)).unwrap().0, "1 = 0");
    let empty_not_in = Expr::In { column: "id".into(), values: vec![], negated: true };
    assert_eq!(where_of(SQ, &t, &rows(empty_not_in)).unwrap().0, "1 = 1");
}

#[test]
fn filter_like_and_text_matches() {
    let t = customers();
    assert_eq!(filter_sql(SQ, &t, "name LIKE 'J\\_%'"), ("\"name\" LIKE ?1 ESCAPE '\\'".into(), vec![text("J\\_%")]));
    assert_eq!(filter_sql(SQ, &t, "name NOT LIKE 'J%'").0, "\"name\" NOT LIKE ?1 ESCAPE '\\'");
    assert_eq!(
        filter_sql(SQ, &t, "name CONTAINS '50%_off\\'"),
        ("\"name\" LIKE ?1 ESCAPE '\\'".into(), vec![text("%50\\%\\_off\\\\%")])
    );
    assert_eq!(filter_sql(SQ, &t, "name STARTS WITH 'a_b'").1, vec![text("a\\_b%")]);
    assert_eq!(filter_sql(SQ, &t, "name ENDS WITH 'Zoë'").1, vec![text("%Zoë")]);
    assert_eq!(filter_sql(SQ, &t, "name NOT CONTAINS 'x'").0, "NOT (\"name\" LIKE ?1 ESCAPE '\\')");
    // Postgres: non-text columns are cast for LIKE; text-like ones are not.
    let p = pg_customers();
    assert_eq!(filter_sql(PG, &p, "age CONTAINS '4'").0, "CAST(\"age\" AS TEXT) LIKE $1 ESCAPE '\\'");
    assert_eq!(filter_sql(PG, &p, "name LIKE 'a%'").0, "\"name\" LIKE $1 ESCAPE '\\'");
    assert_eq!(filter_sql(PG, &p, "email STARTS WITH 'a'").0, "\"email\" LIKE $1 ESCAPE '\\'");
    assert_eq!(filter_sql(PG, &p, "tags CONTAINS 'a'").0, "CAST(\"tags\" AS TEXT) LIKE $1 ESCAPE '\\'");
    // SQLite never casts.
    assert_eq!(filter_sql(SQ, &t, "id CONTAINS '4'").0, "\"id\" LIKE ?1 ESCAPE '\\'");
}

#[test]
fn unknown_and_case_insensitive_columns() {
    let t = customers();
    assert_eq!(
        err_of(where_of(SQ, &t, &with_filter("nme = 'x'"))),
        "unknown column \"nme\" in table \"customers\"; columns are: id, name, email, CreatedAt"
    );
    assert_eq!(filter_sql(SQ, &t, "NAME = 'x' AND createdat > '2024'").0, "\"name\" = ?1 AND \"CreatedAt\" > ?2");
    assert_eq!(filter_sql(SQ, &t, "\"CREATEDAT\" IS NULL").0, "\"CreatedAt\" IS NULL");
    assert_eq!(resolve_fields(&["Id".into(), "createdAT".into()], &t).unwrap(), vec!["id", "CreatedAt"]);
    let ambiguous = table(None, "t", vec![col("Name", "TEXT", 0), col("NAME", "TEXT", 0)]);
    assert_eq!(resolve_fields(&["NAME".into()], &ambiguous).unwrap(), vec!["NAME"]);
    assert!(err_of(resolve_fields(&["name".into()], &ambiguous)).contains("is ambiguous"));
    let spec = SelectSpec { fields: Some(vec!["id".into(), "bogus".into()]), ..Default::default() };
    assert!(err_of(select(SQ, &t, &spec)).starts_with("unknown column \"bogus\" in table \"customers\""));
    let spec =
        SelectSpec { order: vec![OrderBy { column: "bogus".into(), direction: Direction::Asc }], ..Default::default() };
    assert!(err_of(select(SQ, &t, &spec)).starts_with("unknown column \"bogus\""));
}

#[test]
fn resolve_fields_rules() {
    let t = customers();
    assert_eq!(
        resolve_fields(&["email".into(), " ".into(), "id".into(), "EMAIL".into()], &t).unwrap(),
        vec!["email", "id"]
    );
    assert_eq!(resolve_fields(&["name".into(), "*".into()], &t).unwrap(), vec!["name", "id", "email", "CreatedAt"]);
    assert!(resolve_fields(&[], &t).unwrap().is_empty());
    assert_eq!(
        err_of(resolve_fields(&["nope".into()], &t)),
        "unknown column \"nope\" in table \"customers\"; columns are: id, name, email, CreatedAt"
    );
}

#[test]
fn ids_single_key() {
    let t = customers();
    let (sql, params) = where_of(SQ, &t, &with_ids(vec![json!(1), json!("2"), json!({"ID": 3})])).unwrap();
    assert_eq!(sql, "\"id\" IN (?1, ?2, ?3)");
    assert_eq!(params, vec![int(1), text("2"), int(3)]);
    assert_eq!(where_of(PG, &pg_customers(), &with_ids(vec![json!(7)])).unwrap().0, "\"id\" IN ($1)");
    assert!(err_of(where_of(SQ, &t, &with_ids(vec![json!(null)]))).contains("is null"));
    assert!(err_of(where_of(SQ, &t, &with_ids(vec![json!([1])]))).contains("ids must be strings or numbers"));
    assert!(err_of(where_of(SQ, &t, &with_ids(vec![json!({"x": 1})])))
        .contains("has no value for primary key column \"id\""));
    assert_eq!(err_of(where_of(SQ, &t, &with_ids(vec![]))), "ids is empty; give at least one id");
    assert_eq!(
        err_of(where_of(SQ, &logs(), &with_ids(vec![json!(1)]))),
        "table \"logs\" has no primary key; use filter"
    );
}

#[test]
fn ids_composite_key() {
    let t = order_items();
    let ids = vec![json!({"order_id": 1, "product_id": 2}), json!({"PRODUCT_ID": 4, "order_id": 3, "extra": 0})];
    let (sql, params) = where_of(SQ, &t, &with_ids(ids)).unwrap();
    assert_eq!(sql, "(\"order_id\" = ?1 AND \"product_id\" = ?2) OR (\"order_id\" = ?3 AND \"product_id\" = ?4)");
    assert_eq!(params, vec![int(1), int(2), int(3), int(4)]);
    let e = err_of(where_of(SQ, &t, &with_ids(vec![json!(1)])));
    assert_eq!(
        e,
        "table \"order_items\" has a composite primary key (order_id, product_id); give each id as \
         an object with every key column, e.g. {\"order_id\": 1, \"product_id\": 2}, not 1"
    );
    let e = err_of(where_of(SQ, &t, &with_ids(vec![json!({"order_id": 1})])));
    assert!(e.starts_with("id {\"order_id\":1} lacks primary key column \"product_id\""), "{e}");
    // With a filter, the alternatives are parenthesised.
    let rows = RowFilter {
        filter: Some(filter::parse("qty > 1 OR qty IS NULL").unwrap()),
        ids: Some(vec![json!({"order_id": 1, "product_id": 2}), json!({"order_id": 3, "product_id": 4})]),
        column_in: None,
    };
    assert_eq!(
        where_of(SQ, &t, &rows).unwrap().0,
        "(\"qty\" > ?1 OR \"qty\" IS NULL) AND ((\"order_id\" = ?2 AND \"product_id\" = ?3) OR \
         (\"order_id\" = ?4 AND \"product_id\" = ?5))"
    );
}

#[test]
fn filter_ids_and_column_in_combined() {
    let t = customers();
    let rows = RowFilter {
        filter: Some(filter::parse("name = 'a' OR name = 'b'").unwrap()),
        ids: Some(vec![json!(1), json!(2)]),
        column_in: Some(("EMAIL".into(), vec![json!("x@y"), json!(null), json!("z@y")])),
    };
    let (sql, params) = where_of(SQ, &t, &rows).unwrap();
    assert_eq!(sql, "(\"name\" = ?1 OR \"name\" = ?2) AND \"id\" IN (?3, ?4) AND \"email\" IN (?5, ?6)");
    assert_eq!(params, vec![text("a"), text("b"), int(1), int(2), text("x@y"), text("z@y")]);
    let rows = RowFilter { column_in: Some(("id".into(), vec![json!(null)])), ..Default::default() };
    assert_eq!(where_of(SQ, &t, &rows).unwrap(), ("1 = 0".into(), vec![]));
    let rows = RowFilter { column_in: Some(("nope".into(), vec![json!(1)])), ..Default::default() };
    assert!(err_of(where_of(SQ, &t, &rows)).starts_with("unknown column \"nope\""));
}

#[test]
fn insert_statements() {
    let t = customers();
    let st = insert(SQ, &t, &obj(json!({"name": "Zoë", "EMAIL": null}))).unwrap();
    assert_eq!(
        st.sql,
        format!(
            "INSERT INTO \"customers\" (\"name\", \"email\") VALUES (?1, ?2) RETURNING {}",
            sc(SQ, &["id", "name", "email", "CreatedAt"])
        )
    );
    assert_eq!(st.params, vec![text("Zoë"), SqlValue::Null]);
    let st = insert(PG, &pg_customers(), &obj(json!({"id": 1, "tags": ["a"], "age": 2.5}))).unwrap();
    assert_eq!(
        st.sql,
        "INSERT INTO \"public\".\"customers\" (\"id\", \"tags\", \"age\") VALUES ($1, $2, $3) \
         RETURNING \"id\", \"name\", \"email\", \"age\", \"tags\""
    );
    // A JSON array for a Postgres array column is bound as an array literal (see sql::bind).
    assert_eq!(st.params, vec![int(1), text("{\"a\"}"), SqlValue::Real(2.5)]);
    let st = insert(PG, &pg_customers(), &Map::new()).unwrap();
    assert_eq!(
        st.sql,
        "INSERT INTO \"public\".\"customers\" DEFAULT VALUES RETURNING \"id\", \"name\", \"email\", \"age\", \"tags\""
    );
    assert!(st.params.is_empty());
    assert!(
        err_of(insert(SQ, &t, &obj(json!({"nam": "x"})))).starts_with("unknown column \"nam\" in table \"customers\"")
    );
    let e = err_of(insert(SQ, &t, &obj(json!({"name": "x", "NAME": "y"}))));
    assert!(e.contains("column \"name\" is given more than once"), "{e}");
}

#[test]
fn update_statements() {
    let t = customers();
    let st = update(SQ, &t, &obj(json!({"name": "x", "id": 9})), &with_ids(vec![json!(1)])).unwrap();
    assert_eq!(
        st.sql,
        format!(
            "UPDATE \"customers\" SET \"name\" = ?1, \"id\" = ?2 WHERE \"id\" IN (?3) RETURNING {}",
            sc(SQ, &["id", "name", "email", "CreatedAt"])
        )
    );
    assert_eq!(st.params, vec![text("x"), int(9), int(1)]);
    let st = update(PG, &pg_customers(), &obj(json!({"age": 3})), &with_filter("name STARTS WITH 'a'")).unwrap();
    assert_eq!(
        st.sql,
        "UPDATE \"public\".\"customers\" SET \"age\" = $1 WHERE \"name\" LIKE $2 ESCAPE '\\' \
         RETURNING \"id\", \"name\", \"email\", \"age\", \"tags\""
    );
    assert_eq!(st.params, vec![int(3), text("a%")]);
    assert_eq!(
        err_of(update(SQ, &t, &obj(json!({"name": "x"})), &RowFilter::default())),
        "refusing to update every row of table \"customers\": give ids or a filter"
    );
    assert_eq!(
        err_of(update(SQ, &t, &Map::new(), &with_ids(vec![json!(1)]))),
        "nothing to update: the patch for table \"customers\" has no columns"
    );
    assert!(
        err_of(update(SQ, &t, &obj(json!({"x": 1})), &with_ids(vec![json!(1)]))).starts_with("unknown column \"x\"")
    );
    assert!(err_of(update(SQ, &t, &obj(json!({"name": 1})), &with_ids(vec![]))).contains("ids is empty"));
}

#[test]
fn delete_statements() {
    let st = delete(SQ, &customers(), &with_filter("email IS NULL")).unwrap();
    assert_eq!(st.sql, format!("DELETE FROM \"customers\" WHERE \"email\" IS NULL RETURNING {}", sc(SQ, &["id"])));
    assert!(st.params.is_empty());
    let st = delete(PG, &pg_customers(), &with_ids(vec![json!(1), json!(2)])).unwrap();
    assert_eq!(st.sql, "DELETE FROM \"public\".\"customers\" WHERE \"id\" IN ($1, $2) RETURNING \"id\"");
    assert_eq!(st.params, vec![int(1), int(2)]);
    let st = delete(PG, &order_items(), &with_filter("qty = 0")).unwrap();
    assert_eq!(st.sql, "DELETE FROM \"order_items\" WHERE \"qty\" = $1 RETURNING \"order_id\", \"product_id\"");
    let st = delete(PG, &logs(), &with_filter("level < 2")).unwrap();
    assert_eq!(st.sql, "DELETE FROM \"logs\" WHERE \"level\" < $1 RETURNING \"msg\", \"level\"");
    assert_eq!(
        err_of(delete(SQ, &customers(), &RowFilter::default())),
        "refusing to delete every row of table \"customers\": give ids or a filter"
    );
}

#[test]
fn bound_parameter_limit() {
    let t = customers();
    let ids = |n: usize| with_ids((0..n).map(|i| json!(i)).collect());
    assert_eq!(delete(SQ, &t, &ids(MAX_BOUND_PARAMS)).unwrap().params.len(), 100);
    assert_eq!(
        err_of(delete(SQ, &t, &ids(101))),
        "too many values: 101 bound parameters, the limit is 100; split the request"
    );
    // LIMIT and OFFSET count too.
    let spec = SelectSpec { rows: ids(99), limit: Some(1), offset: 1, ..Default::default() };
    assert!(err_of(select(SQ, &t, &spec)).starts_with("too many values: 101 bound parameters"));
    let record: Map<String, Json> = (0..101).map(|i| (format!("c{i}"), json!(i))).collect();
    let wide = table(None, "wide", (0..101).map(|i| col(&format!("c{i}"), "INTEGER", 0)).collect());
    assert!(err_of(insert(PG, &wide, &record)).starts_with("too many values: 101"));
}

#[test]
fn order_parsing() {
    let t = customers();
    assert_eq!(
        parse_order("name ASC, createdat desc,id", &t).unwrap(),
        vec![
            OrderBy { column: "name".into(), direction: Direction::Asc },
            OrderBy { column: "CreatedAt".into(), direction: Direction::Desc },
            OrderBy { column: "id".into(), direction: Direction::Asc },
        ]
    );
    assert!(parse_order("", &t).unwrap().is_empty());
    assert!(parse_order("  ", &t).unwrap().is_empty());
    let spaced = table(None, "t", vec![col("order date", "TEXT", 0), col("a,b", "TEXT", 0)]);
    assert_eq!(
        parse_order("\"order date\" DESC, `a,b`, [ORDER DATE]", &spaced).unwrap(),
        vec![
            OrderBy { column: "order date".into(), direction: Direction::Desc },
            OrderBy { column: "a,b".into(), direction: Direction::Asc },
        ],
        "a column named again ([ORDER DATE]) sorts by its first mention only"
    );
    assert_eq!(parse_order(&vec!["name DESC"; 10_000].join(","), &t).unwrap().len(), 1);
    assert_eq!(
        err_of(parse_order("name UP", &t)),
        "invalid order direction \"UP\" after column \"name\"; use ASC or DESC"
    );
    assert!(err_of(parse_order("name DESC NULLS LAST", &t)).contains("invalid order direction \"DESC NULLS LAST\""));
    assert!(err_of(parse_order("name,, id", &t)).contains("has an empty entry"));
    assert!(err_of(parse_order("name,", &t)).contains("has an empty entry"));
    assert!(err_of(parse_order("\"name DESC", &t)).contains("unclosed quote"));
    assert!(err_of(parse_order("\"name\"DESC", &t)).contains("expected ASC or DESC"));
    assert_eq!(
        err_of(parse_order("nme DESC", &t)),
        "unknown column \"nme\" in table \"customers\"; columns are: id, name, email, CreatedAt"
    );
    assert_eq!(parse_order("Zoë", &table(None, "t", vec![col("zoë", "TEXT", 0)])).unwrap()[0].column, "zoë");
}

/// Runs the generated SQL on real SQLite (what D1 is) to check it is valid and means what it says.
mod on_sqlite {
    use super::*;
    use rusqlite::types::Value;

    fn to_sqlite(v: &SqlValue) -> Value {
        match v {
            SqlValue::Null => Value::Null,
            SqlValue::Bool(b) => Value::Integer(i64::from(*b)),
            SqlValue::Integer(i) => Value::Integer(*i),
            SqlValue::Real(f) => Value::Real(*f),
            SqlValue::Text(s) => Value::Text(s.clone()),
            SqlValue::Json(j) => Value::Text(j.to_string()),
        }
    }

    fn run(conn: &rusqlite::Connection, st: &Statement) -> Vec<Vec<Value>> {
        let mut stmt = conn.prepare(&st.sql).unwrap_or_else(|e| panic!("{}: {e}", st.sql));
        let n = stmt.column_count();
        let params: Vec<Value> = st.params.iter().map(to_sqlite).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).unwrap();
        let mut out = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            out.push((0..n).map(|i| row.get::<_, Value>(i).unwrap()).collect());
        }
        out
    }

    fn setup() -> (rusqlite::Connection, Table) {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, CreatedAt TEXT);")
            .unwrap();
        let t = customers();
        for rec in [
            json!({"id": 1, "name": "Ann", "email": "ann@x", "createdat": "2024-01-01"}),
            json!({"id": 9007199254740993_i64, "name": "50% off", "email": null}),
            json!({"id": -9007199254740993_i64, "name": "a_b\\c"}),
            json!({"id": 4, "name": "O'Brien", "email": "ob@x"}),
        ] {
            let rows = run(&conn, &insert(SQ, &t, &obj(rec)).unwrap());
            assert_eq!(rows.len(), 1);
        }
        (conn, t)
    }

    fn ids_where(conn: &rusqlite::Connection, t: &Table, f: &str) -> Vec<Value> {
        let spec = SelectSpec {
            fields: Some(vec!["id".into()]),
            rows: with_filter(f),
            order: parse_order("id", t).unwrap(),
            ..Default::default()
        };
        run(conn, &select(SQ, t, &spec).unwrap()).into_iter().map(|mut r| r.remove(0)).collect()
    }

    const BIG: &str = "9007199254740993";
    const NEG_BIG: &str = "-9007199254740993";

    #[test]
    fn big_integers_come_back_as_text_and_sort_numerically() {
        let (conn, t) = setup();
        let spec = SelectSpec { order: parse_order("id DESC", &t).unwrap(), ..Default::default() };
        let rows = run(&conn, &select(SQ, &t, &spec).unwrap());
        let ids: Vec<Value> = rows.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            ids,
            vec![Value::Text(BIG.into()), Value::Integer(4), Value::Integer(1), Value::Text(NEG_BIG.into())]
        );
        assert_eq!(rows[1][1], Value::Text("O'Brien".into()));
        // WHERE sees the column, not the text alias.
        assert_eq!(ids_where(&conn, &t, "id > 9007199254740991"), vec![Value::Text(BIG.into())]);
        assert_eq!(ids_where(&conn, &t, "id = 9007199254740993"), vec![Value::Text(BIG.into())]);
    }

    #[test]
    fn filters_mean_what_they_say() {
        let (conn, t) = setup();
        let i = Value::Integer;
        assert_eq!(ids_where(&conn, &t, "name CONTAINS '%'"), vec![Value::Text(BIG.into())]);
        assert_eq!(ids_where(&conn, &t, "name CONTAINS '_'"), vec![Value::Text(NEG_BIG.into())]);
        assert_eq!(ids_where(&conn, &t, "name ENDS WITH '\\c'"), vec![Value::Text(NEG_BIG.into())]);
        assert_eq!(ids_where(&conn, &t, "name STARTS WITH 'o'''"), vec![i(4)]);
        assert_eq!(ids_where(&conn, &t, "name LIKE 'a%'"), vec![Value::Text(NEG_BIG.into()), i(1)]);
        assert_eq!(ids_where(&conn, &t, "name LIKE 'a\\_%'"), vec![Value::Text(NEG_BIG.into())]);
        assert_eq!(ids_where(&conn, &t, "email IS NULL"), vec![Value::Text(NEG_BIG.into()), Value::Text(BIG.into())]);
        assert_eq!(ids_where(&conn, &t, "id BETWEEN 1 AND 4 AND NOT id IN (4)"), vec![i(1)]);
        assert_eq!(ids_where(&conn, &t, "id = 1 OR id = 4 AND name = 'x'"), vec![i(1)]);
        assert_eq!(ids_where(&conn, &t, "(id = 1 OR id = 4) AND email NOT LIKE 'ob%'"), vec![i(1)]);
        assert_eq!(ids_where(&conn, &t, "createdat >= '2024-01-01'"), vec![i(1)]);
        let spec = SelectSpec {
            fields: Some(vec!["id".into()]),
            order: parse_order("id", &t).unwrap(),
            limit: Some(2),
            offset: 1,
            ..Default::default()
        };
        let rows = run(&conn, &select(SQ, &t, &spec).unwrap());
        assert_eq!(rows, vec![vec![i(1)], vec![i(4)]]);
        let spec = SelectSpec { offset: 3, ..spec };
        let spec = SelectSpec { limit: None, ..spec };
        assert_eq!(run(&conn, &select(SQ, &t, &spec).unwrap()), vec![vec![Value::Text(BIG.into())]]);
        let counted = run(&conn, &count(SQ, &t, &with_filter("email IS NOT NULL")).unwrap());
        assert_eq!(counted, vec![vec![i(2)]]);
    }

    #[test]
    fn writes_return_rows() {
        let (conn, t) = setup();
        let rows = run(&conn, &insert(SQ, &t, &Map::new()).unwrap());
        assert_eq!(rows.len(), 1);
        let st = update(SQ, &t, &obj(json!({"email": "new@x"})), &with_filter("name = 'Ann'")).unwrap();
        let rows = run(&conn, &st);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][2], Value::Text("new@x".into()));
        let st = delete(SQ, &t, &with_ids(vec![json!(BIG), json!(4)])).unwrap();
        let mut rows = run(&conn, &st);
        rows.sort_by_key(|r| format!("{:?}", r));
        assert_eq!(rows, vec![vec![Value::Integer(4)], vec![Value::Text(BIG.into())]]);
        let rows = RowFilter { column_in: Some(("id".into(), vec![json!(1), json!(null)])), ..Default::default() };
        assert_eq!(run(&conn, &delete(SQ, &t, &rows).unwrap()), vec![vec![Value::Integer(1)]]);
    }
}

/// Random token soup: the parser and the builder return errors, never panic.
#[test]
fn random_filters_never_panic() {
    const PIECES: &[&str] = &[
        "a",
        "B",
        "c",
        "zz",
        "\"a\"",
        "`b`",
        "[c]",
        "=",
        "!=",
        "<>",
        ">",
        ">=",
        "<",
        "<=",
        "EQ",
        "gte",
        "IN",
        "NOT",
        "LIKE",
        "CONTAINS",
        "STARTS",
        "ENDS",
        "WITH",
        "IS",
        "NULL",
        "BETWEEN",
        "AND",
        "OR",
        "&&",
        "||",
        "!",
        "(",
        ")",
        ",",
        "1",
        "-2.5",
        "1e3",
        "99999999999999999999",
        "'x'",
        "'50%_'",
        "'Zoë'",
        "''",
        "'",
        "\"",
        "true",
        "false",
        "é",
        "🦀",
        " ",
        "  ",
        ".",
        "a = 1",
        "b LIKE 'x%'",
        "c IS NOT NULL",
        "a IN (1, 2)",
        "b BETWEEN 'a' AND 'b'",
        "B ENDS WITH '_'",
        " AND ",
        " OR ",
        " AND NOT ",
        "(a > 1.5)",
        "x = 1",
    ];
    let t = table(None, "t", vec![col("a", "INTEGER", 1), col("b", "TEXT", 0), col("c", "REAL", 0)]);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let mut parsed = 0;
    for _ in 0..20_000 {
        let len = 1 + next() % 12;
        let input: Vec<&str> = (0..len).map(|_| PIECES[next() % PIECES.len()]).collect();
        let input = input.join(if next() % 2 == 0 { " " } else { "" });
        match filter::parse(&input) {
            Ok(expr) => {
                parsed += 1;
                let rows = RowFilter { filter: Some(expr), ..Default::default() };
                for d in [SQ, PG] {
                    let _ = count(d, &t, &rows);
                    let _ = delete(d, &t, &rows);
                }
            }
            Err(e) => assert!(e.position <= input.chars().count(), "{input:?}: {e}"),
        }
    }
    assert!(parsed > 100);
}

#[test]
fn guarded_writes_repeat_the_row_filter_in_a_count_and_bind_the_expected_count() {
    let st = delete_expecting(SQ, &customers(), &with_filter("name = 'a' OR email IS NULL"), Some(Expect::Exactly(3)))
        .unwrap();
    assert_eq!(
        st.sql,
        format!(
            "DELETE FROM \"customers\" WHERE (\"name\" = ?1 OR \"email\" IS NULL) AND (SELECT COUNT(*) FROM \
             \"customers\" WHERE \"name\" = ?1 OR \"email\" IS NULL) = ?2 RETURNING {}",
            sc(SQ, &["id"])
        )
    );
    assert_eq!(st.params, vec![text("a"), int(3)]);
    let st = update_expecting(
        PG,
        &pg_customers(),
        &obj(json!({"age": 3})),
        &with_ids(vec![json!(1)]),
        Some(Expect::AtMost(1)),
    )
    .unwrap();
    assert_eq!(
        st.sql,
        "UPDATE \"public\".\"customers\" SET \"age\" = $1 WHERE (\"id\" IN ($2)) AND (SELECT COUNT(*) FROM \
         \"public\".\"customers\" WHERE \"id\" IN ($2)) <= $3 RETURNING \"id\", \"name\", \"email\", \"age\", \"tags\""
    );
    assert_eq!(st.params, vec![int(3), int(1), int(1)]);
    // The filter's values are bound once: 60 ids stay under the 100-parameter limit (they were
    // bound twice, 121 parameters, and refused, before the count reused the outer placeholders).
    let sixty: Vec<Json> = (1..=60).map(|i| json!(i)).collect();
    let st = delete_expecting(SQ, &customers(), &with_ids(sixty), Some(Expect::AtMost(10))).unwrap();
    assert_eq!(st.params.len(), 61);
    // Without an expected count the statement is the plain one; never unrestricted either way.
    assert_eq!(
        delete_expecting(SQ, &customers(), &with_ids(vec![json!(1)]), None),
        delete(SQ, &customers(), &with_ids(vec![json!(1)]))
    );
    assert!(err_of(delete_expecting(SQ, &customers(), &RowFilter::default(), Some(Expect::Exactly(0))))
        .starts_with("refusing to delete"));
}

/// customers with the row policy `id = 7 OR name = 'x'` bound (an OR policy, to see the brackets).
fn policied_customers() -> Table {
    let mut t = customers();
    t.rows = crate::rows::RowAccess::Bound {
        text: "id = {user.id} or name = 'x'".into(),
        expr: filter::parse("id = 7 or name = 'x'").unwrap(),
    };
    t
}

#[test]
fn row_policy_is_anded_and_parenthesised_into_every_statement() {
    let t = policied_customers();
    // Alone, and with a caller's filter that tries to OR its way out.
    assert_eq!(
        where_of(SQ, &t, &RowFilter::default()).unwrap(),
        ("\"id\" = ?1 OR \"name\" = ?2".into(), vec![int(7), text("x")])
    );
    assert_eq!(
        filter_sql(PG, &t, "email = 'a' or id = 1"),
        (
            "(\"id\" = $1 OR \"name\" = $2) AND (\"email\" = $3 OR \"id\" = $4)".into(),
            vec![int(7), text("x"), text("a"), int(1)]
        )
    );
    let (clause, _) = where_of(SQ, &t, &with_ids(vec![json!(1)])).unwrap();
    assert_eq!(clause, "(\"id\" = ?1 OR \"name\" = ?2) AND \"id\" IN (?3)");
    // Writes: the guarded count subquery repeats the whole condition, policy included.
    let st = delete_expecting(SQ, &t, &with_filter("email = 'a'"), Some(Expect::Exactly(2))).unwrap();
    assert!(
        st.sql.contains(
            "WHERE ((\"id\" = ?1 OR \"name\" = ?2) AND \"email\" = ?3) AND (SELECT COUNT(*) FROM \"customers\" WHERE (\"id\" = ?1 OR \"name\" = ?2) AND \"email\" = ?3) = ?4"
        ),
        "{}",
        st.sql
    );
    let st = update(PG, &t, &obj(json!({ "email": "b" })), &with_ids(vec![json!(3)])).unwrap();
    assert!(st.sql.contains("WHERE (\"id\" = $2 OR \"name\" = $3) AND \"id\" IN ($4)"), "{}", st.sql);
    // An aggregate too.
    let spec = AggregateSpec {
        aggregates: vec![Aggregate { function: AggregateFn::Count, column: None, alias: "n".into() }],
        group_by: vec![],
        rows: RowFilter::default(),
        order: vec![],
        limit: 10,
        offset: 0,
    };
    assert!(aggregate(SQ, &t, &spec).unwrap().sql.contains("WHERE \"id\" = ?1 OR \"name\" = ?2"));
}

#[test]
fn a_denied_or_unbound_policy_runs_nothing() {
    let mut t = customers();
    t.rows = crate::rows::RowAccess::Denied("no attribute".into());
    assert_eq!(err_of(select(SQ, &t, &SelectSpec::default())), "no attribute");
    assert_eq!(err_of(count(SQ, &t, &RowFilter::default())), "no attribute");
    assert_eq!(err_of(delete(SQ, &t, &with_ids(vec![json!(1)]))), "no attribute");
    assert_eq!(err_of(insert(SQ, &t, &obj(json!({ "name": "x" })))), "no attribute");
    t.rows = crate::rows::RowAccess::Unbound(crate::rows::RowPolicy {
        text: "id = {user.id}".into(),
        expr: filter::parse("id = 1").unwrap(),
    });
    assert!(err_of(select(SQ, &t, &SelectSpec::default())).contains("was not applied to this caller"));
}

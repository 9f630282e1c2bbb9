//! PostgreSQL introspection from pg_catalog: tables, views and materialized views of every user
//! schema the connection may read, their columns, keys, indexes and comments; and stored routines.
//!
//! Tables of `public` keep their bare names; others are named `schema.table`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::db::{Database, DbError, SqlValue, Statement};
use crate::schema::{Column, ForeignKey, Index, Schema, Table, TableKind, ViewReads};

const USER_SCHEMAS: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\'";

fn columns_sql() -> String {
    format!(
        "SELECT n.nspname AS schema, c.relname AS tbl, \
           CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind, \
           a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, \
           pg_get_expr(d.adbin, d.adrelid) AS dflt, \
           (a.attidentity <> '' OR a.attgenerated <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%') AS auto, \
           COALESCE(array_position(pk.conkey, a.attnum), 0) AS pk, \
           col_description(c.oid, a.attnum) AS col_comment, obj_description(c.oid, 'pg_class') AS tbl_comment \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
         LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p' \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {USER_SCHEMAS} AND has_table_privilege(c.oid, 'SELECT') \
         ORDER BY n.nspname, c.relname, a.attnum"
    )
}

fn foreign_keys_sql() -> String {
    format!(
        "SELECT n.nspname AS schema, c.relname AS tbl, con.conname AS name, rn.nspname AS ref_schema, rc.relname AS ref_tbl, \
           (SELECT array_agg(a.attname ORDER BY k.ord)::text[] FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS cols, \
           (SELECT array_agg(a.attname ORDER BY k.ord)::text[] FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_cols, \
           con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE con.contype = 'f' AND {USER_SCHEMAS} ORDER BY 1, 2, 3"
    )
}

fn indexes_sql() -> String {
    format!(
        "SELECT n.nspname AS schema, c.relname AS tbl, i.relname AS idx, x.indisunique AS uniq, \
           (SELECT array_agg(a.attname ORDER BY k.ord)::text[] FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS cols \
         FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMAS} ORDER BY 1, 2, 3"
    )
}

/// Catalog views that hold samples of any table's values (most common values, histograms).
const SAMPLING_CATALOGS: &str =
    "'pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs', 'pg_statistic', 'pg_statistic_ext_data'";

/// Built-in functions that run SQL given as text (`query_to_xml('SELECT … FROM customers')`) or
/// dump tables named at run time, and the statistics catalogs. PostgreSQL records no dependency
/// on pinned objects (every built-in function; before version 15 the system views too), so they
/// are found in the view's definition: a regular expression over `pg_get_viewdef` (a mere
/// mention in a string hides the view too, which errs on the safe side).
const READS_ANY_TABLE_PATTERN: &str =
    r"\m((query|cursor|table|schema|database)_to_xml|ts_stat|ts_rewrite|pg_stats|pg_statistic)";

/// What each view and materialized view reads: the relations and routines its rewrite rule
/// depends on (pg_depend), so views over hidden tables can be hidden too. An operator counts as
/// the function that implements it: pg_depend records `a @@@ b` as a dependency on the
/// operator, and that function may read any table. Partitions and inheritance children share
/// rows with their parent (a parent's scan returns its children's rows): each is listed as
/// reading the other, so hiding one hides both. A view over the statistics samples or calling a
/// function that runs SQL text reads any table (kind `any`).
fn view_reads_sql() -> String {
    format!(
        "SELECT DISTINCT n.nspname AS schema, v.relname AS view, \
           CASE WHEN rn.nspname = 'pg_catalog' AND r.relname IN ({SAMPLING_CATALOGS}) THEN 'any' \
             WHEN r.oid IS NOT NULL THEN 'relation' ELSE 'routine' END AS kind, \
           COALESCE(rn.nspname, pn.nspname) AS ref_schema, COALESCE(r.relname, p.proname) AS ref_name \
         FROM pg_rewrite w JOIN pg_class v ON v.oid = w.ev_class JOIN pg_namespace n ON n.oid = v.relnamespace \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid \
         LEFT JOIN pg_class r ON d.refclassid = 'pg_class'::regclass AND r.oid = d.refobjid AND r.oid <> v.oid \
         LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace \
         LEFT JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid \
         LEFT JOIN pg_proc p ON p.oid = CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid ELSE o.oprcode::oid END \
         LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace \
         WHERE v.relkind IN ('v', 'm') AND {USER_SCHEMAS} AND (r.oid IS NOT NULL OR (p.oid IS NOT NULL AND pn.nspname NOT IN ('pg_catalog', 'information_schema'))) \
         UNION \
         SELECT n.nspname, v.relname, 'any', 'pg_catalog', '' FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace \
         WHERE v.relkind IN ('v', 'm') AND {USER_SCHEMAS} AND pg_get_viewdef(v.oid) ~* '{READS_ANY_TABLE_PATTERN}' \
         UNION \
         SELECT n.nspname, c.relname, 'relation', kn.nspname, k.relname \
         FROM pg_inherits i JOIN pg_class c ON c.oid IN (i.inhrelid, i.inhparent) JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_class k ON k.oid IN (i.inhrelid, i.inhparent) AND k.oid <> c.oid JOIN pg_namespace kn ON kn.oid = k.relnamespace \
         WHERE {USER_SCHEMAS} \
         ORDER BY 1, 2, 3, 4, 5"
    )
}

pub use crate::schema::display_name;

fn text(row: &Map<String, Json>, key: &str) -> Option<String> {
    match row.get(key)? {
        Json::String(s) => Some(s.clone()),
        Json::Null => None,
        other => Some(other.to_string()),
    }
}

fn strings(row: &Map<String, Json>, key: &str) -> Vec<String> {
    match row.get(key) {
        Some(Json::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

fn action(code: Option<String>) -> Option<String> {
    match code.as_deref() {
        Some("r") => Some("RESTRICT".into()),
        Some("c") => Some("CASCADE".into()),
        Some("n") => Some("SET NULL".into()),
        Some("d") => Some("SET DEFAULT".into()),
        _ => None,
    }
}

pub async fn load(db: &dyn Database) -> Result<Schema, DbError> {
    let results = db
        .batch(&[
            Statement::new(columns_sql(), vec![]),
            Statement::new(foreign_keys_sql(), vec![]),
            Statement::new(indexes_sql(), vec![]),
            Statement::new(view_reads_sql(), vec![]),
        ])
        .await?;
    let mut results = results.into_iter();
    let (Some(columns), Some(fks), Some(indexes), Some(view_reads)) =
        (results.next(), results.next(), results.next(), results.next())
    else {
        return Err(DbError::new("schema introspection returned an unexpected number of results"));
    };

    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in columns.into_objects() {
        let (Some(schema), Some(tbl)) = (text(&row, "schema"), text(&row, "tbl")) else { continue };
        let name = display_name(&schema, &tbl);
        let table = tables.entry(name.clone()).or_insert_with(|| Table {
            schema: Some(schema.clone()),
            name,
            kind: if text(&row, "kind").as_deref() == Some("view") { TableKind::View } else { TableKind::Table },
            columns: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            comment: text(&row, "tbl_comment"),
            policy: Default::default(),
            rows: Default::default(),
        });
        table.columns.push(Column {
            name: text(&row, "col").unwrap_or_default(),
            data_type: text(&row, "type").unwrap_or_default(),
            nullable: row.get("nullable") == Some(&Json::Bool(true)),
            default: text(&row, "dflt"),
            primary_key: row.get("pk").and_then(Json::as_u64).unwrap_or(0) as u32,
            comment: text(&row, "col_comment"),
            auto_increment: row.get("auto") == Some(&Json::Bool(true)),
        });
    }
    for row in fks.into_objects() {
        let (Some(schema), Some(tbl)) = (text(&row, "schema"), text(&row, "tbl")) else { continue };
        let ref_table =
            display_name(&text(&row, "ref_schema").unwrap_or_default(), &text(&row, "ref_tbl").unwrap_or_default());
        if let Some(table) = tables.get_mut(&display_name(&schema, &tbl)) {
            table.foreign_keys.push(ForeignKey {
                name: text(&row, "name"),
                columns: strings(&row, "cols"),
                ref_table,
                ref_columns: strings(&row, "ref_cols"),
                on_update: action(text(&row, "on_update")),
                on_delete: action(text(&row, "on_delete")),
            });
        }
    }
    for row in indexes.into_objects() {
        let (Some(schema), Some(tbl)) = (text(&row, "schema"), text(&row, "tbl")) else { continue };
        if let Some(table) = tables.get_mut(&display_name(&schema, &tbl)) {
            table.indexes.push(Index {
                name: text(&row, "idx").unwrap_or_default(),
                columns: strings(&row, "cols"),
                unique: row.get("uniq") == Some(&Json::Bool(true)),
            });
        }
    }
    let mut reads: BTreeMap<String, ViewReads> =
        tables.values().filter(|t| t.kind == TableKind::View).map(|t| (t.name.clone(), ViewReads::default())).collect();
    for row in view_reads.into_objects() {
        let (Some(schema), Some(view)) = (text(&row, "schema"), text(&row, "view")) else { continue };
        let target =
            display_name(&text(&row, "ref_schema").unwrap_or_default(), &text(&row, "ref_name").unwrap_or_default());
        // Views the role may not read are not in `tables`; their reads are kept anyway (harmless).
        let entry = reads.entry(display_name(&schema, &view)).or_default();
        let list = match text(&row, "kind").as_deref() {
            Some("any") => {
                entry.reads_any_table = true;
                continue;
            }
            Some("routine") => &mut entry.routines,
            _ => &mut entry.relations,
        };
        if !list.contains(&target) {
            list.push(target);
        }
    }
    Ok(Schema { tables: tables.into_values().collect(), view_reads: reads, hidden_names: vec![] })
}

/// A stored procedure or function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Routine {
    /// `restock`, or `reporting.refresh` outside `public`.
    pub name: String,
    #[serde(skip)]
    pub schema: String,
    #[serde(skip)]
    pub bare_name: String,
    pub arguments: Vec<Argument>,
    pub returns: String,
    pub returns_set: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Argument {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    /// in, out, inout, variadic, table
    pub mode: String,
    pub has_default: bool,
}

impl Argument {
    /// Whether a caller may pass a value for it.
    pub fn is_input(&self) -> bool {
        matches!(self.mode.as_str(), "in" | "inout" | "variadic")
    }
}

fn routines_sql() -> String {
    format!(
        "SELECT n.nspname AS schema, p.proname AS name, pg_get_function_result(p.oid) AS returns, \
           p.proretset AS returns_set, obj_description(p.oid, 'pg_proc') AS comment, \
           COALESCE(p.proargnames, ARRAY[]::text[]) AS arg_names, \
           COALESCE(p.proargmodes::text[], ARRAY[]::text[]) AS arg_modes, \
           COALESCE((SELECT array_agg(format_type(u.t, NULL) ORDER BY u.o) \
              FROM unnest(COALESCE(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, o)), ARRAY[]::text[])::text[] AS arg_types, \
           p.pronargdefaults AS n_defaults \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prokind = $1 AND {USER_SCHEMAS} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') \
         ORDER BY 1, 2"
    )
}

/// Stored procedures (`procedures = true`) or functions (aggregates and window functions excluded).
pub async fn load_routines(db: &dyn Database, procedures: bool) -> Result<Vec<Routine>, DbError> {
    let kind = if procedures { "p" } else { "f" };
    let result = db.query(&Statement::new(routines_sql(), vec![SqlValue::Text(kind.into())])).await?;
    let mut routines = Vec::new();
    for row in result.into_objects() {
        let (Some(schema), Some(bare)) = (text(&row, "schema"), text(&row, "name")) else { continue };
        let names = strings(&row, "arg_names");
        let modes = strings(&row, "arg_modes");
        let types = strings(&row, "arg_types");
        let n_defaults = row.get("n_defaults").and_then(Json::as_u64).unwrap_or(0) as usize;
        let mut arguments: Vec<Argument> = types
            .iter()
            .enumerate()
            .map(|(i, t)| Argument {
                name: names.get(i).cloned().unwrap_or_default(),
                data_type: t.clone(),
                mode: match modes.get(i).map(String::as_str) {
                    Some("o") => "out",
                    Some("b") => "inout",
                    Some("v") => "variadic",
                    Some("t") => "table",
                    _ => "in",
                }
                .to_string(),
                has_default: false,
            })
            .collect();
        // Defaults belong to the last n input arguments.
        let inputs: Vec<usize> = (0..arguments.len()).filter(|&i| arguments[i].is_input()).collect();
        for &i in inputs.iter().rev().take(n_defaults) {
            arguments[i].has_default = true;
        }
        routines.push(Routine {
            name: display_name(&schema, &bare),
            schema,
            bare_name: bare,
            arguments,
            returns: text(&row, "returns").unwrap_or_default(),
            returns_set: row.get("returns_set") == Some(&Json::Bool(true)),
            comment: text(&row, "comment"),
        });
    }
    Ok(routines)
}

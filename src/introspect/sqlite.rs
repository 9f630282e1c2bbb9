//! SQLite (D1) introspection through the `pragma_*` table-valued functions, in one batch.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::db::{Database, DbError, QueryResult, Statement};
use crate::schema::{Column, ForeignKey, Index, Schema, Table, TableKind};

/// Tables that belong to SQLite, D1 or the migration runner, never to the user.
const INTERNAL_FILTER: &str = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND m.name <> 'd1_migrations'";

fn columns_sql() -> String {
    format!(
        "SELECT m.name AS tbl, m.type AS kind, p.name AS col, p.type AS type, p.\"notnull\" AS not_null, \
         p.dflt_value AS dflt, p.pk AS pk \
         FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p \
         WHERE m.type IN ('table', 'view') AND {INTERNAL_FILTER} ORDER BY m.name, p.cid"
    )
}

fn foreign_keys_sql() -> String {
    format!(
        "SELECT m.name AS tbl, f.id AS id, f.\"table\" AS ref_table, f.\"from\" AS col, f.\"to\" AS ref_col, \
         f.on_update AS on_update, f.on_delete AS on_delete \
         FROM sqlite_schema AS m JOIN pragma_foreign_key_list(m.name) AS f \
         WHERE m.type = 'table' AND {INTERNAL_FILTER} ORDER BY m.name, f.id, f.seq"
    )
}

fn indexes_sql() -> String {
    format!(
        "SELECT m.name AS tbl, il.name AS idx, il.\"unique\" AS uniq, ii.name AS col \
         FROM sqlite_schema AS m JOIN pragma_index_list(m.name) AS il JOIN pragma_index_info(il.name) AS ii \
         WHERE m.type = 'table' AND {INTERNAL_FILTER} ORDER BY m.name, il.name, ii.seqno"
    )
}

pub async fn load(db: &dyn Database) -> Result<Schema, DbError> {
    let results = db
        .batch(&[
            Statement::new(columns_sql(), vec![]),
            Statement::new(foreign_keys_sql(), vec![]),
            Statement::new(indexes_sql(), vec![]),
        ])
        .await?;
    let [columns, foreign_keys, indexes]: [QueryResult; 3] = results
        .try_into()
        .map_err(|_| DbError::new("schema introspection returned an unexpected number of results"))?;
    Ok(assemble(columns, foreign_keys, indexes))
}

fn text(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) => Some(s.clone()),
        Json::Null => None,
        other => Some(other.to_string()),
    }
}

fn int(v: Option<&Json>) -> i64 {
    match v {
        Some(Json::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Json::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn assemble(columns: QueryResult, foreign_keys: QueryResult, indexes: QueryResult) -> Schema {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in columns.into_objects() {
        let Some(table_name) = text(row.get("tbl")) else { continue };
        let table = tables.entry(table_name.clone()).or_insert_with(|| Table {
            schema: None,
            name: table_name,
            kind: if text(row.get("kind")).as_deref() == Some("view") { TableKind::View } else { TableKind::Table },
            columns: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
        });
        table.columns.push(Column {
            name: text(row.get("col")).unwrap_or_default(),
            data_type: text(row.get("type")).unwrap_or_default(),
            nullable: int(row.get("not_null")) == 0,
            default: text(row.get("dflt")),
            primary_key: int(row.get("pk")).max(0) as u32,
            comment: None,
            auto_increment: false,
        });
    }
    for table in tables.values_mut() {
        // A lone INTEGER PRIMARY KEY is SQLite's rowid alias: filled in when omitted. Such a
        // column reports notnull = 0 although it can never hold NULL.
        let pk: Vec<usize> = (0..table.columns.len()).filter(|&i| table.columns[i].primary_key > 0).collect();
        if let [only] = pk[..] {
            let column = &mut table.columns[only];
            if column.data_type.eq_ignore_ascii_case("INTEGER") && table.kind == TableKind::Table {
                column.auto_increment = true;
                column.nullable = false;
            }
        }
    }

    // Foreign keys: rows share an id per constraint, one row per column pair.
    let mut pending: BTreeMap<(String, i64), ForeignKey> = BTreeMap::new();
    for row in foreign_keys.into_objects() {
        let Some(table_name) = text(row.get("tbl")) else { continue };
        let fk = pending.entry((table_name, int(row.get("id")))).or_insert_with(|| ForeignKey {
            name: None,
            columns: vec![],
            ref_table: text(row.get("ref_table")).unwrap_or_default(),
            ref_columns: vec![],
            on_update: text(row.get("on_update")).filter(|a| a != "NO ACTION"),
            on_delete: text(row.get("on_delete")).filter(|a| a != "NO ACTION"),
        });
        fk.columns.push(text(row.get("col")).unwrap_or_default());
        // A NULL "to" means the referenced table's primary key; resolved below.
        fk.ref_columns.push(text(row.get("ref_col")).unwrap_or_default());
    }
    for ((table_name, _), mut fk) in pending {
        if fk.ref_columns.iter().any(String::is_empty) {
            if let Some(target) = tables.get(&fk.ref_table) {
                let pk: Vec<String> = target.primary_key().iter().map(|c| c.name.clone()).collect();
                if pk.len() == fk.columns.len() {
                    fk.ref_columns = pk;
                }
            }
        }
        if let Some(table) = tables.get_mut(&table_name) {
            table.foreign_keys.push(fk);
        }
    }

    for row in indexes.into_objects() {
        let Some(table_name) = text(row.get("tbl")) else { continue };
        let Some(table) = tables.get_mut(&table_name) else { continue };
        let name = text(row.get("idx")).unwrap_or_default();
        let column = text(row.get("col")).unwrap_or_default();
        match table.indexes.iter_mut().find(|i| i.name == name) {
            Some(index) => index.columns.push(column),
            None => table.indexes.push(Index { name, columns: vec![column], unique: int(row.get("uniq")) == 1 }),
        }
    }

    Schema { tables: tables.into_values().collect() }
}

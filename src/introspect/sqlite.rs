//! SQLite (D1) introspection through the `pragma_*` table-valued functions, in one batch.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::db::{Database, DbError, QueryResult, Statement};
use crate::schema::{Column, ForeignKey, Index, Schema, Table, TableKind, ViewReads};

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

/// Views, and virtual tables (an FTS index with `content='customers'` reads customers).
fn views_sql() -> String {
    format!(
        "SELECT m.name AS name, m.type AS kind, m.sql AS sql FROM sqlite_schema AS m \
         WHERE (m.type = 'view' OR (m.type = 'table' AND m.sql LIKE 'CREATE VIRTUAL TABLE%')) AND {INTERNAL_FILTER}"
    )
}

pub async fn load(db: &dyn Database) -> Result<Schema, DbError> {
    let results = db
        .batch(&[
            Statement::new(columns_sql(), vec![]),
            Statement::new(foreign_keys_sql(), vec![]),
            Statement::new(indexes_sql(), vec![]),
            Statement::new(views_sql(), vec![]),
        ])
        .await?;
    let [columns, foreign_keys, indexes, views]: [QueryResult; 4] = results
        .try_into()
        .map_err(|_| DbError::new("schema introspection returned an unexpected number of results"))?;
    let mut schema = assemble(columns, foreign_keys, indexes);
    let mut virtual_tables = Vec::new();
    for row in views.into_objects() {
        let Some(name) = text(row.get("name")) else { continue };
        let relations = sql_name_tokens(&text(row.get("sql")).unwrap_or_default());
        if text(row.get("kind")).as_deref() == Some("table") {
            virtual_tables.push(name.clone());
        }
        schema.view_reads.insert(name, ViewReads { relations, ..Default::default() });
    }
    // A virtual table keeps its data in shadow tables named `<table>_<suffix>`: they go with it.
    for table in &schema.tables {
        for owner in &virtual_tables {
            if table.name.len() > owner.len() + 1
                && table.name.starts_with(owner.as_str())
                && table.name[owner.len()..].starts_with('_')
                && !schema.view_reads.contains_key(&table.name)
            {
                schema
                    .view_reads
                    .insert(table.name.clone(), ViewReads { relations: vec![owner.clone()], ..Default::default() });
            }
        }
    }
    Ok(schema)
}

/// A character of an unquoted SQLite identifier: SQLite's tokenizer takes every non-ASCII
/// character as one (`kund€n`, `t😀`), besides letters, digits, `_` and `$`.
fn is_sqlite_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
}

/// Every name a view's SQL could refer to a table by: bare words, `"quoted"`, `` `quoted` ``,
/// `[bracketed]` identifiers, and string literals too (SQLite accepts `FROM 'customers'`), each
/// part of `a.b` on its own. Comments are skipped. Deliberately a superset: a view that mentions
/// a hidden table's name anywhere is hidden.
pub fn sql_name_tokens(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    let mut push = |token: String| {
        if !token.is_empty() && !tokens.contains(&token) {
            tokens.push(token);
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if matches!(c, '"' | '\'' | '`' | '[') {
            let close = if c == '[' { ']' } else { c };
            let mut token = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == close {
                    if close != ']' && chars.get(i + 1) == Some(&close) {
                        token.push(close);
                        i += 2;
                        continue;
                    }
                    break;
                }
                token.push(chars[i]);
                i += 1;
            }
            i += 1;
            push(token);
        } else if is_sqlite_ident_char(c) {
            let start = i;
            while i < chars.len() && is_sqlite_ident_char(chars[i]) {
                i += 1;
            }
            push(chars[start..i].iter().collect());
        } else {
            i += 1;
        }
    }
    tokens
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
            policy: Default::default(),
            rows: Default::default(),
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

    Schema { tables: tables.into_values().collect(), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::sql_name_tokens;

    #[test]
    fn view_sql_tokens_cover_every_way_to_name_a_table() {
        let sql = "CREATE VIEW v AS SELECT x.a FROM \"Sec ret\" AS x JOIN `b``q` ON 1 JOIN [br] JOIN 'lit''eral' \
                   JOIN main.customers -- not_this\n /* nor_this */ JOIN Ünïcode";
        let tokens = sql_name_tokens(sql);
        for expected in ["v", "x", "a", "Sec ret", "b`q", "br", "lit'eral", "main", "customers", "Ünïcode"] {
            assert!(tokens.iter().any(|t| t == expected), "{expected} missing from {tokens:?}");
        }
        assert!(!tokens.iter().any(|t| t == "not_this" || t == "nor_this"), "{tokens:?}");
        // Unquoted names with non-ASCII symbols are one token, as SQLite reads them.
        let tokens = sql_name_tokens("SELECT * FROM kund€n JOIN t😀x ON 1");
        for expected in ["kund€n", "t😀x"] {
            assert!(tokens.iter().any(|t| t == expected), "{expected} missing from {tokens:?}");
        }
        // Unterminated quotes and comments end the scan without a panic.
        assert_eq!(sql_name_tokens("SELECT \"abc"), vec!["SELECT", "abc"]);
        assert_eq!(sql_name_tokens("/* open"), Vec::<String>::new());
        assert_eq!(sql_name_tokens(""), Vec::<String>::new());
    }
}

//! Embedding related rows in `get_table_data` results, one query per relationship (chunked to
//! stay within the bound-parameter limit), matched in memory.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::{ToolContext, ToolError};
use crate::relations::{relations_of, Relation, RelationKind};
use crate::schema::Schema;
use crate::sql::{self, RowFilter, SelectSpec};

/// Values per `IN (...)` list: below D1's 100 bound parameters.
const CHUNK: usize = 90;
/// Related rows fetched per relationship in one call, so one read cannot explode.
pub const MAX_RELATED_ROWS: usize = 1000;

/// Distinct relationships one read may embed: each costs at least one query.
pub const MAX_RELATED_NAMES: usize = 10;

/// Finds the named relationships of `table`, or says which names exist. A name given twice (in
/// any case) is embedded once.
pub fn resolve(schema: &Schema, table: &crate::schema::Table, names: &[String]) -> Result<Vec<Relation>, ToolError> {
    let mut distinct: Vec<&String> = Vec::new();
    for name in names {
        if !distinct.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            distinct.push(name);
            if distinct.len() > MAX_RELATED_NAMES {
                return Err(ToolError::new(format!(
                    "related lists more than {MAX_RELATED_NAMES} distinct relationships; embed at most {MAX_RELATED_NAMES} per call"
                )));
            }
        }
    }
    if distinct.is_empty() {
        return Ok(vec![]);
    }
    let all = relations_of(schema, table);
    let resolved: Vec<Relation> = distinct
        .into_iter()
        .map(|name| {
            let relation = all.iter().find(|r| r.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
                ToolError::new(format!(
                    "unknown relationship {name:?} for table {:?}; relationships are: {}",
                    table.name,
                    if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
                ))
            })?;
            if relation.columns.len() != 1 || relation.ref_columns.len() != 1 {
                return Err(ToolError::new(format!(
                    "relationship {:?} uses a multi-column key, which `related` does not embed; query {} with a filter instead",
                    relation.name, relation.ref_table
                )));
            }
            Ok(relation.clone())
        })
        .collect::<Result<_, _>>()?;
    // Two spellings can still resolve to one relationship; embed it once.
    let mut unique: Vec<Relation> = Vec::with_capacity(resolved.len());
    for relation in resolved {
        if !unique.iter().any(|u| u.name == relation.name) {
            unique.push(relation);
        }
    }
    Ok(unique)
}

fn key(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Rows of `table` whose `column` is one of `values`.
async fn rows_where_in(
    ctx: &ToolContext<'_>,
    schema: &Schema,
    table: &str,
    column: &str,
    values: Vec<Json>,
) -> Result<Vec<Map<String, Json>>, ToolError> {
    let target = schema.table(table).ok_or_else(|| super::unknown_table(schema, table))?;
    let mut rows = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let spec = SelectSpec {
            fields: None,
            rows: RowFilter { filter: None, ids: None, column_in: Some((column.to_string(), chunk.to_vec())) },
            order: vec![],
            limit: Some((MAX_RELATED_ROWS + 1 - rows.len().min(MAX_RELATED_ROWS)) as u64),
            offset: 0,
        };
        let statement = sql::select(ctx.db.dialect(), target, &spec)?;
        rows.extend(ctx.db.query(&statement).await?.into_objects());
        if rows.len() > MAX_RELATED_ROWS {
            return Err(ToolError::new(format!(
                "more than {MAX_RELATED_ROWS} related rows in {table}; ask for fewer records (limit) or query {table} directly with a filter"
            )));
        }
    }
    Ok(rows)
}

fn distinct_values(records: &[Map<String, Json>], column: &str) -> Vec<Json> {
    let mut seen = std::collections::HashSet::new();
    records.iter().filter_map(|r| r.get(column)).filter(|v| !v.is_null() && seen.insert(key(v))).cloned().collect()
}

pub async fn attach_related(
    ctx: &ToolContext<'_>,
    schema: &Schema,
    relations: &[Relation],
    records: &mut [Map<String, Json>],
) -> Result<(), ToolError> {
    for relation in relations {
        let local = &relation.columns[0];
        let values = distinct_values(records, local);
        match relation.kind {
            RelationKind::BelongsTo => {
                let found = rows_where_in(ctx, schema, &relation.ref_table, &relation.ref_columns[0], values).await?;
                let by_key: HashMap<String, Map<String, Json>> = found
                    .into_iter()
                    .map(|r| (key(r.get(&relation.ref_columns[0]).unwrap_or(&Json::Null)), r))
                    .collect();
                for record in records.iter_mut() {
                    let target = record.get(local).and_then(|v| by_key.get(&key(v))).cloned();
                    record.insert(relation.name.clone(), target.map(Json::Object).unwrap_or(Json::Null));
                }
            }
            RelationKind::HasMany => {
                let found = rows_where_in(ctx, schema, &relation.ref_table, &relation.ref_columns[0], values).await?;
                let mut groups: HashMap<String, Vec<Json>> = HashMap::new();
                for row in found {
                    let k = key(row.get(&relation.ref_columns[0]).unwrap_or(&Json::Null));
                    groups.entry(k).or_default().push(Json::Object(row));
                }
                for record in records.iter_mut() {
                    let list = record.get(local).and_then(|v| groups.get(&key(v))).cloned().unwrap_or_default();
                    record.insert(relation.name.clone(), Json::Array(list));
                }
            }
            RelationKind::ManyMany => {
                let Some(junction) = &relation.junction else { continue };
                let links = rows_where_in(ctx, schema, &junction.table, &junction.this_column, values).await?;
                let far_ids = distinct_values(&links, &junction.ref_column);
                let far = rows_where_in(ctx, schema, &relation.ref_table, &relation.ref_columns[0], far_ids).await?;
                let far_by_key: HashMap<String, Map<String, Json>> =
                    far.into_iter().map(|r| (key(r.get(&relation.ref_columns[0]).unwrap_or(&Json::Null)), r)).collect();
                let mut groups: HashMap<String, Vec<Json>> = HashMap::new();
                for link in &links {
                    let this = key(link.get(&junction.this_column).unwrap_or(&Json::Null));
                    if let Some(row) = link.get(&junction.ref_column).and_then(|v| far_by_key.get(&key(v))) {
                        groups.entry(this).or_default().push(Json::Object(row.clone()));
                    }
                }
                for record in records.iter_mut() {
                    let list = record.get(local).and_then(|v| groups.get(&key(v))).cloned().unwrap_or_default();
                    record.insert(relation.name.clone(), Json::Array(list));
                }
            }
        }
    }
    mask_related(schema, relations, records);
    Ok(())
}

/// Masks the embedded rows with their own table's masked columns, once they are matched (the
/// matching needs the real key values).
fn mask_related(schema: &Schema, relations: &[Relation], records: &mut [Map<String, Json>]) {
    for relation in relations {
        let Some(target) = schema.table(&relation.ref_table) else { continue };
        if target.policy.masked.is_empty() {
            continue;
        }
        for record in records.iter_mut() {
            match record.get_mut(&relation.name) {
                Some(Json::Object(row)) => target.policy.mask_record(row),
                Some(Json::Array(rows)) => {
                    for row in rows.iter_mut().filter_map(Json::as_object_mut) {
                        target.policy.mask_record(row);
                    }
                }
                _ => {}
            }
        }
    }
}

//! `aggregate_table_data`: counts, sums, averages, minimums and maximums, optionally grouped,
//! computed by the database instead of by a model reading every row.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::values::{affinity, Affinity};
use super::{
    object_schema, parse_args, parse_filter, table_param, Annotations, IdList, NameList, ToolContext, ToolError,
    ToolResult, ToolSpec,
};
use crate::sql::{self, Aggregate, AggregateFn, AggregateSpec, RowFilter};

pub const SPEC: ToolSpec = ToolSpec {
    name: "aggregate_table_data",
    title: "Aggregate table rows",
    description: "Compute count, count_distinct, sum, avg, min or max over a table's rows, optionally grouped \
                  by columns and filtered (same filter language as get_table_data). Example: \
                  {\"table\": \"orders\", \"aggregates\": [{\"function\": \"count\"}, {\"function\": \"sum\", \
                  \"column\": \"total\", \"alias\": \"revenue\"}], \"group_by\": \"status\", \"order\": \"revenue DESC\"}. \
                  Prefer this to reading rows when you need totals.",
    writes: false,
    returns_data: true,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AggregateInput {
    function: String,
    column: Option<String>,
    alias: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    table: String,
    aggregates: Vec<AggregateInput>,
    group_by: Option<NameList>,
    filter: Option<String>,
    ids: Option<IdList>,
    order: Option<String>,
    limit: Option<u64>,
    #[serde(default)]
    offset: u64,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "table": table_param(),
            "aggregates": { "type": "array", "minItems": 1, "maxItems": 20, "items": {
                "type": "object",
                "properties": {
                    "function": { "type": "string", "enum": ["count", "count_distinct", "sum", "avg", "min", "max"] },
                    "column": { "type": "string", "description": "Column to aggregate; leave out for count of rows." },
                    "alias": { "type": "string", "description": "Output name (default e.g. sum_total)." }
                },
                "required": ["function"],
                "additionalProperties": false
            } },
            "group_by": { "description": "Columns to group by.", "anyOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } } ] },
            "filter": { "type": "string", "description": "Which rows to aggregate (get_table_data's filter language)." },
            "ids": { "description": "Primary key values of the rows to aggregate.", "anyOf": [ { "type": "array" }, { "type": "string" }, { "type": "integer" } ] },
            "order": { "type": "string", "description": "Sort groups by group columns or aliases, e.g. \"revenue DESC\"." },
            "limit": { "type": "integer", "minimum": 1, "description": "Groups to return (capped by the service's max rows)." },
            "offset": { "type": "integer", "minimum": 0 }
        },
        "required": ["table", "aggregates"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "table": { "type": "string" },
            "rows": { "type": "array", "items": { "type": "object" } },
            "returned": { "type": "integer" },
            "truncated": { "type": "boolean" },
            "next_offset": { "type": "integer" }
        }),
        &["table", "rows", "returned", "truncated"],
    )
}

/// The default output name of an aggregate: `sum_total`; characters an alias may not hold
/// (`"sp ace"`) become `_`, so a quoted column still gets a usable name.
fn default_alias(function: AggregateFn, column: Option<&str>) -> String {
    match column {
        None => function.name().to_string(),
        Some(column) => {
            let cleaned: String =
                column.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
            let mut alias = format!("{}_{cleaned}", function.name());
            alias.truncate(63);
            alias
        }
    }
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: Input = parse_args(args)?;
        if input.aggregates.is_empty() || input.aggregates.len() > 20 {
            return Err(ToolError::new("give between 1 and 20 aggregates"));
        }
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        let dialect = ctx.db.dialect();

        let mut aggregates = Vec::new();
        for (i, a) in input.aggregates.into_iter().enumerate() {
            let function = AggregateFn::parse(&a.function).ok_or_else(|| {
                ToolError::new(format!(
                    "aggregate {i}: unknown function {:?}; use count, count_distinct, sum, avg, min or max",
                    a.function
                ))
            })?;
            if let (AggregateFn::Sum | AggregateFn::Avg, Some(name)) = (function, &a.column) {
                // SQLite would sum text as 0 without a word: refuse instead of answering wrongly.
                if let Some(column) = table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
                    if dialect == sql::Dialect::Sqlite && affinity(dialect, &column.data_type) == Affinity::Text {
                        return Err(ToolError::new(format!(
                            "aggregate {i}: {} of column {:?} ({}) makes no sense: it holds text",
                            function.name(),
                            column.name,
                            column.data_type
                        )));
                    }
                }
            }
            let alias = a.alias.unwrap_or_else(|| default_alias(function, a.column.as_deref()));
            aggregates.push(Aggregate { function, column: a.column, alias });
        }

        let cap = ctx.service.max_rows;
        if input.limit == Some(0) {
            return Err(ToolError::new("limit must be at least 1"));
        }
        let limit = input.limit.unwrap_or(cap).min(cap);
        let ids = input.ids.map(IdList::into_vec);
        let spec = AggregateSpec {
            aggregates,
            group_by: input.group_by.map(NameList::into_vec).unwrap_or_default(),
            rows: RowFilter { filter: parse_filter(input.filter.as_deref())?, ids, column_in: None },
            order: match input.order.as_deref() {
                // The same parser as get_table_data's order: quoted names, commas inside quotes.
                Some(order) => sql::parse_order_terms(order)?,
                None => vec![],
            },
            limit: limit + 1,
            offset: input.offset,
        };
        let statement = sql::aggregate(dialect, table, &spec)?;
        let mut rows = ctx.db.query(&statement).await?.into_objects();
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let mut out = json!({
            "table": table.name,
            "returned": rows.len(),
            "truncated": more && input.limit.is_none_or(|asked| asked > cap),
            "rows": rows,
        });
        if more {
            out["next_offset"] = json!(input.offset.saturating_add(limit));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_aliases_are_plain_names_for_any_column() {
        assert_eq!(default_alias(AggregateFn::Count, None), "count");
        assert_eq!(default_alias(AggregateFn::Sum, Some("total")), "sum_total");
        assert_eq!(default_alias(AggregateFn::Sum, Some("sp ace")), "sum_sp_ace");
        assert_eq!(default_alias(AggregateFn::Max, Some("prix€\"x")), "max_prix__x");
        let long = default_alias(AggregateFn::CountDistinct, Some(&"x".repeat(200)));
        assert_eq!(long.len(), 63);
        for alias in [default_alias(AggregateFn::Avg, Some("a-b.c")), long] {
            assert!(sql::is_valid_alias(&alias), "{alias}");
        }
    }
}

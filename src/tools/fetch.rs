//! `fetch`: one whole record by the id `search` gave (`orders:17`; a composite key as a JSON
//! array, `product_categories:[3,7]`), as OpenAI's connector contract wants it:
//! `{id, title, text, url, metadata}`. The record page (`/mcp/<service>/records/...`) shows the
//! same record through [`load`].

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Map, Value as Json};

use super::{object_schema, only_string_arg, Annotations, ToolContext, ToolError, ToolResult, ToolSpec};
use crate::search;
use crate::sql::{self, RowFilter, SelectSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "fetch",
    title: "Fetch a record",
    description: "Fetch one whole record by the id search returned (\"<table>:<primary key>\", e.g. \"orders:17\"; \
                  a composite key is a JSON array, e.g. \"product_categories:[3,7]\"). Returns {id, title, text, \
                  url, metadata}; text lists the record as \"column: value\" lines.",
    writes: false,
    returns_data: true,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "id": { "type": "string", "description": "A record id from search: <table>:<primary key>." }
        },
        "required": ["id"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "id": { "type": "string" },
            "title": { "type": "string" },
            "text": { "type": "string", "description": "The record, one \"column: value\" line per column." },
            "url": { "type": "string" },
            "metadata": { "type": "object", "properties": {
                "table": { "type": "string" },
                "key": { "type": "object", "description": "Primary key column -> value." }
            } }
        }),
        &["id", "title", "text", "url", "metadata"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let id = only_string_arg(&args, "id")?;
        let id = id.trim();
        let schema = ctx.schema().await?;
        let (index, key) = search::split_id(&schema, id).map_err(ToolError)?;
        let table = schema.tables[index].name.clone();
        let record = load(ctx, &table, key).await?;
        Ok(record.into_contract())
    })
}

/// One record as `fetch` and the record page show it.
pub struct Record {
    pub id: String,
    pub table: String,
    pub title: String,
    pub url: String,
    /// Primary key column -> value.
    pub key: Map<String, Json>,
    /// Every visible column, masked ones masked.
    pub fields: Map<String, Json>,
}

impl Record {
    pub fn into_contract(self) -> Json {
        json!({
            "id": self.id,
            "title": self.title,
            "text": search::record_text(&self.fields),
            "url": self.url,
            "metadata": { "table": self.table, "key": self.key },
        })
    }
}

/// Reads the record of `table` (a visible table's name) whose key text is `key`.
pub async fn load(ctx: &ToolContext<'_>, table: &str, key: &str) -> Result<Record, ToolError> {
    let (schema, index) = ctx.table(table).await?;
    let table = &schema.tables[index];
    let dialect = ctx.db.dialect();
    search::addressable(table).map_err(|why| ToolError(format!("table \"{}\": {why}", table.name)))?;
    let values = search::parse_key(dialect, table, key).map_err(ToolError)?;
    let keys = table.primary_key();
    let id = match values.as_slice() {
        [one] => one.clone(),
        many => Json::Object(keys.iter().map(|k| k.name.clone()).zip(many.iter().cloned()).collect()),
    };
    let spec = SelectSpec {
        fields: None,
        rows: RowFilter { filter: None, ids: Some(vec![id]), column_in: None },
        order: vec![],
        limit: Some(1),
        offset: 0,
    };
    let result = ctx.db.query(&sql::select(dialect, table, &spec)?).await?;
    let Some(mut fields) = result.into_objects().into_iter().next() else {
        return Err(ToolError(format!("no record of table \"{}\" has the key {key}", table.name)));
    };
    // The id and URL use the key as given back by the database, so they match search's.
    let key_text = search::key_text(table, &fields);
    table.policy.mask_record(&mut fields);
    let title_column = search::title_column(dialect, &schema, &ctx.service.search, index);
    Ok(Record {
        id: search::record_id(table, &key_text),
        title: search::title(table, &key_text, title_column.as_ref().and_then(|c| fields.get(c))),
        url: search::record_url(ctx.origin, &ctx.service.name, &table.name, &key_text),
        key: keys.iter().map(|k| (k.name.clone(), fields.get(&k.name).cloned().unwrap_or(Json::Null))).collect(),
        table: table.name.clone(),
        fields,
    })
}

//! Prompts that guide a model through the database.

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::jsonrpc::RpcError;
use super::server::parse_params;
use crate::tools::ToolContext;

pub fn list() -> Json {
    json!({ "prompts": [
        {
            "name": "explore_database",
            "title": "Explore the database",
            "description": "Walk through the schema step by step and summarize what the data is about.",
            "arguments": [ { "name": "goal", "description": "What you want to find out (optional).", "required": false } ]
        },
        {
            "name": "query_table",
            "title": "Query a table",
            "description": "Look at one table's structure and sample rows, then answer a question about it.",
            "arguments": [
                { "name": "table", "description": "The table to query.", "required": true },
                { "name": "column", "description": "A column to focus on (optional).", "required": false },
                { "name": "question", "description": "What to find out (optional).", "required": false }
            ]
        }
    ] })
}

#[derive(Deserialize)]
struct Get {
    name: String,
    #[serde(default)]
    arguments: Map<String, Json>,
}

fn arg<'a>(args: &'a Map<String, Json>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty())
}

pub async fn get(params: Option<&Map<String, Json>>, ctx: &ToolContext<'_>) -> Result<Json, RpcError> {
    let p: Get = parse_params("prompts/get", params)?;
    let service = &ctx.service.name;
    let text = match p.name.as_str() {
        "explore_database" => {
            let goal = arg(&p.arguments, "goal").map(|g| format!(" The goal: {g}.")).unwrap_or_default();
            format!(
                "You are exploring the database behind the MCP service \"{service}\".{goal}\n\
                 1. Call get_tables (with include_counts: true) to see the tables and their sizes.\n\
                 2. For the tables that matter, call get_table_schema to learn columns, keys and relationships.\n\
                 3. Call get_table_data with a small limit (e.g. 5) to see sample rows; use filter and order to narrow down.\n\
                 4. Follow relationships with get_table_data's `related` option instead of guessing joins.\n\
                 5. Summarize what the data describes, how the tables connect, and anything surprising (NULLs, odd values).\n\
                 Never invent column names: use the ones the schema reports."
            )
        }
        "query_table" => {
            let table = arg(&p.arguments, "table")
                .ok_or_else(|| RpcError::invalid_params("prompt query_table needs the argument \"table\""))?;
            let schema = ctx.schema().await.map_err(|e| RpcError::internal(e.0))?;
            let known = schema.table(table).ok_or_else(|| {
                RpcError::invalid_params(format!("unknown table {table:?}; use completion or get_tables to pick one"))
            })?;
            let focus = arg(&p.arguments, "column")
                .map(|c| format!(" Pay particular attention to the column \"{c}\"."))
                .unwrap_or_default();
            let question = arg(&p.arguments, "question").map(|q| format!(" Then answer: {q}")).unwrap_or_default();
            format!(
                "Look at the table \"{}\" of the MCP service \"{service}\": call get_table_schema for it, then \
                 get_table_data with limit 10 to see sample rows.{focus} Use filters rather than reading everything; \
                 use include_count to learn how many rows match.{question}",
                known.name
            )
        }
        other => {
            return Err(RpcError::invalid_params(format!(
                "unknown prompt {other:?}; prompts are: explore_database, query_table"
            )))
        }
    };
    Ok(json!({
        "description": format!("{} for service {service}", p.name),
        "messages": [ { "role": "user", "content": { "type": "text", "text": text } } ]
    }))
}

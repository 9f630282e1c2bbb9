//! `completion/complete`: table names for prompt arguments and the table resource template;
//! column names for the `column` argument once a table is chosen.

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::jsonrpc::RpcError;
use super::server::parse_params;
use crate::tools::ToolContext;

/// The spec caps one completion answer at 100 values.
const MAX_VALUES: usize = 100;

#[derive(Deserialize)]
struct Complete {
    #[serde(rename = "ref")]
    reference: Reference,
    argument: Argument,
    #[serde(default)]
    context: Option<Context>,
}

/// `{"type": "ref/prompt", "name"}` or `{"type": "ref/resource", "uri"}`. Read through a flat
/// struct, not `#[serde(tag = "type")]`: serde parses an internally tagged enum through its
/// buffered `Content`, about 3 KB of wasm for this one request.
#[derive(Deserialize)]
#[serde(try_from = "RawReference")]
enum Reference {
    Prompt { name: String },
    Resource { uri: String },
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    uri: Option<String>,
}

impl TryFrom<RawReference> for Reference {
    type Error = String;
    fn try_from(raw: RawReference) -> Result<Self, String> {
        match (raw.kind.as_str(), raw.name, raw.uri) {
            ("ref/prompt", Some(name), _) => Ok(Reference::Prompt { name }),
            ("ref/resource", _, Some(uri)) => Ok(Reference::Resource { uri }),
            ("ref/prompt", None, _) => Err("missing field `name`".into()),
            ("ref/resource", _, None) => Err("missing field `uri`".into()),
            (other, _, _) => Err(format!("unknown variant `{other}`, expected `ref/prompt` or `ref/resource`")),
        }
    }
}

#[derive(Deserialize)]
struct Argument {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize, Default)]
struct Context {
    #[serde(default)]
    arguments: Map<String, Json>,
}

pub async fn complete(params: Option<&Map<String, Json>>, ctx: &ToolContext<'_>) -> Result<Json, RpcError> {
    let p: Complete = parse_params("completion/complete", params)?;
    let schema = ctx.schema().await.map_err(|e| RpcError::internal(e.0))?;
    let table_names = || schema.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    let candidates: Vec<String> = match (&p.reference, p.argument.name.as_str()) {
        (Reference::Prompt { name }, "table") if name == "query_table" => table_names(),
        (Reference::Prompt { name }, "column") if name == "query_table" => {
            let chosen = p.context.as_ref().and_then(|c| c.arguments.get("table")).and_then(Json::as_str);
            match chosen.and_then(|t| schema.table(t)) {
                Some(table) => table.columns.iter().map(|c| c.name.clone()).collect(),
                None => vec![],
            }
        }
        (Reference::Resource { uri }, "table") if uri == &format!("dbmcp://{}/tables/{{table}}", ctx.service.name) => {
            table_names()
        }
        (Reference::Prompt { name }, _) if name != "query_table" && name != "explore_database" => {
            return Err(RpcError::invalid_params(format!("unknown prompt {name:?}")));
        }
        _ => vec![],
    };
    let prefix = p.argument.value.to_ascii_lowercase();
    let matching: Vec<String> =
        candidates.into_iter().filter(|c| c.to_ascii_lowercase().starts_with(&prefix)).collect();
    let total = matching.len();
    let values: Vec<String> = matching.into_iter().take(MAX_VALUES).collect();
    Ok(json!({ "completion": { "values": values, "total": total, "hasMore": total > MAX_VALUES } }))
}

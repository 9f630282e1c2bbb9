//! Resources: each table's schema, readable at `dbmcp://<service>/tables/<table>`.

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::jsonrpc::{RpcError, RESOURCE_NOT_FOUND};
use super::server::parse_params;
use crate::relations::relations_of;
use crate::tools::ToolContext;

pub fn table_uri(service: &str, table: &str) -> String {
    format!("dbmcp://{service}/tables/{}", percent_encode(table))
}

/// Encodes everything but unreserved characters, so any table name makes a valid URI.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn schema_or_error(ctx: &ToolContext<'_>) -> Result<std::rc::Rc<crate::schema::Schema>, RpcError> {
    ctx.schema().await.map_err(|e| RpcError::internal(e.0))
}

pub async fn list(ctx: &ToolContext<'_>) -> Result<Json, RpcError> {
    let schema = schema_or_error(ctx).await?;
    let resources: Vec<Json> = schema
        .tables
        .iter()
        .map(|t| {
            json!({
                "uri": table_uri(&ctx.service.name, &t.name),
                "name": t.name,
                "title": format!("Schema of {}", t.name),
                "description": format!("Columns, keys, indexes and relationships of the {} {:?}.", if t.kind == crate::schema::TableKind::View { "view" } else { "table" }, t.name),
                "mimeType": "application/json",
            })
        })
        .collect();
    Ok(json!({ "resources": resources }))
}

pub fn templates(service: &str) -> Json {
    json!({ "resourceTemplates": [ {
        "uriTemplate": format!("dbmcp://{service}/tables/{{table}}"),
        "name": "table-schema",
        "title": "Table schema",
        "description": "The schema of one table: columns, keys, indexes and relationships.",
        "mimeType": "application/json",
    } ] })
}

pub async fn read(params: Option<&Map<String, Json>>, ctx: &ToolContext<'_>) -> Result<Json, RpcError> {
    #[derive(Deserialize)]
    struct Read {
        uri: String,
    }
    let p: Read = parse_params("resources/read", params)?;
    let not_found = || {
        let mut e = RpcError::new(RESOURCE_NOT_FOUND, format!("resource not found: {}", p.uri));
        e.data = Some(json!({ "uri": p.uri }));
        e
    };
    let prefix = format!("dbmcp://{}/tables/", ctx.service.name);
    let name = p.uri.strip_prefix(&prefix).and_then(percent_decode).ok_or_else(not_found)?;
    let schema = schema_or_error(ctx).await?;
    let table = schema.tables.iter().find(|t| t.name == name).ok_or_else(not_found)?;
    let mut body = serde_json::to_value(table).map_err(|e| RpcError::internal(e.to_string()))?;
    body["relationships"] = json!(relations_of(&schema, table));
    Ok(json!({ "contents": [ {
        "uri": p.uri,
        "mimeType": "application/json",
        "text": body.to_string(),
    } ] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_any_table_name() {
        let uri = table_uri("demo", "order items/ü");
        assert_eq!(uri, "dbmcp://demo/tables/order%20items%2F%C3%BC");
        assert_eq!(percent_decode("order%20items%2F%C3%BC").unwrap(), "order items/ü");
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
    }
}

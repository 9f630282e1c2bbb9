//! The MCP tool catalog: one tool per file, each with its typed input, its schemas, its
//! annotations and its run function against the [`Database`] trait.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::config::ServiceConfig;
use crate::db::{Database, DbError};
use crate::schema::{Schema, Table};

mod aggregate_table_data;
mod call_stored_function;
mod call_stored_procedure;
pub mod confirm;
mod create_records;
pub mod custom;
mod delete_records;
pub mod fetch;
mod get_data_model;
mod get_database_resources;
mod get_stored_functions;
mod get_stored_procedures;
mod get_table_data;
mod get_table_fields;
mod get_table_relationships;
mod get_table_schema;
mod get_tables;
pub mod guard;
mod list_tools;
#[cfg(feature = "query-sql")]
pub mod query_sql;
mod related;
mod routines;
pub mod scrub;
mod search;
pub mod stored;
mod update_records;
pub mod values;

pub type ToolResult = Result<Json, ToolError>;

/// A failure the model can act on; it becomes an `isError` tool result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError(pub String);

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        ToolError(message.into())
    }

    /// The database could not be read at all (down, unreachable, refusing the catalog queries),
    /// as opposed to an error in one query, which may be the input's (a key of the wrong type).
    pub fn is_schema_unreadable(&self) -> bool {
        self.0.starts_with(SCHEMA_UNREADABLE)
    }
}

/// How a failure to read the schema (the database down or unreachable) starts.
pub const SCHEMA_UNREADABLE: &str = "could not read the database schema: ";

impl From<DbError> for ToolError {
    fn from(e: DbError) -> Self {
        ToolError(format!("database error: {e}"))
    }
}

impl From<crate::sql::SqlError> for ToolError {
    fn from(e: crate::sql::SqlError) -> Self {
        ToolError(e.message)
    }
}

impl From<crate::filter::FilterError> for ToolError {
    fn from(e: crate::filter::FilterError) -> Self {
        ToolError(e.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

pub type RunFn = for<'a> fn(&'a ToolContext<'a>, Json) -> LocalBoxFuture<'a, ToolResult>;

/// Everything the catalog knows about one tool.
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Write tools are neither listed nor run on read-only services or for read-only credentials.
    pub writes: bool,
    /// The result carries database content (rows, records, aggregates, routine results), which
    /// the text block marks as untrusted data (`untrusted_data_marking`). Schema-only tools: false.
    pub returns_data: bool,
    pub annotations: Annotations,
    pub input_schema: fn() -> Json,
    pub output_schema: fn() -> Json,
    pub run: RunFn,
}

/// Tools whose text block is exactly their JSON result, unfenced: OpenAI's connector contract
/// (ChatGPT deep research and company knowledge) parses the text of `search` and `fetch` as JSON,
/// so a fence would break them. Their `structuredContent` is the same object; every other tool
/// that returns data keeps the fence (`untrusted_data_marking`).
pub const PLAIN_JSON_TEXT: [&str; 2] = ["search", "fetch"];

impl ToolSpec {
    /// Whether the text block fences the result as untrusted data (when the service marks it).
    pub fn fences_text(&self) -> bool {
        self.returns_data && !PLAIN_JSON_TEXT.contains(&self.name)
    }

    /// The `Tool` object of `tools/list`.
    pub fn to_json(&self) -> Json {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": (self.input_schema)(),
            "outputSchema": (self.output_schema)(),
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.annotations.read_only,
                "destructiveHint": self.annotations.destructive,
                "idempotentHint": self.annotations.idempotent,
                "openWorldHint": false,
            },
        })
    }
}

/// The whole catalog, in the order `tools/list` shows it.
pub fn catalog() -> &'static [ToolSpec] {
    static CATALOG: &[ToolSpec] = &[
        get_data_model::SPEC,
        get_tables::SPEC,
        get_table_schema::SPEC,
        get_table_fields::SPEC,
        get_table_relationships::SPEC,
        get_table_data::SPEC,
        aggregate_table_data::SPEC,
        search::SPEC,
        fetch::SPEC,
        #[cfg(feature = "query-sql")]
        query_sql::SPEC,
        create_records::SPEC,
        update_records::SPEC,
        delete_records::SPEC,
        get_database_resources::SPEC,
        get_stored_procedures::SPEC,
        call_stored_procedure::SPEC,
        get_stored_functions::SPEC,
        call_stored_function::SPEC,
        list_tools::SPEC,
    ];
    CATALOG
}

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    catalog().iter().find(|t| t.name == name)
}

/// Tools a caller may see and call: write tools only when the service and the credential allow,
/// opt-in tools only when the service turns them on.
pub fn visible(service: &ServiceConfig, can_write: bool) -> impl Iterator<Item = &'static ToolSpec> + '_ {
    catalog().iter().filter(move |t| (can_write || !t.writes) && enabled(t, service))
}

/// The service's enabled custom tools, listed after the built-ins: those that write only when the
/// service and the credential may write, as for the built-in write tools.
pub fn custom_visible(service: &ServiceConfig, can_write: bool) -> impl Iterator<Item = &custom::CustomTool> + '_ {
    // Without the feature there are none (a configuration with `tools` is refused): the constant
    // lets the build drop their listing code.
    service.custom_tools.iter().filter(move |t| {
        cfg!(feature = "query-sql") && t.enabled && (t.write.is_none() || (can_write && !service.read_only))
    })
}

/// Whether the service offers this tool at all (`query_sql` only when configured).
pub fn enabled(spec: &ToolSpec, service: &ServiceConfig) -> bool {
    spec.name != "query_sql" || service.query_sql
}

/// Records one write call may carry.
pub const MAX_RECORDS_PER_WRITE: usize = 100;

/// How long a loaded schema is reused before it is read again.
pub const SCHEMA_TTL_MS: u64 = 30_000;

/// Schemas per service, reused across requests within one isolate for [`SCHEMA_TTL_MS`].
#[derive(Default)]
pub struct SchemaCache {
    entries: RefCell<HashMap<String, (u64, Rc<Schema>)>>,
}

impl SchemaCache {
    pub fn forget(&self, service: &str) {
        self.entries.borrow_mut().remove(service);
    }
}

pub struct ToolContext<'a> {
    pub db: &'a dyn Database,
    pub service: &'a ServiceConfig,
    pub schema_cache: &'a SchemaCache,
    pub now_ms: u64,
    /// Whether write tools may run (service writable and credential allows it).
    pub can_write: bool,
    /// Who is calling (`Principal::id`): confirmations are bound to it.
    pub principal: &'a str,
    /// Confirm-before-destroying: the store and the current call (see [`confirm`]).
    pub confirm: confirm::Confirm<'a>,
    /// The caller's identity and attributes, which fill the row policies (see [`crate::rows`]).
    pub caller: &'a crate::rows::Caller,
    /// `scheme://host[:port]` of the URLs tools emit (PUBLIC_ORIGIN when set, else the request's).
    pub origin: &'a str,
    /// Where rows written as JSON text wait for the response (see [`crate::raw_records`]); `None`
    /// keeps every result a value.
    pub raw_records: Option<&'a crate::raw_records::RawRecords>,
}

impl<'a> ToolContext<'a> {
    /// The service's schema as this caller may use it (hidden tables removed, row policies bound
    /// to the caller), from the cache when fresh.
    pub async fn schema(&self) -> Result<Rc<Schema>, ToolError> {
        let cached = self.schema_cache.entries.borrow().get(&self.service.name).and_then(|(loaded_at, schema)| {
            (self.now_ms.saturating_sub(*loaded_at) < SCHEMA_TTL_MS).then(|| schema.clone())
        });
        let shared = match cached {
            Some(schema) => schema,
            None => {
                let loaded = crate::introspect::load_schema(self.db)
                    .await
                    .map_err(|e| ToolError(format!("{SCHEMA_UNREADABLE}{e}")))?;
                // Views over a table with a row policy would hand out every row: hidden with it.
                let mut hidden = self.service.hidden_tables.clone();
                hidden.extend(crate::rows::views_to_hide(&loaded, &self.service.rows));
                let schema = loaded.without(&hidden, &self.service.routines);
                let schema = crate::columns::apply(schema, &self.service.columns).map_err(ToolError)?;
                let schema = crate::rows::apply(schema, &self.service.rows).map_err(ToolError)?;
                let schema = Rc::new(schema);
                self.schema_cache.entries.borrow_mut().insert(self.service.name.clone(), (self.now_ms, schema.clone()));
                schema
            }
        };
        if self.service.rows.is_empty() {
            return Ok(shared);
        }
        Ok(Rc::new(crate::rows::bind(&shared, self.caller)))
    }

    /// Names no message may show: the configured hidden tables and columns and, once the schema
    /// is known, the views hidden with them. Reads the schema when it is not cached; never fails.
    pub async fn hidden_names(&self) -> Vec<String> {
        let hidden_columns = self.service.columns.values().flat_map(|rules| rules.hidden.iter().cloned());
        // Row policies hide the views over their tables, so they count too.
        if self.service.hidden_tables.is_empty()
            && self.service.rows.is_empty()
            && self.service.columns.values().all(|r| r.hidden.is_empty())
        {
            return vec![];
        }
        match self.schema().await {
            Ok(schema) => schema.hidden_names.clone(),
            Err(_) => self.service.hidden_tables.iter().cloned().chain(hidden_columns).collect(),
        }
    }

    /// Looks a table up by the name the model gave, with a message listing the real ones.
    pub async fn table(&self, name: &str) -> Result<(Rc<Schema>, usize), ToolError> {
        let schema = self.schema().await?;
        match schema
            .tables
            .iter()
            .position(|t| t.name == name)
            .or_else(|| schema.tables.iter().position(|t| t.name.eq_ignore_ascii_case(name)))
        {
            Some(index) => Ok((schema, index)),
            None => Err(unknown_table(&schema, name)),
        }
    }
}

pub fn unknown_table(schema: &Schema, name: &str) -> ToolError {
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    ToolError(format!("unknown table {name:?}; tables are: {}", names.join(", ")))
}

/// Deserializes a tool's arguments, turning serde's message into one a model can act on.
pub fn parse_args<T: DeserializeOwned>(args: Json) -> Result<T, ToolError> {
    let args = if args.is_null() { json!({}) } else { args };
    serde_json::from_value(args).map_err(|e| ToolError(format!("invalid arguments: {e}")))
}

/// The one string argument of a tool taking only `name` (`search`, `fetch`), with the messages
/// `parse_args` gives; read by hand, as a serde derive per one-field input costs wasm size.
pub fn only_string_arg(args: &Json, name: &str) -> Result<String, ToolError> {
    let invalid = |why: String| ToolError(format!("invalid arguments: {why}"));
    let empty = Map::new();
    let map = match args {
        Json::Null => &empty,
        Json::Object(map) => map,
        other => return Err(invalid(format!("expected an object with `{name}`, got {other}"))),
    };
    if let Some(unknown) = map.keys().find(|k| *k != name) {
        return Err(invalid(format!("unknown field `{unknown}`, expected `{name}`")));
    }
    match map.get(name) {
        Some(Json::String(value)) => Ok(value.clone()),
        Some(other) => Err(invalid(format!("`{name}` must be a string, got {other}"))),
        None => Err(invalid(format!("missing field `{name}`"))),
    }
}

/// A list given either as a JSON array or as one comma-separated string ("id, name").
// Both lists are read from a JSON value (`try_from`), not `#[serde(untagged)]`: serde buffers an
// untagged enum in its `Content` and tries each variant, code compiled for every input type.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Json")]
pub enum NameList {
    Many(Vec<String>),
    One(String),
}

impl TryFrom<Json> for NameList {
    type Error = String;
    fn try_from(value: Json) -> Result<Self, String> {
        match value {
            Json::String(s) => Ok(NameList::One(s)),
            Json::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Json::String(s) => Ok(s),
                    other => Err(format!("expected a name (a string), found {other}")),
                })
                .collect::<Result<_, _>>()
                .map(NameList::Many),
            other => Err(format!("expected an array of names or a comma-separated string, found {other}")),
        }
    }
}

impl NameList {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            NameList::Many(v) => v.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            NameList::One(s) => s.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        }
    }
}

/// Ids given either as a JSON array or as one comma-separated string ("1,2,3").
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Json")]
pub enum IdList {
    Many(Vec<Json>),
    One(String),
    Single(i64),
}

impl TryFrom<Json> for IdList {
    type Error = String;
    fn try_from(value: Json) -> Result<Self, String> {
        match value {
            Json::Array(items) => Ok(IdList::Many(items)),
            Json::String(s) => Ok(IdList::One(s)),
            Json::Number(n) if n.as_i64().is_some() => Ok(IdList::Single(n.as_i64().unwrap_or_default())),
            other => Err(format!("expected an array of ids, a comma-separated string or an integer, found {other}")),
        }
    }
}

impl IdList {
    pub fn into_vec(self) -> Vec<Json> {
        match self {
            IdList::Many(v) => v,
            IdList::Single(n) => vec![json!(n)],
            IdList::One(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| match s.parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) => json!(s),
                })
                .collect(),
        }
    }
}

/// The row count of every table, in schema order, in one batch; `None`s when not asked for.
pub async fn row_counts(ctx: &ToolContext<'_>, schema: &Schema, wanted: bool) -> Result<Vec<Option<Json>>, ToolError> {
    if !wanted || schema.tables.is_empty() {
        return Ok(vec![None; schema.tables.len()]);
    }
    let dialect = ctx.db.dialect();
    // A table the caller may not read (row policy lacking an attribute) has no count.
    let readable: Vec<&Table> = schema.tables.iter().filter(|t| !t.rows.is_denied()).collect();
    if readable.is_empty() {
        return Ok(vec![None; schema.tables.len()]);
    }
    let statements: Vec<crate::db::Statement> =
        readable.iter().map(|t| crate::sql::count(dialect, t, &Default::default())).collect::<Result<_, _>>()?;
    let mut results = ctx.db.batch(&statements).await?.into_iter();
    Ok(schema
        .tables
        .iter()
        .map(|t| if t.rows.is_denied() { None } else { results.next() })
        .map(|r| {
            let r = r?;
            r.rows.first().and_then(|row| row.first()).cloned().map(|count| match count {
                // A count always fits a JSON integer, whatever text form the engine used.
                Json::String(s) => s.parse::<u64>().map(Json::from).unwrap_or(Json::String(s)),
                other => other,
            })
        })
        .collect())
}

/// Serde default for options that are on unless turned off.
pub(crate) fn default_true() -> bool {
    true
}

/// Parses an optional filter; a blank one means no filter.
pub fn parse_filter(filter: Option<&str>) -> Result<Option<crate::filter::Expr>, ToolError> {
    match filter.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => Ok(Some(crate::filter::parse(text)?)),
    }
}

/// Input schema fragment for a table argument.
pub fn table_param() -> Json {
    json!({ "type": "string", "description": "Table or view name, as listed by get_tables." })
}

/// The schema of a plain object result.
pub fn object_schema(properties: Json, required: &[&str]) -> Json {
    json!({ "type": "object", "properties": properties, "required": required })
}

pub fn table_ref(schema: &Schema, index: usize) -> &Table {
    &schema.tables[index]
}

#[cfg(test)]
mod list_tests {
    use super::*;

    #[derive(Deserialize)]
    struct Args {
        names: Option<NameList>,
        ids: Option<IdList>,
    }

    fn parse(args: Json) -> Result<Args, ToolError> {
        parse_args(args)
    }

    #[test]
    fn name_and_id_lists_take_every_documented_form() {
        let a = parse(json!({ "names": ["a", " b "], "ids": [1, "x"] })).unwrap();
        assert_eq!(a.names.unwrap().into_vec(), vec!["a", "b"]);
        assert_eq!(a.ids.unwrap().into_vec(), vec![json!(1), json!("x")]);
        let a = parse(json!({ "names": "a, b,", "ids": "1, x" })).unwrap();
        assert_eq!(a.names.unwrap().into_vec(), vec!["a", "b"]);
        assert_eq!(a.ids.unwrap().into_vec(), vec![json!(1), json!("x")]);
        let a = parse(json!({ "ids": -7 })).unwrap();
        assert!(a.names.is_none());
        assert_eq!(a.ids.unwrap().into_vec(), vec![json!(-7)]);
        let a = parse(json!({ "names": null })).unwrap();
        assert!(a.names.is_none() && a.ids.is_none());
    }

    #[test]
    fn name_and_id_lists_refuse_other_shapes() {
        for (args, expected) in [
            (json!({ "names": 3 }), "expected an array of names or a comma-separated string, found 3"),
            (json!({ "names": ["a", 1] }), "expected a name (a string), found 1"),
            (json!({ "ids": 1.5 }), "expected an array of ids, a comma-separated string or an integer, found 1.5"),
            (json!({ "ids": { "id": 1 } }), "found {\"id\":1}"),
        ] {
            let error = parse(args.clone()).err().unwrap_or_else(|| panic!("{args} was accepted"));
            assert!(error.0.starts_with("invalid arguments: "), "{}", error.0);
            assert!(error.0.contains(expected), "{args}: {}", error.0);
        }
    }
}

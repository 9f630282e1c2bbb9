//! What the `search` and `fetch` tools share (OpenAI's contract for ChatGPT connectors, deep
//! research and company knowledge): the per-service `search` setting, the query's terms, the
//! record ids (`<table>:<key>`), which columns a table is searched in and titled by, ranking, and
//! the record's URL and text. No I/O here; the tools and the record page run the queries.

use serde_json::{Map, Value as Json};

use crate::schema::{Schema, Table};
use crate::sql::affinity::{affinity, Affinity};
use crate::sql::Dialect;

/// Characters of a query that are used; the rest is ignored (a model may paste a paragraph).
pub const MAX_QUERY_CHARS: usize = 500;
/// Words of a query that are matched.
pub const MAX_TERMS: usize = 8;
/// Term-and-column conditions in one table's query (each a bound value; D1 allows 100 per
/// statement, and the LIMIT is one more).
pub const MAX_CONDITIONS: usize = 90;
pub const DEFAULT_MAX_RESULTS: u64 = 20;
/// Matching rows read per table (by primary key order) and ranked: a few times the results
/// given, so the best of them can come from anywhere in those rows, bounded for D1's limits.
pub fn rows_per_table(max_results: u64) -> u64 {
    (max_results * 5).clamp(50, 500)
}
pub const HARD_MAX_RESULTS: u64 = 100;
/// Characters of a title; longer text is cut with `…`.
const MAX_TITLE_CHARS: usize = 200;

/// One table's `search.tables.<name>` entry, names as configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableSearch {
    /// Columns searched; `None`: the table's text columns.
    pub columns: Option<Vec<String>>,
    /// Column whose value titles a result; `None`: the first searched column.
    pub title: Option<String>,
}

/// The `search` setting of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// Tables searched, by configured name, in configuration order; `None`: every visible table
    /// with a primary key. (A list, not a map: no map code for one more value type in the wasm.)
    pub tables: Option<Vec<(String, TableSearch)>>,
    /// Results one search returns at most (and rows read per table).
    pub max_results: u64,
    /// PostgreSQL's text search configuration (`search.language`); `None`: [`DEFAULT_LANGUAGE`].
    pub language: Option<String>,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings { tables: None, max_results: DEFAULT_MAX_RESULTS, language: None }
    }
}

impl SearchSettings {
    /// The text search configuration PostgreSQL's full-text search uses.
    pub fn language(&self) -> &str {
        self.language.as_deref().unwrap_or(DEFAULT_LANGUAGE)
    }
}

/// No stemming, no stop words: words match as written (ignoring case), in any language.
pub const DEFAULT_LANGUAGE: &str = "simple";

/// The text search configurations PostgreSQL ships (`SELECT cfgname FROM pg_ts_config` on 18).
/// Only these are accepted, so the setting cannot name something an operator did not mean;
/// the value is bound as a parameter all the same (`$n::regconfig`).
pub const LANGUAGES: &[&str] = &[
    "simple",
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "danish",
    "dutch",
    "english",
    "estonian",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
];

/// Parses `search = { tables = { orders = { columns = [...], title = "..." } }, max_results = 20,
/// language = "english" }`;
/// problems carry their path below `search`.
pub fn parse_settings(value: &Json) -> Result<SearchSettings, Vec<String>> {
    let mut errors = Vec::new();
    let mut settings = SearchSettings::default();
    let Some(map) = value.as_object() else {
        return Err(vec![format!(
            "search: must be a table, e.g. {{ tables = {{ orders = {{ columns = [\"note\"] }} }}, max_results = 20 }}, got {value}"
        )]);
    };
    for (key, value) in map {
        match key.as_str() {
            "max_results" => match value.as_u64() {
                Some(n) if (1..=HARD_MAX_RESULTS).contains(&n) => settings.max_results = n,
                _ => errors.push(format!("search.max_results: must be between 1 and {HARD_MAX_RESULTS}, got {value}")),
            },
            "language" => match value.as_str().filter(|l| LANGUAGES.contains(l)) {
                Some(language) => settings.language = Some(language.to_string()),
                None => errors.push(format!(
                    "search.language: must be one of PostgreSQL's text search configurations ({}), got {value}",
                    LANGUAGES.join(", ")
                )),
            },
            "tables" => match value.as_object() {
                Some(tables) => {
                    let mut parsed = Vec::with_capacity(tables.len());
                    for (table, entry) in tables {
                        if let Some(entry) = parse_table(table, entry, &mut errors) {
                            parsed.push((table.clone(), entry));
                        }
                    }
                    settings.tables = Some(parsed);
                }
                None => errors.push(format!("search.tables: must be a table of tables, got {value}")),
            },
            other => {
                errors.push(format!("search: unknown field {other:?}; the fields are tables, max_results and language"))
            }
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

fn parse_table(table: &str, entry: &Json, errors: &mut Vec<String>) -> Option<TableSearch> {
    let Some(map) = entry.as_object() else {
        errors.push(format!("search.tables.{table}: must be a table with columns and/or title, got {entry}"));
        return None;
    };
    let mut out = TableSearch::default();
    for (key, value) in map {
        match key.as_str() {
            "columns" => {
                let names: Option<Vec<String>> = value.as_array().and_then(|items| {
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::trim).filter(|s| !s.is_empty()).map(String::from))
                        .collect()
                });
                match names {
                    Some(names) if !names.is_empty() => out.columns = Some(names),
                    _ => errors.push(format!(
                        "search.tables.{table}.columns: must be a non-empty list of column names, got {value}"
                    )),
                }
            }
            "title" => match value.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                Some(name) => out.title = Some(name.to_string()),
                None => errors.push(format!("search.tables.{table}.title: must be a column name, got {value}")),
            },
            other => {
                errors.push(format!("search.tables.{table}: unknown field {other:?}; the fields are columns and title"))
            }
        }
    }
    Some(out)
}

/// The words of a query: the first [`MAX_QUERY_CHARS`] characters split at white space, outer
/// double quotes dropped, repeats (ignoring case) removed, at most [`MAX_TERMS`].
pub fn terms(query: &str) -> Result<Vec<String>, String> {
    let capped: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let mut out: Vec<String> = Vec::new();
    for word in capped.split_whitespace() {
        let word = word.trim_matches('"');
        if word.is_empty() || out.iter().any(|t| t.eq_ignore_ascii_case(word)) {
            continue;
        }
        out.push(word.to_string());
        if out.len() == MAX_TERMS {
            break;
        }
    }
    if out.is_empty() {
        return Err("query is empty: give one or more words to search for".into());
    }
    Ok(out)
}

/// Whether a column holds text that search matches: TEXT/CHAR/CLOB on SQLite, text and
/// character types (not arrays) on PostgreSQL.
pub fn is_text_column(d: Dialect, data_type: &str) -> bool {
    match d {
        Dialect::Sqlite => affinity(d, data_type) == Affinity::Text,
        Dialect::Postgres => crate::sql::is_text_type(data_type),
    }
}

/// How one table is searched: the columns matched and the column titling its results.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub table: usize,
    pub columns: Vec<String>,
    pub title: Option<String>,
}

/// Finds a configured table among the visible ones (exact, then ignoring ASCII case).
fn find_table(schema: &Schema, name: &str) -> Option<usize> {
    schema
        .tables
        .iter()
        .position(|t| t.name == name)
        .or_else(|| schema.tables.iter().position(|t| t.name.eq_ignore_ascii_case(name)))
}

fn find_column(table: &Table, name: &str) -> Option<String> {
    table
        .column(name)
        .or_else(|| table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
        .map(|c| c.name.clone())
}

/// Whether a table's records have ids: a primary key, none of its columns masked (an id would
/// show the value the mask hides).
pub fn addressable(table: &Table) -> Result<(), String> {
    let keys = table.primary_key();
    if keys.is_empty() {
        return Err("the table has no primary key, so its records have no id".into());
    }
    match keys.iter().find(|k| table.policy.is_masked(&k.name)) {
        Some(k) => Err(format!("its primary key column {:?} is masked, so its records have no id", k.name)),
        None => Ok(()),
    }
}

/// The default plan of a table: its unmasked text columns, titled by the first of them.
fn default_plan(d: Dialect, index: usize, table: &Table) -> TablePlan {
    let columns: Vec<String> = table
        .columns
        .iter()
        .filter(|c| is_text_column(d, &c.data_type) && !table.policy.is_masked(&c.name))
        .map(|c| c.name.clone())
        .collect();
    TablePlan { table: index, title: columns.first().cloned(), columns }
}

/// The plan for every table searched. A configured table, column or title the schema does not
/// show (absent, hidden, or a masked column to search in) is an error naming it, so a typo never
/// silently searches nothing. Tables without a primary key are not searched (no record id).
pub fn plans(d: Dialect, schema: &Schema, settings: &SearchSettings) -> Result<Vec<TablePlan>, String> {
    let Some(configured) = &settings.tables else {
        return Ok(schema
            .tables
            .iter()
            .enumerate()
            .filter(|(_, t)| addressable(t).is_ok())
            .map(|(i, t)| default_plan(d, i, t))
            .filter(|p| !p.columns.is_empty())
            .collect());
    };
    // Indexed by table, so the plans come out in schema order without a sort.
    let mut by_table: Vec<Option<TablePlan>> = vec![None; schema.tables.len()];
    let mut problems = Vec::new();
    for (name, entry) in configured {
        let Some(index) = find_table(schema, name) else {
            problems.push(format!("search.tables names {name:?}, which is not a table of this service"));
            continue;
        };
        let table = &schema.tables[index];
        if let Err(why) = addressable(table) {
            problems.push(format!("search.tables.{name}: {why}"));
            continue;
        }
        let mut plan = default_plan(d, index, table);
        if let Some(columns) = &entry.columns {
            plan.columns.clear();
            for column in columns {
                match find_column(table, column) {
                    Some(real) if table.policy.is_masked(&real) => problems
                        .push(format!("search.tables.{name}.columns: {column:?} is masked and cannot be searched")),
                    Some(real) => plan.columns.push(real),
                    None => problems.push(format!("search.tables.{name}.columns: no column {column:?}")),
                }
            }
            plan.title = plan.columns.first().cloned();
        }
        if let Some(title) = &entry.title {
            match find_column(table, title) {
                Some(real) => plan.title = Some(real),
                None => problems.push(format!("search.tables.{name}.title: no column {title:?}")),
            }
        }
        by_table[index] = Some(plan);
    }
    if !problems.is_empty() {
        return Err(format!(
            "this service's search setting names what it cannot use: {}. Fix the configuration",
            problems.join("; ")
        ));
    }
    Ok(by_table.into_iter().flatten().collect())
}

/// The title column of one table for `fetch` (the same as `search` gives its results).
pub fn title_column(d: Dialect, schema: &Schema, settings: &SearchSettings, index: usize) -> Option<String> {
    let table = &schema.tables[index];
    let configured = settings.tables.as_ref().and_then(|tables| {
        tables.iter().find(|(name, _)| find_table(schema, name) == Some(index)).map(|(_, entry)| entry)
    });
    if let Some(title) = configured.and_then(|e| e.title.as_deref()).and_then(|t| find_column(table, t)) {
        return Some(title);
    }
    if let Some(first) = configured.and_then(|e| e.columns.as_ref()).and_then(|c| c.first()) {
        return find_column(table, first);
    }
    default_plan(d, index, table).title
}

/// How many terms one table's query may use: every (term, column) pair is one condition.
pub fn terms_for(columns: usize, terms: usize) -> usize {
    (MAX_CONDITIONS / columns.max(1)).clamp(1, terms)
}

/// A value as a person reads it: text as is, NULL as `null`, anything else as JSON.
pub fn display(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// (terms matched, term-column pairs matched) of one row: the ranking, best first by terms.
pub fn score(record: &Map<String, Json>, columns: &[String], terms: &[String]) -> (usize, usize) {
    let texts: Vec<String> = columns
        .iter()
        .filter_map(|c| record.get(c))
        .filter(|v| !v.is_null())
        .map(|v| display(v).to_ascii_lowercase())
        .collect();
    let mut matched_terms = 0;
    let mut pairs = 0;
    for term in terms {
        let term = term.to_ascii_lowercase();
        let hits = texts.iter().filter(|t| t.contains(&term)).count();
        pairs += hits;
        matched_terms += usize::from(hits > 0);
    }
    (matched_terms, pairs)
}

/// The key part of a record id: the value of a one-column key as text, a JSON array of the
/// values (in key order) for a composite key.
pub fn key_text(table: &Table, record: &Map<String, Json>) -> String {
    let keys = table.primary_key();
    match keys.as_slice() {
        [one] => display(record.get(&one.name).unwrap_or(&Json::Null)),
        many => {
            Json::Array(many.iter().map(|k| record.get(&k.name).cloned().unwrap_or(Json::Null)).collect()).to_string()
        }
    }
}

pub fn record_id(table: &Table, key: &str) -> String {
    format!("{}:{key}", table.name)
}

/// Splits an id into the table it names and the key text. Table names may hold `:` (quoted
/// PostgreSQL names), so the longest visible table name followed by `:` wins.
pub fn split_id<'i>(schema: &Schema, id: &'i str) -> Result<(usize, &'i str), String> {
    let found = schema
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| id.len() > t.name.len() && id.starts_with(&t.name) && id[t.name.len()..].starts_with(':'))
        .max_by_key(|(_, t)| t.name.len());
    match found {
        Some((index, t)) => Ok((index, &id[t.name.len() + 1..])),
        None => match id.split_once(':') {
            Some((table, _)) => {
                let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
                Err(format!("unknown table {table:?} in id {id:?}; tables are: {}", names.join(", ")))
            }
            None => {
                Err(format!("invalid id {id:?}: ids are <table>:<primary key>, e.g. orders:17, as search returns them"))
            }
        },
    }
}

/// The key values (one per primary key column, in order) of a key text, typed for the columns:
/// integers for integer keys. Composite keys are a JSON array: `order_lines:[17,2]`.
pub fn parse_key(d: Dialect, table: &Table, key: &str) -> Result<Vec<Json>, String> {
    let keys = table.primary_key();
    if key.is_empty() {
        return Err(format!("the id has no key after \"{}:\"", table.name));
    }
    let texts: Vec<Json> = match keys.as_slice() {
        [] => return Err(format!("table \"{}\" has no primary key, so its records cannot be fetched", table.name)),
        [_] => vec![Json::String(key.to_string())],
        many => {
            let names: Vec<&str> = many.iter().map(|k| k.name.as_str()).collect();
            let wrong = || {
                format!(
                    "table \"{}\" has a composite primary key ({}): give the key as a JSON array of {} values, e.g. {}:[1,2]",
                    table.name,
                    names.join(", "),
                    many.len(),
                    table.name
                )
            };
            let values = match serde_json::from_str::<Json>(key) {
                Ok(Json::Array(values)) => values,
                _ => return Err(wrong()),
            };
            if values.len() != many.len() || values.iter().any(|v| v.is_null() || v.is_array() || v.is_object()) {
                return Err(wrong());
            }
            values
        }
    };
    keys.iter()
        .zip(texts)
        .map(|(column, value)| match (affinity(d, &column.data_type), &value) {
            (Affinity::Integer, Json::String(s)) => s.parse::<i64>().map(Json::from).map_err(|_| {
                format!("the key of table \"{}\" ({}) is an integer; {s:?} is not one", table.name, column.name)
            }),
            _ => Ok(value),
        })
        .collect()
}

/// `<origin>/mcp/<service>/records/<table>/<key>`, both parts percent-encoded.
pub fn record_url(origin: &str, service: &str, table: &str, key: &str) -> String {
    use crate::mcp::resources::percent_encode;
    format!("{origin}/mcp/{service}/records/{}/{}", percent_encode(table), percent_encode(key))
}

/// A title from a column's value, or `<table> #<key>` when there is none.
pub fn title(table: &Table, key: &str, value: Option<&Json>) -> String {
    match value.map(display).map(|t| t.trim().to_string()).filter(|t| !t.is_empty() && t != "null") {
        Some(text) if text.chars().count() > MAX_TITLE_CHARS => {
            let cut: String = text.chars().take(MAX_TITLE_CHARS).collect();
            format!("{cut}…")
        }
        Some(text) => text,
        None => format!("{} #{key}", table.name),
    }
}

/// The record as readable lines, `column: value`.
pub fn record_text(record: &Map<String, Json>) -> String {
    record.iter().map(|(column, value)| format!("{column}: {}", display(value))).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terms_are_capped_deduplicated_and_never_empty() {
        assert_eq!(terms("  Paid  \"shipped\" paid PAID ").unwrap(), vec!["Paid", "shipped"]);
        assert!(terms("   \"\"  ").unwrap_err().contains("query is empty"));
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&many).unwrap().len(), MAX_TERMS);
        let long = format!("{} tail", "x".repeat(MAX_QUERY_CHARS));
        assert_eq!(terms(&long).unwrap(), vec!["x".repeat(MAX_QUERY_CHARS)], "text beyond the cap is ignored");
        assert_eq!(terms("100% a_b c\\d O'Brien").unwrap(), vec!["100%", "a_b", "c\\d", "O'Brien"]);
        // Repeats are judged as SQLite's LIKE judges them: ASCII case only.
        assert_eq!(terms("Łódź ŁÓDŹ łódź Lodz LODZ").unwrap(), vec!["Łódź", "ŁÓDŹ", "łódź", "Lodz"]);
    }

    #[test]
    fn settings_parse_and_report_with_paths() {
        let s = parse_settings(
            &json!({ "tables": { "orders": { "columns": ["status"], "title": "status" } }, "max_results": 5 }),
        )
        .unwrap();
        assert_eq!(s.max_results, 5);
        assert_eq!(
            s.tables.unwrap()[0].1,
            TableSearch { columns: Some(vec!["status".into()]), title: Some("status".into()) }
        );
        let errors = parse_settings(&json!({
            "max_results": 0, "tables": { "a": { "columns": [] }, "b": { "title": 3 }, "c": { "colums": ["x"] } }, "x": 1
        }))
        .unwrap_err()
        .join("\n");
        for expected in [
            "search.max_results: must be between 1 and 100, got 0",
            "search.tables.a.columns: must be a non-empty list",
            "search.tables.b.title: must be a column name",
            "search.tables.c: unknown field \"colums\"",
            "search: unknown field \"x\"",
        ] {
            assert!(errors.contains(expected), "{expected}\n{errors}");
        }
        assert!(parse_settings(&json!([1])).unwrap_err()[0].starts_with("search: must be a table"));
    }

    #[test]
    fn scores_count_terms_then_pairs_ignoring_case() {
        let record = json!({ "a": "Paid by Card", "b": "card ok", "c": null }).as_object().cloned().unwrap();
        let columns = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(score(&record, &columns, &["CARD".into(), "paid".into(), "none".into()]), (2, 3));
        assert_eq!(score(&record, &columns, &["null".into()]), (0, 0), "NULL matches nothing");
        // Case is ignored as SQLite's LIKE (which chose the rows) ignores it: ASCII letters only.
        let city = json!({ "a": "ŁÓDŹ", "b": "Lodz" }).as_object().cloned().unwrap();
        let columns = vec!["a".to_string(), "b".to_string()];
        assert_eq!(score(&city, &columns, &["łódź".into(), "LODZ".into()]), (1, 1));
        assert_eq!(score(&city, &columns, &["ŁÓDŹ".into()]), (1, 1));
    }

    #[test]
    fn terms_per_table_keep_conditions_under_the_parameter_limit() {
        assert_eq!(terms_for(3, 8), 8);
        assert_eq!(terms_for(20, 8), 4);
        assert_eq!(terms_for(200, 8), 1);
        assert!(terms_for(12, 8) * 12 <= MAX_CONDITIONS);
    }

    #[test]
    fn record_urls_encode_both_parts() {
        assert_eq!(
            record_url("https://db.example.com", "demo", "we ird", "[1,\"a/b\"]"),
            "https://db.example.com/mcp/demo/records/we%20ird/%5B1%2C%22a%2Fb%22%5D"
        );
    }
}

#[cfg(test)]
mod sql_tests {
    use super::*;
    use crate::filter::{Expr, TextMatch};
    use crate::schema::{Column, TableKind};
    use crate::sql::{select, RowFilter, SelectSpec};

    fn column(name: &str, data_type: &str, primary_key: u32) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
            primary_key,
            comment: None,
            auto_increment: false,
        }
    }

    fn table() -> Table {
        Table {
            schema: None,
            name: "t".into(),
            kind: TableKind::Table,
            columns: vec![column("id", "integer", 1), column("a LIKE b", "text", 0), column("n", "integer", 0)],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        }
    }

    fn any_case(column: &str) -> SelectSpec {
        let text = Expr::Text { column: column.into(), mode: TextMatch::ContainsAnyCase, text: "50%_\\".into() };
        SelectSpec {
            fields: Some(vec!["id".into()]),
            rows: RowFilter { filter: Some(text), ..Default::default() },
            ..Default::default()
        }
    }

    #[test]
    fn ignoring_case_is_ilike_on_postgres_and_like_on_sqlite_with_the_text_escaped_and_bound() {
        let pg = select(Dialect::Postgres, &table(), &any_case("a LIKE b")).unwrap();
        assert_eq!(pg.sql, "SELECT \"id\" FROM \"t\" WHERE \"a LIKE b\" ILIKE $1 ESCAPE '\\'");
        assert_eq!(pg.params, vec![crate::db::SqlValue::Text("%50\\%\\_\\\\%".into())]);
        let cast = select(Dialect::Postgres, &table(), &any_case("n")).unwrap();
        assert!(cast.sql.ends_with("WHERE CAST(\"n\" AS TEXT) ILIKE $1 ESCAPE '\\'"), "{}", cast.sql);
        let lite = select(Dialect::Sqlite, &table(), &any_case("a LIKE b")).unwrap();
        assert!(lite.sql.ends_with("WHERE \"a LIKE b\" LIKE ?1 ESCAPE '\\'"), "{}", lite.sql);
    }

    fn full_text(words: &[&str]) -> SelectSpec {
        let text = Expr::FullText {
            columns: vec!["a LIKE b".into(), "n".into()],
            language: "english".into(),
            words: words.iter().map(|w| w.to_string()).collect(),
        };
        SelectSpec {
            fields: Some(vec!["id".into()]),
            rows: RowFilter { filter: Some(text), ..Default::default() },
            order: vec![crate::sql::OrderBy { column: "id".into(), direction: crate::sql::Direction::Asc }],
            limit: Some(50),
            offset: 0,
        }
    }

    #[test]
    fn full_text_on_postgres_binds_the_language_and_each_word_quoted_as_a_prefix() {
        use crate::db::SqlValue::{Integer, Text};
        let pg = crate::sql::select_ranked(
            Dialect::Postgres,
            &table(),
            &full_text(&["ship", "a&!b|c:*", "O'Br\\ien"]),
            "search_rank",
        )
        .unwrap();
        let document = "to_tsvector($1::regconfig, concat_ws(' ', \"a LIKE b\", \"n\"))";
        let query = "(to_tsquery($1::regconfig, $2) || to_tsquery($1::regconfig, $3) || to_tsquery($1::regconfig, $4))";
        assert_eq!(
            pg.sql,
            format!(
                "SELECT \"id\", ts_rank({document}, {query}, 1) AS \"search_rank\" FROM \"t\" WHERE {document} @@ {query} \
                 ORDER BY \"search_rank\" DESC, \"t\".\"id\" ASC LIMIT $5"
            )
        );
        assert_eq!(
            pg.params,
            vec![
                Text("english".into()),
                Text("'ship':*".into()),
                Text("'a&!b|c:*':*".into()),
                Text("'O''Br\\\\ien':*".into()),
                Integer(50)
            ],
            "operators stay inside the quoted word; quotes and backslashes are escaped"
        );
    }

    #[test]
    fn full_text_keeps_the_row_policy_and_refuses_masked_columns_and_sqlite() {
        let mut t = table();
        t.rows = crate::rows::RowAccess::Bound { text: "n = 7".into(), expr: crate::filter::parse("n = 7").unwrap() };
        let pg = crate::sql::select_ranked(Dialect::Postgres, &t, &full_text(&["x"]), "search_rank").unwrap();
        assert!(pg.sql.contains(" WHERE \"n\" = $1 AND to_tsvector($2::regconfig"), "{}", pg.sql);
        assert_eq!(pg.params[0], crate::db::SqlValue::Integer(7));
        let err = crate::sql::select_ranked(Dialect::Sqlite, &table(), &full_text(&["x"]), "search_rank").unwrap_err();
        assert!(err.message.contains("only built for PostgreSQL"), "{err}");
        assert!(select(Dialect::Sqlite, &table(), &full_text(&["x"])).is_err(), "SQLite never renders it");
        let clash = crate::sql::select_ranked(Dialect::Postgres, &table(), &full_text(&["x"]), "n").unwrap_err();
        assert!(clash.message.contains("is a column"), "{clash}");
        let mut masked = table();
        masked.policy.masked = vec![(
            "n".into(),
            crate::columns::Mask::Hash(crate::columns::MaskKey::derive(
                "a test mask secret of 32 characters or more",
                "s",
            )),
        )];
        let refused =
            crate::sql::select_ranked(Dialect::Postgres, &masked, &full_text(&["x"]), "search_rank").unwrap_err();
        assert!(refused.message.contains("column \"n\" of table \"t\" is masked"), "{refused}");
        let plain = crate::sql::select_ranked(Dialect::Postgres, &table(), &any_case("n"), "search_rank").unwrap_err();
        assert!(plain.message.contains("needs a full-text condition"), "{plain}");
    }

    #[test]
    fn keys_are_typed_for_their_columns_on_postgres_too() {
        let t = table();
        assert_eq!(parse_key(Dialect::Postgres, &t, "17").unwrap(), vec![serde_json::json!(17)]);
        assert!(parse_key(Dialect::Postgres, &t, "1.5").unwrap_err().contains("is an integer"));
        let schema = Schema { tables: vec![t], ..Default::default() };
        assert_eq!(split_id(&schema, "t:a:b").unwrap(), (0, "a:b"), "the key may hold a colon");
        assert!(split_id(&schema, "T:1").unwrap_err().contains("unknown table \"T\""), "ids name tables exactly");
        assert!(
            is_text_column(Dialect::Postgres, "character varying(20)") && !is_text_column(Dialect::Postgres, "text[]")
        );
        assert!(is_text_column(Dialect::Sqlite, "VARCHAR(10)") && !is_text_column(Dialect::Sqlite, "INTEGER"));
    }
}

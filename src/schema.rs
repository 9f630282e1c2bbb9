//! The database's real schema, read by introspection. Every identifier a client sends is checked
//! against this before it reaches the SQL builder.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::RoutinePolicy;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// Declared type as the engine reports it (e.g. `INTEGER`, `TEXT`, `numeric(10,2)`).
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    /// 1-based position in the primary key, 0 when not part of it.
    #[serde(skip_serializing_if = "is_zero")]
    pub primary_key: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether the engine fills the value when omitted (rowid alias, serial/identity, default).
    pub auto_increment: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    /// Columns of the referencing table.
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_update: Option<String>,
    pub on_delete: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    Table,
    View,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Schema (namespace) the table lives in; `None` for engines without one (SQLite's `main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The name clients use: bare for the default schema (`customers`), qualified elsewhere
    /// (`reporting.daily_sales`). The SQL builder quotes schema and table separately.
    pub name: String,
    pub kind: TableKind,
    pub columns: Vec<Column>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The service's masked and read-only columns of this table (its hidden ones are gone from
    /// `columns`); see [`crate::columns`].
    #[serde(skip)]
    pub policy: crate::columns::TablePolicy,
    /// The service's row policy of this table, bound to the caller by [`crate::rows::bind`].
    #[serde(skip)]
    pub rows: crate::rows::RowAccess,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Primary key columns in key order.
    pub fn primary_key(&self) -> Vec<&Column> {
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.primary_key > 0).collect();
        crate::sort::sort_by_key(&mut pk, |c| c.primary_key);
        pk
    }

    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

/// What a view (or a table derived from others: an SQLite virtual table and its shadow tables)
/// reads, for hiding what reads hidden tables. Never shown to clients.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewReads {
    /// Names of the tables and views it reads. SQLite: every identifier-like token of the view's
    /// SQL (a superset, on purpose). PostgreSQL: the relations its rewrite rule depends on.
    pub relations: Vec<String>,
    /// Stored routines it calls (PostgreSQL), by the name the routine tools use.
    pub routines: Vec<String>,
    /// It reads what it cannot name in advance (PostgreSQL: the statistics samples of
    /// `pg_stats`, the SQL text run by `query_to_xml`): hidden whenever any table is hidden.
    pub reads_any_table: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    /// Every view of the database by name, with what it reads; also other relations whose rows
    /// come from elsewhere (SQLite virtual tables and their shadow tables).
    #[serde(skip)]
    pub view_reads: BTreeMap<String, ViewReads>,
    /// Names [`Schema::without`] removed (configured hidden tables and the views that read them),
    /// which error messages must not name either.
    #[serde(skip)]
    pub hidden_names: Vec<String>,
}

impl Schema {
    /// Finds a table by the name a client gave: exact match first, then case-insensitive.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name == name)
            .or_else(|| self.tables.iter().find(|t| t.name.eq_ignore_ascii_case(name)))
    }

    /// Drops tables a service hides, and with them every view that reads one (transitively), or
    /// that calls a stored routine the service does not expose, or whose reads are unknown: such
    /// a view would hand out the hidden rows. Foreign keys pointing at hidden tables are dropped
    /// too so no hidden name leaks through relationships.
    pub fn without(mut self, hidden: &[String], routines: &RoutinePolicy) -> Schema {
        // `public.customers` (PostgreSQL) and `main.customers` (SQLite) name `customers`.
        let mut hidden: Vec<String> = hidden.to_vec();
        for name in hidden.clone() {
            for default_schema in ["public.", "main."] {
                let prefix = name.get(..default_schema.len());
                if prefix.is_some_and(|p| p.eq_ignore_ascii_case(default_schema)) && name.len() > default_schema.len() {
                    hidden.push(name[default_schema.len()..].to_string());
                }
            }
            // Quoted parts name what their plain spelling names: `"customers"`,
            // `public."customers"` and `"reporting"."secret"` are `customers` and
            // `reporting.secret` as the tools list them.
            let canonical = match parse_display_name(&name) {
                Some((Some(schema), bare)) if ["public", "main"].iter().any(|d| schema.eq_ignore_ascii_case(d)) => {
                    Some(display_name("public", &bare))
                }
                Some((Some(schema), bare)) => Some(display_name(&schema, &bare)),
                Some((None, bare)) => Some(display_name("public", &bare)),
                None => None,
            };
            if let Some(canonical) = canonical.filter(|c| !c.is_empty() && !hidden.contains(c)) {
                hidden.push(canonical);
            }
        }
        let is_hidden = |hidden: &[String], name: &str| hidden.iter().any(|h| h.eq_ignore_ascii_case(name));
        if !hidden.is_empty() {
            loop {
                let newly: Vec<String> = self
                    .tables
                    .iter()
                    .filter(|t| {
                        (t.kind == TableKind::View || self.view_reads.contains_key(&t.name))
                            && !is_hidden(&hidden, &t.name)
                    })
                    .filter(|t| match self.view_reads.get(&t.name) {
                        // A view whose reads are unknown could read anything.
                        None => true,
                        Some(reads) => {
                            reads.reads_any_table
                                || reads.relations.iter().any(|r| is_hidden(&hidden, r))
                                || reads.routines.iter().any(|r| !routines.allows(r))
                        }
                    })
                    .map(|t| t.name.clone())
                    .collect();
                if newly.is_empty() {
                    break;
                }
                hidden.extend(newly);
            }
        }
        self.tables.retain(|t| !is_hidden(&hidden, &t.name));
        for table in &mut self.tables {
            table.foreign_keys.retain(|fk| !is_hidden(&hidden, &fk.ref_table));
        }
        self.view_reads.retain(|name, _| !is_hidden(&hidden, name));
        self.hidden_names = hidden;
        self
    }
}

/// A name part that reads unambiguously without quotes in `schema.table`.
fn is_plain_part(part: &str) -> bool {
    !part.is_empty() && !part.contains('.') && !part.contains('"')
}

fn quote_part(part: &str) -> String {
    format!("\"{}\"", part.replace('"', "\"\""))
}

/// The name clients use for a table or routine of a schema-aware engine: bare in `public`,
/// `schema.table` elsewhere, and with the parts double-quoted whenever one holds a dot or a quote,
/// so schema `we.ird` table `t.x` (`"we.ird"."t.x"`) and public table `we.ird.t.x`
/// (`"we.ird.t.x"`) never share a name.
pub fn display_name(schema: &str, name: &str) -> String {
    match (schema == "public", is_plain_part(schema) && is_plain_part(name)) {
        (true, _) if is_plain_part(name) => name.to_string(),
        (true, _) => quote_part(name),
        (false, true) => format!("{schema}.{name}"),
        (false, false) => format!("{}.{}", quote_part(schema), quote_part(name)),
    }
}

/// Reads one part of a display name: a quoted part (doubled quotes inside) or text up to a dot.
fn read_part(text: &str) -> (String, &str) {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut part = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().is_some_and(|&(_, next)| next == '"') {
                    part.push('"');
                    chars.next();
                    continue;
                }
                return (part, &quoted[i + 1..]);
            }
            part.push(c);
        }
        return (part, "");
    }
    match text.find('.') {
        Some(dot) => (text[..dot].to_string(), &text[dot..]),
        None => (text.to_string(), ""),
    }
}

/// A name written as one or two parts (`x`, `"x"`, `s.x`, `"s"."x"`) with nothing left over.
fn parse_display_name(text: &str) -> Option<(Option<String>, String)> {
    let (first, rest) = read_part(text);
    if rest.is_empty() {
        return Some((None, first));
    }
    let (second, rest) = read_part(rest.strip_prefix('.')?);
    rest.is_empty().then_some((Some(first), second))
}

/// Splits a display name made by [`display_name`] back into schema and name; `None` when the
/// name is not qualified (a `public` object).
pub fn split_qualified_name(display: &str) -> Option<(String, String)> {
    let (first, rest) = read_part(display);
    let rest = rest.strip_prefix('.')?;
    let (second, _) = read_part(rest);
    Some((first, second))
}

/// The unqualified, unquoted object name inside a display name.
pub fn object_name(display: &str) -> String {
    match split_qualified_name(display) {
        Some((_, name)) => name,
        None => read_part(display).0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_unambiguous_and_round_trip() {
        let cases = [
            ("public", "customers", "customers"),
            ("reporting", "daily_sales", "reporting.daily_sales"),
            ("we.ird", "t.x", "\"we.ird\".\"t.x\""),
            ("public", "we.ird.t.x", "\"we.ird.t.x\""),
            ("we", "ird.t.x", "\"we\".\"ird.t.x\""),
            ("public", "a\"b", "\"a\"\"b\""),
            ("s\"q", "t", "\"s\"\"q\".\"t\""),
            ("Public", "x", "Public.x"),
        ];
        let mut seen = std::collections::HashSet::new();
        for (schema, name, display) in cases {
            assert_eq!(display_name(schema, name), display);
            assert!(seen.insert(display), "{display} given twice");
            assert_eq!(object_name(display), name, "{display}");
            match split_qualified_name(display) {
                Some((s, n)) => assert_eq!((s.as_str(), n.as_str()), (schema, name), "{display}"),
                None => assert_eq!(schema, "public", "{display}"),
            }
        }
    }

    fn view(name: &str) -> Table {
        Table {
            schema: None,
            name: name.into(),
            kind: TableKind::View,
            columns: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        }
    }

    fn reads(relations: &[&str], routines: &[&str]) -> ViewReads {
        ViewReads {
            relations: relations.iter().map(|s| s.to_string()).collect(),
            routines: routines.iter().map(|s| s.to_string()).collect(),
            reads_any_table: false,
        }
    }

    fn names(schema: &Schema) -> Vec<&str> {
        schema.tables.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn views_that_read_any_table_go_whenever_a_table_is_hidden() {
        let mut stats = reads(&["pg_catalog.pg_stats"], &[]);
        stats.reads_any_table = true;
        let schema = Schema {
            tables: vec![view("column_stats"), view("plain")],
            view_reads: [("column_stats".to_string(), stats), ("plain".to_string(), reads(&["orders"], &[]))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let hiding = schema.clone().without(&["customers".to_string()], &RoutinePolicy::All);
        assert_eq!(names(&hiding), vec!["plain"]);
        assert_eq!(names(&schema.without(&[], &RoutinePolicy::All)), vec!["column_stats", "plain"]);
    }

    #[test]
    fn hidden_names_with_quoted_parts_hide_the_table_they_name() {
        let table = |schema: &str, name: &str| Table {
            schema: Some(schema.into()),
            name: display_name(schema, name),
            kind: TableKind::Table,
            columns: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        };
        let schema = Schema {
            tables: vec![table("reporting", "secret"), table("we.ird", "t.x"), table("public", "open")],
            ..Default::default()
        };
        let visible = schema
            .without(&["\"reporting\".\"secret\"".to_string(), "\"we.ird\".\"t.x\"".to_string()], &RoutinePolicy::All);
        assert_eq!(names(&visible), vec!["open"]);
    }

    #[test]
    fn views_over_hidden_tables_are_hidden_transitively() {
        let mut customers = view("customers");
        customers.kind = TableKind::Table;
        let schema = Schema {
            tables: vec![customers, view("a"), view("b"), view("c"), view("d"), view("unknown")],
            view_reads: [
                ("a".to_string(), reads(&["CUSTOMERS"], &[])),
                ("b".to_string(), reads(&["a"], &[])),
                ("c".to_string(), reads(&["orders"], &["safe"])),
                ("d".to_string(), reads(&["orders"], &["risky"])),
            ]
            .into_iter()
            .collect(),
            hidden_names: vec![],
        };
        let policy = RoutinePolicy::Only(vec!["safe".into()]);
        let visible = schema.clone().without(&["customers".to_string()], &policy);
        assert_eq!(names(&visible), vec!["c"]);
        assert_eq!(visible.hidden_names, vec!["customers", "a", "d", "unknown", "b"]);
        // The default schema's prefix names the same table; odd input does not panic.
        let prefixed = schema.clone().without(&["PUBLIC.customers".to_string(), "publ€x".to_string()], &policy);
        assert_eq!(names(&prefixed), vec!["c"]);
        // A name of three parts is no spelling of a two-part name: it hides no table `a`.
        let mut a = view("a");
        a.kind = TableKind::Table;
        let three = Schema { tables: vec![a], ..Default::default() };
        assert_eq!(names(&three.without(&["main.a.b".to_string(), "\"a\"x".to_string()], &policy)), vec!["a"]);
        // Quoted spellings of the hidden name hide the same table.
        for spelling in ["\"customers\"", "public.\"customers\"", "\"public\".\"customers\"", "main.\"Customers\""] {
            let quoted = schema.clone().without(&[spelling.to_string()], &policy);
            assert_eq!(names(&quoted), vec!["c"], "{spelling}");
        }
        // Nothing hidden: every view stays, whatever routines it calls.
        let open = schema.without(&[], &RoutinePolicy::None);
        assert_eq!(names(&open).len(), 6);
    }
}

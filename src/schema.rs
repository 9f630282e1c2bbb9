//! The database's real schema, read by introspection. Every identifier a client sends is checked
//! against this before it reaches the SQL builder.

use serde::Serialize;

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
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Primary key columns in key order.
    pub fn primary_key(&self) -> Vec<&Column> {
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.primary_key > 0).collect();
        pk.sort_by_key(|c| c.primary_key);
        pk
    }

    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Schema {
    pub tables: Vec<Table>,
}

impl Schema {
    /// Finds a table by the name a client gave: exact match first, then case-insensitive.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name == name)
            .or_else(|| self.tables.iter().find(|t| t.name.eq_ignore_ascii_case(name)))
    }

    /// Drops tables a service hides. Foreign keys pointing at hidden tables are dropped too so no
    /// hidden name leaks through relationships.
    pub fn without(mut self, hidden: &[String]) -> Schema {
        let is_hidden = |name: &str| hidden.iter().any(|h| h.eq_ignore_ascii_case(name));
        self.tables.retain(|t| !is_hidden(&t.name));
        for table in &mut self.tables {
            table.foreign_keys.retain(|fk| !is_hidden(&fk.ref_table));
        }
        self
    }
}

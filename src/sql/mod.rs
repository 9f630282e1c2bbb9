//! SQL generation: one dialect per engine, identifiers quoted by the dialect, values bound.

pub mod affinity;
pub mod bind;
mod builder;
#[cfg(feature = "query-sql")]
pub mod readonly;
#[cfg(feature = "query-sql")]
pub mod write_check;
pub use builder::*;

/// The SQL dialect of an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, as D1 runs it.
    Sqlite,
    /// PostgreSQL (over Neon's HTTP protocol).
    Postgres,
}

impl Dialect {
    /// Quotes an identifier. Callers pass only names already checked against the schema; quoting
    /// is the second line of defence, doubling any embedded quote.
    pub fn quote_ident(self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// The placeholder for the `n`th (1-based) bound parameter.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

//! DreamFactory's `filter` language, parsed into an [`Expr`] tree.
//!
//! ```text
//! filter     := or
//! or         := and (("OR" | "||") and)*
//! and        := unary (("AND" | "&&") unary)*
//! unary      := ("NOT" | "!") unary | primary
//! primary    := "(" or ")" | condition
//! condition  := column ( cmp value
//!                      | ["NOT"] "IN" "(" value ("," value)* ")"
//!                      | ["NOT"] "LIKE" string
//!                      | ["NOT"] ("CONTAINS" | "STARTS" "WITH" | "ENDS" "WITH") string
//!                      | "IS" ["NOT"] "NULL"
//!                      | ["NOT"] "BETWEEN" value "AND" value )
//! cmp        := "=" | "==" | "EQ" | "!=" | "<>" | "NE" | ">" | "GT" | ">=" | "GTE"
//!             | "<" | "LT" | "<=" | "LTE"
//! column     := identifier | "quoted" | `quoted` | [quoted]
//! value      := 'string' | number | true | false | null
//! ```
//! Keywords are case-insensitive. `NOT CONTAINS` (and friends) parse as `Not(Text {..})`.
//! Nesting (parentheses and NOT) is capped at [`MAX_DEPTH`] and the number of conditions at
//! [`MAX_CONDITIONS`], so no input can exhaust the stack.

use std::fmt;

mod lexer;
mod parser;

#[cfg(test)]
mod tests;

/// Deepest nesting of parentheses and NOT a filter may use.
pub const MAX_DEPTH: usize = 64;
/// Most conditions (comparisons, IN, LIKE, ...) one filter may hold.
pub const MAX_CONDITIONS: usize = 256;

/// A filter that does not parse: where (0-based character offset) and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter error at position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for FilterError {}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        column: String,
        op: CompareOp,
        value: Literal,
    },
    In {
        column: String,
        values: Vec<Literal>,
        negated: bool,
    },
    /// `LIKE 'J%'`: the pattern as the user wrote it (wildcards are theirs).
    Like {
        column: String,
        pattern: String,
        negated: bool,
    },
    /// CONTAINS / STARTS WITH / ENDS WITH: `text` is literal, wildcards in it match themselves.
    Text {
        column: String,
        mode: TextMatch,
        text: String,
    },
    IsNull {
        column: String,
        negated: bool,
    },
    Between {
        column: String,
        low: Literal,
        high: Literal,
        negated: bool,
    },
    /// PostgreSQL full-text search, built by `search` (the filter language has no word for it):
    /// the columns' text, joined, matches any of the words or a word starting with one of them,
    /// under the text search configuration `language`. Every part is a bound value; the words are
    /// literal (tsquery operators in them have no effect). Other engines refuse it.
    FullText {
        columns: Vec<String>,
        language: String,
        words: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    Contains,
    StartsWith,
    EndsWith,
    /// Contains, ignoring case on every engine (PostgreSQL `ILIKE`; SQLite's LIKE already ignores
    /// ASCII case). The filter language has no word for it: `search` builds it.
    ContainsAnyCase,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Integer(i64),
    Number(f64),
    /// An integer outside i64, or a decimal that f64 cannot hold exactly: the text as written.
    BigNumber(String),
    Text(String),
}

impl Expr {
    /// Every column the filter names, in order of appearance (repeats included).
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        // Explicit stack: no recursion, whatever the tree's shape.
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Expr::Not(a) => stack.push(a),
                Expr::Compare { column, .. }
                | Expr::In { column, .. }
                | Expr::Like { column, .. }
                | Expr::Text { column, .. }
                | Expr::IsNull { column, .. }
                | Expr::Between { column, .. } => out.push(column.as_str()),
                Expr::FullText { columns, .. } => out.extend(columns.iter().map(String::as_str)),
            }
        }
        out
    }
}

/// Parses a DreamFactory filter string.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    if input.trim().is_empty() {
        return Err(FilterError { position: 0, message: "filter is empty".into() });
    }
    let tokens = lexer::tokenize(input)?;
    parser::Parser::new(tokens).parse_filter()
}

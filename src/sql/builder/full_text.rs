//! [`Expr::FullText`] on PostgreSQL: `to_tsvector(cfg, concat_ws(' ', cols)) @@ (q1 || q2 ...)`,
//! each `qn` a `to_tsquery(cfg, $n)` whose bound text is one quoted word with the prefix flag, so
//! nothing the user typed is read as a tsquery operator. The configuration is bound too
//! (`$n::regconfig`). SQLite has no such function: the expression is refused there.

use super::{Builder, SqlError};
use crate::db::SqlValue;
use crate::sql::Dialect;

/// The pieces a ranked select reuses: the document and the query, both SQL text whose
/// placeholders are already bound.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FullTextSql {
    pub document: String,
    pub query: String,
}

/// One word as tsquery input: quoted (a quote doubled, a backslash escaped) so `&`, `|`, `!`,
/// `<->`, `:*` and parentheses inside it are plain text, then `:*` so it also matches words it
/// starts. PostgreSQL's parser splits the quoted text into lexemes and drops punctuation.
pub fn tsquery_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 4);
    out.push('\'');
    for c in word.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push_str("':*");
    out
}

impl Builder<'_> {
    pub(super) fn full_text(
        &mut self,
        columns: &[String],
        language: &str,
        words: &[String],
    ) -> Result<String, SqlError> {
        if self.d != Dialect::Postgres {
            return Err(SqlError::new("full-text search is only built for PostgreSQL"));
        }
        if columns.is_empty() || words.is_empty() {
            return Err(SqlError::new("full-text search needs at least one column and one word"));
        }
        let mut quoted = Vec::with_capacity(columns.len());
        for column in columns {
            quoted.push(self.quoted(column)?);
        }
        let config = format!("{}::regconfig", self.bind(SqlValue::Text(language.to_string())));
        let queries: Vec<String> = words
            .iter()
            .map(|w| format!("to_tsquery({config}, {})", self.bind(SqlValue::Text(tsquery_word(w)))))
            .collect();
        // concat_ws takes any type and skips NULLs, so a NULL column leaves the others searchable.
        let document = format!("to_tsvector({config}, concat_ws(' ', {}))", quoted.join(", "));
        let query = format!("({})", queries.join(" || "));
        let sql = format!("{document} @@ {query}");
        if self.full_text.is_none() {
            self.full_text = Some(FullTextSql { document, query });
        }
        Ok(sql)
    }
}

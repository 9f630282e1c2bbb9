//! Statements from a validated request: every identifier checked against the [`Table`] and
//! written in the schema's own spelling, every value a bound parameter.

use std::fmt;

use serde_json::{Map, Value as Json};

use super::bind::{column_value, written_through_integer_cast};
use super::Dialect;
use crate::db::{SqlValue, Statement};
use crate::filter::{CompareOp, Expr, Literal, TextMatch};
use crate::schema::{Column, Table};

mod aggregate;
mod full_text;
#[cfg(test)]
mod tests;

pub use aggregate::*;
pub use full_text::tsquery_word;

/// D1 accepts at most this many bound parameters in one statement.
pub const MAX_BOUND_PARAMS: usize = 100;

/// Deepest filter tree the compiler walks (the parser already caps nesting far below this).
const MAX_EXPR_DEPTH: usize = 1024;

/// 2^53 - 1: the largest integer a JavaScript number (what D1 returns) holds exactly.
const MAX_SAFE_INTEGER: &str = "9007199254740991";

/// A request the builder refuses; the message is meant for the model that sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlError {
    pub message: String,
}

impl SqlError {
    pub fn new(message: impl Into<String>) -> Self {
        SqlError { message: message.into() }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// The column's real name, as the schema spells it.
    pub column: String,
    pub direction: Direction,
}

/// A row count a guarded write must see when it starts, or it changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Exactly(u64),
    AtMost(u64),
}

/// Which rows a read, update or delete touches. All given parts must hold (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowFilter {
    pub filter: Option<Expr>,
    /// Primary-key values: scalars for a one-column key, objects with every key column otherwise.
    pub ids: Option<Vec<Json>>,
    /// An extra `column IN (values)`, used for related-row lookups. Nulls never match; an empty
    /// list matches no row.
    pub column_in: Option<(String, Vec<Json>)>,
}

impl RowFilter {
    fn is_unrestricted(&self) -> bool {
        self.filter.is_none() && self.ids.is_none() && self.column_in.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectSpec {
    /// Columns to return; `None` (or an empty list) means every column.
    pub fields: Option<Vec<String>>,
    pub rows: RowFilter,
    pub order: Vec<OrderBy>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// One item of a select list or RETURNING clause, aliased to the column's name.
///
/// SQLite (D1) hands integers to JavaScript as numbers, which lose precision beyond ±2^53, so
/// those values come back as text instead. Postgres drivers already return big integers as text.
pub fn select_column(d: Dialect, name: &str) -> String {
    let q = d.quote_ident(name);
    match d {
        Dialect::Sqlite => format!(
            "CASE WHEN typeof({q}) = 'integer' AND ({q} > {MAX_SAFE_INTEGER} OR {q} < \
             -{MAX_SAFE_INTEGER}) THEN CAST({q} AS TEXT) ELSE {q} END AS {q}"
        ),
        Dialect::Postgres => q,
    }
}

/// The quoted table reference, schema-qualified when the table has a schema. Clients name such a
/// table by its display name (`schema.table`, parts quoted when they hold dots), read back here.
fn table_ref(d: Dialect, table: &Table) -> String {
    match &table.schema {
        Some(schema) => {
            format!("{}.{}", d.quote_ident(schema), d.quote_ident(&crate::schema::object_name(&table.name)))
        }
        None => d.quote_ident(&table.name),
    }
}

/// Finds a column by the name a client gave: exact match first, then case-insensitive.
fn resolve_column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, SqlError> {
    if let Some(c) = table.column(name) {
        return Ok(c);
    }
    let folded: Vec<&Column> = table.columns.iter().filter(|c| c.name.eq_ignore_ascii_case(name)).collect();
    match folded.as_slice() {
        [one] => Ok(one),
        [] => Err(SqlError::new(format!(
            "unknown column \"{name}\" in table \"{}\"; columns are: {}",
            table.name,
            table.column_names().join(", ")
        ))),
        many => Err(SqlError::new(format!(
            "column \"{name}\" is ambiguous in table \"{}\": it matches {} when case is ignored; \
             use the exact spelling",
            table.name,
            many.iter().map(|c| format!("\"{}\"", c.name)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A column whose values may show through the query's result: refused when masked (a filter,
/// an order, a group or an aggregate would reveal what the mask hides).
pub(crate) fn comparable_column<'t>(table: &'t Table, name: &str, used_in: &str) -> Result<&'t Column, SqlError> {
    let column = resolve_column(table, name)?;
    if table.policy.is_masked(&column.name) {
        return Err(SqlError::new(format!(
            "column \"{}\" of table \"{}\" is masked: it cannot be used in {used_in} (it may only be read, masked)",
            column.name, table.name
        )));
    }
    Ok(column)
}

/// Resolves a field list against the table and returns the real column names, without repeats.
/// Entries are trimmed; empty entries are skipped; `*` stands for every column.
pub fn resolve_fields(fields: &[String], table: &Table) -> Result<Vec<String>, SqlError> {
    let mut out: Vec<String> = Vec::new();
    for field in fields {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        let names: Vec<&str> =
            if field == "*" { table.column_names() } else { vec![resolve_column(table, field)?.name.as_str()] };
        for name in names {
            if !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
    }
    Ok(out)
}

/// Parses `"name ASC, created_at DESC"`: comma-separated columns, each with an optional
/// case-insensitive ASC/DESC (default ASC). Column names may be quoted ("a b", `a b`, [a b]).
/// An empty string is no ordering.
pub fn parse_order(order: &str, table: &Table) -> Result<Vec<OrderBy>, SqlError> {
    let mut out: Vec<OrderBy> = Vec::new();
    for (name, direction) in parse_order_terms(order)? {
        let column = comparable_column(table, &name, "order")?.name.clone();
        // A column sorted twice sorts by its first mention only; repeats add nothing but SQL.
        if !out.iter().any(|o| o.column == column) {
            out.push(OrderBy { column, direction });
        }
    }
    Ok(out)
}

/// The names and directions of an order string, unquoted but not yet checked against anything:
/// [`parse_order`] resolves them to columns, `aggregate_table_data` to its output names.
pub fn parse_order_terms(order: &str) -> Result<Vec<(String, Direction)>, SqlError> {
    let mut out = Vec::new();
    if order.trim().is_empty() {
        return Ok(out);
    }
    for item in split_order_items(order)? {
        let item = item.trim();
        if item.is_empty() {
            return Err(SqlError::new(format!(
                "order \"{order}\" has an empty entry; write columns separated by commas, e.g. \
                 \"name ASC, created_at DESC\""
            )));
        }
        let (name, rest) = split_order_column(item)?;
        let direction = match rest.trim() {
            "" => Direction::Asc,
            d if d.eq_ignore_ascii_case("asc") => Direction::Asc,
            d if d.eq_ignore_ascii_case("desc") => Direction::Desc,
            d => {
                return Err(SqlError::new(format!(
                    "invalid order direction \"{d}\" after column \"{name}\"; use ASC or DESC"
                )))
            }
        };
        out.push((name, direction));
    }
    Ok(out)
}

/// Splits an order string at commas that are not inside quotes.
fn split_order_items(order: &str) -> Result<Vec<&str>, SqlError> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    for (i, c) in order.char_indices() {
        match quote {
            Some(close) if c == close => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                ',' => {
                    items.push(&order[start..i]);
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    if let Some(close) = quote {
        return Err(SqlError::new(format!("order \"{order}\" has an unclosed quote; close it with {close}")));
    }
    items.push(&order[start..]);
    Ok(items)
}

/// Splits one order item into its (unquoted) column name and the rest.
fn split_order_column(item: &str) -> Result<(String, &str), SqlError> {
    let mut chars = item.char_indices();
    let Some((_, first)) = chars.next() else {
        return Err(SqlError::new("empty order entry"));
    };
    let close = match first {
        '"' | '`' => Some(first),
        '[' => Some(']'),
        _ => None,
    };
    let Some(close) = close else {
        let end = item.find(char::is_whitespace).unwrap_or(item.len());
        return Ok((item[..end].to_string(), &item[end..]));
    };
    let mut name = String::new();
    let mut iter = chars.peekable();
    while let Some((i, c)) = iter.next() {
        if c == close {
            if let Some(&(_, next)) = iter.peek() {
                if next == close {
                    name.push(close);
                    iter.next();
                    continue;
                }
            }
            let rest = &item[i + c.len_utf8()..];
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return Err(SqlError::new(format!(
                    "invalid order entry \"{item}\": expected ASC or DESC after the quoted column"
                )));
            }
            return Ok((name, rest));
        }
        name.push(c);
    }
    Err(SqlError::new(format!("order entry \"{item}\" has an unclosed quote")))
}

/// The value a filter literal binds as (the builder's and the row policy's writes check alike).
pub(crate) fn literal_value(literal: &Literal) -> SqlValue {
    match literal {
        Literal::Null => SqlValue::Null,
        Literal::Bool(b) => SqlValue::Bool(*b),
        Literal::Integer(i) => SqlValue::Integer(*i),
        Literal::Number(f) => SqlValue::Real(*f),
        Literal::BigNumber(s) | Literal::Text(s) => SqlValue::Text(s.clone()),
    }
}

/// Escapes `\`, `%` and `_` so text matches itself under `LIKE ... ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether a Postgres column type can be the left side of LIKE without a cast.
pub(crate) fn is_text_type(data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    !t.ends_with("[]") && (t.contains("char") || t.contains("text"))
}

/// Accumulates bound parameters while one statement is written.
struct Builder<'a> {
    d: Dialect,
    table: &'a Table,
    params: Vec<SqlValue>,
    /// The first full-text condition written, for a ranked select's `ts_rank`.
    full_text: Option<full_text::FullTextSql>,
}

impl<'a> Builder<'a> {
    fn new(d: Dialect, table: &'a Table) -> Self {
        Builder { d, table, params: Vec::new(), full_text: None }
    }

    fn bind(&mut self, value: SqlValue) -> String {
        self.params.push(value);
        self.d.placeholder(self.params.len())
    }

    /// Binds a value written to or compared with `column`, already adapted to it (by
    /// `record_columns` or `column_value`). An integer for an untyped SQLite column goes through
    /// `CAST(? AS INTEGER)`, in writes and comparisons alike: D1 binds no integer, and the text
    /// of an integer beyond 2^53 (or the REAL 42.0) equals no integer stored there.
    fn bind_written(&mut self, column: &Column, value: SqlValue) -> String {
        let cast = written_through_integer_cast(self.d, column, &value);
        let p = self.bind(value);
        if cast {
            format!("CAST({p} AS INTEGER)")
        } else {
            p
        }
    }

    /// Binds a value compared with (or written to) `column`, adapted to the column's type.
    fn bind_for(&mut self, column: &str, value: SqlValue) -> Result<String, SqlError> {
        let col = self.column(column)?;
        Ok(self.bind_written(col, column_value(self.d, col, value)))
    }

    /// A column of a condition (filter, related rows): never a masked one.
    fn column(&self, name: &str) -> Result<&'a Column, SqlError> {
        comparable_column(self.table, name, "a filter")
    }

    fn quoted(&self, name: &str) -> Result<String, SqlError> {
        Ok(self.d.quote_ident(&self.column(name)?.name))
    }

    fn table_ref(&self) -> String {
        table_ref(self.d, self.table)
    }

    fn returning(&self, columns: &[&Column]) -> String {
        let list: Vec<String> = columns.iter().map(|c| select_column(self.d, &c.name)).collect();
        format!(" RETURNING {}", list.join(", "))
    }

    fn finish(self, sql: String) -> Result<Statement, SqlError> {
        let n = self.params.len();
        if n > MAX_BOUND_PARAMS {
            return Err(SqlError::new(format!(
                "too many values: {n} bound parameters, the limit is {MAX_BOUND_PARAMS}; split the \
                 request"
            )));
        }
        Ok(Statement::new(sql, self.params))
    }

    /// [`Self::where_clause`], plus, with `expected`, `AND (SELECT COUNT(*) FROM t WHERE <same>) = ?`
    /// (`<= ?` for [`Expect::AtMost`]).
    /// The subquery is uncorrelated (its own FROM shadows the outer table), so both engines
    /// evaluate it once, against the rows as they were when the statement started. It reuses the
    /// outer condition's numbered placeholders, so the filter's values are bound once: a guarded
    /// write has the same parameter limit as a plain one.
    fn where_expecting(&mut self, rows: &RowFilter, expected: Option<Expect>) -> Result<String, SqlError> {
        let main = self.where_clause(rows)?;
        let Some(expected) = expected else { return Ok(main) };
        let main = main.strip_prefix(" WHERE ").ok_or_else(|| SqlError::new("a guarded write needs a row filter"))?;
        let main = main.to_string();
        let count = format!("SELECT COUNT(*) FROM {} WHERE {main}", self.table_ref());
        let (op, n) = match expected {
            Expect::Exactly(n) => ("=", n),
            Expect::AtMost(n) => ("<=", n),
        };
        let p = self.bind(SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
        Ok(format!(" WHERE ({main}) AND ({count}) {op} {p}"))
    }

    /// ` WHERE ...` for the rows, or nothing when the filter is unrestricted.
    /// The table's row policy (bound to the caller) is always one of the parts: every read,
    /// count, aggregate, update and delete sees only the caller's rows.
    fn where_clause(&mut self, rows: &RowFilter) -> Result<String, SqlError> {
        let policy = self.table.rows.condition(&self.table.name)?;
        let parts_given = [policy.is_some(), rows.filter.is_some(), rows.ids.is_some(), rows.column_in.is_some()]
            .iter()
            .filter(|g| **g)
            .count();
        let nested = parts_given > 1;
        let mut parts = Vec::new();
        if let Some(policy) = policy {
            parts.push(self.expr(policy, nested, 0)?);
        }
        if let Some(filter) = &rows.filter {
            parts.push(self.expr(filter, nested, 0)?);
        }
        if let Some(ids) = &rows.ids {
            parts.push(self.ids(ids, nested)?);
        }
        if let Some((column, values)) = &rows.column_in {
            parts.push(self.column_in(column, values)?);
        }
        if parts.is_empty() {
            Ok(String::new())
        } else {
            Ok(format!(" WHERE {}", parts.join(" AND ")))
        }
    }

    /// Compiles a filter tree. `in_and`: the result is an operand of AND, so OR needs parentheses.
    fn expr(&mut self, e: &Expr, in_and: bool, depth: usize) -> Result<String, SqlError> {
        if depth > MAX_EXPR_DEPTH {
            return Err(SqlError::new("filter is nested too deeply; simplify it"));
        }
        Ok(match e {
            Expr::And(a, b) => {
                let a = self.expr(a, true, depth + 1)?;
                let b = self.expr(b, true, depth + 1)?;
                format!("{a} AND {b}")
            }
            Expr::Or(a, b) => {
                let a = self.expr(a, false, depth + 1)?;
                let b = self.expr(b, false, depth + 1)?;
                if in_and {
                    format!("({a} OR {b})")
                } else {
                    format!("{a} OR {b}")
                }
            }
            Expr::Not(a) => format!("NOT ({})", self.expr(a, false, depth + 1)?),
            Expr::Compare { column, op, value } => {
                let col = self.quoted(column)?;
                if *value == Literal::Null {
                    return match op {
                        CompareOp::Eq => Ok(format!("{col} IS NULL")),
                        CompareOp::Ne => Ok(format!("{col} IS NOT NULL")),
                        _ => Err(SqlError::new(format!(
                            "cannot order-compare column \"{column}\" with null; use IS NULL or IS NOT NULL"
                        ))),
                    };
                }
                let op = match op {
                    CompareOp::Eq => "=",
                    CompareOp::Ne => "<>",
                    CompareOp::Gt => ">",
                    CompareOp::Gte => ">=",
                    CompareOp::Lt => "<",
                    CompareOp::Lte => "<=",
                };
                let p = self.bind_for(column, literal_value(value))?;
                format!("{col} {op} {p}")
            }
            Expr::In { column, values, negated } => {
                let col = self.quoted(column)?;
                if values.is_empty() {
                    return Ok(if *negated { "1 = 1" } else { "1 = 0" }.to_string());
                }
                let list =
                    values.iter().map(|v| self.bind_for(column, literal_value(v))).collect::<Result<Vec<_>, _>>()?;
                let not = if *negated { "NOT " } else { "" };
                format!("{col} {not}IN ({})", list.join(", "))
            }
            Expr::Like { column, pattern, negated } => self.like(column, pattern.clone(), *negated)?,
            Expr::Text { column, mode, text } => {
                let escaped = escape_like(text);
                let pattern = match mode {
                    TextMatch::Contains | TextMatch::ContainsAnyCase => format!("%{escaped}%"),
                    TextMatch::StartsWith => format!("{escaped}%"),
                    TextMatch::EndsWith => format!("%{escaped}"),
                };
                if *mode == TextMatch::ContainsAnyCase {
                    self.like_any_case(column, pattern)?
                } else {
                    self.like(column, pattern, false)?
                }
            }
            Expr::IsNull { column, negated } => {
                let col = self.quoted(column)?;
                let not = if *negated { "NOT " } else { "" };
                format!("{col} IS {not}NULL")
            }
            Expr::Between { column, low, high, negated } => {
                let col = self.quoted(column)?;
                let lo = self.bind_for(column, literal_value(low))?;
                let hi = self.bind_for(column, literal_value(high))?;
                let not = if *negated { "NOT " } else { "" };
                format!("{col} {not}BETWEEN {lo} AND {hi}")
            }
            Expr::FullText { columns, language, words } => self.full_text(columns, language, words)?,
        })
    }

    /// `col LIKE ? ESCAPE '\'`. SQLite compares any value as text under LIKE; Postgres has no
    /// LIKE for numbers, dates, uuids etc., so there non-text columns are cast to TEXT first.
    /// (SQLite's LIKE ignores ASCII case; Postgres' LIKE does not.)
    fn like(&mut self, column: &str, pattern: String, negated: bool) -> Result<String, SqlError> {
        self.like_with(column, pattern, if negated { "NOT LIKE" } else { "LIKE" })
    }

    fn like_with(&mut self, column: &str, pattern: String, operator: &str) -> Result<String, SqlError> {
        let col = self.column(column)?;
        let quoted = self.d.quote_ident(&col.name);
        let lhs = match self.d {
            Dialect::Postgres if !is_text_type(&col.data_type) => format!("CAST({quoted} AS TEXT)"),
            _ => quoted,
        };
        let p = self.bind(SqlValue::Text(pattern));
        Ok(format!("{lhs} {operator} {p} ESCAPE '\\'"))
    }

    /// [`Self::like`] ignoring case: `ILIKE` on PostgreSQL (Unicode case, per the collation),
    /// `LIKE` on SQLite (which ignores ASCII case only).
    fn like_any_case(&mut self, column: &str, pattern: String) -> Result<String, SqlError> {
        let operator = match self.d {
            Dialect::Postgres => "ILIKE",
            Dialect::Sqlite => "LIKE",
        };
        self.like_with(column, pattern, operator)
    }

    fn ids(&mut self, ids: &[Json], nested: bool) -> Result<String, SqlError> {
        let table = self.table;
        if ids.is_empty() {
            return Err(SqlError::new("ids is empty; give at least one id"));
        }
        let pk = table.primary_key();
        // Choosing rows by a masked key would tell whether a guessed value exists.
        for key in &pk {
            comparable_column(table, &key.name, "ids (it is part of the primary key; choose rows with filter)")?;
        }
        match pk.as_slice() {
            [] => Err(SqlError::new(format!("table \"{}\" has no primary key; use filter", table.name))),
            [key] => {
                let col = self.d.quote_ident(&key.name);
                let mut list = Vec::with_capacity(ids.len());
                for id in ids {
                    let value = match id {
                        Json::Object(map) => match object_key(map, &key.name) {
                            Some(v) => v,
                            None => {
                                return Err(SqlError::new(format!(
                                    "id {id} has no value for primary key column \"{}\" of table \
                                     \"{}\"; give ids as plain values, e.g. [1, 2]",
                                    key.name, table.name
                                )))
                            }
                        },
                        other => other,
                    };
                    list.push(
                        self.bind_written(key, column_value(self.d, key, id_value(value, &key.name, &table.name)?)),
                    );
                }
                Ok(format!("{col} IN ({})", list.join(", ")))
            }
            keys => {
                let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
                let example: Vec<String> =
                    names.iter().enumerate().map(|(i, n)| format!("\"{n}\": {}", i + 1)).collect();
                let mut alternatives = Vec::with_capacity(ids.len());
                for id in ids {
                    let Json::Object(map) = id else {
                        return Err(SqlError::new(format!(
                            "table \"{}\" has a composite primary key ({}); give each id as an \
                             object with every key column, e.g. {{{}}}, not {id}",
                            table.name,
                            names.join(", "),
                            example.join(", ")
                        )));
                    };
                    let mut terms = Vec::with_capacity(keys.len());
                    for key in keys {
                        let Some(value) = object_key(map, &key.name) else {
                            return Err(SqlError::new(format!(
                                "id {id} lacks primary key column \"{}\"; table \"{}\" has a \
                                 composite primary key ({}), e.g. {{{}}}",
                                key.name,
                                table.name,
                                names.join(", "),
                                example.join(", ")
                            )));
                        };
                        let col = self.d.quote_ident(&key.name);
                        let p =
                            self.bind_written(key, column_value(self.d, key, id_value(value, &key.name, &table.name)?));
                        terms.push(format!("{col} = {p}"));
                    }
                    alternatives.push(format!("({})", terms.join(" AND ")));
                }
                let joined = alternatives.join(" OR ");
                if nested && alternatives.len() > 1 {
                    Ok(format!("({joined})"))
                } else {
                    Ok(joined)
                }
            }
        }
    }

    fn column_in(&mut self, column: &str, values: &[Json]) -> Result<String, SqlError> {
        let col = self.quoted(column)?;
        let mut list = Vec::with_capacity(values.len());
        for value in values.iter().filter(|v| !v.is_null()) {
            list.push(self.bind_for(column, SqlValue::from_json(value))?);
        }
        if list.is_empty() {
            return Ok("1 = 0".to_string());
        }
        Ok(format!("{col} IN ({})", list.join(", ")))
    }
}

/// The value for `key` in an id object: exact key first, then case-insensitive.
fn object_key<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m Json> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn id_value(value: &Json, column: &str, table: &str) -> Result<SqlValue, SqlError> {
    match value {
        Json::Null => Err(SqlError::new(format!(
            "an id for primary key column \"{column}\" of table \"{table}\" is null; ids must be values"
        ))),
        Json::Object(_) | Json::Array(_) => Err(SqlError::new(format!(
            "an id for primary key column \"{column}\" of table \"{table}\" is {value}; ids must be \
             strings or numbers"
        ))),
        scalar => Ok(SqlValue::from_json(scalar)),
    }
}

fn refuse_unrestricted(rows: &RowFilter, action: &str, table: &Table) -> Result<(), SqlError> {
    if rows.is_unrestricted() {
        return Err(SqlError::new(format!(
            "refusing to {action} every row of table \"{}\": give ids or a filter",
            table.name
        )));
    }
    Ok(())
}

fn all_columns(table: &Table) -> Result<Vec<&Column>, SqlError> {
    if table.columns.is_empty() {
        return Err(SqlError::new(format!("table \"{}\" has no columns", table.name)));
    }
    Ok(table.columns.iter().collect())
}

/// `SELECT <fields> FROM t [WHERE ...] [ORDER BY ...] [LIMIT ? [OFFSET ?]]`.
pub fn select(d: Dialect, table: &Table, spec: &SelectSpec) -> Result<Statement, SqlError> {
    select_with_rank(d, table, spec, None)
}

/// [`select`] of the rows a full-text condition ([`Expr::FullText`], PostgreSQL) in the filter
/// matches, best first: `ts_rank` of that condition is one more column, named `rank_alias`
/// (which must not be a column of the table), and the first ordering, descending; `spec.order`
/// breaks ties. Lengths count: the rank is divided by 1 + log(words in the text).
pub fn select_ranked(d: Dialect, table: &Table, spec: &SelectSpec, rank_alias: &str) -> Result<Statement, SqlError> {
    if table.column(rank_alias).is_some() {
        return Err(SqlError::new(format!("the rank's name \"{rank_alias}\" is a column of table \"{}\"", table.name)));
    }
    select_with_rank(d, table, spec, Some(rank_alias))
}

fn select_with_rank(d: Dialect, table: &Table, spec: &SelectSpec, rank: Option<&str>) -> Result<Statement, SqlError> {
    let mut names = match &spec.fields {
        Some(fields) => resolve_fields(fields, table)?,
        None => Vec::new(),
    };
    if names.is_empty() {
        names = all_columns(table)?.iter().map(|c| c.name.clone()).collect();
    }
    let mut b = Builder::new(d, table);
    let mut list: Vec<String> = names.iter().map(|n| select_column(d, n)).collect();
    // The WHERE clause is written first: a rank reuses its full-text SQL (and placeholders).
    let where_sql = b.where_clause(&spec.rows)?;
    let mut items = Vec::with_capacity(spec.order.len() + 1);
    if let Some(alias) = rank {
        let Some(text) = &b.full_text else {
            return Err(SqlError::new("a ranked select needs a full-text condition"));
        };
        let alias = d.quote_ident(alias);
        list.push(format!("ts_rank({}, {}, 1) AS {alias}", text.document, text.query));
        items.push(format!("{alias} DESC"));
    }
    let mut sql = format!("SELECT {} FROM {}", list.join(", "), b.table_ref());
    sql.push_str(&where_sql);
    if !spec.order.is_empty() || !items.is_empty() {
        // Qualified with the table: in SQLite a bare name in ORDER BY means the select-list alias,
        // which for big integers is the text form and would sort wrongly.
        for o in &spec.order {
            let col = b.quoted(&o.column)?;
            let dir = match o.direction {
                Direction::Asc => "ASC",
                Direction::Desc => "DESC",
            };
            items.push(format!("{}.{col} {dir}", b.table_ref()));
        }
        sql.push_str(" ORDER BY ");
        sql.push_str(&items.join(", "));
    }
    let as_i64 = |n: u64| SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    match (spec.limit, spec.offset) {
        (Some(limit), 0) => {
            let p = b.bind(as_i64(limit));
            sql.push_str(&format!(" LIMIT {p}"));
        }
        (Some(limit), offset) => {
            let p = b.bind(as_i64(limit));
            let o = b.bind(as_i64(offset));
            sql.push_str(&format!(" LIMIT {p} OFFSET {o}"));
        }
        (None, 0) => {}
        (None, offset) => {
            let o = b.bind(as_i64(offset));
            match d {
                // SQLite has no OFFSET without LIMIT; -1 is "no limit".
                Dialect::Sqlite => sql.push_str(&format!(" LIMIT -1 OFFSET {o}")),
                Dialect::Postgres => sql.push_str(&format!(" OFFSET {o}")),
            }
        }
    }
    b.finish(sql)
}

/// `SELECT COUNT(*) AS "count" FROM t [WHERE ...]`.
pub fn count(d: Dialect, table: &Table, rows: &RowFilter) -> Result<Statement, SqlError> {
    let mut b = Builder::new(d, table);
    let mut sql = format!("SELECT COUNT(*) AS {} FROM {}", d.quote_ident("count"), b.table_ref());
    sql.push_str(&b.where_clause(rows)?);
    b.finish(sql)
}

/// Resolves the keys of a record or patch to real columns, refusing the same column twice.
fn record_columns<'t>(
    d: Dialect,
    table: &'t Table,
    record: &Map<String, Json>,
) -> Result<Vec<(&'t Column, SqlValue)>, SqlError> {
    let mut out: Vec<(&Column, SqlValue)> = Vec::with_capacity(record.len());
    for (key, value) in record {
        let col = resolve_column(table, key)?;
        if table.policy.is_read_only(&col.name) {
            return Err(SqlError::new(read_only_message(table, &col.name)));
        }
        if out.iter().any(|(c, _)| c.name == col.name) {
            return Err(SqlError::new(format!(
                "column \"{}\" is given more than once (as \"{key}\" and with another spelling)",
                col.name
            )));
        }
        out.push((col, column_value(d, col, SqlValue::from_json(value))));
    }
    Ok(out)
}

/// The refusal of a write naming a read-only column.
pub fn read_only_message(table: &Table, column: &str) -> String {
    format!("column \"{column}\" of table \"{}\" is read-only: it cannot be written", table.name)
}

/// `INSERT INTO t (...) VALUES (...) RETURNING <all columns>`; an empty record inserts
/// `DEFAULT VALUES`.
pub fn insert(d: Dialect, table: &Table, record: &Map<String, Json>) -> Result<Statement, SqlError> {
    let values = record_columns(d, table, record)?;
    crate::rows::check_write(d, table, &values, crate::rows::Write::Insert)?;
    let mut b = Builder::new(d, table);
    let mut sql = format!("INSERT INTO {}", b.table_ref());
    if values.is_empty() {
        sql.push_str(" DEFAULT VALUES");
    } else {
        let mut cols = Vec::with_capacity(values.len());
        let mut ps = Vec::with_capacity(values.len());
        for (col, value) in values {
            cols.push(d.quote_ident(&col.name));
            ps.push(b.bind_written(col, value));
        }
        sql.push_str(&format!(" ({}) VALUES ({})", cols.join(", "), ps.join(", ")));
    }
    sql.push_str(&b.returning(&all_columns(table)?));
    b.finish(sql)
}

/// `UPDATE t SET a = ?, ... WHERE <rows> RETURNING <all columns>`. Refuses an empty patch and
/// an unrestricted row filter.
pub fn update(d: Dialect, table: &Table, patch: &Map<String, Json>, rows: &RowFilter) -> Result<Statement, SqlError> {
    update_expecting(d, table, patch, rows, None)
}

/// [`update`] that changes nothing unless exactly `expected` rows match when the statement starts
/// (one statement, so the count and the write see the same rows): the write a person confirmed
/// after seeing the count, or none at all.
pub fn update_expecting(
    d: Dialect,
    table: &Table,
    patch: &Map<String, Json>,
    rows: &RowFilter,
    expected: Option<Expect>,
) -> Result<Statement, SqlError> {
    refuse_unrestricted(rows, "update", table)?;
    if patch.is_empty() {
        return Err(SqlError::new(format!("nothing to update: the patch for table \"{}\" has no columns", table.name)));
    }
    let values = record_columns(d, table, patch)?;
    crate::rows::check_write(d, table, &values, crate::rows::Write::Update)?;
    let mut b = Builder::new(d, table);
    let mut sets = Vec::with_capacity(values.len());
    for (col, value) in values {
        let p = b.bind_written(col, value);
        sets.push(format!("{} = {p}", d.quote_ident(&col.name)));
    }
    let mut sql = format!("UPDATE {} SET {}", b.table_ref(), sets.join(", "));
    sql.push_str(&b.where_expecting(rows, expected)?);
    sql.push_str(&b.returning(&all_columns(table)?));
    b.finish(sql)
}

/// `DELETE FROM t WHERE <rows> RETURNING <primary key, or all columns without one>`. Refuses an
/// unrestricted row filter: it never deletes everything.
pub fn delete(d: Dialect, table: &Table, rows: &RowFilter) -> Result<Statement, SqlError> {
    delete_expecting(d, table, rows, None)
}

/// [`delete`] that deletes nothing unless exactly `expected` rows match (see [`update_expecting`]).
pub fn delete_expecting(
    d: Dialect,
    table: &Table,
    rows: &RowFilter,
    expected: Option<Expect>,
) -> Result<Statement, SqlError> {
    refuse_unrestricted(rows, "delete", table)?;
    let mut b = Builder::new(d, table);
    let mut sql = format!("DELETE FROM {}", b.table_ref());
    sql.push_str(&b.where_expecting(rows, expected)?);
    let pk = table.primary_key();
    let returned = if pk.is_empty() { all_columns(table)? } else { pk };
    sql.push_str(&b.returning(&returned));
    b.finish(sql)
}

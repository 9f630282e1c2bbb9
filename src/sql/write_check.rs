//! Custom tools that write (`writes = true`): exactly one INSERT, UPDATE or DELETE, checked on its
//! parsed AST and re-printed from it, as [`super::readonly`] does for queries.
//!
//! The rules, all allow-lists:
//! - one statement: `INSERT INTO t (columns) VALUES ... | SELECT ...` (optionally
//!   `ON CONFLICT (columns) DO NOTHING | DO UPDATE SET ...`), `UPDATE t SET ... WHERE ...` or
//!   `DELETE FROM t WHERE ...`; no `WITH` (so no writable CTE), no `RETURNING` (the result is the
//!   number of rows written), no `INSERT OR REPLACE`/`UPDATE OR ...`, no `UPDATE ... FROM`,
//!   `DELETE ... USING`, `ORDER BY` or `LIMIT`; UPDATE and DELETE need a WHERE clause;
//! - the target is one visible table (not a view) without a row policy;
//! - every written column exists, is visible and is not read-only;
//! - everything else (WHERE, values, subqueries, the SELECT of an INSERT) goes through the very
//!   checks of `query_sql`: visible tables and columns, masked columns not readable or filterable,
//!   allow-listed functions and expression forms.
//!
//! The shape is checked at configuration time ([`check_shape`]); the schema at call time
//! ([`validate`]).

use sqlparser::ast::{
    Assignment, AssignmentTarget, ConflictTarget, FromTable, Ident, ObjectName, ObjectNamePart, OnConflictAction,
    OnInsert, Statement, TableFactor, TableObject, TableWithJoins,
};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::readonly::{self, Visibility, MAX_DEPTH, MAX_SQL_BYTES};
use super::Dialect;
use crate::schema::{Column, Table, TableKind};
use crate::tools::custom::WriteKind;

/// A checked write: its canonical text (re-printed from the checked AST), the table it writes
/// and the parameters its placeholders need.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedWrite {
    pub sql: String,
    pub kind: WriteKind,
    pub table: String,
    pub params_needed: usize,
}

/// Configuration time: the statement's kind and shape, no schema needed.
pub fn check_shape(dialect: Dialect, sql: &str) -> Result<WriteKind, String> {
    parse_write(dialect, sql).map(|(_, kind)| kind)
}

/// Call time: the shape again, then the target table, the written columns and every expression
/// against what the service lets this caller see.
pub fn validate(dialect: Dialect, sql: &str, visibility: &Visibility) -> Result<CheckedWrite, String> {
    let (mut statement, kind) = parse_write(dialect, sql)?;
    let params_needed = readonly::check_write_statement(dialect, &mut statement, visibility)?;
    let (target, written, conflict) = parts(&statement)?;
    let index =
        readonly::table_of_canonical(dialect, visibility, target).ok_or_else(|| format!("unknown table {target}"))?;
    let table = &visibility.schema.tables[index];
    if table.kind == TableKind::View {
        return Err(format!("{:?} is a view; a tool that writes writes a table", table.name));
    }
    for ident in written {
        let column = column_named(dialect, table, ident)?;
        if table.policy.is_read_only(&column.name) {
            return Err(super::read_only_message(table, &column.name));
        }
    }
    for ident in conflict {
        column_named(dialect, table, ident)?;
    }
    let canonical = statement.to_string();
    // What the database receives must parse back to the very statement checked.
    match parse_write(dialect, &canonical) {
        Ok((again, _)) if again.to_string() == canonical => {}
        _ => return Err("this statement cannot be re-printed faithfully; simplify it".into()),
    }
    Ok(CheckedWrite { sql: canonical, kind, table: table.name.clone(), params_needed })
}

/// The visible column `ident` names (PostgreSQL folds unquoted names; SQLite ignores ASCII case).
fn column_named<'t>(dialect: Dialect, table: &'t Table, ident: &Ident) -> Result<&'t Column, String> {
    let found = table.columns.iter().find(|c| match dialect {
        Dialect::Sqlite => ident.value.eq_ignore_ascii_case(&c.name),
        Dialect::Postgres if ident.quote_style.is_some() => ident.value == c.name,
        Dialect::Postgres => ident.value.to_ascii_lowercase() == c.name,
    });
    found.ok_or_else(|| {
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        format!("unknown column {:?} in table {:?}; columns are: {}", ident.value, table.name, names.join(", "))
    })
}

fn parse_write(dialect: Dialect, sql: &str) -> Result<(Statement, WriteKind), String> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(format!("the SQL is {} bytes; at most {MAX_SQL_BYTES}", sql.len()));
    }
    let statement = match dialect {
        Dialect::Sqlite => parse_in(&SQLiteDialect {}, sql),
        Dialect::Postgres => parse_in(&PostgreSqlDialect {}, sql),
    }?;
    let kind = shape(&statement)?;
    Ok((statement, kind))
}

/// Parses one INSERT, UPDATE or DELETE with only those statements' grammar (the rest of the
/// statement parser, DDL and the like, never reaches the bundle).
fn parse_in(grammar: &dyn sqlparser::dialect::Dialect, sql: &str) -> Result<Statement, String> {
    let parse_error = |e: sqlparser::parser::ParserError| format!("could not parse the SQL: {e}");
    let mut parser = Parser::new(grammar).with_recursion_limit(MAX_DEPTH).try_with_sql(sql).map_err(parse_error)?;
    while parser.consume_token(&Token::SemiColon) {}
    let first = parser.next_token();
    let statement = match &first.token {
        Token::EOF => return Err("the SQL holds no statement; give one INSERT, UPDATE or DELETE".into()),
        Token::Word(word) if word.quote_style.is_none() => match word.keyword {
            Keyword::INSERT => parser.parse_insert(first).map_err(parse_error)?,
            Keyword::UPDATE => parser.parse_update(first).map_err(parse_error)?,
            Keyword::DELETE => parser.parse_delete(first).map_err(parse_error)?,
            Keyword::WITH => {
                return Err("WITH is not allowed in a tool that writes (no writable or feeding CTE); write one \
                            INSERT, UPDATE or DELETE"
                    .into())
            }
            _ => {
                return Err(format!(
                    "a tool that writes runs one INSERT, UPDATE or DELETE; this is a {} statement",
                    word.value.to_uppercase()
                ))
            }
        },
        other => return Err(format!("could not parse the SQL: unexpected {other}")),
    };
    let mut separated = false;
    while parser.consume_token(&Token::SemiColon) {
        separated = true;
    }
    match parser.peek_token().token {
        Token::EOF => Ok(statement),
        _ if separated => Err("exactly one statement is allowed; this SQL holds more".into()),
        other => Err(format!("could not parse the SQL: unexpected {other} after the statement")),
    }
}

const NO_RETURNING: &str =
    "RETURNING is not allowed in a tool that writes: its result is the number of rows written (rows_written)";

/// The statement's kind, when its shape is one this module allows.
fn shape(statement: &Statement) -> Result<WriteKind, String> {
    match statement {
        Statement::Insert(insert) => {
            if insert.or.is_some() || insert.replace_into {
                return Err("INSERT OR ... / REPLACE is not allowed in a tool that writes; use ON CONFLICT".into());
            }
            let plain = !insert.ignore
                && insert.into
                && matches!(insert.table, TableObject::TableName(_))
                && insert.table_alias.is_none()
                && !insert.by_name
                && !insert.overwrite
                && insert.assignments.is_empty()
                && insert.partitioned.is_none()
                && insert.after_columns.is_empty()
                && insert.overriding.is_none()
                && !insert.has_table_keyword
                && insert.output.is_none()
                && insert.priority.is_none()
                && insert.insert_alias.is_none()
                && insert.settings.is_none()
                && insert.format_clause.is_none()
                && insert.multi_table_insert_type.is_none()
                && insert.multi_table_into_clauses.is_empty()
                && insert.optimizer_hints.is_empty()
                && insert.source.is_some();
            if !plain {
                return Err("this INSERT form is not supported; write INSERT INTO table (columns) VALUES (...) or \
                            INSERT INTO table (columns) SELECT ..."
                    .into());
            }
            if insert.columns.is_empty() {
                return Err("name the columns the INSERT writes: INSERT INTO table (a, b) VALUES (...)".into());
            }
            if let Some(name) =
                insert.columns.iter().find(|n| !matches!(n.0.as_slice(), [ObjectNamePart::Identifier(_)]))
            {
                return Err(format!("name the INSERT's columns by their bare name, not {name}"));
            }
            if insert.returning.is_some() {
                return Err(NO_RETURNING.into());
            }
            match &insert.on {
                None => Ok(WriteKind::Insert),
                Some(OnInsert::OnConflict(on_conflict)) => {
                    if matches!(on_conflict.conflict_target, Some(ConflictTarget::OnConstraint(_))) {
                        return Err("ON CONFLICT ON CONSTRAINT is not supported; name the conflict columns".into());
                    }
                    match &on_conflict.action {
                        OnConflictAction::DoNothing => Ok(WriteKind::Insert),
                        OnConflictAction::DoUpdate(update) => {
                            assigned(&update.assignments)?;
                            Ok(WriteKind::Upsert)
                        }
                    }
                }
                Some(_) => Err("this INSERT form is not supported; use ON CONFLICT".into()),
            }
        }
        Statement::Update(update) => {
            if update.or.is_some() {
                return Err("UPDATE OR ... is not allowed in a tool that writes".into());
            }
            let plain = update.from.is_none()
                && update.on_cluster.is_none()
                && update.output.is_none()
                && update.order_by.is_empty()
                && update.limit.is_none()
                && update.settings.is_none()
                && update.optimizer_hints.is_empty();
            if !plain || !one_table(&update.table) {
                return Err("this UPDATE form is not supported; write UPDATE table SET column = value, ... WHERE \
                            ... (one table; no FROM, ORDER BY or LIMIT)"
                    .into());
            }
            if update.returning.is_some() {
                return Err(NO_RETURNING.into());
            }
            assigned(&update.assignments)?;
            if update.selection.is_none() {
                return Err("an UPDATE without a WHERE clause would change every row; a tool that writes must say \
                            which rows (WHERE ...)"
                    .into());
            }
            Ok(WriteKind::Update)
        }
        Statement::Delete(delete) => {
            let one = match &delete.from {
                FromTable::WithFromKeyword(from) => matches!(from.as_slice(), [table] if one_table(table)),
                FromTable::WithoutKeyword(_) => false,
            };
            let plain = delete.tables.is_empty()
                && delete.using.is_none()
                && delete.on_cluster.is_none()
                && delete.output.is_none()
                && delete.order_by.is_empty()
                && delete.limit.is_none()
                && delete.settings.is_none()
                && delete.optimizer_hints.is_empty();
            if !plain || !one {
                return Err("this DELETE form is not supported; write DELETE FROM table WHERE ... (one table; no \
                            USING, ORDER BY or LIMIT)"
                    .into());
            }
            if delete.returning.is_some() {
                return Err(NO_RETURNING.into());
            }
            if delete.selection.is_none() {
                return Err("a DELETE without a WHERE clause would delete every row; a tool that writes must say \
                            which rows (WHERE ...)"
                    .into());
            }
            Ok(WriteKind::Delete)
        }
        _ => Err("a tool that writes runs one INSERT, UPDATE or DELETE".into()),
    }
}

/// The columns an UPDATE's or DO UPDATE's SET writes, each by its bare name.
fn assigned(assignments: &[Assignment]) -> Result<Vec<&Ident>, String> {
    assignments
        .iter()
        .map(|a| match &a.target {
            AssignmentTarget::ColumnName(name) => match name.0.as_slice() {
                [ObjectNamePart::Identifier(ident)] => Ok(ident),
                _ => Err(format!("SET columns by their bare name, not {name}")),
            },
            AssignmentTarget::Tuple(_) => Err("SET (a, b) = ... is not supported; set each column".into()),
        })
        .collect()
}

/// One plain table, no join, no table function.
fn one_table(from: &TableWithJoins) -> bool {
    from.joins.is_empty() && matches!(&from.relation, TableFactor::Table { args: None, .. })
}

type Parts<'s> = (&'s ObjectName, Vec<&'s Ident>, Vec<&'s Ident>);

/// The target's (canonical) name, the columns written and the conflict columns.
fn parts(statement: &Statement) -> Result<Parts<'_>, String> {
    match statement {
        Statement::Insert(insert) => {
            let TableObject::TableName(target) = &insert.table else { return Err("no target table".into()) };
            let mut written = Vec::new();
            for name in &insert.columns {
                match name.0.as_slice() {
                    [ObjectNamePart::Identifier(ident)] => written.push(ident),
                    _ => return Err(format!("name the INSERT's columns by their bare name, not {name}")),
                }
            }
            let mut conflict = Vec::new();
            if let Some(OnInsert::OnConflict(on_conflict)) = &insert.on {
                if let Some(ConflictTarget::Columns { columns, .. }) = &on_conflict.conflict_target {
                    conflict.extend(columns.iter());
                }
                if let OnConflictAction::DoUpdate(update) = &on_conflict.action {
                    written.extend(assigned(&update.assignments)?);
                }
            }
            Ok((target, written, conflict))
        }
        Statement::Update(update) => match &update.table.relation {
            TableFactor::Table { name, .. } => Ok((name, assigned(&update.assignments)?, vec![])),
            _ => Err("no target table".into()),
        },
        Statement::Delete(delete) => match &delete.from {
            FromTable::WithFromKeyword(from) => match from.first().map(|f| &f.relation) {
                Some(TableFactor::Table { name, .. }) => Ok((name, vec![], vec![])),
                _ => Err("no target table".into()),
            },
            FromTable::WithoutKeyword(_) => Err("no target table".into()),
        },
        _ => Err("a tool that writes runs one INSERT, UPDATE or DELETE".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_is_judged_on_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let p = dialect.placeholder(1);
            let cases = [
                (format!("INSERT INTO t (a) VALUES ({p})"), Ok(WriteKind::Insert)),
                (format!("INSERT INTO t (a) VALUES ({p}) ON CONFLICT (a) DO NOTHING"), Ok(WriteKind::Insert)),
                (
                    format!("INSERT INTO t (a, b) VALUES ({p}, 1) ON CONFLICT (a) DO UPDATE SET b = excluded.b"),
                    Ok(WriteKind::Upsert),
                ),
                (format!("UPDATE t SET a = {p} WHERE id = 1;"), Ok(WriteKind::Update)),
                (format!("DELETE FROM t WHERE id = {p}"), Ok(WriteKind::Delete)),
            ];
            for (sql, expected) in cases {
                assert_eq!(check_shape(dialect, &sql), expected, "{dialect:?}: {sql}");
            }
            for (sql, expected) in [
                ("DELETE FROM t", "without a WHERE clause"),
                ("UPDATE t SET a = 1", "without a WHERE clause"),
                ("TRUNCATE t", "this is a TRUNCATE statement"),
                ("ALTER TABLE t ADD COLUMN c int", "this is a ALTER statement"),
                ("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)", "WITH is not allowed"),
                ("DELETE FROM t WHERE id = 1; SELECT 1", "exactly one statement"),
                ("DELETE FROM t WHERE id = 1 RETURNING *", "RETURNING is not allowed"),
                ("INSERT INTO t (a) VALUES (1) ON CONFLICT ON CONSTRAINT k DO NOTHING", "ON CONSTRAINT"),
                ("UPDATE t SET (a, b) = (1, 2) WHERE id = 1", "SET (a, b) = ... is not supported"),
                ("UPDATE t SET t.a = 1 WHERE id = 1", "SET columns by their bare name"),
                ("", "holds no statement"),
            ] {
                let error = check_shape(dialect, sql).expect_err(sql);
                assert!(error.contains(expected), "{dialect:?}: {sql}: {error}");
            }
        }
    }
}

//! Read-only SQL for `query_sql`: one SELECT, checked on its parsed AST before it reaches the
//! database, then re-printed from that AST (never the caller's text) and wrapped in the row cap.
//!
//! The rules, all allow-lists (deny-lists lose to the next function or syntax nobody listed):
//! - exactly one statement, a query (`SELECT`, `WITH ... SELECT`, `VALUES`), no data-modifying
//!   CTE, no `SELECT ... INTO`, no `FOR UPDATE/SHARE`, no `WITH RECURSIVE` (unbounded work);
//! - every relation is a visible table of the service (or a CTE of the query), rewritten to its
//!   exact quoted, schema-qualified name so case folding or `search_path` cannot make it name
//!   another one; table functions (`generate_series`, `json_each`, `pragma_table_info`) refused;
//! - every function is on the engine's allow-list, called by its bare name;
//! - only expression forms on an allow-list (no engine-specific exotica);
//! - no column the service hides or masks, no `*` and no whole-row reference on a table that has
//!   such columns (the caller names the columns instead).
//!
//! Nothing here executes anything: the caller runs the returned SQL with its bound parameters.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, JoinConstraint, JoinOperator,
    ObjectName, ObjectNamePart, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableFactor, TableWithJoins, VisitMut, VisitorMut,
};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::Dialect;
use crate::columns::ColumnPolicies;
use crate::schema::{Schema, Table};

/// Longest SQL text accepted, in bytes.
pub const MAX_SQL_BYTES: usize = 16 * 1024;

/// Nesting depth the parser accepts (parentheses, subqueries, calls): deeper input is an error,
/// not a stack overflow. The parser's frames are large: at its default of 50 a native release
/// build overflowed 1 MiB of stack on `abs(abs(...))`; at 20 the worst shapes measured fit in
/// 512 KiB (a wasm32 stack is 1 MiB).
pub const MAX_DEPTH: usize = 20;

/// Functions callable from `query_sql` on SQLite (D1). Not listed on purpose: `load_extension`,
/// `readfile`/`writefile`/`edit` (CLI), `fts3_tokenizer`, `randomblob`/`zeroblob` (memory),
/// `printf`/`format` (width padding builds huge strings), `sqlite_*`, `changes`,
/// `last_insert_rowid`, the `pragma_*` table functions.
#[rustfmt::skip]
pub const SQLITE_FUNCTIONS: &[&str] = &[
    "abs", "avg", "char", "coalesce", "count", "cume_dist", "date", "datetime", "dense_rank", "first_value", "glob",
    "group_concat", "hex", "ifnull", "iif", "instr", "json", "json_array", "json_array_length", "json_extract",
    "json_group_array", "json_group_object", "json_object", "json_type", "json_valid", "julianday", "lag",
    "last_value", "lead", "length", "like", "lower", "ltrim", "max", "min", "nth_value", "ntile", "nullif",
    "percent_rank", "quote", "rank", "replace", "round", "row_number", "rtrim", "sign", "strftime", "string_agg",
    "substr", "substring", "sum", "time", "total", "trim", "typeof", "unicode", "unixepoch", "upper", "ceil",
    "ceiling", "floor", "sqrt", "pow", "power", "exp", "ln", "log", "log10", "log2", "mod", "pi",
];

/// Functions callable from `query_sql` on PostgreSQL. Not listed on purpose, among others:
/// `pg_read_file`/`pg_ls_dir`/`pg_stat_file` (files), `lo_*` (large objects), `dblink*`,
/// `pg_sleep*`, `set_config`/`current_setting` (configuration), `query_to_xml` and friends (run
/// SQL text), `nextval`/`setval` (writes), `pg_advisory_*` (locks), `repeat`/`lpad`/`rpad`
/// (huge strings), `txid_current` (assigns an id), `current_user` and the other `pg_*` functions.
#[rustfmt::skip]
pub const POSTGRES_FUNCTIONS: &[&str] = &[
    "abs", "age", "array_agg", "array_length", "array_to_string", "avg", "bit_and", "bit_or", "bool_and", "bool_or",
    "btrim", "cardinality", "cbrt", "ceil", "ceiling", "char_length", "character_length", "coalesce", "concat",
    "concat_ws", "corr", "count", "cume_dist", "current_date", "current_time", "current_timestamp", "date_part",
    "date_trunc", "degrees", "dense_rank", "every", "exp", "first_value", "floor", "greatest", "initcap", "json_agg",
    "json_array_length", "json_build_array", "json_build_object", "json_extract_path_text", "json_object_agg",
    "json_typeof", "jsonb_agg", "jsonb_array_length", "jsonb_build_array", "jsonb_build_object",
    "jsonb_extract_path_text", "jsonb_object_agg", "jsonb_typeof", "lag", "last_value", "lead", "least", "left",
    "length", "ln", "localtime", "localtimestamp", "log", "log10", "lower", "ltrim", "make_date", "make_timestamp",
    "max", "md5", "min", "mod", "now", "nth_value", "ntile", "nullif", "octet_length", "percent_rank",
    "percentile_cont", "percentile_disc", "pi", "position", "power", "radians", "rank", "regexp_replace", "replace",
    "reverse", "right", "round", "row_number", "rtrim", "sign", "split_part", "sqrt", "stddev", "stddev_pop",
    "stddev_samp", "string_agg", "string_to_array", "strpos", "substr", "substring", "sum", "to_char", "to_date",
    "to_number", "to_timestamp", "trim", "trunc", "upper", "var_pop", "var_samp", "variance",
];

/// What the service lets `query_sql` read.
pub struct Visibility<'a> {
    /// The service's schema: hidden tables and columns already removed.
    pub schema: &'a Schema,
    /// The `columns` setting (hidden columns are gone from the schema, so their names come from here).
    pub columns: &'a ColumnPolicies,
    /// The configured hidden tables (no CTE may take one of their names).
    pub hidden_tables: &'a [String],
    /// A last word per table: `Err(why)` refuses it (row policies hook in here).
    pub table_allowed: &'a dyn Fn(&Table) -> Result<(), String>,
}

impl<'a> Visibility<'a> {
    /// What a service lets `query_sql` and its custom tools see: its schema, column policy and
    /// hidden tables, every table passing `table_allowed`.
    pub fn of_service(
        schema: &'a Schema,
        service: &'a crate::config::ServiceConfig,
        table_allowed: &'a dyn Fn(&Table) -> Result<(), String>,
    ) -> Self {
        Visibility { schema, columns: &service.columns, hidden_tables: &service.hidden_tables, table_allowed }
    }
}

/// A validated query: its canonical text (re-printed from the checked AST) and that text wrapped
/// in the row cap.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOnlyQuery {
    pub canonical: String,
    pub wrapped: String,
    /// Parameters the SQL's placeholders (`?`, `?N` on SQLite, `$N` on PostgreSQL) need.
    pub params_needed: usize,
}

/// Parses, checks and re-prints `sql`; `limit` is the row cap the wrapper applies.
pub fn validate(dialect: Dialect, sql: &str, visibility: &Visibility, limit: u64) -> Result<ReadOnlyQuery, String> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(format!("the SQL is {} bytes; query_sql accepts at most {MAX_SQL_BYTES}", sql.len()));
    }
    let mut statement = parse_one(dialect, sql)?;

    let params_needed = check_tree(dialect, &mut *statement, visibility, false)?;

    let canonical = statement.to_string();
    // Defence in depth: what the database receives must parse back to the very AST checked
    // (compared by its printed form: deriving equality over the whole AST costs bundle size).
    match parse_one(dialect, &canonical) {
        Ok(again) if again.to_string() == canonical => {}
        _ => return Err("this query cannot be re-printed faithfully; simplify it".into()),
    }
    let wrapped = format!("SELECT * FROM ({canonical}) AS q LIMIT {limit}");
    Ok(ReadOnlyQuery { canonical, wrapped, params_needed })
}

/// Both passes over `tree` (a query, or a write statement whose shape the caller has checked:
/// `root_statement`), rewriting its relations to canonical names; returns the parameters needed.
fn check_tree<T: VisitMut>(
    dialect: Dialect,
    tree: &mut T,
    visibility: &Visibility,
    root_statement: bool,
) -> Result<usize, String> {
    let resolver = Resolver { dialect, visibility, ctes: BTreeSet::new(), touched: Vec::new(), root_statement };
    let mut pass = Pass::Resolve(resolver);
    if let ControlFlow::Break(message) = VisitMut::visit(tree, &mut pass) {
        return Err(message);
    }
    let Pass::Resolve(resolver) = pass else { unreachable!("the first pass resolves") };
    let protected = Protected::of(visibility, &resolver.touched);
    let mut pass = Pass::Check(Checker { dialect, protected: &protected, placeholders: Vec::new() });
    if let ControlFlow::Break(message) = VisitMut::visit(tree, &mut pass) {
        return Err(message);
    }
    let Pass::Check(checker) = pass else { unreachable!("the second pass checks") };
    params_needed(dialect, &checker.placeholders)
}

/// For custom tools that write ([`super::write_check`], which checks the statement's shape and
/// written columns first): every table, subquery, expression and function of `statement` goes
/// through the checks a query gets, its relations rewritten to their canonical names. Returns
/// the parameters its placeholders need.
pub(crate) fn check_write_statement(
    dialect: Dialect,
    statement: &mut Statement,
    visibility: &Visibility,
) -> Result<usize, String> {
    check_tree(dialect, statement, visibility, true)
}

/// The visible table a canonical name (after [`check_write_statement`]) denotes.
pub(crate) fn table_of_canonical(dialect: Dialect, visibility: &Visibility, name: &ObjectName) -> Option<usize> {
    let canonical = name.to_string();
    visibility.schema.tables.iter().position(|t| canonical_name(dialect, t).to_string() == canonical)
}

/// How many parameters the placeholders call for: positional `?` count one each, numbered ones
/// (`?3`, `$3`) up to their highest number; mixing the two is refused.
fn params_needed(dialect: Dialect, placeholders: &[String]) -> Result<usize, String> {
    let numbered_prefix = match dialect {
        Dialect::Sqlite => '?',
        Dialect::Postgres => '$',
    };
    let mut anonymous = 0;
    let mut highest = 0;
    for placeholder in placeholders {
        if dialect == Dialect::Sqlite && placeholder == "?" {
            anonymous += 1;
            continue;
        }
        let number = placeholder
            .strip_prefix(numbered_prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=MAX_PARAMS).contains(n))
            .ok_or_else(|| match dialect {
                Dialect::Sqlite => format!("placeholder {placeholder} is not supported; use ? or ?1, ?2, ..."),
                Dialect::Postgres => format!("placeholder {placeholder} is not supported; use $1, $2, ..."),
            })?;
        highest = highest.max(number);
    }
    if anonymous > 0 && highest > 0 {
        return Err("use either ? or numbered placeholders (?1, ?2), not both".into());
    }
    Ok(anonymous + highest)
}

/// Parses `sql` as exactly one read query, without checking it against a schema (custom tools
/// at configuration time; the full checks run at call time).
pub fn check_syntax(dialect: Dialect, sql: &str) -> Result<(), String> {
    parse_one(dialect, sql).map(|_| ())
}

/// Parameters one query may bind (D1's limit).
pub const MAX_PARAMS: usize = 100;

/// Parses exactly one query. Only the query grammar is used (`Parser::parse_query`), not the
/// statement grammar: the rest of the parser (DDL and the like) then never reaches the bundle.
fn parse_one(dialect: Dialect, sql: &str) -> Result<Box<Query>, String> {
    match dialect {
        Dialect::Sqlite => parse_query_in(&SQLiteDialect {}, sql),
        Dialect::Postgres => parse_query_in(&PostgreSqlDialect {}, sql),
    }
}

fn parse_query_in(grammar: &dyn sqlparser::dialect::Dialect, sql: &str) -> Result<Box<Query>, String> {
    let parse_error = |e: sqlparser::parser::ParserError| format!("could not parse the SQL: {e}");
    let mut parser = Parser::new(grammar).with_recursion_limit(MAX_DEPTH).try_with_sql(sql).map_err(parse_error)?;
    while parser.consume_token(&Token::SemiColon) {}
    match parser.peek_token().token {
        Token::EOF => return Err("the SQL holds no statement; give one SELECT".into()),
        Token::Word(word)
            if word.quote_style.is_none()
                && !matches!(word.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES) =>
        {
            return Err(format!(
                "only a read query is allowed (SELECT, WITH ... SELECT or VALUES); this is a {} statement",
                word.value.to_uppercase()
            ))
        }
        _ => {}
    }
    let query = parser.parse_query().map_err(parse_error)?;
    let mut separated = false;
    while parser.consume_token(&Token::SemiColon) {
        separated = true;
    }
    match parser.peek_token().token {
        Token::EOF => Ok(query),
        _ if separated => Err("exactly one statement is allowed; this SQL holds more".into()),
        other => Err(format!("could not parse the SQL: unexpected {other} after the query")),
    }
}

/// Pass one (mutating): query shapes, relations resolved and rewritten, CTE names collected.
struct Resolver<'v, 'a> {
    dialect: Dialect,
    visibility: &'v Visibility<'a>,
    /// CTE names of the query, lowercase.
    ctes: BTreeSet<String>,
    /// Indexes of the schema tables the query reads, with the aliases it gives them.
    touched: Vec<(usize, Option<String>)>,
    /// The root is a write statement (custom tools that write), let through once.
    root_statement: bool,
}

/// Both passes through one visitor type: the AST walker is generic over it, and each type
/// would compile a whole walker of its own (about 100 KB of wasm).
enum Pass<'v, 'a, 'p> {
    Resolve(Resolver<'v, 'a>),
    Check(Checker<'p>),
}

impl VisitorMut for Pass<'_, '_, '_> {
    type Break = String;

    fn pre_visit_statement(&mut self, statement: &mut Statement) -> ControlFlow<String> {
        match self {
            Pass::Resolve(resolver) => resolver.pre_visit_statement(statement),
            Pass::Check(_) => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<String> {
        match self {
            Pass::Resolve(resolver) => resolver.pre_visit_query(query),
            Pass::Check(_) => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<String> {
        match self {
            Pass::Resolve(resolver) => resolver.pre_visit_select(select),
            Pass::Check(checker) => checker.pre_visit_select(select),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<String> {
        match self {
            Pass::Resolve(resolver) => resolver.pre_visit_table_factor(factor),
            Pass::Check(_) => ControlFlow::Continue(()),
        }
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<String> {
        match self {
            Pass::Resolve(resolver) => resolver.post_visit_table_factor(factor),
            Pass::Check(_) => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<String> {
        match self {
            Pass::Resolve(resolver) => resolver.pre_visit_relation(relation),
            Pass::Check(_) => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_value(&mut self, value: &mut sqlparser::ast::ValueWithSpan) -> ControlFlow<String> {
        match self {
            Pass::Check(checker) => checker.pre_visit_value(value),
            Pass::Resolve(_) => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<String> {
        match self {
            Pass::Check(checker) => checker.pre_visit_expr(expr),
            Pass::Resolve(_) => ControlFlow::Continue(()),
        }
    }
}

impl Resolver<'_, '_> {
    fn pre_visit_statement(&mut self, _: &mut Statement) -> ControlFlow<String> {
        // The root of a write tool's statement is let through (its shape is checked elsewhere);
        // under a query, any statement is a nested one (a data-modifying CTE).
        if std::mem::take(&mut self.root_statement) {
            return ControlFlow::Continue(());
        }
        ControlFlow::Break(
            "a data-modifying statement inside the query (INSERT/UPDATE/DELETE/MERGE) is not allowed".into(),
        )
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<String> {
        check_query_shape(query)?;
        if let Some(with) = &query.with {
            if with.recursive {
                return ControlFlow::Break(
                    "WITH RECURSIVE is not allowed in checked SQL (query_sql, custom tools)".into(),
                );
            }
            for cte in &with.cte_tables {
                if cte.from.is_some() {
                    return ControlFlow::Break("this CTE form is not supported by query_sql".into());
                }
                let name = cte.alias.name.value.to_lowercase();
                if self.shadows_real_name(&name) {
                    return ControlFlow::Break(format!(
                        "the CTE name {:?} is also the name of a table; choose another name",
                        cte.alias.name.value
                    ));
                }
                self.ctes.insert(name);
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<String> {
        check_select_shape(select)
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table {
                alias,
                args,
                with_hints,
                version,
                partitions,
                json_path,
                sample,
                index_directives,
                with_ordinality,
                ..
            } => {
                // `customers AS c(a, b, secret)` would rename a hidden column to an allowed name.
                if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
                    return ControlFlow::Break(
                        "column lists on a table alias are not allowed in checked SQL (query_sql, custom tools); alias columns in SELECT".into(),
                    );
                }
                if args.is_some() || *with_ordinality {
                    return ControlFlow::Break(
                        "table functions (generate_series, json_each, pragma_table_info...) are not allowed in checked SQL (query_sql, custom tools)"
                            .into(),
                    );
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_directives.is_empty()
                {
                    return ControlFlow::Break(
                        "table hints, samples and versions are not allowed in checked SQL (query_sql, custom tools)"
                            .into(),
                    );
                }
                ControlFlow::Continue(())
            }
            TableFactor::Derived { sample: None, .. } | TableFactor::NestedJoin { .. } => ControlFlow::Continue(()),
            _ => ControlFlow::Break("only tables, subqueries and joins may appear in FROM".into()),
        }
    }

    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<String> {
        // The name is canonical by now (pre_visit_relation ran): remember the alias it goes by.
        if let TableFactor::Table { name, alias, .. } = factor {
            let alias = alias.as_ref().map(|a| a.name.value.to_lowercase());
            if let Some(index) = self.find(name) {
                self.touched.push((index, alias));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<String> {
        let parts = idents(relation)?;
        if let [only] = parts.as_slice() {
            if only.quote_style.is_none() || self.dialect == Dialect::Sqlite {
                if self.ctes.contains(&only.value.to_lowercase()) {
                    return ControlFlow::Continue(());
                }
            } else if self.ctes.contains(&only.value) {
                return ControlFlow::Continue(());
            }
        }
        let Some(index) = self.resolve(&parts) else {
            let shown: Vec<String> = parts.iter().map(|p| p.value.clone()).collect();
            let names: Vec<&str> = self.visibility.schema.tables.iter().map(|t| t.name.as_str()).collect();
            return ControlFlow::Break(format!(
                "unknown table {:?}; query_sql reads only these tables: {}",
                shown.join("."),
                names.join(", ")
            ));
        };
        let table = &self.visibility.schema.tables[index];
        if let Err(why) = (self.visibility.table_allowed)(table) {
            return ControlFlow::Break(why);
        }
        // Every relation's protected columns count, not only those named in FROM (an INSERT's
        // target is a relation but not a table factor).
        self.touched.push((index, None));
        *relation = canonical_name(self.dialect, table);
        ControlFlow::Continue(())
    }
}

impl Resolver<'_, '_> {
    /// A CTE may not take the name of a table the query could otherwise reach: a reference out of
    /// the CTE's scope would then read that table unchecked.
    fn shadows_real_name(&self, lowercase: &str) -> bool {
        lowercase.starts_with("pg_")
            || lowercase.starts_with("sqlite_")
            || self.visibility.hidden_tables.iter().any(|h| {
                let h = h.to_lowercase();
                h == lowercase || h.ends_with(&format!(".{lowercase}"))
            })
            || self.visibility.schema.hidden_names.iter().any(|h| h.eq_ignore_ascii_case(lowercase))
            || self.visibility.schema.tables.iter().any(|t| base_name(t).eq_ignore_ascii_case(lowercase))
    }

    /// The visible table these name parts denote, if any (PostgreSQL folds unquoted names to
    /// lowercase and compares quoted ones exactly; SQLite compares ASCII case-insensitively).
    fn resolve(&self, parts: &[Ident]) -> Option<usize> {
        let (schema_part, table_part) = match parts {
            [table] => (None, table),
            [schema, table] => (Some(schema), table),
            _ => return None,
        };
        let same = |ident: &Ident, real: &str| match self.dialect {
            Dialect::Sqlite => ident.value.eq_ignore_ascii_case(real),
            Dialect::Postgres if ident.quote_style.is_some() => ident.value == real,
            Dialect::Postgres => ident.value.to_ascii_lowercase() == real,
        };
        self.visibility.schema.tables.iter().position(|table| {
            let default_schema = match self.dialect {
                Dialect::Sqlite => "main",
                Dialect::Postgres => "public",
            };
            let table_schema = table.schema.as_deref().unwrap_or(default_schema);
            let schema_ok = match schema_part {
                None => table_schema == default_schema,
                Some(s) => same(s, table_schema),
            };
            schema_ok && same(table_part, base_name(table))
        })
    }

    /// A canonical name back to its table.
    fn find(&self, name: &ObjectName) -> Option<usize> {
        let canonical = name.to_string();
        self.visibility.schema.tables.iter().position(|t| canonical_name(self.dialect, t).to_string() == canonical)
    }
}

/// The table's name without its schema prefix (`reporting.daily_sales` -> `daily_sales`).
fn base_name(table: &Table) -> &str {
    match &table.schema {
        Some(schema) => table.name.strip_prefix(&format!("{schema}.")).unwrap_or(&table.name),
        None => &table.name,
    }
}

/// The exact, quoted name: schema-qualified on PostgreSQL so `search_path` plays no part.
fn canonical_name(dialect: Dialect, table: &Table) -> ObjectName {
    let quoted = |s: &str| ObjectNamePart::Identifier(Ident::with_quote('"', s));
    match dialect {
        Dialect::Postgres => {
            ObjectName(vec![quoted(table.schema.as_deref().unwrap_or("public")), quoted(base_name(table))])
        }
        Dialect::Sqlite => ObjectName(vec![quoted(base_name(table))]),
    }
}

fn idents(name: &ObjectName) -> ControlFlow<String, Vec<Ident>> {
    let mut parts = Vec::with_capacity(name.0.len());
    for part in &name.0 {
        match part {
            ObjectNamePart::Identifier(ident) => parts.push(ident.clone()),
            ObjectNamePart::Function(_) => return ControlFlow::Break("computed names are not allowed".into()),
        }
    }
    ControlFlow::Continue(parts)
}

fn check_query_shape(query: &Query) -> ControlFlow<String> {
    if !query.locks.is_empty() {
        return ControlFlow::Break(
            "FOR UPDATE / FOR SHARE locks are not allowed in checked SQL (query_sql, custom tools)".into(),
        );
    }
    if query.for_clause.is_some()
        || query.settings.is_some()
        || query.format_clause.is_some()
        || !query.pipe_operators.is_empty()
    {
        return ControlFlow::Break("this query clause is not supported by query_sql".into());
    }
    check_set_expr(&query.body)
}

fn check_set_expr(body: &SetExpr) -> ControlFlow<String> {
    match body {
        SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::Values(_) => ControlFlow::Continue(()),
        SetExpr::SetOperation { left, right, .. } => {
            check_set_expr(left)?;
            check_set_expr(right)
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => ControlFlow::Break(
            "a data-modifying statement inside the query (INSERT/UPDATE/DELETE/MERGE) is not allowed".into(),
        ),
        SetExpr::Table(_) => ControlFlow::Break("TABLE name is not supported; write SELECT ... FROM name".into()),
    }
}

fn check_select_shape(select: &Select) -> ControlFlow<String> {
    if select.into.is_some() {
        return ControlFlow::Break("SELECT ... INTO is not allowed in checked SQL (query_sql, custom tools)".into());
    }
    if select.top.is_some()
        || !select.optimizer_hints.is_empty()
        || select.select_modifiers.is_some()
        || select.exclude.is_some()
        || !select.lateral_views.is_empty()
        || select.prewhere.is_some()
        || !select.connect_by.is_empty()
        || !select.cluster_by.is_empty()
        || !select.distribute_by.is_empty()
        || !select.sort_by.is_empty()
        || select.qualify.is_some()
        || select.value_table_mode.is_some()
    {
        return ControlFlow::Break("this SELECT clause is not supported by query_sql".into());
    }
    for from in &select.from {
        check_joins(from)?;
    }
    ControlFlow::Continue(())
}

fn check_joins(from: &TableWithJoins) -> ControlFlow<String> {
    for join in &from.joins {
        let constraint = match &join.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            | JoinOperator::CrossJoin(c) => c,
            _ => return ControlFlow::Break("this kind of join is not supported by query_sql".into()),
        };
        match constraint {
            JoinConstraint::Natural => {
                return ControlFlow::Break(
                    "NATURAL JOIN is not allowed in checked SQL (query_sql, custom tools); write the join condition"
                        .into(),
                )
            }
            JoinConstraint::UsingAlias(..) => {
                return ControlFlow::Break("JOIN ... USING ... AS is not supported by query_sql".into())
            }
            JoinConstraint::On(_) | JoinConstraint::Using(_) | JoinConstraint::None => {}
        }
    }
    ControlFlow::Continue(())
}

/// What the query may not name: hidden and masked columns of the tables it reads, and those
/// tables' names and aliases as values (a whole-row reference carries every column).
struct Protected {
    /// Lowercase hidden column names.
    hidden: BTreeSet<String>,
    /// Lowercase masked column names.
    masked: BTreeSet<String>,
    /// Lowercase names and aliases of the touched tables that have hidden or masked columns.
    tables: BTreeSet<String>,
    /// The first such table, for messages.
    example: Option<String>,
}

impl Protected {
    fn of(visibility: &Visibility, touched: &[(usize, Option<String>)]) -> Protected {
        let mut protected =
            Protected { hidden: BTreeSet::new(), masked: BTreeSet::new(), tables: BTreeSet::new(), example: None };
        for (index, alias) in touched {
            let table = &visibility.schema.tables[*index];
            let hidden: Vec<String> = visibility
                .columns
                .iter()
                .filter(|(configured, _)| crate::columns::names_table(configured, &table.name))
                .flat_map(|(_, rules)| rules.hidden.iter().map(|c| c.to_lowercase()))
                .collect();
            let masked = table.policy.masked.iter().map(|(c, _)| c.to_lowercase());
            if !hidden.is_empty() || !table.policy.masked.is_empty() {
                protected.hidden.extend(hidden);
                protected.masked.extend(masked);
                protected.tables.insert(base_name(table).to_lowercase());
                protected.tables.extend(alias.clone());
                protected.example.get_or_insert_with(|| table.name.clone());
            }
        }
        protected
    }

    fn column(&self, ident: &Ident) -> ControlFlow<String> {
        let name = ident.value.to_lowercase();
        // A hidden column is answered as unknown, as every other tool does.
        if self.hidden.contains(&name) {
            return ControlFlow::Break(format!("unknown column {:?}", ident.value));
        }
        if self.masked.contains(&name) {
            return ControlFlow::Break(format!("column {:?} is masked: query_sql cannot read it", ident.value));
        }
        ControlFlow::Continue(())
    }

    fn whole_row(&self, ident: &Ident) -> ControlFlow<String> {
        if self.tables.contains(&ident.value.to_lowercase()) {
            return ControlFlow::Break(format!(
                "{:?} names a whole row of a table with hidden or masked columns; name the columns instead",
                ident.value
            ));
        }
        ControlFlow::Continue(())
    }

    fn wildcard(&self) -> ControlFlow<String> {
        match &self.example {
            Some(table) => ControlFlow::Break(format!(
                "table {table:?} has hidden or masked columns, so query_sql cannot expand *; name the columns you want"
            )),
            None => ControlFlow::Continue(()),
        }
    }
}

/// Pass two (reading, through the same mutable walker: one walker compiled, not two): expressions, functions, columns and wildcards.
struct Checker<'p> {
    dialect: Dialect,
    protected: &'p Protected,
    placeholders: Vec<String>,
}

impl Checker<'_> {
    fn pre_visit_value(&mut self, value: &mut sqlparser::ast::ValueWithSpan) -> ControlFlow<String> {
        if let sqlparser::ast::Value::Placeholder(text) = &value.value {
            self.placeholders.push(text.clone());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<String> {
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(_) => self.protected.wildcard()?,
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(_), _) => {
                    self.protected.wildcard()?
                }
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(_), _) => {
                    return ControlFlow::Break("expr.* is not supported by query_sql".into())
                }
                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. } => {}
                _ => return ControlFlow::Break("this select item is not supported by query_sql".into()),
            }
        }
        for from in &select.from {
            self.using_columns(from)?;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<String> {
        match expr {
            Expr::Identifier(ident) => {
                self.protected.column(ident)?;
                self.protected.whole_row(ident)
            }
            Expr::CompoundIdentifier(parts) => {
                for part in parts {
                    self.protected.column(part)?;
                }
                ControlFlow::Continue(())
            }
            Expr::Function(function) => self.function(function),
            Expr::BinaryOp { op: BinaryOperator::PGCustomBinaryOperator(_) | BinaryOperator::Custom(_), .. } => {
                ControlFlow::Break(
                    "custom operators (OPERATOR(...)) are not allowed in checked SQL (query_sql, custom tools)".into(),
                )
            }
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => self.protected.wildcard(),
            Expr::CompoundFieldAccess { .. }
            | Expr::JsonAccess { .. }
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::In { .. }
            | Expr::Between { .. }
            | Expr::BinaryOp { .. }
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::Cast { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Extract { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::Position { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Overlay { .. }
            | Expr::Collate { .. }
            | Expr::Nested(_)
            | Expr::Value(_)
            | Expr::TypedString(_)
            | Expr::Case { .. }
            | Expr::Exists { .. }
            | Expr::Subquery(_)
            | Expr::GroupingSets(_)
            | Expr::Cube(_)
            | Expr::Rollup(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
            | Expr::Interval(_) => ControlFlow::Continue(()),
            _ => ControlFlow::Break("this expression form is not supported by query_sql".into()),
        }
    }
}

impl Checker<'_> {
    fn function(&self, function: &sqlparser::ast::Function) -> ControlFlow<String> {
        let parts = idents(&function.name)?;
        let [name] = parts.as_slice() else {
            return ControlFlow::Break(format!(
                "function {} is not allowed: call functions by their bare name",
                function.name
            ));
        };
        let allowed = match self.dialect {
            Dialect::Sqlite => SQLITE_FUNCTIONS,
            Dialect::Postgres => POSTGRES_FUNCTIONS,
        };
        let lower = name.value.to_lowercase();
        if !allowed.contains(&lower.as_str()) || (name.quote_style.is_some() && name.value != lower) {
            return ControlFlow::Break(format!(
                "function {:?} is not allowed in checked SQL (query_sql, custom tools); allowed: {}",
                name.value,
                allowed.join(", ")
            ));
        }
        if !matches!(function.parameters, FunctionArguments::None) || function.uses_odbc_syntax {
            return ControlFlow::Break("this function call form is not supported by query_sql".into());
        }
        if let FunctionArguments::List(list) = &function.args {
            if !list.clauses.is_empty() && self.dialect == Dialect::Sqlite {
                // ORDER BY inside an aggregate is fine on both engines; other clauses are exotic.
                let only_order =
                    list.clauses.iter().all(|c| matches!(c, sqlparser::ast::FunctionArgumentClause::OrderBy(_)));
                if !only_order {
                    return ControlFlow::Break("this function argument clause is not supported by query_sql".into());
                }
            }
            for arg in &list.args {
                let value = match arg {
                    FunctionArg::Unnamed(value) => value,
                    _ => return ControlFlow::Break("named function arguments are not supported by query_sql".into()),
                };
                match value {
                    FunctionArgExpr::Expr(_) | FunctionArgExpr::Wildcard => {}
                    FunctionArgExpr::QualifiedWildcard(_) | FunctionArgExpr::WildcardWithOptions(_) => {
                        self.protected.wildcard()?
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn using_columns(&self, from: &TableWithJoins) -> ControlFlow<String> {
        for join in &from.joins {
            let constraint = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c) => c,
                _ => continue,
            };
            if let JoinConstraint::Using(names) = constraint {
                for name in names {
                    for part in idents(name)? {
                        self.protected.column(&part)?;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

//! `SELECT <group columns>, <aggregates> FROM t WHERE ... GROUP BY ... ORDER BY ... LIMIT ?`:
//! counts, sums, averages, minimums and maximums computed by the database, so a model does not
//! have to read thousands of rows to add them up.

use super::{comparable_column, resolve_column, Builder, Direction, RowFilter, SqlError, MAX_SAFE_INTEGER};
use crate::db::{SqlValue, Statement};
use crate::schema::Table;
use crate::sql::Dialect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFn {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggregateFn {
    pub fn parse(name: &str) -> Option<AggregateFn> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggregateFn::Count,
            "count_distinct" => AggregateFn::CountDistinct,
            "sum" => AggregateFn::Sum,
            "avg" => AggregateFn::Avg,
            "min" => AggregateFn::Min,
            "max" => AggregateFn::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AggregateFn::Count => "count",
            AggregateFn::CountDistinct => "count_distinct",
            AggregateFn::Sum => "sum",
            AggregateFn::Avg => "avg",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub function: AggregateFn,
    /// `None` only for `count` (COUNT(*)).
    pub column: Option<String>,
    pub alias: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AggregateSpec {
    pub aggregates: Vec<Aggregate>,
    pub group_by: Vec<String>,
    pub rows: RowFilter,
    /// Output names (aliases or group columns) to sort by.
    pub order: Vec<(String, Direction)>,
    pub limit: u64,
    pub offset: u64,
}

/// Output names become quoted identifiers; keep them plain so they read well as JSON keys.
pub fn is_valid_alias(alias: &str) -> bool {
    let mut chars = alias.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && alias.len() <= 63
}

/// SQLite sums and extremes of integers can pass 2^53; hand those over as text, as everywhere.
fn exact(d: Dialect, expr: &str) -> String {
    match d {
        Dialect::Sqlite => format!(
            "CASE WHEN typeof({expr}) = 'integer' AND ({expr} > {MAX_SAFE_INTEGER} OR {expr} < -{MAX_SAFE_INTEGER}) \
             THEN CAST({expr} AS TEXT) ELSE {expr} END"
        ),
        Dialect::Postgres => expr.to_string(),
    }
}

pub fn aggregate(d: Dialect, table: &Table, spec: &AggregateSpec) -> Result<Statement, SqlError> {
    if spec.aggregates.is_empty() {
        return Err(SqlError::new("give at least one aggregate, e.g. {\"function\": \"count\"}"));
    }
    let mut b = Builder::new(d, table);
    let table_ref = b.table_ref();
    let mut outputs: Vec<String> = Vec::new();
    let mut list = Vec::new();
    let mut groups = Vec::new();
    for name in &spec.group_by {
        let column = comparable_column(table, name, "group_by")?;
        // Grouping by a column twice changes nothing; repeats would only grow the SQL.
        if outputs.contains(&column.name) {
            continue;
        }
        let quoted = d.quote_ident(&column.name);
        list.push(format!("{} AS {quoted}", exact(d, &format!("{table_ref}.{quoted}"))));
        groups.push(format!("{table_ref}.{quoted}"));
        outputs.push(column.name.clone());
    }
    for agg in &spec.aggregates {
        if !is_valid_alias(&agg.alias) {
            return Err(SqlError::new(format!(
                "alias {:?} must be a plain name (letters, digits, underscore; not starting with a digit)",
                agg.alias
            )));
        }
        if outputs.iter().any(|o| o.eq_ignore_ascii_case(&agg.alias)) {
            return Err(SqlError::new(format!(
                "the output name {:?} is used twice; give the aggregate another alias",
                agg.alias
            )));
        }
        let expr = match (agg.function, &agg.column) {
            (AggregateFn::Count, None) => "COUNT(*)".to_string(),
            (_, None) => {
                return Err(SqlError::new(format!("{} needs a column", agg.function.name())));
            }
            (function, Some(name)) => {
                let column = d.quote_ident(&comparable_column(table, name, "an aggregate")?.name);
                let target = format!("{table_ref}.{column}");
                match function {
                    AggregateFn::Count => format!("COUNT({target})"),
                    AggregateFn::CountDistinct => format!("COUNT(DISTINCT {target})"),
                    AggregateFn::Sum => format!("SUM({target})"),
                    AggregateFn::Avg => format!("AVG({target})"),
                    AggregateFn::Min => format!("MIN({target})"),
                    AggregateFn::Max => format!("MAX({target})"),
                }
            }
        };
        list.push(format!("{} AS {}", exact(d, &expr), d.quote_ident(&agg.alias)));
        outputs.push(agg.alias.clone());
    }
    let mut sql = format!("SELECT {} FROM {table_ref}", list.join(", "));
    sql.push_str(&b.where_clause(&spec.rows)?);
    if !groups.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", groups.join(", ")));
    }
    if !spec.order.is_empty() {
        let mut items = Vec::new();
        let mut sorted: Vec<&String> = Vec::new();
        for (name, direction) in &spec.order {
            let output = outputs.iter().find(|o| o.eq_ignore_ascii_case(name)).ok_or_else(|| {
                SqlError::new(format!(
                    "cannot order by {name:?}: order by a group_by column or an aggregate alias ({})",
                    outputs.join(", ")
                ))
            })?;
            if sorted.contains(&output) {
                continue;
            }
            sorted.push(output);
            // A group column sorts by its value (qualified, so SQLite does not sort the text form
            // of a big integer); an aggregate by its output name.
            let target = if spec.group_by.iter().any(|g| resolve_column(table, g).map(|c| &c.name) == Ok(output)) {
                format!("{table_ref}.{}", d.quote_ident(output))
            } else {
                d.quote_ident(output)
            };
            let dir = match direction {
                Direction::Asc => "ASC",
                Direction::Desc => "DESC",
            };
            items.push(format!("{target} {dir}"));
        }
        sql.push_str(&format!(" ORDER BY {}", items.join(", ")));
    }
    let as_i64 = |n: u64| SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let limit = b.bind(as_i64(spec.limit));
    sql.push_str(&format!(" LIMIT {limit}"));
    if spec.offset > 0 {
        let offset = b.bind(as_i64(spec.offset));
        sql.push_str(&format!(" OFFSET {offset}"));
    }
    b.finish(sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, TableKind};

    fn table() -> Table {
        let col = |name: &str, ty: &str, pk: u32| Column {
            name: name.into(),
            data_type: ty.into(),
            nullable: pk == 0,
            default: None,
            primary_key: pk,
            comment: None,
            auto_increment: false,
        };
        Table {
            schema: None,
            name: "orders".into(),
            kind: TableKind::Table,
            columns: vec![col("id", "INTEGER", 1), col("status", "TEXT", 0), col("total", "REAL", 0)],
            foreign_keys: vec![],
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        }
    }

    fn agg(function: AggregateFn, column: Option<&str>, alias: &str) -> Aggregate {
        Aggregate { function, column: column.map(str::to_string), alias: alias.into() }
    }

    #[test]
    fn groups_orders_and_binds_the_limit() {
        let spec = AggregateSpec {
            aggregates: vec![agg(AggregateFn::Count, None, "orders"), agg(AggregateFn::Sum, Some("TOTAL"), "revenue")],
            group_by: vec!["status".into()],
            order: vec![("revenue".into(), Direction::Desc), ("status".into(), Direction::Asc)],
            limit: 10,
            ..Default::default()
        };
        let s = aggregate(Dialect::Postgres, &table(), &spec).unwrap();
        assert_eq!(
            s.sql,
            r#"SELECT "orders"."status" AS "status", COUNT(*) AS "orders", SUM("orders"."total") AS "revenue" FROM "orders" GROUP BY "orders"."status" ORDER BY "revenue" DESC, "orders"."status" ASC LIMIT $1"#
        );
        assert_eq!(s.params, vec![SqlValue::Integer(10)]);
        let sqlite = aggregate(Dialect::Sqlite, &table(), &spec).unwrap();
        assert!(sqlite.sql.contains("CASE WHEN typeof(SUM(\"orders\".\"total\")) = 'integer'"), "{}", sqlite.sql);
        assert!(sqlite.sql.ends_with("LIMIT ?1"));
    }

    #[test]
    fn repeated_group_and_order_columns_are_written_once() {
        let spec = AggregateSpec {
            aggregates: vec![agg(AggregateFn::Count, None, "n")],
            group_by: vec!["status".into(); 5_000],
            order: vec![("n".into(), Direction::Desc); 5_000],
            limit: 10,
            ..Default::default()
        };
        let s = aggregate(Dialect::Postgres, &table(), &spec).unwrap();
        assert_eq!(
            s.sql,
            r#"SELECT "orders"."status" AS "status", COUNT(*) AS "n" FROM "orders" GROUP BY "orders"."status" ORDER BY "n" DESC LIMIT $1"#
        );
    }

    #[test]
    fn refuses_what_it_cannot_build() {
        let base = AggregateSpec { limit: 10, ..Default::default() };
        assert!(aggregate(Dialect::Sqlite, &table(), &base).is_err());
        let bad_alias = AggregateSpec { aggregates: vec![agg(AggregateFn::Count, None, "x; DROP")], ..base.clone() };
        assert!(aggregate(Dialect::Sqlite, &table(), &bad_alias).unwrap_err().message.contains("plain name"));
        let no_column = AggregateSpec { aggregates: vec![agg(AggregateFn::Sum, None, "s")], ..base.clone() };
        assert!(aggregate(Dialect::Sqlite, &table(), &no_column).unwrap_err().message.contains("sum needs a column"));
        let unknown = AggregateSpec { aggregates: vec![agg(AggregateFn::Max, Some("nope"), "m")], ..base.clone() };
        assert!(aggregate(Dialect::Sqlite, &table(), &unknown).unwrap_err().message.contains("nope"));
        let clash = AggregateSpec {
            aggregates: vec![agg(AggregateFn::Count, None, "status")],
            group_by: vec!["status".into()],
            ..base.clone()
        };
        assert!(aggregate(Dialect::Sqlite, &table(), &clash).unwrap_err().message.contains("used twice"));
        let bad_order = AggregateSpec {
            aggregates: vec![agg(AggregateFn::Count, None, "n")],
            order: vec![("total".into(), Direction::Asc)],
            ..base
        };
        assert!(aggregate(Dialect::Sqlite, &table(), &bad_order)
            .unwrap_err()
            .message
            .contains("cannot order by \"total\""));
    }
}

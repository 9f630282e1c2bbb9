//! Relationships derived from foreign keys, named the way DreamFactory names them:
//! `customers_by_customer_id` (the row this one points at), `orders_by_customer_id` (rows that
//! point at this one) and `categories_by_product_categories` (rows reached through a junction).

use serde::Serialize;

use crate::schema::{Schema, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// This table's foreign key points at one row of `ref_table`.
    BelongsTo,
    /// Rows of `ref_table` point at this table.
    HasMany,
    /// Rows of `ref_table` reached through the junction table `junction`.
    ManyMany,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relation {
    pub name: String,
    pub kind: RelationKind,
    /// Columns of this table that take part.
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junction: Option<Junction>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Junction {
    pub table: String,
    /// Junction column pointing at this table.
    pub this_column: String,
    /// Junction column pointing at `ref_table`.
    pub ref_column: String,
}

/// A junction table: its primary key is made only of (at least two) foreign key columns.
pub fn is_junction(table: &Table) -> bool {
    let pk = table.primary_key();
    table.foreign_keys.len() >= 2
        && pk.len() >= 2
        && pk.iter().all(|c| table.foreign_keys.iter().any(|fk| fk.columns == [c.name.clone()]))
}

/// Every relationship of `table`, in both directions.
pub fn relations_of(schema: &Schema, table: &Table) -> Vec<Relation> {
    let mut relations = Vec::new();
    for fk in &table.foreign_keys {
        relations.push(Relation {
            name: format!("{}_by_{}", fk.ref_table, fk.columns.join("_")),
            kind: RelationKind::BelongsTo,
            columns: fk.columns.clone(),
            ref_table: fk.ref_table.clone(),
            ref_columns: fk.ref_columns.clone(),
            junction: None,
        });
    }
    for other in &schema.tables {
        for fk in other.foreign_keys.iter().filter(|fk| fk.ref_table == table.name) {
            // A self-reference (categories.parent_id -> categories.id) would give both
            // directions the same name; the rows pointing back are the children.
            let prefix = if other.name == table.name { "child_" } else { "" };
            relations.push(Relation {
                name: format!("{prefix}{}_by_{}", other.name, fk.columns.join("_")),
                kind: RelationKind::HasMany,
                columns: fk.ref_columns.clone(),
                ref_table: other.name.clone(),
                ref_columns: fk.columns.clone(),
                junction: None,
            });
            if !is_junction(other) || fk.columns.len() != 1 {
                continue;
            }
            for far in other.foreign_keys.iter().filter(|f| f.columns != fk.columns && f.columns.len() == 1) {
                relations.push(Relation {
                    name: format!("{}_by_{}", far.ref_table, other.name),
                    kind: RelationKind::ManyMany,
                    columns: fk.ref_columns.clone(),
                    ref_table: far.ref_table.clone(),
                    ref_columns: far.ref_columns.clone(),
                    junction: Some(Junction {
                        table: other.name.clone(),
                        this_column: fk.columns[0].clone(),
                        ref_column: far.columns[0].clone(),
                    }),
                });
            }
        }
    }
    relations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ForeignKey, TableKind};

    fn column(name: &str, pk: u32) -> Column {
        Column {
            name: name.into(),
            data_type: "INTEGER".into(),
            nullable: false,
            default: None,
            primary_key: pk,
            comment: None,
            auto_increment: false,
        }
    }

    fn fk(col: &str, table: &str) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec![col.into()],
            ref_table: table.into(),
            ref_columns: vec!["id".into()],
            on_update: None,
            on_delete: None,
        }
    }

    fn table(name: &str, columns: Vec<Column>, fks: Vec<ForeignKey>) -> Table {
        Table {
            schema: None,
            name: name.into(),
            kind: TableKind::Table,
            columns,
            foreign_keys: fks,
            indexes: vec![],
            comment: None,
            policy: Default::default(),
            rows: Default::default(),
        }
    }

    #[test]
    fn names_relations_in_both_directions_and_through_junctions() {
        let schema = Schema {
            tables: vec![
                table("customers", vec![column("id", 1)], vec![]),
                table("orders", vec![column("id", 1), column("customer_id", 0)], vec![fk("customer_id", "customers")]),
                table("products", vec![column("id", 1)], vec![]),
                table("categories", vec![column("id", 1)], vec![]),
                table(
                    "product_categories",
                    vec![column("product_id", 1), column("category_id", 2)],
                    vec![fk("product_id", "products"), fk("category_id", "categories")],
                ),
            ],
            ..Default::default()
        };
        let names = |t: usize| -> Vec<String> {
            relations_of(&schema, &schema.tables[t]).into_iter().map(|r| r.name).collect()
        };
        assert_eq!(names(0), vec!["orders_by_customer_id"]);
        assert_eq!(names(1), vec!["customers_by_customer_id"]);
        assert_eq!(names(2), vec!["product_categories_by_product_id", "categories_by_product_categories"]);
        assert!(is_junction(&schema.tables[4]));
        assert!(!is_junction(&schema.tables[1]));
        let many = relations_of(&schema, &schema.tables[3]).pop().unwrap();
        assert_eq!(many.kind, RelationKind::ManyMany);
        assert_eq!(many.junction.unwrap().this_column, "category_id");
    }
}

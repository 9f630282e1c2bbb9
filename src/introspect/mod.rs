//! Reads the real schema of a database, per dialect.

pub mod postgres;
mod sqlite;

use crate::db::{Database, DbError};
use crate::schema::Schema;
use crate::sql::Dialect;

pub async fn load_schema(db: &dyn Database) -> Result<Schema, DbError> {
    match db.dialect() {
        Dialect::Sqlite => sqlite::load(db).await,
        Dialect::Postgres => postgres::load(db).await,
    }
}

//! Reads the real schema of a database, per dialect.

mod sqlite;

use crate::db::{Database, DbError};
use crate::schema::Schema;
use crate::sql::Dialect;

pub async fn load_schema(db: &dyn Database) -> Result<Schema, DbError> {
    match db.dialect() {
        Dialect::Sqlite => sqlite::load(db).await,
        Dialect::Postgres => Err(DbError::new("PostgreSQL introspection is not available in this build")),
    }
}

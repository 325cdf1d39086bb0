//! Connecting to PostgreSQL, creating the database when it is missing, and applying the
//! embedded migrations, so a fresh machine needs nothing but a running server.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

/// Why the database could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL did not parse.
    #[error("invalid DATABASE_URL: {0}")]
    Url(String),
    /// The server did not answer or refused us.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed to apply.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The migrations compiled into the binary, applied at start-up by `serve` and `migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens a pool to `url`, creating the database first when it does not exist.
///
/// Sessions get `idle_in_transaction_session_timeout`: the feed reads only below the oldest
/// open transaction, so a session left idle in a transaction would stall every projection.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    if !Postgres::database_exists(url).await? {
        // Two processes may race to create it; losing that race is fine.
        if let Err(e) = Postgres::create_database(url).await {
            if !Postgres::database_exists(url).await? {
                return Err(e.into());
            }
        }
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| DbError::Url(e.to_string()))?
        .options([
            ("idle_in_transaction_session_timeout", "5s"),
            ("application_name", "koordynator"),
        ]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Applies every pending migration (idempotent; concurrent callers are serialised by sqlx's
/// advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// `connect` then `migrate`: what every entry point of the service does first.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let pool = connect(url, max_connections).await?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Whether the database answers a trivial query within `within` (`/health`).
pub async fn answers(pool: &PgPool, within: Duration) -> bool {
    let ping = tokio::time::timeout(within, sqlx::query("SELECT 1").execute(pool)).await;
    matches!(ping, Ok(Ok(_)))
}

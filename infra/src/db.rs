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
    /// Nothing answers at the address: one plain sentence, not the driver's error chain
    /// (which repeats "Connection refused" three times and says nothing of what to do).
    #[error("PostgreSQL does not answer at {target}: start the server, or point DATABASE_URL (or --database-url) at one that runs, e.g. postgres://user@host:5432/koordynator")]
    Unreachable {
        /// Where we tried: `host:port`, or the socket directory.
        target: String,
    },
    /// The server answered with an error, or failed us midway.
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
    let options = PgConnectOptions::from_str(url).map_err(|e| DbError::Url(e.to_string()))?;
    let unreachable = |e: sqlx::Error| classify(&options, e);
    if !Postgres::database_exists(url).await.map_err(unreachable)? {
        // Two processes may race to create it; losing that race is fine.
        if let Err(e) = Postgres::create_database(url).await {
            if !Postgres::database_exists(url).await.map_err(unreachable)? {
                return Err(unreachable(e));
            }
        }
    }
    let options = options.clone().options([
        ("idle_in_transaction_session_timeout", "5s"),
        ("application_name", "koordynator"),
    ]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
        .map_err(|e| classify(&options, e))?;
    Ok(pool)
}

/// `e` as [`DbError::Unreachable`] when nothing answered at the address (refused, no such
/// socket, timed out), else as it is.
fn classify(options: &PgConnectOptions, e: sqlx::Error) -> DbError {
    use std::io::ErrorKind;
    let unreachable = match &e {
        sqlx::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::NotFound
                | ErrorKind::TimedOut
                | ErrorKind::AddrNotAvailable
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
        ),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    };
    if !unreachable {
        return e.into();
    }
    let target = match options.get_socket() {
        Some(dir) => format!("the socket in {}", dir.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    DbError::Unreachable { target }
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

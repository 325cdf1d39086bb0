//! Connecting to PostgreSQL, creating the database when it is missing, and applying the
//! embedded migrations, so a fresh machine needs nothing but a running server.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
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
    let options = connect_options(url).map_err(|e| DbError::Url(e.to_string()))?;
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

/// The options of `url`, with TLS off when the server is on this machine (a loopback address
/// or a Unix socket) and neither the URL (`sslmode`) nor `PGSSLMODE` asks for it.
///
/// sqlx, like libpq, defaults to `sslmode=prefer`: encrypt whenever the server offers it.
/// On loopback that protects nothing (whoever can read loopback traffic is root on the
/// machine, and can read the server's files), yet it cost a third of the service's CPU
/// under load: every statement's messages go through rustls and an extra write each
/// (docs/benchmarks.md, "Where the CPU goes"). A server on another host keeps the default;
/// docs/security.md says to ask for `sslmode=verify-full` there.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let asked = url.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| pair.starts_with("sslmode=") || pair.starts_with("ssl-mode="))
    }) || std::env::var_os("PGSSLMODE").is_some();
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host.starts_with('/')
        || host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(if local && !asked {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        connect_options(url)
            .map(|o| o.get_ssl_mode())
            .unwrap_or(PgSslMode::Prefer)
    }

    #[test]
    fn tls_is_off_on_this_machine_unless_asked_for_and_left_to_the_default_elsewhere() {
        if std::env::var_os("PGSSLMODE").is_some() {
            return; // The environment asks: nothing of ours applies.
        }
        assert!(matches!(
            mode("postgres://u@127.0.0.1:5432/k"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@localhost/k"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@[::1]:5432/k"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres:///k?host=/run/postgresql"),
            PgSslMode::Disable
        ));
        assert!(matches!(
            mode("postgres://u@127.0.0.1/k?sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(
            mode("postgres://u@db.rops.example/k"),
            PgSslMode::Prefer
        ));
    }
}

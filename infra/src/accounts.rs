//! Console accounts and their sessions (migration 0012): who may sign in with a password,
//! the sessions they hold, and the failed attempts that lock an account. Passwords are
//! hashed by the caller (Argon2id in `service`); session secrets are random and kept only as
//! their SHA-256. Every rule of time (idle and absolute expiry, the lock's window) takes the
//! instant from the caller, so the service's clock decides, as it does for deadlines.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::tokens::Role;

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::minutes(30);
/// … and this long after its sign-in, whatever happens.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// Failed sign-ins of one account within [`LOCK_WINDOW`] that lock it.
pub const LOCK_AFTER: i64 = 5;
/// The window the failures are counted in, and how long the lock lasts after the last one.
pub const LOCK_WINDOW: Duration = Duration::minutes(15);

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organizer: Option<String>,
    pub disabled: bool,
}

type UserRow = (
    Uuid,
    String,
    String,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
);

fn user(row: UserRow) -> Option<User> {
    let (user_id, email, name, role, organizer, disabled_at) = row;
    Some(User {
        user_id,
        email,
        name,
        role: Role::parse(&role)?,
        organizer,
        disabled: disabled_at.is_some(),
    })
}

/// The address as accounts are keyed: trimmed, lower-case.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Why an account could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("an account with this e-mail address already exists")]
    Exists,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Adds an account with an already hashed password.
pub async fn add(
    pool: &PgPool,
    email: &str,
    name: &str,
    role: Role,
    organizer: Option<&str>,
    password_hash: &str,
) -> Result<Uuid, AddError> {
    let user_id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO console_users (user_id, email, name, role, organizer, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
    )
    .bind(user_id)
    .bind(email_key(email))
    .bind(name)
    .bind(role.as_str())
    .bind(organizer)
    .bind(password_hash)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AddError::Exists);
    }
    Ok(user_id)
}

/// Every account, by address.
pub async fn list(pool: &PgPool) -> Result<Vec<User>, sqlx::Error> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT user_id, email, name, role, organizer, disabled_at FROM console_users ORDER BY email",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().filter_map(user).collect())
}

/// Disables the account of `email` and ends its sessions; false when there is none.
pub async fn disable(pool: &PgPool, email: &str, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let user_id: Option<Uuid> = sqlx::query_scalar(
        "UPDATE console_users SET disabled_at = COALESCE(disabled_at, $2)
          WHERE email = $1 RETURNING user_id",
    )
    .bind(email_key(email))
    .bind(at)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user_id) = user_id {
        sqlx::query(
            "UPDATE console_sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL",
        )
        .bind(user_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(user_id.is_some())
}

/// The account of `email` with its password hash, for a sign-in (None: no such account).
pub async fn for_sign_in(
    pool: &PgPool,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: Uuid,
        email: String,
        name: String,
        role: String,
        organizer: Option<String>,
        disabled_at: Option<DateTime<Utc>>,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT user_id, email, name, role, organizer, disabled_at, password_hash
               FROM console_users WHERE email = $1",
    )
    .bind(email_key(email))
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        let account = user((
            r.user_id,
            r.email,
            r.name,
            r.role,
            r.organizer,
            r.disabled_at,
        ))?;
        Some((account, r.password_hash))
    }))
}

/// Whether `email` is locked at `now` (five failures within the window).
pub async fn locked(pool: &PgPool, email: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM console_sign_in_failures WHERE email = $1 AND at > $2 AND at <= $3",
    )
    .bind(email_key(email))
    .bind(now - LOCK_WINDOW)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(failures >= LOCK_AFTER)
}

/// Records a failed sign-in of `email` at `now` (whether or not the account exists, so the
/// answer and its timing do not tell), forgetting failures older than a day.
pub async fn record_failure(
    pool: &PgPool,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO console_sign_in_failures (email, at) VALUES ($1, $2)")
        .bind(email_key(email))
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM console_sign_in_failures WHERE at < $1")
        .bind(now - Duration::days(1))
        .execute(pool)
        .await?;
    Ok(())
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Starts a session for `user_id` at `now`; returns the secret for the browser's cookie.
pub async fn start_session(
    pool: &PgPool,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    sqlx::query(
        "INSERT INTO console_sessions (session_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(hash(&secret))
    .bind(user_id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(secret)
}

/// The account of the live session `secret` at `now`, its last use moved to `now` (None: no
/// such session, ended, idle too long, too old, or its account disabled).
pub async fn session_user(
    pool: &PgPool,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(
        "UPDATE console_sessions s SET last_seen_at = $2
           FROM console_users u
          WHERE s.session_hash = $1 AND u.user_id = s.user_id
            AND s.ended_at IS NULL AND u.disabled_at IS NULL
            AND s.last_seen_at > $3 AND s.created_at > $4
         RETURNING u.user_id, u.email, u.name, u.role, u.organizer, u.disabled_at",
    )
    .bind(hash(secret))
    .bind(now)
    .bind(now - IDLE)
    .bind(now - ABSOLUTE)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(user))
}

/// Ends the session `secret` (sign-out); its user when it was live.
pub async fn end_session(
    pool: &PgPool,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE console_sessions SET ended_at = $2 WHERE session_hash = $1 AND ended_at IS NULL RETURNING user_id",
    )
    .bind(hash(secret))
    .bind(now)
    .fetch_optional(pool)
    .await
}

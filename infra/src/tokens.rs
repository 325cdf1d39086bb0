//! API tokens: issued by the command line, stored as SHA-256 hashes, scoped to a role and an
//! organizer. Tokens are 256 random bits, so a fast hash is enough (no password stretching).

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// What a token allows (API.md, Conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, for every organizer.
    Admin,
    /// Commands and reads for its own organizer.
    Coordinator,
    /// Reads and audit for its own organizer, or for all when issued without one.
    Evaluator,
}

impl Role {
    /// The role's name as stored and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Evaluator => "evaluator",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "coordinator" => Some(Role::Coordinator),
            "evaluator" => Some(Role::Evaluator),
            _ => None,
        }
    }
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub token_id: Uuid,
    pub role: Role,
    pub organizer: Option<String>,
    pub name: String,
}

/// A token as listed (never the secret itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: Uuid,
    pub role: String,
    pub organizer: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it stops working by itself (None: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a coordinator token needs --organizer")]
    CoordinatorWithoutOrganizer,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a token without an end and returns its id and the secret (shown once, never
/// stored). People get tokens from the CLI, which sets an end ([`issue_until`]).
pub async fn issue(
    pool: &PgPool,
    role: Role,
    organizer: Option<&str>,
    name: &str,
) -> Result<(Uuid, String), TokenError> {
    issue_until(pool, role, organizer, name, None).await
}

/// Creates a token that stops working at `expires_at` (None: never).
pub async fn issue_until(
    pool: &PgPool,
    role: Role,
    organizer: Option<&str>,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(Uuid, String), TokenError> {
    if role == Role::Coordinator && organizer.is_none() {
        return Err(TokenError::CoordinatorWithoutOrganizer);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!(
        "kdn_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO api_tokens (id, token_hash, role, organizer, name, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(hash(&secret))
        .bind(role.as_str())
        .bind(organizer)
        .bind(name)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok((id, secret))
}

/// Every token ever issued, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<TokenInfo>, sqlx::Error> {
    type Row = (
        Uuid,
        String,
        Option<String>,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, role, organizer, name, created_at, revoked_at, expires_at FROM api_tokens ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, role, organizer, name, created_at, revoked_at, expires_at)| TokenInfo {
                id,
                role,
                organizer,
                name,
                created_at,
                revoked_at,
                expires_at,
            },
        )
        .collect())
}

/// Revokes a token; returns false when no live token has that id.
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The principal of a live token, or None for an unknown, revoked or expired one.
pub async fn authenticate(pool: &PgPool, token: &str) -> Result<Option<Principal>, sqlx::Error> {
    let row: Option<(Uuid, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, role, organizer, name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(hash(token))
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(token_id, role, organizer, name)| {
        Role::parse(&role).map(|role| Principal {
            token_id,
            role,
            organizer,
            name,
        })
    }))
}

//! Bearer tokens and what each role may do (API.md, Conventions).
//!
//! - `admin`: everything, for every organizer;
//! - `coordinator`: commands and reads for its own organizer;
//! - `evaluator`: reads and audit for its own organizer, or for all when it has none.
//!
//! A resource of another organizer answers 404, so a token cannot probe what exists elsewhere;
//! a role without the right answers 403.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use infra::tokens::{self, Principal, Role};

use domain::values::OrganizerId;

use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::validate::Fields;

/// The token of an `Authorization: Bearer …` header, if the request carries one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The console's session cookie (`console::session` sets and ends it).
pub const SESSION_COOKIE: &str = "kdn_sesja";

/// The console session secret the request carries, if any.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 100)
}

/// The principal of a console session, for reads: the dashboard at `/` reads the API with
/// the session of the signed-in account, no token to paste. Only safe methods: a change
/// always needs a bearer token (or the console's own forms, which carry CSRF tokens), so a
/// cookie the browser sends by itself can never change anything through the API.
pub async fn session_principal(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Principal>, sqlx::Error> {
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    Ok(
        infra::accounts::session_user(&state.pool, &secret, state.clock.now())
            .await?
            .map(|u| Principal {
                token_id: u.user_id,
                role: u.role,
                organizer: u.organizer,
                name: u.name,
            }),
    )
}

/// The authenticated caller of a protected route: a bearer token's principal, or a console
/// account calling the API in-process (its `token_id` is then the account's id).
pub struct Auth(pub Principal, pub Caller);

/// Who stands behind an [`Auth`]: recorded as the actor of what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// An API token (`token:<id>`).
    Token,
    /// A console account signed in with a password (`user:<id>`).
    User,
}

/// A console account's request to the API, made in-process by the console (never from the
/// network: request extensions are set only inside the service). The API then applies the
/// same roles, scope and validation to the console as to any client.
#[derive(Debug, Clone)]
pub struct ConsoleCaller(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = match parts.extensions.get::<ConsoleCaller>() {
            Some(ConsoleCaller(p)) => Some((p.clone(), Caller::User)),
            None => match bearer_token(&parts.headers) {
                Some(token) => tokens::authenticate(&state.pool, token)
                    .await?
                    .map(|p| (p, Caller::Token)),
                None if parts.method.is_safe() => session_principal(state, &parts.headers)
                    .await?
                    .map(|p| (p, Caller::User)),
                None => return Err(ApiError::Unauthorized),
            },
        };
        match principal {
            // Refused here, before the handler reads the body: every change answers an
            // evaluator 403 whatever it sent, not a 422 that would describe the command.
            Some((p, _)) if p.role == Role::Evaluator && !parts.method.is_safe() => Err(
                ApiError::Forbidden("An evaluator token can read but not change anything.".into()),
            ),
            Some((p, caller)) => Ok(Auth(p, caller)),
            None => Err(ApiError::Unauthorized),
        }
    }
}

impl Auth {
    /// The actor recorded in event metadata: the token's or the account's id, never a
    /// person's name.
    pub fn actor(&self) -> String {
        match self.1 {
            Caller::Token => format!("token:{}", self.0.token_id),
            Caller::User => format!("user:{}", self.0.token_id),
        }
    }

    /// For commands: `Ok(None)` for any organizer (admin), `Ok(Some(org))` for a coordinator,
    /// 403 for an evaluator.
    pub fn command_scope(&self) -> Result<Option<String>, ApiError> {
        match self.0.role {
            Role::Admin => Ok(None),
            Role::Coordinator => Ok(self.0.organizer.clone()),
            Role::Evaluator => Err(ApiError::Forbidden(
                "An evaluator token can read but not change anything.".into(),
            )),
        }
    }

    /// The organizer that will own a new aggregate: a coordinator's own (naming another is
    /// 403), or the one an admin names (required: 422 on `organizer` otherwise). Evaluators 403.
    pub fn organizer_for_new(
        &self,
        asked: Option<&str>,
        f: &mut Fields,
    ) -> Result<Option<OrganizerId>, ApiError> {
        match (self.command_scope()?, asked) {
            (Some(own), Some(asked)) if own != asked => Err(ApiError::Forbidden(
                "A coordinator can only act for its own organizer.".into(),
            )),
            (Some(own), _) => Ok(f.check("organizer", OrganizerId::parse(&own))),
            (None, Some(asked)) => Ok(f.check("organizer", OrganizerId::parse(asked))),
            (None, None) => {
                f.fail("organizer", "required", "is required for an admin token");
                Ok(None)
            }
        }
    }

    /// For reads and audit: `None` = every organizer.
    pub fn read_scope(&self) -> Option<String> {
        match self.0.role {
            Role::Admin => None,
            Role::Coordinator | Role::Evaluator => self.0.organizer.clone(),
        }
    }

    /// For audit-only reads (integrity, export, access log): admins and evaluators;
    /// coordinators read their own history through `/audit/events` but do not audit.
    pub fn audit_scope(&self) -> Result<Option<String>, ApiError> {
        match self.0.role {
            Role::Admin | Role::Evaluator => Ok(self.read_scope()),
            Role::Coordinator => Err(ApiError::Forbidden(
                "Audit checks and exports are for evaluators and admins.".into(),
            )),
        }
    }

    /// Whether the caller may read a resource owned by `organizer`.
    pub fn can_read(&self, organizer: &str) -> bool {
        self.read_scope().is_none_or(|scope| scope == organizer)
    }

    /// Whether the caller may see applicants' personal data (coordinators and admins).
    pub fn sees_personal_data(&self) -> bool {
        matches!(self.0.role, Role::Admin | Role::Coordinator)
    }
}

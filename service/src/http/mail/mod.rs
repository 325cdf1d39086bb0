//! The mail outbox for those who run recruitments: what was (or will be) sent to whom — as
//! ids, never addresses — and whether mail is on. Admins see every organizer's; a coordinator
//! its own organizer's; evaluators none (the outbox is the organizers' operations, not the
//! record).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::extract::ApiQuery;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(outbox))
}

/// A state of a mail in the outbox.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting to be sent (a reminder until its day; a failed attempt until the next).
    Pending,
    /// Accepted by the mail server.
    Sent,
    /// Given up after the last attempt.
    Failed,
    /// Not to be sent: the person's data was erased, or the seat of a reminder given up.
    Dropped,
}

impl MailStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Dropped => "dropped",
        }
    }
}

/// Filters of the outbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// Only mails in this state.
    pub status: Option<MailStatus>,
    /// At most this many, newest first.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
}

/// A mail, without its address or the person's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxEntry {
    /// Also its `Message-ID` (`<mail_id@koordynator>`): every attempt carries the same.
    pub mail_id: Uuid,
    /// `application_received`, `qualified`, `waitlisted`, `passed_over`, `term_cancelled`
    /// or `reminder`.
    #[schema(example = "qualified")]
    pub kind: String,
    pub organizer: String,
    pub application_id: Uuid,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub status: MailStatus,
    /// How many times sending was tried.
    #[schema(minimum = 0)]
    pub attempts: i32,
    /// Why the last attempt failed, or why the mail was dropped; null otherwise.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// When it was decided.
    pub created_at: DateTime<Utc>,
    /// When it goes (next): a reminder's day, a retry's time.
    pub due_at: DateTime<Utc>,
    /// When the mail server accepted it; null until then.
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
}

/// The outbox and whether mail is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outbox {
    /// Whether an SMTP server is configured (`--smtp-url`); when not, mails wait here.
    pub mail_enabled: bool,
    pub entries: Vec<OutboxEntry>,
}

/// The mails decided for applicants, newest first.
#[utoipa::path(get, path = "/api/v1/mail/outbox", operation_id = "list_mail_outbox", tag = "mail", security(("bearer" = [])), params(OutboxParams),
    responses((status = 200, body = Outbox, description = "The mails of the organizers the token may act for, newest first, without addresses."),
        (status = 400, description = "`status` is not one of the states, or `limit` is not 1 to 1000."),
        (status = 403, description = "An evaluator's token.")))]
async fn outbox(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<OutboxParams>,
) -> Result<Json<Outbox>, ApiError> {
    let scope = auth.command_scope()?;
    let limit = crate::http::problem::page_limit(p.limit)?;
    let organizers = scope.map(|o| vec![o]);
    let rows = infra::outbox::list(
        &state.pool,
        organizers.as_deref(),
        p.status.map(MailStatus::as_str),
        limit,
    )
    .await?;
    let entries = rows
        .into_iter()
        .map(|m| OutboxEntry {
            status: match m.status.as_str() {
                "sent" => MailStatus::Sent,
                "failed" => MailStatus::Failed,
                "dropped" => MailStatus::Dropped,
                _ => MailStatus::Pending,
            },
            mail_id: m.mail_id,
            kind: m.kind,
            organizer: m.organizer,
            application_id: m.application_id,
            visit_id: m.visit_id,
            term_id: m.term_id,
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            due_at: m.due_at,
            sent_at: m.sent_at,
        })
        .collect();
    Ok(Json(Outbox {
        mail_enabled: state.mail_enabled,
        entries,
    }))
}

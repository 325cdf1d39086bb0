//! Applications: the public form, the applicant following and withdrawing their own
//! application with their key, and the coordinator's withdrawal, seat release and attendance.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use base64::Engine;
use domain::study_visit::{ConsentRecord, LegalBasis, StudyVisitCommand, Withdrawer};
use domain::values::{Email, NonEmptyText};
use infra::personal_data::{self, PersonRecord};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::rosters::{live_roster, ROSTER_PROJECTIONS};
use super::study_visits::{command, VisitView};
use crate::http::auth::Auth;
use crate::http::command::PositionResponse;
use crate::http::consistency::{wait_for, Consistency};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::institution::InstitutionRequest;
use crate::http::limits::SubmissionQuota;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::Fields;

/// Header with which an applicant proves an application is theirs.
pub const APPLICANT_KEY: &str = "x-applicant-key";

/// The version id of the information clause (RODO art. 13) the public form shows. Change it
/// whenever the clause's text changes: every submission records the version its applicant
/// accepted (ApplicationSubmitted version 2), so the old records keep naming the old text.
pub const INFORMATION_CLAUSE_VERSION: &str = "2026-01";

/// The legal basis the clause names for processing applicants' data: their consent, given
/// by ticking the clause (art. 6(1)(a)).
pub const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;

/// What a submission accepted with `"consent": true` records.
fn accepted_clause() -> Result<ConsentRecord, ApiError> {
    let information_clause = NonEmptyText::parse(INFORMATION_CLAUSE_VERSION)
        .map_err(|e| ApiError::Internal(format!("INFORMATION_CLAUSE_VERSION: {e}")))?;
    Ok(ConsentRecord {
        information_clause,
        legal_basis: LEGAL_BASIS,
    })
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(own_status))
        .routes(routes!(withdraw_own))
        .routes(routes!(withdraw))
        .routes(routes!(release_seat))
        .routes(routes!(allocate_by_hand))
        .routes(routes!(attendance))
}

/// The applicant as typed in the form (kept out of events).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonRequest {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
}

/// Body of the public application form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationRequest {
    pub person: PersonRequest,
    pub institution: InstitutionRequest,
    /// The applicant accepts the information clause on the processing of their personal
    /// data; required. The submission records the clause's version and legal basis.
    #[serde(default)]
    pub consent: bool,
}

/// Answer to a submitted application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCreated {
    pub application_id: Uuid,
    pub position: i64,
    /// The applicant's secret to follow or withdraw the application (shown once).
    pub applicant_key: String,
}

/// Submit an application (public: no token).
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/applications", tag = "applications",
    request_body = ApplicationRequest, params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 201, body = ApplicationCreated), (status = 400, body = crate::http::problem::Problem),
        (status = 404), (status = 409, body = crate::http::problem::Problem), (status = 413, body = crate::http::problem::Problem),
        (status = 422, body = crate::http::problem::Problem), (status = 429, body = crate::http::problem::Problem)))]
async fn submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    // Before the body: a client over its allowance is refused without reading it.
    _quota: SubmissionQuota,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ApplicationRequest>,
) -> Result<(StatusCode, Json<ApplicationCreated>), ApiError> {
    let mut f = Fields::default();
    let first_name = f.check(
        "person.first_name",
        NonEmptyText::parse_max(&body.person.first_name, 100),
    );
    let last_name = f.check(
        "person.last_name",
        NonEmptyText::parse_max(&body.person.last_name, 100),
    );
    let email = f.check("person.email", Email::parse(&body.person.email));
    let phone = f.optional_text("person.phone", &body.person.phone, 40);
    let job_title = f.optional_text("person.job_title", &body.person.job_title, 200);
    let institution = body.institution.check(&mut f, "institution");
    if !body.consent {
        f.fail(
            "consent",
            "consent to the processing of personal data for the recruitment is required",
        );
    }
    f.finish()?;
    let (Some(first_name), Some(last_name), Some(email), Some(institution)) =
        (first_name, last_name, email, institution)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let consent = accepted_clause()?;
    let application_id = Uuid::now_v7();
    let mut secret = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut secret);
    let applicant_key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let person = PersonRecord {
        first_name: first_name.as_str().to_owned(),
        last_name: last_name.as_str().to_owned(),
        email: email.as_str().to_owned(),
        phone,
        job_title,
    };
    let email_hash = state.hasher.hash(&person.email.trim().to_lowercase());
    // The personal data is written in the transaction that appends the application's events:
    // both are stored or neither, even when the process or the database dies in between.
    // A first application of an address races only with another of the same address; the
    // loser decides again with the subject the winner created.
    let mut subject_id = personal_data::find_subject(&state.pool, &email_hash)
        .await?
        .unwrap_or_else(Uuid::now_v7);
    for _ in 0..3 {
        let raced = std::sync::Arc::new(std::sync::Mutex::new(None));
        // Owned copies: the write may run after this handler stopped waiting for it.
        let owned = (
            email_hash.clone(),
            person.clone(),
            applicant_key.clone(),
            raced.clone(),
        );
        let write = infra::pipeline::side_write(move |conn| {
            // Copies again: the future may borrow only the connection.
            let (email_hash, person, key, raced) = owned.clone();
            Box::pin(async move {
                match personal_data::record_application(
                    conn,
                    &email_hash,
                    subject_id,
                    id,
                    application_id,
                    &person,
                    &key,
                )
                .await
                {
                    Ok(()) => Ok(()),
                    Err(personal_data::RecordError::Database(e)) => Err(e),
                    Err(personal_data::RecordError::SubjectRaced(winner)) => {
                        *raced.lock().unwrap_or_else(|e| e.into_inner()) = Some(winner);
                        // Aborts the transaction; the loop below decides again.
                        Err(sqlx::Error::RowNotFound)
                    }
                }
            }) as infra::pipeline::SideFuture<'_>
        });
        let cmd = StudyVisitCommand::SubmitApplication {
            application_id,
            term_id,
            subject_id,
            institution: institution.clone(),
            consent: Some(consent.clone()),
        };
        let ctx = meta.context("public".into(), None, cmd.name());
        let result = state
            .visits
            .execute_with(&id.to_string(), cmd, &ctx, Some(write))
            .await;
        // Only a failed command raced: one whose group failed for a raced subject may still
        // commit when decided alone, and then it stands.
        let winner = *raced.lock().unwrap_or_else(|e| e.into_inner());
        if let (Err(_), Some(winner)) = (&result, winner) {
            subject_id = winner;
            continue;
        }
        let done = result?;
        return Ok((
            StatusCode::CREATED,
            Json(ApplicationCreated {
                application_id,
                position: done.position,
                applicant_key,
            }),
        ));
    }
    Err(ApiError::Unavailable {
        detail: "Too many simultaneous applications from this address; retry shortly.".into(),
        retry_after_secs: 1,
    })
}

/// The applicant's view of their application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationStatusView {
    pub application_id: Uuid,
    /// submitted | allocated | waitlisted | passed_over | withdrawn | released
    pub status: String,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    /// Rank (provisional while the term is open).
    pub rank: Option<u32>,
    pub waitlist_position: Option<u32>,
}

async fn applicant_visit(
    state: &AppState,
    headers: &HeaderMap,
    application_id: Uuid,
) -> Result<Uuid, ApiError> {
    let key = headers
        .get(APPLICANT_KEY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if key.is_empty() {
        return Err(ApiError::NotFound("No such application.".into()));
    }
    personal_data::applicant_visit(&state.pool, application_id, key)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such application.".into()))
}

/// Follow one's own application (header `X-Applicant-Key`; a wrong key is 404).
#[utoipa::path(get, path = "/api/v1/applications/{application_id}", tag = "applications",
    params(("application_id" = Uuid, Path), ("X-Applicant-Key" = String, Header), Consistency),
    responses((status = 200, body = ApplicationStatusView), (status = 404), (status = 503)))]
async fn own_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(application_id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<ApplicationStatusView>, ApiError> {
    let visit_id = applicant_visit(&state, &headers, application_id).await?;
    wait_for(&state, ROSTER_PROJECTIONS, c.min_position).await?;
    let row: Option<(Uuid, String, Option<i32>)> = sqlx::query_as(
        "SELECT term_id, status, rank FROM rm_applications WHERE application_id = $1",
    )
    .bind(application_id)
    .fetch_optional(&state.pool)
    .await?;
    let (term_id, status, rank) = row.ok_or_else(|| ApiError::Unavailable {
        detail: "The application is being recorded; retry shortly.".into(),
        retry_after_secs: 1,
    })?;
    let mut view = ApplicationStatusView {
        application_id,
        status: status.clone(),
        visit_id,
        term_id,
        rank: rank.map(|r| r as u32),
        waitlist_position: None,
    };
    if status == "submitted" || status == "waitlisted" {
        let visit: VisitView = sqlx::query_as(
            "SELECT visit_id AS id, organizer, title, destination, description, eligible_institution_types,
                    max_per_institution, preferences, funding, announced_at FROM rm_study_visits WHERE visit_id = $1",
        )
        .bind(visit_id)
        .fetch_one(&state.pool)
        .await?;
        let roster = live_roster(&state, &visit, term_id).await?;
        let all = roster
            .allocated
            .iter()
            .chain(&roster.waitlist)
            .chain(&roster.passed_over);
        if let Some(e) = all.into_iter().find(|e| e.application_id == application_id) {
            view.rank = Some(e.rank);
            view.waitlist_position = e.waitlist_position;
        }
    }
    Ok(Json(view))
}

/// Withdraw one's own application (header `X-Applicant-Key`).
#[utoipa::path(post, path = "/api/v1/applications/{application_id}/withdraw", tag = "applications",
    params(("application_id" = Uuid, Path), ("X-Applicant-Key" = String, Header)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409)))]
async fn withdraw_own(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(application_id): ApiPath<Uuid>,
) -> Result<Json<PositionResponse>, ApiError> {
    let visit_id = applicant_visit(&state, &headers, application_id).await?;
    let cmd = StudyVisitCommand::WithdrawApplication {
        application_id,
        by: Withdrawer::Applicant,
    };
    let ctx = meta.context(format!("applicant:{application_id}"), None, cmd.name());
    let done = state
        .visits
        .execute(&visit_id.to_string(), cmd, &ctx)
        .await?;
    Ok(Json(PositionResponse {
        position: done.position,
    }))
}

/// Withdraw an application (coordinator).
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/withdraw", tag = "applications",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 403), (status = 404), (status = 409)))]
async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::WithdrawApplication {
        application_id,
        by: Withdrawer::Coordinator,
    };
    Ok(Json(PositionResponse {
        position: command(&state, &auth, &meta, id, cmd).await?,
    }))
}

/// Body of a seat release.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReleaseRequest {
    pub reason: String,
}

/// Release an allocated seat; the first eligible person waiting is promoted.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/release-seat", tag = "applications",
    request_body = ReleaseRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn release_seat(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReleaseRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let reason = f.check("reason", NonEmptyText::parse(&body.reason));
    f.finish()?;
    let reason = reason.ok_or_else(ApiError::validated_field_missing)?;
    let cmd = StudyVisitCommand::ReleaseSeat {
        application_id,
        reason,
        by: auth.actor(),
    };
    Ok(Json(PositionResponse {
        position: command(&state, &auth, &meta, id, cmd).await?,
    }))
}

/// Body of a seat given by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AllocateRequest {
    /// Why the seat is given outside the policy's order (1–500 characters), for the record.
    pub reason: String,
}

/// Give a seat by hand, after the close, to an application on the waiting list or passed
/// over (a coordinator's decision outside the policy's order). It may take the term above
/// its seat count; while it is above, a seat given back promotes nobody. The decision event
/// names the rule `manual`, the reason and who decided (the token's actor id).
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/allocate", tag = "applications",
    request_body = AllocateRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 400), (status = 401), (status = 403), (status = 404),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn allocate_by_hand(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<AllocateRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    // The role first: an evaluator is refused whatever it sent.
    auth.command_scope()?;
    let mut f = Fields::default();
    let reason = f.check("reason", NonEmptyText::parse_max(&body.reason, 500));
    f.finish()?;
    let reason = reason.ok_or_else(ApiError::validated_field_missing)?;
    let cmd = StudyVisitCommand::AllocateSeatManually {
        application_id,
        reason,
        // The same actor id the pipeline stamps on the event's metadata.
        by: auth.actor(),
    };
    Ok(Json(PositionResponse {
        position: command(&state, &auth, &meta, id, cmd).await?,
    }))
}

/// Body of an attendance record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceRequest {
    pub attended: bool,
}

/// Record whether an allocated participant attended.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/attendance", tag = "applications",
    request_body = AttendanceRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn attendance(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<AttendanceRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::RecordAttendance {
        application_id,
        attended: body.attended,
    };
    Ok(Json(PositionResponse {
        position: command(&state, &auth, &meta, id, cmd).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_clause_is_a_valid_record() {
        let record = accepted_clause().expect("the clause constant is valid");
        assert_eq!(
            record.information_clause.as_str(),
            INFORMATION_CLAUSE_VERSION
        );
        // An upcast version-1 submission must stay distinguishable from a recorded one.
        assert!(record.clause_recorded());
    }
}

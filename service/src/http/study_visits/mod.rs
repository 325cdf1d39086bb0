//! Study visits: announcing, preferences, terms and their recruitment (coordinator), and the
//! visits list and detail (reads).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::study_visit::{
    CloseTrigger, Funding, Preference, PreferenceKind, StudyVisit, StudyVisitCommand, TermDates,
    TermSchedule,
};
use domain::values::{InstitutionType, Nip, NonEmptyText, PlannedDate, PreferenceCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::command::PositionResponse;
use crate::http::consistency::{self, wait_for, Consistency};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::{self, Fields};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(announce, list))
        .routes(routes!(detail))
        .routes(routes!(replace_preference_list))
        .routes(routes!(schedule_term))
        .routes(routes!(fix_term_dates))
        .routes(routes!(open_recruitment))
        .routes(routes!(close_recruitment))
        .routes(routes!(cancel_term))
}

/// Runs a study-visit command for an authenticated coordinator or admin.
pub async fn command(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    visit_id: Uuid,
    cmd: StudyVisitCommand,
) -> Result<i64, ApiError> {
    crate::http::command::run::<StudyVisit>(state, auth, meta, visit_id, cmd).await
}

/// A preference of the visit.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferenceRequest {
    pub code: String,
    pub label: String,
    /// `listed` (met when the NIP is on the list) or `not_listed`.
    pub kind: String,
}

/// EU funding reference.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(default)]
pub struct FundingRequest {
    pub project: String,
    pub programme: String,
    pub priority_axis: String,
    pub measure: String,
    pub sub_measure: String,
}

/// Body of `POST /api/v1/study-visits`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnnounceRequest {
    pub title: String,
    pub destination: String,
    #[serde(default)]
    pub description: String,
    pub eligible_institution_types: Vec<String>,
    /// At most this many seats per institution across the visit when demand is high; null = no cap.
    #[serde(default)]
    pub max_per_institution: Option<i64>,
    #[serde(default)]
    pub preferences: Vec<PreferenceRequest>,
    #[serde(default)]
    pub funding: Option<FundingRequest>,
    /// Organizer (slug); required for admin tokens, implied by a coordinator's token.
    #[serde(default)]
    pub organizer: Option<String>,
}

/// Answer of `POST /api/v1/study-visits`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
    pub position: i64,
}

/// Announce a study visit.
#[utoipa::path(post, path = "/api/v1/study-visits", tag = "study visits", request_body = AnnounceRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::http::problem::Problem), (status = 401), (status = 403), (status = 422, body = crate::http::problem::Problem)))]
async fn announce(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(body): ApiJson<AnnounceRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let mut f = Fields::default();
    let organizer = auth.organizer_for_new(body.organizer.as_deref(), &mut f)?;
    let title = f.check("title", NonEmptyText::parse(&body.title));
    let destination = f.check("destination", NonEmptyText::parse(&body.destination));
    let mut types = Vec::new();
    if body.eligible_institution_types.is_empty() {
        f.fail(
            "eligible_institution_types",
            "must list at least one institution type",
        );
    }
    for (i, t) in body.eligible_institution_types.iter().enumerate() {
        if let Some(t) = f.check(
            &format!("eligible_institution_types[{i}]"),
            InstitutionType::parse(t),
        ) {
            types.push(t);
        }
    }
    let max = match body.max_per_institution {
        None => None,
        Some(m) if (1..=1000).contains(&m) => Some(m as u32),
        Some(_) => {
            f.fail(
                "max_per_institution",
                "must be between 1 and 1000, or null for no cap",
            );
            None
        }
    };
    let mut preferences = Vec::new();
    for (i, p) in body.preferences.iter().enumerate() {
        let code = f.check(
            &format!("preferences[{i}].code"),
            PreferenceCode::parse(&p.code),
        );
        let label = f.check(
            &format!("preferences[{i}].label"),
            NonEmptyText::parse(&p.label),
        );
        let kind = match p.kind.as_str() {
            "listed" => Some(PreferenceKind::Listed),
            "not_listed" => Some(PreferenceKind::NotListed),
            _ => {
                f.fail(
                    &format!("preferences[{i}].kind"),
                    "must be listed or not_listed",
                );
                None
            }
        };
        if let (Some(code), Some(label), Some(kind)) = (code, label, kind) {
            preferences.push(Preference { code, label, kind });
        }
    }
    f.finish()?;
    let (Some(organizer), Some(title), Some(destination)) = (organizer, title, destination) else {
        return Err(ApiError::validated_field_missing());
    };
    let visit_id = Uuid::now_v7();
    let funding = body.funding.map(|fr| Funding {
        project: fr.project,
        programme: fr.programme,
        priority_axis: fr.priority_axis,
        measure: fr.measure,
        sub_measure: fr.sub_measure,
    });
    let cmd = StudyVisitCommand::Announce {
        visit_id,
        organizer,
        title,
        destination,
        description: body.description,
        eligible_institution_types: types,
        max_per_institution: max,
        preferences,
        funding,
    };
    // The new visit has no owner yet: the organizer in the command is the one checked above.
    let ctx = meta.context(auth.actor(), None, cmd.name());
    let done = state
        .visits
        .execute(&visit_id.to_string(), cmd, &ctx)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: visit_id,
            position: done.position,
        }),
    ))
}

/// Body of the preference-list replacement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferenceListRequest {
    pub nips: Vec<String>,
}

/// Replace the list of NIPs of a preference (allowed until the first term closes).
#[utoipa::path(put, path = "/api/v1/study-visits/{id}/preferences/{code}/institutions", tag = "study visits",
    request_body = PreferenceListRequest, security(("bearer" = [])),
    params(("id" = Uuid, Path), ("code" = String, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422)))]
async fn replace_preference_list(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, code)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<PreferenceListRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let code = PreferenceCode::parse(&code)
        .map_err(|_| ApiError::NotFound("No such preference.".into()))?;
    let mut f = Fields::default();
    let nips: Vec<Nip> = body
        .nips
        .iter()
        .enumerate()
        .filter_map(|(i, n)| f.check(&format!("nips[{i}]"), Nip::parse(n)))
        .collect();
    f.finish()?;
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        StudyVisitCommand::ReplacePreferenceList { code, nips },
    )
    .await?;
    Ok(Json(PositionResponse { position }))
}

/// Body of `POST .../terms`: either dates and a deadline, or `planned`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TermRequest {
    pub label: String,
    pub seats: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// RFC 3339 with offset, e.g. `2022-06-23T11:00:00+02:00`.
    pub recruitment_deadline: Option<String>,
    /// A PlannedDate (`{"month": "2022-07", "part": "mid"}`) when the dates are not fixed yet.
    #[schema(value_type = Object)]
    pub planned: Option<serde_json::Value>,
}

/// Answer of `POST .../terms`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermCreated {
    pub term_id: Uuid,
    pub position: i64,
}

fn term_dates(
    f: &mut Fields,
    starts: Option<&str>,
    ends: Option<&str>,
    deadline: Option<&str>,
) -> Option<TermDates> {
    for (field, v) in [
        ("starts_on", starts),
        ("ends_on", ends),
        ("recruitment_deadline", deadline),
    ] {
        if v.is_none() {
            f.fail(field, "is required");
        }
    }
    let (s, e, d) = (starts, ends, deadline);
    let starts_on = s.and_then(|s| f.check("starts_on", validate::date(s)));
    let ends_on = e.and_then(|e| f.check("ends_on", validate::date(e)));
    let recruitment_deadline =
        d.and_then(|d| f.check("recruitment_deadline", validate::instant(d)));
    let (starts_on, ends_on, recruitment_deadline) = (starts_on?, ends_on?, recruitment_deadline?);
    if ends_on < starts_on {
        f.fail("ends_on", "must not be before starts_on");
        return None;
    }
    Some(TermDates {
        starts_on,
        ends_on,
        recruitment_deadline,
    })
}

/// Schedule a term, dated or only planned.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms", tag = "study visits", request_body = TermRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = TermCreated), (status = 404), (status = 409), (status = 422)))]
async fn schedule_term(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TermRequest>,
) -> Result<(StatusCode, Json<TermCreated>), ApiError> {
    let mut f = Fields::default();
    let label = f.check("label", NonEmptyText::parse(&body.label));
    if !(1..=10_000).contains(&body.seats) {
        f.fail("seats", "must be between 1 and 10000");
    }
    let schedule = match &body.planned {
        Some(planned) => {
            if body.starts_on.is_some()
                || body.ends_on.is_some()
                || body.recruitment_deadline.is_some()
            {
                f.fail(
                    "planned",
                    "give either planned or starts_on, ends_on and recruitment_deadline, not both",
                );
            }
            match serde_json::from_value::<PlannedDate>(planned.clone()) {
                Ok(p) => Some(TermSchedule::Planned(p)),
                Err(e) => {
                    f.fail("planned", e.to_string());
                    None
                }
            }
        }
        None => term_dates(
            &mut f,
            body.starts_on.as_deref(),
            body.ends_on.as_deref(),
            body.recruitment_deadline.as_deref(),
        )
        .map(TermSchedule::Dated),
    };
    f.finish()?;
    let (Some(label), Some(schedule)) = (label, schedule) else {
        return Err(ApiError::validated_field_missing());
    };
    let term_id = Uuid::now_v7();
    let cmd = StudyVisitCommand::ScheduleTerm {
        term_id,
        label,
        seats: body.seats as u32,
        schedule,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((StatusCode::CREATED, Json(TermCreated { term_id, position })))
}

/// Body of `POST .../terms/{term_id}/dates`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DatesRequest {
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub recruitment_deadline: Option<String>,
}

/// Fix the dates and deadline of a planned term.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/dates", tag = "study visits",
    request_body = DatesRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422)))]
async fn fix_term_dates(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<DatesRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let dates = term_dates(
        &mut f,
        body.starts_on.as_deref(),
        body.ends_on.as_deref(),
        body.recruitment_deadline.as_deref(),
    );
    f.finish()?;
    let dates = dates.ok_or_else(ApiError::validated_field_missing)?;
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        StudyVisitCommand::FixTermDates { term_id, dates },
    )
    .await?;
    Ok(Json(PositionResponse { position }))
}

/// Open the recruitment of a dated term.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/open", tag = "study visits",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409)))]
async fn open_recruitment(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<PositionResponse>, ApiError> {
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        StudyVisitCommand::OpenRecruitment { term_id },
    )
    .await?;
    Ok(Json(PositionResponse { position }))
}

/// Close the recruitment by hand and record the allocation.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/close", tag = "study visits",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409)))]
async fn close_recruitment(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::CloseRecruitment {
        term_id,
        trigger: CloseTrigger::Manual,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// Body of a cancellation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Cancel a term that has not closed.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/cancel", tag = "study visits",
    request_body = ReasonRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422)))]
async fn cancel_term(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let reason = f.check("reason", NonEmptyText::parse(&body.reason));
    f.finish()?;
    let reason = reason.ok_or_else(ApiError::validated_field_missing)?;
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        StudyVisitCommand::CancelTerm { term_id, reason },
    )
    .await?;
    Ok(Json(PositionResponse { position }))
}

/// A term as listed.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct TermView {
    pub term_id: Uuid,
    pub label: String,
    pub seats: i32,
    /// planned | scheduled | open | closed | cancelled
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub planned: Option<serde_json::Value>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub recruitment_deadline: Option<DateTime<Utc>>,
    /// The deadline as people read it (Europe/Warsaw).
    #[sqlx(skip)]
    pub recruitment_deadline_local: Option<String>,
    /// Live applications (submitted and not withdrawn).
    pub candidates: i32,
    pub allocated: i32,
    #[sqlx(skip)]
    pub seats_left: i32,
}

/// A visit with its terms.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct VisitView {
    pub id: Uuid,
    pub organizer: String,
    pub title: String,
    pub destination: String,
    pub description: String,
    pub eligible_institution_types: Vec<String>,
    pub max_per_institution: Option<i32>,
    #[schema(value_type = Object)]
    pub preferences: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub funding: Option<serde_json::Value>,
    pub announced_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub terms: Vec<TermView>,
}

/// Visits list.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitList {
    pub visits: Vec<VisitView>,
    pub position: i64,
}

/// Filters of the visits list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Only this organizer's visits.
    pub organizer: Option<String>,
    pub min_position: Option<i64>,
}

const VISIT_COLUMNS: &str =
    "visit_id AS id, organizer, title, destination, description, eligible_institution_types,
    max_per_institution, preferences, funding, announced_at";

async fn terms_of(state: &AppState, visit_ids: &[Uuid]) -> Result<Vec<(Uuid, TermView)>, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        visit_id: Uuid,
        #[sqlx(flatten)]
        term: TermView,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT visit_id, term_id, label, seats, status, planned, starts_on, ends_on, recruitment_deadline, candidates, allocated
           FROM rm_study_visit_terms WHERE visit_id = ANY($1) ORDER BY visit_id, ordinal",
    )
    .bind(visit_ids)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.term.seats_left = (r.term.seats - r.term.allocated).max(0);
            r.term.recruitment_deadline_local = r.term.recruitment_deadline.map(|d| {
                d.with_timezone(&chrono_tz::Europe::Warsaw)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            });
            (r.visit_id, r.term)
        })
        .collect())
}

/// List the visits the caller may read.
#[utoipa::path(get, path = "/api/v1/study-visits", tag = "study visits", security(("bearer" = [])),
    params(ListParams), responses((status = 200, body = VisitList), (status = 401), (status = 503)))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<VisitList>, ApiError> {
    wait_for(&state, &["study_visits"], params.min_position).await?;
    let organizer = match (auth.read_scope(), params.organizer) {
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(VisitList {
                visits: vec![],
                position: 0,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let mut visits: Vec<VisitView> = sqlx::query_as(&format!(
        "SELECT {VISIT_COLUMNS} FROM rm_study_visits WHERE ($1::text IS NULL OR organizer = $1) ORDER BY announced_at DESC"
    ))
    .bind(organizer)
    .fetch_all(&state.pool)
    .await?;
    let ids: Vec<Uuid> = visits.iter().map(|v| v.id).collect();
    for (visit_id, term) in terms_of(&state, &ids).await? {
        if let Some(v) = visits.iter_mut().find(|v| v.id == visit_id) {
            v.terms.push(term);
        }
    }
    let position = consistency::position(&state, "study_visits").await?;
    Ok(Json(VisitList { visits, position }))
}

/// Load a visit the caller may read, or 404.
pub async fn load_visit(state: &AppState, auth: &Auth, id: Uuid) -> Result<VisitView, ApiError> {
    let visit: Option<VisitView> = sqlx::query_as(&format!(
        "SELECT {VISIT_COLUMNS} FROM rm_study_visits WHERE visit_id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    match visit {
        Some(v) if auth.can_read(&v.organizer) => Ok(v),
        _ => Err(ApiError::NotFound("No such study visit.".into())),
    }
}

/// One visit with its terms.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}", tag = "study visits", security(("bearer" = [])),
    params(("id" = Uuid, Path), Consistency), responses((status = 200, body = VisitView), (status = 404), (status = 503)))]
async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<VisitView>, ApiError> {
    wait_for(&state, &["study_visits"], c.min_position).await?;
    let mut visit = load_visit(&state, &auth, id).await?;
    visit.terms = terms_of(&state, &[id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    Ok(Json(visit))
}

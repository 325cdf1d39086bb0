//! Personal data (admin, API.md "Personal data"): what is held about a person, found by
//! e-mail, and its erasure.
//!
//! The e-mail is looked up through its keyed hash (`personal_subjects`), never by scanning
//! the addresses. Officers of networks are held by name only (no e-mail), so the answer lists
//! officers whose name equals a name held for the person as *candidates*; the caller decides
//! and names them in the erasure (`officer_ids`), since a name alone can belong to someone
//! else.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::values::Email;
use infra::access_log::{self, Access};
use infra::tokens::Role;
use infra::{erasure, subject_access};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::validate::{Fields, Invalid};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(held))
        .routes(routes!(erase))
}

fn admin_only(auth: &Auth) -> Result<(), ApiError> {
    match auth.0.role {
        Role::Admin => Ok(()),
        Role::Coordinator | Role::Evaluator => Err(ApiError::Forbidden(
            "Requests about personal data are answered by an admin.".into(),
        )),
    }
}

/// The keyed hash an address is filed under (as the public form normalises it).
fn email_hash(state: &AppState, email: &Email) -> Vec<u8> {
    state.hasher.hash(&email.as_str().trim().to_lowercase())
}

/// Parameters of the look-up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeldParams {
    /// The person's e-mail address: required (absent or invalid is 400).
    #[param(
        required = true,
        max_length = 254,
        pattern = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$",
        example = "jan.kowalski@gmina-testowo.pl"
    )]
    pub email: Option<String>,
    /// Answer only once the applications read model has processed this position.
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// The personal fields an application form holds. Every field is always present.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalFields {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Null when none was given.
    #[schema(required = true)]
    pub phone: Option<String>,
    /// Null when none was given.
    #[schema(required = true)]
    pub job_title: Option<String>,
}

/// Why personal data was erased: at the person's `request`, or at the end of the
/// `retention` period.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ErasureReason {
    Request,
    Retention,
}

/// The legal basis recorded for processing an applicant's data: `consent` (RODO art.
/// 6(1)(a), the form's clause) or `public_task` (art. 6(1)(e)).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum LegalBasis {
    Consent,
    PublicTask,
}

/// One application of the person. Every field is always present: a field either source
/// does not know (the read model may lag a fresh submission; retention may have taken the
/// personal row of an old one) is null.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldApplication {
    pub application_id: Uuid,
    #[schema(required = true)]
    pub visit_id: Option<Uuid>,
    /// Null while the read model has not yet seen the submission.
    #[schema(required = true)]
    pub term_id: Option<Uuid>,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required = true, value_type = Option<crate::http::openapi::ApplicationStatus>)]
    pub status: Option<String>,
    /// Version of the information clause (RODO art. 13) the applicant accepted.
    #[schema(required = true)]
    pub information_clause: Option<String>,
    /// Legal basis recorded with the submission.
    #[schema(required = true, value_type = Option<LegalBasis>)]
    pub legal_basis: Option<String>,
    /// What is held; null once erased.
    #[schema(required = true)]
    pub personal_data: Option<PersonalFields>,
    /// True when the personal data was erased.
    pub erased: bool,
    /// When it was erased.
    #[schema(required = true)]
    pub erased_at: Option<DateTime<Utc>>,
    #[schema(required = true, value_type = Option<ErasureReason>)]
    pub erasure_reason: Option<String>,
}

/// One subject (one e-mail address, through its keyed hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldSubject {
    pub subject_id: Uuid,
    /// When the address was first seen.
    pub first_seen_at: DateTime<Utc>,
    /// Its applications, oldest first.
    pub applications: Vec<HeldApplication>,
}

/// How an officer was matched to the person: by `name` only.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum MatchedBy {
    Name,
}

/// An officer of a network whose name equals a name held for the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerCandidate {
    pub officer_id: Uuid,
    pub network_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// Always `name`: officers are held without an e-mail, so this may be a namesake.
    #[schema(value_type = MatchedBy)]
    pub matched_by: String,
}

/// What the service holds about the person with this e-mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldView {
    /// The address asked about, as given (trimmed).
    pub email: String,
    /// Whether anything personal is held under this address. After an erasure nothing links
    /// the address to the person any more, so an erased address answers `false` with no
    /// subjects (the service cannot tell it from one never seen).
    pub held: bool,
    pub subjects: Vec<HeldSubject>,
    /// Officers to consider naming in the erasure's `officer_ids`.
    pub officer_candidates: Vec<OfficerCandidate>,
    /// Where the applications read model stood.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// What is held about a person, by e-mail (admin only).
#[utoipa::path(get, path = "/api/v1/personal-data", operation_id = "get_personal_data", tag = "personal-data", security(("bearer" = [])),
    params(HeldParams),
    responses((status = 200, body = HeldView,
        description = "The subject(s) filed under the address, each application with the information clause and legal basis recorded at submission and the personal fields still held (null once erased), and officers with the same name as candidates"),
        (status = 400, description = "`email` is missing or not an e-mail address, or `min_position` is negative."),
        (status = 403, description = "Not an admin's token: requests about personal data are answered by an admin.")))]
async fn held(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<HeldParams>,
) -> Result<Json<HeldView>, ApiError> {
    admin_only(&auth)?;
    let raw = params
        .email
        .ok_or_else(|| ApiError::bad_param("email", "required", "is required"))?;
    let email = Email::parse(&raw).map_err(|e| ApiError::bad_value("email", e))?;
    wait_for(&state, &["applications"], params.min_position).await?;
    let held = subject_access::held(&state.pool, &email_hash(&state, &email)).await?;
    let ids: Vec<Uuid> = held.subjects.iter().map(|s| s.subject_id).collect();
    let recorded = {
        let mut conn = state.pool.acquire().await?;
        projections::applications::read::of_subjects(&mut conn, &ids).await?
    };
    let erased: BTreeMap<Uuid, (DateTime<Utc>, String)> = held
        .erasures
        .into_iter()
        .map(|e| (e.application_id, (e.erased_at, e.reason)))
        .collect();

    // One entry per application, whichever of the two sources knows it (the read model may
    // lag a fresh submission; retention may have taken the personal row of an old one).
    let mut by_subject: BTreeMap<Uuid, BTreeMap<Uuid, HeldApplication>> = BTreeMap::new();
    let blank = |application_id: Uuid| HeldApplication {
        application_id,
        visit_id: None,
        term_id: None,
        submitted_at: None,
        status: None,
        information_clause: None,
        legal_basis: None,
        personal_data: None,
        erased: false,
        erased_at: None,
        erasure_reason: None,
    };
    for r in recorded {
        let a = by_subject
            .entry(r.subject_id)
            .or_default()
            .entry(r.application_id)
            .or_insert_with(|| blank(r.application_id));
        a.visit_id = Some(r.visit_id);
        a.term_id = Some(r.term_id);
        a.submitted_at = Some(r.submitted_at);
        a.status = Some(r.status);
        a.information_clause = Some(r.information_clause);
        a.legal_basis = Some(r.legal_basis);
    }
    let mut names = BTreeSet::new();
    for p in held.personal {
        names.insert((p.first_name.to_lowercase(), p.last_name.to_lowercase()));
        let a = by_subject
            .entry(p.subject_id)
            .or_default()
            .entry(p.application_id)
            .or_insert_with(|| blank(p.application_id));
        a.visit_id = a.visit_id.or(p.visit_id);
        a.personal_data = Some(PersonalFields {
            first_name: p.first_name,
            last_name: p.last_name,
            email: p.email,
            phone: p.phone,
            job_title: p.job_title,
        });
    }
    for apps in by_subject.values_mut() {
        for a in apps.values_mut() {
            if let Some((at, why)) = erased.get(&a.application_id) {
                a.erased = a.personal_data.is_none();
                a.erased_at = Some(*at);
                a.erasure_reason = Some(why.clone());
            }
        }
    }
    let subjects = held
        .subjects
        .into_iter()
        .map(|subject| {
            let subject_id = subject.subject_id;
            let mut applications: Vec<HeldApplication> = by_subject
                .remove(&subject_id)
                .map(|m| m.into_values().collect())
                .unwrap_or_default();
            applications.sort_by_key(|a| (a.submitted_at, a.application_id));
            HeldSubject {
                subject_id,
                first_seen_at: subject.first_seen_at,
                applications,
            }
        })
        .collect::<Vec<_>>();

    let names: Vec<(String, String)> = names.into_iter().collect();
    let officers = subject_access::officer_namesakes(&state.pool, &names).await?;
    let officer_candidates = officers
        .into_iter()
        .map(|o| OfficerCandidate {
            officer_id: o.officer_id,
            network_id: o.network_id,
            first_name: o.first_name,
            last_name: o.last_name,
            matched_by: "name".into(),
        })
        .collect();

    // Who looked a person up is worth keeping; the address itself is not written down.
    let actor = auth.actor();
    let logged = access_log::record(
        &state.pool,
        &Access {
            actor: &actor,
            role: auth.0.role.as_str(),
            organizer: auth.0.organizer.as_deref(),
            action: "GET /api/v1/personal-data",
            target: "/api/v1/personal-data",
            parameters: json!({"subjects": subjects.len(), "status": 200}),
        },
    )
    .await;
    if let Err(e) = logged {
        tracing::error!(error = %e, %actor, "personal data look-up not recorded");
    }

    Ok(Json(HeldView {
        email: email.as_str().to_owned(),
        held: !subjects.is_empty(),
        subjects,
        officer_candidates,
        position: consistency::position(&state, "applications").await?,
    }))
}

/// Body of an erasure.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ErasureRequest {
    /// The person's e-mail address: required (absent or invalid is 422 naming `email`;
    /// optional in the type only so that its absence is answered like that).
    #[serde(default)]
    #[schema(value_type = String, required = true, max_length = 254, pattern = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$", example = "jan.kowalski@gmina-testowo.pl")]
    pub email: Option<String>,
    /// Officers to erase too (see `officer_candidates` of the look-up): officers are held
    /// by name only, so the caller confirms which are this person. Absent = none.
    #[serde(default)]
    pub officer_ids: Vec<Uuid>,
}

/// An erasure as checked: whose, and which officers with them.
struct Erasure {
    email: Email,
    officer_ids: Vec<Uuid>,
}

impl TryFrom<ErasureRequest> for Erasure {
    type Error = Invalid;

    fn try_from(r: ErasureRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let email = match r.email.as_deref() {
            Some(raw) => f.check("email", Email::parse(raw)),
            None => {
                f.fail("email", "required", "is required");
                None
            }
        };
        f.finish_with(|| {
            Some(Erasure {
                email: email?,
                officer_ids: r.officer_ids,
            })
        })
    }
}

/// What an erasure removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureResponse {
    /// Subjects (e-mail addresses) erased; 0 when nothing was held (a repeat).
    pub erased_subjects: u64,
    /// Applications whose personal data was deleted.
    pub erased_applications: u64,
    /// Officers whose name was deleted.
    pub erased_officers: u64,
    /// Global position of the newest event at the erasure; no event is written or changed.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Erase everything that names or contacts a person (admin only).
#[utoipa::path(post, path = "/api/v1/personal-data/erasure", operation_id = "erase_personal_data", tag = "personal-data", security(("bearer" = [])),
    request_body = ErasureRequest,
    responses((status = 200, body = ErasureResponse,
        description = "Personal rows, the e-mail hash, applicant keys and stored answers deleted in one transaction; events, counts and decisions stay; rosters show `{\"erased\": true}`"),
        (status = 403, description = "Not an admin's token: requests about personal data are answered by an admin."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being carried out (or was, and its answer was lost)."),
        (status = 422, description = "`email` is missing or not an e-mail address (or the `Idempotency-Key` was used before with another body).")))]
async fn erase(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<ErasureRequest>,
) -> Result<Json<ErasureResponse>, ApiError> {
    admin_only(&auth)?;
    let Erasure { email, officer_ids } = body.try_into()?;
    let actor = auth.actor();
    let (erased, position) = erasure::erase_person(
        &state.pool,
        &email_hash(&state, &email),
        &officer_ids,
        "POST /api/v1/personal-data/erasure",
        &actor,
    )
    .await?;
    tracing::info!(%actor, subjects = erased.subjects, applications = erased.applications,
        officers = erased.officers, "personal data erased");
    Ok(Json(ErasureResponse {
        erased_subjects: erased.subjects,
        erased_applications: erased.applications,
        erased_officers: erased.officers,
        position,
    }))
}

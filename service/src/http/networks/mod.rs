//! Networks (*sieci* / *platformy współpracy*): establishing a network, its regulations,
//! members joining by declaration and leaving, officers' elections and meetings
//! (coordinator), and the networks list and registry (reads).
//!
//! Officers' names are personal data: they go into `officer_personal_data` before the
//! election command runs (removed again if it is refused), the events carry only the
//! officer's id, and the registry shows the name to coordinators and admins only.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::network::{Declaration, Network, NetworkCommand, OfficerRole};
use domain::values::{InstitutionType, NonEmptyText, PlannedDate};
use infra::officers::{self, OfficerName};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::command::PositionResponse;
use crate::http::consistency::{self, wait_for};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::history::{not_yet, replay, visible_history};
use crate::http::institution::InstitutionRequest;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::{self, Fields};

/// The projections the network reads are served from.
pub const NETWORK_PROJECTIONS: &[&str] = &["networks"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(establish, list))
        .routes(routes!(adopt_regulations))
        .routes(routes!(join))
        .routes(routes!(leave))
        .routes(routes!(elect))
        .routes(routes!(record_meeting))
        .routes(routes!(registry))
}

/// Runs a network command for an authenticated coordinator or admin.
pub async fn command(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    network_id: Uuid,
    cmd: NetworkCommand,
) -> Result<i64, ApiError> {
    crate::http::command::run::<Network>(state, auth, meta, network_id, cmd).await
}

fn text(f: &mut Fields, field: &str, v: &str) -> Option<NonEmptyText> {
    f.check(field, NonEmptyText::parse(v))
}

fn optional_text(f: &mut Fields, field: &str, v: Option<&str>) -> Option<Option<NonEmptyText>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(s) => f.check(field, NonEmptyText::parse(s)).map(Some),
    }
}

/// Body of `POST /api/v1/networks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EstablishRequest {
    pub name: String,
    /// The region (voivodeship) it covers.
    pub region: String,
    /// Institution types it admits: JST, JOPS, OWES, PES, CIS, KIS, ZAZ, WTZ, NGO, OTHER
    /// (PES admits its kinds CIS, KIS, ZAZ, WTZ and NGO).
    pub member_types: Vec<String>,
    /// `YYYY-MM-DD`.
    pub established_on: String,
    /// Organizer (slug); required for admin tokens, implied by a coordinator's token.
    #[serde(default)]
    pub organizer: Option<String>,
}

/// Answer of `POST /api/v1/networks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkCreated {
    pub id: Uuid,
    pub position: i64,
}

/// Establish a network.
#[utoipa::path(post, path = "/api/v1/networks", tag = "networks", request_body = EstablishRequest,
    security(("bearer" = [])),
    responses((status = 201, body = NetworkCreated), (status = 400, body = crate::http::problem::Problem), (status = 401),
        (status = 403), (status = 422, body = crate::http::problem::Problem)))]
async fn establish(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(body): ApiJson<EstablishRequest>,
) -> Result<(StatusCode, Json<NetworkCreated>), ApiError> {
    let mut f = Fields::default();
    let organizer = auth.organizer_for_new(body.organizer.as_deref(), &mut f)?;
    let name = text(&mut f, "name", &body.name);
    let region = text(&mut f, "region", &body.region);
    if body.member_types.is_empty() {
        f.fail("member_types", "must list at least one institution type");
    }
    let mut types = Vec::new();
    for (i, t) in body.member_types.iter().enumerate() {
        if let Some(t) = f.check(&format!("member_types[{i}]"), InstitutionType::parse(t)) {
            types.push(t);
        }
    }
    let established_on = f.date("established_on", &body.established_on);
    f.finish()?;
    let (Some(organizer), Some(name), Some(region), Some(established_on)) =
        (organizer, name, region, established_on)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let network_id = Uuid::now_v7();
    let cmd = NetworkCommand::Establish {
        network_id,
        organizer,
        name,
        region,
        member_types: types,
        established_on,
    };
    // The new network has no owner yet: the organizer in the command is the one checked above.
    let ctx = meta.context(auth.actor(), None, cmd.name());
    let done = state
        .networks
        .execute(&network_id.to_string(), cmd, &ctx)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NetworkCreated {
            id: network_id,
            position: done.position,
        }),
    ))
}

/// Body of `POST /api/v1/networks/{id}/regulations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegulationsRequest {
    /// Version label, unique within the network (e.g. `1.0`).
    pub version: String,
    pub title: String,
    /// `YYYY-MM-DD`.
    pub adopted_on: String,
    /// Reference to the document (file name, register number).
    pub document_ref: String,
}

/// Adopt a version of the network's regulations (409 when that version was adopted already).
#[utoipa::path(post, path = "/api/v1/networks/{id}/regulations", tag = "networks",
    request_body = RegulationsRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 403), (status = 404),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn adopt_regulations(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RegulationsRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let version = f.check("version", NonEmptyText::parse_max(&body.version, 50));
    let title = text(&mut f, "title", &body.title);
    let adopted_on = f.date("adopted_on", &body.adopted_on);
    let document_ref = text(&mut f, "document_ref", &body.document_ref);
    f.finish()?;
    let (Some(version), Some(title), Some(adopted_on), Some(document_ref)) =
        (version, title, adopted_on, document_ref)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let cmd = NetworkCommand::AdoptRegulations {
        version,
        title,
        adopted_on,
        document_ref,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// A declaration of accession.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclarationRequest {
    /// `YYYY-MM-DD`: the member's joining day.
    pub signed_on: String,
    #[serde(default)]
    pub document_ref: Option<String>,
}

/// Body of `POST /api/v1/networks/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberRequest {
    pub institution: InstitutionRequest,
    pub declaration: DeclarationRequest,
}

/// Answer of `POST /api/v1/networks/{id}/members`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCreated {
    pub member_id: Uuid,
    pub position: i64,
}

/// Admit an institution by its declaration of accession (422 when the network does not
/// admit its type, 409 when it is already an active member).
#[utoipa::path(post, path = "/api/v1/networks/{id}/members", tag = "networks",
    request_body = MemberRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = MemberCreated), (status = 403), (status = 404),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn join(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MemberRequest>,
) -> Result<(StatusCode, Json<MemberCreated>), ApiError> {
    let mut f = Fields::default();
    let institution = body.institution.check(&mut f, "institution");
    let signed_on = f.date("declaration.signed_on", &body.declaration.signed_on);
    let document_ref = optional_text(
        &mut f,
        "declaration.document_ref",
        body.declaration.document_ref.as_deref(),
    );
    f.finish()?;
    let (Some(institution), Some(signed_on), Some(document_ref)) =
        (institution, signed_on, document_ref)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let member_id = Uuid::now_v7();
    let cmd = NetworkCommand::JoinMember {
        member_id,
        institution,
        declaration: Declaration {
            signed_on,
            document_ref,
        },
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(MemberCreated {
            member_id,
            position,
        }),
    ))
}

/// Body of a member's leaving.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LeaveRequest {
    /// `YYYY-MM-DD`.
    pub left_on: String,
    pub reason: String,
}

/// Record that a member left (409 when it is not an active member); the offices its
/// officers hold end with it.
#[utoipa::path(post, path = "/api/v1/networks/{id}/members/{member_id}/leave", tag = "networks",
    request_body = LeaveRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("member_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 403), (status = 404),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn leave(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, member_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<LeaveRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let left_on = f.date("left_on", &body.left_on);
    let reason = text(&mut f, "reason", &body.reason);
    f.finish()?;
    let (Some(left_on), Some(reason)) = (left_on, reason) else {
        return Err(ApiError::validated_field_missing());
    };
    let cmd = NetworkCommand::LeaveMember {
        member_id,
        left_on,
        reason,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// An officer's name (personal data: kept out of the events).
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfficerPersonRequest {
    pub first_name: String,
    pub last_name: String,
}

/// Body of `POST /api/v1/networks/{id}/officers`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfficerRequest {
    /// chair | vice_chair | coordinator | secretary
    pub role: String,
    pub person: OfficerPersonRequest,
    /// The active member the officer comes from.
    pub member_id: Uuid,
    /// `YYYY-MM-DD`.
    pub term_starts_on: String,
    /// `YYYY-MM-DD`, or null for a term without a fixed end.
    #[serde(default)]
    pub term_ends_on: Option<String>,
}

/// Answer of an election.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerElectedResponse {
    /// The officer's record id (their name is kept under it).
    pub officer_id: Uuid,
    pub position: i64,
}

/// Elect an officer from an active member (409 otherwise); the previous holder's term ends.
#[utoipa::path(post, path = "/api/v1/networks/{id}/officers", tag = "networks",
    request_body = OfficerRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = OfficerElectedResponse), (status = 403), (status = 404),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn elect(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<OfficerRequest>,
) -> Result<Json<OfficerElectedResponse>, ApiError> {
    // Refuse an evaluator before anything about a person is written.
    auth.command_scope()?;
    let mut f = Fields::default();
    let role = f.check("role", OfficerRole::parse(&body.role));
    let first_name = f.check(
        "person.first_name",
        NonEmptyText::parse_max(&body.person.first_name, 100),
    );
    let last_name = f.check(
        "person.last_name",
        NonEmptyText::parse_max(&body.person.last_name, 100),
    );
    let starts = f.date("term_starts_on", &body.term_starts_on);
    let ends = match body.term_ends_on.as_deref() {
        None => Some(None),
        Some(s) => f.date("term_ends_on", s).map(Some),
    };
    if let (Some(s), Some(Some(e))) = (starts, ends) {
        if e < s {
            f.fail("term_ends_on", "must not be before term_starts_on");
        }
    }
    f.finish()?;
    let (Some(role), Some(first_name), Some(last_name), Some(term_starts_on), Some(term_ends_on)) =
        (role, first_name, last_name, starts, ends)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let officer_id = Uuid::now_v7();
    let name = OfficerName {
        first_name: first_name.as_str().to_owned(),
        last_name: last_name.as_str().to_owned(),
    };
    // The name is written in the transaction of the election's events: both or neither.
    let write = infra::pipeline::side_write(move |conn| {
        let name = name.clone();
        Box::pin(async move { officers::record(conn, officer_id, id, &name).await })
            as infra::pipeline::SideFuture<'_>
    });
    let cmd = NetworkCommand::ElectOfficer {
        officer_id,
        role,
        member_id: body.member_id,
        term_starts_on,
        term_ends_on,
    };
    let ctx = meta.context(auth.actor(), auth.command_scope()?, cmd.name());
    let done = state
        .networks
        .execute_with(&id.to_string(), cmd, &ctx, Some(write))
        .await?;
    Ok(Json(OfficerElectedResponse {
        officer_id,
        position: done.position,
    }))
}

/// Body of `POST /api/v1/networks/{id}/meetings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MeetingRequest {
    pub title: String,
    /// A PlannedDate: `{"day": ...}`, `{"from": ..., "to": ...}`, `{"month": ...}` or
    /// `{"month": ..., "part": "early" | "mid" | "late"}`.
    #[schema(value_type = Object)]
    pub when: serde_json::Value,
    #[serde(default)]
    pub location: Option<String>,
    pub participants_total: i64,
    #[serde(default)]
    pub topics: Vec<String>,
}

/// Answer of `POST /api/v1/networks/{id}/meetings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingCreated {
    pub meeting_id: Uuid,
    pub position: i64,
}

/// Record a meeting of the network.
#[utoipa::path(post, path = "/api/v1/networks/{id}/meetings", tag = "networks",
    request_body = MeetingRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = MeetingCreated), (status = 403), (status = 404),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn record_meeting(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MeetingRequest>,
) -> Result<(StatusCode, Json<MeetingCreated>), ApiError> {
    let mut f = Fields::default();
    let title = text(&mut f, "title", &body.title);
    let when = match serde_json::from_value::<PlannedDate>(body.when.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            f.fail("when", e.to_string());
            None
        }
    };
    let location = optional_text(&mut f, "location", body.location.as_deref());
    if !(0..=1_000_000).contains(&body.participants_total) {
        f.fail("participants_total", "must be between 0 and 1000000");
    }
    let topics: Vec<NonEmptyText> = body
        .topics
        .iter()
        .enumerate()
        .filter_map(|(i, t)| f.check(&format!("topics[{i}]"), NonEmptyText::parse(t)))
        .collect();
    f.finish()?;
    let (Some(title), Some(when), Some(location)) = (title, when, location) else {
        return Err(ApiError::validated_field_missing());
    };
    let meeting_id = Uuid::now_v7();
    let cmd = NetworkCommand::RecordMeeting {
        meeting_id,
        title,
        when,
        location,
        participants_total: u32::try_from(body.participants_total)
            .map_err(|_| ApiError::validated_field_missing())?,
        topics,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(MeetingCreated {
            meeting_id,
            position,
        }),
    ))
}

/// A network as listed.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct NetworkView {
    pub id: Uuid,
    pub organizer: String,
    pub name: String,
    pub region: String,
    pub member_types: Vec<String>,
    pub established_on: NaiveDate,
    /// Members that have not left.
    pub active_members: i64,
    /// Meetings recorded.
    pub meetings: i64,
    /// Version of the regulations in force, if any were adopted.
    pub current_regulations: Option<String>,
}

/// Networks list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkList {
    pub networks: Vec<NetworkView>,
    pub position: i64,
}

/// Filters of the networks list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct NetworkListParams {
    /// Only this organizer's networks.
    pub organizer: Option<String>,
    pub min_position: Option<i64>,
}

const CURRENT_REGULATIONS: &str =
    "SELECT r.version FROM rm_network_regulations r WHERE r.network_id = n.network_id
      ORDER BY r.adopted_on DESC, r.position DESC LIMIT 1";

/// List the networks the caller may read.
#[utoipa::path(get, path = "/api/v1/networks", tag = "networks", security(("bearer" = [])),
    params(NetworkListParams), responses((status = 200, body = NetworkList), (status = 401), (status = 503)))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<NetworkListParams>,
) -> Result<Json<NetworkList>, ApiError> {
    wait_for(&state, NETWORK_PROJECTIONS, params.min_position).await?;
    let organizer = match (auth.read_scope(), params.organizer) {
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(NetworkList {
                networks: vec![],
                position: 0,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let networks: Vec<NetworkView> = sqlx::query_as(&format!(
        "SELECT n.network_id AS id, n.organizer, n.name, n.region, n.member_types, n.established_on,
            (SELECT count(*) FROM rm_network_members m WHERE m.network_id = n.network_id AND m.status = 'active') AS active_members,
            (SELECT count(*) FROM rm_network_meetings g WHERE g.network_id = n.network_id) AS meetings,
            ({CURRENT_REGULATIONS}) AS current_regulations
           FROM rm_networks n WHERE ($1::text IS NULL OR n.organizer = $1)
          ORDER BY n.established_on, n.established_at"
    ))
    .bind(organizer)
    .fetch_all(&state.pool)
    .await?;
    let position = consistency::position(&state, "networks").await?;
    Ok(Json(NetworkList { networks, position }))
}

/// A declaration of accession as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationView {
    pub signed_on: NaiveDate,
    pub document_ref: Option<String>,
}

/// A member of the registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub member_id: Uuid,
    #[schema(value_type = Object)]
    pub institution: serde_json::Value,
    pub joined_on: NaiveDate,
    /// active | left
    pub status: String,
    pub declaration: DeclarationView,
    pub left_on: Option<NaiveDate>,
    pub left_reason: Option<String>,
}

/// An officer's name, shown to coordinators and admins; `{"erased": true}` once erased.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OfficerPersonView {
    Known {
        first_name: String,
        last_name: String,
    },
    Erased {
        erased: bool,
    },
}

/// An officer's term of office.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerView {
    pub officer_id: Uuid,
    /// chair | vice_chair | coordinator | secretary
    pub role: String,
    pub member_id: Uuid,
    /// The member institution as it was at the election.
    #[schema(value_type = Object)]
    pub institution: serde_json::Value,
    pub term_starts_on: NaiveDate,
    pub term_ends_on: Option<NaiveDate>,
    /// current | ended
    pub status: String,
    pub ended_on: Option<NaiveDate>,
    /// succeeded | member_left, when the term ended.
    pub end_reason: Option<String>,
    /// Only for coordinator and admin tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<OfficerPersonView>,
}

/// One version of the regulations.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow, Clone)]
pub struct RegulationsVersionView {
    pub version: String,
    pub title: String,
    pub adopted_on: NaiveDate,
    pub document_ref: String,
}

/// The regulations in force and every adopted version (in adoption order).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegulationsView {
    pub current: Option<RegulationsVersionView>,
    pub versions: Vec<RegulationsVersionView>,
}

/// A recorded meeting.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct MeetingView {
    pub meeting_id: Uuid,
    pub title: String,
    /// A PlannedDate, at the precision it was recorded with.
    #[schema(value_type = Object)]
    pub when: serde_json::Value,
    pub location: Option<String>,
    pub participants_total: i32,
    pub topics: Vec<String>,
}

/// The registry of a network (API.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryView {
    pub id: Uuid,
    pub organizer: String,
    pub name: String,
    pub region: String,
    pub member_types: Vec<String>,
    pub established_on: NaiveDate,
    /// Every membership in joining order, with its status.
    pub members: Vec<MemberView>,
    /// Active members counted by institution type.
    pub members_by_type: BTreeMap<String, i64>,
    /// The officers holding office now, in election order.
    pub officers: Vec<OfficerView>,
    /// Every term of office ever, in election order (current and ended).
    pub officer_history: Vec<OfficerView>,
    pub regulations: RegulationsView,
    /// Number of meetings recorded.
    pub meetings: i64,
    /// The meetings, by date.
    pub meeting_list: Vec<MeetingView>,
    pub position: i64,
    /// Set when the registry was replayed as of an instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct NetworkRow {
    organizer: String,
    name: String,
    region: String,
    member_types: Vec<String>,
    established_on: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    member_id: Uuid,
    institution: serde_json::Value,
    kind: String,
    joined_on: NaiveDate,
    declaration_ref: Option<String>,
    status: String,
    left_on: Option<NaiveDate>,
    left_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OfficerRow {
    officer_id: Uuid,
    role: String,
    member_id: Uuid,
    institution: Option<serde_json::Value>,
    term_starts_on: NaiveDate,
    term_ends_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    end_reason: Option<String>,
}

/// What a registry is assembled from: the read model's rows (the live answer) or the same
/// rows derived from the replayed aggregate (`?at=`), so that both go through [`assemble`].
struct RegistrySource {
    network: NetworkRow,
    members: Vec<MemberRow>,
    officers: Vec<OfficerRow>,
    versions: Vec<RegulationsVersionView>,
    meetings: Vec<MeetingView>,
}

/// The registry's rows from the `networks` read model (None when it has no such network).
async fn live_source(state: &AppState, id: Uuid) -> Result<Option<RegistrySource>, ApiError> {
    let network: Option<NetworkRow> = sqlx::query_as(
        "SELECT organizer, name, region, member_types, established_on FROM rm_networks WHERE network_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let Some(network) = network else {
        return Ok(None);
    };
    let members: Vec<MemberRow> = sqlx::query_as(
        "SELECT member_id, institution, kind, joined_on, declaration_ref, status, left_on, left_reason
           FROM rm_network_members WHERE network_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let officers: Vec<OfficerRow> = sqlx::query_as(
        "SELECT officer_id, role, member_id, institution, term_starts_on, term_ends_on, ended_on, end_reason
           FROM rm_network_officers WHERE network_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let versions: Vec<RegulationsVersionView> = sqlx::query_as(
        "SELECT version, title, adopted_on, document_ref FROM rm_network_regulations
          WHERE network_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let meetings: Vec<MeetingView> = sqlx::query_as(
        "SELECT meeting_id, title, planned AS \"when\", location, participants_total, topics
           FROM rm_network_meetings WHERE network_id = $1 ORDER BY first_day, last_day, position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Some(RegistrySource {
        network,
        members,
        officers,
        versions,
        meetings,
    }))
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The rows the `networks` projection would hold after the events replayed into `network`
/// (None before it was established). Mirrors `projections::networks` column by column:
/// events keep their order as positions do, an officer's institution is its member's.
fn replayed_source(network: &Network) -> Option<RegistrySource> {
    let details = network.details()?;
    let members = network
        .members()
        .iter()
        .map(|m| MemberRow {
            member_id: m.member_id,
            institution: json(&m.institution),
            kind: m.institution.kind.as_str().to_owned(),
            joined_on: m.joined_on(),
            declaration_ref: m
                .declaration
                .document_ref
                .as_ref()
                .map(|d| d.as_str().to_owned()),
            status: if m.is_active() { "active" } else { "left" }.to_owned(),
            left_on: m.left.as_ref().map(|(on, _)| *on),
            left_reason: m.left.as_ref().map(|(_, why)| why.as_str().to_owned()),
        })
        .collect();
    let officers = network
        .officer_terms()
        .iter()
        .map(|o| OfficerRow {
            officer_id: o.officer_id,
            role: o.role.as_str().to_owned(),
            member_id: o.member_id,
            institution: network.member(o.member_id).map(|m| json(&m.institution)),
            term_starts_on: o.term_starts_on,
            term_ends_on: o.term_ends_on,
            ended_on: o.ended.map(|(on, _)| on),
            end_reason: o.ended.map(|(_, why)| why.as_str().to_owned()),
        })
        .collect();
    let versions = network
        .regulations()
        .iter()
        .map(|r| RegulationsVersionView {
            version: r.version.as_str().to_owned(),
            title: r.title.as_str().to_owned(),
            adopted_on: r.adopted_on,
            document_ref: r.document_ref.as_str().to_owned(),
        })
        .collect();
    let mut meetings: Vec<(NaiveDate, NaiveDate, usize, MeetingView)> = network
        .meetings()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let view = MeetingView {
                meeting_id: m.meeting_id,
                title: m.title.as_str().to_owned(),
                when: json(&m.when),
                location: m.location.as_ref().map(|l| l.as_str().to_owned()),
                participants_total: i32::try_from(m.participants_total).unwrap_or(i32::MAX),
                topics: m.topics.iter().map(|t| t.as_str().to_owned()).collect(),
            };
            (m.when.first_day(), m.when.last_day(), i, view)
        })
        .collect();
    meetings.sort_by_key(|(first, last, i, _)| (*first, *last, *i));
    Some(RegistrySource {
        network: NetworkRow {
            organizer: details.organizer.as_str().to_owned(),
            name: details.name.as_str().to_owned(),
            region: details.region.as_str().to_owned(),
            member_types: details
                .member_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            established_on: details.established_on,
        },
        members,
        officers,
        versions,
        meetings: meetings.into_iter().map(|(_, _, _, m)| m).collect(),
    })
}

/// The registry from its rows, with officers' names for coordinators and admins.
async fn assemble(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    source: RegistrySource,
    position: i64,
    at: Option<DateTime<Utc>>,
) -> Result<RegistryView, ApiError> {
    let RegistrySource {
        network,
        members: member_rows,
        officers: officer_rows,
        versions,
        meetings: meeting_list,
    } = source;
    let mut members_by_type = BTreeMap::new();
    let mut members = Vec::with_capacity(member_rows.len());
    for m in member_rows {
        if m.status == "active" {
            *members_by_type.entry(m.kind.clone()).or_insert(0) += 1;
        }
        members.push(MemberView {
            member_id: m.member_id,
            institution: m.institution,
            joined_on: m.joined_on,
            status: m.status,
            declaration: DeclarationView {
                signed_on: m.joined_on,
                document_ref: m.declaration_ref,
            },
            left_on: m.left_on,
            left_reason: m.left_reason,
        });
    }

    let names: HashMap<Uuid, OfficerName> = if auth.sees_personal_data() {
        let ids: Vec<Uuid> = officer_rows.iter().map(|o| o.officer_id).collect();
        officers::names(&state.pool, &ids).await?
    } else {
        HashMap::new()
    };
    let view = |o: &OfficerRow| OfficerView {
        officer_id: o.officer_id,
        role: o.role.clone(),
        member_id: o.member_id,
        institution: o.institution.clone().unwrap_or(serde_json::Value::Null),
        term_starts_on: o.term_starts_on,
        term_ends_on: o.term_ends_on,
        status: if o.ended_on.is_some() {
            "ended".to_owned()
        } else {
            "current".to_owned()
        },
        ended_on: o.ended_on,
        end_reason: o.end_reason.clone(),
        person: auth
            .sees_personal_data()
            .then(|| match names.get(&o.officer_id) {
                Some(n) => OfficerPersonView::Known {
                    first_name: n.first_name.clone(),
                    last_name: n.last_name.clone(),
                },
                None => OfficerPersonView::Erased { erased: true },
            }),
    };
    let officers: Vec<OfficerView> = officer_rows
        .iter()
        .filter(|o| o.ended_on.is_none())
        .map(view)
        .collect();
    let officer_history: Vec<OfficerView> = officer_rows.iter().map(view).collect();

    // In force: the latest by adoption day, the later adopted on a tie (as the aggregate).
    let current = versions
        .iter()
        .enumerate()
        .max_by_key(|(i, r)| (r.adopted_on, *i))
        .map(|(_, r)| r.clone());

    Ok(RegistryView {
        id,
        organizer: network.organizer,
        name: network.name,
        region: network.region,
        member_types: network.member_types,
        established_on: network.established_on,
        members,
        members_by_type,
        officers,
        officer_history,
        regulations: RegulationsView { current, versions },
        meetings: i64::try_from(meeting_list.len()).unwrap_or(i64::MAX),
        meeting_list,
        position,
        at,
    })
}

/// Parameters of the registry.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RegistryParams {
    /// RFC 3339 instant: the registry as it stood then, replayed from the events recorded
    /// at or before it (instead of read from today's read model).
    pub at: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    pub min_position: Option<i64>,
}

/// The registry of a network: members with status, members by type, current officers,
/// officer history, regulations and meetings. With `?at=` the registry as it stood at that
/// instant, replayed from the events recorded up to it; `position` is then that of the last
/// event replayed (404 when the network did not exist yet). Officers' names are today's
/// (personal data is kept outside the events and may have been erased since).
#[utoipa::path(get, path = "/api/v1/networks/{id}/registry", tag = "networks", security(("bearer" = [])),
    params(("id" = Uuid, Path), RegistryParams),
    responses((status = 200, body = RegistryView), (status = 400), (status = 401), (status = 404), (status = 503)))]
async fn registry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<RegistryParams>,
) -> Result<Json<RegistryView>, ApiError> {
    wait_for(&state, NETWORK_PROJECTIONS, params.min_position).await?;
    if let Some(at) = &params.at {
        let at = validate::instant(at).map_err(|e| ApiError::bad_param("at", e.message))?;
        let events = visible_history::<Network>(&state, &auth, id).await?;
        let replayed = replay::<Network>(events.iter().filter(|e| e.within(Some(at), None)));
        let source = replayed_source(&replayed.aggregate)
            .ok_or_else(|| not_yet::<Network>(Some(at), None))?;
        let view = assemble(&state, &auth, id, source, replayed.position, Some(at)).await?;
        return Ok(Json(view));
    }
    let source = match live_source(&state, id).await? {
        Some(s) if auth.can_read(&s.network.organizer) => s,
        _ => return Err(ApiError::NotFound("No such network.".into())),
    };
    let position = consistency::position(&state, "networks").await?;
    Ok(Json(
        assemble(&state, &auth, id, source, position, None).await?,
    ))
}

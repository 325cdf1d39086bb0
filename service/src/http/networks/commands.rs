//! The network commands: each handler parses its body into domain values
//! (`requests`), gives a new thing its id, and sends the command down the shared
//! command path (`crate::http::command`), which checks the caller's role and organizer.
//!
//! The election is the one that writes beside its events: the officer's name is personal
//! data, kept out of the events, and goes into `officer_personal_data` in the very
//! transaction that appends the election (`infra::officers::with_election`), so that an
//! event never names an officer whose name we do not hold, nor a refused election leaves a
//! name behind.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::network::{Network, NetworkCommand, RegulationsVersion};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::requests::{
    Accession, Election, EstablishRequest, LeaveRequest, Leaving, MeetingRequest, MemberRequest,
    NewMeeting, OfficerRequest, RegulationsRequest,
};
use crate::http::auth::Auth;
use crate::http::command::{self, Created, PositionResponse};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::Fields;

/// Answer of `POST /api/v1/networks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkCreated {
    /// The new network's id.
    pub id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

// The answer is `command::Created`'s `{id, position}`, under a schema of the network's own
// name.
impl From<Created> for NetworkCreated {
    fn from(c: Created) -> Self {
        NetworkCreated {
            id: c.id,
            position: c.position,
        }
    }
}

/// Establish a network.
#[utoipa::path(post, path = "/api/v1/networks", operation_id = "establish_network", tag = "networks", request_body = EstablishRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = NetworkCreated, description = "Established: the network's `id`, and the `position` of its first event."),
        (status = 403, description = "An evaluator's token, or a coordinator naming another organizer."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (an admin token must name the `organizer`); `errors` lists each.")))]
pub async fn establish(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(body): ApiJson<EstablishRequest>,
) -> Result<(StatusCode, Json<NetworkCreated>), ApiError> {
    let mut f = Fields::default();
    // The organizer first: an evaluator, or a coordinator naming another organizer, is
    // refused (403) before the body is judged; an admin naming none is one more field error.
    let organizer = auth.organizer_for_new(body.organizer.as_deref(), &mut f)?;
    let founding = body.check(&mut f);
    let network_id = Uuid::now_v7();
    let cmd = f.finish_with(|| {
        let founding = founding?;
        Some(NetworkCommand::Establish {
            network_id,
            organizer: organizer?,
            name: founding.name,
            region: founding.region,
            member_types: founding.member_types,
            established_on: founding.established_on,
        })
    })?;
    let (status, Json(created)) =
        command::create::<Network>(&state, &auth, &meta, network_id, cmd).await?;
    Ok((status, Json(created.into())))
}

/// Adopt a version of the network's regulations (409 when that version was adopted already).
#[utoipa::path(post, path = "/api/v1/networks/{id}/regulations", operation_id = "adopt_regulations", tag = "networks",
    request_body = RegulationsRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Adopted: the regulations in force are this version."),
        (status = 409, description = "This version was adopted already; or a request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: `adopted_on` before the network was established); `errors` lists each.")))]
pub async fn adopt_regulations(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RegulationsRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let r: RegulationsVersion = body.try_into()?;
    let cmd = NetworkCommand::AdoptRegulations {
        version: r.version,
        title: r.title,
        adopted_on: r.adopted_on,
        document_ref: r.document_ref,
    };
    command::respond::<Network>(&state, &auth, &meta, id, cmd).await
}

/// Answer of `POST /api/v1/networks/{id}/members`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCreated {
    pub member_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Admit an institution by its declaration of accession (422 when the network does not
/// admit its type, 409 when it is already an active member).
#[utoipa::path(post, path = "/api/v1/networks/{id}/members", operation_id = "join_network", tag = "networks",
    request_body = MemberRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = MemberCreated, description = "Admitted: the membership's `member_id`, and the `position` of the event."),
        (status = 409, description = "The institution (by NIP) is an active member already; or a request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: an institution type the network does not admit); `errors` lists each.")))]
pub async fn join(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MemberRequest>,
) -> Result<(StatusCode, Json<MemberCreated>), ApiError> {
    let accession: Accession = body.try_into()?;
    let member_id = Uuid::now_v7();
    let cmd = NetworkCommand::JoinMember {
        member_id,
        institution: accession.institution,
        declaration: accession.declaration,
    };
    let position = command::run::<Network>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(MemberCreated {
            member_id,
            position,
        }),
    ))
}

/// Record that a member left (409 when it is not an active member); the offices its
/// officers hold end with it.
#[utoipa::path(post, path = "/api/v1/networks/{id}/members/{member_id}/leave", operation_id = "leave_network", tag = "networks",
    request_body = LeaveRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("member_id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Left: the membership is `left`, and its officers' terms ended (`member_left`)."),
        (status = 404, description = "No such network or member, or not this token's organizer's."),
        (status = 409, description = "The member has left already; or a request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: `left_on` before the member joined); `errors` lists each.")))]
pub async fn leave(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, member_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<LeaveRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let leaving: Leaving = body.try_into()?;
    let cmd = NetworkCommand::LeaveMember {
        member_id,
        left_on: leaving.left_on,
        reason: leaving.reason,
    };
    command::respond::<Network>(&state, &auth, &meta, id, cmd).await
}

/// Answer of an election.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerElectedResponse {
    /// The officer's record id (their name is kept under it).
    pub officer_id: Uuid,
    /// Global position of the last event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Elect an officer from an active member (409 otherwise); the previous holder's term ends.
#[utoipa::path(post, path = "/api/v1/networks/{id}/officers", operation_id = "elect_officer", tag = "networks",
    request_body = OfficerRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OfficerElectedResponse, description = "Elected: the officer's `officer_id`; the previous holder's term ended (`succeeded`)."),
        (status = 409, description = "`member_id` is not an active member, or the term would start before the current holder's did; or a request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: `term_starts_on` before the network was established, or `term_ends_on` before it); `errors` lists each.")))]
pub async fn elect(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<OfficerRequest>,
) -> Result<Json<OfficerElectedResponse>, ApiError> {
    // Refuse an evaluator before anything about a person is even looked at.
    auth.command_scope()?;
    let election: Election = body.try_into()?;
    let officer_id = Uuid::now_v7();
    let cmd = NetworkCommand::ElectOfficer {
        officer_id,
        role: election.role,
        member_id: election.member_id,
        term_starts_on: election.term_starts_on,
        term_ends_on: election.term_ends_on,
    };
    // The name goes in with the election's events, or not at all.
    let name = infra::officers::with_election(officer_id, id, election.name);
    let position = command::run_with::<Network>(&state, &auth, &meta, id, cmd, name).await?;
    Ok(Json(OfficerElectedResponse {
        officer_id,
        position,
    }))
}

/// Answer of `POST /api/v1/networks/{id}/meetings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingCreated {
    pub meeting_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Record a meeting of the network.
#[utoipa::path(post, path = "/api/v1/networks/{id}/meetings", operation_id = "record_meeting", tag = "networks",
    request_body = MeetingRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = MeetingCreated, description = "Recorded: the meeting's `meeting_id`, and the `position` of the event; the schedule shows it."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: `when` before the network was established); `errors` lists each.")))]
pub async fn record_meeting(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MeetingRequest>,
) -> Result<(StatusCode, Json<MeetingCreated>), ApiError> {
    let meeting: NewMeeting = body.try_into()?;
    let meeting_id = Uuid::now_v7();
    let cmd = NetworkCommand::RecordMeeting {
        meeting_id,
        title: meeting.title,
        when: meeting.when,
        location: meeting.location,
        participants_total: meeting.participants_total,
        topics: meeting.topics,
    };
    let position = command::run::<Network>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(MeetingCreated {
            meeting_id,
            position,
        }),
    ))
}

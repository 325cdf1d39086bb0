//! The network reads: the networks list and a network's registry, from the `networks` read
//! model through its own queries (`projections::networks::read`), shaped here for the wire.
//!
//! The registry's `?at=` is the same read over a replay: the network's events recorded up to
//! the instant are applied by the `networks` projection's own code to temporary copies of its
//! tables (`projections::replay`), and read with the same query. A registry of the past and
//! one of today therefore cannot differ in how they are built, only in the events behind
//! them. Officers' names are today's either way: they are personal data kept outside the
//! events (`infra::officers`), shown to coordinators and admins only, and may have been
//! erased since.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::network::Network;
use infra::officers::{self, OfficerName};
use projections::networks::read::{self, Registry};
use projections::networks::{Networks, NETWORK};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::history::{not_yet, visible_history};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::validate;

/// The projections the network reads are served from.
pub const NETWORK_PROJECTIONS: &[&str] = &["networks"];

/// A network as listed.
#[derive(Debug, Serialize, ToSchema)]
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

impl From<read::Summary> for NetworkView {
    fn from(n: read::Summary) -> Self {
        NetworkView {
            id: n.id,
            organizer: n.organizer,
            name: n.name,
            region: n.region,
            member_types: n
                .member_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            established_on: n.established_on,
            active_members: n.active_members,
            meetings: n.meetings,
            current_regulations: n.current_regulations,
        }
    }
}

/// Networks list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkList {
    pub networks: Vec<NetworkView>,
    pub position: i64,
}

/// Filters of the networks list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NetworkListParams {
    /// Only this organizer's networks.
    pub organizer: Option<String>,
    pub min_position: Option<i64>,
}

/// List the networks the caller may read.
#[utoipa::path(get, path = "/api/v1/networks", operation_id = "list_networks", tag = "networks", security(("bearer" = [])),
    params(NetworkListParams), responses((status = 200, body = NetworkList), (status = 401), (status = 503)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<NetworkListParams>,
) -> Result<Json<NetworkList>, ApiError> {
    wait_for(&state, NETWORK_PROJECTIONS, params.min_position).await?;
    let organizer = match (auth.read_scope(), params.organizer) {
        // Another organizer's networks are not there for a scoped token: an empty list,
        // not a refusal.
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(NetworkList {
                networks: vec![],
                position: 0,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let networks = {
        let mut conn = state.pool.acquire().await?;
        read::list(&mut conn, organizer.as_deref()).await?
    };
    let position = consistency::position(&state, "networks").await?;
    Ok(Json(NetworkList {
        networks: networks.into_iter().map(NetworkView::from).collect(),
        position,
    }))
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
#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct RegulationsVersionView {
    pub version: String,
    pub title: String,
    pub adopted_on: NaiveDate,
    pub document_ref: String,
}

impl From<&read::RegulationsVersion> for RegulationsVersionView {
    fn from(r: &read::RegulationsVersion) -> Self {
        RegulationsVersionView {
            version: r.version.clone(),
            title: r.title.clone(),
            adopted_on: r.adopted_on,
            document_ref: r.document_ref.clone(),
        }
    }
}

/// The regulations in force and every adopted version (in adoption order).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegulationsView {
    pub current: Option<RegulationsVersionView>,
    pub versions: Vec<RegulationsVersionView>,
}

/// A recorded meeting.
#[derive(Debug, Serialize, ToSchema)]
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

impl From<read::Meeting> for MeetingView {
    fn from(m: read::Meeting) -> Self {
        MeetingView {
            meeting_id: m.meeting_id,
            title: m.title,
            when: json(&m.when),
            location: m.location,
            // The read model keeps it as an integer column, clamped the same way.
            participants_total: i32::try_from(m.participants_total).unwrap_or(i32::MAX),
            topics: m.topics,
        }
    }
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

/// A domain value as the read model stores it (its JSON), for the fields the API shows as
/// objects. Serializing these plain data types cannot fail; were it to, `null` is shown
/// rather than the answer refused.
fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The registry for the wire: `registry` as read (live or replayed), with officers' names
/// for coordinators and admins, and where it stands (`position`, and `at` when replayed).
async fn view(
    state: &AppState,
    auth: &Auth,
    registry: Registry,
    position: i64,
    at: Option<DateTime<Utc>>,
) -> Result<RegistryView, ApiError> {
    let mut members_by_type = BTreeMap::new();
    for m in registry
        .members
        .iter()
        .filter(|m| m.status == read::MemberStatus::Active)
    {
        *members_by_type
            .entry(m.institution.kind.as_str().to_owned())
            .or_insert(0) += 1;
    }
    let members = registry
        .members
        .iter()
        .map(|m| MemberView {
            member_id: m.member_id,
            institution: json(&m.institution),
            joined_on: m.joined_on,
            status: m.status.as_str().to_owned(),
            declaration: DeclarationView {
                signed_on: m.joined_on,
                document_ref: m.declaration_ref.clone(),
            },
            left_on: m.left_on,
            left_reason: m.left_reason.clone(),
        })
        .collect();

    // Names are personal data: only asked for when the caller may see them.
    let names: HashMap<Uuid, OfficerName> = if auth.sees_personal_data() {
        let ids: Vec<Uuid> = registry.officers.iter().map(|o| o.officer_id).collect();
        officers::names(&state.pool, &ids).await?
    } else {
        HashMap::new()
    };
    let officer = |o: &read::Officer| OfficerView {
        officer_id: o.officer_id,
        role: o.role.as_str().to_owned(),
        member_id: o.member_id,
        institution: o.institution.as_ref().map_or(serde_json::Value::Null, json),
        term_starts_on: o.term_starts_on,
        term_ends_on: o.term_ends_on,
        status: if o.is_current() { "current" } else { "ended" }.to_owned(),
        ended_on: o.ended_on,
        end_reason: o.end_reason.map(|r| r.as_str().to_owned()),
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
    let officers = registry
        .officers
        .iter()
        .filter(|o| o.is_current())
        .map(officer)
        .collect();
    let officer_history = registry.officers.iter().map(officer).collect();

    let regulations = RegulationsView {
        current: registry.current_regulations().map(Into::into),
        versions: registry.regulations.iter().map(Into::into).collect(),
    };
    Ok(RegistryView {
        id: registry.id,
        organizer: registry.organizer,
        name: registry.name,
        region: registry.region,
        member_types: registry
            .member_types
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
        established_on: registry.established_on,
        members,
        members_by_type,
        officers,
        officer_history,
        regulations,
        meetings: i64::try_from(registry.meetings.len()).unwrap_or(i64::MAX),
        meeting_list: registry.meetings.into_iter().map(Into::into).collect(),
        position,
        at,
    })
}

/// Parameters of the registry.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
#[utoipa::path(get, path = "/api/v1/networks/{id}/registry", operation_id = "get_network_registry", tag = "networks", security(("bearer" = [])),
    params(("id" = Uuid, Path), RegistryParams),
    responses((status = 200, body = RegistryView), (status = 400), (status = 401), (status = 404), (status = 503)))]
pub async fn registry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<RegistryParams>,
) -> Result<Json<RegistryView>, ApiError> {
    wait_for(&state, NETWORK_PROJECTIONS, params.min_position).await?;
    if let Some(at) = &params.at {
        let at = validate::instant(at).map_err(|e| ApiError::bad_param("at", e.message))?;
        return Ok(Json(registry_at(&state, &auth, id, at).await?));
    }
    let found = {
        let mut conn = state.pool.acquire().await?;
        read::registry(&mut conn, id).await?
    };
    let registry = match found {
        Some(r) if auth.can_read(&r.organizer) => r,
        _ => return Err(ApiError::NotFound("No such network.".into())),
    };
    let position = consistency::position(&state, "networks").await?;
    Ok(Json(view(&state, &auth, registry, position, None).await?))
}

/// The registry as it stood at `at`: the network's events recorded by then, replayed by the
/// `networks` projection into temporary tables and read with the live query.
async fn registry_at(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<RegistryView, ApiError> {
    // Scoped by the whole history, as every audit read is: another organizer's network is
    // not there at any moment, even one before it was established (404 alike).
    visible_history::<Network>(state, auth, id).await?;
    let events =
        infra::feed::aggregate_events(&state.pool, NETWORK, &id.to_string(), Some(at), None)
            .await?;
    let mut replayed = projections::replay(&state.pool, &[&Networks], events).await?;
    let registry = read::registry(replayed.conn(), id)
        .await?
        .ok_or_else(|| not_yet::<Network>(Some(at), None))?;
    let position = replayed.position;
    // Done with the replay: its own connection closes, its transaction rolled back, before
    // the names are read from the pool.
    drop(replayed);
    view(state, auth, registry, position, Some(at)).await
}

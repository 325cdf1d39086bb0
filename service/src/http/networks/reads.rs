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
use domain::values::{Institution, PlannedDate};
use infra::officers::{self, OfficerName};
use projections::networks::read::{self, Registry};
use projections::networks::{Networks, NETWORK};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use super::schemas;

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
    /// The organizer (slug) it belongs to.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub organizer: String,
    pub name: String,
    pub region: String,
    /// The institution types it admits.
    #[schema(value_type = Vec<crate::http::openapi::InstitutionType>)]
    pub member_types: Vec<String>,
    pub established_on: NaiveDate,
    /// Members that have not left.
    #[schema(minimum = 0)]
    pub active_members: i64,
    /// Meetings recorded.
    #[schema(minimum = 0)]
    pub meetings: i64,
    /// Version of the regulations in force; null until some are adopted.
    #[schema(required = true)]
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
    /// The read model's position (0 when the list is empty because the organizer asked for
    /// is not the token's).
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Filters of the networks list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NetworkListParams {
    /// Only this organizer's networks (a token scoped to another organizer gets an empty
    /// list).
    pub organizer: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// List the networks the caller may read.
#[utoipa::path(get, path = "/api/v1/networks", operation_id = "list_networks", tag = "networks", security(("bearer" = [])),
    params(NetworkListParams), responses((status = 200, body = NetworkList, description = "The networks, oldest first.")))]
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
        let mut conn = state.reads().acquire().await?;
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
    /// The day it was signed: the member's joining day.
    pub signed_on: NaiveDate,
    /// Reference to the signed document; null when none was given.
    #[schema(required = true)]
    pub document_ref: Option<String>,
}

/// A member of the registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub member_id: Uuid,
    #[schema(value_type = crate::http::openapi::Institution)]
    pub institution: Institution,
    pub joined_on: NaiveDate,
    #[schema(value_type = schemas::MemberStatus)]
    pub status: String,
    pub declaration: DeclarationView,
    /// The day it left; null while active.
    #[schema(required = true)]
    pub left_on: Option<NaiveDate>,
    /// Why it left; null while active.
    #[schema(required = true)]
    pub left_reason: Option<String>,
}

/// An officer's name, shown to coordinators and admins; `{"erased": true}` once erased.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OfficerPersonView {
    /// The name as held.
    Known {
        first_name: String,
        last_name: String,
    },
    /// The name was erased (personal data): the office and its dates stay.
    Erased {
        #[schema(schema_with = always_true)]
        erased: bool,
    },
}

/// `true`, the only value `erased` takes.
fn always_true() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
}

/// An officer's term of office.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerView {
    pub officer_id: Uuid,
    #[schema(value_type = schemas::OfficerRole)]
    pub role: String,
    pub member_id: Uuid,
    /// The member institution as it was at the election (null only if the read model did
    /// not know the member then, which the domain does not allow).
    #[schema(value_type = Option<crate::http::openapi::Institution>, required = true)]
    pub institution: Option<Institution>,
    pub term_starts_on: NaiveDate,
    /// The term's fixed end; null for a term without one.
    #[schema(required = true)]
    pub term_ends_on: Option<NaiveDate>,
    #[schema(value_type = schemas::OfficerStatus)]
    pub status: String,
    /// The day the term ended; null while current.
    #[schema(required = true)]
    pub ended_on: Option<NaiveDate>,
    /// Why the term ended; null while current.
    #[schema(value_type = Option<schemas::TermEndReason>, required = true)]
    pub end_reason: Option<String>,
    /// The officer's name: present only for coordinator and admin tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = OfficerPersonView, required = false)]
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
    /// The version in force (the last adopted); null until some are adopted.
    #[schema(required = true)]
    pub current: Option<RegulationsVersionView>,
    pub versions: Vec<RegulationsVersionView>,
}

/// A recorded meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub meeting_id: Uuid,
    pub title: String,
    /// When it took place, at the precision it was recorded with.
    #[schema(value_type = crate::http::openapi::PlannedDate)]
    pub when: PlannedDate,
    /// Where; null when not given.
    #[schema(required = true)]
    pub location: Option<String>,
    #[schema(minimum = 0)]
    pub participants_total: i32,
    pub topics: Vec<String>,
}

impl From<read::Meeting> for MeetingView {
    fn from(m: read::Meeting) -> Self {
        MeetingView {
            meeting_id: m.meeting_id,
            title: m.title,
            when: m.when,
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
    /// The organizer (slug) it belongs to.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub organizer: String,
    pub name: String,
    pub region: String,
    /// The institution types it admits.
    #[schema(value_type = Vec<crate::http::openapi::InstitutionType>)]
    pub member_types: Vec<String>,
    pub established_on: NaiveDate,
    /// Every membership in joining order, with its status.
    pub members: Vec<MemberView>,
    /// Active members counted by institution type (types without one are left out).
    #[schema(schema_with = members_by_type_schema)]
    pub members_by_type: BTreeMap<String, i64>,
    /// The officers holding office now, in election order.
    pub officers: Vec<OfficerView>,
    /// Every term of office ever, in election order (current and ended).
    pub officer_history: Vec<OfficerView>,
    pub regulations: RegulationsView,
    /// Number of meetings recorded.
    #[schema(minimum = 0)]
    pub meetings: i64,
    /// The meetings, by date.
    pub meeting_list: Vec<MeetingView>,
    /// The read model's position this answer reflects (with `at`, the last event replayed).
    #[schema(minimum = 0)]
    pub position: i64,
    /// The instant asked for with `at`: present only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime, required = false)]
    pub at: Option<DateTime<Utc>>,
}

/// `members_by_type`: institution types to how many active members are of each.
fn members_by_type_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .property_names(Some(crate::http::openapi::InstitutionType::schema()))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(1)),
        ))
        .description(Some(
            "Active members counted by institution type (types without one are left out).",
        ))
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
            institution: m.institution.clone(),
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
        institution: o.institution.clone(),
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
    /// RFC 3339 instant with its offset: the registry as it stood then, replayed from the
    /// events recorded at or before it (instead of read from today's read model).
    #[param(format = DateTime, example = "2020-12-31T12:00:00+01:00")]
    pub at: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// The registry of a network: members with status, members by type, current officers,
/// officer history, regulations and meetings. With `?at=` the registry as it stood at that
/// instant, replayed from the events recorded up to it; `position` is then that of the last
/// event replayed (404 when the network did not exist yet). Officers' names are today's
/// (personal data is kept outside the events and may have been erased since).
#[utoipa::path(get, path = "/api/v1/networks/{id}/registry", operation_id = "get_network_registry", tag = "networks", security(("bearer" = [])),
    params(("id" = Uuid, Path), RegistryParams),
    responses(
        (status = 200, body = RegistryView, description = "The registry: live, or as it stood at `at`."),
        (status = 400, description = "`at` is not an RFC 3339 instant with its offset, or `min_position` is negative."),
        (status = 404, description = "No such network, not this token's organizer's, or (with `at`) it did not exist yet then.")))]
pub async fn registry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<RegistryParams>,
) -> Result<Json<RegistryView>, ApiError> {
    wait_for(&state, NETWORK_PROJECTIONS, params.min_position).await?;
    if let Some(at) = &params.at {
        let at = validate::instant(at).map_err(|e| ApiError::bad_value("at", e))?;
        return Ok(Json(registry_at(&state, &auth, id, at).await?));
    }
    let found = {
        let mut conn = state.reads().acquire().await?;
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

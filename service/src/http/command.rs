//! The one path every command of the API takes, for every aggregate: the caller's role and
//! organizer checked, the request's ids and actor in the metadata, the aggregate's command
//! bus (group commit, idempotent retries, side rows in the same transaction), and the
//! answer with the position written.

use axum::http::StatusCode;
use axum::Json;
use cqrs_es::Aggregate;
use domain::cooperation_program::CooperationProgram;
use domain::network::Network;
use domain::study_visit::StudyVisit;
use domain::{DomainError, NamedCommand};
use infra::pipeline::SideWrite;
use infra::CommandBus;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;

/// Answer of a command that only reports where it wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionResponse {
    /// Global position of the last event written (of the aggregate's last event when the
    /// command wrote none): pass it as `?min_position=` to read this write.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Answer of a command that created an aggregate (201).
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The new aggregate's id.
    pub id: Uuid,
    /// Global position of the last event written: pass it as `?min_position=` to read
    /// this write.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// An aggregate the API sends commands to, and the bus that carries them.
pub trait Commanded: Aggregate<Error = DomainError> + Clone + 'static
where
    Self::Command: NamedCommand + Clone + Send + Sync,
{
    /// This aggregate's command bus in the shared state.
    fn bus(state: &AppState) -> &CommandBus<Self>;
}

impl Commanded for StudyVisit {
    fn bus(state: &AppState) -> &CommandBus<Self> {
        &state.visits
    }
}

impl Commanded for CooperationProgram {
    fn bus(state: &AppState) -> &CommandBus<Self> {
        &state.programs
    }
}

impl Commanded for Network {
    fn bus(state: &AppState) -> &CommandBus<Self> {
        &state.networks
    }
}

/// Runs a command on an existing aggregate as an authenticated coordinator or admin (an
/// evaluator gets 403; an aggregate of another organizer answers 404); answers the position
/// it wrote.
pub async fn run<A>(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    id: Uuid,
    cmd: A::Command,
) -> Result<i64, ApiError>
where
    A: Commanded,
    A::Command: NamedCommand + Clone + Send + Sync,
{
    let ctx = meta.context(auth.actor(), auth.command_scope()?, cmd.name());
    Ok(A::bus(state)
        .execute(&id.to_string(), cmd, &ctx)
        .await?
        .position)
}

/// [`run`] with rows written beside the events in the same transaction (personal data kept
/// out of the events: both are stored or neither).
pub async fn run_with<A>(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    id: Uuid,
    cmd: A::Command,
    side: SideWrite,
) -> Result<i64, ApiError>
where
    A: Commanded,
    A::Command: NamedCommand + Clone + Send + Sync,
{
    let ctx = meta.context(auth.actor(), auth.command_scope()?, cmd.name());
    Ok(A::bus(state)
        .execute_with(&id.to_string(), cmd, &ctx, Some(side))
        .await?
        .position)
}

/// [`run`], answered as `{position}`.
pub async fn respond<A>(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    id: Uuid,
    cmd: A::Command,
) -> Result<Json<PositionResponse>, ApiError>
where
    A: Commanded,
    A::Command: NamedCommand + Clone + Send + Sync,
{
    let position = run::<A>(state, auth, meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// Creates the aggregate `id` with its first command, answered 201 `{id, position}`. The
/// caller has checked that the organizer named in `cmd` is one the caller may create for
/// (`Auth::organizer_for_new`): the new aggregate has no owner yet to scope by.
pub async fn create<A>(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    id: Uuid,
    cmd: A::Command,
) -> Result<(StatusCode, Json<Created>), ApiError>
where
    A: Commanded,
    A::Command: NamedCommand + Clone + Send + Sync,
{
    let ctx = meta.context(auth.actor(), None, cmd.name());
    let done = A::bus(state).execute(&id.to_string(), cmd, &ctx).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id,
            position: done.position,
        }),
    ))
}

//! Every audit read is itself recorded (who looked at what), by one middleware rather than
//! by each handler, so that a new audit route cannot forget it.
//!
//! Audit reads are the routes under `/api/v1/audit/` and every replay of the past (`?at=` on
//! rosters, programme evaluations, network registries). The record is written after the
//! answer, with its status, so refused attempts are visible too.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use infra::access_log::{self, Access};
use infra::tokens;
use serde_json::json;

use crate::http::auth::{bearer_token, session_principal, ConsoleCaller};
use crate::http::state::AppState;

/// Whether a request reads the audit record.
pub fn is_audit_read(path: &str, query: Option<&str>) -> bool {
    path.starts_with("/api/v1/audit/")
        || query.is_some_and(|q| {
            q.split('&')
                .any(|pair| pair.split('=').next() == Some("at"))
        })
}

/// The middleware: passes the request on, then records it when it was an audit read.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    if !is_audit_read(&path, query.as_deref()) {
        return next.run(req).await;
    }
    let token = bearer_token(req.headers()).map(str::to_owned);
    let headers = req.headers().clone();
    // The console reads the audit record in-process on behalf of a signed-in account.
    let console = req.extensions().get::<ConsoleCaller>().cloned();
    let method = req.method().clone();
    let response = next.run(req).await;
    let (principal, actor) = match (console, &token) {
        (Some(ConsoleCaller(p)), _) => {
            let actor = format!("user:{}", p.token_id);
            (Some(p), actor)
        }
        (None, Some(t)) => {
            let p = tokens::authenticate(&state.pool, t).await.ok().flatten();
            let actor = p.as_ref().map_or_else(
                || "anonymous".to_owned(),
                |p| format!("token:{}", p.token_id),
            );
            (p, actor)
        }
        // The dashboard reads with the console's session (`auth::session_principal`).
        (None, None) => match session_principal(&state, &headers).await.ok().flatten() {
            Some(p) => {
                let actor = format!("user:{}", p.token_id);
                (Some(p), actor)
            }
            None => (None, "anonymous".to_owned()),
        },
    };
    let access = Access {
        actor: &actor,
        role: principal.as_ref().map_or("none", |p| p.role.as_str()),
        organizer: principal.as_ref().and_then(|p| p.organizer.as_deref()),
        action: &format!("{method} {path}"),
        target: &path,
        parameters: json!({"query": query, "status": response.status().as_u16()}),
    };
    if let Err(e) = access_log::record(&state.pool, &access).await {
        // The reader already has the answer; losing the record must at least be loud.
        tracing::error!(error = %e, %actor, %path, "audit read not recorded");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_routes_and_replays_are_audit_reads() {
        assert!(is_audit_read("/api/v1/audit/events", None));
        assert!(is_audit_read(
            "/api/v1/study-visits/x/terms/y/roster",
            Some("at=2026-01-01T00:00:00Z")
        ));
        assert!(is_audit_read(
            "/api/v1/programs/x/evaluation",
            Some("min_position=3&at=x")
        ));
        assert!(!is_audit_read("/api/v1/study-visits", Some("status=open")));
        assert!(!is_audit_read("/api/v1/study-visits", Some("date=1")));
    }
}

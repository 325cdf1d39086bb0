//! `GET …/terms/{term_id}/attendance-list.pdf`: the sign-in sheet (lista obecności) of a
//! closed term, printed for each day: the organizer, the EU funding line, the term and its
//! days, and one row per person holding a seat with a signature column per day. Names are
//! on it, so it is for coordinators and admins.

use axum::extract::State;
use axum::response::Response;
use domain::study_visit::attendance;
use infra::personal_data;
use projections::applications;
use projections::study_visits;

use crate::documents::pdf;
use crate::http::auth::Auth;
use crate::http::consistency::{wait_for, Consistency};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::polish;
use crate::http::problem::ApiError;
use crate::http::spreadsheet::attachment;
use crate::http::state::AppState;
use uuid::Uuid;

/// The printable sign-in sheet of a closed term.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/attendance-list.pdf", operation_id = "get_attendance_list_pdf", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), Consistency),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>,
            description = "A4 PDF: the organizer, the EU funding line, the term and its days, one row per person with a seat (name, institution) and a signature column per day.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"lista-obecnosci-{term_id}.pdf\"`"))),
        (status = 403, description = "An evaluator: the sheet names people, which evaluators do not see."),
        (status = 404, description = "No such visit (or another organizer's), or no such term."),
        (status = 409, description = "The term's recruitment has not closed: the list of participants is not final (`roster_provisional`).")))]
pub(super) async fn attendance_list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Response, ApiError> {
    if !auth.sees_personal_data() {
        return Err(ApiError::Forbidden(
            "The sign-in sheet names people: it is for coordinators and admins.".into(),
        ));
    }
    wait_for(&state, applications::read::ROSTER_MODELS, c.min_position).await?;
    let mut conn = state.reads().acquire().await?;
    let visit = match study_visits::read::visit(&mut conn, id).await? {
        Some(v) if auth.can_read(&v.organizer) => v,
        _ => return Err(ApiError::NotFound("No such study visit.".into())),
    };
    let roster = applications::read::roster(&mut conn, id, term_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such term.".into()))?;
    let terms = study_visits::read::terms(&mut conn, &[id]).await?;
    drop(conn);
    let term = terms
        .into_iter()
        .find(|t| t.term_id == term_id)
        .ok_or_else(|| ApiError::NotFound("No such term.".into()))?;
    let (false, Some(first), Some(last)) = (roster.provisional, term.starts_on, term.ends_on)
    else {
        return Err(ApiError::Conflict {
            code: "roster_provisional".into(),
            detail:
                "The term's recruitment has not closed: the list of participants is not final yet."
                    .into(),
        });
    };
    let ids: Vec<Uuid> = roster.allocated.iter().map(|e| e.application_id).collect();
    let people = personal_data::people(&state.pool, &ids).await?;
    let rows = roster
        .allocated
        .iter()
        .map(|e| pdf::SheetRow {
            name: people.get(&e.application_id).map_or_else(
                || "(dane usunięte)".to_owned(),
                |p| format!("{} {}", p.first_name, p.last_name),
            ),
            institution: e.institution.name.as_str().to_owned(),
        })
        .collect();
    let sheet = pdf::SignInSheet {
        organizer: state.site.organization.clone(),
        visit_title: visit.title.clone(),
        destination: visit.destination.clone(),
        funding_line: visit.funding.as_ref().and_then(polish::funding_line),
        term_label: term.label.clone(),
        days: attendance::days(first, last).collect(),
        rows,
    };
    let bytes = pdf::sign_in_sheet(&sheet)
        .map_err(|e| ApiError::Internal(format!("sign-in sheet: {e}")))?;
    Ok(attachment(
        bytes,
        "application/pdf",
        &format!("lista-obecnosci-{term_id}.pdf"),
    ))
}

//! Programme exports for spreadsheets: the evaluation as CSV, the same figures as
//! `GET /api/v1/programs/{id}/evaluation` (live or `?at=`), one line per figure.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::reads::{evaluation_of, EvaluationView};
use super::requests::EvaluationParams;
use crate::http::auth::Auth;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::spreadsheet;
use crate::http::state::AppState;

/// The export routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(evaluation_csv))
}

/// Columns of the file: every line fills those its section uses.
const HEADER: [&str; 9] = [
    "section",
    "code",
    "label",
    "target",
    "actual",
    "achieved",
    "planned",
    "held",
    "cancelled",
];

/// A decimal as Polish spreadsheets read it (decimal comma), two places.
fn decimal(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The lines of the file, header first.
fn lines(e: &EvaluationView) -> Vec<[String; 9]> {
    let row = |section: &str, code: &str, label: &str| -> [String; 9] {
        let mut r: [String; 9] = Default::default();
        r[0] = section.to_owned();
        r[1] = code.to_owned();
        r[2] = spreadsheet::text(label).into_owned();
        r
    };
    let mut out = vec![HEADER.map(str::to_owned)];
    for i in &e.indicators {
        let mut r = row("indicator", &i.code, &i.label);
        r[3] = i.target.to_string();
        r[4] = opt(i.actual);
        r[5] = opt(i.achieved);
        out.push(r);
    }
    let mut counts = |code: &str, planned: u64, held: u64, cancelled: u64| {
        let mut r = row("activities", code, "");
        r[6] = planned.to_string();
        r[7] = held.to_string();
        r[8] = cancelled.to_string();
        out.push(r);
    };
    let a = &e.activities;
    counts("total", a.planned, a.held, a.cancelled);
    for (kind, k) in &a.by_kind {
        counts(kind, k.planned, k.held, k.cancelled);
    }
    let summary: [(&str, String); 7] = [
        ("participants_total", e.participants_total.to_string()),
        ("distinct_institutions", e.distinct_institutions.to_string()),
        ("partners", e.partners.to_string()),
        ("feedback_count", e.feedback.count.to_string()),
        (
            "feedback_average_rating",
            e.feedback.average_rating.map(decimal).unwrap_or_default(),
        ),
        ("verdict", e.verdict.clone().unwrap_or_default()),
        ("position", e.position.to_string()),
    ];
    for (code, value) in summary {
        let mut r = row("summary", code, "");
        r[4] = value;
        out.push(r);
    }
    if let Some(at) = e.at {
        let mut r = row("summary", "at", "");
        r[4] = at.to_rfc3339();
        out.push(r);
    }
    out
}

/// The programme evaluation as CSV for spreadsheet programs (UTF-8 with a BOM, `;` between
/// fields, decimal comma): indicators with target, actual and whether achieved; activities
/// planned, held and cancelled, in total and by kind; participants, institutions, partners,
/// feedback, the verdict and the position it was read at. `?at=` as for the JSON answer.
#[utoipa::path(get, path = "/api/v1/programs/{id}/evaluation.csv", operation_id = "get_program_evaluation_csv", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path), EvaluationParams),
    responses(
        (status = 200, content_type = "text/csv", body = String,
            description = "The evaluation for spreadsheets: UTF-8 with a BOM, `;` between fields, CRLF line ends, decimal comma; the header `section;code;label;target;actual;achieved;planned;held;cancelled`.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"evaluation-<id>.csv\"`"))),
        (status = 400, description = "`at` is not an RFC 3339 instant with its offset, or `min_position` is negative."),
        (status = 404, description = "No such programme, not this token's organizer's, or (with `at`) it did not exist yet then.")))]
async fn evaluation_csv(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<EvaluationParams>,
) -> Result<Response, ApiError> {
    let e = evaluation_of(&state, &auth, id, &params).await?;
    let mut w = spreadsheet::writer();
    for line in lines(&e) {
        spreadsheet::write(&mut w, &line)?;
    }
    spreadsheet::download(w, &format!("evaluation-{id}.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_use_the_polish_comma() {
        assert_eq!(decimal(4.5), "4,50");
        assert_eq!(decimal(3.0), "3,00");
    }
}

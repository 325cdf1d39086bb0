//! `/panel/audyt/eksport`: the export form (a period in Polish time, both ends optional),
//! and `/panel/audyt/eksport/plik?od=…&do=…`: the API's JSON Lines file
//! (`GET /api/v1/audit/export`) passed through as it streams, with its Content-Disposition,
//! so the evaluator takes away exactly the file the API gives and checks it offline.
//!
//! The form is sent with GET, so the file's address can be bookmarked or written into a
//! report; a value that is not an instant comes back as the form with the GOV.UK error
//! pattern (a summary linking to each field, the message at the field). `wizyta`,
//! `program` or `siec` narrow the export to one history (the audit pages link to it so).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use uuid::Uuid;

use super::super::api::{Answer, Api};
use super::common::{
    aggregate_label, failed, forbidden, instant, may_audit, message_about, user_of, InstantField,
    INSTANT_HINT,
};
use crate::http::page::{private, render};
use crate::http::state::AppState;

/// What the form sends (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportParams {
    od: Option<String>,
    #[serde(rename = "do")]
    to: Option<String>,
    wizyta: Option<String>,
    program: Option<String>,
    siec: Option<String>,
}

impl ExportParams {
    /// The one history asked for: (aggregate type, id, form field it came in).
    fn aggregate(&self) -> Option<(&'static str, Uuid, &'static str)> {
        [
            ("StudyVisit", &self.wizyta, "wizyta"),
            ("CooperationProgram", &self.program, "program"),
            ("Network", &self.siec, "siec"),
        ]
        .into_iter()
        .find_map(|(t, v, name)| {
            v.as_deref()
                .and_then(|v| Uuid::parse_str(v.trim()).ok())
                .map(|id| (t, id, name))
        })
    }
}

/// A form error as the summary lists it.
pub struct FieldError {
    pub id: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "konsola/audyt_eksport.html")]
struct ExportForm {
    from: InstantField,
    to: InstantField,
    hint: &'static str,
    errors: Vec<FieldError>,
    /// The history the export is narrowed to: (form field, id, words).
    scope: Option<(&'static str, Uuid, String)>,
}

impl ExportForm {
    fn new(p: &ExportParams) -> Self {
        Self {
            from: InstantField::new(p.od.as_deref().unwrap_or_default()),
            to: InstantField::new(p.to.as_deref().unwrap_or_default()),
            hint: INSTANT_HINT,
            errors: Vec::new(),
            scope: p
                .aggregate()
                .map(|(t, id, name)| (name, id, format!("{} {id}", aggregate_label(t)))),
        }
    }

    fn fail(&mut self, field: &'static str, message: String) {
        let f = if field == "od" {
            &mut self.from
        } else {
            &mut self.to
        };
        if f.error.is_none() {
            f.error = Some(message.clone());
            self.errors.push(FieldError { id: field, message });
        }
    }
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<ExportParams>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if !may_audit(&user) {
        return forbidden();
    }
    private(render(StatusCode::OK, &ExportForm::new(&p)))
}

pub async fn file(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Query(p): Query<ExportParams>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let mut page = ExportForm::new(&p);
    let from = instant(&page.from.value)
        .map_err(|e| page.fail("od", e.to_owned()))
        .ok()
        .flatten();
    let to = instant(&page.to.value)
        .map_err(|e| page.fail("do", e.to_owned()))
        .ok()
        .flatten();
    if let (Some(a), Some(b)) = (from, to) {
        if b <= a {
            page.fail(
                "do",
                "Koniec okresu musi być późniejszy niż jego początek.".to_owned(),
            );
        }
    }
    if !page.errors.is_empty() {
        return private(render(StatusCode::BAD_REQUEST, &page));
    }
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(a) = from {
        query.push(("from", a.to_rfc3339()));
    }
    if let Some(b) = to {
        query.push(("to", b.to_rfc3339()));
    }
    if let Some((t, id, _)) = p.aggregate() {
        query.push(("aggregate_type", t.to_owned()));
        query.push(("aggregate_id", id.to_string()));
    }
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    let res = api
        .raw(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/audit/export?{query}"),
            None,
        )
        .await;
    let status = res.status();
    if status.is_success() {
        // Streamed as the API streams it: constant memory, headers (the file name) kept.
        return private(res.into_response());
    }
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    let answer = Answer { status, body };
    match status {
        StatusCode::FORBIDDEN => forbidden(),
        StatusCode::BAD_REQUEST => {
            let named: Vec<(String, String)> = answer.field_errors();
            let mut any = false;
            for (field, shown) in [("from", "od"), ("to", "do")] {
                if named.iter().any(|(f, _)| f == field) {
                    page.fail(shown, message_about(&answer, field));
                    any = true;
                }
            }
            if !any {
                page.fail("od", answer.detail());
            }
            private(render(StatusCode::BAD_REQUEST, &page))
        }
        _ => failed(&answer),
    }
}

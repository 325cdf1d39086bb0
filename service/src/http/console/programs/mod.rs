//! The console's cooperation programmes (`/panel/programy…`): the organizer's programmes, one
//! programme with everything recorded about it (facts, indicators, partners, activities and
//! their state, feedback, consultations with comments, testing period, evaluation), a form for
//! every programme command, the schedule upload and the evaluation's CSV.
//!
//! Why it reads the projection but writes through the API: the pages show what the `programs`
//! read model holds (`projections::programs::read`), while every change is the API's own
//! operation called in-process as the signed-in account (`console::form`, `console::api`), so
//! the roles, the organizer scope, validation, Polish messages and the actor `user:<id>` are
//! the API's and exist once. Another organizer's programme is 404, as in the API; an
//! evaluator reads everything and changes nothing.

mod common;
mod forms;
mod schedule;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use infra::accounts::User;
use projections::programs::read as programs;
use serde::Deserialize;
use uuid::Uuid;

use super::api::Api;
use super::session;
use crate::http::page::{not_found, private, render, service_error};
use crate::http::polish;
use crate::http::state::AppState;
use common::{
    activities_count, label_of, may_act, program_for, ACTIVITY_KINDS, FEEDBACK_CHANNELS, MEASURES,
    PARTNER_CHANNELS, PROGRAM_KINDS, VERDICTS,
};

/// The read model the pages wait for after a change (`?po=`).
const MODEL: &str = "programs";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/programy", get(list))
        .route(
            "/panel/programy/nowy",
            get(forms::create_form).post(forms::create),
        )
        .route("/panel/programy/{id}", get(program))
        .route("/panel/programy/{id}/ewaluacja.csv", get(evaluation_csv))
        .route(
            "/panel/programy/{id}/harmonogram",
            get(schedule::form).post(schedule::upload),
        )
        .route(
            "/panel/programy/{id}/{form}",
            get(forms::program_form).post(forms::program_submit),
        )
        .route(
            "/panel/programy/{id}/dzialania/{activity_id}/{form}",
            get(forms::activity_form).post(forms::activity_submit),
        )
        .route(
            "/panel/programy/{id}/konsultacje/{consultation_id}/uwaga",
            get(forms::comment_form).post(forms::comment_submit),
        )
}

/// After a change (`?po=N`): waits until the read model has it, so the page shows it. A
/// timeout still shows the page, as it stands.
async fn settle(state: &AppState, po: Option<i64>) {
    let _ = crate::http::consistency::wait_for(state, &[MODEL], po.filter(|p| *p >= 0)).await;
}

/// `?zrobione=1&po=N` after a change; `?zaimportowano=N` after a schedule import.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    zrobione: Option<String>,
    po: Option<String>,
    zaimportowano: Option<String>,
}

impl Done {
    fn position(&self) -> Option<i64> {
        self.po.as_deref().and_then(|p| p.parse().ok())
    }

    fn notice(&self) -> Option<String> {
        if let Some(n) = self
            .zaimportowano
            .as_deref()
            .and_then(|n| n.parse::<usize>().ok())
        {
            return Some(format!(
                "Zapisano. Zaimportowano {} z harmonogramu.",
                activities_count(n)
            ));
        }
        self.zrobione.as_ref().map(|_| "Zapisano.".to_owned())
    }
}

/// A programme in the list.
struct ListRow {
    id: Uuid,
    title: String,
    kind: String,
    period: String,
    state: String,
    organizer: String,
}

#[derive(Template)]
#[template(path = "konsola/program_lista.html")]
struct ListPage {
    rows: Vec<ListRow>,
    can_act: bool,
    organizer_shown: bool,
    notice: Option<String>,
}

/// What a programme's state is called.
fn state_of(p: &programs::Program) -> String {
    match (&p.closed_on, &p.evaluation) {
        (Some(on), _) => format!("zamknięty {}", polish::date(*on)),
        (None, Some(_)) => "po ewaluacji".to_owned(),
        (None, None) => match p.testing_ends_on {
            Some(t) => format!("w realizacji (testowanie do {})", polish::date(t)),
            None => "w realizacji".to_owned(),
        },
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    settle(&state, done.position()).await;
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        programs::list(&mut conn, user.organizer.as_deref()).await
    }
    .await;
    let all = match loaded {
        Ok(a) => a,
        Err(e) => return private(service_error(e.into())),
    };
    let page = ListPage {
        rows: all
            .iter()
            .map(|p| ListRow {
                id: p.program_id,
                title: p.title.clone(),
                kind: label_of(PROGRAM_KINDS, &p.kind),
                period: polish::days(p.period_start, p.period_end),
                state: state_of(p),
                organizer: p.organizer.clone(),
            })
            .collect(),
        can_act: may_act(&user),
        organizer_shown: user.organizer.is_none(),
        notice: done.notice(),
    };
    private(render(StatusCode::OK, &page))
}

struct IndicatorRow {
    code: String,
    label: String,
    target: u64,
    measure: String,
    /// What was reached so far, as the API's evaluation computes it ("—" while unknown).
    actual: String,
    achieved: &'static str,
}

struct PartnerRow {
    institution: String,
    nip: String,
    kind: String,
    channel: String,
    counted_on: String,
}

/// A link or button of an activity's row.
struct ActivityAction {
    path: &'static str,
    label: &'static str,
}

struct ActivityRow {
    id: Uuid,
    title: String,
    kind: String,
    when: String,
    where_: String,
    status: String,
    outcome: String,
    actions: Vec<ActivityAction>,
}

struct FeedbackRow {
    received_on: String,
    channel: String,
    text: String,
    rating: String,
    institution: String,
}

struct CommentRow {
    institution: String,
    text: String,
    submitted_on: String,
}

struct ConsultationRow {
    id: Uuid,
    subject: String,
    window: String,
    comments: Vec<CommentRow>,
}

struct EvaluationShown {
    verdict: String,
    summary: String,
    manual_values: Vec<(String, u64)>,
    recommendations: Vec<String>,
    evaluated_on: String,
}

#[derive(Template)]
#[template(path = "konsola/program_strona.html")]
struct ProgramPage {
    id: Uuid,
    title: String,
    kind: String,
    period: String,
    organizer: String,
    goals: Vec<String>,
    partner_deadline: Option<String>,
    testing_ends_on: Option<String>,
    state: String,
    closed: Option<String>,
    indicators: Vec<IndicatorRow>,
    partners: Vec<PartnerRow>,
    activities: Vec<ActivityRow>,
    feedback: Vec<FeedbackRow>,
    consultations: Vec<ConsultationRow>,
    evaluation: Option<EvaluationShown>,
    can_act: bool,
    notice: Option<String>,
}

/// `Nazwa (NIP 123…)`.
fn institution_text(i: &domain::values::Institution) -> String {
    format!("{} (NIP {})", i.name.as_str(), i.nip.as_str())
}

fn activity_row(a: &programs::Activity, open: bool) -> ActivityRow {
    let status = match a.status.as_str() {
        "held" => "odbyło się",
        "cancelled" => "odwołane",
        _ => "zaplanowane",
    }
    .to_owned();
    let when = match (a.starts_on, a.ends_on) {
        (Some(s), Some(e)) => polish::days(s, e),
        _ => polish::planned(&a.planned),
    };
    let mut outcome = Vec::new();
    if let Some(n) = a.participants_total {
        outcome.push(format!("uczestników: {n}"));
    }
    if let Some(list) = a.institutions.as_ref().filter(|l| !l.is_empty()) {
        outcome.push(format!(
            "instytucje: {}",
            list.iter()
                .map(institution_text)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(n) = a.notes.as_ref().filter(|n| !n.is_empty()) {
        outcome.push(n.clone());
    }
    if let Some(r) = &a.cancel_reason {
        outcome.push(format!("powód: {r}"));
    }
    let actions = if open && a.status == "planned" {
        vec![
            ActivityAction {
                path: "odbyte",
                label: "Zapisz, że się odbyło",
            },
            ActivityAction {
                path: "przesun",
                label: "Zmień planowany termin",
            },
            ActivityAction {
                path: "odwolaj",
                label: "Odwołaj",
            },
        ]
    } else {
        Vec::new()
    };
    ActivityRow {
        id: a.activity_id,
        title: a.title.clone(),
        kind: label_of(&ACTIVITY_KINDS, &a.kind),
        when,
        where_: [a.location.as_deref(), a.co_organizer.as_deref()]
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("; współorganizator: "),
        status,
        outcome: outcome.join("; "),
        actions,
    }
}

/// The indicators' actual values by code, as the API's evaluation computes them from what
/// was recorded (the same answer as its CSV): `(actual, achieved)`, each `None` while unknown.
async fn actuals(
    api: &Api,
    user: &User,
    headers: &HeaderMap,
    id: Uuid,
) -> Vec<(String, Option<u64>, Option<bool>)> {
    let answer = api
        .call(
            user,
            headers,
            Method::GET,
            &format!("/api/v1/programs/{id}/evaluation"),
            None,
        )
        .await;
    answer
        .body
        .get("indicators")
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|i| {
                    Some((
                        i.get("code")?.as_str()?.to_owned(),
                        i.get("actual").and_then(serde_json::Value::as_u64),
                        i.get("achieved").and_then(serde_json::Value::as_bool),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn program(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    settle(&state, done.position()).await;
    let p = match program_for(&state, &user, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        let partners = programs::partners(&mut conn, p.program_id).await?;
        let activities = programs::activities(&mut conn, p.program_id).await?;
        let feedback = programs::feedback(&mut conn, p.program_id).await?;
        let consultations = programs::consultations(&mut conn, p.program_id).await?;
        Ok::<_, projections::ReadError>((partners, activities, feedback, consultations))
    }
    .await;
    let (partners, activities, feedback, consultations) = match loaded {
        Ok(l) => l,
        Err(e) => return private(service_error(e.into())),
    };
    let reached = actuals(&api, &user, &headers, p.program_id).await;
    // Nothing can be recorded in a closed programme: its forms are not offered.
    let can_act = may_act(&user) && p.closed_on.is_none();
    let page = ProgramPage {
        id: p.program_id,
        title: p.title.clone(),
        kind: label_of(PROGRAM_KINDS, &p.kind),
        period: polish::days(p.period_start, p.period_end),
        organizer: p.organizer.clone(),
        goals: p.goals.clone(),
        partner_deadline: p.partner_application_deadline.map(polish::date),
        testing_ends_on: p.testing_ends_on.map(polish::date),
        state: state_of(&p),
        closed: p.closed_on.map(|on| match &p.close_reason {
            Some(r) => format!("{} — {r}", polish::date(on)),
            None => polish::date(on),
        }),
        indicators: p
            .indicators
            .iter()
            .map(|i| {
                let found = reached.iter().find(|(c, _, _)| c == i.code.as_str());
                IndicatorRow {
                    code: i.code.as_str().to_owned(),
                    label: i.label.as_str().to_owned(),
                    target: i.target,
                    measure: label_of(MEASURES, &i.measure.to_string()),
                    actual: found
                        .and_then(|(_, a, _)| *a)
                        .map_or_else(|| "—".to_owned(), |a| a.to_string()),
                    achieved: match found.and_then(|(_, _, a)| *a) {
                        Some(true) => "tak",
                        Some(false) => "nie",
                        None => "jeszcze nie wiadomo",
                    },
                }
            })
            .collect(),
        partners: partners
            .iter()
            .map(|x| PartnerRow {
                institution: x.institution.name.as_str().to_owned(),
                nip: x.institution.nip.as_str().to_owned(),
                kind: polish::institution_type(x.institution.kind).to_owned(),
                channel: label_of(PARTNER_CHANNELS, &x.channel),
                counted_on: polish::date(x.counted_on),
            })
            .collect(),
        activities: activities
            .iter()
            .map(|a| activity_row(a, can_act))
            .collect(),
        feedback: feedback
            .iter()
            .map(|f| FeedbackRow {
                received_on: polish::date(f.received_on),
                channel: label_of(FEEDBACK_CHANNELS, &f.channel),
                text: f.text.clone(),
                rating: f
                    .rating
                    .map_or_else(|| "—".to_owned(), |r| format!("{r} z 5")),
                institution: f
                    .institution
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), institution_text),
            })
            .collect(),
        consultations: consultations
            .iter()
            .map(|c| ConsultationRow {
                id: c.consultation_id,
                subject: c.subject.clone(),
                window: polish::days(c.opens_on, c.closes_on),
                comments: c
                    .comments
                    .iter()
                    .map(|m| CommentRow {
                        institution: institution_text(&m.institution),
                        text: m.text.clone(),
                        submitted_on: polish::date(m.submitted_on),
                    })
                    .collect(),
            })
            .collect(),
        evaluation: p.evaluation.as_ref().map(|e| EvaluationShown {
            verdict: label_of(VERDICTS, &e.verdict),
            summary: e.summary.clone(),
            manual_values: e
                .manual_values
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            recommendations: e.recommendations.clone(),
            evaluated_on: polish::date(e.evaluated_on),
        }),
        can_act,
        notice: done.notice(),
    };
    private(render(StatusCode::OK, &page))
}

/// The evaluation for spreadsheets: the API's own CSV, read as the signed-in account.
pub async fn evaluation_csv(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let p = match program_for(&state, &user, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let res = api
        .raw(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/programs/{}/evaluation.csv", p.program_id),
            None,
        )
        .await;
    match res.status() {
        StatusCode::OK => private(res.into_response()),
        StatusCode::NOT_FOUND => private(not_found()),
        _ => private(service_error(crate::http::problem::ApiError::Unavailable {
            detail: "The evaluation could not be read.".into(),
            retry_after_secs: 1,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::cooperation_program::{ActivityKind, FeedbackChannel, Measure, Verdict};

    #[test]
    fn the_lists_offer_the_domains_own_spellings() {
        let mut kinds: Vec<&str> = ACTIVITY_KINDS.iter().map(|(c, _)| *c).collect();
        let mut all: Vec<&str> = ActivityKind::ALL.iter().map(|k| k.as_str()).collect();
        kinds.sort_unstable();
        all.sort_unstable();
        assert_eq!(kinds, all);
        let mut channels: Vec<&str> = FEEDBACK_CHANNELS.iter().map(|(c, _)| *c).collect();
        let mut all: Vec<&str> = FeedbackChannel::ALL.iter().map(|k| k.as_str()).collect();
        channels.sort_unstable();
        all.sort_unstable();
        assert_eq!(channels, all);
        for (m, _) in MEASURES {
            assert!(Measure::parse(m).is_ok(), "{m}");
        }
        for (v, _) in VERDICTS {
            assert!(Verdict::parse(v).is_ok(), "{v}");
        }
        for (k, _) in PROGRAM_KINDS {
            assert!(
                domain::cooperation_program::ProgramKind::parse(k).is_ok(),
                "{k}"
            );
        }
        for (c, _) in PARTNER_CHANNELS {
            assert!(
                domain::cooperation_program::Channel::parse(c).is_ok(),
                "{c}"
            );
        }
    }

    #[test]
    fn counts_of_activities_take_the_polish_plural() {
        let said: Vec<String> = [1, 2, 4, 5, 12, 22, 25, 112, 0]
            .into_iter()
            .map(activities_count)
            .collect();
        assert_eq!(
            said,
            [
                "1 działanie",
                "2 działania",
                "4 działania",
                "5 działań",
                "12 działań",
                "22 działania",
                "25 działań",
                "112 działań",
                "0 działań"
            ]
        );
    }
}

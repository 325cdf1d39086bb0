//! `GET /api/v1/reports/participants`: the participant report for the EU monitoring system
//! (SM EFS), for a study visit or a programme, as the record stood at an instant: CSV files
//! in a ZIP, or an XLSX workbook (`crate::documents::report`). It is computed from the
//! aggregate's own events up to `at` (`participants`), never from read models, and names
//! the position and chain hash of the newest event it covers, so an evaluator can ask for
//! the same `at` later and get the same bytes.

mod participants;

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, SubsecRound, Utc};
use domain::cooperation_program::CooperationProgram;
use domain::study_visit::StudyVisit;
use infra::personal_data;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::documents::report::{self, ParticipantReport, ReportSubject};
use crate::http::auth::Auth;
use crate::http::extract::ApiQuery;
use crate::http::history::{not_yet, replay, visible_history, Audited, Decoded};
use crate::http::problem::ApiError;
use crate::http::spreadsheet::{attachment, XLSX};
use crate::http::state::AppState;
use crate::http::validate::{self, Fields};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(participants_report))
}

/// What the report covers, when, and in which format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The study visit to report (or `program_id`; exactly one of the two).
    pub visit_id: Option<String>,
    /// The programme to report (or `visit_id`).
    pub program_id: Option<String>,
    /// The instant the record is read at (RFC 3339); absent: now (the report names it as
    /// `stan_na`). The same `at` gives byte-identical files.
    pub at: Option<String>,
    /// `csv` (a ZIP of two CSV files and `raport.json`; the default) or `xlsx`.
    pub format: Option<String>,
}

enum Subject {
    Visit(Uuid),
    Program(Uuid),
}

enum Format {
    Csv,
    Xlsx,
}

/// The parameters checked: every bad one named at once.
fn checked(p: &ReportParams) -> Result<(Subject, Option<DateTime<Utc>>, Format), ApiError> {
    let mut f = Fields::default();
    let id = |f: &mut Fields, field: &str, v: &str| {
        let id = Uuid::parse_str(v.trim()).ok();
        if id.is_none() {
            f.fail(field, "invalid_id", "must be a UUID");
        }
        id
    };
    let subject = match (p.visit_id.as_deref(), p.program_id.as_deref()) {
        (Some(v), None) => id(&mut f, "visit_id", v).map(Subject::Visit),
        (None, Some(v)) => id(&mut f, "program_id", v).map(Subject::Program),
        (Some(_), Some(_)) => {
            f.fail(
                "program_id",
                "one_subject",
                "give visit_id or program_id, not both",
            );
            None
        }
        (None, None) => {
            f.fail("visit_id", "required", "give visit_id or program_id");
            None
        }
    };
    let format = match p.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => Some(Format::Csv),
        Some("xlsx") => Some(Format::Xlsx),
        Some(_) => {
            f.fail("format", "format_unknown", "must be csv or xlsx");
            None
        }
    };
    f.finish()?;
    let at =
        p.at.as_deref()
            .map(validate::instant)
            .transpose()
            .map_err(|e| ApiError::bad_value("at", e))?;
    match (subject, format) {
        (Some(s), Some(fmt)) => Ok((s, at, fmt)),
        _ => Err(ApiError::Internal(
            "report parameters checked but missing".into(),
        )),
    }
}

/// The participant report of a visit or a programme.
#[utoipa::path(get, path = "/api/v1/reports/participants", operation_id = "get_participants_report", tag = "reports",
    security(("bearer" = [])), params(ReportParams),
    responses((status = 200, content(
                (Vec<u8> = "application/zip"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            description = "`format=csv`: a ZIP of `instytucje.csv` (`nip;nazwa;typ_instytucji;rodzaj_wsparcia;data_rozpoczecia_wsparcia;data_zakonczenia_wsparcia;liczba_osob`), `osoby.csv` (`imie;nazwisko;nip_instytucji;nazwa_instytucji;stanowisko;rodzaj_wsparcia;data_rozpoczecia_wsparcia;data_zakonczenia_wsparcia`) and `raport.json` (what it covers, `stan_na`, the position and hash of the newest event covered, the SHA-256 of both files). `format=xlsx`: the sheets `instytucje`, `osoby` and `raport`. Only people present on at least one day count; an institution counts once (by NIP); erased people stay as `[dane usunięte]`.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"raport-uczestnicy-{id}.zip\"` (or `.xlsx`)"))),
        (status = 404, description = "No such visit or programme (or another organizer's), or it did not exist yet at `at`."),
        (status = 400, description = "`at` is not an RFC 3339 instant."),
        (status = 422, description = "Neither or both of `visit_id` and `program_id`, an id that is not a UUID, or an unknown `format`.")))]
pub(super) async fn participants_report(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let (subject, at, format) = checked(&params)?;
    // Now, to the microsecond PostgreSQL keeps: the instant the report names (`stan_na`)
    // asked for again covers exactly the same events.
    let taken_at = at.unwrap_or_else(|| Utc::now().trunc_subsecs(6));
    let (report, id) = match subject {
        Subject::Visit(id) => {
            let (events, last) = covered::<StudyVisit>(&state, &auth, id, taken_at).await?;
            let visit = replay::<StudyVisit>(&events).aggregate;
            let ids: Vec<Uuid> = visit
                .applications()
                .iter()
                .map(|a| a.application_id)
                .collect();
            let people = personal_data::people(&state.pool, &ids).await?;
            let (institutions, persons) = participants::of_visit(&visit, &people);
            let title = visit.details().map(|d| d.title.as_str().to_owned());
            let subject = ReportSubject::Visit {
                id,
                title: title.unwrap_or_default(),
            };
            (last.report(subject, taken_at, institutions, persons), id)
        }
        Subject::Program(id) => {
            let (events, last) = covered::<CooperationProgram>(&state, &auth, id, taken_at).await?;
            let program = replay::<CooperationProgram>(&events).aggregate;
            let held: Vec<_> = events.iter().map(|e| &e.event).collect();
            let institutions = participants::of_program(&program, &held);
            let title = program.details().map(|d| d.title.as_str().to_owned());
            let subject = ReportSubject::Program {
                id,
                title: title.unwrap_or_default(),
            };
            (last.report(subject, taken_at, institutions, Vec::new()), id)
        }
    };
    let failed = |e: report::ReportError| ApiError::Internal(format!("participant report: {e}"));
    Ok(match format {
        Format::Csv => attachment(
            report::csv_zip(&report).map_err(failed)?,
            "application/zip",
            &format!("raport-uczestnicy-{id}.zip"),
        ),
        Format::Xlsx => attachment(
            report::xlsx(&report).map_err(failed)?,
            XLSX,
            &format!("raport-uczestnicy-{id}.xlsx"),
        ),
    })
}

/// The newest event a report covers: its position and chain hash.
struct Last {
    position: i64,
    hash: String,
}

impl Last {
    fn report(
        self,
        subject: ReportSubject,
        taken_at: DateTime<Utc>,
        institutions: Vec<report::InstitutionRow>,
        people: Vec<report::PersonRow>,
    ) -> ParticipantReport {
        ParticipantReport {
            subject,
            taken_at,
            last_position: Some(self.position),
            last_hash: Some(self.hash),
            institutions,
            people,
        }
    }
}

/// The events of aggregate `id` the caller may read, recorded at or before `at` (404 when
/// there are none), and the newest of them.
async fn covered<A: Audited>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(Vec<Decoded<A::Event>>, Last), ApiError> {
    let events: Vec<_> = visible_history::<A>(state, auth, id)
        .await?
        .into_iter()
        .filter(|e| e.within(Some(at), None))
        .collect();
    let Some(last) = events.last() else {
        return Err(not_yet::<A>(Some(at), None));
    };
    let hash = infra::feed::hash_of(&state.pool, A::TYPE, &id.to_string(), last.sequence)
        .await?
        .map(hex::encode)
        // Events written before the chain existed have no hash: said as an empty one.
        .unwrap_or_default();
    let last = Last {
        position: last.position,
        hash,
    };
    Ok((events, last))
}

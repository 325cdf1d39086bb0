//! The schedule import: a programme's activities planned from a CSV file, as the
//! schedules (harmonogramy) are kept, with dates written as people write them.
//!
//! Why a module of its own: the CSV parser is the one piece of the programme routes with
//! rules of its own (columns, Polish dates, lines named in errors), and is tested here
//! without a database. The import is all or nothing: one command plans every row, or the
//! answer (`imported: 0`) lists every bad row by its line and nothing is planned (API.md:
//! 200 `{imported, errors: [{line, message}]}`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use domain::cooperation_program::{
    ActivityKind, CooperationProgram, CooperationProgramCommand, PlannedActivity,
};
use domain::values::{NonEmptyText, PlannedDate};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::command;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;

/// Query of the schedule import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The year for dates written without one (`Koniec września` in a schedule "na 2020 rok").
    #[param(minimum = 1000, maximum = 9999, example = 2020)]
    pub year: Option<i32>,
}

/// One refused row of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportError {
    /// Line of the CSV file (the header is line 1).
    #[schema(minimum = 1)]
    pub line: u64,
    /// What is wrong with the line (each bad column named).
    pub message: String,
    /// Why, for programs: `schedule_header`, `schedule_row_unreadable`,
    /// `schedule_row_invalid`, `schedule_empty` or `nul_character`.
    #[schema(example = "schedule_row_invalid")]
    pub code: &'static str,
}

/// Answer of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Activities planned: one per row of the file (blank rows aside); 0 when any row is
    /// bad (all or nothing).
    #[schema(minimum = 0)]
    pub imported: usize,
    /// Every bad row, by its line (the header is line 1); empty when the schedule was
    /// imported.
    pub errors: Vec<ImportError>,
    /// Global position of the last event written; absent when nothing was imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, nullable = false)]
    pub position: Option<i64>,
}

impl ImportResult {
    /// The answer of a schedule refused: nothing imported, every bad line named.
    fn refused(errors: Vec<ImportError>) -> Json<ImportResult> {
        Json(ImportResult {
            imported: 0,
            errors,
            position: None,
        })
    }
}

/// The schedule sent as bytes (`application/octet-stream`), for clients that send files
/// that way: read exactly as `text/csv`.
pub struct CsvFile;

impl PartialSchema for CsvFile {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The CSV file's bytes (UTF-8)."))
            .into()
    }
}

impl ToSchema for CsvFile {}

const COLUMNS: [&str; 5] = ["date", "title", "kind", "location", "co_organizer"];

/// Reads the CSV schedule into activities, or every bad row with its line.
pub fn parse_schedule(
    text: &str,
    year: Option<i32>,
) -> Result<Vec<PlannedActivity>, Vec<ImportError>> {
    // Line ends as one `\n`: the csv reader's record position counts a CRLF line (Excel's,
    // and every browser's form text) one short after the header, so the line named in an
    // error would be the one above the bad row.
    let text = text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![ImportError {
                line: 1,
                message: format!("the header cannot be read: {e}"),
                code: "schedule_header",
            }])
        }
    };
    let mut errors = Vec::new();
    let mut column = BTreeMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().to_lowercase();
        if !COLUMNS.contains(&name.as_str()) {
            errors.push(ImportError {
                line: 1,
                message: format!(
                    "unknown column '{h}'; the header is date,title,kind,location,co_organizer"
                ),
                code: "schedule_header",
            });
        } else if column.insert(name.clone(), i).is_some() {
            errors.push(ImportError {
                line: 1,
                message: format!("the column '{name}' appears twice"),
                code: "schedule_header",
            });
        }
    }
    for required in ["date", "title"] {
        if !column.contains_key(required) {
            errors.push(ImportError {
                line: 1,
                message: format!(
                    "the header has no '{required}' column; it is date,title,kind,location,co_organizer"
                ),
                code: "schedule_header",
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut activities = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(n as u64 + 2, |p| p.line());
                errors.push(ImportError {
                    line,
                    message: format!("the row cannot be read: {e}"),
                    code: "schedule_row_unreadable",
                });
                continue;
            }
        };
        let line = record.position().map_or(n as u64 + 2, |p| p.line());
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if record.len() > headers.len() {
            errors.push(ImportError {
                line,
                message: format!(
                    "the row has {} fields but the header only {}",
                    record.len(),
                    headers.len()
                ),
                code: "schedule_row_unreadable",
            });
            continue;
        }
        let get = |name: &str| {
            column
                .get(name)
                .and_then(|i| record.get(*i))
                .map(str::trim)
                .unwrap_or("")
        };
        let mut row_errors = Vec::new();
        let date = get("date");
        let planned = match year {
            Some(y) => PlannedDate::parse_polish_in_year(date, y),
            None => PlannedDate::parse_polish(date),
        }
        .map_err(|e| row_errors.push(format!("date: {e}")))
        .ok();
        let title = NonEmptyText::parse(get("title"))
            .map_err(|e| row_errors.push(format!("title: {e}")))
            .ok();
        let kind = match get("kind") {
            "" => Some(ActivityKind::Other),
            k => ActivityKind::parse(k)
                .map_err(|e| row_errors.push(format!("kind: {e}")))
                .ok(),
        };
        let optional = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        let location = optional(get("location"));
        let co_organizer = optional(get("co_organizer"));
        for (name, v) in [("location", &location), ("co_organizer", &co_organizer)] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 500) {
                row_errors.push(format!("{name}: must be at most 500 characters"));
            }
        }
        match (planned, title, kind) {
            (Some(planned), Some(title), Some(kind)) if row_errors.is_empty() => {
                activities.push(PlannedActivity {
                    activity_id: Uuid::now_v7(),
                    kind,
                    title,
                    planned,
                    location,
                    co_organizer,
                });
            }
            _ => errors.push(ImportError {
                line,
                message: row_errors.join("; "),
                code: "schedule_row_invalid",
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if activities.is_empty() {
        return Err(vec![ImportError {
            line: 1,
            message: "the schedule has no rows below its header".to_owned(),
            code: "schedule_empty",
        }]);
    }
    Ok(activities)
}

/// Import a schedule (harmonogram) as CSV with the header `date,title,kind,location,co_organizer`,
/// dates written as people write them (`7.02.2020`, `7-8.05.2020`, `Luty 2020`,
/// `Koniec września 2020`); an empty kind is `other`. All or nothing: when any row is bad the
/// answer lists every bad row with its line (`imported: 0`), and nothing is planned.
#[utoipa::path(post, path = "/api/v1/programs/{id}/schedule/import", operation_id = "import_program_schedule", tag = "programs",
    request_body(
        content((String = "text/csv"), (inline(CsvFile) = "application/octet-stream")),
        description = "The schedule as CSV (UTF-8, a BOM allowed, `,` between fields) with the header `date,title,kind,location,co_organizer` (`date` and `title` required; the others may be left out). Any content type but JSON is read as CSV; a JSON one is refused (400)."
    ),
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ImportParams),
    responses(
        (status = 200, body = ImportResult, description = "Every row planned as an activity, in one command (`imported` rows, `errors` empty); or, when any row is bad, nothing planned: `imported` 0 and every bad row in `errors` with its line."),
        (status = 400, description = "The body is not UTF-8, is sent as JSON, or `year` is not a year of four digits."),
        (status = 409, description = "The programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn import_schedule(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportResult>, ApiError> {
    auth.command_scope()?;
    if let Some(y) = params.year {
        if !(1000..=9999).contains(&y) {
            return Err(ApiError::bad_param(
                "year",
                "year_digits",
                "must be a year of four digits",
            ));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.contains("json") {
        return Err(ApiError::BadRequest {
            detail: "Send the schedule as text/csv with the header date,title,kind,location,co_organizer."
                .into(),
            errors: vec![],
        });
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest {
        detail: "The schedule must be UTF-8 text.".into(),
        errors: vec![],
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // PostgreSQL text cannot hold the NUL character; name its line instead of failing to store.
    let nul: Vec<ImportError> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains('\0'))
        .map(|(i, _)| ImportError {
            line: i as u64 + 1,
            message: "must not contain the NUL character".to_owned(),
            code: "nul_character",
        })
        .collect();
    if !nul.is_empty() {
        return Ok(ImportResult::refused(nul));
    }
    let activities = match parse_schedule(text, params.year) {
        Ok(a) => a,
        Err(errors) => return Ok(ImportResult::refused(errors)),
    };
    let imported = activities.len();
    let position = command::run::<CooperationProgram>(
        &state,
        &auth,
        &meta,
        id,
        CooperationProgramCommand::ImportSchedule { activities },
    )
    .await?;
    Ok(Json(ImportResult {
        imported,
        errors: vec![],
        position: Some(position),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_rows_are_read_with_their_lines() {
        let csv = "date,title,kind,location,co_organizer\n7.02.2020,Spotkanie monitoringowe OWES,monitoring_meeting,Olsztyn,\n\nKoniec września,Wydanie Biuletynu,,,\n";
        let rows = parse_schedule(csv, Some(2020)).expect("parsed");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].kind, ActivityKind::Other);
        assert_eq!(rows[1].planned.to_polish(), "Koniec września 2020");
        let bad = "date,title,kind\n7.02.2020,A,meeting\n31.02.2020,B,meeting\nLuty 2020,,party\n";
        let errors = parse_schedule(bad, None).expect_err("bad rows");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(errors[1].message.contains("title"), "{errors:?}");
        assert!(errors[1].message.contains("kind"), "{errors:?}");
        assert!(parse_schedule("when,what\n", None).is_err());
        assert!(parse_schedule("date,title\n", None).is_err());
    }

    #[test]
    fn a_bad_row_is_named_by_its_line_whatever_the_line_ends() {
        for text in [
            "date,title\nMarzec 2014,Forum\nkiedyś,Gala\n",
            "date,title\r\nMarzec 2014,Forum\r\nkiedyś,Gala\r\n",
        ] {
            let errors = parse_schedule(text, None).expect_err("a bad row");
            let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3], "{text:?}");
        }
    }
}

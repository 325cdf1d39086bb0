//! The shared schedule as iCalendar (RFC 5545), for Outlook, Thunderbird and phone calendars.
//!
//! Written with the `icalendar` crate (maintained, widely used; it folds lines at 75 octets
//! on character boundaries, escapes text, ends lines with CRLF and writes `VALUE=DATE`),
//! rather than by hand. Every entry is an all-day event: planned dates have no times.
//! Dates known only roughly (a month, a part of a month) span that period, are marked
//! tentative and free (not busy), and say in the description how precise they are.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{Days, Utc};
use domain::values::PlannedDate;
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::reads::{entries, ScheduleEntry, ScheduleParams};
use crate::http::auth::Auth;
use crate::http::extract::ApiQuery;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(schedule_ics))
}

/// What the entry's source is, in Polish, for the description.
fn source_label(source: &str) -> &str {
    match source {
        "program" => "program współpracy",
        "study_visit" => "wizyta studyjna",
        "network" => "sieć",
        other => other,
    }
}

/// One calendar event for one schedule entry.
fn event(e: &ScheduleEntry, stamp: chrono::DateTime<Utc>) -> icalendar::Event {
    let when = &e.when;
    let exact = matches!(when, PlannedDate::Day(_) | PlannedDate::Range(_));
    let first = when.first_day();
    // DTEND of an all-day event is the day after the last (RFC 5545 3.6.1).
    let after = when
        .last_day()
        .checked_add_days(Days::new(1))
        .unwrap_or(when.last_day());
    let mut description = format!(
        "Termin: {}\nRodzaj: {}\nŹródło: {}",
        when.to_polish(),
        e.kind,
        source_label(&e.source)
    );
    if !exact {
        description.push_str("\nData przybliżona: dokładny dzień nie jest jeszcze znany.");
    }
    let status = match e.status.as_str() {
        "cancelled" => EventStatus::Cancelled,
        _ if exact => EventStatus::Confirmed,
        _ => EventStatus::Tentative,
    };
    let mut ev = icalendar::Event::new();
    ev.uid(&format!("{}@koordynator", e.entry_id))
        .timestamp(stamp)
        .summary(&e.title)
        .description(&description)
        .starts(first)
        .ends(after)
        .status(status)
        .add_property("CATEGORIES", e.kind.as_str());
    if !exact {
        ev.add_property("TRANSP", "TRANSPARENT");
    }
    ev.done()
}

/// The schedule of a year as an iCalendar file: one all-day event per activity, term and
/// meeting, with a UID that stays the same across downloads (calendars update, not
/// duplicate). Same scope as `GET /api/v1/schedule`.
#[utoipa::path(get, path = "/api/v1/schedule.ics", operation_id = "get_schedule_ics", tag = "schedule", security(("bearer" = [])), params(ScheduleParams),
    responses(
        (status = 200, content_type = "text/calendar", body = String,
            description = "The year's schedule as an iCalendar file (RFC 5545, UTF-8): one all-day event per entry; a date known only roughly spans its period, tentative and free.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"harmonogram-<year>.ics\"`"))),
        (status = 400, description = "`year` is missing or not between 1990 and 2100, or `min_position` is negative.")))]
async fn schedule_ics(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ScheduleParams>,
) -> Result<Response, ApiError> {
    let stamp = state.clock.now();
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Koordynator//Harmonogram//PL"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .name(&format!("Harmonogram {}", p.year));
    for e in entries(&state, &auth, &p).await? {
        cal.push(event(&e, stamp));
    }
    let mut res = cal.done().to_string().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!(
            "attachment; filename=\"harmonogram-{}.ics\"",
            p.year
        ))
        .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}

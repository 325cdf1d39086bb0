//! Certificates of participation, shared by the API (`applications` prints one,
//! `certificates` verifies a code) and the public page `/weryfikacja/{code}`.
//!
//! A certificate is issued from the visit's own history, replayed (not from read models,
//! which may lag): the days present and the newest attendance event of the person are
//! read from the same events, so the code is tied to exactly the record it certifies.
//! Verifying a code reads the events recorded after that one: a day it certifies later
//! recorded absent revokes it, with that event's date; a changed event (its chain hash no
//! longer the one issued on) makes it invalid too.

use chrono::{DateTime, NaiveDate, Utc};
use domain::study_visit::{StudyVisit, StudyVisitEvent};
use infra::certificates::{self, Certificate};
use infra::personal_data;
use projections::{applications, study_visits};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::documents::pdf;
use crate::http::history::{history, replay};
use crate::http::polish;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// A certificate issued and its document, ready to print.
pub struct Printable {
    pub certificate: Certificate,
    pub document: pdf::Certificate,
}

/// The certificate of `application_id` of `visit_id` as the record stands now: 409 when the
/// person was present on no day, or their data were erased; 404 when there is no such
/// application in the visit.
/// `origin` is the address the request came to (see [`origin`]), printed when the service
/// has no configured public address.
pub async fn issue(
    state: &AppState,
    visit_id: Uuid,
    application_id: Uuid,
    origin: Option<String>,
) -> Result<Printable, ApiError> {
    // On the primary: the certificate is tied to the newest attendance record, which a
    // replica might not have replayed yet.
    let events = history::<StudyVisit>(&state.pool, &visit_id.to_string(), None, None).await?;
    let visit = replay::<StudyVisit>(&events).aggregate;
    let not_found = || ApiError::NotFound("No such application.".into());
    let (Some(details), Some(app)) = (visit.details(), visit.application(application_id)) else {
        return Err(not_found());
    };
    let term = visit.term(app.term_id).ok_or_else(not_found)?;
    let days = term
        .dates()
        .map(|d| app.attendance.days_present_in(d))
        .unwrap_or_default();
    // The newest attendance record of the person: what the code is tied to.
    let record = events.iter().rev().find(|e| {
        matches!(&e.event, StudyVisitEvent::AttendanceRecorded { application_id: a, .. } if *a == application_id)
    });
    let (Some(record), false) = (record, days.is_empty()) else {
        return Err(ApiError::Conflict {
            code: "not_present".into(),
            detail: "A certificate is given to a person recorded present on at least one day of the term.".into(),
        });
    };
    let people = personal_data::people(&state.pool, &[application_id]).await?;
    let Some(person) = people.get(&application_id) else {
        return Err(ApiError::Conflict {
            code: "personal_data_erased".into(),
            detail: "The person's data were erased: a certificate can no longer be printed (one printed before still verifies).".into(),
        });
    };
    let hash = certificates::event_hash(&state.pool, visit_id, record.sequence).await?;
    let certificate = certificates::issue(
        &state.pool,
        visit_id,
        term.term_id,
        application_id,
        &certificates::AttendanceRecord {
            sequence: record.sequence,
            position: record.position,
            hash,
        },
        &days,
    )
    .await?;
    let document = pdf::Certificate {
        organizer: state.site.organization.clone(),
        visit_title: details.title.as_str().to_owned(),
        destination: details.destination.as_str().to_owned(),
        funding_line: details.funding.as_ref().and_then(polish::funding_line),
        term_label: format!(
            "{} ({})",
            term.label.as_str(),
            polish::planned(&term.when())
        ),
        person_name: format!("{} {}", person.first_name, person.last_name),
        institution: app.institution.name.as_str().to_owned(),
        days_present: certificate.days_present.clone(),
        code: certificates::printed(&certificate.code),
        verify_url: verify_url(state, &certificate.code, origin.as_deref()),
        issued_on: polish::warsaw_date(certificate.issued_at),
    };
    Ok(Printable {
        certificate,
        document,
    })
}

/// Where a code is checked: the public page on this service's configured address
/// (`KOORDYNATOR_PUBLIC_URL`), else on the address the request came to, so the paper always
/// carries a whole address someone can type.
pub fn verify_url(state: &AppState, code: &str, origin: Option<&str>) -> String {
    let base = state
        .site
        .public_url
        .as_deref()
        .or(origin)
        .unwrap_or("")
        .trim_end_matches('/');
    format!("{base}/weryfikacja/{}", certificates::printed(code))
}

/// `scheme://host` of the request (`Host`, and `X-Forwarded-Proto` from a proxy that ends
/// TLS); None without a usable Host.
pub fn origin(headers: &axum::http::HeaderMap) -> Option<String> {
    let host = headers
        .get(axum::http::header::HOST)?
        .to_str()
        .ok()
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })?;
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// What a code confirms (API.md: `GET /api/v1/certificates/{code}`). The person is named
/// by initials only: anyone holding the code may ask.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// Whether the certificate still stands.
    pub valid: bool,
    /// The code as printed (`XXXX-XXXX-XXXX-XXXX`).
    pub code: String,
    pub visit: VerifiedVisit,
    pub term: VerifiedTerm,
    /// The days it certifies (`YYYY-MM-DD`).
    pub days_present: Vec<NaiveDate>,
    pub institution: VerifiedInstitution,
    /// The person's initials (`J. K.`); null once their data were erased.
    pub person_initials: Option<String>,
    /// Global position of the attendance event the certificate was issued on.
    pub position: i64,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stopped standing (a day it certifies recorded absent later); absent while
    /// valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it no longer stands, in words; absent while valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
    /// The same, for the Polish page.
    #[serde(skip)]
    pub revoked: Option<Revoked>,
}

/// Why a certificate no longer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Recorded absent on this day (None: on every day) after it was issued.
    Absent(Option<NaiveDate>),
    /// The attendance event it was issued on is not the one in the record any more.
    Changed,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifiedVisit {
    pub id: Uuid,
    pub title: String,
    pub destination: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifiedTerm {
    pub id: Uuid,
    pub label: String,
    #[schema(required = true)]
    pub starts_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub ends_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifiedInstitution {
    pub name: String,
    pub nip: String,
}

/// What `typed` confirms; None when no certificate has that code (or it cannot be one).
pub async fn verify(state: &AppState, typed: &str) -> Result<Option<Verification>, ApiError> {
    let Some(code) = certificates::normalize(typed) else {
        return Ok(None);
    };
    let Some(c) = certificates::find(&state.pool, &code).await? else {
        return Ok(None);
    };
    let mut conn = state.pool.acquire().await?;
    let visit = study_visits::read::visit(&mut conn, c.visit_id).await?;
    let terms = study_visits::read::terms(&mut conn, &[c.visit_id]).await?;
    let application = applications::read::application(&mut conn, c.application_id).await?;
    drop(conn);
    let (Some(visit), Some(term), Some(application)) = (
        visit,
        terms.into_iter().find(|t| t.term_id == c.term_id),
        application,
    ) else {
        // Issued from events the read models have not caught up with (a rebuild): the
        // answer comes once they have.
        return Err(ApiError::Unavailable {
            detail: "The record is being rebuilt; retry shortly.".into(),
            retry_after_secs: 2,
        });
    };
    let (revoked_at, revoked) = standing(state, &c).await?;
    let reason = revoked.map(|r| match r {
        Revoked::Absent(Some(d)) => format!("Recorded absent on {d}, a day the certificate names."),
        Revoked::Absent(None) => "Recorded absent on every day of the term.".to_owned(),
        Revoked::Changed => {
            "The attendance record it was issued on is no longer the one in the record.".to_owned()
        }
    });
    let people = personal_data::people(&state.pool, &[c.application_id]).await?;
    let person_initials = people
        .get(&c.application_id)
        .map(|p| initials(&p.first_name, &p.last_name));
    Ok(Some(Verification {
        valid: reason.is_none(),
        code: certificates::printed(&c.code),
        visit: VerifiedVisit {
            id: visit.visit_id,
            title: visit.title,
            destination: visit.destination,
        },
        term: VerifiedTerm {
            id: term.term_id,
            label: term.label,
            starts_on: term.starts_on,
            ends_on: term.ends_on,
        },
        days_present: c.days_present.clone(),
        institution: VerifiedInstitution {
            name: application.institution.name.as_str().to_owned(),
            nip: application.institution.nip.as_str().to_owned(),
        },
        person_initials,
        position: c.event_position,
        issued_at: c.issued_at,
        revoked_at,
        reason,
        revoked,
    }))
}

/// Whether the certificate still stands: (when it stopped, why) or (None, None).
async fn standing(
    state: &AppState,
    c: &Certificate,
) -> Result<(Option<DateTime<Utc>>, Option<Revoked>), ApiError> {
    let now = certificates::event_hash(&state.pool, c.visit_id, c.event_sequence).await?;
    if now != c.event_hash {
        return Ok((None, Some(Revoked::Changed)));
    }
    for stored in certificates::later_attendance(&state.pool, c).await? {
        let event: StudyVisitEvent = domain::upcasting::decode(
            &stored.aggregate_type,
            &stored.event_type,
            &stored.event_version,
            stored.payload,
        )
        .map_err(|e| {
            ApiError::Internal(format!(
                "stored event at position {} does not decode: {e}",
                stored.position
            ))
        })?;
        if let StudyVisitEvent::AttendanceRecorded {
            day,
            attended: false,
            ..
        } = event
        {
            if day.is_none_or(|d| c.days_present.contains(&d)) {
                return Ok((Some(stored.recorded_at), Some(Revoked::Absent(day))));
            }
        }
    }
    Ok((None, None))
}

/// `J. K.` from a first and last name (the first letter of each part of a double name:
/// `Anna Maria Nowak-Kowalska` → `A. M. N.-K.`).
pub fn initials(first: &str, last: &str) -> String {
    let part = |s: &str| -> String {
        s.split('-')
            .filter_map(|p| p.trim().chars().next())
            .map(|c| format!("{}.", c.to_uppercase()))
            .collect::<Vec<_>>()
            .join("-")
    };
    first
        .split_whitespace()
        .chain(last.split_whitespace())
        .map(part)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn the_origin_is_the_host_asked_with_its_scheme_and_nothing_odd() {
        use axum::http::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        assert_eq!(super::origin(&h), None);
        h.insert("host", HeaderValue::from_static("wizyty.rops.example"));
        assert_eq!(
            super::origin(&h).as_deref(),
            Some("http://wizyty.rops.example")
        );
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(
            super::origin(&h).as_deref(),
            Some("https://wizyty.rops.example")
        );
        h.insert("host", HeaderValue::from_static("evil.example/x?y"));
        assert_eq!(super::origin(&h), None);
    }

    #[test]
    fn initials_keep_polish_letters_and_double_names() {
        assert_eq!(initials("Żaneta", "Łęcka"), "Ż. Ł.");
        assert_eq!(initials("Anna Maria", "Nowak-Kowalska"), "A. M. N.-K.");
        assert_eq!(initials(" ", "Ćwik"), "Ć.");
    }
}

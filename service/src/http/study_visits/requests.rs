//! What a coordinator sends about a visit and its terms, and how each request becomes the
//! domain values its command needs. Every conversion checks every field and answers all
//! the invalid ones at once ([`Invalid`]), so a form shows its mistakes together.

use domain::study_visit::{
    Funding, Preference, PreferenceKind, StudyVisitCommand, TermDates, TermSchedule,
};
use domain::values::{
    InstitutionType, Nip, NonEmptyText, OrganizerId, PlannedDate, PreferenceCode,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::validate::{self, Fields, Invalid};

/// A preference of the visit.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferenceRequest {
    pub code: String,
    pub label: String,
    /// `listed` (met when the NIP is on the list) or `not_listed`.
    pub kind: String,
}

/// EU funding reference.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(default)]
pub struct FundingRequest {
    pub project: String,
    pub programme: String,
    pub priority_axis: String,
    pub measure: String,
    pub sub_measure: String,
}

/// Body of `POST /api/v1/study-visits`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnnounceRequest {
    pub title: String,
    pub destination: String,
    #[serde(default)]
    pub description: String,
    pub eligible_institution_types: Vec<String>,
    /// At most this many seats per institution across the visit when demand is high; null = no cap.
    #[serde(default)]
    pub max_per_institution: Option<i64>,
    #[serde(default)]
    pub preferences: Vec<PreferenceRequest>,
    #[serde(default)]
    pub funding: Option<FundingRequest>,
    /// Organizer (slug); required for admin tokens, implied by a coordinator's token.
    #[serde(default)]
    pub organizer: Option<String>,
}

/// An announcement with the organizer the caller may announce for: what
/// `Auth::organizer_for_new` answered, its field error (if any) already in `fields`, so
/// that the 422 lists it with the body's.
pub struct AnnounceFor {
    pub request: AnnounceRequest,
    pub organizer: Option<OrganizerId>,
    pub fields: Fields,
}

/// A checked announcement: everything `StudyVisitCommand::Announce` needs but the new
/// visit's id.
#[derive(Debug)]
pub struct Announcement {
    organizer: OrganizerId,
    title: NonEmptyText,
    destination: NonEmptyText,
    description: String,
    eligible_institution_types: Vec<InstitutionType>,
    max_per_institution: Option<u32>,
    preferences: Vec<Preference>,
    funding: Option<Funding>,
}

impl Announcement {
    /// The command announcing the visit `visit_id`.
    pub fn command(self, visit_id: Uuid) -> StudyVisitCommand {
        StudyVisitCommand::Announce {
            visit_id,
            organizer: self.organizer,
            title: self.title,
            destination: self.destination,
            description: self.description,
            eligible_institution_types: self.eligible_institution_types,
            max_per_institution: self.max_per_institution,
            preferences: self.preferences,
            funding: self.funding,
        }
    }
}

impl TryFrom<AnnounceFor> for Announcement {
    type Error = Invalid;

    fn try_from(input: AnnounceFor) -> Result<Self, Invalid> {
        let AnnounceFor {
            request: body,
            organizer,
            fields: mut f,
        } = input;
        let title = f.check("title", NonEmptyText::parse(&body.title));
        let destination = f.check("destination", NonEmptyText::parse(&body.destination));
        if body.eligible_institution_types.is_empty() {
            f.fail(
                "eligible_institution_types",
                "must list at least one institution type",
            );
        }
        let mut types = Vec::new();
        for (i, t) in body.eligible_institution_types.iter().enumerate() {
            if let Some(t) = f.check(
                &format!("eligible_institution_types[{i}]"),
                InstitutionType::parse(t),
            ) {
                types.push(t);
            }
        }
        let max_per_institution = match body.max_per_institution {
            None => Some(None),
            Some(m) => match u32::try_from(m) {
                Ok(m) if (1..=1000).contains(&m) => Some(Some(m)),
                _ => {
                    f.fail(
                        "max_per_institution",
                        "must be between 1 and 1000, or null for no cap",
                    );
                    None
                }
            },
        };
        let mut preferences = Vec::new();
        for (i, p) in body.preferences.iter().enumerate() {
            if let Some(p) = preference(&mut f, &format!("preferences[{i}]"), p) {
                preferences.push(p);
            }
        }
        let funding = body.funding.map(|fr| Funding {
            project: fr.project,
            programme: fr.programme,
            priority_axis: fr.priority_axis,
            measure: fr.measure,
            sub_measure: fr.sub_measure,
        });
        f.finish_with(|| {
            Some(Announcement {
                organizer: organizer?,
                title: title?,
                destination: destination?,
                description: body.description,
                eligible_institution_types: types,
                max_per_institution: max_per_institution?,
                preferences,
                funding,
            })
        })
    }
}

/// One preference, or its field errors recorded under `at` (e.g. `preferences[0]`).
fn preference(f: &mut Fields, at: &str, p: &PreferenceRequest) -> Option<Preference> {
    let code = f.check(&format!("{at}.code"), PreferenceCode::parse(&p.code));
    let label = f.check(&format!("{at}.label"), NonEmptyText::parse(&p.label));
    let kind = match p.kind.as_str() {
        "listed" => Some(PreferenceKind::Listed),
        "not_listed" => Some(PreferenceKind::NotListed),
        _ => {
            f.fail(&format!("{at}.kind"), "must be listed or not_listed");
            None
        }
    };
    Some(Preference {
        code: code?,
        label: label?,
        kind: kind?,
    })
}

/// Body of the preference-list replacement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferenceListRequest {
    pub nips: Vec<String>,
}

/// The list's NIPs, each checked.
impl TryFrom<PreferenceListRequest> for Vec<Nip> {
    type Error = Invalid;

    fn try_from(body: PreferenceListRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let nips: Vec<Nip> = body
            .nips
            .iter()
            .enumerate()
            .filter_map(|(i, n)| f.check(&format!("nips[{i}]"), Nip::parse(n)))
            .collect();
        f.finish_with(|| Some(nips))
    }
}

/// Body of `POST .../terms`: either dates and a deadline, or `planned`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TermRequest {
    pub label: String,
    pub seats: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// RFC 3339 with offset, e.g. `2022-06-23T11:00:00+02:00`.
    pub recruitment_deadline: Option<String>,
    /// A PlannedDate (`{"month": "2022-07", "part": "mid"}`) when the dates are not fixed yet.
    #[schema(value_type = Object)]
    pub planned: Option<serde_json::Value>,
}

/// A checked term: everything `StudyVisitCommand::ScheduleTerm` needs but the new term's id.
#[derive(Debug)]
pub struct NewTerm {
    label: NonEmptyText,
    seats: u32,
    schedule: TermSchedule,
}

impl NewTerm {
    /// The command scheduling the term `term_id`.
    pub fn command(self, term_id: Uuid) -> StudyVisitCommand {
        StudyVisitCommand::ScheduleTerm {
            term_id,
            label: self.label,
            seats: self.seats,
            schedule: self.schedule,
        }
    }
}

impl TryFrom<TermRequest> for NewTerm {
    type Error = Invalid;

    fn try_from(body: TermRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let label = f.check("label", NonEmptyText::parse(&body.label));
        let seats = match u32::try_from(body.seats) {
            Ok(s) if (1..=10_000).contains(&s) => Some(s),
            _ => {
                f.fail("seats", "must be between 1 and 10000");
                None
            }
        };
        let schedule = match &body.planned {
            Some(planned) => {
                if body.starts_on.is_some()
                    || body.ends_on.is_some()
                    || body.recruitment_deadline.is_some()
                {
                    f.fail(
                        "planned",
                        "give either planned or starts_on, ends_on and recruitment_deadline, not both",
                    );
                }
                match serde_json::from_value::<PlannedDate>(planned.clone()) {
                    Ok(p) => Some(TermSchedule::Planned(p)),
                    Err(e) => {
                        f.fail("planned", e.to_string());
                        None
                    }
                }
            }
            None => term_dates(
                &mut f,
                body.starts_on.as_deref(),
                body.ends_on.as_deref(),
                body.recruitment_deadline.as_deref(),
            )
            .map(TermSchedule::Dated),
        };
        f.finish_with(|| {
            Some(NewTerm {
                label: label?,
                seats: seats?,
                schedule: schedule?,
            })
        })
    }
}

/// Body of `POST .../terms/{term_id}/dates`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DatesRequest {
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub recruitment_deadline: Option<String>,
}

impl TryFrom<DatesRequest> for TermDates {
    type Error = Invalid;

    fn try_from(body: DatesRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let dates = term_dates(
            &mut f,
            body.starts_on.as_deref(),
            body.ends_on.as_deref(),
            body.recruitment_deadline.as_deref(),
        );
        f.finish_with(|| dates)
    }
}

/// A term's dates and recruitment deadline, all three required, the end not before the
/// start; or their field errors recorded in `f`.
fn term_dates(
    f: &mut Fields,
    starts: Option<&str>,
    ends: Option<&str>,
    deadline: Option<&str>,
) -> Option<TermDates> {
    for (field, v) in [
        ("starts_on", starts),
        ("ends_on", ends),
        ("recruitment_deadline", deadline),
    ] {
        if v.is_none() {
            f.fail(field, "is required");
        }
    }
    let starts_on = starts.and_then(|s| f.check("starts_on", validate::date(s)));
    let ends_on = ends.and_then(|e| f.check("ends_on", validate::date(e)));
    let recruitment_deadline =
        deadline.and_then(|d| f.check("recruitment_deadline", validate::instant(d)));
    let (starts_on, ends_on, recruitment_deadline) = (starts_on?, ends_on?, recruitment_deadline?);
    if ends_on < starts_on {
        f.fail("ends_on", "must not be before starts_on");
        return None;
    }
    Some(TermDates {
        starts_on,
        ends_on,
        recruitment_deadline,
    })
}

/// Body of a cancellation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

/// The reason, not empty.
impl TryFrom<ReasonRequest> for NonEmptyText {
    type Error = Invalid;

    fn try_from(body: ReasonRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = f.check("reason", NonEmptyText::parse(&body.reason));
        f.finish_with(|| reason)
    }
}

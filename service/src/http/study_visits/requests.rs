//! What a coordinator sends about a visit and its terms, and how each request becomes the
//! domain values its command needs. Every conversion checks every field and answers all
//! the invalid ones at once ([`Invalid`]), so a form shows its mistakes together.

use chrono::{DateTime, NaiveDate, Utc};
use domain::study_visit::{
    Funding, InformationClause, Preference, PreferenceKind, StudyVisitCommand, TermDates,
    TermSchedule,
};
use domain::values::{
    InstitutionType, Nip, NonEmptyText, OrganizerId, PlannedDate, PreferenceCode,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::schemas;
use crate::http::openapi::{
    InstitutionType as InstitutionTypeSchema, PlannedDate as PlannedDateSchema,
};
use crate::http::validate::{self, Fields, Invalid};

/// A preference of the visit: institutions meeting it rank higher.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferenceRequest {
    /// Its stable code, unique within the visit: 1 to 64 of `a-z`, `0-9` and `_`.
    #[schema(pattern = "^[a-z0-9_]{1,64}$", example = "cus_declared")]
    pub code: String,
    /// What it means, for people (1 to 500 characters, not blank).
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub label: String,
    /// Read as `listed` (met by the institutions on its list of NIPs) or `not_listed`
    /// (met by those not on it); anything else is 422.
    #[schema(value_type = schemas::PreferenceKind)]
    pub kind: String,
}

/// The EU funding reference of a project-funded visit. Every part is optional text
/// (absent = empty).
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(default)]
pub struct FundingRequest {
    /// Project title.
    pub project: String,
    /// Operational programme.
    pub programme: String,
    /// Priority axis.
    pub priority_axis: String,
    /// Measure.
    pub measure: String,
    /// Sub-measure.
    pub sub_measure: String,
}

/// Body of `POST /api/v1/study-visits`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnnounceRequest {
    /// 1 to 500 characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    /// Where the visit goes: 1 to 500 characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub destination: String,
    /// Free text (absent = empty).
    #[serde(default)]
    pub description: String,
    /// The institution types that may apply (at least one); `PES` admits its kinds `CIS`,
    /// `KIS`, `ZAZ`, `WTZ` and `NGO` too. A repeated type counts once.
    #[schema(value_type = Vec<InstitutionTypeSchema>, min_items = 1)]
    pub eligible_institution_types: Vec<String>,
    /// At most this many seats per institution across the visit when demand is high
    /// (1 to 1000); null or absent = no cap.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub max_per_institution: Option<i64>,
    /// The preferences in their order of importance (absent = none); codes unique.
    #[serde(default)]
    pub preferences: Vec<PreferenceRequest>,
    /// The EU funding reference; null or absent when the visit is not project-funded.
    #[serde(default)]
    pub funding: Option<FundingRequest>,
    /// The organizer (a slug such as `rops-torun`): required with an admin token; with a
    /// coordinator's token it is that token's organizer (naming another one is 403).
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 64,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        example = "rops-torun"
    )]
    pub organizer: Option<String>,
    /// The information clause (RODO art. 13) its applicants are shown; null or absent =
    /// the service's default, naming the organizer as the controller.
    #[serde(default)]
    pub information_clause: Option<ClauseRequest>,
    /// How many hours a seat freed after the close is offered to the next person waiting,
    /// who accepts or declines it (1 to 720); null or absent: the next person gets the seat
    /// at once.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 720, example = 72)]
    pub offer_hours: Option<i64>,
}

/// Body of `PUT /api/v1/study-visits/{id}/information-clause`, and the announcement's
/// `information_clause`: the RODO art. 13 clause applicants are shown.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClauseRequest {
    /// Its version id, recorded by every application that accepts it: 1 to 50 characters.
    /// A version names one text for good: a changed text needs a new version.
    #[schema(min_length = 1, max_length = 50, pattern = r"\S", example = "2026-02")]
    pub version: String,
    /// The full text, 1 to 10,000 characters; an empty line separates paragraphs.
    #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
    pub text: String,
}

impl ClauseRequest {
    /// The clause, or its field errors recorded under `at` (`information_clause` or none).
    fn check(&self, f: &mut Fields, at: &str) -> Option<InformationClause> {
        let path = |name: &str| {
            if at.is_empty() {
                name.to_owned()
            } else {
                format!("{at}.{name}")
            }
        };
        let version = f.check(&path("version"), NonEmptyText::parse_max(&self.version, 50));
        let text = f.check(&path("text"), NonEmptyText::parse_max(&self.text, 10_000));
        Some(InformationClause {
            version: version?,
            text: text?,
        })
    }
}

impl TryFrom<ClauseRequest> for InformationClause {
    type Error = Invalid;

    fn try_from(body: ClauseRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let clause = body.check(&mut f, "");
        f.finish_with(|| clause)
    }
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
    /// Set right after the announcement (its own command and event).
    pub clause: Option<InformationClause>,
    /// Set right after the announcement (its own command and event).
    pub offer_hours: Option<u32>,
}

impl Announcement {
    /// The command announcing the visit `visit_id`.
    pub fn command(&self, visit_id: Uuid) -> StudyVisitCommand {
        StudyVisitCommand::Announce {
            visit_id,
            organizer: self.organizer.clone(),
            title: self.title.clone(),
            destination: self.destination.clone(),
            description: self.description.clone(),
            eligible_institution_types: self.eligible_institution_types.clone(),
            max_per_institution: self.max_per_institution,
            preferences: self.preferences.clone(),
            funding: self.funding.clone(),
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
                "required",
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
                        "out_of_range",
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
        let offer_hours = offer_hours(&mut f, body.offer_hours);
        let clause = match &body.information_clause {
            None => Some(None),
            Some(c) => c.check(&mut f, "information_clause").map(Some),
        };
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
                clause: clause?,
                offer_hours: offer_hours?,
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
            f.fail(
                &format!("{at}.kind"),
                "preference_kind_unknown",
                "must be listed or not_listed",
            );
            None
        }
    };
    Some(Preference {
        code: code?,
        label: label?,
        kind: kind?,
    })
}

/// `offer_hours` checked: 1 to 720 hours, or none (a freed seat goes to the next person at
/// once). `None` when it is out of range (recorded in `f`).
fn offer_hours(f: &mut Fields, hours: Option<i64>) -> Option<Option<u32>> {
    match hours {
        None => Some(None),
        Some(h) => match u32::try_from(h) {
            Ok(h) if (1..=720).contains(&h) => Some(Some(h)),
            _ => {
                f.fail(
                    "offer_hours",
                    "out_of_range",
                    "must be between 1 and 720, or null for promotions that allocate at once",
                );
                None
            }
        },
    }
}

/// Body of `PUT …/offer-hours`: how long a freed seat is offered from now on.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfferHoursRequest {
    /// Hours (1 to 720) the first person waiting has to accept a freed seat; `null`: a freed
    /// seat goes to them at once.
    #[schema(minimum = 1, maximum = 720)]
    pub offer_hours: Option<i64>,
}

/// The hours checked.
pub struct OfferHours(pub Option<u32>);

impl TryFrom<OfferHoursRequest> for OfferHours {
    type Error = Invalid;

    fn try_from(body: OfferHoursRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let hours = offer_hours(&mut f, body.offer_hours);
        f.finish_with(|| hours.map(OfferHours))
    }
}

/// Body of the preference-list replacement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferenceListRequest {
    /// The whole new list (it replaces the old one; empty clears it).
    #[schema(value_type = Vec<NipInput>)]
    pub nips: Vec<String>,
}

/// A NIP as people write it: 10 digits, the last a check digit (format `nip`), with an
/// optional `PL` prefix and spaces or hyphens between the digits (`956-230-79-84`). Any
/// other character, another count of digits or a wrong check digit is 422.
#[derive(ToSchema)]
#[schema(value_type = String, format = "nip", example = "9562307984")]
#[allow(dead_code)]
pub struct NipInput(String);

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

/// Body of `POST .../terms`: either dates and a deadline, or `planned`. Its schema is the
/// `oneOf` of the two shapes ([`TermShape`]); it is parsed as one flat object so that each
/// missing or superfluous field is answered by name.
#[derive(Debug, Deserialize)]
pub struct TermRequest {
    pub label: String,
    pub seats: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub recruitment_deadline: Option<String>,
    pub planned: Option<serde_json::Value>,
}

impl PartialSchema for TermRequest {
    fn schema() -> RefOr<Schema> {
        TermShape::schema()
    }
}

impl ToSchema for TermRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <TermShape as ToSchema>::schemas(schemas);
    }
}

/// A term of the visit: dated (`starts_on`, `ends_on` and `recruitment_deadline`), or only
/// planned (`planned`, no dates and no deadline; it cannot open until
/// `POST .../terms/{term_id}/dates` fixes them). A body with both, or with neither
/// complete, is 422.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TermShape {
    Dated(DatedTermRequest),
    Planned(PlannedTermRequest),
}

/// A term whose dates and recruitment deadline are known.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DatedTermRequest {
    /// How people call it, e.g. `I termin`: 1 to 500 characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    label: String,
    /// Seats on offer: 1 to 10000.
    #[schema(minimum = 1, maximum = 10000)]
    seats: i64,
    /// The first day.
    starts_on: NaiveDate,
    /// The last day, not before `starts_on`.
    ends_on: NaiveDate,
    /// When recruitment closes by itself: RFC 3339 with its offset, e.g.
    /// `2022-06-23T11:00:00+02:00`.
    recruitment_deadline: DateTime<Utc>,
    /// Absent (or null) in a dated term.
    #[schema(schema_with = null_only)]
    planned: Option<()>,
}

/// A term planned at some precision, its dates not fixed yet.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PlannedTermRequest {
    /// How people call it, e.g. `II termin`: 1 to 500 characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    label: String,
    /// Seats on offer: 1 to 10000.
    #[schema(minimum = 1, maximum = 10000)]
    seats: i64,
    /// When it is planned for, e.g. `{"month": "2022-07", "part": "mid"}`.
    #[schema(value_type = PlannedDateSchema)]
    planned: (),
    /// Absent (or null) in a planned term.
    #[schema(schema_with = null_only)]
    starts_on: Option<()>,
    /// Absent (or null) in a planned term.
    #[schema(schema_with = null_only)]
    ends_on: Option<()>,
    /// Absent (or null) in a planned term.
    #[schema(schema_with = null_only)]
    recruitment_deadline: Option<()>,
}

/// The schema of a field that must be absent or null in its shape.
fn null_only() -> Schema {
    ObjectBuilder::new().schema_type(Type::Null).into()
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
                f.fail("seats", "out_of_range", "must be between 1 and 10000");
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
                        "planned_or_dates",
                        "give either planned or starts_on, ends_on and recruitment_deadline, not both",
                    );
                }
                f.check("planned", PlannedDate::from_json(planned))
                    .map(TermSchedule::Planned)
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

/// Body of `POST .../terms/{term_id}/dates`: all three are required (each one missing is
/// named in the 422); optional in the type only so that it can be.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DatesRequest {
    /// The first day.
    #[schema(value_type = NaiveDate, required = true)]
    pub starts_on: Option<String>,
    /// The last day, not before `starts_on`.
    #[schema(value_type = NaiveDate, required = true)]
    pub ends_on: Option<String>,
    /// When recruitment closes by itself: RFC 3339 with its offset, e.g.
    /// `2022-06-23T11:00:00+02:00`.
    #[schema(value_type = DateTime<Utc>, required = true)]
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
            f.fail(field, "required", "is required");
        }
    }
    let starts_on = starts.and_then(|s| f.check("starts_on", validate::date(s)));
    let ends_on = ends.and_then(|e| f.check("ends_on", validate::date(e)));
    let recruitment_deadline =
        deadline.and_then(|d| f.check("recruitment_deadline", validate::instant(d)));
    let (starts_on, ends_on, recruitment_deadline) = (starts_on?, ends_on?, recruitment_deadline?);
    if ends_on < starts_on {
        f.fail(
            "ends_on",
            "ends_before_start",
            "must not be before starts_on",
        );
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
    /// Why, for the record: 1 to 500 characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
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

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{AnnounceFor, Announcement, NewTerm, TermRequest};
    use crate::http::validate::Fields;
    use domain::values::OrganizerId;

    /// Whether the document's schema `name` takes `body`.
    fn schema_takes(name: &str, body: &Value) -> bool {
        ::tests::contract::check_schema(name, body).is_ok()
    }

    /// Whether the handler takes `body` as a term (parsed and checked).
    fn server_takes_term(body: &Value) -> bool {
        serde_json::from_value::<TermRequest>(body.clone())
            .ok()
            .is_some_and(|r| NewTerm::try_from(r).is_ok())
    }

    fn with(base: &Value, extra: Value) -> Value {
        let mut out = base.clone();
        if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        out
    }

    #[test]
    fn the_term_schema_takes_exactly_the_two_shapes_the_server_takes() {
        let base = json!({"label": "I termin", "seats": 25});
        let dates = json!({"starts_on": "2022-06-27", "ends_on": "2022-06-28",
                           "recruitment_deadline": "2022-06-23T11:00:00+02:00"});
        let planned = json!({"planned": {"month": "2022-07", "part": "mid"}});
        let nulls = json!({"starts_on": null, "ends_on": null, "recruitment_deadline": null});
        let accepted = [
            with(&base, dates.clone()),
            with(&base, planned.clone()),
            with(&with(&base, planned.clone()), nulls),
            with(&with(&base, dates.clone()), json!({"planned": null})),
        ];
        for body in &accepted {
            assert!(schema_takes("TermRequest", body), "schema refuses {body}");
            assert!(server_takes_term(body), "server refuses {body}");
        }
        let refused = [
            base.clone(),
            with(&base, json!({"starts_on": "2022-06-27"})),
            with(&with(&base, dates.clone()), planned.clone()),
            with(
                &with(&base, planned.clone()),
                json!({"starts_on": "2022-06-27"}),
            ),
            with(&with(&base, dates.clone()), json!({"seats": 0})),
            with(&with(&base, dates), json!({"label": " "})),
            with(&base, json!({"planned": {"month": "2022-13"}})),
        ];
        for body in &refused {
            assert!(!schema_takes("TermRequest", body), "schema takes {body}");
            assert!(!server_takes_term(body), "server takes {body}");
        }
    }

    #[test]
    fn the_announcement_schema_takes_what_the_server_takes() {
        let takes = |body: &Value| {
            serde_json::from_value(body.clone())
                .ok()
                .is_some_and(|request| {
                    Announcement::try_from(AnnounceFor {
                        request,
                        organizer: OrganizerId::parse("rops-torun").ok(),
                        fields: Fields::default(),
                    })
                    .is_ok()
                })
        };
        let body = ::tests::visit_body(Some(2));
        let minimal = json!({"title": "Wizyta", "destination": "Toruń",
                             "eligible_institution_types": ["JST"]});
        for ok in [
            &body,
            &minimal,
            &with(&body, json!({"max_per_institution": null, "funding": null})),
        ] {
            assert!(schema_takes("AnnounceRequest", ok), "schema refuses {ok}");
            assert!(takes(ok), "server refuses {ok}");
        }
        for bad in [
            with(&body, json!({"eligible_institution_types": []})),
            with(&body, json!({"eligible_institution_types": ["ROPS"]})),
            with(&body, json!({"max_per_institution": 0})),
            with(
                &body,
                json!({"preferences": [{"code": "x", "label": "y", "kind": "maybe"}]}),
            ),
            with(
                &body,
                json!({"preferences": [{"code": "Bad Code", "label": "y", "kind": "listed"}]}),
            ),
        ] {
            assert!(!schema_takes("AnnounceRequest", &bad), "schema takes {bad}");
            assert!(!takes(&bad), "server takes {bad}");
        }
    }

    #[test]
    fn the_dates_schema_requires_all_three() {
        let all = json!({"starts_on": "2022-06-27", "ends_on": "2022-06-28",
                         "recruitment_deadline": "2022-06-23T11:00:00+02:00"});
        assert!(schema_takes("DatesRequest", &all));
        for missing in ["starts_on", "ends_on", "recruitment_deadline"] {
            let mut body = all.clone();
            if let Some(o) = body.as_object_mut() {
                o.remove(missing);
            }
            assert!(!schema_takes("DatesRequest", &body), "without {missing}");
        }
    }
}

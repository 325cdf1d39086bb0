//! What the programme routes accept, and how each request becomes domain values.
//!
//! Why a module of its own: a handler should only extract, convert and run, so every rule
//! about the shape of the input lives here, next to the request it checks. Each conversion
//! records every invalid field in a [`Fields`] before giving up, so a person filling a form
//! sees all of their mistakes in one 422. Ids are not minted here: the handler decides the
//! identity of what a command creates, and answers it.
//!
//! The `#[schema]` attributes on each request state the same rules for the OpenAPI document
//! (which fields are required, lengths, formats, closed sets from `super::schemas`), so a
//! client learns them before it is refused; a rule that spans fields is said in the field's
//! description, or, for the partner's counting date, in the schema itself
//! ([`PartnerRequestSchema`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::cooperation_program::{
    ActivityKind, ApplicationCard, Channel, CooperationProgramCommand, FeedbackChannel, Indicator,
    Measure, Period, PlannedActivity, ProgramKind, Verdict,
};
use domain::values::{Institution, NonEmptyText, OrganizerId, PlannedDate, PreferenceCode};
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::schema::{AllOfBuilder, KnownFormat, OneOfBuilder, SchemaFormat};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use super::schemas;
use crate::http::extract::parse_json;
use crate::http::institution::InstitutionRequest;
use crate::http::problem::ApiError;
use crate::http::validate::{Fields, Invalid};

/// An optional `YYYY-MM-DD` date: absent or blank is None.
fn opt_date(f: &mut Fields, field: &str, v: &Option<String>) -> Option<NaiveDate> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| f.date(field, s))
}

/// A PlannedDate in its JSON form, or as Polish text (`"Koniec września 2020"`), as
/// schedules write it.
fn planned_field(f: &mut Fields, field: &str, v: &Value) -> Option<PlannedDate> {
    let parsed = match v {
        Value::String(s) => PlannedDate::parse_polish(s),
        other => PlannedDate::from_json(other),
    };
    f.check(field, parsed)
}

// ---------------------------------------------------------------------------------------
// Creating a programme
// ---------------------------------------------------------------------------------------

/// The period a programme covers.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PeriodRequest {
    /// First day.
    #[schema(format = Date, example = "2013-01-01")]
    pub start: String,
    /// Last day, not before `start`.
    #[schema(format = Date, example = "2014-12-31")]
    pub end: String,
}

/// An indicator with its target.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IndicatorRequest {
    /// The indicator's code, unique within the programme: lower-case letters, digits and `_`.
    #[schema(
        pattern = r"^[a-z0-9_]+$",
        min_length = 1,
        max_length = 64,
        example = "trainings"
    )]
    pub code: String,
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub label: String,
    /// The value to reach.
    #[schema(minimum = 0)]
    pub target: i64,
    #[schema(value_type = schemas::Measure)]
    pub measure: String,
}

/// Body of `POST /api/v1/programs`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRequest {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    #[schema(value_type = schemas::ProgramKind)]
    pub kind: String,
    pub period: PeriodRequest,
    /// The programme's goals, each 1 to 2,000 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub goals: Vec<String>,
    /// Codes must differ.
    #[serde(default)]
    pub indicators: Vec<IndicatorRequest>,
    /// Last day a partner's application card may count (the date that counts for its
    /// channel); null or absent: no deadline.
    #[serde(default)]
    #[schema(format = Date)]
    pub partner_application_deadline: Option<String>,
    /// The organizer (slug) it belongs to: required with an admin token; a coordinator's
    /// token implies its own (naming another is 403).
    #[serde(default)]
    #[schema(
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        min_length = 2,
        max_length = 64,
        example = "rops-torun"
    )]
    pub organizer: Option<String>,
}

/// A new programme, without its id and organizer.
#[derive(Debug)]
pub struct NewProgram {
    pub title: NonEmptyText,
    pub kind: ProgramKind,
    pub period: Period,
    pub goals: Vec<NonEmptyText>,
    pub indicators: Vec<Indicator>,
    pub partner_application_deadline: Option<NaiveDate>,
}

impl CreateRequest {
    /// The programme, or its field errors recorded in `f`. Not a `TryFrom`: the organizer
    /// comes from the caller's token as much as from the body (`Auth::organizer_for_new`),
    /// and its error belongs in the same answer, so the handler checks it into the same
    /// `f` and finishes.
    pub fn check(&self, f: &mut Fields) -> Option<NewProgram> {
        let title = f.check("title", NonEmptyText::parse(&self.title));
        let kind = f.check("kind", ProgramKind::parse(&self.kind));
        let start = f.date("period.start", &self.period.start);
        let end = f.date("period.end", &self.period.end);
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                f.fail(
                    "period.end",
                    "ends_before_start",
                    "must not be before period.start",
                );
            }
        }
        let goals: Vec<NonEmptyText> = self
            .goals
            .iter()
            .enumerate()
            .filter_map(|(i, g)| f.check(&format!("goals[{i}]"), NonEmptyText::parse_max(g, 2000)))
            .collect();
        let mut indicators = Vec::new();
        let mut codes = Vec::new();
        for (i, r) in self.indicators.iter().enumerate() {
            let code = f.check(
                &format!("indicators[{i}].code"),
                PreferenceCode::parse(&r.code),
            );
            if let Some(c) = &code {
                if codes.contains(c) {
                    f.fail(
                        &format!("indicators[{i}].code"),
                        "duplicate_indicator",
                        "is used by another indicator",
                    );
                }
                codes.push(c.clone());
            }
            let label = f.check(
                &format!("indicators[{i}].label"),
                NonEmptyText::parse(&r.label),
            );
            let target = match u64::try_from(r.target) {
                Ok(t) => Some(t),
                Err(_) => {
                    f.fail(
                        &format!("indicators[{i}].target"),
                        "negative_number",
                        "must be 0 or more",
                    );
                    None
                }
            };
            let measure = f.check(
                &format!("indicators[{i}].measure"),
                Measure::parse(&r.measure),
            );
            // An indicator with an error is left out; the error makes the request a 422.
            if let (Some(code), Some(label), Some(target), Some(measure)) =
                (code, label, target, measure)
            {
                indicators.push(Indicator {
                    code,
                    label,
                    target,
                    measure,
                });
            }
        }
        let deadline = opt_date(
            f,
            "partner_application_deadline",
            &self.partner_application_deadline,
        );
        Some(NewProgram {
            title: title?,
            kind: kind?,
            period: Period {
                start: start?,
                end: end?,
            },
            goals,
            indicators,
            partner_application_deadline: deadline,
        })
    }
}

impl NewProgram {
    /// The command creating it as `program_id`, owned by `organizer`.
    pub fn command(self, program_id: Uuid, organizer: OrganizerId) -> CooperationProgramCommand {
        CooperationProgramCommand::CreateProgram {
            program_id,
            organizer,
            title: self.title,
            kind: self.kind,
            period: self.period,
            goals: self.goals,
            indicators: self.indicators,
            partner_application_deadline: self.partner_application_deadline,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Partners
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/partners`: the date that counts depends on the
/// channel (email → `sent_on`, post → `postmarked_on`, in_person → `delivered_on`) and is
/// required; the others may be given for the record. `delivered_on` may not be before
/// `sent_on` or `postmarked_on`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PartnerFields)]
pub struct PartnerRequest {
    pub institution: InstitutionRequest,
    #[schema(value_type = schemas::PartnerChannel)]
    pub channel: String,
    /// The day the card was sent by e-mail (counts for `email`).
    #[serde(default)]
    #[schema(format = Date)]
    pub sent_on: Option<String>,
    /// The postmark's day (counts for `post`).
    #[serde(default)]
    #[schema(format = Date)]
    pub postmarked_on: Option<String>,
    /// The day the card was delivered (counts for `in_person`).
    #[serde(default)]
    #[schema(format = Date)]
    pub delivered_on: Option<String>,
}

/// The schema of [`PartnerRequest`]: its fields, and the rule no single field can state,
/// that the channel's counting date is present and not null (one branch of a `oneOf` per
/// channel, each requiring its date), so that a client or a fuzzer reading the document
/// knows which date to send.
pub struct PartnerRequestSchema;

impl PartialSchema for PartnerRequestSchema {
    fn schema() -> RefOr<Schema> {
        let by_channel = [Channel::Email, Channel::Post, Channel::InPerson].map(|c| {
            ObjectBuilder::new()
                .property(
                    "channel",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([c.as_str()])),
                )
                .required("channel")
                .property(
                    c.counting_field(),
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
                )
                .required(c.counting_field())
                .description(Some(format!(
                    "Channel `{}`: `{}` is required.",
                    c.as_str(),
                    c.counting_field()
                )))
        });
        AllOfBuilder::new()
            .item(<PartnerRequest as PartialSchema>::schema())
            .item(
                by_channel
                    .into_iter()
                    .fold(OneOfBuilder::new(), OneOfBuilder::item),
            )
            .into()
    }
}

impl ToSchema for PartnerRequestSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "PartnerRequest".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <PartnerRequest as ToSchema>::schemas(schemas);
    }
}

/// An institution joining as a partner, with its application card.
#[derive(Debug)]
pub struct JoiningPartner {
    pub institution: Institution,
    pub card: ApplicationCard,
}

impl TryFrom<PartnerRequest> for JoiningPartner {
    type Error = Invalid;

    fn try_from(body: PartnerRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let institution = body.institution.check(&mut f, "institution");
        let channel = f.check("channel", Channel::parse(&body.channel));
        let sent_on = opt_date(&mut f, "sent_on", &body.sent_on);
        let postmarked_on = opt_date(&mut f, "postmarked_on", &body.postmarked_on);
        let delivered_on = opt_date(&mut f, "delivered_on", &body.delivered_on);
        // The date that counts for the channel is what the deadline is checked against, so
        // it is required; the others may be given for the record.
        if let Some(c) = channel {
            let given = match c {
                Channel::Email => &body.sent_on,
                Channel::Post => &body.postmarked_on,
                Channel::InPerson => &body.delivered_on,
            };
            if given.as_deref().is_none_or(|s| s.trim().is_empty()) {
                f.fail(
                    c.counting_field(),
                    "date_required",
                    format!(
                        "is required for channel {}: it is the date that counts",
                        c.as_str()
                    ),
                );
            }
        }
        f.finish_with(|| {
            Some(JoiningPartner {
                institution: institution?,
                card: ApplicationCard {
                    channel: channel?,
                    sent_on,
                    postmarked_on,
                    delivered_on,
                },
            })
        })
    }
}

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/activities`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityRequest {
    #[schema(value_type = schemas::ActivityKind)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    /// When it is planned, at the precision known: a `PlannedDate`
    /// (`{"day": "2020-02-07"}`, `{"month": "2020-09", "part": "late"}`, …) or Polish text
    /// such as `"Koniec września 2020"`.
    #[schema(value_type = schemas::PlannedDateOrText)]
    pub planned: Value,
    /// Where (blank is none).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub location: Option<String>,
    /// Who organizes it with the organizer (blank is none).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub co_organizer: Option<String>,
}

/// An activity to plan, without its id.
#[derive(Debug)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub title: NonEmptyText,
    pub planned: PlannedDate,
    pub location: Option<String>,
    pub co_organizer: Option<String>,
}

impl TryFrom<ActivityRequest> for NewActivity {
    type Error = Invalid;

    fn try_from(body: ActivityRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let kind = f.check("kind", ActivityKind::parse(&body.kind));
        let title = f.check("title", NonEmptyText::parse(&body.title));
        let planned = planned_field(&mut f, "planned", &body.planned);
        let location = f.optional_text("location", &body.location, 500);
        let co_organizer = f.optional_text("co_organizer", &body.co_organizer, 500);
        f.finish_with(|| {
            Some(NewActivity {
                kind: kind?,
                title: title?,
                planned: planned?,
                location,
                co_organizer,
            })
        })
    }
}

impl NewActivity {
    /// The activity as planned under `activity_id`.
    pub fn planned_as(self, activity_id: Uuid) -> PlannedActivity {
        PlannedActivity {
            activity_id,
            kind: self.kind,
            title: self.title,
            planned: self.planned,
            location: self.location,
            co_organizer: self.co_organizer,
        }
    }
}

/// Body of `POST .../activities/{activity_id}/held`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HeldRequest {
    /// The first day it took place.
    #[schema(format = Date)]
    pub starts_on: String,
    /// The last day, not before `starts_on`.
    #[schema(format = Date)]
    pub ends_on: String,
    /// How many people took part.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub participants_total: i64,
    /// The institutions that took part (counted once each by NIP in the evaluation).
    #[serde(default)]
    pub institutions: Vec<InstitutionRequest>,
    /// Notes (blank is none).
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
}

/// What is recorded when an activity took place.
#[derive(Debug)]
pub struct Held {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub participants_total: u32,
    pub institutions: Vec<Institution>,
    pub notes: String,
}

impl TryFrom<HeldRequest> for Held {
    type Error = Invalid;

    fn try_from(body: HeldRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let starts_on = f.date("starts_on", &body.starts_on);
        let ends_on = f.date("ends_on", &body.ends_on);
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            if e < s {
                f.fail(
                    "ends_on",
                    "ends_before_start",
                    "must not be before starts_on",
                );
            }
        }
        let participants = match u32::try_from(body.participants_total) {
            Ok(n) if n <= 1_000_000 => Some(n),
            _ => {
                f.fail(
                    "participants_total",
                    "out_of_range",
                    "must be between 0 and 1000000",
                );
                None
            }
        };
        let institutions: Vec<_> = body
            .institutions
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.check(&mut f, &format!("institutions[{i}]")))
            .collect();
        let notes = f
            .optional_text("notes", &body.notes, 5000)
            .unwrap_or_default();
        f.finish_with(|| {
            Some(Held {
                starts_on: starts_on?,
                ends_on: ends_on?,
                participants_total: participants?,
                institutions,
                notes,
            })
        })
    }
}

/// Body of an activity's cancellation.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CancelActivityRequest)]
pub struct ReasonRequest {
    /// Why it was cancelled.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

impl TryFrom<ReasonRequest> for NonEmptyText {
    type Error = Invalid;

    fn try_from(body: ReasonRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = f.check("reason", NonEmptyText::parse(&body.reason));
        f.finish_with(|| reason)
    }
}

/// Body of a rescheduling.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RescheduleRequest {
    /// The new planned date (its JSON form or Polish text).
    #[schema(value_type = schemas::PlannedDateOrText)]
    pub planned: Value,
}

impl TryFrom<RescheduleRequest> for PlannedDate {
    type Error = Invalid;

    fn try_from(body: RescheduleRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let planned = planned_field(&mut f, "planned", &body.planned);
        f.finish_with(|| planned)
    }
}

// ---------------------------------------------------------------------------------------
// Feedback, testing period, consultations
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/feedback`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackRequest {
    #[schema(value_type = schemas::FeedbackChannel)]
    pub channel: String,
    #[schema(format = Date)]
    pub received_on: String,
    /// The opinion, proposal or suggestion.
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub text: String,
    /// A rating from 1 to 5; null or absent when none was given.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// The institution it came from; null or absent when from a person or unknown.
    #[serde(default)]
    pub institution: Option<InstitutionRequest>,
}

/// Feedback to record, without its id.
#[derive(Debug)]
pub struct NewFeedback {
    pub channel: FeedbackChannel,
    pub received_on: NaiveDate,
    pub text: NonEmptyText,
    pub rating: Option<u8>,
    pub institution: Option<Institution>,
}

impl TryFrom<FeedbackRequest> for NewFeedback {
    type Error = Invalid;

    fn try_from(body: FeedbackRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let channel = f.check("channel", FeedbackChannel::parse(&body.channel));
        let received_on = f.date("received_on", &body.received_on);
        let text = f.check("text", NonEmptyText::parse_max(&body.text, 10_000));
        let rating = match body.rating {
            None => None,
            Some(r) if (1..=5).contains(&r) => u8::try_from(r).ok(),
            Some(_) => {
                f.fail(
                    "rating",
                    "rating_out_of_range",
                    "must be between 1 and 5, or null",
                );
                None
            }
        };
        // Some(None): no institution was named, which is fine; None: it was, with errors.
        let institution = match &body.institution {
            None => Some(None),
            Some(r) => r.check(&mut f, "institution").map(Some),
        };
        f.finish_with(|| {
            Some(NewFeedback {
                channel: channel?,
                received_on: received_on?,
                text: text?,
                rating,
                institution: institution?,
            })
        })
    }
}

/// Body of `POST /api/v1/programs/{id}/testing-period`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TestingPeriodRequest {
    /// Last day of testing; the evaluation may be recorded from the next day.
    #[schema(format = Date)]
    pub ends_on: String,
}

impl TryFrom<TestingPeriodRequest> for CooperationProgramCommand {
    type Error = Invalid;

    /// `SetTestingPeriod`: nothing to mint, so the request becomes the command whole.
    fn try_from(body: TestingPeriodRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let ends_on = f.date("ends_on", &body.ends_on);
        f.finish_with(|| Some(CooperationProgramCommand::SetTestingPeriod { ends_on: ends_on? }))
    }
}

/// Body of `POST /api/v1/programs/{id}/consultations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsultationRequest {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub subject: String,
    /// First day comments are accepted.
    #[schema(format = Date)]
    pub opens_on: String,
    /// Last day comments are accepted, not before `opens_on`.
    #[schema(format = Date)]
    pub closes_on: String,
}

/// A consultation to open, without its id.
#[derive(Debug)]
pub struct NewConsultation {
    pub subject: NonEmptyText,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
}

impl TryFrom<ConsultationRequest> for NewConsultation {
    type Error = Invalid;

    fn try_from(body: ConsultationRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let subject = f.check("subject", NonEmptyText::parse(&body.subject));
        let opens_on = f.date("opens_on", &body.opens_on);
        let closes_on = f.date("closes_on", &body.closes_on);
        if let (Some(o), Some(c)) = (opens_on, closes_on) {
            if c < o {
                f.fail(
                    "closes_on",
                    "closes_before_opening",
                    "must not be before opens_on",
                );
            }
        }
        f.finish_with(|| {
            Some(NewConsultation {
                subject: subject?,
                opens_on: opens_on?,
                closes_on: closes_on?,
            })
        })
    }
}

/// Body of a consultation comment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    pub institution: InstitutionRequest,
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub text: String,
    /// The day it was submitted: within the consultation's window, else 409.
    #[schema(format = Date)]
    pub submitted_on: String,
}

/// A comment to submit, without its id.
#[derive(Debug)]
pub struct NewComment {
    pub institution: Institution,
    pub text: NonEmptyText,
    pub submitted_on: NaiveDate,
}

impl TryFrom<CommentRequest> for NewComment {
    type Error = Invalid;

    fn try_from(body: CommentRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let institution = body.institution.check(&mut f, "institution");
        let text = f.check("text", NonEmptyText::parse_max(&body.text, 10_000));
        let submitted_on = f.date("submitted_on", &body.submitted_on);
        f.finish_with(|| {
            Some(NewComment {
                institution: institution?,
                text: text?,
                submitted_on: submitted_on?,
            })
        })
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation and closing
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/evaluation`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluateRequest {
    #[schema(value_type = schemas::Verdict)]
    pub verdict: String,
    #[serde(default)]
    #[schema(max_length = 20_000)]
    pub summary: String,
    /// Values of the indicators measured by hand (`manual`), by code; naming any other
    /// code is 422.
    #[serde(default)]
    #[schema(schema_with = manual_values_schema)]
    pub manual_values: BTreeMap<String, i64>,
    /// Each 1 to 5,000 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 5000, pattern = r"\S")]
    pub recommendations: Vec<String>,
}

/// `manual_values`: indicator codes to values of 0 or more.
fn manual_values_schema() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[a-z0-9_]+$"))
                .min_length(Some(1))
                .max_length(Some(64)),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(0)),
        ))
        .description(Some(
            "Values of the indicators measured by hand (`manual`), by code; naming any other code is 422.",
        ))
}

impl TryFrom<EvaluateRequest> for CooperationProgramCommand {
    type Error = Invalid;

    /// `Evaluate`: the command has no id to mint, so the request becomes it whole.
    fn try_from(body: EvaluateRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let verdict = f.check("verdict", Verdict::parse(&body.verdict));
        if body.summary.chars().count() > 20_000 {
            f.too_long("summary", 20_000, "must be at most 20000 characters");
        }
        let mut manual_values = BTreeMap::new();
        for (code, value) in &body.manual_values {
            let field = format!("manual_values.{code}");
            let code = f.check(&field, PreferenceCode::parse(code));
            let value = match u64::try_from(*value) {
                Ok(v) => Some(v),
                Err(_) => {
                    f.fail(&field, "negative_number", "must be 0 or more");
                    None
                }
            };
            if let (Some(c), Some(v)) = (code, value) {
                manual_values.insert(c, v);
            }
        }
        let recommendations: Vec<NonEmptyText> = body
            .recommendations
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                f.check(
                    &format!("recommendations[{i}]"),
                    NonEmptyText::parse_max(r, 5000),
                )
            })
            .collect();
        f.finish_with(|| {
            Some(CooperationProgramCommand::Evaluate {
                verdict: verdict?,
                summary: body.summary.trim().to_owned(),
                manual_values,
                recommendations,
            })
        })
    }
}

/// Optional body of `POST /api/v1/programs/{id}/close`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CloseRequest {
    /// Why it is closed (blank is none).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

impl CloseRequest {
    /// The body as sent: an empty one (or only whitespace) is a close without a reason, as
    /// a form with nothing to say posts it.
    pub fn from_body(body: &[u8]) -> Result<CloseRequest, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(CloseRequest::default())
        } else {
            parse_json(body)
        }
    }
}

impl TryFrom<CloseRequest> for CooperationProgramCommand {
    type Error = Invalid;

    /// `Close`, with the reason when one was given (blank is none).
    fn try_from(body: CloseRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = body
            .reason
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .and_then(|r| f.check("reason", NonEmptyText::parse(r)));
        f.finish()?;
        Ok(CooperationProgramCommand::Close { reason })
    }
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

/// Filters of the programmes list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this organizer's programmes (a token scoped to another organizer gets an empty
    /// list).
    pub organizer: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// Parameters of the evaluation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationParams {
    /// RFC 3339 instant with its offset: the evaluation as it stood then, replayed from the
    /// events recorded at or before it (instead of read from today's read model).
    #[param(format = DateTime, example = "2020-12-31T12:00:00+01:00")]
    pub at: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

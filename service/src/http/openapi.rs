//! The OpenAPI document (`/api/v1/openapi.json`) that regional portals, evaluators' tools
//! and generated clients are written against.
//!
//! Each route describes itself where it is written (its `#[utoipa::path]`: operation id,
//! parameters, request and success bodies); what is the same for every route is added here
//! once, after the routes are collected, so no route can forget it:
//! - every error status a route can answer, described, with its body declared as a problem
//!   document under `application/problem+json` (`Retry-After` on 429 and 503,
//!   `WWW-Authenticate` on 401);
//! - the headers every request may carry (`Idempotency-Key` on POST and PUT,
//!   `X-Correlation-Id`, `Accept-Language`) and those every answer carries (`X-Request-Id`,
//!   `X-Correlation-Id`; `Content-Language` on a problem document);
//! - links from the answer of each create to the operations that take its id
//!   ([`LINKS`]), so a client (or a stateful fuzzer) can follow them;
//! - the bearer scheme, the licence, and the schemas shared across resources.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder,
    Schema, Type,
};
use utoipa::{OpenApi, ToSchema};

use crate::http::problem::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Koordynator API",
        description = "Study visits with recruitment, cooperation programmes and networks of social-economy entities, for the Regional Social Policy Centres of Poland (ROPS), on an append-only event store.\n\nConventions (docs/clients.md): every command answers the global `position` of the last event it wrote, and every read accepts `?min_position=` to read its own writes; a POST or PUT with an `Idempotency-Key` is carried out once; every refusal is an RFC 9457 problem document (`application/problem+json`) whose `errors` name each invalid field.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    components(schemas(
        Problem,
        FieldError,
        PlannedDate,
        Institution,
        InstitutionType,
        MonthPart
    ))
)]
pub struct ApiDoc;

/// The document with everything every route shares added (see the module's doc).
pub fn complete(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            conventions(path, method, op);
        }
    }
    add_links(&mut doc);
    doc
}

fn operations(
    item: &mut utoipa::openapi::path::PathItem,
) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// What every error status means, for every route that can answer it.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "The body or a parameter could not be parsed; `errors` names it.",
        401 => "No bearer token, or not a valid one.",
        403 => "The token's role may not do this.",
        404 => "No such resource, or not visible to this token.",
        409 => "A rule of the domain refuses the command (e.g. recruitment closed, deadline passed, already applied); `detail` says which.",
        413 => "The body is larger than the service accepts.",
        415 => "This content type is not accepted here.",
        422 => "Some fields are invalid; `errors` lists each with what to fix.",
        429 => "Too many requests of this kind from this client; retry after `Retry-After` seconds.",
        500 => "An error on the service's side (never caused by the request); it has been logged.",
        503 => "The database is unavailable, or the read model has not reached `min_position` yet; retry after `Retry-After` seconds.",
        _ => "Refused; the problem document says why.",
    }
}

fn problem_content() -> RefOr<utoipa::openapi::Content> {
    RefOr::T(
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn header(description: &str, schema: Schema) -> RefOr<utoipa::openapi::header::Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(schema))
            .description(Some(description))
            .build(),
    )
}

fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn integer() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .into()
}

/// The statuses every route of this kind can answer beyond what it declares itself.
fn implied_statuses(op: &Operation, method: &HttpMethod, path: &str) -> BTreeSet<u16> {
    let mut statuses = BTreeSet::from([500, 503]);
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query)));
    if op.request_body.is_some() || has_query {
        statuses.insert(400);
    }
    if op.request_body.is_some() {
        statuses.extend([413, 422]);
    }
    if matches!(method, HttpMethod::Post | HttpMethod::Put) {
        // `Idempotency-Key`: malformed 400, still in progress or its answer lost 409, reused
        // with another body 422; a body sent where none is read is still limited (413).
        statuses.extend([400, 409, 413, 422]);
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        statuses.extend([401, 403]);
    }
    if path.contains('{') {
        statuses.insert(404);
    }
    statuses
}

fn conventions(path: &str, method: HttpMethod, op: &mut Operation) {
    // Headers the request may carry.
    let params = op.parameters.get_or_insert_with(Vec::new);
    let named = |params: &[RefOr<utoipa::openapi::path::Parameter>], name: &str| {
        params
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case(name)))
    };
    if matches!(method, HttpMethod::Post | HttpMethod::Put) && !named(params, "Idempotency-Key") {
        params.push(RefOr::T(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "A key of the client's choosing (at most 200 characters): a repeat with the same key and body answers the first answer again and writes nothing.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(200))
                        .pattern(Some("^[ -~]+$")),
                ))
                .build(),
        ));
    }
    if !named(params, "X-Correlation-Id") {
        params.push(RefOr::T(
            ParameterBuilder::new()
                .name("X-Correlation-Id")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Ties together everything one business request caused; recorded with the events and echoed on the answer (one is made when absent).",
                ))
                .schema(Some(string()))
                .build(),
        ));
    }

    if !named(params, "Accept-Language") {
        params.push(RefOr::T(
            ParameterBuilder::new()
                .name("Accept-Language")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The language of a problem document's `title`, `detail` and `errors[].message`: Polish when `pl` is preferred (listed first, or with a higher q-value than `en`), else English. Codes, types and fields are the same in both.",
                ))
                .schema(Some(string()))
                .example(Some(serde_json::json!("pl")))
                .build(),
        ));
    }

    // Every error status the route can answer, as a problem document.
    let implied = implied_statuses(op, &method, path);
    let responses = &mut op.responses.responses;
    for status in implied {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description("").build()));
    }
    for (code, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let status: u16 = code.parse().unwrap_or(0);
        if status >= 400 {
            if response.description.is_empty() {
                response.description = error_description(status).to_owned();
            }
            // A problem document, unless the route answers this status with a body of its
            // own kind (`/health` and `/ready` say what is unavailable in their own JSON).
            let own_body = response.content.values().any(|c| {
                !matches!(c, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
            });
            if !own_body {
                response.content.clear();
                response
                    .content
                    .insert("application/problem+json".to_owned(), problem_content());
                response.headers.insert(
                    "Content-Language".to_owned(),
                    header(
                        "The language of the problem's sentences: `pl` or `en` (see `Accept-Language`).",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["pl", "en"]))
                            .into(),
                    ),
                );
            }
            if matches!(status, 429 | 503) {
                response.headers.insert(
                    "Retry-After".to_owned(),
                    header("Seconds to wait before retrying.", integer()),
                );
            }
            if status == 401 {
                response.headers.insert(
                    "WWW-Authenticate".to_owned(),
                    header("`Bearer`: the scheme the API takes.", string()),
                );
            }
        } else if response.description.is_empty() {
            response.description = match status {
                201 => "Created.",
                204 => "Done; nothing to answer.",
                _ => "The answer.",
            }
            .to_owned();
        }
        if (200..300).contains(&status) && matches!(method, HttpMethod::Post | HttpMethod::Put) {
            response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                header(
                    "`true` when this is the stored answer of an earlier request with the same `Idempotency-Key`.",
                    string(),
                ),
            );
        }
        response.headers.insert(
            "X-Request-Id".to_owned(),
            header("This request's id, as logged.", string()),
        );
        response.headers.insert(
            "X-Correlation-Id".to_owned(),
            header(
                "The request's correlation id (its own, or a new one).",
                string(),
            ),
        );
    }
}

/// A link from an answer to an operation that takes what it names.
pub struct Link {
    /// The operation whose answer links.
    pub from: &'static str,
    /// The status of that answer.
    pub status: &'static str,
    /// The link's name.
    pub name: &'static str,
    /// The operation linked to.
    pub to: &'static str,
    /// The linked operation's parameters (`id` of the visit, programme or network, …) and
    /// the runtime expressions giving them.
    pub parameters: &'static [(&'static str, &'static str)],
}

const fn link(
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> Link {
    Link {
        from,
        status,
        name,
        to,
        parameters,
    }
}

/// From the answer of each create to the operations that take its id.
pub const LINKS: &[Link] = &[
    // A study visit announced: read it, give it terms, load its preference lists.
    link(
        "announce_study_visit",
        "201",
        "GetStudyVisit",
        "get_study_visit",
        &[("id", "$response.body#/id")],
    ),
    link(
        "announce_study_visit",
        "201",
        "ScheduleTerm",
        "schedule_term",
        &[("id", "$response.body#/id")],
    ),
    link(
        "announce_study_visit",
        "201",
        "SetInformationClause",
        "set_information_clause",
        &[("id", "$response.body#/id")],
    ),
    link(
        "announce_study_visit",
        "201",
        "VerifyStudyVisit",
        "verify_study_visit",
        &[("id", "$response.body#/id")],
    ),
    // A term scheduled: open, close, cancel it, fix its dates, apply to it, read its roster.
    link(
        "schedule_term",
        "201",
        "OpenRecruitment",
        "open_recruitment",
        &[
            ("id", "$request.path.id"),
            ("term_id", "$response.body#/term_id"),
        ],
    ),
    link(
        "schedule_term",
        "201",
        "CloseRecruitment",
        "close_recruitment",
        &[
            ("id", "$request.path.id"),
            ("term_id", "$response.body#/term_id"),
        ],
    ),
    link(
        "schedule_term",
        "201",
        "CancelTerm",
        "cancel_term",
        &[
            ("id", "$request.path.id"),
            ("term_id", "$response.body#/term_id"),
        ],
    ),
    link(
        "schedule_term",
        "201",
        "FixTermDates",
        "fix_term_dates",
        &[
            ("id", "$request.path.id"),
            ("term_id", "$response.body#/term_id"),
        ],
    ),
    link(
        "schedule_term",
        "201",
        "SubmitApplication",
        "submit_application",
        &[
            ("id", "$request.path.id"),
            ("term_id", "$response.body#/term_id"),
        ],
    ),
    link(
        "schedule_term",
        "201",
        "GetRoster",
        "get_roster",
        &[
            ("id", "$request.path.id"),
            ("term_id", "$response.body#/term_id"),
        ],
    ),
    // An application submitted: its applicant follows and withdraws it with their key; the
    // coordinator decides about it.
    link(
        "submit_application",
        "201",
        "GetOwnApplication",
        "get_own_application",
        &[
            ("application_id", "$response.body#/application_id"),
            ("X-Applicant-Key", "$response.body#/applicant_key"),
        ],
    ),
    link(
        "submit_application",
        "201",
        "WithdrawOwnApplication",
        "withdraw_own_application",
        &[
            ("application_id", "$response.body#/application_id"),
            ("X-Applicant-Key", "$response.body#/applicant_key"),
        ],
    ),
    link(
        "submit_application",
        "201",
        "WithdrawApplication",
        "withdraw_application",
        &[
            ("id", "$request.path.id"),
            ("application_id", "$response.body#/application_id"),
        ],
    ),
    link(
        "submit_application",
        "201",
        "ReleaseSeat",
        "release_seat",
        &[
            ("id", "$request.path.id"),
            ("application_id", "$response.body#/application_id"),
        ],
    ),
    link(
        "submit_application",
        "201",
        "AllocateSeatByHand",
        "allocate_seat_by_hand",
        &[
            ("id", "$request.path.id"),
            ("application_id", "$response.body#/application_id"),
        ],
    ),
    link(
        "submit_application",
        "201",
        "RecordAttendance",
        "record_attendance",
        &[
            ("id", "$request.path.id"),
            ("application_id", "$response.body#/application_id"),
        ],
    ),
    // A programme created.
    link(
        "create_program",
        "201",
        "GetProgram",
        "get_program",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "JoinPartner",
        "join_partner",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "PlanActivity",
        "plan_activity",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "RecordFeedback",
        "record_feedback",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "SetTestingPeriod",
        "set_testing_period",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "OpenConsultation",
        "open_consultation",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "EvaluateProgram",
        "evaluate_program",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "GetProgramEvaluation",
        "get_program_evaluation",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "ImportProgramSchedule",
        "import_program_schedule",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "CloseProgram",
        "close_program",
        &[("id", "$response.body#/id")],
    ),
    link(
        "create_program",
        "201",
        "VerifyProgram",
        "verify_program",
        &[("id", "$response.body#/id")],
    ),
    link(
        "plan_activity",
        "201",
        "RecordActivityHeld",
        "record_activity_held",
        &[
            ("id", "$request.path.id"),
            ("activity_id", "$response.body#/activity_id"),
        ],
    ),
    link(
        "plan_activity",
        "201",
        "CancelActivity",
        "cancel_activity",
        &[
            ("id", "$request.path.id"),
            ("activity_id", "$response.body#/activity_id"),
        ],
    ),
    link(
        "plan_activity",
        "201",
        "RescheduleActivity",
        "reschedule_activity",
        &[
            ("id", "$request.path.id"),
            ("activity_id", "$response.body#/activity_id"),
        ],
    ),
    link(
        "open_consultation",
        "201",
        "SubmitComment",
        "submit_comment",
        &[
            ("id", "$request.path.id"),
            ("consultation_id", "$response.body#/consultation_id"),
        ],
    ),
    // A network established.
    link(
        "establish_network",
        "201",
        "GetNetworkRegistry",
        "get_network_registry",
        &[("id", "$response.body#/id")],
    ),
    link(
        "establish_network",
        "201",
        "AdoptRegulations",
        "adopt_regulations",
        &[("id", "$response.body#/id")],
    ),
    link(
        "establish_network",
        "201",
        "JoinNetwork",
        "join_network",
        &[("id", "$response.body#/id")],
    ),
    link(
        "establish_network",
        "201",
        "RecordMeeting",
        "record_meeting",
        &[("id", "$response.body#/id")],
    ),
    link(
        "join_network",
        "201",
        "LeaveNetwork",
        "leave_network",
        &[
            ("id", "$request.path.id"),
            ("member_id", "$response.body#/member_id"),
        ],
    ),
    link(
        "join_network",
        "201",
        "ElectOfficer",
        "elect_officer",
        &[("id", "$request.path.id")],
    ),
];

fn add_links(doc: &mut Document) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let _ = path;
        for (_, op) in operations(item) {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            for l in LINKS.iter().filter(|l| l.from == id) {
                let Some(RefOr::T(response)) = op.responses.responses.get_mut(l.status) else {
                    continue;
                };
                let mut link = LinkBuilder::new().operation_id(l.to);
                for (parameter, expression) in l.parameters {
                    link = link.parameter(*parameter, *expression);
                }
                response
                    .links
                    .insert(l.name.to_owned(), RefOr::T(link.build()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Schemas shared across resources. The domain's types stay free of documentation concerns;
// these describe their JSON forms, and fields of those types point here with
// `#[schema(value_type = …)]`.
// ---------------------------------------------------------------------------------------

/// An institution type: `JST` (local government), `JOPS` (social assistance unit), `OWES`
/// (social economy support centre), `PES` (social economy entity) and its kinds `CIS`, `KIS`,
/// `ZAZ`, `WTZ`, `NGO` (eligible wherever `PES` is), or `OTHER`.
#[derive(Serialize, ToSchema)]
#[allow(clippy::upper_case_acronyms, dead_code)]
pub enum InstitutionType {
    JST,
    JOPS,
    OWES,
    PES,
    CIS,
    KIS,
    ZAZ,
    WTZ,
    NGO,
    OTHER,
}

/// An institution as the service records it, identified by its NIP.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Institution {
    /// Its name as given.
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: InstitutionType,
    /// NIP: 10 digits, the last a check digit.
    #[schema(pattern = r"^[0-9]{10}$", example = "9562307984")]
    pub nip: String,
    /// REGON, when given: 9 or 14 digits, the last a check digit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^([0-9]{9}|[0-9]{14})$")]
    pub regon: Option<String>,
}

/// A date at the precision it was planned with: one day, a range of days, the early
/// (1st–10th), mid (11th–20th) or late (21st–end) part of a month, or a whole month.
// Part of a month before the whole month: a generated client that tries the shapes in
// order (without `additionalProperties: false`) would read `{"month", "part"}` as a month.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum PlannedDate {
    Day(PlannedDay),
    Range(PlannedRange),
    PartOfMonth(PlannedPartOfMonth),
    Month(PlannedMonth),
}

/// One day, e.g. `{"day": "2020-02-07"}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PlannedDay {
    pub day: NaiveDate,
}

/// A range of days, e.g. `{"from": "2020-05-07", "to": "2020-05-08"}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PlannedRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A whole month, e.g. `{"month": "2020-02"}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PlannedMonth {
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2020-02")]
    pub month: String,
}

/// Part of a month, e.g. `{"month": "2020-09", "part": "late"}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PlannedPartOfMonth {
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2020-09")]
    pub month: String,
    pub part: MonthPart,
}

/// The part of a month a date was planned for.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum MonthPart {
    Early,
    Mid,
    Late,
}

/// Where an application stands: `submitted` (recorded, its term not closed yet),
/// `allocated` (holds a seat), `waitlisted`, `passed_over` (the institution cap; still
/// waiting, behind the waiting list), `withdrawn`, `released` (its seat given back by a
/// coordinator), or `offered` (a freed seat is offered to it until `offer_expires_at`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ApplicationStatus {
    Submitted,
    Allocated,
    Waitlisted,
    PassedOver,
    Withdrawn,
    Released,
    Offered,
}

/// Where a term stands: `planned` (only a planned date; cannot open yet), `scheduled`
/// (dated, recruitment not open yet), `open`, `closed` (recruitment closed and allocated),
/// or `cancelled`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum TermStatus {
    Planned,
    Scheduled,
    Open,
    Closed,
    Cancelled,
}

/// The aggregate types of the event store.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub enum AggregateType {
    StudyVisit,
    CooperationProgram,
    Network,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_names_operations_that_exist() {
        let doc = crate::http::openapi();
        let ids: BTreeSet<String> = doc
            .paths
            .paths
            .values()
            .flat_map(|item| {
                [&item.get, &item.post, &item.put, &item.delete, &item.patch]
                    .into_iter()
                    .flatten()
                    .filter_map(|op| op.operation_id.clone())
            })
            .collect();
        for l in LINKS {
            assert!(
                ids.contains(l.from),
                "link {}: no operation {}",
                l.name,
                l.from
            );
            assert!(ids.contains(l.to), "link {}: no operation {}", l.name, l.to);
        }
    }

    /// A mirror's variants, as JSON, are exactly the domain type's serialized names: the
    /// exhaustive `match` fails to compile when the domain gains a variant, the comparison
    /// fails when a spelling drifts.
    fn same_json<D: Serialize, M: Serialize>(pairs: &[(D, M)]) {
        for (d, m) in pairs {
            assert_eq!(
                serde_json::to_value(d).expect("domain value"),
                serde_json::to_value(m).expect("mirror value")
            );
        }
    }

    #[test]
    fn status_mirrors_spell_what_the_domain_serializes() {
        use domain::study_visit::{ApplicationStatus as A, TermStatus as T};
        let application = |s: A| match s {
            A::Submitted => ApplicationStatus::Submitted,
            A::Allocated => ApplicationStatus::Allocated,
            A::Waitlisted => ApplicationStatus::Waitlisted,
            A::PassedOver => ApplicationStatus::PassedOver,
            A::Withdrawn => ApplicationStatus::Withdrawn,
            A::Released => ApplicationStatus::Released,
            A::Offered => ApplicationStatus::Offered,
        };
        same_json(
            &[
                A::Submitted,
                A::Allocated,
                A::Waitlisted,
                A::PassedOver,
                A::Withdrawn,
                A::Released,
                A::Offered,
            ]
            .map(|s| (s, application(s))),
        );
        let term = |s: T| match s {
            T::Planned => TermStatus::Planned,
            T::Scheduled => TermStatus::Scheduled,
            T::Open => TermStatus::Open,
            T::Closed => TermStatus::Closed,
            T::Cancelled => TermStatus::Cancelled,
        };
        same_json(
            &[T::Planned, T::Scheduled, T::Open, T::Closed, T::Cancelled].map(|s| (s, term(s))),
        );
        let types = crate::http::history::AGGREGATE_TYPES;
        assert_eq!(
            types.len(),
            3,
            "a new aggregate type needs its AggregateType variant"
        );
        for (t, m) in types.iter().zip([
            AggregateType::StudyVisit,
            AggregateType::CooperationProgram,
            AggregateType::Network,
        ]) {
            assert_eq!(serde_json::to_value(m).expect("mirror"), *t);
        }
    }
}

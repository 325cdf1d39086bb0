//! The roster of a term and its CSV export: one read, live or as of an instant, turned into
//! the API's view (with people for the callers entitled to them).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::study_visit::{ApplicationStatus, Roster, RosterEntry, TermStatus};
use domain::values::{Institution, PreferenceCode};
use infra::personal_data::{self, PersonRecord};
use projections::applications::{self, read::ROSTER_MODELS, Applications};
use projections::study_visits::{self, StudyVisits};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::spreadsheet;
use crate::http::state::AppState;
use crate::http::validate;

/// Parameters of the roster.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterParams {
    /// The roster as it stood at this instant (RFC 3339 with its offset), replayed from the
    /// events recorded up to then; a term that did not exist then is 404.
    #[param(value_type = Option<String>, format = DateTime, example = "2022-06-23T11:00:00+02:00")]
    pub at: Option<String>,
    /// Answer only once the read models have processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// A person as shown to coordinators and admins: their name and e-mail, or
/// `{"erased": true}` once their personal data has been erased.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PersonView {
    /// The person as they gave their data.
    #[schema(title = "KnownPerson")]
    Known {
        first_name: String,
        last_name: String,
        email: String,
    },
    /// Their personal data has been erased (or is not held any more).
    #[schema(title = "ErasedPerson")]
    Erased {
        #[schema(schema_with = always_true)]
        erased: bool,
    },
}

/// `erased`: always `true`.
fn always_true() -> utoipa::openapi::Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Boolean)
        .enum_values(Some([true]))
        .into()
}

/// The rule of the allocation policy (DOMAIN.md) behind a decision: `all_within_seats`
/// (no more candidates than seats), `rank_order` (a seat walking the ranking),
/// `cap_fill` (a capped candidate took a seat left over), `waitlist` (no seat left),
/// `institution_cap` (capped, no seat left over: passed over), `promotion_below_cap` and
/// `promotion_first_in_line` (a freed seat), `manual` (given by hand by a coordinator).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum DecisionRule {
    AllWithinSeats,
    RankOrder,
    CapFill,
    Waitlist,
    InstitutionCap,
    PromotionBelowCap,
    PromotionFirstInLine,
    Manual,
}

/// One line of a roster. Fields without a value are absent, never null.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterEntryView {
    pub application_id: Uuid,
    /// Rank among the term's candidates (1 = first; provisional while the term is open).
    pub rank: u32,
    /// The institution the applicant represents, as recorded.
    #[schema(value_type = crate::http::openapi::Institution)]
    pub institution: Institution,
    /// The codes of the visit's preferences the institution meets.
    #[schema(value_type = Vec<String>)]
    pub preferences_met: Vec<PreferenceCode>,
    /// Why this decision, in words.
    pub basis: String,
    /// The rule that decided it.
    #[schema(value_type = DecisionRule)]
    pub rule: String,
    #[schema(value_type = crate::http::openapi::ApplicationStatus)]
    pub status: ApplicationStatus,
    /// The place on the waiting list (1 = next), for those on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub waitlist_position: Option<u32>,
    /// `institution_cap` for the passed over; the coordinator's reason for a seat given by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
    /// Who gave a seat by hand (an actor id: a token id, never a name).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub decided_by: Option<String>,
    /// Whether the participant attended, once recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub attended: Option<bool>,
    /// The days of the term the participant was present on, once attendance is recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub days_present: Vec<chrono::NaiveDate>,
    /// The days of the term the participant was recorded absent on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub days_absent: Vec<chrono::NaiveDate>,
    /// Until when the seat offered stands (status `offered` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// Only for coordinator and admin tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub person: Option<PersonView>,
}

/// The roster of a term (API.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterView {
    pub visit_id: Uuid,
    pub term_id: Uuid,
    /// Seats on offer.
    pub seats: u32,
    /// Seats not taken (0 when seats given by hand took the term above `seats`).
    pub seats_left: u32,
    #[schema(value_type = crate::http::openapi::TermStatus)]
    pub status: TermStatus,
    /// True while the term is not closed: the ranking a close would record now.
    pub provisional: bool,
    /// Holding a seat, in rank order.
    pub allocated: Vec<RosterEntryView>,
    /// Waiting, in rank order (`waitlist_position` 1, 2, …).
    pub waitlist: Vec<RosterEntryView>,
    /// Passed over because of the institution cap, in rank order; a freed seat looks at
    /// `waitlist` first, then here.
    pub passed_over: Vec<RosterEntryView>,
    /// How many of the term's applications were withdrawn.
    pub withdrawn: u32,
    /// Seats held in this term per institution, keyed by its NIP (10 digits).
    pub per_institution: BTreeMap<String, u32>,
    /// Where the read model stood (or, with `at`, the position of the last event replayed).
    #[schema(minimum = 0)]
    pub position: i64,
    /// The instant asked for, when the roster was replayed as of `at`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub at: Option<DateTime<Utc>>,
}

/// Turns a domain roster into its API form, with people for coordinators.
fn view(
    roster: &Roster,
    people: Option<&HashMap<Uuid, PersonRecord>>,
    position: i64,
    at: Option<DateTime<Utc>>,
) -> RosterView {
    let person = |id: Uuid| {
        people.map(|p| match p.get(&id) {
            Some(r) => PersonView::Known {
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                email: r.email.clone(),
            },
            None => PersonView::Erased { erased: true },
        })
    };
    let entries = |es: &[RosterEntry]| -> Vec<RosterEntryView> {
        es.iter()
            .map(|e| RosterEntryView {
                application_id: e.application_id,
                rank: e.rank,
                institution: e.institution.clone(),
                preferences_met: e.preferences_met.clone(),
                basis: e.basis.clone(),
                rule: e.rule.as_str().to_owned(),
                status: e.status,
                waitlist_position: e.waitlist_position,
                reason: e.reason.clone(),
                decided_by: e.decided_by.clone(),
                attended: e.attended,
                days_present: e.days_present.clone(),
                days_absent: e.days_absent.clone(),
                offer_expires_at: e.offer_expires_at,
                person: person(e.application_id),
            })
            .collect()
    };
    let mut per_institution = BTreeMap::new();
    for e in &roster.allocated {
        *per_institution
            .entry(e.institution.nip.as_str().to_owned())
            .or_insert(0) += 1;
    }
    RosterView {
        visit_id: roster.visit_id,
        term_id: roster.term_id,
        seats: roster.seats,
        seats_left: roster.seats_left(),
        status: roster.status,
        provisional: roster.provisional,
        allocated: entries(&roster.allocated),
        waitlist: entries(&roster.waitlist),
        passed_over: entries(&roster.passed_over),
        withdrawn: roster.withdrawn,
        per_institution,
        position,
        at,
    }
}

/// The roster `params` ask for: live, or as it stood at `params.at`, replayed from the
/// visit's events recorded up to then into copies of the read models and read with the same
/// query. The visit must be one the caller may read now (else 404, whatever `at` says).
async fn build(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    term_id: Uuid,
    params: &RosterParams,
) -> Result<RosterView, ApiError> {
    wait_for(state, ROSTER_MODELS, params.min_position).await?;
    let mut conn = state.reads().acquire().await?;
    match study_visits::read::visit(&mut conn, id).await? {
        Some(v) if auth.can_read(&v.organizer) => {}
        _ => return Err(ApiError::NotFound("No such study visit.".into())),
    }
    let (roster, position, at) = match &params.at {
        Some(at) => {
            drop(conn);
            let at = validate::instant(at).map_err(|e| ApiError::bad_value("at", e))?;
            let events = infra::feed::aggregate_events(
                &state.pool,
                projections::events::STUDY_VISIT,
                &id.to_string(),
                Some(at),
                None,
            )
            .await?;
            let mut replayed =
                projections::replay(&state.pool, &[&StudyVisits, &Applications], events).await?;
            // No term (or no visit yet) in what had been recorded by then.
            let roster = applications::read::roster(replayed.conn(), id, term_id)
                .await?
                .ok_or_else(|| {
                    ApiError::NotFound("The term did not exist at that instant.".into())
                })?;
            (roster, replayed.position, Some(at))
        }
        None => {
            let roster = applications::read::roster(&mut conn, id, term_id)
                .await?
                .ok_or_else(|| ApiError::NotFound("No such term.".into()))?;
            drop(conn);
            let position = consistency::position(state, applications::read::MODEL).await?;
            (roster, position, None)
        }
    };
    let people = if auth.sees_personal_data() {
        let ids: Vec<Uuid> = roster
            .allocated
            .iter()
            .chain(&roster.waitlist)
            .chain(&roster.passed_over)
            .map(|e| e.application_id)
            .collect();
        Some(personal_data::people(&state.pool, &ids).await?)
    } else {
        None
    };
    Ok(view(&roster, people.as_ref(), position, at))
}

/// The roster of a term (provisional while open).
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster", operation_id = "get_roster", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, body = RosterView, description = "The roster: allocated, waiting list and passed over, each in rank order, with the basis of every decision; entries carry `person` for coordinator and admin tokens."),
        (status = 400, description = "`at` is not an RFC 3339 instant, or `min_position` is negative."),
        (status = 404, description = "No such visit (or another organizer's), no such term, or the term did not exist yet at `at`.")))]
pub(super) async fn roster(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<RosterParams>,
) -> Result<Json<RosterView>, ApiError> {
    Ok(Json(build(&state, &auth, id, term_id, &params).await?))
}

/// The roster as CSV for spreadsheet programs (UTF-8 with a BOM, `;`-separated, formulas
/// neutralised), one line per entry, lists in order.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster.csv", operation_id = "get_roster_csv", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, content_type = "text/csv", body = String,
            description = "The roster as CSV (UTF-8 with a BOM, `;`-separated, header row): `list;rank;waitlist_position;application_id;institution_name;institution_type;nip;preferences_met;rule;basis;reason;attended;days_present` (days as `YYYY-MM-DD`, space-separated), then `first_name;last_name;email` for coordinator and admin tokens.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"roster-{term_id}.csv\"`"))),
        (status = 400, description = "`at` is not an RFC 3339 instant, or `min_position` is negative."),
        (status = 404, description = "No such visit (or another organizer's), no such term, or the term did not exist yet at `at`.")))]
pub(super) async fn roster_csv(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<RosterParams>,
) -> Result<Response, ApiError> {
    let r = build(&state, &auth, id, term_id, &params).await?;
    let (header, rows) = table(&r, auth.sees_personal_data());
    let mut w = spreadsheet::writer();
    spreadsheet::write(&mut w, &header)?;
    for row in &rows {
        spreadsheet::write(
            &mut w,
            row.iter().map(|c| spreadsheet::text(c).into_owned()),
        )?;
    }
    spreadsheet::download(w, &format!("roster-{term_id}.csv"))
}

/// The roster as an XLSX workbook: the same columns as the CSV, each cell text.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster.xlsx", operation_id = "get_roster_xlsx", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>,
            description = "The roster as one XLSX sheet with the columns of `roster.csv`, the header row frozen.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"roster-{term_id}.xlsx\"`"))),
        (status = 400, description = "`at` is not an RFC 3339 instant, or `min_position` is negative."),
        (status = 404, description = "No such visit (or another organizer's), no such term, or the term did not exist yet at `at`.")))]
pub(super) async fn roster_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<RosterParams>,
) -> Result<Response, ApiError> {
    let r = build(&state, &auth, id, term_id, &params).await?;
    let (header, rows) = table(&r, auth.sees_personal_data());
    spreadsheet::xlsx(&header, &rows, &format!("roster-{term_id}.xlsx"))
}

/// The roster's downloads as one table: the header and a row per entry, lists in order;
/// names and e-mail only for those who see personal data.
fn table(r: &RosterView, personal: bool) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let mut header = vec![
        "list",
        "rank",
        "waitlist_position",
        "application_id",
        "institution_name",
        "institution_type",
        "nip",
        "preferences_met",
        "rule",
        "basis",
        "reason",
        "attended",
        "days_present",
    ];
    if personal {
        header.extend(["first_name", "last_name", "email"]);
    }
    let mut rows = Vec::new();
    for (list, entries) in [
        ("allocated", &r.allocated),
        ("waitlist", &r.waitlist),
        ("passed_over", &r.passed_over),
    ] {
        for e in entries {
            let mut rec = vec![
                list.to_owned(),
                e.rank.to_string(),
                e.waitlist_position
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                e.application_id.to_string(),
                e.institution.name.as_str().to_owned(),
                e.institution.kind.as_str().to_owned(),
                e.institution.nip.as_str().to_owned(),
                e.preferences_met
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                e.rule.clone(),
                e.basis.clone(),
                e.reason.clone().unwrap_or_default(),
                e.attended.map(|a| a.to_string()).unwrap_or_default(),
                e.days_present
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ];
            if personal {
                match &e.person {
                    Some(PersonView::Known {
                        first_name,
                        last_name,
                        email,
                    }) => rec.extend([first_name.clone(), last_name.clone(), email.clone()]),
                    _ => rec.extend(["(erased)".to_owned(), String::new(), String::new()]),
                }
            }
            rows.push(rec);
        }
    }
    (header, rows)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use domain::study_visit::{ApplicationStatus, BasisRule, Roster, RosterEntry, TermStatus};
    use domain::values::{Institution, InstitutionType, Nip, NonEmptyText, PreferenceCode, Regon};
    use infra::personal_data::PersonRecord;
    use uuid::Uuid;

    use super::{view, DecisionRule};

    const RULES: [BasisRule; 8] = [
        BasisRule::AllWithinSeats,
        BasisRule::RankOrder,
        BasisRule::CapFill,
        BasisRule::Waitlist,
        BasisRule::InstitutionCap,
        BasisRule::PromotionBelowCap,
        BasisRule::PromotionFirstInLine,
        BasisRule::Manual,
    ];

    #[test]
    fn every_rule_is_spelled_as_the_roster_sends_it() {
        let mirror = |r: BasisRule| match r {
            BasisRule::AllWithinSeats => DecisionRule::AllWithinSeats,
            BasisRule::RankOrder => DecisionRule::RankOrder,
            BasisRule::CapFill => DecisionRule::CapFill,
            BasisRule::Waitlist => DecisionRule::Waitlist,
            BasisRule::InstitutionCap => DecisionRule::InstitutionCap,
            BasisRule::PromotionBelowCap => DecisionRule::PromotionBelowCap,
            BasisRule::PromotionFirstInLine => DecisionRule::PromotionFirstInLine,
            BasisRule::Manual => DecisionRule::Manual,
        };
        for r in RULES {
            assert_eq!(
                serde_json::to_value(mirror(r)).expect("mirror"),
                serde_json::Value::from(r.as_str())
            );
        }
    }

    fn entry(rank: u32, rule: BasisRule, status: ApplicationStatus, seed: u32) -> RosterEntry {
        RosterEntry {
            application_id: Uuid::now_v7(),
            subject_id: Uuid::now_v7(),
            rank,
            institution: Institution {
                name: NonEmptyText::parse("Gmina Testowo").expect("name"),
                kind: InstitutionType::JST,
                nip: Nip::completing(100_000_000 + seed).expect("nip"),
                regon: seed
                    .is_multiple_of(2)
                    .then(|| Regon::parse("123456785").expect("regon")),
            },
            preferences_met: vec![PreferenceCode::parse("cus_declared").expect("code")],
            basis: "rank 1: 1 preference met (cus_declared); seat in rank order".into(),
            rule,
            reason: (rule == BasisRule::InstitutionCap).then(|| "institution_cap".into()),
            decided_by: (rule == BasisRule::Manual).then(|| "token:01".into()),
            waitlist_position: (status == ApplicationStatus::Waitlisted).then_some(1),
            attended: (status == ApplicationStatus::Allocated).then_some(true),
            days_present: Vec::new(),
            days_absent: Vec::new(),
            status,
            offer_expires_at: None,
        }
    }

    #[test]
    fn a_roster_serializes_as_described() {
        let allocated = entry(1, BasisRule::RankOrder, ApplicationStatus::Allocated, 1);
        let manual = entry(0, BasisRule::Manual, ApplicationStatus::Allocated, 2);
        let roster = Roster {
            visit_id: Uuid::now_v7(),
            term_id: Uuid::now_v7(),
            seats: 1,
            status: TermStatus::Closed,
            provisional: false,
            allocated: vec![allocated.clone(), manual],
            waitlist: vec![entry(
                2,
                BasisRule::Waitlist,
                ApplicationStatus::Waitlisted,
                3,
            )],
            passed_over: vec![entry(
                3,
                BasisRule::InstitutionCap,
                ApplicationStatus::PassedOver,
                4,
            )],
            withdrawn: 1,
        };
        // One person known, the others erased; and no people at all for an evaluator.
        let people = HashMap::from([(
            allocated.application_id,
            PersonRecord {
                first_name: "Zofia".into(),
                last_name: "Wiśniewska".into(),
                email: "zofia@gmina-testowo.pl".into(),
                phone: None,
                job_title: None,
            },
        )]);
        for (people, at) in [(Some(&people), None), (None, Some(chrono::Utc::now()))] {
            let v = serde_json::to_value(view(&roster, people, 42, at)).expect("json");
            ::tests::contract::check_schema("RosterView", &v).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

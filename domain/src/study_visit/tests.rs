//! Command rules of the study visit, driven through `handle` as the framework does.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use uuid::Uuid;

use super::*;
use crate::error::ErrorKind;
use crate::services::{Clock, FixedClock};
use crate::values::{Institution, InstitutionType, NonEmptyText};

pub(crate) fn nip(n: u32) -> Nip {
    let weights = [6, 5, 7, 2, 3, 4, 5, 6, 7];
    let mut base = n;
    loop {
        let s = format!("{:09}", base % 1_000_000_000);
        let sum: u32 = s
            .chars()
            .filter_map(|c| c.to_digit(10))
            .zip(weights)
            .map(|(d, w)| d * w)
            .sum();
        if sum % 11 != 10 {
            return Nip::parse(&format!("{s}{}", sum % 11)).expect("valid nip");
        }
        base += 1_000_000;
    }
}

fn text(s: &str) -> NonEmptyText {
    NonEmptyText::parse(s).expect("text")
}

fn code(s: &str) -> PreferenceCode {
    PreferenceCode::parse(s).expect("code")
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("instant")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

const VISIT: Uuid = Uuid::from_u128(0x0015_1700);
const T1: Uuid = Uuid::from_u128(0x71);
const T2: Uuid = Uuid::from_u128(0x72);
const T3: Uuid = Uuid::from_u128(0x73);

fn app_id(n: u128) -> Uuid {
    Uuid::from_u128(0xA000 + n)
}

fn subject(n: u128) -> Uuid {
    Uuid::from_u128(0x5000 + n)
}

fn inst(n: u32, kind: InstitutionType) -> Institution {
    Institution {
        name: text(&format!("Instytucja {n}")),
        kind,
        nip: nip(n),
        regon: None,
    }
}

/// Term 1: 27–28 June 2022, deadline 23 June 11:00 Warsaw (09:00 UTC).
fn term1_dates() -> TermDates {
    TermDates {
        starts_on: day(2022, 6, 27),
        ends_on: day(2022, 6, 28),
        recruitment_deadline: utc(2022, 6, 23, 9, 0),
    }
}

/// Term 2: 29–30 June 2022, deadline 24 June 11:00 Warsaw.
fn term2_dates() -> TermDates {
    TermDates {
        starts_on: day(2022, 6, 29),
        ends_on: day(2022, 6, 30),
        recruitment_deadline: utc(2022, 6, 24, 9, 0),
    }
}

fn announce(max: Option<u32>) -> StudyVisitCommand {
    StudyVisitCommand::Announce {
        visit_id: VISIT,
        organizer: OrganizerId::parse("rops-torun").expect("slug"),
        title: text("Wizyta studyjna"),
        destination: text("Ełk"),
        description: "Free visit".to_owned(),
        eligible_institution_types: vec![
            InstitutionType::JST,
            InstitutionType::JOPS,
            InstitutionType::PES,
            InstitutionType::OWES,
        ],
        max_per_institution: max,
        preferences: vec![
            Preference {
                code: code("cus_declared"),
                label: text("Declared a CUS"),
                kind: PreferenceKind::Listed,
            },
            Preference {
                code: code("new_to_project"),
                label: text("Not in the earlier project"),
                kind: PreferenceKind::NotListed,
            },
        ],
        funding: Some(Funding {
            project: "Project".to_owned(),
            ..Funding::default()
        }),
    }
}

struct Harness {
    visit: StudyVisit,
    clock: Arc<FixedClock>,
    services: StudyVisitServices,
    events: Vec<StudyVisitEvent>,
}

impl Harness {
    fn new() -> Self {
        let clock = Arc::new(FixedClock::new(utc(2022, 6, 1, 8, 0)));
        Self {
            visit: StudyVisit::default(),
            services: StudyVisitServices::new(clock.clone()),
            clock,
            events: Vec::new(),
        }
    }

    async fn exec(&mut self, cmd: StudyVisitCommand) -> Result<Vec<StudyVisitEvent>, DomainError> {
        let before = self.visit.clone();
        let sink = EventSink::default();
        let result = self.visit.handle(cmd, &self.services, &sink).await;
        let events = sink.collect().await;
        match result {
            Ok(()) => {
                self.events.extend(events.clone());
                Ok(events)
            }
            Err(e) => {
                assert!(events.is_empty(), "a refused command wrote events");
                assert_eq!(self.visit, before, "a refused command changed the state");
                Err(e)
            }
        }
    }

    async fn ok(&mut self, cmd: StudyVisitCommand) -> Vec<StudyVisitEvent> {
        let name = cmd.name();
        match self.exec(cmd).await {
            Ok(ev) => ev,
            Err(e) => panic!("{name} refused: {e:?}"),
        }
    }

    async fn err(&mut self, cmd: StudyVisitCommand) -> DomainError {
        let name = cmd.name();
        match self.exec(cmd).await {
            Ok(ev) => panic!("{name} accepted: {ev:?}"),
            Err(e) => e,
        }
    }

    /// Announced visit with terms 1 and 2 open (clock at 1 June 2022).
    async fn with_open_terms(max: Option<u32>) -> Self {
        let mut h = Self::new();
        h.ok(announce(max)).await;
        for (term_id, label, dates) in [
            (T1, "I termin", term1_dates()),
            (T2, "II termin", term2_dates()),
        ] {
            h.ok(StudyVisitCommand::ScheduleTerm {
                term_id,
                label: text(label),
                seats: 25,
                schedule: TermSchedule::Dated(dates),
            })
            .await;
            h.ok(StudyVisitCommand::OpenRecruitment { term_id }).await;
        }
        h
    }

    async fn with_term(seats: u32, max: Option<u32>) -> Self {
        let mut h = Self::new();
        h.ok(announce(max)).await;
        h.schedule_open(T1, seats, term1_dates()).await;
        h
    }

    async fn schedule_open(&mut self, term_id: Uuid, seats: u32, dates: TermDates) {
        self.ok(StudyVisitCommand::ScheduleTerm {
            term_id,
            label: text("termin"),
            seats,
            schedule: TermSchedule::Dated(dates),
        })
        .await;
        self.ok(StudyVisitCommand::OpenRecruitment { term_id })
            .await;
    }

    async fn submit(
        &mut self,
        n: u128,
        term_id: Uuid,
        inst_no: u32,
    ) -> Result<Vec<StudyVisitEvent>, DomainError> {
        self.exec(submit_cmd(n, term_id, inst(inst_no, InstitutionType::JST)))
            .await
    }

    async fn close(&mut self, term_id: Uuid) -> Vec<StudyVisitEvent> {
        self.ok(StudyVisitCommand::CloseRecruitment {
            term_id,
            trigger: CloseTrigger::Manual,
        })
        .await
    }

    fn status(&self, n: u128) -> ApplicationStatus {
        self.visit
            .application(app_id(n))
            .expect("application")
            .status
    }
}

/// The acceptance a form of today's service records.
fn consent() -> ConsentRecord {
    ConsentRecord {
        information_clause: NonEmptyText::parse("2026-01").expect("clause id"),
        legal_basis: LegalBasis::Consent,
    }
}

fn submit_cmd(n: u128, term_id: Uuid, institution: Institution) -> StudyVisitCommand {
    StudyVisitCommand::SubmitApplication {
        application_id: app_id(n),
        term_id,
        subject_id: subject(n),
        institution,
        consent: Some(consent()),
    }
}

/// (event name, application number) pairs for decision events.
fn decisions(events: &[StudyVisitEvent]) -> Vec<(&'static str, u128, BasisRule)> {
    events
        .iter()
        .filter_map(|e| match e {
            StudyVisitEvent::SeatAllocated {
                application_id,
                basis,
                ..
            }
            | StudyVisitEvent::ApplicantWaitlisted {
                application_id,
                basis,
                ..
            }
            | StudyVisitEvent::ApplicationPassedOver {
                application_id,
                basis,
                ..
            } => Some((e.name(), application_id.as_u128() - 0xA000, basis.rule)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- announce

#[tokio::test]
async fn announce_with_test_framework() {
    let clock = Arc::new(FixedClock::new(utc(2022, 6, 1, 8, 0)));
    let services = StudyVisitServices::new(clock);
    let events = TestFramework::<StudyVisit>::with(services.clone())
        .given_no_previous_events()
        .when_async(announce(Some(2)))
        .await
        .inspect_result()
        .expect("announced");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "VisitAnnounced");
    TestFramework::<StudyVisit>::with(services)
        .given(events)
        .when_async(announce(Some(2)))
        .await
        .then_expect_error_message("This study visit has already been announced.");
}

#[tokio::test]
async fn announce_rules() {
    let mut h = Harness::new();
    let mut cmd = announce(Some(0));
    assert_eq!(
        h.err(cmd.clone()).await.field.as_deref(),
        Some("max_per_institution")
    );
    if let StudyVisitCommand::Announce {
        max_per_institution,
        eligible_institution_types,
        ..
    } = &mut cmd
    {
        *max_per_institution = Some(2);
        eligible_institution_types.clear();
    }
    let e = h.err(cmd).await;
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::Invalid, Some("eligible_institution_types"))
    );
    let mut dup = announce(None);
    if let StudyVisitCommand::Announce { preferences, .. } = &mut dup {
        let first = preferences[0].clone();
        preferences.push(first);
    }
    assert_eq!(h.err(dup).await.code, "duplicate");
    h.ok(announce(None)).await;
    assert_eq!(h.visit.organizer().map(|o| o.as_str()), Some("rops-torun"));
    assert_eq!(h.visit.visit_id(), Some(VISIT));
    assert_eq!(h.visit.max_per_institution(), None);
    assert_eq!(h.visit.preferences().len(), 2);
    let e = h.err(announce(None)).await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "already_announced"));
}

#[tokio::test]
async fn commands_on_an_unknown_visit_are_not_found() {
    let mut h = Harness::new();
    let e = h
        .err(StudyVisitCommand::OpenRecruitment { term_id: T1 })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::NotFound, "visit_not_found"));
    h.ok(announce(None)).await;
    let e = h
        .err(StudyVisitCommand::OpenRecruitment { term_id: T1 })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::NotFound, "term_not_found"));
    let e = h
        .err(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(1),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::NotFound, "application_not_found")
    );
}

// ---------------------------------------------------------------- preferences

#[tokio::test]
async fn preference_lists_replace_dedupe_and_freeze() {
    let mut h = Harness::with_term(1, None).await;
    let e = h
        .err(StudyVisitCommand::ReplacePreferenceList {
            code: code("unknown"),
            nips: vec![],
        })
        .await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::NotFound, "preference_not_found")
    );
    let ev = h
        .ok(StudyVisitCommand::ReplacePreferenceList {
            code: code("cus_declared"),
            nips: vec![nip(1), nip(2), nip(1)],
        })
        .await;
    assert_eq!(
        ev,
        vec![StudyVisitEvent::PreferenceListReplaced {
            code: code("cus_declared"),
            nips: vec![nip(1), nip(2)]
        }]
    );
    assert_eq!(
        h.visit
            .preference_list(&code("cus_declared"))
            .map(|l| l.len()),
        Some(2)
    );
    h.close(T1).await;
    let e = h
        .err(StudyVisitCommand::ReplacePreferenceList {
            code: code("cus_declared"),
            nips: vec![],
        })
        .await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "preferences_frozen")
    );
}

#[tokio::test]
async fn preferences_decide_rank_then_submission_order() {
    let mut h = Harness::with_term(2, None).await;
    // Institution 1 declared a CUS; institution 2 was in the earlier project.
    h.ok(StudyVisitCommand::ReplacePreferenceList {
        code: code("cus_declared"),
        nips: vec![nip(1)],
    })
    .await;
    h.ok(StudyVisitCommand::ReplacePreferenceList {
        code: code("new_to_project"),
        nips: vec![nip(2)],
    })
    .await;
    h.submit(1, T1, 2).await.expect("0 preferences");
    h.submit(2, T1, 3).await.expect("1 preference");
    h.submit(3, T1, 1).await.expect("2 preferences");
    h.submit(4, T1, 4).await.expect("1 preference, later");
    let roster = h.visit.roster(T1).expect("roster");
    assert!(roster.provisional);
    let order: Vec<u128> = roster
        .allocated
        .iter()
        .chain(&roster.waitlist)
        .map(|e| e.application_id.as_u128() - 0xA000)
        .collect();
    assert_eq!(order, vec![3, 2, 4, 1]);
    assert_eq!(
        roster.allocated[0].preferences_met,
        vec![code("cus_declared"), code("new_to_project")]
    );
    assert_eq!(
        roster.allocated[0].basis,
        "rank 1: 2 preferences met (cus_declared, new_to_project); seat in rank order; institution held 0 (no cap)"
    );
    let ev = h.close(T1).await;
    assert_eq!(
        decisions(&ev),
        vec![
            ("SeatAllocated", 3, BasisRule::RankOrder),
            ("SeatAllocated", 2, BasisRule::RankOrder),
            ("ApplicantWaitlisted", 4, BasisRule::Waitlist),
            ("ApplicantWaitlisted", 1, BasisRule::Waitlist),
        ]
    );
}

// ---------------------------------------------------------------- terms

#[tokio::test]
async fn schedule_term_rules() {
    let mut h = Harness::new();
    h.ok(announce(None)).await;
    let sched = |seats, dates| StudyVisitCommand::ScheduleTerm {
        term_id: T1,
        label: text("I termin"),
        seats,
        schedule: TermSchedule::Dated(dates),
    };
    assert_eq!(
        h.err(sched(0, term1_dates())).await.field.as_deref(),
        Some("seats")
    );
    let mut reversed = term1_dates();
    reversed.ends_on = day(2022, 6, 26);
    let e = h.err(sched(25, reversed)).await;
    assert_eq!(
        (e.kind, e.code, e.field.as_deref()),
        (ErrorKind::Invalid, "ends_before_start", Some("ends_on"))
    );
    let mut late = term1_dates();
    late.recruitment_deadline = utc(2022, 6, 28, 22, 1); // 29 June 00:01 in Warsaw
    assert_eq!(h.err(sched(25, late)).await.code, "deadline_after_term");
    let mut last_minute = term1_dates();
    last_minute.recruitment_deadline = utc(2022, 6, 28, 22, 0); // midnight ending 28 June
    h.ok(sched(25, last_minute)).await;
    let e = h.err(sched(25, term1_dates())).await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "duplicate_term"));
    assert_eq!(
        h.visit.term(T1).map(|t| t.status),
        Some(TermStatus::Scheduled)
    );
}

#[tokio::test]
async fn planned_term_needs_dates_before_opening() {
    let mut h = Harness::new();
    h.ok(announce(None)).await;
    let mid_july: crate::values::PlannedDate =
        serde_json::from_str(r#"{"month":"2022-07","part":"mid"}"#).expect("planned");
    h.ok(StudyVisitCommand::ScheduleTerm {
        term_id: T3,
        label: text("III termin"),
        seats: 25,
        schedule: TermSchedule::Planned(mid_july),
    })
    .await;
    assert_eq!(
        h.visit.term(T3).map(|t| t.status),
        Some(TermStatus::Planned)
    );
    assert_eq!(h.visit.term(T3).map(|t| t.when()), Some(mid_july));
    let e = h
        .err(StudyVisitCommand::OpenRecruitment { term_id: T3 })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "dates_not_fixed"));
    let dates = TermDates {
        starts_on: day(2022, 7, 14),
        ends_on: day(2022, 7, 15),
        recruitment_deadline: utc(2022, 7, 8, 9, 0),
    };
    let mut bad = dates;
    bad.ends_on = day(2022, 7, 13);
    assert_eq!(
        h.err(StudyVisitCommand::FixTermDates {
            term_id: T3,
            dates: bad
        })
        .await
        .kind,
        ErrorKind::Invalid
    );
    h.ok(StudyVisitCommand::FixTermDates { term_id: T3, dates })
        .await;
    assert_eq!(
        h.visit.term(T3).map(|t| t.status),
        Some(TermStatus::Scheduled)
    );
    // Still editable while scheduled.
    h.ok(StudyVisitCommand::FixTermDates { term_id: T3, dates })
        .await;
    h.ok(StudyVisitCommand::OpenRecruitment { term_id: T3 })
        .await;
    let e = h
        .err(StudyVisitCommand::FixTermDates { term_id: T3, dates })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "term_not_editable"));
    let e = h
        .err(StudyVisitCommand::OpenRecruitment { term_id: T3 })
        .await;
    assert_eq!(e.code, "recruitment_already_open");
    let e = h
        .err(StudyVisitCommand::FixTermDates { term_id: T1, dates })
        .await;
    assert_eq!(e.code, "term_not_found");
}

#[tokio::test]
async fn open_refused_after_deadline_and_when_closed_or_cancelled() {
    let mut h = Harness::new();
    h.ok(announce(None)).await;
    h.ok(StudyVisitCommand::ScheduleTerm {
        term_id: T1,
        label: text("I"),
        seats: 1,
        schedule: TermSchedule::Dated(term1_dates()),
    })
    .await;
    h.clock.set(utc(2022, 6, 23, 9, 0));
    let e = h
        .err(StudyVisitCommand::OpenRecruitment { term_id: T1 })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "deadline_passed"));
    h.clock.set(utc(2022, 6, 23, 8, 59));
    let ev = h
        .ok(StudyVisitCommand::OpenRecruitment { term_id: T1 })
        .await;
    assert_eq!(
        ev,
        vec![StudyVisitEvent::RecruitmentOpened {
            term_id: T1,
            opened_at: utc(2022, 6, 23, 8, 59)
        }]
    );
    h.close(T1).await;
    assert_eq!(
        h.err(StudyVisitCommand::OpenRecruitment { term_id: T1 })
            .await
            .code,
        "recruitment_closed"
    );
    h.schedule_open(T2, 1, term2_dates()).await;
    h.ok(StudyVisitCommand::CancelTerm {
        term_id: T2,
        reason: text("no bus"),
    })
    .await;
    assert_eq!(
        h.err(StudyVisitCommand::OpenRecruitment { term_id: T2 })
            .await
            .code,
        "term_cancelled"
    );
}

// ---------------------------------------------------------------- submissions

#[tokio::test]
async fn deadline_has_hour_precision_in_warsaw_time() {
    let mut h = Harness::with_open_terms(Some(2)).await;
    h.clock.set(utc(2022, 6, 23, 8, 59) + Duration::seconds(59));
    let ev = h
        .submit(1, T1, 1)
        .await
        .expect("a second before 11:00 Warsaw");
    assert!(
        matches!(&ev[0], StudyVisitEvent::ApplicationSubmitted { submitted_at, .. } if *submitted_at == h.clock.now())
    );
    // The clause and legal basis travel from the command into the event (version 2).
    assert!(
        matches!(&ev[0], StudyVisitEvent::ApplicationSubmitted { consent: c, .. } if *c == consent())
    );
    assert_eq!(ev[0].event_version(), "2");
    h.clock.set(utc(2022, 6, 23, 9, 0));
    let e = h
        .submit(2, T1, 2)
        .await
        .expect_err("11:00 Warsaw is too late");
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "deadline_passed"));
    assert_eq!(
        e.message,
        "The recruitment deadline for this term passed at 2022-06-23 11:00 (Europe/Warsaw)."
    );
    // The second term's deadline is a day later.
    h.submit(2, T2, 2).await.expect("term 2 still open");
}

#[tokio::test]
async fn submission_field_rules() {
    let mut h = Harness::with_open_terms(None).await;
    let mut cmd = submit_cmd(1, T1, inst(1, InstitutionType::JST));
    if let StudyVisitCommand::SubmitApplication { consent, .. } = &mut cmd {
        *consent = None;
    }
    let e = h.err(cmd).await;
    assert_eq!(
        (e.kind, e.code, e.field.as_deref()),
        (ErrorKind::Invalid, "consent_required", Some("consent"))
    );
    let e = h
        .err(submit_cmd(1, T1, inst(1, InstitutionType::OTHER)))
        .await;
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::Invalid, Some("institution.type"))
    );
    assert!(e.message.contains("JST, JOPS, PES, OWES"), "{}", e.message);
    // CIS and NGO are kinds of PES, which is eligible.
    h.ok(submit_cmd(1, T1, inst(1, InstitutionType::CIS))).await;
    h.ok(submit_cmd(2, T1, inst(2, InstitutionType::NGO))).await;
    h.ok(submit_cmd(3, T1, inst(3, InstitutionType::OWES)))
        .await;
    let e = h
        .err(submit_cmd(
            9,
            Uuid::from_u128(99),
            inst(1, InstitutionType::JST),
        ))
        .await;
    assert_eq!(e.code, "term_not_found");
}

#[tokio::test]
async fn duplicates_are_refused() {
    let mut h = Harness::with_open_terms(None).await;
    h.submit(1, T1, 1).await.expect("first");
    let e = h.submit(1, T2, 1).await.expect_err("same id");
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "duplicate_application_id")
    );
    // The same person in another term of the same visit.
    let mut again = submit_cmd(2, T2, inst(5, InstitutionType::JST));
    if let StudyVisitCommand::SubmitApplication { subject_id, .. } = &mut again {
        *subject_id = subject(1);
    }
    let e = h.err(again.clone()).await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "duplicate_application")
    );
    // Once withdrawn they may apply again.
    h.ok(StudyVisitCommand::WithdrawApplication {
        application_id: app_id(1),
        by: Withdrawer::Applicant,
    })
    .await;
    h.ok(again).await;
}

#[tokio::test]
async fn submission_needs_an_open_term() {
    let mut h = Harness::new();
    h.ok(announce(None)).await;
    h.ok(StudyVisitCommand::ScheduleTerm {
        term_id: T1,
        label: text("I"),
        seats: 1,
        schedule: TermSchedule::Dated(term1_dates()),
    })
    .await;
    let e = h.submit(1, T1, 1).await.expect_err("scheduled only");
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "recruitment_not_open")
    );
    h.ok(StudyVisitCommand::OpenRecruitment { term_id: T1 })
        .await;
    h.submit(1, T1, 1).await.expect("open");
    h.close(T1).await;
    assert_eq!(
        h.submit(2, T1, 1).await.expect_err("closed").code,
        "recruitment_not_open"
    );
}

// ---------------------------------------------------------------- close and allocation

#[tokio::test]
async fn close_rules_and_event_shape() {
    let mut h = Harness::with_term(2, Some(2)).await;
    for n in 1..=3 {
        h.submit(n, T1, n as u32).await.expect("submit");
    }
    let e = h
        .err(StudyVisitCommand::CloseRecruitment {
            term_id: T1,
            trigger: CloseTrigger::Deadline,
        })
        .await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "deadline_not_reached")
    );
    h.clock.set(utc(2022, 6, 23, 9, 0));
    let ev = h
        .ok(StudyVisitCommand::CloseRecruitment {
            term_id: T1,
            trigger: CloseTrigger::Deadline,
        })
        .await;
    assert_eq!(
        ev[0],
        StudyVisitEvent::RecruitmentClosed {
            term_id: T1,
            trigger: CloseTrigger::Deadline,
            closed_at: utc(2022, 6, 23, 9, 0),
            candidates: 3,
            seats: 2,
            oversubscribed: true,
        }
    );
    assert_eq!(ev.len(), 4);
    // The watcher closing twice is refused the second time.
    let e = h
        .err(StudyVisitCommand::CloseRecruitment {
            term_id: T1,
            trigger: CloseTrigger::Deadline,
        })
        .await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "recruitment_not_open")
    );
    // Stored payload is externally tagged.
    let json = serde_json::to_value(&ev[1]).expect("ser");
    assert_eq!(json["SeatAllocated"]["basis"]["rule"], "rank_order");
    assert_eq!(json["SeatAllocated"]["term_id"], T1.to_string());
    assert_eq!(ev[1].event_version(), "1");
    let back: StudyVisitEvent = serde_json::from_value(json).expect("de");
    assert_eq!(back, ev[1]);
}

#[tokio::test]
async fn rule_1_no_cap_when_not_oversubscribed() {
    let mut h = Harness::with_term(3, Some(1)).await;
    for n in 1..=3 {
        h.submit(n, T1, 7).await.expect("same institution");
    }
    let ev = h.close(T1).await;
    assert_eq!(
        decisions(&ev),
        vec![
            ("SeatAllocated", 1, BasisRule::AllWithinSeats),
            ("SeatAllocated", 2, BasisRule::AllWithinSeats),
            ("SeatAllocated", 3, BasisRule::AllWithinSeats),
        ]
    );
    assert!(matches!(
        ev[0],
        StudyVisitEvent::RecruitmentClosed {
            oversubscribed: false,
            ..
        }
    ));
}

#[tokio::test]
async fn rule_3_capped_fill_left_over_seats() {
    // 3 seats, cap 1: institution 1 has three candidates, institution 2 one.
    let mut h = Harness::with_term(3, Some(1)).await;
    h.submit(1, T1, 1).await.expect("a");
    h.submit(2, T1, 1).await.expect("b");
    h.submit(3, T1, 2).await.expect("c");
    h.submit(4, T1, 1).await.expect("d");
    let ev = h.close(T1).await;
    assert_eq!(
        decisions(&ev),
        vec![
            ("SeatAllocated", 1, BasisRule::RankOrder),
            ("SeatAllocated", 2, BasisRule::CapFill),
            ("SeatAllocated", 3, BasisRule::RankOrder),
            ("ApplicationPassedOver", 4, BasisRule::InstitutionCap),
        ]
    );
    let roster = h.visit.roster(T1).expect("roster");
    assert!(!roster.provisional);
    assert_eq!(
        roster.passed_over[0].reason.as_deref(),
        Some("institution_cap")
    );
    assert_eq!(roster.seats_left(), 0);
}

#[tokio::test]
async fn cap_counts_seats_held_in_other_closed_terms() {
    let mut h = Harness::with_open_terms(Some(2)).await;
    // Term 1: institution 1 gets two seats (not oversubscribed).
    h.submit(1, T1, 1).await.expect("t1");
    h.submit(2, T1, 1).await.expect("t1");
    h.close(T1).await;
    assert_eq!(h.visit.held_total().get(&nip(1)), Some(&2));
    // Term 2 (25 seats) oversubscribed: 26 candidates, institution 1 first in line.
    h.submit(3, T2, 1).await.expect("t2 inst 1");
    h.submit(4, T2, 1).await.expect("t2 inst 1 again");
    for n in 5..=28 {
        h.submit(n, T2, 100 + n as u32).await.expect("t2 others");
    }
    let ev = h.close(T2).await;
    let d = decisions(&ev);
    assert_eq!(d.len(), 26);
    // Institution 1 is capped on the walk; 24 others fill 24 seats; the 25th seat is
    // left over and goes to the first capped candidate (rule 3).
    assert_eq!(d[0], ("SeatAllocated", 3, BasisRule::CapFill));
    assert_eq!(
        d[1],
        ("ApplicationPassedOver", 4, BasisRule::InstitutionCap)
    );
    assert_eq!(d.iter().filter(|x| x.0 == "SeatAllocated").count(), 25);
    let roster = h.visit.roster(T2).expect("roster");
    assert_eq!(roster.allocated.len(), 25);
    assert_eq!(roster.passed_over.len(), 1);
    assert_eq!(roster.passed_over[0].application_id, app_id(4));
    assert_eq!(
        roster
            .allocated
            .iter()
            .filter(|e| e.rule == BasisRule::CapFill)
            .count(),
        1
    );
}

#[tokio::test]
async fn cap_across_terms_passes_over_when_seats_run_out() {
    let mut h = Harness::with_open_terms(Some(2)).await;
    h.submit(1, T1, 1).await.expect("t1");
    h.submit(2, T1, 1).await.expect("t1");
    h.close(T1).await;
    h.submit(3, T2, 1).await.expect("t2 inst 1");
    for n in 4..=30 {
        h.submit(n, T2, 100 + n as u32).await.expect("t2 others");
    }
    let ev = h.close(T2).await;
    let d = decisions(&ev);
    assert_eq!(
        d[0],
        ("ApplicationPassedOver", 3, BasisRule::InstitutionCap)
    );
    let roster = h.visit.roster(T2).expect("roster");
    assert_eq!(roster.allocated.len(), 25);
    assert!(roster
        .allocated
        .iter()
        .all(|e| e.rule == BasisRule::RankOrder));
    assert_eq!(roster.waitlist.len(), 2);
    assert_eq!(roster.waitlist[0].waitlist_position, Some(1));
    assert_eq!(roster.passed_over.len(), 1);
    assert_eq!(h.status(3), ApplicationStatus::PassedOver);
}

// ---------------------------------------------------------------- withdrawal, release, promotion

/// 2 seats, cap 1; institution 1: apps 1, 2, 3; institution 2: app 4; institution 3: app 5.
/// Close: 1 and 4 get seats in rank order; 2 and 3 are capped and passed over; 5, never
/// reached, waits.
async fn closed_with_queue() -> Harness {
    let mut h = Harness::with_term(2, Some(1)).await;
    h.submit(1, T1, 1).await.expect("1");
    h.submit(2, T1, 1).await.expect("2");
    h.submit(3, T1, 1).await.expect("3");
    h.submit(4, T1, 2).await.expect("4");
    h.submit(5, T1, 3).await.expect("5");
    let ev = h.close(T1).await;
    assert_eq!(
        decisions(&ev),
        vec![
            ("SeatAllocated", 1, BasisRule::RankOrder),
            ("ApplicationPassedOver", 2, BasisRule::InstitutionCap),
            ("ApplicationPassedOver", 3, BasisRule::InstitutionCap),
            ("SeatAllocated", 4, BasisRule::RankOrder),
            ("ApplicantWaitlisted", 5, BasisRule::Waitlist),
        ]
    );
    h
}

#[tokio::test]
async fn withdrawal_before_close_only_withdraws() {
    let mut h = Harness::with_term(1, None).await;
    h.submit(1, T1, 1).await.expect("1");
    let ev = h
        .ok(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(1),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(
        ev,
        vec![StudyVisitEvent::ApplicationWithdrawn {
            application_id: app_id(1),
            term_id: T1,
            by: Withdrawer::Applicant,
            had_seat: false
        }]
    );
    let e = h
        .err(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(1),
            by: Withdrawer::Coordinator,
        })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "already_withdrawn"));
    let roster = h.visit.roster(T1).expect("roster");
    assert_eq!((roster.withdrawn, roster.allocated.len()), (1, 0));
}

#[tokio::test]
async fn withdrawal_with_seat_releases_and_promotes_below_cap() {
    let mut h = closed_with_queue().await;
    let ev = h
        .ok(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(4),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(ev.len(), 3);
    assert!(matches!(
        ev[0],
        StudyVisitEvent::ApplicationWithdrawn { had_seat: true, .. }
    ));
    assert!(matches!(
        ev[1],
        StudyVisitEvent::SeatReleased {
            cause: ReleaseCause::Withdrawn,
            ..
        }
    ));
    // Waiting list first: 5 (institution 3, below the cap).
    match &ev[2] {
        StudyVisitEvent::SeatAllocated {
            application_id,
            basis,
            ..
        } => {
            assert_eq!(*application_id, app_id(5));
            assert_eq!(basis.rule, BasisRule::PromotionBelowCap);
            assert_eq!(basis.promoted_for, Some(app_id(4)));
            assert_eq!(basis.rank, 5);
        }
        other => panic!("expected a promotion, got {other:?}"),
    }
    assert_eq!(h.status(4), ApplicationStatus::Withdrawn);
    assert_eq!(h.status(5), ApplicationStatus::Allocated);
    // Next release: the queue holds only institution 1 (at the cap) → first in line.
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(5),
            reason: text("ill"),
            by: "coord-1".to_owned(),
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 2, BasisRule::PromotionFirstInLine)]
    );
    assert_eq!(h.status(5), ApplicationStatus::Released);
    let roster = h.visit.roster(T1).expect("roster");
    let allocated: Vec<Uuid> = roster.allocated.iter().map(|e| e.application_id).collect();
    assert_eq!(allocated, vec![app_id(1), app_id(2)]);
    assert_eq!(roster.passed_over.len(), 1);
    assert_eq!(roster.withdrawn, 1);
    assert!(
        roster.allocated[1].basis.contains("promoted"),
        "{}",
        roster.allocated[1].basis
    );
}

#[tokio::test]
async fn promotion_prefers_a_passed_over_institution_below_the_cap() {
    let mut h = closed_with_queue().await;
    // Release 1 (institution 1): 5 waits first and is below the cap.
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(1),
            reason: text("x"),
            by: "c".to_owned(),
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 5, BasisRule::PromotionBelowCap)]
    );
    // Release 4: queue = passed over [2, 3], institution 1 now holds 0 → 2 is below the cap.
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(4),
            reason: text("x"),
            by: "c".to_owned(),
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 2, BasisRule::PromotionBelowCap)]
    );
    // Release 5: queue = [3], institution 1 at the cap again → first in line.
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(5),
            reason: text("x"),
            by: "c".to_owned(),
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 3, BasisRule::PromotionFirstInLine)]
    );
    // Nobody waits now: a release promotes no one.
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(3),
            reason: text("x"),
            by: "c".to_owned(),
        })
        .await;
    assert_eq!(ev.len(), 1);
    assert_eq!(h.visit.seats_left(T1), Some(1));
    assert!(verify(&h.events).consistent());
}

#[tokio::test]
async fn below_cap_candidate_behind_capped_waitlist_is_promoted() {
    // Cap 1. Term 1 gives institution 1 a seat.
    let mut h = Harness::with_open_terms(Some(1)).await;
    h.submit(1, T1, 1).await.expect("1");
    h.close(T1).await;
    // A one-seat term: 2 gets the seat; 3 (institution 1, at the cap) and 4 are never
    // reached, so both wait.
    h.schedule_open(T3, 1, term2_dates()).await;
    h.submit(2, T3, 2).await.expect("2");
    h.submit(3, T3, 1).await.expect("3 inst 1 at cap");
    h.submit(4, T3, 4).await.expect("4");
    let ev = h.close(T3).await;
    assert_eq!(
        decisions(&ev),
        vec![
            ("SeatAllocated", 2, BasisRule::RankOrder),
            ("ApplicantWaitlisted", 3, BasisRule::Waitlist),
            ("ApplicantWaitlisted", 4, BasisRule::Waitlist),
        ]
    );
    // The freed seat skips 3 (institution at the cap) for 4.
    let ev = h
        .ok(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(2),
            by: Withdrawer::Coordinator,
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 4, BasisRule::PromotionBelowCap)]
    );
    let roster = h.visit.roster(T3).expect("roster");
    assert_eq!(roster.waitlist.len(), 1);
    assert_eq!(roster.waitlist[0].waitlist_position, Some(1));
    assert!(verify(&h.events).consistent());
}

#[tokio::test]
async fn withdrawal_without_seat_after_close_only_removes() {
    let mut h = closed_with_queue().await;
    let ev = h
        .ok(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(5),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(ev.len(), 1);
    assert!(matches!(
        ev[0],
        StudyVisitEvent::ApplicationWithdrawn {
            had_seat: false,
            ..
        }
    ));
    // Passed over 2 and 4 keep waiting; the waiting list is now empty.
    let roster = h.visit.roster(T1).expect("roster");
    assert!(roster.waitlist.is_empty());
    assert_eq!(roster.passed_over.len(), 2);
    // A withdrawn one is skipped at promotion.
    h.ok(StudyVisitCommand::WithdrawApplication {
        application_id: app_id(2),
        by: Withdrawer::Applicant,
    })
    .await;
    let ev = h
        .ok(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(4),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 3, BasisRule::PromotionFirstInLine)]
    );
}

#[tokio::test]
async fn release_requires_a_seat() {
    let mut h = closed_with_queue().await;
    let e = h
        .err(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(5),
            reason: text("x"),
            by: "c".to_owned(),
        })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "no_seat"));
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(1),
            reason: text("no show"),
            by: "coord".to_owned(),
        })
        .await;
    assert_eq!(
        ev[0],
        StudyVisitEvent::SeatReleased {
            application_id: app_id(1),
            term_id: T1,
            cause: ReleaseCause::Released {
                reason: text("no show"),
                by: "coord".to_owned()
            }
        }
    );
    let e = h
        .err(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(1),
            reason: text("x"),
            by: "c".to_owned(),
        })
        .await;
    assert_eq!(e.code, "no_seat");
    let e = h
        .err(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(1),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(e.code, "already_withdrawn");
}

#[tokio::test]
async fn waitlist_positions_shift_after_promotion() {
    let mut h = Harness::with_term(1, None).await;
    for n in 1..=4 {
        h.submit(n, T1, n as u32).await.expect("submit");
    }
    h.close(T1).await;
    let before = h.visit.standing(app_id(3)).expect("standing");
    assert_eq!(
        (before.status, before.rank, before.waitlist_position),
        (ApplicationStatus::Waitlisted, Some(3), Some(2))
    );
    h.ok(StudyVisitCommand::WithdrawApplication {
        application_id: app_id(1),
        by: Withdrawer::Applicant,
    })
    .await;
    let after = h.visit.standing(app_id(3)).expect("standing");
    assert_eq!((after.rank, after.waitlist_position), (Some(3), Some(1)));
    assert_eq!(
        h.visit.standing(app_id(2)).map(|s| s.status),
        Some(ApplicationStatus::Allocated)
    );
    let w = h.visit.standing(app_id(1)).expect("withdrawn");
    assert_eq!(
        (w.status, w.rank, w.waitlist_position),
        (ApplicationStatus::Withdrawn, Some(1), None)
    );
}

// ---------------------------------------------------------------- attendance, cancellation

#[tokio::test]
async fn attendance_only_for_seat_holders_of_closed_terms() {
    let mut h = Harness::with_term(1, None).await;
    h.submit(1, T1, 1).await.expect("1");
    h.submit(2, T1, 2).await.expect("2");
    let e = h
        .err(StudyVisitCommand::RecordAttendance {
            application_id: app_id(1),
            day: None,
            attended: true,
        })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "no_seat"));
    h.close(T1).await;
    let ev = h
        .ok(StudyVisitCommand::RecordAttendance {
            application_id: app_id(1),
            day: None,
            attended: true,
        })
        .await;
    assert_eq!(
        ev,
        vec![StudyVisitEvent::AttendanceRecorded {
            application_id: app_id(1),
            term_id: T1,
            day: None,
            attended: true
        }]
    );
    assert_eq!(
        h.visit.roster(T1).expect("roster").allocated[0].attended,
        Some(true)
    );
    let e = h
        .err(StudyVisitCommand::RecordAttendance {
            application_id: app_id(2),
            day: None,
            attended: true,
        })
        .await;
    assert_eq!(e.code, "no_seat");
}

#[tokio::test]
async fn attendance_by_day_within_the_term_and_every_day_without_one() {
    let mut h = Harness::with_term(2, None).await;
    h.submit(1, T1, 1).await.expect("1");
    h.close(T1).await;
    let (first, last) = (term1_dates().starts_on, term1_dates().ends_on);
    // A day outside the term names the field and records nothing.
    let e = h
        .err(StudyVisitCommand::RecordAttendance {
            application_id: app_id(1),
            day: Some(last.succ_opt().expect("day")),
            attended: true,
        })
        .await;
    assert_eq!(
        (e.kind, e.code, e.field.as_deref()),
        (ErrorKind::Invalid, "day_outside_term", Some("day"))
    );
    let present = |h: &Harness| {
        let r = h.visit.roster(T1).expect("roster");
        (r.allocated[0].attended, r.allocated[0].days_present.clone())
    };
    assert_eq!(present(&h), (None, vec![]));
    let ev = h
        .ok(StudyVisitCommand::RecordAttendance {
            application_id: app_id(1),
            day: Some(last),
            attended: true,
        })
        .await;
    assert_eq!(
        ev,
        vec![StudyVisitEvent::AttendanceRecorded {
            application_id: app_id(1),
            term_id: T1,
            day: Some(last),
            attended: true
        }]
    );
    assert_eq!(present(&h), (Some(true), vec![last]));
    // Without a day: every day; then one day absent again.
    h.ok(StudyVisitCommand::RecordAttendance {
        application_id: app_id(1),
        day: None,
        attended: true,
    })
    .await;
    let all: Vec<_> = first.iter_days().take_while(|d| *d <= last).collect();
    assert_eq!(present(&h), (Some(true), all.clone()));
    for d in &all {
        h.ok(StudyVisitCommand::RecordAttendance {
            application_id: app_id(1),
            day: Some(*d),
            attended: false,
        })
        .await;
    }
    // Recorded absent on every day: attendance is recorded, and it is "not attended".
    assert_eq!(present(&h), (Some(false), vec![]));
}

#[tokio::test]
async fn cancel_term_rules() {
    let mut h = Harness::with_open_terms(None).await;
    h.submit(1, T2, 1).await.expect("1");
    h.ok(StudyVisitCommand::CancelTerm {
        term_id: T2,
        reason: text("too few"),
    })
    .await;
    assert_eq!(
        h.visit.term(T2).map(|t| t.status),
        Some(TermStatus::Cancelled)
    );
    assert!(h.visit.application(app_id(1)).is_some());
    let e = h
        .err(StudyVisitCommand::CancelTerm {
            term_id: T2,
            reason: text("again"),
        })
        .await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "term_cancelled"));
    assert_eq!(
        h.submit(2, T2, 2).await.expect_err("cancelled").code,
        "recruitment_not_open"
    );
    h.close(T1).await;
    let e = h
        .err(StudyVisitCommand::CancelTerm {
            term_id: T1,
            reason: text("late"),
        })
        .await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "recruitment_closed")
    );
}

// ---------------------------------------------------------------- replay, roster, verify

#[tokio::test]
async fn replay_gives_the_same_state_and_verify_is_clean() {
    let mut h = closed_with_queue().await;
    h.ok(StudyVisitCommand::WithdrawApplication {
        application_id: app_id(4),
        by: Withdrawer::Applicant,
    })
    .await;
    h.ok(StudyVisitCommand::ReleaseSeat {
        application_id: app_id(1),
        reason: text("x"),
        by: "c".to_owned(),
    })
    .await;
    let mut replayed = StudyVisit::default();
    for e in h.events.clone() {
        replayed.apply(e);
    }
    assert_eq!(replayed, h.visit);
    let state = serde_json::to_value(&h.visit).expect("state serializes");
    let back: StudyVisit = serde_json::from_value(state).expect("state deserializes");
    assert_eq!(back, h.visit);
    let report = verify(&h.events);
    assert!(report.consistent(), "{:?}", report.discrepancies);
    assert_eq!(report.checked, 5 + 2);
}

#[tokio::test]
async fn verify_finds_tampering() {
    let h = closed_with_queue().await;
    let pos = |n: u128| {
        h.events
            .iter()
            .position(|e| {
                e.application_id() == Some(app_id(n))
                    && matches!(
                        e,
                        StudyVisitEvent::SeatAllocated { .. }
                            | StudyVisitEvent::ApplicantWaitlisted { .. }
                    )
            })
            .expect("decision")
    };
    // Two SeatAllocated swapped.
    let mut swapped = h.events.clone();
    swapped.swap(pos(1), pos(4));
    let report = verify(&swapped);
    assert!(!report.consistent());
    assert_eq!(report.discrepancies.len(), 2);
    // A waitlisted one marked allocated.
    let mut forged = h.events.clone();
    if let StudyVisitEvent::ApplicantWaitlisted {
        application_id,
        term_id,
        basis,
        ..
    } = forged[pos(5)].clone()
    {
        forged[pos(5)] = StudyVisitEvent::SeatAllocated {
            application_id,
            term_id,
            basis: DecisionBasis {
                rule: BasisRule::RankOrder,
                ..basis
            },
        };
    }
    let report = verify(&forged);
    assert_eq!(report.discrepancies.len(), 1);
    assert_eq!(report.discrepancies[0].application_id, Some(app_id(5)));
    assert!(report.discrepancies[0]
        .expected
        .starts_with("ApplicantWaitlisted"));
    // A promotion of the wrong person.
    let mut h2 = closed_with_queue().await;
    h2.ok(StudyVisitCommand::ReleaseSeat {
        application_id: app_id(4),
        reason: text("x"),
        by: "c".to_owned(),
    })
    .await;
    let mut wrong = h2.events.clone();
    let last = wrong.len() - 1;
    if let StudyVisitEvent::SeatAllocated { term_id, basis, .. } = wrong[last].clone() {
        wrong[last] = StudyVisitEvent::SeatAllocated {
            application_id: app_id(2),
            term_id,
            basis,
        };
    }
    assert_eq!(verify(&wrong).discrepancies.len(), 1);
    // A seat given with no close or release to account for it.
    let mut extra = h2.events.clone();
    extra.push(StudyVisitEvent::SeatAllocated {
        application_id: app_id(4),
        term_id: T1,
        basis: DecisionBasis {
            rule: BasisRule::RankOrder,
            rank: 4,
            score: 0,
            preferences_met: vec![],
            institution_seats_before: 0,
            max_per_institution: Some(1),
            promoted_for: None,
            reason: None,
            decided_by: None,
        },
    });
    let report = verify(&extra);
    assert_eq!(report.discrepancies.len(), 1);
    assert_eq!(report.discrepancies[0].expected, "no decision");
    // A promotion left out.
    let mut missing = h2.events.clone();
    missing.pop();
    assert_eq!(verify(&missing).discrepancies.len(), 1);
}

#[test]
fn describe_reads_well() {
    let b = DecisionBasis {
        rule: BasisRule::RankOrder,
        rank: 3,
        score: 2,
        preferences_met: vec![code("cus_declared"), code("new_to_project")],
        institution_seats_before: 1,
        max_per_institution: Some(2),
        promoted_for: None,
        reason: None,
        decided_by: None,
    };
    assert_eq!(
        b.describe(),
        "rank 3: 2 preferences met (cus_declared, new_to_project); seat in rank order; institution held 1 of 2"
    );
    let p = DecisionBasis {
        rule: BasisRule::PromotionFirstInLine,
        preferences_met: vec![code("cus_declared")],
        score: 1,
        promoted_for: Some(Uuid::nil()),
        ..b
    };
    assert!(p.describe().contains("1 preference met (cus_declared)"));
    assert!(p.describe().contains("nobody waiting was below the cap"));
}

fn manual(n: u128, reason: &str, by: &str) -> StudyVisitCommand {
    StudyVisitCommand::AllocateSeatManually {
        application_id: app_id(n),
        reason: text(reason),
        by: by.to_owned(),
    }
}

#[tokio::test]
async fn a_seat_given_by_hand_names_who_and_why_and_keeps_its_rank() {
    let mut h = closed_with_queue().await;
    let ev = h
        .ok(manual(2, "Dodatkowe miejsce od partnera", "token:c1"))
        .await;
    let [StudyVisitEvent::SeatAllocated {
        application_id,
        term_id,
        basis,
    }] = ev.as_slice()
    else {
        panic!("one SeatAllocated: {ev:?}");
    };
    assert_eq!((*application_id, *term_id), (app_id(2), T1));
    assert_eq!(basis.rule, BasisRule::Manual);
    assert_eq!(basis.rank, 2);
    assert_eq!(basis.institution_seats_before, 1);
    assert_eq!(basis.max_per_institution, Some(1));
    assert_eq!(
        basis.reason.as_deref(),
        Some("Dodatkowe miejsce od partnera")
    );
    assert_eq!(basis.decided_by.as_deref(), Some("token:c1"));
    assert!(basis
        .describe()
        .contains("seat granted by hand by token:c1: Dodatkowe miejsce od partnera"));

    // Above the seat count on purpose: the roster shows three holders, none left.
    let roster = h.visit.roster(T1).expect("roster");
    let ids = |es: &[RosterEntry]| es.iter().map(|e| e.application_id).collect::<Vec<_>>();
    assert_eq!(
        ids(&roster.allocated),
        vec![app_id(1), app_id(2), app_id(4)]
    );
    assert_eq!(ids(&roster.waitlist), vec![app_id(5)]);
    assert_eq!(ids(&roster.passed_over), vec![app_id(3)]);
    assert_eq!(roster.seats_left(), 0);
    let e = &roster.allocated[1];
    assert_eq!(e.rule, BasisRule::Manual);
    assert_eq!(e.reason.as_deref(), Some("Dodatkowe miejsce od partnera"));
}

#[tokio::test]
async fn a_seat_by_hand_only_for_someone_waiting_in_a_closed_term() {
    let mut h = closed_with_queue().await;
    let e = h.err(manual(1, "x", "token:c1")).await;
    assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "not_waiting"));
    let e = h.err(manual(2, "x", "  ")).await;
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.field.as_deref(), Some("decided_by"));
    let e = h.err(manual(99, "x", "token:c1")).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
    h.ok(StudyVisitCommand::WithdrawApplication {
        application_id: app_id(5),
        by: Withdrawer::Applicant,
    })
    .await;
    let e = h.err(manual(5, "x", "token:c1")).await;
    assert_eq!(e.code, "not_waiting");

    let mut open = Harness::with_term(1, None).await;
    open.submit(1, T1, 1).await.expect("1");
    let e = open.err(manual(1, "x", "token:c1")).await;
    assert_eq!(e.code, "not_waiting");
}

#[tokio::test]
async fn above_the_seat_count_a_release_promotes_only_once_below_it() {
    let mut h = closed_with_queue().await;
    h.ok(manual(2, "Dodatkowe miejsce", "token:c1")).await;
    // Three holders of two seats: the first seat given back only restores the count.
    let ev = h
        .ok(StudyVisitCommand::ReleaseSeat {
            application_id: app_id(1),
            reason: text("rezygnacja"),
            by: "token:c1".to_owned(),
        })
        .await;
    assert_eq!(decisions(&ev), vec![]);
    let ev = h
        .ok(StudyVisitCommand::WithdrawApplication {
            application_id: app_id(4),
            by: Withdrawer::Applicant,
        })
        .await;
    assert_eq!(
        decisions(&ev),
        vec![("SeatAllocated", 5, BasisRule::PromotionBelowCap)]
    );

    let report = verify(&h.events);
    assert!(report.consistent(), "{report:?}");
    // Five at close, the manual decision, two releases.
    assert_eq!(report.checked, 8);
    assert_eq!(report.manual_decisions.len(), 1);
    assert!(report.manual_decisions[0].consistent);
    assert_eq!(
        report.manual_decisions[0].decided_by.as_deref(),
        Some("token:c1")
    );
}

#[tokio::test]
async fn verify_checks_manual_decisions_and_who_recorded_them() {
    let mut h = closed_with_queue().await;
    h.ok(manual(5, "Zastępstwo", "token:c1")).await;
    let with = |actor: &str| -> Vec<(StudyVisitEvent, Option<String>)> {
        h.events
            .iter()
            .map(|e| (e.clone(), Some(actor.to_owned())))
            .collect()
    };
    let report = verify_with_actors(&with("token:c1"));
    assert!(report.consistent(), "{report:?}");
    assert_eq!(
        report.manual_decisions[0].recorded_by.as_deref(),
        Some("token:c1")
    );

    // Recorded by somebody else than it names.
    let report = verify_with_actors(&with("token:other"));
    assert_eq!(report.discrepancies.len(), 1, "{report:?}");
    assert!(report.discrepancies[0]
        .problem
        .as_deref()
        .is_some_and(|p| p.contains("recorded by token:other")));
    assert!(!report.manual_decisions[0].consistent);

    // A manual decision without a reason or without who decided.
    let forge = |f: &dyn Fn(&mut DecisionBasis)| {
        let mut events = h.events.clone();
        if let Some(StudyVisitEvent::SeatAllocated { basis, .. }) = events.last_mut() {
            f(basis);
        }
        verify(&events)
    };
    let report = forge(&|b| b.reason = Some(" ".into()));
    assert_eq!(report.discrepancies.len(), 1);
    assert!(report.discrepancies[0]
        .problem
        .as_deref()
        .is_some_and(|p| p.contains("no reason")));
    let report = forge(&|b| b.decided_by = None);
    assert!(report.discrepancies[0]
        .problem
        .as_deref()
        .is_some_and(|p| p.contains("who took it")));
    // A basis that misstates the application's rank.
    let report = forge(&|b| b.rank = 1);
    assert_eq!(report.discrepancies.len(), 1);

    // A manual seat for someone already holding one.
    let mut events = h.events.clone();
    if let Some(StudyVisitEvent::SeatAllocated { application_id, .. }) = events.last_mut() {
        *application_id = app_id(1);
    }
    let report = verify(&events);
    assert_eq!(report.discrepancies.len(), 1, "{report:?}");
    assert!(report.discrepancies[0]
        .problem
        .as_deref()
        .is_some_and(|p| p.contains("waiting list")));
}

// ---------------------------------------------------------------- information clause

fn clause(version: &str, body: &str) -> StudyVisitCommand {
    StudyVisitCommand::SetInformationClause {
        clause: InformationClause {
            version: text(version),
            text: text(body),
        },
    }
}

fn submit_with_clause(n: u128, version: &str) -> StudyVisitCommand {
    StudyVisitCommand::SubmitApplication {
        application_id: app_id(n),
        term_id: T1,
        subject_id: subject(n),
        institution: inst(n as u32, InstitutionType::JST),
        consent: Some(ConsentRecord {
            information_clause: text(version),
            legal_basis: LegalBasis::Consent,
        }),
    }
}

#[tokio::test]
async fn a_visit_without_a_clause_of_its_own_takes_any_recorded_version() {
    let mut h = Harness::with_term(5, None).await;
    assert_eq!(h.visit.information_clause(), None);
    h.ok(submit_with_clause(1, "2026-01")).await;
}

#[tokio::test]
async fn a_clause_set_is_what_applications_must_have_accepted() {
    let mut h = Harness::with_term(5, None).await;
    let events = h
        .ok(clause("ROPS-2026-02", "Administratorem jest ROPS."))
        .await;
    assert_eq!(
        events,
        vec![StudyVisitEvent::InformationClauseSet {
            version: text("ROPS-2026-02"),
            text: text("Administratorem jest ROPS."),
        }]
    );
    // A form that showed the default (or an older clause) is refused, and nothing recorded.
    let e = h.err(submit_with_clause(1, "2026-01")).await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Conflict, "information_clause_changed")
    );
    let events = h.ok(submit_with_clause(1, "ROPS-2026-02")).await;
    let StudyVisitEvent::ApplicationSubmitted { consent, .. } = &events[0] else {
        panic!("not a submission: {events:?}");
    };
    assert_eq!(consent.information_clause.as_str(), "ROPS-2026-02");
}

#[tokio::test]
async fn a_version_names_one_text_for_good() {
    let mut h = Harness::with_term(5, None).await;
    h.ok(clause("v1", "Pierwsza treść.")).await;
    // The same clause again: nothing new to record.
    assert!(h.ok(clause("v1", "Pierwsza treść.")).await.is_empty());
    let e = h.err(clause("v1", "Zmieniona treść.")).await;
    assert_eq!(
        (e.kind, e.code),
        (ErrorKind::Invalid, "information_clause_version_taken")
    );
    h.ok(clause("v2", "Zmieniona treść.")).await;
    // Going back to an earlier clause is a change too, recorded as one.
    assert_eq!(h.ok(clause("v1", "Pierwsza treść.")).await.len(), 1);
    assert_eq!(
        h.visit.information_clause().map(|c| c.version.as_str()),
        Some("v1")
    );
}

#[tokio::test]
async fn a_clause_needs_an_announced_visit() {
    let mut h = Harness::new();
    let e = h.err(clause("v1", "Treść.")).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
}

// ---------------------------------------------------------------- seat offers

/// A closed term of 2 seats with offers of 48 hours: applications 1 and 2 hold seats,
/// 3 and 4 wait (in that order). The clock stands at 24 June 2022, 10:00 UTC.
async fn offers_harness() -> Harness {
    let mut h = Harness::with_term(2, None).await;
    assert!(
        h.ok(StudyVisitCommand::SetOfferHours {
            offer_hours: Some(48)
        })
        .await
        .len()
            == 1
    );
    for n in 1..=4 {
        h.submit(n, T1, n as u32).await.expect("submitted");
    }
    h.clock.set(utc(2022, 6, 24, 10, 0));
    h.close(T1).await;
    assert_eq!(h.status(3), ApplicationStatus::Waitlisted);
    h
}

fn withdraw(n: u128) -> StudyVisitCommand {
    StudyVisitCommand::WithdrawApplication {
        application_id: app_id(n),
        by: Withdrawer::Applicant,
    }
}

fn offered(events: &[StudyVisitEvent]) -> Option<(u128, DateTime<Utc>)> {
    events.iter().find_map(|e| match e {
        StudyVisitEvent::SeatOffered {
            application_id,
            expires_at,
            ..
        } => Some((application_id.as_u128() - 0xA000, *expires_at)),
        _ => None,
    })
}

#[tokio::test]
async fn a_freed_seat_is_offered_and_taken_only_when_accepted() {
    let mut h = offers_harness().await;
    let events = h.ok(withdraw(1)).await;
    assert_eq!(
        events.iter().map(|e| e.name()).collect::<Vec<_>>(),
        ["ApplicationWithdrawn", "SeatReleased", "SeatOffered"]
    );
    assert_eq!(offered(&events), Some((3, utc(2022, 6, 26, 10, 0))));
    assert_eq!(h.status(3), ApplicationStatus::Offered);
    // The seat is held: nobody else is offered it, and the roster lists the offer.
    let roster = h.visit.roster(T1).expect("roster");
    assert_eq!(roster.allocated.len(), 1);
    assert_eq!(roster.waitlist[0].status, ApplicationStatus::Offered);
    assert_eq!(
        roster.waitlist[0].offer_expires_at,
        Some(utc(2022, 6, 26, 10, 0))
    );
    // Someone without an offer cannot accept.
    let e = h
        .err(StudyVisitCommand::AcceptOffer {
            application_id: app_id(4),
        })
        .await;
    assert_eq!(e.code, "no_offer");
    let events = h
        .ok(StudyVisitCommand::AcceptOffer {
            application_id: app_id(3),
        })
        .await;
    assert_eq!(events[0].name(), "OfferAccepted");
    let StudyVisitEvent::SeatAllocated { basis, .. } = &events[1] else {
        panic!("no seat: {events:?}");
    };
    assert_eq!(basis.reason.as_deref(), Some(OFFER_ACCEPTED));
    assert_eq!(basis.promoted_for, Some(app_id(1)));
    assert_eq!(h.status(3), ApplicationStatus::Allocated);
    assert!(verify(&h.events).consistent(), "{:?}", verify(&h.events));
}

#[tokio::test]
async fn a_declined_or_expired_offer_passes_to_the_next_and_the_person_waits_again() {
    let mut h = offers_harness().await;
    h.ok(withdraw(1)).await;
    let events = h
        .ok(StudyVisitCommand::DeclineOffer {
            application_id: app_id(3),
        })
        .await;
    assert_eq!(events[0].name(), "OfferDeclined");
    assert_eq!(offered(&events).map(|o| o.0), Some(4));
    assert_eq!(h.status(3), ApplicationStatus::Waitlisted);
    // Not before its time.
    let e = h
        .err(StudyVisitCommand::ExpireOffer {
            application_id: app_id(4),
        })
        .await;
    assert_eq!(e.code, "offer_not_expired");
    h.clock.set(utc(2022, 6, 26, 10, 0));
    // Too late to accept; the service records the expiry, and nobody is left to offer it.
    let e = h
        .err(StudyVisitCommand::AcceptOffer {
            application_id: app_id(4),
        })
        .await;
    assert_eq!(e.code, "offer_expired");
    let events = h
        .ok(StudyVisitCommand::ExpireOffer {
            application_id: app_id(4),
        })
        .await;
    assert_eq!(
        events.iter().map(|e| e.name()).collect::<Vec<_>>(),
        ["OfferExpired"],
        "3 and 4 let this seat's offers lapse"
    );
    assert_eq!(h.status(4), ApplicationStatus::Waitlisted);
    // A seat freed later is a new chance for everyone waiting.
    let events = h.ok(withdraw(2)).await;
    assert_eq!(offered(&events).map(|o| o.0), Some(3));
    assert!(verify(&h.events).consistent(), "{:?}", verify(&h.events));
}

#[tokio::test]
async fn offers_end_when_the_term_begins_and_never_outlast_it() {
    let mut h = offers_harness().await;
    // 26 June 15:00 UTC: 48 hours would end after the first day begins (27 June 00:00
    // Warsaw = 26 June 22:00 UTC).
    h.clock.set(utc(2022, 6, 26, 15, 0));
    let events = h.ok(withdraw(1)).await;
    assert_eq!(offered(&events), Some((3, utc(2022, 6, 26, 22, 0))));
    // Once the term has begun, a seat freed stays free.
    h.clock.set(utc(2022, 6, 26, 22, 0));
    let events = h.ok(withdraw(2)).await;
    assert_eq!(offered(&events), None);
    assert!(verify(&h.events).consistent(), "{:?}", verify(&h.events));
}

#[tokio::test]
async fn verify_finds_an_offer_to_the_wrong_person_and_a_late_acceptance() {
    let mut h = offers_harness().await;
    h.ok(withdraw(1)).await;
    h.ok(StudyVisitCommand::AcceptOffer {
        application_id: app_id(3),
    })
    .await;
    let mut forged = h.events.clone();
    for e in &mut forged {
        if let StudyVisitEvent::OfferAccepted { accepted_at, .. } = e {
            *accepted_at = utc(2022, 7, 1, 0, 0);
        }
    }
    let report = verify(&forged);
    assert!(!report.consistent());
    assert!(report.discrepancies.iter().any(|d| d
        .problem
        .as_deref()
        .is_some_and(|p| p.contains("after its expiry"))));
    let mut forged = h.events.clone();
    for e in &mut forged {
        if let StudyVisitEvent::SeatOffered { application_id, .. } = e {
            *application_id = app_id(4);
        }
    }
    assert!(!verify(&forged).consistent());
}

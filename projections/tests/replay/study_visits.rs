//! `study_visits` and `applications`: a visit driven through its whole life (announce,
//! preference list, dated and planned terms, dates fixed, recruitment opened, submissions
//! from several institutions with one over the cap, a withdrawal, the close with its seats,
//! waiting list and passed over, a release with a promotion, a seat given by hand,
//! attendance, a cancelled term, and a second term open while the first holds seats).
//!
//! Every `read` query of both models answers the same over the live tables and over the
//! tables replayed from the visit's events. And the roster replayed from the events up to
//! any moment equals the aggregate's own `roster()` after the same events — what `?at=`
//! answered before it read the replayed read models — so the switch changed no answer.

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use domain::services::StudyVisitServices;
use domain::study_visit::{
    ApplicationStatus, CloseTrigger, ConsentRecord, LegalBasis, Preference, PreferenceKind,
    StudyVisit, StudyVisitCommand, StudyVisitEvent, TermDates, TermSchedule, TermStatus,
    Withdrawer,
};
use domain::values::{Institution, InstitutionType, Nip, OrganizerId, PlannedDate, PreferenceCode};
use infra::{CommandBus, StoredEvent};
use projections::applications::{read as applications, Applications};
use projections::study_visits::{read as visits, StudyVisits};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{at, clock, context, institution, nip, shared, text, Database};

const ORGANIZER: &str = "rops-torun";

fn jst(name: &str, n: u32) -> Institution {
    institution(InstitutionType::JST, name, n)
}

fn dated(starts: &str, ends: &str, deadline_minutes: i64) -> TermDates {
    TermDates {
        starts_on: NaiveDate::parse_from_str(starts, "%Y-%m-%d").unwrap(),
        ends_on: NaiveDate::parse_from_str(ends, "%Y-%m-%d").unwrap(),
        recruitment_deadline: at(deadline_minutes),
    }
}

/// The visit's command bus on the test's database, deciding with `clock`.
struct Visit {
    bus: CommandBus<StudyVisit>,
    id: Uuid,
}

impl Visit {
    async fn run(&self, cmd: StudyVisitCommand) {
        let scope = match cmd {
            StudyVisitCommand::Announce { .. } => None,
            _ => Some(ORGANIZER),
        };
        let ctx = context(cmd.name(), scope);
        self.bus
            .execute(&self.id.to_string(), cmd, &ctx)
            .await
            .unwrap();
    }

    /// Submits an application of `inst` to `term`; its id.
    async fn submit(&self, term: Uuid, inst: Institution) -> Uuid {
        let application_id = Uuid::now_v7();
        self.run(StudyVisitCommand::SubmitApplication {
            application_id,
            term_id: term,
            subject_id: Uuid::now_v7(),
            institution: inst,
            consent: Some(ConsentRecord {
                information_clause: text("2026-01"),
                legal_basis: LegalBasis::Consent,
            }),
        })
        .await;
        application_id
    }
}

/// Everything the read modules answer about the visit, read through `conn`.
#[derive(Debug, PartialEq)]
struct Answers {
    visit: Option<visits::Visit>,
    all_visits: Vec<visits::Visit>,
    terms: Vec<visits::Term>,
    lists: std::collections::BTreeMap<PreferenceCode, std::collections::BTreeSet<Nip>>,
    due: Vec<visits::DueTerm>,
    next_deadline: Option<chrono::DateTime<chrono::Utc>>,
    applications: Vec<Option<applications::Application>>,
    of_term: Vec<Vec<applications::Application>>,
    held: Vec<(Nip, u32)>,
    rosters: Vec<Option<domain::study_visit::Roster>>,
}

async fn answers(
    conn: &mut PgConnection,
    visit: Uuid,
    terms: &[Uuid],
    application_ids: &[Uuid],
) -> Answers {
    let term_rows = visits::terms(conn, &[visit]).await.unwrap();
    let closed: Vec<Uuid> = term_rows
        .iter()
        .filter(|t| t.status == TermStatus::Closed)
        .map(|t| t.term_id)
        .collect();
    let mut held: Vec<(Nip, u32)> = applications::seats_held(conn, visit, &closed)
        .await
        .unwrap()
        .into_iter()
        .collect();
    held.sort();
    let mut a = Answers {
        visit: visits::visit(conn, visit).await.unwrap(),
        all_visits: visits::visits(conn, None).await.unwrap(),
        terms: term_rows,
        lists: visits::preference_lists(conn, visit).await.unwrap(),
        due: visits::due_terms(conn, at(60 * 24 * 365)).await.unwrap(),
        next_deadline: visits::next_deadline(conn).await.unwrap(),
        applications: vec![],
        of_term: vec![],
        held,
        rosters: vec![],
    };
    for id in application_ids {
        a.applications
            .push(applications::application(conn, *id).await.unwrap());
    }
    for t in terms {
        a.of_term
            .push(applications::of_term(conn, *t).await.unwrap());
        a.rosters
            .push(applications::roster(conn, visit, *t).await.unwrap());
    }
    a
}

/// The visit as the aggregate stands after `events` (decoded as the audit decodes them).
fn aggregate(events: &[StoredEvent]) -> StudyVisit {
    let mut visit = StudyVisit::default();
    for e in events {
        let event: StudyVisitEvent = domain::upcasting::decode(
            &e.aggregate_type,
            &e.event_type,
            &e.event_version,
            e.payload.clone(),
        )
        .unwrap();
        visit.apply(event);
    }
    visit
}

/// The rosters of `terms` replayed from `events`, read with the live query.
async fn replayed_rosters(
    db: &Database,
    visit: Uuid,
    terms: &[Uuid],
    events: &[StoredEvent],
) -> Vec<Option<domain::study_visit::Roster>> {
    let mut replayed =
        projections::replay(&db.pool, &[&StudyVisits, &Applications], events.to_vec())
            .await
            .unwrap();
    let mut rosters = Vec::new();
    for t in terms {
        rosters.push(
            applications::roster(replayed.conn(), visit, *t)
                .await
                .unwrap(),
        );
    }
    rosters
}

#[tokio::test]
async fn live_and_replayed_visits_applications_and_rosters_are_equal() {
    let db = Database::fresh().await;
    let clock = clock(0);
    let visit = Visit {
        bus: CommandBus::new(
            db.pool.clone(),
            StudyVisitServices::new(shared(&clock)),
            vec![],
            |v: &StudyVisit| v.organizer().map(|o| o.as_str().to_owned()),
        ),
        id: Uuid::now_v7(),
    };
    let (cus, new) = (
        PreferenceCode::parse("cus_declared").unwrap(),
        PreferenceCode::parse("new_to_project").unwrap(),
    );
    visit
        .run(StudyVisitCommand::Announce {
            visit_id: visit.id,
            organizer: OrganizerId::parse(ORGANIZER).unwrap(),
            title: text("Wizyta studyjna w Toruniu"),
            destination: text("Toruń"),
            description: "Ekonomia społeczna w praktyce".into(),
            eligible_institution_types: vec![InstitutionType::JST, InstitutionType::PES],
            // One seat per institution when demand is high: the close passes some over.
            max_per_institution: Some(1),
            preferences: vec![
                Preference {
                    code: cus.clone(),
                    label: text("JST z deklaracją CUS"),
                    kind: PreferenceKind::Listed,
                },
                Preference {
                    code: new.clone(),
                    label: text("Nowa w projekcie"),
                    kind: PreferenceKind::NotListed,
                },
            ],
            funding: None,
        })
        .await;
    visit
        .run(StudyVisitCommand::ReplacePreferenceList {
            code: cus,
            nips: vec![nip(100), nip(200)],
        })
        .await;
    visit
        .run(StudyVisitCommand::ReplacePreferenceList {
            code: new,
            nips: vec![nip(300)],
        })
        .await;
    let (t1, t2, t3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    visit
        .run(StudyVisitCommand::ScheduleTerm {
            term_id: t1,
            label: text("I termin"),
            seats: 3,
            schedule: TermSchedule::Dated(dated("2026-03-10", "2026-03-11", 600)),
        })
        .await;
    let planned: PlannedDate =
        serde_json::from_value(serde_json::json!({"month": "2026-04", "part": "mid"})).unwrap();
    visit
        .run(StudyVisitCommand::ScheduleTerm {
            term_id: t2,
            label: text("II termin"),
            seats: 2,
            schedule: TermSchedule::Planned(planned),
        })
        .await;
    visit
        .run(StudyVisitCommand::ScheduleTerm {
            term_id: t3,
            label: text("III termin"),
            seats: 2,
            schedule: TermSchedule::Dated(dated("2026-05-10", "2026-05-11", 60 * 24 * 30)),
        })
        .await;
    visit
        .run(StudyVisitCommand::FixTermDates {
            term_id: t2,
            dates: dated("2026-04-15", "2026-04-16", 60 * 24 * 7),
        })
        .await;
    visit
        .run(StudyVisitCommand::OpenRecruitment { term_id: t1 })
        .await;

    // Term 1: seven live applications for three seats, three of them from institution 100,
    // which meets both preferences (ranks 1, 2 and 4): the cap sets two of them aside, and
    // with no seat left they are passed over; 600 and 300 wait.
    let a1 = visit.submit(t1, jst("Gmina A", 100)).await;
    let a2 = visit.submit(t1, jst("Gmina A", 100)).await;
    let a3 = visit.submit(t1, jst("Gmina B", 200)).await;
    let a4 = visit.submit(t1, jst("Gmina A", 100)).await;
    let a5 = visit.submit(t1, jst("Gmina C", 300)).await;
    let a6 = visit.submit(t1, jst("Gmina D", 400)).await;
    let a7 = visit.submit(t1, jst("Gmina E", 500)).await;
    let a8 = visit.submit(t1, jst("Gmina F", 600)).await;
    visit
        .run(StudyVisitCommand::WithdrawApplication {
            application_id: a6,
            by: Withdrawer::Applicant,
        })
        .await;
    visit
        .run(StudyVisitCommand::CloseRecruitment {
            term_id: t1,
            trigger: CloseTrigger::Manual,
        })
        .await;
    let up_to_close = db.events_of("StudyVisit", visit.id).await.len();

    // Term 2 opens while institutions hold seats in term 1: the cap counts them, so 200
    // (first in rank) is passed over in the provisional ranking.
    visit
        .run(StudyVisitCommand::OpenRecruitment { term_id: t2 })
        .await;
    let b1 = visit.submit(t2, jst("Gmina B", 200)).await;
    let b2 = visit.submit(t2, jst("Gmina G", 700)).await;
    let b3 = visit.submit(t2, jst("Gmina H", 800)).await;

    // Term 1 after the close: a release promotes, a seat is given by hand, attendance.
    let closed = aggregate(&db.events_of("StudyVisit", visit.id).await)
        .roster(t1)
        .unwrap();
    assert_eq!(closed.allocated.len(), 3, "{closed:?}");
    assert!(!closed.waitlist.is_empty(), "{closed:?}");
    assert!(!closed.passed_over.is_empty(), "{closed:?}");
    let released = closed.allocated[0].application_id;
    visit
        .run(StudyVisitCommand::ReleaseSeat {
            application_id: released,
            reason: text("Zmiana kadrowa"),
            by: "token:test".into(),
        })
        .await;
    let after_release = aggregate(&db.events_of("StudyVisit", visit.id).await)
        .roster(t1)
        .unwrap();
    let still_passed_over = after_release.passed_over[0].application_id;
    visit
        .run(StudyVisitCommand::AllocateSeatManually {
            application_id: still_passed_over,
            reason: text("Miejsce zwolnione przez partnera projektu"),
            by: "token:test".into(),
        })
        .await;
    visit
        .run(StudyVisitCommand::RecordAttendance {
            application_id: after_release.allocated[0].application_id,
            day: None,
            attended: true,
        })
        .await;
    visit
        .run(StudyVisitCommand::CancelTerm {
            term_id: t3,
            reason: text("Za mało chętnych"),
        })
        .await;

    db.catch_up().await;
    let events = db.events_of("StudyVisit", visit.id).await;
    let terms = [t1, t2, t3, Uuid::now_v7()];
    let ids = [a1, a2, a3, a4, a5, a6, a7, a8, b1, b2, b3, Uuid::now_v7()];

    // Live == replayed over every event, for every query.
    let mut conn = db.pool.acquire().await.unwrap();
    let live = answers(&mut conn, visit.id, &terms, &ids).await;
    drop(conn);
    let mut replayed =
        projections::replay(&db.pool, &[&StudyVisits, &Applications], events.clone())
            .await
            .unwrap();
    assert_eq!(replayed.position, events.last().unwrap().position);
    let again = answers(replayed.conn(), visit.id, &terms, &ids).await;
    drop(replayed);
    assert_eq!(live, again);
    // The history left something to compare in every list.
    let [Some(r1), Some(r2), Some(r3), None] = &live.rosters[..] else {
        panic!("rosters of three terms: {:?}", live.rosters);
    };
    assert!(
        !r1.provisional && r1.allocated.len() == 4 && r1.withdrawn == 1,
        "{r1:?}"
    );
    assert!(
        r1.allocated.iter().any(|e| e.attended == Some(true)),
        "{r1:?}"
    );
    assert!(r2.provisional && r2.allocated.len() == 2, "{r2:?}");
    assert_eq!(r3.status, TermStatus::Cancelled);
    assert!(live
        .applications
        .iter()
        .flatten()
        .any(|a| a.status == ApplicationStatus::Released));
    assert!(!live.held.is_empty());

    // The roster replayed from the events up to the close equals the aggregate's then.
    let cut = &events[..up_to_close];
    let replayed = replayed_rosters(&db, visit.id, &terms, cut).await;
    let from_aggregate: Vec<_> = terms.iter().map(|t| aggregate(cut).roster(*t)).collect();
    assert_eq!(replayed, from_aggregate, "at the close");
    let Some(closed_then) = &replayed[0] else {
        panic!("term 1 existed at the close");
    };
    assert_eq!(closed_then.status, TermStatus::Closed);
    assert!(!closed_then.waitlist.is_empty() && !closed_then.passed_over.is_empty());

    // And after every other event too: provisional rankings, held seats, promotions.
    for n in 0..=events.len() {
        let cut = &events[..n];
        let replayed = replayed_rosters(&db, visit.id, &terms, cut).await;
        let from_aggregate: Vec<_> = terms.iter().map(|t| aggregate(cut).roster(*t)).collect();
        assert_eq!(replayed, from_aggregate, "after {n} events");
    }
    db.drop_now().await;
}

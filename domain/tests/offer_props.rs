//! Random scenarios of seat offers driven through the aggregate (DOMAIN.md "Seat offers"):
//! after a close, seats are given back, offers are accepted, declined and left to expire
//! while the clock runs towards and past the term's first day. The stream always verifies
//! (every offer to the person the promotion rule picks, no acceptance after its expiry,
//! no expiry before it), replays to the same state, a term never holds more seats and
//! offers than it has, and no offer outlasts — or is made after — the start of the term.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::{block_on, text, Driver};
use cqrs_es::Aggregate;
use domain::services::{FixedClock, StudyVisitServices};
use domain::study_visit::{
    verify, ApplicationStatus, CloseTrigger, ConsentRecord, LegalBasis, StudyVisit,
    StudyVisitCommand, StudyVisitEvent, TermDates, TermSchedule, Withdrawer,
};
use domain::values::{Institution, InstitutionType, Nip, OrganizerId};
use proptest::prelude::*;
use uuid::Uuid;

fn nip(n: u32) -> Nip {
    (300_000_000 + n * 104_729..)
        .find_map(Nip::completing)
        .expect("valid nip")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 1, 8, 0, 0)
        .single()
        .expect("instant")
}

/// 00:00 Warsaw on 27 June 2022, when the terms begin.
fn begins() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 26, 22, 0, 0)
        .single()
        .expect("instant")
}

#[derive(Debug, Clone)]
enum Op {
    Withdraw(usize),
    Release(usize),
    Accept(usize),
    Decline(usize),
    Expire(usize),
    /// Hours the clock moves.
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..40).prop_map(Op::Withdraw),
        2 => (0usize..40).prop_map(Op::Release),
        3 => (0usize..40).prop_map(Op::Accept),
        2 => (0usize..40).prop_map(Op::Decline),
        2 => (0usize..40).prop_map(Op::Expire),
        3 => (1i64..40).prop_map(Op::Wait),
    ]
}

/// What these scenarios ask of the driver besides running commands.
trait Offered {
    fn with_status(&self, status: ApplicationStatus) -> Vec<Uuid>;
}

impl Offered for Driver {
    /// The applications with `status`, in id order (stable for the picks of the ops).
    fn with_status(&self, status: ApplicationStatus) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .visit
            .applications()
            .iter()
            .filter(|a| a.status == status)
            .map(|a| a.application_id)
            .collect();
        ids.sort();
        ids
    }
}

fn pick(ids: &[Uuid], i: usize) -> Option<Uuid> {
    (!ids.is_empty()).then(|| ids[i % ids.len()])
}

async fn scenario(
    seats: u32,
    cap: Option<u32>,
    hours: u32,
    candidates: u32,
    ops: Vec<Op>,
) -> Driver {
    let clock = Arc::new(FixedClock::new(start()));
    let mut d = Driver::new(StudyVisitServices::new(clock.clone()));
    assert!(
        d.exec(StudyVisitCommand::Announce {
            visit_id: Uuid::from_u128(1),
            organizer: OrganizerId::parse("rops-olsztyn").expect("slug"),
            title: text("Wizyta"),
            destination: text("Ełk"),
            description: String::new(),
            eligible_institution_types: vec![InstitutionType::JST],
            max_per_institution: cap,
            preferences: Vec::new(),
            funding: None,
        })
        .await
    );
    assert!(
        d.exec(StudyVisitCommand::SetOfferHours {
            offer_hours: Some(hours)
        })
        .await
    );
    let term_id = Uuid::from_u128(100);
    let day = NaiveDate::from_ymd_opt(2022, 6, 27).expect("date");
    assert!(
        d.exec(StudyVisitCommand::ScheduleTerm {
            term_id,
            label: text("termin"),
            seats,
            schedule: TermSchedule::Dated(TermDates {
                starts_on: day,
                ends_on: day,
                recruitment_deadline: start() + Duration::days(10),
            }),
        })
        .await
    );
    assert!(d.exec(StudyVisitCommand::OpenRecruitment { term_id }).await);
    for i in 0..candidates {
        let ok = d
            .exec(StudyVisitCommand::SubmitApplication {
                application_id: Uuid::from_u128(10_000 + u128::from(i)),
                term_id,
                subject_id: Uuid::from_u128(50_000 + u128::from(i)),
                institution: Institution {
                    name: text("Instytucja"),
                    kind: InstitutionType::JST,
                    nip: nip(i % 4),
                    regon: None,
                },
                consent: Some(ConsentRecord {
                    information_clause: text("2026-01"),
                    legal_basis: LegalBasis::Consent,
                }),
            })
            .await;
        assert!(ok);
    }
    clock.set(start() + Duration::days(10));
    assert!(
        d.exec(StudyVisitCommand::CloseRecruitment {
            term_id,
            trigger: CloseTrigger::Deadline,
        })
        .await
    );
    for op in ops {
        let offered = d.with_status(ApplicationStatus::Offered);
        match op {
            Op::Wait(h) => clock.advance(Duration::hours(h)),
            Op::Withdraw(i) => {
                let live: Vec<Uuid> = d
                    .visit
                    .applications()
                    .iter()
                    .filter(|a| a.status.is_live())
                    .map(|a| a.application_id)
                    .collect();
                if let Some(application_id) = pick(&live, i) {
                    d.exec(StudyVisitCommand::WithdrawApplication {
                        application_id,
                        by: Withdrawer::Applicant,
                    })
                    .await;
                }
            }
            Op::Release(i) => {
                if let Some(application_id) = pick(&d.with_status(ApplicationStatus::Allocated), i)
                {
                    d.exec(StudyVisitCommand::ReleaseSeat {
                        application_id,
                        reason: text("nie może jechać"),
                        by: "coordinator".into(),
                    })
                    .await;
                }
            }
            Op::Accept(i) => {
                if let Some(application_id) = pick(&offered, i) {
                    d.exec(StudyVisitCommand::AcceptOffer { application_id })
                        .await;
                }
            }
            Op::Decline(i) => {
                if let Some(application_id) = pick(&offered, i) {
                    d.exec(StudyVisitCommand::DeclineOffer { application_id })
                        .await;
                }
            }
            Op::Expire(i) => {
                if let Some(application_id) = pick(&offered, i) {
                    d.exec(StudyVisitCommand::ExpireOffer { application_id })
                        .await;
                }
            }
        }
        // A term never holds more seats and standing offers than it has.
        let held = d
            .visit
            .applications()
            .iter()
            .filter(|a| {
                matches!(
                    a.status,
                    ApplicationStatus::Allocated | ApplicationStatus::Offered
                )
            })
            .count();
        assert!(held as u32 <= seats, "{held} held of {seats}");
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn offer_streams_verify_replay_and_respect_the_start_of_the_term(
        seats in 1u32..4,
        cap in prop_oneof![Just(None), (1u32..=2).prop_map(Some)],
        hours in 1u32..96,
        candidates in 1u32..10,
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let d = block_on(scenario(seats, cap, hours, candidates, ops));
        let report = verify(&d.events);
        prop_assert!(report.consistent(), "{:#?}", report.discrepancies);

        let mut replayed = StudyVisit::default();
        for e in d.events.iter().cloned() {
            replayed.apply(e);
        }
        prop_assert_eq!(&replayed, &d.visit);

        for e in &d.events {
            if let StudyVisitEvent::SeatOffered { expires_at, .. } = e {
                prop_assert!(*expires_at <= begins(), "an offer outlasts the start: {expires_at}");
            }
        }

        // Forging the person of an offer is always caught.
        if let Some(p) = d.events.iter().position(|e| matches!(e, StudyVisitEvent::SeatOffered { .. })) {
            let mut forged = d.events.clone();
            if let StudyVisitEvent::SeatOffered { application_id, .. } = &mut forged[p] {
                *application_id = Uuid::from_u128(99_999);
            }
            prop_assert!(!verify(&forged).consistent());
        }
    }
}

/// The generator's moves do make offers, accept and let them lapse (the property above is
/// not vacuous).
#[test]
fn a_known_scenario_offers_declines_and_accepts() {
    let d = block_on(scenario(
        1,
        None,
        24,
        3,
        vec![Op::Withdraw(0), Op::Decline(0), Op::Accept(0)],
    ));
    let names: Vec<&str> = d.events.iter().map(|e| e.name()).collect();
    let tail = &names[names.len() - 7..];
    assert_eq!(
        tail,
        [
            "ApplicationWithdrawn",
            "SeatReleased",
            "SeatOffered",
            "OfferDeclined",
            "SeatOffered",
            "OfferAccepted",
            "SeatAllocated"
        ]
    );
    assert!(verify(&d.events).consistent());
}

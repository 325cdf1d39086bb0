//! Random scenarios driven through the aggregate: the stream it writes always
//! verifies, replays to the same state, and its rosters stay within their seats.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::{block_on, text, Driver};
use cqrs_es::Aggregate;
use domain::services::{FixedClock, StudyVisitServices};
use domain::study_visit::{
    verify, ApplicationStatus, CloseTrigger, ConsentRecord, LegalBasis, Preference, PreferenceKind,
    StudyVisit, StudyVisitCommand, StudyVisitEvent, TermDates, TermSchedule, TermStatus,
    Withdrawer,
};
use domain::values::{Institution, InstitutionType, Nip, OrganizerId, PreferenceCode};
use proptest::prelude::*;
use uuid::Uuid;

/// A valid NIP per institution number: nine digits from `n` completed with their check
/// digit by the domain's own algorithm (the next nine digits where none exists).
fn nip(n: u32) -> Nip {
    (200_000_000 + n * 104_729..)
        .find_map(Nip::completing)
        .expect("valid nip")
}

fn code(i: usize) -> PreferenceCode {
    PreferenceCode::parse(["cus_declared", "new_to_project"][i]).expect("code")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 1, 8, 0, 0)
        .single()
        .expect("instant")
}

#[derive(Debug, Clone)]
enum Op {
    Submit {
        term: usize,
        inst: u32,
        subject: u32,
    },
    Withdraw {
        app: usize,
    },
    Release {
        app: usize,
    },
    Close {
        term: usize,
    },
    ReplaceList {
        pref: usize,
        insts: Vec<u32>,
    },
    Attendance {
        app: usize,
        attended: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0usize..3, 0u32..4, 0u32..200).prop_map(|(term, inst, subject)| Op::Submit { term, inst, subject }),
        2 => (0usize..80).prop_map(|app| Op::Withdraw { app }),
        2 => (0usize..80).prop_map(|app| Op::Release { app }),
        1 => (0usize..3).prop_map(|term| Op::Close { term }),
        1 => (0usize..2, proptest::collection::vec(0u32..6, 0..4)).prop_map(|(pref, insts)| Op::ReplaceList { pref, insts }),
        1 => (0usize..80, any::<bool>()).prop_map(|(app, attended)| Op::Attendance { app, attended }),
    ]
}

async fn scenario(seats: Vec<u32>, cap: Option<u32>, ops: Vec<Op>) -> Driver {
    let clock = Arc::new(FixedClock::new(start()));
    let mut d = Driver::new(StudyVisitServices::new(clock.clone()));
    assert!(
        d.exec(StudyVisitCommand::Announce {
            visit_id: Uuid::from_u128(1),
            organizer: OrganizerId::parse("rops-olsztyn").expect("slug"),
            title: text("Wizyta"),
            destination: text("Ełk"),
            description: String::new(),
            eligible_institution_types: vec![InstitutionType::JST, InstitutionType::PES],
            max_per_institution: cap,
            preferences: vec![
                Preference {
                    code: code(0),
                    label: text("CUS"),
                    kind: PreferenceKind::Listed
                },
                Preference {
                    code: code(1),
                    label: text("new"),
                    kind: PreferenceKind::NotListed
                },
            ],
            funding: None,
        })
        .await
    );
    let terms: Vec<Uuid> = (0..seats.len())
        .map(|i| Uuid::from_u128(100 + i as u128))
        .collect();
    for (term_id, s) in terms.iter().zip(&seats) {
        let day = NaiveDate::from_ymd_opt(2022, 6, 27).expect("date");
        assert!(
            d.exec(StudyVisitCommand::ScheduleTerm {
                term_id: *term_id,
                label: text("termin"),
                seats: *s,
                schedule: TermSchedule::Dated(TermDates {
                    starts_on: day,
                    ends_on: day,
                    recruitment_deadline: start() + Duration::days(20),
                }),
            })
            .await
        );
        assert!(
            d.exec(StudyVisitCommand::OpenRecruitment { term_id: *term_id })
                .await
        );
    }
    let mut apps: Vec<Uuid> = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        clock.advance(Duration::minutes(1));
        match op {
            Op::Submit {
                term,
                inst,
                subject,
            } => {
                let application_id = Uuid::from_u128(10_000 + i as u128);
                let ok = d
                    .exec(StudyVisitCommand::SubmitApplication {
                        application_id,
                        term_id: terms[term % terms.len()],
                        subject_id: Uuid::from_u128(50_000 + subject as u128),
                        institution: Institution {
                            name: text("Instytucja"),
                            kind: if inst % 2 == 0 {
                                InstitutionType::JST
                            } else {
                                InstitutionType::CIS
                            },
                            nip: nip(inst),
                            regon: None,
                        },
                        consent: Some(ConsentRecord {
                            information_clause: text("2026-01"),
                            legal_basis: LegalBasis::Consent,
                        }),
                    })
                    .await;
                if ok {
                    apps.push(application_id);
                }
            }
            Op::Withdraw { app } if !apps.is_empty() => {
                // Mostly live applications (seat holders included); sometimes any.
                let live = with_status(&d.visit, &apps, |s| s.is_live());
                let pool = if app % 5 == 0 || live.is_empty() {
                    apps.clone()
                } else {
                    live
                };
                let by = if app % 2 == 0 {
                    Withdrawer::Applicant
                } else {
                    Withdrawer::Coordinator
                };
                d.exec(StudyVisitCommand::WithdrawApplication {
                    application_id: pool[app % pool.len()],
                    by,
                })
                .await;
            }
            Op::Release { app } if !apps.is_empty() => {
                // Mostly seat holders; sometimes anyone (refused).
                let holders = with_status(&d.visit, &apps, |s| s == ApplicationStatus::Allocated);
                let pool = if app % 5 == 0 || holders.is_empty() {
                    apps.clone()
                } else {
                    holders
                };
                d.exec(StudyVisitCommand::ReleaseSeat {
                    application_id: pool[app % pool.len()],
                    reason: text("reason"),
                    by: "coordinator".to_owned(),
                })
                .await;
            }
            Op::Attendance { app, attended } if !apps.is_empty() => {
                d.exec(StudyVisitCommand::RecordAttendance {
                    application_id: apps[app % apps.len()],
                    day: None,
                    attended,
                })
                .await;
            }
            Op::Close { term } => {
                d.exec(StudyVisitCommand::CloseRecruitment {
                    term_id: terms[term % terms.len()],
                    trigger: CloseTrigger::Manual,
                })
                .await;
            }
            Op::ReplaceList { pref, insts } => {
                d.exec(StudyVisitCommand::ReplacePreferenceList {
                    code: code(pref),
                    nips: insts.into_iter().map(nip).collect(),
                })
                .await;
            }
            _ => {}
        }
    }
    // Finally the deadline watcher closes whatever is still open.
    clock.set(start() + Duration::days(20));
    for term_id in &terms {
        d.exec(StudyVisitCommand::CloseRecruitment {
            term_id: *term_id,
            trigger: CloseTrigger::Deadline,
        })
        .await;
    }
    d
}

fn with_status(
    visit: &StudyVisit,
    apps: &[Uuid],
    keep: impl Fn(ApplicationStatus) -> bool,
) -> Vec<Uuid> {
    apps.iter()
        .copied()
        .filter(|id| visit.application(*id).is_some_and(|a| keep(a.status)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aggregate_streams_verify_and_replay(
        seats in proptest::collection::vec(1u32..5, 1..=3),
        cap in prop_oneof![Just(None), (1u32..=2).prop_map(Some)],
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let d = block_on(scenario(seats, cap, ops));
        let report = verify(&d.events);
        prop_assert!(report.consistent(), "{:#?}", report.discrepancies);
        let decisions = d.events.iter().filter(|e| matches!(e,
            StudyVisitEvent::SeatAllocated { .. } | StudyVisitEvent::ApplicantWaitlisted { .. } | StudyVisitEvent::ApplicationPassedOver { .. })).count();
        let releases = d.events.iter().filter(|e| matches!(e, StudyVisitEvent::SeatReleased { .. })).count();
        let promotions = d.events.iter().filter(|e| matches!(e, StudyVisitEvent::SeatAllocated { basis, .. } if basis.promoted_for.is_some())).count();
        prop_assert_eq!(report.checked as usize, decisions - promotions + releases);

        let mut replayed = StudyVisit::default();
        for e in d.events.iter().cloned() {
            replayed.apply(e);
        }
        prop_assert_eq!(&replayed, &d.visit);

        // Every roster stays within its seats; seats per institution are consistent.
        let mut per_inst: BTreeMap<Nip, u32> = BTreeMap::new();
        for term in d.visit.terms() {
            prop_assert_eq!(term.status, TermStatus::Closed);
            let roster = d.visit.roster(term.term_id).expect("roster");
            prop_assert!(roster.allocated.len() as u32 <= roster.seats);
            prop_assert!(!roster.provisional);
            // Someone waits only when every seat is taken.
            if !roster.waitlist.is_empty() || !roster.passed_over.is_empty() {
                prop_assert_eq!(roster.seats_left(), 0);
            }
            for (i, e) in roster.waitlist.iter().enumerate() {
                prop_assert_eq!(e.waitlist_position, Some(i as u32 + 1));
                prop_assert_eq!(e.status, ApplicationStatus::Waitlisted);
            }
            for (n, c) in roster.allocated_per_institution() {
                *per_inst.entry(n).or_insert(0) += c;
            }
        }
        let held: BTreeMap<Nip, u32> = d.visit.held_total().into_iter().collect();
        prop_assert_eq!(per_inst, held);

        // Tampering: swapping the first two decisions of a close is always caught.
        let is_decision = |e: &StudyVisitEvent| matches!(e,
            StudyVisitEvent::SeatAllocated { .. } | StudyVisitEvent::ApplicantWaitlisted { .. } | StudyVisitEvent::ApplicationPassedOver { .. });
        let pair = d.events.windows(3).position(|w|
            matches!(w[0], StudyVisitEvent::RecruitmentClosed { .. }) && is_decision(&w[1]) && is_decision(&w[2]));
        if let Some(p) = pair {
            let mut tampered = d.events.clone();
            tampered.swap(p + 1, p + 2);
            prop_assert!(!verify(&tampered).consistent());
        }
    }
}

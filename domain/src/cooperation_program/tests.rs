//! The programme's rules, decided without a database.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::error::ErrorKind;
use crate::values::{Institution, InstitutionType, Nip, PreferenceCode};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn text(s: &str) -> NonEmptyText {
    NonEmptyText::parse(s).unwrap()
}

fn institution(nip: &str) -> Institution {
    Institution {
        name: text("Starostwo Powiatowe"),
        kind: InstitutionType::JST,
        nip: Nip::parse(nip).unwrap(),
        regon: None,
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn run(
    p: &mut CooperationProgram,
    cmd: CooperationProgramCommand,
    today: &str,
) -> Result<Vec<CooperationProgramEvent>, DomainError> {
    let events = p.decide(cmd, d(today))?;
    for e in events.clone() {
        p.apply_event(e);
    }
    Ok(events)
}

fn created(deadline: Option<&str>) -> CooperationProgram {
    let mut p = CooperationProgram::default();
    run(
        &mut p,
        CooperationProgramCommand::CreateProgram {
            program_id: id(1),
            organizer: OrganizerId::parse("rops-lublin").unwrap(),
            title: text("Liderzy kooperacji"),
            kind: ProgramKind::Project,
            period: Period {
                start: d("2018-01-01"),
                end: d("2019-03-31"),
            },
            goals: vec![text("Model kooperacji")],
            indicators: vec![Indicator {
                code: PreferenceCode::parse("trust").unwrap(),
                label: text("Zaufanie"),
                target: 4,
                measure: Measure::Manual,
            }],
            partner_application_deadline: deadline.map(d),
        },
        "2018-06-01",
    )
    .unwrap();
    p
}

fn join(
    p: &mut CooperationProgram,
    n: u128,
    nip: &str,
    card: ApplicationCard,
) -> Result<Vec<CooperationProgramEvent>, DomainError> {
    run(
        p,
        CooperationProgramCommand::JoinPartner {
            partner_id: id(n),
            institution: institution(nip),
            card,
        },
        "2018-07-20",
    )
}

fn card(
    channel: Channel,
    sent: Option<&str>,
    postmarked: Option<&str>,
    delivered: Option<&str>,
) -> ApplicationCard {
    ApplicationCard {
        channel,
        sent_on: sent.map(d),
        postmarked_on: postmarked.map(d),
        delivered_on: delivered.map(d),
    }
}

#[test]
fn partner_deadline_counts_the_channel_date() {
    let mut p = created(Some("2018-07-13"));
    join(
        &mut p,
        10,
        "9562307984",
        card(Channel::Email, Some("2018-07-13"), None, Some("2018-07-14")),
    )
    .unwrap();
    let late = join(
        &mut p,
        11,
        "5260250995",
        card(Channel::Email, Some("2018-07-14"), None, None),
    )
    .unwrap_err();
    assert_eq!(
        (late.kind, late.code),
        (ErrorKind::Conflict, "application_late")
    );
    join(
        &mut p,
        12,
        "5260250995",
        card(Channel::Post, None, Some("2018-07-13"), Some("2018-07-16")),
    )
    .unwrap();
    let late = join(
        &mut p,
        13,
        "7740001454",
        card(Channel::InPerson, None, None, Some("2018-07-14")),
    )
    .unwrap_err();
    assert_eq!(late.code, "application_late");
    let missing = join(
        &mut p,
        14,
        "7740001454",
        card(Channel::Post, Some("2018-07-10"), None, None),
    )
    .unwrap_err();
    assert_eq!(
        (missing.kind, missing.field.as_deref()),
        (ErrorKind::Invalid, Some("postmarked_on"))
    );
    let twice = join(
        &mut p,
        15,
        "9562307984",
        card(Channel::InPerson, None, None, Some("2018-07-12")),
    )
    .unwrap_err();
    assert_eq!(twice.code, "already_partner");
    assert_eq!(p.partners().len(), 2);
}

#[test]
fn activities_move_through_their_states() {
    let mut p = created(None);
    let plan = |n: u128| {
        CooperationProgramCommand::PlanActivity(PlannedActivity {
            activity_id: id(n),
            kind: ActivityKind::Training,
            title: text("Szkolenie"),
            planned: PlannedDate::parse_polish("Lipiec 2018").unwrap(),
            location: None,
            co_organizer: None,
        })
    };
    run(&mut p, plan(20), "2018-06-01").unwrap();
    run(&mut p, plan(21), "2018-06-01").unwrap();
    assert_eq!(
        run(&mut p, plan(20), "2018-06-01").unwrap_err().code,
        "duplicate_id"
    );
    let held = CooperationProgramCommand::RecordActivityHeld {
        activity_id: id(20),
        starts_on: d("2018-07-10"),
        ends_on: d("2018-07-10"),
        participants_total: 20,
        institutions: vec![institution("9562307984"), institution("956-230-79-84")],
        notes: String::new(),
    };
    let events = run(&mut p, held.clone(), "2018-07-11").unwrap();
    let CooperationProgramEvent::ActivityHeld { institutions, .. } = &events[0] else {
        panic!()
    };
    assert_eq!(institutions.len(), 1, "one entry per NIP");
    assert_eq!(
        run(&mut p, held, "2018-07-11").unwrap_err().code,
        "activity_held"
    );
    let cancel = CooperationProgramCommand::CancelActivity {
        activity_id: id(21),
        reason: text("brak sali"),
    };
    run(&mut p, cancel.clone(), "2018-07-11").unwrap();
    assert_eq!(
        run(&mut p, cancel, "2018-07-11").unwrap_err().code,
        "activity_cancelled"
    );
    let moved = CooperationProgramCommand::RescheduleActivity {
        activity_id: id(21),
        planned: PlannedDate::parse_polish("Grudzień 2018").unwrap(),
    };
    assert_eq!(
        run(&mut p, moved, "2018-07-11").unwrap_err().code,
        "activity_cancelled"
    );
    let unknown = CooperationProgramCommand::CancelActivity {
        activity_id: id(99),
        reason: text("x"),
    };
    assert_eq!(
        run(&mut p, unknown, "2018-07-11").unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn import_is_all_or_nothing_and_ids_unique() {
    let mut p = created(None);
    let a = |n: u128| PlannedActivity {
        activity_id: id(n),
        kind: ActivityKind::Meeting,
        title: text("Spotkanie"),
        planned: PlannedDate::parse_polish("7.02.2020").unwrap(),
        location: Some("Olsztyn".into()),
        co_organizer: None,
    };
    let dup = CooperationProgramCommand::ImportSchedule {
        activities: vec![a(30), a(31), a(30)],
    };
    assert_eq!(
        p.decide(dup, d("2020-01-01")).unwrap_err().code,
        "duplicate_id"
    );
    let ok = CooperationProgramCommand::ImportSchedule {
        activities: vec![a(30), a(31), a(32)],
    };
    assert_eq!(run(&mut p, ok, "2020-01-01").unwrap().len(), 3);
    let empty = CooperationProgramCommand::ImportSchedule { activities: vec![] };
    assert_eq!(
        p.decide(empty, d("2020-01-01")).unwrap_err().kind,
        ErrorKind::Invalid
    );
}

#[test]
fn consultation_window_and_feedback_rating() {
    let mut p = created(None);
    run(
        &mut p,
        CooperationProgramCommand::OpenConsultation {
            consultation_id: id(40),
            subject: text("Model kooperacji"),
            opens_on: d("2019-01-07"),
            closes_on: d("2019-02-28"),
        },
        "2019-01-02",
    )
    .unwrap();
    let comment = |n: u128, on: &str| CooperationProgramCommand::SubmitConsultationComment {
        comment_id: id(n),
        consultation_id: id(40),
        institution: institution("9562307984"),
        text: text("Uwaga"),
        submitted_on: d(on),
    };
    run(&mut p, comment(41, "2019-01-07"), "2019-01-07").unwrap();
    run(&mut p, comment(42, "2019-02-28"), "2019-02-28").unwrap();
    for on in ["2019-01-06", "2019-03-01"] {
        assert_eq!(
            run(&mut p, comment(43, on), "2019-03-01").unwrap_err().code,
            "outside_consultation_window"
        );
    }
    let feedback = |rating| CooperationProgramCommand::RecordFeedback {
        feedback_id: Uuid::new_v4(),
        channel: FeedbackChannel::Email,
        received_on: d("2019-01-10"),
        text: text("Dobre szkolenie"),
        rating,
        institution: None,
    };
    for bad in [0, 6] {
        let e = run(&mut p, feedback(Some(bad)), "2019-01-10").unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::Invalid, Some("rating"))
        );
    }
    run(&mut p, feedback(Some(5)), "2019-01-10").unwrap();
    run(&mut p, feedback(None), "2019-01-10").unwrap();
}

#[test]
fn evaluation_only_after_the_testing_period_then_closing() {
    let mut p = created(None);
    let evaluate = |manual: &[(&str, u64)]| CooperationProgramCommand::Evaluate {
        verdict: Verdict::Achieved,
        summary: "Cele osiągnięte".into(),
        manual_values: manual
            .iter()
            .map(|(c, v)| (PreferenceCode::parse(c).unwrap(), *v))
            .collect::<BTreeMap<_, _>>(),
        recommendations: vec![],
    };
    assert_eq!(
        run(&mut p, evaluate(&[]), "2014-05-02").unwrap_err().code,
        "testing_period_not_set"
    );
    run(
        &mut p,
        CooperationProgramCommand::SetTestingPeriod {
            ends_on: d("2014-04-30"),
        },
        "2014-02-04",
    )
    .unwrap();
    let early = run(&mut p, evaluate(&[]), "2014-04-30").unwrap_err();
    assert_eq!(
        (early.kind, early.code),
        (ErrorKind::Conflict, "testing_period_not_over")
    );
    let bad = run(&mut p, evaluate(&[("nope", 1)]), "2014-05-01").unwrap_err();
    assert_eq!(bad.field.as_deref(), Some("manual_values.nope"));
    let events = run(&mut p, evaluate(&[("trust", 4)]), "2014-05-01").unwrap();
    assert!(
        matches!(events[0], CooperationProgramEvent::ProgramEvaluated { evaluated_on, .. } if evaluated_on == d("2014-05-01"))
    );
    assert_eq!(
        run(&mut p, evaluate(&[]), "2014-05-02").unwrap_err().code,
        "already_evaluated"
    );
    run(
        &mut p,
        CooperationProgramCommand::Close { reason: None },
        "2014-06-01",
    )
    .unwrap();
    let after = run(
        &mut p,
        CooperationProgramCommand::SetTestingPeriod {
            ends_on: d("2014-04-30"),
        },
        "2014-06-02",
    )
    .unwrap_err();
    assert_eq!(after.code, "program_closed");
}

#[test]
fn events_are_externally_tagged_with_their_variant_name() {
    use cqrs_es::DomainEvent;
    let e = CooperationProgramEvent::ActivityRescheduled {
        activity_id: id(5),
        planned: PlannedDate::parse_polish("Koniec września 2020").unwrap(),
    };
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ActivityRescheduled": {"activity_id": id(5), "planned": {"month": "2020-09", "part": "late"}}})
    );
    assert_eq!(
        (e.event_type(), e.event_version()),
        ("ActivityRescheduled".to_owned(), "1".to_owned())
    );
    assert_eq!(
        serde_json::to_value(Measure::ActivitiesHeldOfKind(ActivityKind::Training)).unwrap(),
        "activities_held:training"
    );
    assert!(Measure::parse("activities_held:party").is_err());
}

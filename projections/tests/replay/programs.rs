//! The `programs` read model: a programme driven through its command bus with every kind of
//! event, then each query of `projections::programs::read` asked of the live tables and of
//! the tables replayed from the programme's events, which must answer alike. And at every
//! earlier moment, the replayed `read::facts` (what `GET .../evaluation?at=` evaluates now)
//! equal `EvaluationFacts::from_events` over the same events (what it evaluated before):
//! the switch of `?at=` to the read model's own code changed no answer.

use std::collections::{BTreeMap, BTreeSet};

use domain::cooperation_program::{
    ActivityKind, ApplicationCard, Channel, CooperationProgram, CooperationProgramCommand,
    CooperationProgramEvent, EvaluationFacts, FeedbackChannel, Indicator, Measure, Period,
    PlannedActivity, ProgramKind, Verdict,
};
use domain::services::AggregateServices;
use domain::values::{InstitutionType, OrganizerId, PlannedDate, PreferenceCode};
use infra::{CommandBus, StoredEvent};
use projections::programs::read;
use projections::programs::{Programs, COOPERATION_PROGRAM};
use serde_json::json;
use uuid::Uuid;

use crate::{clock, context, day, institution, planned, shared, text, Database};

const ORGANIZER: &str = "rops-torun";

fn indicator(code: &str, label: &str, target: u64, measure: &str) -> Indicator {
    Indicator {
        code: PreferenceCode::parse(code).unwrap(),
        label: text(label),
        target,
        measure: Measure::parse(measure).unwrap(),
    }
}

fn activity(kind: ActivityKind, title: &str, when: PlannedDate) -> PlannedActivity {
    PlannedActivity {
        activity_id: Uuid::now_v7(),
        kind,
        title: text(title),
        planned: when,
        location: Some("Toruń".into()),
        co_organizer: None,
    }
}

fn create(program_id: Uuid, organizer: &str) -> CooperationProgramCommand {
    CooperationProgramCommand::CreateProgram {
        program_id,
        organizer: OrganizerId::parse(organizer).unwrap(),
        title: text("Program współpracy z organizacjami pozarządowymi na 2026 rok"),
        kind: ProgramKind::CooperationProgramme,
        period: Period {
            start: day("2026-01-01"),
            end: day("2026-12-31"),
        },
        goals: vec![text("Wzmocnienie partnerstwa"), text("Aktywizacja PES")],
        indicators: vec![
            indicator("participants", "Uczestnicy", 20, "participants_total"),
            indicator("held", "Działania zrealizowane", 2, "activities_held"),
            indicator("trainings", "Szkolenia", 1, "activities_held:training"),
            indicator("institutions", "Instytucje", 2, "distinct_institutions"),
            indicator("partners", "Partnerzy", 1, "partners"),
            indicator("opinions", "Opinie", 2, "feedback_received"),
            indicator("publications", "Publikacje", 3, "manual"),
        ],
        partner_application_deadline: Some(day("2026-03-31")),
    }
}

/// The stored events decoded as `GET .../evaluation?at=` decoded them before it replayed the
/// read model, and folded into the facts the same way.
fn facts_from_events(events: &[StoredEvent]) -> EvaluationFacts {
    let decoded: Vec<CooperationProgramEvent> = events
        .iter()
        .map(|e| {
            domain::upcasting::decode(
                &e.aggregate_type,
                &e.event_type,
                &e.event_version,
                e.payload.clone(),
            )
            .unwrap()
        })
        .collect();
    EvaluationFacts::from_events(decoded.iter())
}

#[tokio::test]
async fn live_and_replayed_programme_rows_are_equal() {
    let db = Database::fresh().await;
    // 2 March 2026: the testing period set below (to 1 March) is over, so the evaluation
    // can be recorded today.
    let clock = clock(0);
    let bus: CommandBus<CooperationProgram> = CommandBus::new(
        db.pool.clone(),
        AggregateServices::new(shared(&clock)),
        domain::upcasting::upcasters(COOPERATION_PROGRAM),
        |p: &CooperationProgram| p.organizer().map(|o| o.as_str().to_owned()),
    );
    let program_id = Uuid::now_v7();
    let id = program_id.to_string();
    let run = |cmd: CooperationProgramCommand| {
        let bus = &bus;
        let id = &id;
        async move {
            let first = matches!(cmd, CooperationProgramCommand::CreateProgram { .. });
            let scope = (!first).then_some(ORGANIZER);
            bus.execute(id, cmd.clone(), &context(cmd.name(), scope))
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", cmd.name()))
        }
    };

    // Another organizer's programme in the same tables: the live list filters it out, and
    // the replay (temporary tables fed with our programme's events only) never sees it.
    let other = Uuid::now_v7();
    bus.execute(
        &other.to_string(),
        create(other, "rops-lublin"),
        &context("CreateProgram", None),
    )
    .await
    .unwrap();

    run(create(program_id, ORGANIZER)).await;
    let pes = institution(InstitutionType::PES, "Spółdzielnia Socjalna Razem", 1);
    let cis = institution(InstitutionType::CIS, "Centrum Integracji Społecznej", 2);
    run(CooperationProgramCommand::JoinPartner {
        partner_id: Uuid::now_v7(),
        institution: pes.clone(),
        card: ApplicationCard {
            channel: Channel::Email,
            sent_on: Some(day("2026-02-20")),
            postmarked_on: None,
            delivered_on: None,
        },
    })
    .await;
    // Planned one by one, at three precisions; then two more by a schedule import.
    let training = activity(
        ActivityKind::Training,
        "Szkolenie z ekonomii społecznej",
        planned(json!({"day": "2026-03-10"})),
    );
    let forum = activity(
        ActivityKind::Forum,
        "Forum organizacji",
        planned(json!({"month": "2026-03", "part": "late"})),
    );
    let meeting = activity(
        ActivityKind::Meeting,
        "Spotkanie partnerów",
        planned(json!({"month": "2026-04"})),
    );
    for a in [&training, &forum, &meeting] {
        run(CooperationProgramCommand::PlanActivity(a.clone())).await;
    }
    let gala = activity(
        ActivityKind::Gala,
        "Gala ekonomii społecznej",
        PlannedDate::parse_polish("Koniec września 2026").unwrap(),
    );
    let bulletin = activity(
        ActivityKind::Publication,
        "Biuletyn",
        planned(json!({"from": "2026-03-10", "to": "2026-03-11"})),
    );
    run(CooperationProgramCommand::ImportSchedule {
        activities: vec![gala.clone(), bulletin.clone()],
    })
    .await;
    run(CooperationProgramCommand::RecordActivityHeld {
        activity_id: training.activity_id,
        starts_on: day("2026-03-10"),
        ends_on: day("2026-03-10"),
        participants_total: 12,
        // The same NIP twice: the domain keeps one entry per NIP.
        institutions: vec![pes.clone(), cis.clone(), pes.clone()],
        notes: "Sala konferencyjna ROPS".into(),
    })
    .await;
    run(CooperationProgramCommand::CancelActivity {
        activity_id: forum.activity_id,
        reason: text("Brak sali"),
    })
    .await;
    run(CooperationProgramCommand::RescheduleActivity {
        activity_id: meeting.activity_id,
        planned: planned(json!({"day": "2026-04-02"})),
    })
    .await;
    run(CooperationProgramCommand::RecordActivityHeld {
        activity_id: meeting.activity_id,
        starts_on: day("2026-04-02"),
        ends_on: day("2026-04-02"),
        participants_total: 9,
        institutions: vec![],
        notes: String::new(),
    })
    .await;
    run(CooperationProgramCommand::RecordFeedback {
        feedback_id: Uuid::now_v7(),
        channel: FeedbackChannel::Email,
        received_on: day("2026-03-12"),
        text: text("Dobre szkolenie, prosimy o więcej"),
        rating: Some(4),
        institution: Some(cis.clone()),
    })
    .await;
    run(CooperationProgramCommand::RecordFeedback {
        feedback_id: Uuid::now_v7(),
        channel: FeedbackChannel::Meeting,
        received_on: day("2026-03-13"),
        text: text("Propozycja wspólnego forum"),
        rating: None,
        institution: None,
    })
    .await;
    let consultation_id = Uuid::now_v7();
    run(CooperationProgramCommand::OpenConsultation {
        consultation_id,
        subject: text("Projekt programu współpracy na 2027 rok"),
        opens_on: day("2026-03-01"),
        closes_on: day("2026-03-15"),
    })
    .await;
    run(CooperationProgramCommand::SubmitConsultationComment {
        comment_id: Uuid::now_v7(),
        consultation_id,
        institution: pes.clone(),
        text: text("Proponujemy dodać szkolenia dla CIS"),
        submitted_on: day("2026-03-05"),
    })
    .await;
    run(CooperationProgramCommand::SetTestingPeriod {
        ends_on: day("2026-03-01"),
    })
    .await;
    run(CooperationProgramCommand::Evaluate {
        verdict: Verdict::PartiallyAchieved,
        summary: "Cele osiągnięte częściowo".into(),
        manual_values: BTreeMap::from([(PreferenceCode::parse("publications").unwrap(), 2)]),
        recommendations: vec![text("Więcej szkoleń")],
    })
    .await;
    run(CooperationProgramCommand::Close {
        reason: Some(text("Program zrealizowany")),
    })
    .await;

    let events = db.events_of(COOPERATION_PROGRAM, program_id).await;
    db.catch_up().await;
    let types: BTreeSet<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let every = BTreeSet::from([
        "ProgramCreated",
        "PartnerJoined",
        "ActivityPlanned",
        "ActivityRescheduled",
        "ActivityHeld",
        "ActivityCancelled",
        "FeedbackReceived",
        "TestingPeriodSet",
        "ConsultationOpened",
        "ConsultationCommentSubmitted",
        "ProgramEvaluated",
        "ProgramClosed",
    ]);
    assert_eq!(types, every, "the programme records every event type");

    // Live against replayed over every event, query by query.
    let mut live = db.pool.acquire().await.unwrap();
    let mut replayed = projections::replay(&db.pool, &[&Programs], events.clone())
        .await
        .unwrap();
    assert_eq!(
        replayed.position,
        events.iter().map(|e| e.position).max().unwrap()
    );
    let r = replayed.conn();

    let live_list = read::list(&mut live, Some(ORGANIZER)).await.unwrap();
    assert_eq!(live_list.len(), 1);
    assert_eq!(live_list, read::list(r, Some(ORGANIZER)).await.unwrap());
    assert_eq!(read::list(&mut live, None).await.unwrap().len(), 2);
    assert_eq!(
        read::list(r, None).await.unwrap(),
        live_list,
        "the replay holds this programme only"
    );
    assert!(read::list(r, Some("rops-lublin")).await.unwrap().is_empty());

    let program = read::program(&mut live, program_id).await.unwrap().unwrap();
    assert_eq!(
        Some(&program),
        read::program(r, program_id).await.unwrap().as_ref()
    );
    assert_eq!(program.goals.len(), 2);
    assert_eq!(program.indicators.len(), 7);
    let evaluation = program.evaluation.as_ref().unwrap();
    assert_eq!(evaluation.verdict, "partially_achieved");
    assert_eq!(evaluation.manual_values["publications"], 2);
    assert_eq!(program.testing_ends_on, Some(day("2026-03-01")));
    assert_eq!(
        program.close_reason.as_deref(),
        Some("Program zrealizowany")
    );

    let partners = read::partners(&mut live, program_id).await.unwrap();
    assert_eq!(partners.len(), 1);
    assert_eq!(partners, read::partners(r, program_id).await.unwrap());

    let activities = read::activities(&mut live, program_id).await.unwrap();
    assert_eq!(activities, read::activities(r, program_id).await.unwrap());
    let order: Vec<&str> = activities.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(
        order,
        [
            "Szkolenie z ekonomii społecznej",
            "Biuletyn",
            "Forum organizacji",
            "Spotkanie partnerów",
            "Gala ekonomii społecznej"
        ],
        "date order: first day, then the more precise date"
    );
    let statuses: Vec<&str> = activities.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["held", "planned", "cancelled", "held", "planned"]
    );
    assert_eq!(
        activities[0].institutions.as_ref().map(Vec::len),
        Some(2),
        "one entry per NIP"
    );

    let feedback = read::feedback(&mut live, program_id).await.unwrap();
    assert_eq!(feedback.len(), 2);
    assert_eq!(feedback, read::feedback(r, program_id).await.unwrap());

    let consultations = read::consultations(&mut live, program_id).await.unwrap();
    assert_eq!(consultations.len(), 1);
    assert_eq!(consultations[0].comments.len(), 1);
    assert_eq!(
        consultations,
        read::consultations(r, program_id).await.unwrap()
    );
    assert_eq!(
        read::comments(&mut live, program_id).await.unwrap(),
        read::comments(r, program_id).await.unwrap()
    );

    let facts = read::facts(&mut live, program_id).await.unwrap().unwrap();
    assert_eq!(
        Some(&facts),
        read::facts(r, program_id).await.unwrap().as_ref()
    );
    assert_eq!(facts, facts_from_events(&events));
    drop(replayed);

    // Every earlier moment: the replayed read model's facts against the facts folded from
    // the same events, the two ways `?at=` has been answered.
    for n in 1..events.len() {
        let then = &events[..n];
        let mut replayed = projections::replay(&db.pool, &[&Programs], then.to_vec())
            .await
            .unwrap();
        assert_eq!(replayed.position, then[n - 1].position);
        let from_model = read::facts(replayed.conn(), program_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            from_model,
            facts_from_events(then),
            "after {} events (last {})",
            n,
            then[n - 1].event_type
        );
    }

    // As `?at=` cuts: by the instant an event was recorded. Halfway, after the feedback
    // and before the consultation, the programme was neither evaluated nor closed.
    let cut = events
        .iter()
        .position(|e| e.event_type == "ConsultationOpened")
        .unwrap();
    let at = events[cut - 1].recorded_at;
    let then = infra::feed::aggregate_events(&db.pool, COOPERATION_PROGRAM, &id, Some(at), None)
        .await
        .unwrap();
    assert_eq!(then.len(), cut);
    let mut replayed = projections::replay(&db.pool, &[&Programs], then.clone())
        .await
        .unwrap();
    let r = replayed.conn();
    let program = read::program(r, program_id).await.unwrap().unwrap();
    assert_eq!(program.evaluation, None);
    assert_eq!(program.closed_on, None);
    assert!(read::consultations(r, program_id).await.unwrap().is_empty());
    assert_eq!(
        read::facts(r, program_id).await.unwrap().unwrap(),
        facts_from_events(&then)
    );
    drop(replayed);

    db.drop_now().await;
}

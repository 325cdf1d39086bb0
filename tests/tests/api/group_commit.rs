//! Group commit: commands waiting on one aggregate are decided together and committed in one
//! transaction, yet each keeps its own answer, position, refusal and side rows.
#![allow(clippy::unwrap_used)]

use domain::study_visit::{StudyVisit, StudyVisitCommand};
use domain::ErrorKind;
use futures::future::join_all;
use std::sync::Arc;

use infra::pipeline::{side_write, SideFuture, SideRow};
use infra::{CommandBus, CommandContext, PipelineError};
use sqlx::PgPool;
use uuid::Uuid;

/// A visit with one open term, created over HTTP, and a second command bus on its database
/// (as another instance would have).
async fn open_term() -> (tests::TestApp, CommandBus<StudyVisit>, String, Uuid) {
    let app = tests::spawn().await;
    let (visit, term) = app.open_recruitment(Some(2), 10).await;
    let bus = tests::study_visit_bus(app.pool.clone());
    sqlx::query("CREATE TABLE side_rows (application_id uuid PRIMARY KEY)")
        .execute(&app.pool)
        .await
        .unwrap();
    (app, bus, visit, Uuid::parse_str(&term).unwrap())
}

fn context(n: u32, scope: Option<&str>) -> CommandContext {
    CommandContext {
        actor: format!("client-{n}"),
        organizer_scope: scope.map(str::to_owned),
        correlation_id: format!("corr-{n}"),
        causation_id: format!("req-{n}"),
        command: "SubmitApplication".into(),
        idempotency_key: Some(format!("key-{n}")),
    }
}

/// A row of `side_rows`; one with `fail` is recorded and then fails its write, as a side
/// write that hits a constraint does.
struct TestRow {
    application_id: Uuid,
    fail: bool,
}

impl SideRow for TestRow {
    fn write_all(conn: &mut sqlx::PgConnection, rows: Vec<Arc<Self>>) -> SideFuture<'_> {
        Box::pin(async move {
            let ids: Vec<Uuid> = rows.iter().map(|r| r.application_id).collect();
            sqlx::query("INSERT INTO side_rows SELECT * FROM UNNEST($1::uuid[])")
                .bind(&ids)
                .execute(&mut *conn)
                .await?;
            if rows.iter().any(|r| r.fail) {
                return Err(sqlx::Error::RowNotFound);
            }
            Ok(())
        })
    }
}

fn side(application_id: Uuid, fail: bool) -> infra::pipeline::SideWrite {
    side_write(TestRow {
        application_id,
        fail,
    })
}

/// (position, tx_id, actor, idempotency key) of the stored submission of `application_id`.
async fn stored(pool: &PgPool, application_id: Uuid) -> Option<(i64, String, String, String)> {
    sqlx::query_as(
        "SELECT position, tx_id::text, metadata ->> 'actor', metadata ->> 'idempotency_key'
           FROM events WHERE payload -> 'ApplicationSubmitted' ->> 'application_id' = $1",
    )
    .bind(application_id.to_string())
    .fetch_optional(pool)
    .await
    .unwrap()
}

// The current-thread runtime runs the queue's task only once every command below has been
// queued, so they form one group deterministically.
#[tokio::test]
async fn a_group_commits_once_and_answers_each_command_with_its_own_position_and_metadata() {
    let (app, bus, visit, term) = open_term().await;
    let ids: Vec<Uuid> = (0..12).map(|_| Uuid::now_v7()).collect();
    let answers = join_all(ids.iter().enumerate().map(|(n, id)| {
        let ctx = context(n as u32, None);
        let (bus, visit) = (&bus, &visit);
        async move {
            bus.execute_with(
                visit,
                tests::submission(*id, term, n as u32),
                &ctx,
                Some(side(*id, false)),
            )
            .await
        }
    }))
    .await;
    let mut transactions = std::collections::HashSet::new();
    let mut previous = 0;
    for (n, (id, answer)) in ids.iter().zip(answers).enumerate() {
        let done = answer.unwrap();
        let (position, tx, actor, key) = stored(&app.pool, *id).await.unwrap();
        assert_eq!(done.position, position, "command {n} answers its own event");
        assert!(position > previous, "queue order is commit order");
        previous = position;
        assert_eq!((actor, key), (format!("client-{n}"), format!("key-{n}")));
        transactions.insert(tx);
    }
    assert_eq!(transactions.len(), 1, "one transaction for the whole group");
    let side_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM side_rows")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(side_rows, 12);
    // The chain stays whole across the shared INSERT.
    let integrity = app.get("/api/v1/audit/integrity", &app.admin).await;
    assert_eq!(integrity.body["intact"], true, "{}", integrity.body);
    assert_eq!(
        integrity.body["verified"],
        12 + 3,
        "announce, schedule, open and the group"
    );
}

#[tokio::test]
async fn a_refusal_or_a_failing_side_write_in_a_group_touches_only_its_own_command() {
    let (app, bus, visit, term) = open_term().await;
    let ids: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    // 2 repeats 1's application id (refused: the group's decisions see each other), 4 is
    // outside the caller's organizer (not visible), 6's side write fails.
    let commands: Vec<(Uuid, StudyVisitCommand, CommandContext, bool)> = (0..8u32)
        .map(|n| {
            let id = if n == 2 { ids[1] } else { ids[n as usize] };
            let scope = (n == 4).then_some("some-other-organizer");
            (
                id,
                tests::submission(id, term, n),
                context(n, scope),
                n == 6,
            )
        })
        .collect();
    let answers = join_all(commands.iter().map(|(id, cmd, ctx, fail)| {
        let (bus, visit) = (&bus, &visit);
        async move {
            bus.execute_with(visit, cmd.clone(), ctx, Some(side(*id, *fail)))
                .await
        }
    }))
    .await;
    for (n, answer) in answers.iter().enumerate() {
        match (n, answer) {
            (2, Err(PipelineError::Domain(e))) => {
                assert_eq!(
                    (e.kind, e.code),
                    (ErrorKind::Conflict, "duplicate_application_id")
                )
            }
            (4, Err(PipelineError::NotVisible)) | (6, Err(PipelineError::Internal(_))) => {}
            (2 | 4 | 6, other) => panic!("command {n}: {other:?}"),
            (_, Ok(done)) => {
                let (position, ..) = stored(&app.pool, ids[n]).await.unwrap();
                assert_eq!(done.position, position, "command {n}");
            }
            (_, Err(e)) => panic!("command {n} should have committed: {e}"),
        }
    }
    assert_eq!(stored(&app.pool, ids[4]).await, None);
    assert_eq!(
        stored(&app.pool, ids[6]).await,
        None,
        "no event without its side rows"
    );
    let side_rows: Vec<Uuid> =
        sqlx::query_scalar("SELECT application_id FROM side_rows ORDER BY application_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let mut expected: Vec<Uuid> = [0, 1, 3, 5, 7].iter().map(|&n| ids[n]).collect();
    expected.sort();
    assert_eq!(side_rows, expected, "no side rows without their event");
    let submissions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'ApplicationSubmitted'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(submissions, 5);
}

/// `n` visits with one open term each, created over HTTP (the app's own bus: another
/// instance for `bus`), each given one submission through `bus` so that its state cache
/// holds them: later commands on them are decided without a read.
async fn warm_visits(
    app: &tests::TestApp,
    bus: &CommandBus<StudyVisit>,
    n: u32,
) -> Vec<(String, Uuid)> {
    let mut visits = Vec::new();
    for k in 0..n {
        let (visit, term) = app.open_recruitment(None, 10).await;
        let term = Uuid::parse_str(&term).unwrap();
        bus.execute(
            &visit,
            tests::submission(Uuid::now_v7(), term, 100 + k),
            &context(100 + k, None),
        )
        .await
        .unwrap();
        visits.push((visit, term));
    }
    visits
}

/// One submission to each of `visits` through `bus` (ids from `ids`), all queued together.
async fn submit_to_each(
    bus: &CommandBus<StudyVisit>,
    visits: &[(String, Uuid)],
    ids: &[Uuid],
) -> Vec<
    Result<
        infra::Committed<domain::study_visit::StudyVisitEvent>,
        PipelineError<domain::DomainError>,
    >,
> {
    join_all(
        visits
            .iter()
            .zip(ids)
            .enumerate()
            .map(|(n, ((visit, term), id))| {
                let ctx = context(n as u32, None);
                async move {
                    bus.execute_with(
                        visit,
                        tests::submission(*id, *term, n as u32),
                        &ctx,
                        Some(side(*id, false)),
                    )
                    .await
                }
            }),
    )
    .await
}

async fn side_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM side_rows")
        .fetch_one(pool)
        .await
        .unwrap()
}

// As above, the current-thread runtime queues every command before any queue's task runs;
// the states being cached, each task decides without waiting on the database and hands its
// group to the committer before the committer's task first runs.
#[tokio::test]
async fn commands_on_different_visits_waiting_together_share_one_transaction() {
    let (app, bus, ..) = open_term().await;
    let visits = warm_visits(&app, &bus, 5).await;
    let ids: Vec<Uuid> = visits.iter().map(|_| Uuid::now_v7()).collect();
    let answers = submit_to_each(&bus, &visits, &ids).await;
    let mut transactions = std::collections::HashSet::new();
    for (n, (id, answer)) in ids.iter().zip(answers).enumerate() {
        let done = answer.unwrap();
        let (position, tx, actor, _) = stored(&app.pool, *id).await.unwrap();
        assert_eq!(done.position, position, "command {n} answers its own event");
        assert_eq!(actor, format!("client-{n}"), "each event its own metadata");
        transactions.insert(tx);
    }
    assert_eq!(transactions.len(), 1, "one transaction for all five visits");
    assert_eq!(side_rows(&app.pool).await, 5, "every command's side row");
    let integrity = app.get("/api/v1/audit/integrity", &app.admin).await;
    assert_eq!(
        integrity.body["intact"], true,
        "each stream chained on its own head"
    );
}

#[tokio::test]
async fn a_shared_transaction_that_meets_another_instances_event_is_written_again_visit_by_visit() {
    let (app, bus, ..) = open_term().await;
    let visits = warm_visits(&app, &bus, 3).await;
    // Another instance appends to the second visit: `bus`'s cached state of it is now stale,
    // so the shared INSERT meets the primary key.
    let (visit, term) = &visits[1];
    let other = app
        .apply(
            visit,
            term.to_string().as_str(),
            "inna@example.org",
            &tests::nip(77),
            "JST",
        )
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    let ids: Vec<Uuid> = visits.iter().map(|_| Uuid::now_v7()).collect();
    let answers = submit_to_each(&bus, &visits, &ids).await;
    for (n, (id, answer)) in ids.iter().zip(answers).enumerate() {
        let done = answer.unwrap_or_else(|e| panic!("command {n}: {e}"));
        let (position, ..) = stored(&app.pool, *id).await.unwrap();
        assert_eq!(done.position, position, "command {n}");
    }
    let counts: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'ApplicationSubmitted'
          GROUP BY payload -> 'ApplicationSubmitted' ->> 'application_id'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(counts.iter().all(|&c| c == 1), "none doubled: {counts:?}");
    assert_eq!(
        counts.len(),
        3 + 3 + 1,
        "the warm-up, the other instance's, ours"
    );
    assert_eq!(side_rows(&app.pool).await, 3, "side rows once each");
    let integrity = app.get("/api/v1/audit/integrity", &app.admin).await;
    assert_eq!(integrity.body["intact"], true, "{}", integrity.body);
}

#[tokio::test]
async fn a_state_cached_before_another_instance_wrote_never_decides_an_answer_alone() {
    let app = tests::spawn().await;
    let bus = tests::study_visit_bus(app.pool.clone());
    let visit = app.announce_visit(None).await;
    let deadline = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let term = app
        .schedule_term(&visit, "I termin", 10, "2030-06-27", &deadline)
        .await;
    let term_id = Uuid::parse_str(&term).unwrap();
    // `bus` sees the recruitment closed, and keeps that state.
    let early = bus
        .execute(
            &visit,
            tests::submission(Uuid::now_v7(), term_id, 1),
            &context(1, None),
        )
        .await;
    assert!(
        matches!(&early, Err(PipelineError::Domain(e)) if e.code == "recruitment_not_open"),
        "{early:?}"
    );
    // Another instance opens it. On the cached state the next submission would be refused:
    // a refusal no INSERT proves is checked against the stream first.
    app.open(&visit, &term).await;
    let id = Uuid::now_v7();
    let done = bus
        .execute(&visit, tests::submission(id, term_id, 2), &context(2, None))
        .await
        .expect("decided on the stream as stored");
    assert_eq!(stored(&app.pool, id).await.unwrap().0, done.position);
    // Another instance records an application; on the cached state its id is free, so the
    // same id would be accepted twice: the append is refused and the stream decides.
    let other = app
        .apply(&visit, &term, "inna@example.org", &tests::nip(77), "JST")
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    let taken = Uuid::parse_str(&other.str("application_id")).unwrap();
    let again = bus
        .execute(
            &visit,
            tests::submission(taken, term_id, 3),
            &context(3, None),
        )
        .await;
    assert!(
        matches!(&again, Err(PipelineError::Domain(e)) if e.code == "duplicate_application_id"),
        "{again:?}"
    );
}

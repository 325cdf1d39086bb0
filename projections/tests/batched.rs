//! The set-based paths give the read models `apply` one event at a time gives:
//! `Applications::apply_batch` (multi-row INSERT and UPDATE runs) against `apply`, and the
//! one-pass `runner::rebuild_all` against rebuilding each projection on its own.
//! Each test works in databases of its own (`kdn_proj_…`), dropped at the end.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use infra::store::{self, Head, NewEvent};
use infra::StoredEvent;
use projections::applications::Applications;
use projections::events::DecodedEvent;
use projections::Projection;
use serde_json::{json, Value};
use sqlx::migrate::MigrateDatabase;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

fn server_url() -> String {
    std::env::var("KOORDYNATOR_TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh, empty database; dropped by [`Database::drop_now`].
struct Database {
    url: String,
    pool: PgPool,
}

impl Database {
    async fn fresh(migrated: bool) -> Database {
        let url = format!("{}/kdn_proj_{}", server_url(), Uuid::new_v4().simple());
        let pool = if migrated {
            infra::connect_and_migrate(&url, 4).await.unwrap()
        } else {
            infra::connect(&url, 4).await.unwrap()
        };
        Database { url, pool }
    }

    async fn drop_now(self) {
        self.pool.close().await;
        let _ = Postgres::force_drop_database(&self.url).await;
    }
}

const ORGANIZER: &str = "rops-torun";
/// Visits in the one-pass test: events for more than two pages of the feed (the second is
/// read ahead).
const VISITS: usize = 40;
const NIPS: [&str; 3] = ["1000000012", "1000000035", "1000000064"];

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap() + chrono::Duration::minutes(minute.into())
}

/// A study visit's stream: submissions, a withdrawal before the close, the close's decisions
/// (allocated, waitlisted, passed over), then withdrawals and releases, promotions (a second
/// decision about an application already decided in the same batch), a release of a row
/// that is not allocated (no effect), attendance recorded twice for one application, a late
/// submission and a decision about an application with no row, with events of another
/// aggregate in between.
fn scenario() -> Vec<(String, String, Value)> {
    let visit = Uuid::new_v4();
    let term = Uuid::new_v4();
    let apps: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    let submit = |i: usize, v2: bool| {
        let mut body = json!({
            "application_id": apps[i],
            "term_id": term,
            "subject_id": Uuid::new_v4(),
            "institution": {"name": format!("Instytucja {i}"), "nip": NIPS[i % 3], "type": "JST"},
            "submitted_at": at(i as u32),
        });
        if v2 {
            body["consent"] =
                json!({"information_clause": "2026-01", "legal_basis": "public_task"});
            (
                "ApplicationSubmitted",
                "2",
                json!({ "ApplicationSubmitted": body }),
            )
        } else {
            // Version 1 (`consent: true`): upcast on the way in.
            body["consent"] = json!(true);
            (
                "ApplicationSubmitted",
                "1",
                json!({ "ApplicationSubmitted": body }),
            )
        }
    };
    let basis = |rank: u32, rule: &str, met: &[&str], promoted_for: Option<Uuid>| {
        json!({"rule": rule, "rank": rank, "score": met.len(), "preferences_met": met,
               "institution_seats_before": 0, "max_per_institution": 2, "promoted_for": promoted_for})
    };
    let allocate = |i: usize, rank: u32, promoted_for: Option<Uuid>| {
        let rule = if promoted_for.is_some() {
            "promotion_below_cap"
        } else {
            "rank_order"
        };
        (
            "SeatAllocated",
            "1",
            json!({"SeatAllocated": {"application_id": apps[i], "term_id": term,
                   "basis": basis(rank, rule, &["new_to_project", "cus_declared"], promoted_for)}}),
        )
    };
    let waitlist = |i: usize, rank: u32, position: u32| {
        (
            "ApplicantWaitlisted",
            "1",
            json!({"ApplicantWaitlisted": {"application_id": apps[i], "term_id": term,
                   "waitlist_position": position, "basis": basis(rank, "waitlist", &[], None)}}),
        )
    };
    let pass_over = |i: usize, rank: u32| {
        (
            "ApplicationPassedOver",
            "1",
            json!({"ApplicationPassedOver": {"application_id": apps[i], "term_id": term,
                   "reason": "institution_cap", "basis": basis(rank, "institution_cap", &["cus_declared"], None)}}),
        )
    };
    let withdraw = |i: usize, by: &str, had_seat: bool| {
        (
            "ApplicationWithdrawn",
            "1",
            json!({"ApplicationWithdrawn": {"application_id": apps[i], "term_id": term,
                   "by": by, "had_seat": had_seat}}),
        )
    };
    let release = |i: usize, cause: Value| {
        (
            "SeatReleased",
            "1",
            json!({"SeatReleased": {"application_id": apps[i], "term_id": term, "cause": cause}}),
        )
    };
    let attend = |i: usize, attended: bool| {
        (
            "AttendanceRecorded",
            "1",
            json!({"AttendanceRecorded": {"application_id": apps[i], "term_id": term, "attended": attended}}),
        )
    };
    // Version 2: one day of the term (version 1 above means every day).
    let attend_on = |i: usize, day: &str, attended: bool| {
        (
            "AttendanceRecorded",
            "2",
            json!({"AttendanceRecorded": {"application_id": apps[i], "term_id": term, "day": day, "attended": attended}}),
        )
    };
    let released_by_coordinator = json!({"released": {"reason": "Rezygnacja", "by": "token:x"}});
    let mut visit_events = vec![
        (
            "TermScheduled",
            "1",
            json!({"TermScheduled": {"term_id": term, "label": "I termin", "seats": 4,
                "schedule": {"dated": {"starts_on": "2026-06-01", "ends_on": "2026-06-02",
                                       "recruitment_deadline": "2026-05-01T09:00:00Z"}}}}),
        ),
        (
            "RecruitmentOpened",
            "1",
            json!({"RecruitmentOpened": {"term_id": term, "opened_at": at(0)}}),
        ),
        submit(0, true),
        submit(1, false),
        submit(2, true),
        withdraw(1, "coordinator", false),
        submit(3, true),
        submit(4, true),
        submit(5, true),
        submit(6, true),
        submit(7, true),
        (
            "RecruitmentClosed",
            "1",
            json!({"RecruitmentClosed": {"term_id": term, "trigger": "manual", "closed_at": at(60),
                   "candidates": 7, "seats": 4, "oversubscribed": true}}),
        ),
        allocate(0, 1, None),
        allocate(2, 2, None),
        allocate(3, 3, None),
        waitlist(4, 4, 1),
        waitlist(5, 5, 2),
        pass_over(6, 6),
        allocate(7, 7, None),
        // The holder of a seat withdraws: withdrawn, then the release leaves it withdrawn.
        withdraw(2, "applicant", true),
        release(2, json!("withdrawn")),
        // The first on the list is promoted: a second decision about application 4.
        allocate(4, 4, Some(apps[2])),
        release(0, released_by_coordinator.clone()),
        allocate(5, 5, Some(apps[0])),
        // Application 1 was withdrawn, not allocated: the release changes nothing.
        release(1, released_by_coordinator),
        attend(3, true),
        attend(4, false),
        attend(3, false),
        attend_on(3, "2026-06-02", true),
        attend_on(4, "2026-06-01", true),
        attend_on(4, "2026-06-02", false),
        submit(8, true),
        allocate(8, 8, None),
        attend(8, true),
        waitlist(9, 9, 3),
        pass_over(5, 5),
        attend(7, true),
    ];
    // Another aggregate's event among them: skipped by `applications`, a page boundary
    // for the others.
    visit_events.insert(
        9,
        (
            "NetworkCreated",
            "1",
            json!({"NetworkCreated": {"network_id": Uuid::new_v4()}}),
        ),
    );
    visit_events
        .into_iter()
        .map(|(t, v, p)| {
            let aggregate = if t == "NetworkCreated" {
                "Other".to_owned()
            } else {
                visit.to_string()
            };
            (aggregate, format!("{t}|{v}"), p)
        })
        .collect()
}

/// The scenario as stored events in memory (positions and sequences in order).
fn stored(events: &[(String, String, Value)]) -> Vec<StoredEvent> {
    let mut sequences = std::collections::HashMap::new();
    events
        .iter()
        .enumerate()
        .map(|(i, (aggregate, kind, payload))| {
            let (event_type, version) = kind.split_once('|').unwrap();
            let sequence = sequences.entry(aggregate.clone()).or_insert(0i64);
            *sequence += 1;
            StoredEvent {
                position: i as i64 + 1,
                tx_id: 1000 + i as i64,
                aggregate_type: if aggregate == "Other" {
                    "Other".into()
                } else {
                    "StudyVisit".into()
                },
                aggregate_id: if aggregate == "Other" {
                    Uuid::new_v4().to_string()
                } else {
                    aggregate.clone()
                },
                sequence: *sequence,
                event_type: event_type.into(),
                event_version: version.into(),
                payload: payload.clone(),
                metadata: json!({"organizer": ORGANIZER}),
                recorded_at: at(i as u32),
            }
        })
        .collect()
}

/// Every `rm_` table as JSON rows in a fixed order.
async fn read_models(pool: &PgPool) -> Vec<(String, Value)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_name LIKE 'rm\\_%' ORDER BY table_name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut all = Vec::new();
    for table in tables {
        let rows: Value = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]') FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        all.push((table, rows));
    }
    all
}

async fn recreate(pool: &PgPool, p: &dyn Projection) {
    let drop = format!("DROP TABLE IF EXISTS {} CASCADE", p.tables().join(", "));
    sqlx::raw_sql(&drop).execute(pool).await.unwrap();
    sqlx::raw_sql(p.create_sql()).execute(pool).await.unwrap();
}

#[tokio::test]
async fn applications_in_batches_equal_applications_one_by_one() {
    let events = DecodedEvent::all(stored(&scenario()));
    let (one_by_one, batched) = (Database::fresh(false).await, Database::fresh(false).await);
    let p = Applications;

    recreate(&one_by_one.pool, &p).await;
    let mut tx = one_by_one.pool.begin().await.unwrap();
    for e in &events {
        p.apply(&mut tx, e).await.unwrap();
    }
    tx.commit().await.unwrap();
    let expected = read_models(&one_by_one.pool).await;
    let rows = expected[0].1.as_array().unwrap();
    // Application 9 was never submitted: its decision finds no row.
    assert_eq!(rows.len(), 9, "every submission has a row: {expected:?}");
    let count = |status: &str| rows.iter().filter(|r| r["status"] == status).count();
    // 3, 7, 8 and the promoted 4 allocated; 0 released; 1 and 2 withdrawn; 5 (promoted, then
    // passed over) and 6 passed over.
    assert_eq!(
        ["allocated", "released", "withdrawn", "passed_over"].map(count),
        [4, 1, 2, 2]
    );

    // Every batch size: runs cut at every possible place.
    for size in [1, 2, 3, 4, 5, 7, 11, events.len()] {
        recreate(&batched.pool, &p).await;
        for chunk in events.chunks(size) {
            let mut tx = batched.pool.begin().await.unwrap();
            p.apply_batch(&mut tx, chunk).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(
            read_models(&batched.pool).await,
            expected,
            "batches of {size}"
        );
    }
    one_by_one.drop_now().await;
    batched.drop_now().await;
}

#[tokio::test]
async fn rebuilding_all_in_one_pass_equals_rebuilding_each() {
    let db = Database::fresh(true).await;
    // Two visits' streams through the store, interleaved in commit order, plus the
    // version-1 fixture of the end-to-end tests.
    let fixture: Vec<Value> = include_str!("../../tests/fixtures/study_visit_v1.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut heads = std::collections::HashMap::new();
    let mut written = 0i64;
    // Enough visits for more than two pages of the feed (`runner::BATCH`).
    let scenarios: Vec<_> = (0..VISITS).map(|_| scenario()).collect();
    let longest = scenarios.iter().map(Vec::len).max().unwrap_or(0);
    let interleaved: Vec<_> = (0..longest)
        .flat_map(|i| scenarios.iter().filter_map(move |s| s.get(i).cloned()))
        .collect();
    assert!(interleaved.len() > 2 * projections::runner::BATCH as usize);
    for (i, (aggregate, kind, payload)) in interleaved.into_iter().enumerate() {
        let (event_type, version) = kind.split_once('|').unwrap();
        let (aggregate_type, aggregate_id) = if aggregate == "Other" {
            ("Other", Uuid::new_v4().to_string())
        } else {
            ("StudyVisit", aggregate.clone())
        };
        let head = heads.get(&aggregate_id).copied().unwrap_or(Head::EMPTY);
        let event = NewEvent {
            event_type: event_type.into(),
            event_version: version.into(),
            payload,
            metadata: json!({"organizer": ORGANIZER}),
        };
        let head = store::append(
            &db.pool,
            aggregate_type,
            &aggregate_id,
            head,
            &[event],
            at(i as u32),
        )
        .await
        .unwrap();
        heads.insert(aggregate_id, head);
        written += 1;
    }
    let visit = fixture[0]["aggregate_id"].as_str().unwrap().to_owned();
    let fixture_events: Vec<NewEvent> = fixture
        .iter()
        .map(|e| NewEvent {
            event_type: e["event_type"].as_str().unwrap().into(),
            event_version: e["event_version"].as_str().unwrap().into(),
            payload: e["payload"].clone(),
            metadata: e["metadata"].clone(),
        })
        .collect();
    store::append(
        &db.pool,
        "StudyVisit",
        &visit,
        Head::EMPTY,
        &fixture_events,
        at(0),
    )
    .await
    .unwrap();
    written += fixture_events.len() as i64;

    // The feed reads only below the oldest transaction open on the server (other tests'
    // databases included): wait until the last event is settled.
    let last: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !infra::feed::is_settled(&db.pool, last).await.unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the events never settled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let all: Vec<Arc<dyn Projection>> = projections::all();
    projections::runner::setup(&db.pool, &all).await.unwrap();
    for p in &all {
        let applied = projections::runner::rebuild(&db.pool, p.as_ref())
            .await
            .unwrap();
        assert_eq!(applied as i64, written, "{} replays every event", p.name());
    }
    let each = read_models(&db.pool).await;
    let checkpoints = |pool: PgPool| async move {
        sqlx::query_as::<_, (String, String, i64)>(
            "SELECT name, last_tx_id::text, last_position FROM projection_checkpoints ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let each_checkpoints = checkpoints(db.pool.clone()).await;

    let mut reported = Vec::new();
    let done = projections::runner::rebuild_all(&db.pool, &all, |n| reported.push(n))
        .await
        .unwrap();
    assert_eq!(done.events as i64, written);
    assert_eq!(reported.last().copied(), Some(done.events));
    for (name, applied, _) in &done.projections {
        assert_eq!(*applied as i64, written, "{name} replays every event");
    }
    assert_eq!(read_models(&db.pool).await, each);
    assert_eq!(checkpoints(db.pool.clone()).await, each_checkpoints);
    assert!(each.iter().any(
        |(t, rows)| t == "rm_applications" && rows.as_array().unwrap().len() == VISITS * 9 + 8
    ));
    db.drop_now().await;
}

/// An event that does not decode stops every projection reading its aggregate at that
/// event, reported with its position and type, whether fed batch by batch (the live path)
/// or rebuilt in one pass, although its decoding is shared; a projection not reading that
/// aggregate goes past it.
#[tokio::test]
async fn an_event_that_does_not_decode_stops_the_projections_reading_it() {
    let db = Database::fresh(true).await;
    let visit = Uuid::new_v4().to_string();
    let term = Uuid::new_v4();
    let event = |event_type: &str, payload: Value| NewEvent {
        event_type: event_type.into(),
        event_version: "1".into(),
        payload,
        metadata: json!({"organizer": ORGANIZER}),
    };
    let scheduled = event(
        "TermScheduled",
        json!({"TermScheduled": {"term_id": term, "label": "I termin", "seats": 4,
            "schedule": {"dated": {"starts_on": "2026-06-01", "ends_on": "2026-06-02",
                                   "recruitment_deadline": "2026-05-01T09:00:00Z"}}}}),
    );
    let broken = event(
        "SeatAllocated",
        json!({"SeatAllocated": {"application_id": "not a uuid", "term_id": term}}),
    );
    let head = store::append(
        &db.pool,
        "StudyVisit",
        &visit,
        Head::EMPTY,
        &[scheduled],
        at(0),
    )
    .await
    .unwrap();
    store::append(&db.pool, "StudyVisit", &visit, head, &[broken], at(1))
        .await
        .unwrap();
    let bad: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !infra::feed::is_settled(&db.pool, bad).await.unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the events never settled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stopped_at_bad = |result: Result<_, projections::ProjectionError>| match result {
        Err(projections::ProjectionError::Deserialize {
            position,
            event_type,
            ..
        }) => position == bad && event_type == "SeatAllocated",
        _ => false,
    };
    let checkpoint = |name: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT last_position FROM projection_checkpoints WHERE name = $1",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    let all: Vec<Arc<dyn Projection>> = projections::all();
    projections::runner::setup(&db.pool, &all).await.unwrap();
    let readers = ["applications", "schedule", "study_visits"];
    for p in &all {
        let result =
            projections::runner::run_batch(&db.pool, p.as_ref(), projections::runner::BATCH).await;
        if readers.contains(&p.name()) {
            assert!(stopped_at_bad(result.map(|_| ())), "{}", p.name());
            assert!(checkpoint(p.name()).await < bad, "{}", p.name());
        } else {
            assert_eq!(result.unwrap(), 2, "{}", p.name());
            assert_eq!(checkpoint(p.name()).await, bad, "{}", p.name());
        }
    }

    let result = projections::runner::rebuild_all(&db.pool, &all, |_| {}).await;
    assert!(stopped_at_bad(result.map(|_| ())));
    for name in readers {
        assert!(checkpoint(name).await < bad, "{name}");
    }
    db.drop_now().await;
}

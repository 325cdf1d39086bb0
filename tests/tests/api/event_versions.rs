//! Old stored events still load and replay identically.
//!
//! `fixtures/study_visit_v1.jsonl` is a study visit's history written by the service before
//! `ApplicationSubmitted` became version 2 (commit 3e8a93d, driven through HTTP with a fixed
//! clock, the rows then dumped from `events` in commit order) (eight applications, one withdrawn, the term
//! closed with seats, a waiting list and a capped institution, then a seat released and
//! given to the next in line). `fixtures/study_visit_v1_expected.json` holds what that
//! service answered about it: the roster, the roster after one more withdrawal, and the
//! audit verification. Stored into a fresh database as they were, the version-1 events must
//! give the same answers, take new commands, and replay to the same state as the same
//! history written in version 2.

use std::sync::Arc;

use cqrs_es::{Aggregate, DomainEvent};
use domain::services::FixedClock;
use domain::study_visit::{
    ConsentRecord, LegalBasis, StudyVisit, StudyVisitEvent, UNRECORDED_V1_CLAUSE,
};
use domain::upcasting::decode;
use serde_json::{json, Value};
use tests::{instant, spawn_at, TestApp};

const V1_HISTORY: &str = include_str!("../../fixtures/study_visit_v1.jsonl");
const EXPECTED: &str = include_str!("../../fixtures/study_visit_v1_expected.json");

/// One row of the `events` table as the fixture holds it.
#[derive(Debug, Clone, serde::Deserialize)]
struct Row {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: Value,
    metadata: Value,
}

fn v1_rows() -> Vec<Row> {
    V1_HISTORY
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture row"))
        .collect()
}

fn expected() -> Value {
    serde_json::from_str(EXPECTED).expect("expected answers")
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in the expected answers"))
        .to_owned()
}

/// Stores `rows` as they are, in one transaction (as one commit would), and returns the
/// position of the last one.
async fn store(app: &TestApp, rows: &[Row]) -> i64 {
    let mut tx = app.pool.begin().await.expect("transaction");
    let mut last = 0;
    for r in rows {
        last = sqlx::query_scalar(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position",
        )
        .bind(&r.aggregate_type)
        .bind(&r.aggregate_id)
        .bind(r.sequence)
        .bind(&r.event_type)
        .bind(&r.event_version)
        .bind(&r.payload)
        .bind(&r.metadata)
        .fetch_one(&mut *tx)
        .await
        .expect("fixture row stored");
    }
    tx.commit().await.expect("commit");
    last
}

/// A roster answer without its `position`, which depends on the database it came from.
fn without_position(mut roster: Value) -> Value {
    if let Some(o) = roster.as_object_mut() {
        o.remove("position");
    }
    roster
}

/// The state a replay of `rows` through `decode` gives.
fn replay(rows: &[Row]) -> StudyVisit {
    let mut visit = StudyVisit::default();
    for r in rows {
        let event: StudyVisitEvent = decode(
            &r.aggregate_type,
            &r.event_type,
            &r.event_version,
            r.payload.clone(),
        )
        .unwrap_or_else(|e| panic!("sequence {} does not decode: {e}", r.sequence));
        visit.apply(event);
    }
    visit
}

#[test]
fn the_fixture_is_a_version_1_history() {
    let rows = v1_rows();
    assert_eq!(rows.len(), 25);
    let submitted: Vec<&Row> = rows
        .iter()
        .filter(|r| r.event_type == "ApplicationSubmitted")
        .collect();
    assert_eq!(submitted.len(), 8);
    assert!(rows.iter().all(|r| r.event_version == "1"));
    assert!(submitted
        .iter()
        .all(|r| r.payload["ApplicationSubmitted"]["consent"] == json!(true)));
}

#[test]
fn the_v1_history_replays_to_the_state_of_the_same_history_written_in_v2() {
    let v1 = v1_rows();
    // The same history as the service writes it today: each event decoded, then serialized
    // with its current version, as the command pipeline would store it.
    let v2: Vec<Row> = v1
        .iter()
        .map(|r| {
            let event: StudyVisitEvent = decode(
                &r.aggregate_type,
                &r.event_type,
                &r.event_version,
                r.payload.clone(),
            )
            .expect("decodes");
            Row {
                event_version: event.event_version(),
                payload: serde_json::to_value(&event).expect("serializes"),
                ..r.clone()
            }
        })
        .collect();
    // Only ApplicationSubmitted changed shape, and exactly as docs/events.md says.
    for (old, new) in v1.iter().zip(&v2) {
        if old.event_type == "ApplicationSubmitted" {
            assert_eq!(new.event_version, "2");
            let mut want = old.payload.clone();
            want["ApplicationSubmitted"]["consent"] =
                json!({"information_clause": "unrecorded-v1", "legal_basis": "consent"});
            assert_eq!(new.payload, want);
        } else {
            assert_eq!(
                (&new.event_version, &new.payload),
                (&old.event_version, &old.payload),
                "{} changed shape",
                old.event_type
            );
        }
    }
    let from_v1 = replay(&v1);
    let from_v2 = replay(&v2);
    assert_eq!(from_v1, from_v2);
    // Serialized the same too (the audit state endpoint shows this form).
    assert_eq!(
        serde_json::to_value(&from_v1).expect("state"),
        serde_json::to_value(&from_v2).expect("state")
    );
    let apps = from_v1.applications();
    assert_eq!(apps.len(), 8);
    for a in apps {
        assert_eq!(a.consent, ConsentRecord::unrecorded_v1());
        assert_eq!(a.consent.information_clause.as_str(), UNRECORDED_V1_CLAUSE);
        assert_eq!(a.consent.legal_basis, LegalBasis::Consent);
    }
}

#[tokio::test]
async fn stored_v1_events_project_take_new_commands_and_verify() {
    let want = expected();
    let visit = text(&want, "visit_id");
    let term = text(&want, "term_id");
    let withdraw = text(&want, "withdraw");
    // The clock at the instant the old service took the same withdrawal.
    let clock = Arc::new(FixedClock::new(instant(&text(&want, "withdraw_at"))));
    let app = spawn_at(clock).await;
    let rows = v1_rows();
    let last = store(&app, &rows).await;

    // The projections build the roster from the version-1 events as the old service did.
    let roster = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{term}/roster?min_position={last}"),
            &app.evaluator,
        )
        .await;
    assert_eq!(roster.status, 200, "{roster:?}");
    assert_eq!(
        without_position(roster.body),
        without_position(want["roster_before"].clone())
    );

    // The read model records the explicit marker for the clause that was not recorded.
    let consent: Vec<(String, String)> = sqlx::query_as(
        "SELECT information_clause, legal_basis FROM rm_applications WHERE visit_id = $1::text::uuid",
    )
    .bind(&visit)
    .fetch_all(&app.pool)
    .await
    .expect("read model");
    assert_eq!(consent.len(), 8);
    assert!(consent
        .iter()
        .all(|(clause, basis)| clause == UNRECORDED_V1_CLAUSE && basis == "consent"));

    // A new command on the old aggregate: the withdrawal of a seat holder promotes the next
    // in line, exactly as the old service did.
    let done = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{withdraw}/withdraw"),
            &app.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(
        done.status, 200,
        "the command bus must load with domain::upcasting::upcasters(\"StudyVisit\"): {done:?}"
    );
    let roster = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}/terms/{term}/roster?min_position={}",
                done.position()
            ),
            &app.evaluator,
        )
        .await;
    assert_eq!(roster.status, 200, "{roster:?}");
    assert_eq!(
        without_position(roster.body),
        without_position(want["roster_after_withdrawal"].clone())
    );

    // The evaluator's check re-derives every decision, old and new, and finds them right.
    let verify = app
        .get(
            &format!("/api/v1/audit/study-visits/{visit}/verify"),
            &app.evaluator,
        )
        .await;
    assert_eq!(verify.status, 200, "{verify:?}");
    // The answer gained fields since the fixture was made (manual_decisions, position);
    // what the old code answered must still hold.
    for key in ["checked", "consistent", "discrepancies"] {
        assert_eq!(
            verify.body[key], want["verify_after_withdrawal"][key],
            "{key}"
        );
    }
    assert_eq!(verify.body["consistent"], json!(true));

    // The audit replay of the stored history gives the state the v1 history replays to.
    let state = app
        .get(
            &format!(
                "/api/v1/audit/StudyVisit/{visit}/state?sequence={}",
                rows.len()
            ),
            &app.evaluator,
        )
        .await;
    assert_eq!(state.status, 200, "{state:?}");
    assert_eq!(
        state.body["state"],
        serde_json::to_value(replay(&rows)).expect("state")
    );

    // Upcasting never changed what was stored: the old rows are as written, version 1, and
    // the audit history shows them so.
    let stored: Vec<(i64, String, Value)> = sqlx::query_as(
        "SELECT sequence, event_version, payload FROM events WHERE aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&visit)
    .fetch_all(&app.pool)
    .await
    .expect("stored events");
    assert!(stored.len() > rows.len(), "the withdrawal wrote events");
    for (row, (sequence, version, payload)) in rows.iter().zip(&stored) {
        assert_eq!(
            (row.sequence, &row.event_version, &row.payload),
            (*sequence, version, payload)
        );
    }
    let history = app.all_events().await;
    let submitted: Vec<&Value> = history
        .iter()
        .filter(|e| e["event_type"] == "ApplicationSubmitted")
        .collect();
    assert_eq!(submitted.len(), 8);
    for e in submitted {
        assert_eq!(e["event_version"], "1");
        assert_eq!(e["payload"]["ApplicationSubmitted"]["consent"], json!(true));
    }
}

#[tokio::test]
async fn new_submissions_record_the_current_clause() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, term) = app
        .open_term(Some(2), 25, "2022-06-27", "2022-06-23T11:00:00+02:00")
        .await;
    let a = app
        .apply(
            &visit,
            &term,
            "jan.testowy@example.org",
            &tests::nip(7),
            "JST",
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let submitted: Vec<Value> = app
        .all_events()
        .await
        .into_iter()
        .filter(|e| e["event_type"] == "ApplicationSubmitted")
        .collect();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0]["event_version"], "2");
    assert_eq!(
        submitted[0]["payload"]["ApplicationSubmitted"]["consent"],
        json!({
            "information_clause": service::http::applications::INFORMATION_CLAUSE_VERSION,
            "legal_basis": "consent"
        })
    );
}

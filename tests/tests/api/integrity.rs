//! Tamper evidence, export and the access log, against PostgreSQL with its triggers bypassed
//! the way a database superuser would (`session_replication_role = replica`).
#![allow(clippy::unwrap_used)]

use infra::chain::{self, Link};
use infra::export::{parse_line, Line, LineChecker};
use serde_json::{json, Value};
use tests::{nip, spawn_at_seed_000, TestApp};

/// A recruitment of five applicants for three seats, closed by hand. Returns the visit id.
async fn recruitment(app: &TestApp) -> String {
    let visit = app.announce_visit(Some(2)).await;
    let term = app
        .schedule_term(
            &visit,
            "Termin I",
            3,
            "2022-06-27",
            "2022-06-23T12:00:00+02:00",
        )
        .await;
    app.open(&visit, &term).await;
    for i in 0..5 {
        let a = app
            .apply(
                &visit,
                &term,
                &format!("osoba{i}@example.pl"),
                &nip(200 + i),
                "JST",
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
    }
    app.close(&visit, &term).await;
    visit
}

async fn integrity(app: &TestApp) -> Value {
    let a = app.get("/api/v1/audit/integrity", &app.admin).await;
    assert_eq!(a.status, 200, "{a:?}");
    a.body
}

/// Seals everything committed so far (after waiting until it is below the commit-order
/// horizon, which other tests' transactions on the same server can hold back).
async fn seal(app: &TestApp) -> i64 {
    app.all_events().await;
    infra::seal::seal_now(&app.pool, chrono::Utc::now())
        .await
        .unwrap()
        .expect("something to seal")
        .seal_no
}

/// Runs `sql` with the triggers switched off, as a superuser could.
async fn behind_the_triggers(app: &TestApp, sql: &str, binds: &[Value]) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut q = sqlx::query(sql);
    for b in binds {
        q = match b {
            Value::Number(n) => q.bind(n.as_i64().unwrap()),
            Value::String(s) => q.bind(s.clone()),
            other => q.bind(other.clone()),
        };
    }
    q.execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// (position, sequence) of the `nth` event of `event_type` in the visit's stream.
async fn find(app: &TestApp, visit: &str, event_type: &str, nth: i64) -> (i64, i64) {
    sqlx::query_as(
        "SELECT position, sequence FROM events WHERE aggregate_id = $1 AND event_type = $2
          ORDER BY sequence OFFSET $3 LIMIT 1",
    )
    .bind(visit)
    .bind(event_type)
    .bind(nth)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_clean_history_is_intact_with_every_event_and_seal_recomputed() {
    let (app, _clock) = spawn_at_seed_000().await;
    recruitment(&app).await;
    seal(&app).await;
    let report = integrity(&app).await;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["verified"], total);
    assert_eq!(report["seals_verified"], 1);
    assert_eq!(report["first_broken"], Value::Null);
    assert_eq!(report["latest_seal"]["events_total"], total);
    let latest = app.get("/api/v1/audit/seals/latest", &app.evaluator).await;
    assert_eq!(latest.body["seal_hash"], report["latest_seal"]["seal_hash"]);
}

#[tokio::test]
async fn an_event_altered_behind_the_triggers_is_named() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    seal(&app).await;
    let (position, sequence) = find(&app, &visit, "ApplicationSubmitted", 2).await;
    behind_the_triggers(
        &app,
        "UPDATE events SET payload = jsonb_set(payload, '{ApplicationSubmitted,institution,name}', '\"Inna Gmina\"')
          WHERE position = $1",
        &[json!(position)],
    )
    .await;
    let report = integrity(&app).await;
    assert_eq!(report["intact"], false);
    let first = &report["first_broken"];
    assert_eq!(first["kind"], "altered", "{report}");
    assert_eq!(first["position"], position);
    assert_eq!(first["sequence"], sequence);
    assert_eq!(first["aggregate_id"], visit.as_str());
    assert_eq!(
        report["problem_count"], 1,
        "one change, one finding: {report}"
    );
}

#[tokio::test]
async fn an_event_altered_with_its_hash_recomputed_is_betrayed_by_its_successor() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    let (position, sequence) = find(&app, &visit, "ApplicationSubmitted", 1).await;
    // The forger knows the public algorithm and re-computes the altered event's own hash.
    let (payload, metadata, recorded_at, prev): (
        Value,
        Value,
        chrono::DateTime<chrono::Utc>,
        Vec<u8>,
    ) = sqlx::query_as(
        "SELECT payload, metadata, recorded_at, prev_hash FROM events WHERE position = $1",
    )
    .bind(position)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mut forged = payload.clone();
    forged["ApplicationSubmitted"]["institution"]["name"] = json!("Gmina Podstawiona");
    let hash = Link {
        aggregate_type: "StudyVisit",
        aggregate_id: &visit,
        sequence,
        event_type: "ApplicationSubmitted",
        event_version: &stored_version(&app, position).await,
        payload: &forged,
        metadata: &metadata,
        recorded_at,
    }
    .hash(&prev.try_into().unwrap());
    behind_the_triggers(
        &app,
        "UPDATE events SET payload = $2::jsonb, hash = decode($3, 'hex') WHERE position = $1",
        &[
            json!(position),
            json!(forged.to_string()),
            json!(chain::to_hex(&hash)),
        ],
    )
    .await;
    let report = integrity(&app).await;
    let first = &report["first_broken"];
    assert_eq!(first["kind"], "altered", "{report}");
    assert_eq!(
        first["position"], position,
        "located at the altered event: {report}"
    );
    assert_eq!(first["sequence"], sequence);
}

async fn stored_version(app: &TestApp, position: i64) -> String {
    sqlx::query_scalar("SELECT event_version FROM events WHERE position = $1")
        .bind(position)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_removed_event_is_named_by_the_gap_it_leaves() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    let (position, sequence) = find(&app, &visit, "ApplicationSubmitted", 3).await;
    behind_the_triggers(
        &app,
        "DELETE FROM events WHERE position = $1",
        &[json!(position)],
    )
    .await;
    let report = integrity(&app).await;
    let first = &report["first_broken"];
    assert_eq!(first["kind"], "removed", "{report}");
    assert_eq!(first["sequence"], sequence);
    assert_eq!(first["aggregate_id"], visit.as_str());
}

#[tokio::test]
async fn removing_a_streams_newest_event_is_caught_by_the_seal() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    let seal_no = seal(&app).await;
    let (position, sequence): (i64, i64) = sqlx::query_as(
        "SELECT position, sequence FROM events WHERE aggregate_id = $1 ORDER BY sequence DESC LIMIT 1",
    )
    .bind(&visit)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    behind_the_triggers(
        &app,
        "DELETE FROM events WHERE position = $1",
        &[json!(position)],
    )
    .await;
    let report = integrity(&app).await;
    let first = &report["first_broken"];
    assert_eq!(first["kind"], "removed", "{report}");
    assert_eq!(first["sequence"], sequence, "{report}");
    assert_eq!(first["seal_no"], seal_no);
    assert_eq!(first["aggregate_id"], visit.as_str());
}

#[tokio::test]
async fn an_inserted_event_is_named() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    let next: i64 =
        sqlx::query_scalar("SELECT max(sequence) + 1 FROM events WHERE aggregate_id = $1")
            .bind(&visit)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    behind_the_triggers(
        &app,
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('StudyVisit', $1, $2, 'SeatReleased', '1', '{\"SeatReleased\": {}}', '{\"organizer\": \"rops-torun\"}')",
        &[json!(visit), json!(next)],
    )
    .await;
    let position: i64 =
        sqlx::query_scalar("SELECT position FROM events WHERE aggregate_id = $1 AND sequence = $2")
            .bind(&visit)
            .bind(next)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let report = integrity(&app).await;
    let first = &report["first_broken"];
    assert_eq!(first["kind"], "inserted", "{report}");
    assert_eq!(first["position"], position);
    assert_eq!(first["sequence"], next);
}

#[tokio::test]
async fn a_rewritten_seal_is_detected() {
    let (app, _clock) = spawn_at_seed_000().await;
    recruitment(&app).await;
    let seal_no = seal(&app).await;
    behind_the_triggers(
        &app,
        "UPDATE event_seals SET events_total = events_total - 1 WHERE seal_no = $1",
        &[json!(seal_no)],
    )
    .await;
    let report = integrity(&app).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_broken"]["seal_no"], seal_no, "{report}");
}

fn check_export(text: &str) -> Result<infra::export::Trailer, String> {
    let mut checker = LineChecker::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(line)? {
            Line::Event(e) => {
                checker.event(&e)?;
            }
            Line::Trailer(t) => checker.trailer(*t)?,
        }
    }
    checker.finish()
}

async fn export_text(app: &TestApp, query: &str, token: &str) -> (u16, String) {
    app.get_text(&format!("/api/v1/audit/export{query}"), token)
        .await
}

#[tokio::test]
async fn the_export_carries_every_event_with_hashes_and_a_trailer_that_checks_out() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    // Another organizer's visit, which a scoped evaluator must not receive.
    let other = app
        .post(
            "/api/v1/study-visits",
            &app.other_coordinator,
            tests::visit_body(None),
        )
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    // Wait until every event is below the commit-order horizon the export is cut at.
    app.all_events().await;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let (status, text) = export_text(&app, "", &app.admin).await;
    assert_eq!(status, 200);
    let trailer = check_export(&text).expect("the export checks out");
    assert_eq!(trailer.events as i64, total);
    assert_eq!(trailer.seal.as_ref().unwrap()["events_total"], total);

    let (status, mine) = export_text(&app, "", &app.evaluator).await;
    assert_eq!(status, 200);
    let trailer = check_export(&mine).expect("the scoped export checks out");
    assert!(
        trailer.streams.iter().all(|s| s.aggregate_id == visit),
        "{trailer:?}"
    );
    assert!(!mine.contains(&other.str("id")));
    let (status, _) = export_text(&app, "?organizer=rops-olsztyn", &app.evaluator).await;
    assert_eq!(status, 403);
    let (status, _) = export_text(&app, "?from=yesterday", &app.admin).await;
    assert_eq!(status, 400);

    // One visit only, and what a receiver sees when a line was changed or the file cut short.
    let (_, one) = export_text(
        &app,
        &format!("?aggregate_type=StudyVisit&aggregate_id={visit}"),
        &app.admin,
    )
    .await;
    let trailer = check_export(&one).unwrap();
    assert_eq!(trailer.streams.len(), 1);
    assert_eq!(trailer.streams[0].first_sequence, 1);
    // The evaluator's offline check re-derives the recruitment's decisions from the file alone.
    let summary = service::cli::audit::check_export(one.as_bytes(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(summary.visits.len(), 1);
    let (id, report) = &summary.visits[0];
    assert_eq!(id, &visit);
    assert!(report.consistent(), "{report:?}");
    assert_eq!(report.checked, 5, "five candidates decided at the close");
    // A decision changed in the file, with its hash re-computed so the chain alone would not
    // betray it, is caught by re-deriving the allocation.
    let forged = forge_decision(&one);
    let summary = service::cli::audit::check_export(forged.as_bytes(), &mut |_| {})
        .await
        .unwrap();
    assert!(
        !summary.visits[0].1.consistent(),
        "{:?}",
        summary.visits[0].1
    );
    // An evaluator's own check with Python's standard library agrees (scripts/check_export.py).
    assert_eq!(
        python_check(&one),
        Some(true),
        "the Python check accepts the export"
    );
    let altered = one.replacen("\"JST\"", "\"PES\"", 1);
    assert_eq!(
        python_check(&altered),
        Some(false),
        "the Python check refuses the altered one"
    );
    let err = check_export(&altered).expect_err("an altered line is caught");
    assert!(err.contains("does not match its hash"), "{err}");
    let cut: String = one.lines().take(4).map(|l| format!("{l}\n")).collect();
    let err = check_export(&cut).expect_err("a cut export is caught");
    assert!(err.contains("cut short"), "{err}");
}

#[tokio::test]
async fn audit_checks_are_for_evaluators_and_admins() {
    let (app, _clock) = spawn_at_seed_000().await;
    for path in [
        "/api/v1/audit/integrity",
        "/api/v1/audit/export",
        "/api/v1/audit/access-log",
    ] {
        assert_eq!(
            app.call("GET", path, None, None).await.status,
            401,
            "{path}"
        );
        assert_eq!(app.get(path, &app.coordinator).await.status, 403, "{path}");
    }
    assert_eq!(
        app.get("/api/v1/audit/integrity", &app.evaluator)
            .await
            .status,
        200
    );
    // The access log spans every organizer.
    assert_eq!(
        app.get("/api/v1/audit/access-log", &app.evaluator)
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn every_audit_read_is_logged_with_who_and_what() {
    let (app, _clock) = spawn_at_seed_000().await;
    let visit = recruitment(&app).await;
    let term: String = sqlx::query_scalar(
        "SELECT payload -> 'TermScheduled' ->> 'term_id' FROM events
          WHERE aggregate_id = $1 AND event_type = 'TermScheduled'",
    )
    .bind(&visit)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        app.get("/api/v1/audit/events", &app.evaluator).await.status,
        200
    );
    // The visit must be known to the read model before its roster can be replayed (the
    // service checks the caller may read it): ask for the newest position.
    let newest: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let at = chain::instant(chrono::Utc::now());
    let replay = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}/terms/{term}/roster?at={at}&min_position={newest}"
            ),
            &app.evaluator,
        )
        .await;
    assert_eq!(replay.status, 200, "{replay:?}");
    assert_eq!(
        app.get("/api/v1/audit/integrity", &app.coordinator)
            .await
            .status,
        403
    );
    // Ordinary reads are not audit reads.
    assert_eq!(
        app.get("/api/v1/study-visits", &app.evaluator).await.status,
        200
    );

    let log = app
        .get("/api/v1/audit/access-log?limit=1000", &app.admin)
        .await;
    assert_eq!(log.status, 200, "{log:?}");
    let entries = log.body["entries"].as_array().unwrap();
    let seen: Vec<(String, String, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["role"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["parameters"]["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let roster_path = format!("GET /api/v1/study-visits/{visit}/terms/{term}/roster");
    for expected in [
        (
            "evaluator".to_owned(),
            "GET /api/v1/audit/events".to_owned(),
            200,
        ),
        ("evaluator".to_owned(), roster_path, 200),
        (
            "coordinator".to_owned(),
            "GET /api/v1/audit/integrity".to_owned(),
            403,
        ),
    ] {
        assert!(seen.contains(&expected), "{expected:?} not in {seen:?}");
    }
    assert!(
        !seen.iter().any(|(_, a, _)| a == "GET /api/v1/study-visits"),
        "{seen:?}"
    );
    assert!(entries
        .iter()
        .all(|e| e["actor"].as_str().unwrap().starts_with("token:")));
}

/// Turns the export's first SeatAllocated into an ApplicantWaitlisted and re-computes every
/// hash and the trailer after it, as a forger rewriting a whole file would.
fn forge_decision(export: &str) -> String {
    let mut events: Vec<infra::export::ExportedEvent> = Vec::new();
    for line in export.lines() {
        if let Ok(Line::Event(e)) = parse_line(line) {
            events.push(*e);
        }
    }
    let i = events
        .iter()
        .position(|e| e.event_type == "SeatAllocated")
        .unwrap();
    let body = events[i].payload["SeatAllocated"].clone();
    let mut basis = body["basis"].clone();
    basis["rule"] = json!("waitlist");
    events[i].event_type = "ApplicantWaitlisted".into();
    events[i].payload = json!({"ApplicantWaitlisted": {
        "application_id": body["application_id"], "term_id": body["term_id"],
        "waitlist_position": 1, "basis": basis}});
    let mut prev = chain::GENESIS;
    let mut digest = Vec::new();
    let mut out = String::new();
    for e in &mut events {
        e.prev_hash = chain::to_hex(&prev);
        let hash = Link {
            aggregate_type: &e.aggregate_type,
            aggregate_id: &e.aggregate_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at: tests::instant(&e.recorded_at),
        }
        .hash(&prev);
        e.hash = chain::to_hex(&hash);
        digest.extend_from_slice(&hash);
        prev = hash;
        out.push_str(&serde_json::to_string(e).unwrap());
        out.push('\n');
    }
    use sha2::Digest;
    let last = events.last().unwrap();
    let trailer = json!({"export": {
        "format": infra::export::FORMAT, "events": events.len(),
        "digest": hex::encode(sha2::Sha256::digest(&digest)),
        "streams": [{"aggregate_type": "StudyVisit", "aggregate_id": last.aggregate_id,
                     "first_sequence": 1, "last_sequence": last.sequence, "last_hash": last.hash}],
        "filter": {}, "seal": null, "generated_at": last.recorded_at}});
    out.push_str(&trailer.to_string());
    out.push('\n');
    out
}

/// Runs scripts/check_export.py on `export`: Some(intact) or None when python3 is missing.
fn python_check(export: &str) -> Option<bool> {
    let file = std::env::temp_dir().join(format!("kdn-{}.jsonl", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, export).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/check_export.py");
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    std::fs::remove_file(&file).ok();
    Some(status.success())
}

#[tokio::test]
async fn the_access_log_keeps_its_retention_period_and_no_more() {
    let (app, _clock) = spawn_at_seed_000().await;
    // Three entries: two past a two-year retention, one recent.
    for days in [800, 731, 10] {
        sqlx::query(
            "INSERT INTO audit_access_log (at, actor, role, action) \
             VALUES (now() - make_interval(days => $1), 'token:x', 'evaluator', 'GET /api/v1/audit/export')",
        )
        .bind(days)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    // Outside the purge nothing may be removed or changed, old or not.
    for sql in [
        "DELETE FROM audit_access_log",
        "UPDATE audit_access_log SET actor = 'someone else'",
    ] {
        let refused = sqlx::query(sql).execute(&app.pool).await;
        assert!(refused.is_err(), "{sql} must be refused");
    }
    // Even inside a purge's transaction, a row younger than its cutoff stays.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('koordynator.access_log_cutoff', (now() - interval '730 days')::text, true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let young = sqlx::query("DELETE FROM audit_access_log WHERE at > now() - interval '30 days'")
        .execute(&mut *tx)
        .await;
    assert!(young.is_err(), "a young entry stays");
    drop(tx);

    let cutoff = chrono::Utc::now() - chrono::Duration::days(730);
    let removed = infra::access_log::purge_before(&app.pool, cutoff, "cli:root")
        .await
        .unwrap();
    assert_eq!(removed, 2);
    let left: Vec<(String, Value)> =
        sqlx::query_as("SELECT action, parameters FROM audit_access_log ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(left[0].0, "GET /api/v1/audit/export");
    assert_eq!(left[1].0, "PURGE access log");
    assert_eq!(left[1].1["removed"], 2);
}

//! Personal data (API.md "Personal data"): what is held about a person, its erasure from
//! every table while events, counts and decisions stay, and the purge after retention.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use serde_json::{json, Value};
use tests::{instant, nip, Answer, TestApp};

/// A public application of a person with a name of their own (so a search for the last
/// name cannot be satisfied by another applicant's row).
async fn apply_as(
    app: &TestApp,
    visit: &str,
    term: &str,
    email: &str,
    last_name: &str,
    inst: u32,
    idempotency_key: &str,
) -> Answer {
    let a = app
        .call_with(
            "POST",
            &format!("/api/v1/study-visits/{visit}/terms/{term}/applications"),
            None,
            Some(json!({
                "person": {"first_name": "Halina", "last_name": last_name, "email": email,
                           "phone": "+48 601 234 567", "job_title": "kierowniczka GOPS"},
                "institution": {"name": format!("Gmina {inst}"), "type": "JST", "nip": nip(inst)},
                "consent": true
            })),
            &[("Idempotency-Key", idempotency_key)],
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    a
}

async fn schedule_open(app: &TestApp, visit: &str, seats: u32, starts: &str, ends: &str) -> String {
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": "I termin", "starts_on": starts, "ends_on": ends, "seats": seats,
                   "recruitment_deadline": "2022-06-23T11:00:00+02:00"}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let t = a.str("term_id");
    app.open(visit, &t).await;
    t
}

fn lookup_path(email: &str) -> String {
    format!("/api/v1/personal-data?email={email}")
}

/// `(list, application_id, rank, person)` of every roster entry.
fn entries(roster: &Value) -> Vec<(String, String, u64, Value)> {
    ["allocated", "waitlist", "passed_over"]
        .iter()
        .flat_map(|l| {
            roster[*l].as_array().unwrap().iter().map(move |e| {
                (
                    (*l).to_owned(),
                    e["application_id"].as_str().unwrap().to_owned(),
                    e["rank"].as_u64().unwrap(),
                    e["person"].clone(),
                )
            })
        })
        .collect()
}

/// Every (table, column) of the public schema whose text form contains `needle`
/// (case-insensitive): text, varchar, json, jsonb and arrays, in every table.
async fn tables_containing(app: &TestApp, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = 'public'
            AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
            AND table_name IN (SELECT table_name FROM information_schema.tables
                                WHERE table_schema = 'public' AND table_type = 'BASE TABLE')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(columns.len() > 20, "too few columns searched: {columns:?}");
    let mut found = Vec::new();
    for (table, column) in columns {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{table}\" WHERE \"{column}\"::text ILIKE '%' || $1 || '%'"
        ))
        .bind(needle)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column} ({n})"));
        }
    }
    found
}

async fn export_text(app: &TestApp) -> String {
    let (status, text) = app.get_text("/api/v1/audit/export", &app.admin).await;
    assert_eq!(status, 200);
    text
}

async fn roster_csv(app: &TestApp, visit: &str, term: &str) -> String {
    let (status, text) = app
        .get_text(
            &format!("/api/v1/study-visits/{visit}/terms/{term}/roster.csv"),
            &app.coordinator,
        )
        .await;
    assert_eq!(status, 200);
    text
}

#[tokio::test]
async fn lookup_shows_the_data_held_and_the_clause_and_legal_basis_recorded() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = schedule_open(&app, &visit, 2, "2022-06-27", "2022-06-28").await;
    let a = apply_as(
        &app,
        &visit,
        &t,
        "Halina.Lookup@gops.example.pl",
        "Lookupowska",
        11,
        "k1",
    )
    .await;
    let p = a.position();
    let r = app
        .get(
            &format!(
                "{}&min_position={p}",
                lookup_path("halina.lookup@gops.example.pl")
            ),
            &app.admin,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let b = &r.body;
    assert_eq!(b["held"], true, "{b}");
    assert_eq!(b["subjects"].as_array().unwrap().len(), 1, "{b}");
    let apps = b["subjects"][0]["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{b}");
    let x = &apps[0];
    assert_eq!(x["application_id"], a.str("application_id"));
    assert_eq!(x["visit_id"], visit.as_str());
    assert_eq!(x["term_id"], t.as_str());
    assert!(x["submitted_at"].is_string(), "{x}");
    assert_eq!(x["information_clause"], "2026-01");
    assert_eq!(x["legal_basis"], "consent");
    assert_eq!(x["erased"], false);
    assert_eq!(x["personal_data"]["last_name"], "Lookupowska");
    assert_eq!(x["personal_data"]["email"], "Halina.Lookup@gops.example.pl");
    assert_eq!(x["personal_data"]["phone"], "+48 601 234 567");
    assert_eq!(x["personal_data"]["job_title"], "kierowniczka GOPS");
    assert_eq!(b["officer_candidates"], json!([]));

    // An address never seen: nothing held.
    let r = app.get(&lookup_path("nikt@example.pl"), &app.admin).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["held"], false);
    assert_eq!(r.body["subjects"], json!([]));

    // Roles and bad input.
    for token in [&app.coordinator, &app.evaluator] {
        let r = app.get(&lookup_path("nikt@example.pl"), token).await;
        assert_eq!(r.status, 403, "{r:?}");
        let r = app
            .post(
                "/api/v1/personal-data/erasure",
                token,
                json!({"email": "nikt@example.pl"}),
            )
            .await;
        assert_eq!(r.status, 403, "{r:?}");
    }
    let r = app
        .call("GET", &lookup_path("nikt@example.pl"), None, None)
        .await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = app
        .call(
            "POST",
            "/api/v1/personal-data/erasure",
            None,
            Some(json!({"email": "nikt@example.pl"})),
        )
        .await;
    assert_eq!(r.status, 401, "{r:?}");
    for path in [
        "/api/v1/personal-data",
        "/api/v1/personal-data?email=not-an-address",
    ] {
        let r = app.get(path, &app.admin).await;
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.body["errors"][0]["field"], "email", "{r:?}");
    }
    let r = app
        .post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": "a b@c"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "email", "{r:?}");
    let r = app
        .post("/api/v1/personal-data/erasure", &app.admin, json!({}))
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["field"], "email", "{r:?}");
}

#[tokio::test]
async fn erasure_leaves_no_trace_of_the_person_but_keeps_every_count_and_decision() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = schedule_open(&app, &visit, 2, "2022-06-27", "2022-06-28").await;
    let email = "jadwiga.zapomniana@ops.example.pl";
    let last_name = "Zapomnianska";
    let first = apply_as(
        &app,
        &visit,
        &t,
        "pierwsza@ops.example.pl",
        "Pierwszanka",
        21,
        "k1",
    )
    .await;
    let gone = apply_as(&app, &visit, &t, email, last_name, 22, "k2").await;
    let third = apply_as(
        &app,
        &visit,
        &t,
        "trzecia@ops.example.pl",
        "Trzecianka",
        23,
        "k3",
    )
    .await;
    let gone_id = gone.str("application_id");
    let gone_key = gone.str("applicant_key");
    let p = app.close(&visit, &t).await.position();
    let before = app.roster(&visit, &t, p).await.body;
    let closed_at = Utc::now().to_rfc3339();
    let before_entries = entries(&before);
    assert_eq!(before_entries.len(), 3, "{before}");
    assert!(before.to_string().contains(last_name));
    assert!(!tables_containing(&app, last_name).await.is_empty());
    let events_before = app.all_events().await;

    let r = app
        .post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": "Jadwiga.Zapomniana@ops.example.pl"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["erased_subjects"], 1, "{r:?}");
    assert_eq!(r.body["erased_applications"], 1, "{r:?}");
    assert!(r.position() >= p, "{r:?}");

    // The roster: the same lists, ranks and decisions; only that person erased.
    let after = app.roster(&visit, &t, p).await.body;
    let after_entries = entries(&after);
    assert_eq!(after_entries.len(), before_entries.len());
    for (b, a) in before_entries.iter().zip(&after_entries) {
        assert_eq!((&b.0, &b.1, b.2), (&a.0, &a.1, a.2), "{after}");
        if a.1 == gone_id {
            assert_eq!(a.3, json!({"erased": true}), "{after}");
        } else {
            assert_eq!(a.3, b.3, "{after}");
            assert!(a.3["last_name"].is_string(), "{after}");
        }
    }
    for key in ["seats_left", "withdrawn", "per_institution", "status"] {
        assert_eq!(before[key], after[key], "{key}");
    }
    assert!(!after.to_string().contains(last_name), "{after}");
    // As it stood before the erasure, replayed from the events: erased too.
    let at = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}/terms/{t}/roster?at={}",
                urlencode(&closed_at)
            ),
            &app.coordinator,
        )
        .await;
    assert_eq!(at.status, 200, "{at:?}");
    assert_eq!(entries(&at.body).len(), 3, "{:?}", at.body);
    let erased_at: Vec<_> = entries(&at.body)
        .into_iter()
        .filter(|e| e.1 == gone_id)
        .collect();
    assert_eq!(erased_at[0].3, json!({"erased": true}));
    let csv = roster_csv(&app, &visit, &t).await;
    assert!(
        csv.contains("(erased)") && csv.contains("Pierwszanka"),
        "{csv}"
    );
    assert!(!csv.contains(last_name) && !csv.contains(email), "{csv}");

    // The events did not change.
    assert_eq!(app.all_events().await, events_before);

    // Nothing personal is left, anywhere in the database or the export.
    let r = app.get(&lookup_path(email), &app.admin).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["held"], false, "{r:?}");
    assert_eq!(r.body["subjects"], json!([]), "{r:?}");
    for needle in [email, last_name, "+48 601 234 567", gone_key.as_str()] {
        // Other applicants share the phone number: only the erased person's must be gone.
        let found = tables_containing(&app, needle).await;
        if needle.starts_with('+') {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM personal_data WHERE phone = $1")
                .bind(needle)
                .fetch_one(&app.pool)
                .await
                .unwrap();
            assert_eq!(n, 2);
        } else {
            assert!(found.is_empty(), "{needle} still in {found:?}");
        }
    }
    let export = export_text(&app).await;
    assert!(
        export.contains(&gone_id),
        "the export keeps the application's events"
    );
    assert!(!export.contains(email) && !export.contains(last_name));
    // The others are untouched, and the idempotent answers of others still replay.
    let r = app
        .get(&lookup_path("pierwsza@ops.example.pl"), &app.admin)
        .await;
    assert_eq!(
        r.body["subjects"][0]["applications"][0]["application_id"],
        first.str("application_id")
    );
    assert!(!third.str("application_id").is_empty());
    // The erased person's applicant key no longer opens anything.
    let own = app
        .call_with(
            "GET",
            &format!("/api/v1/applications/{gone_id}"),
            None,
            None,
            &[("X-Applicant-Key", &gone_key)],
        )
        .await;
    assert!(
        own.status == 404 || own.status == 401 || own.status == 403,
        "{own:?}"
    );
    // What remains names nobody: the erasure record.
    let (reason, actor): (String, String) = sqlx::query_as(
        "SELECT reason, actor FROM personal_data_erasures WHERE application_id = $1::uuid",
    )
    .bind(&gone_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(reason, "request");
    assert!(actor.starts_with("token:"), "{actor}");

    // A second erasure finds nothing and still answers 200.
    let r = app
        .post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": email}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["erased_subjects"], 0, "{r:?}");
    assert_eq!(r.body["erased_applications"], 0, "{r:?}");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn purge_erases_only_applicants_of_visits_ended_before_the_retention_period() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    // Visit A: its only term is closed, it ended on 28 June 2022.
    let ended = app.announce_visit(None).await;
    let ta = schedule_open(&app, &ended, 2, "2022-06-27", "2022-06-28").await;
    let old = apply_as(
        &app,
        &ended,
        &ta,
        "stara@ops.example.pl",
        "Starowska",
        31,
        "k1",
    )
    .await;
    // The same person applied to visit B too, whose term is still open: B has not ended.
    let running = app.announce_visit(None).await;
    let tb = schedule_open(&app, &running, 2, "2022-06-27", "2022-06-28").await;
    let both_a = apply_as(
        &app,
        &ended,
        &ta,
        "obie@ops.example.pl",
        "Obiewska",
        32,
        "k2",
    )
    .await;
    let both_b = apply_as(
        &app,
        &running,
        &tb,
        "obie@ops.example.pl",
        "Obiewska",
        32,
        "k3",
    )
    .await;
    let p = app.close(&ended, &ta).await.position();
    app.roster(&ended, &ta, p).await;
    app.roster(&running, &tb, both_b.position()).await;

    let purge = |now: &str, days: u32, dry: bool| {
        let pool = app.pool.clone();
        let now = instant(now);
        async move {
            service::cli::personal_data::purge_expired(&pool, now, days, dry)
                .await
                .unwrap()
        }
    };
    // Within five years of the end: nothing expires.
    let r = purge("2027-06-01T00:00:00Z", 1826, false).await;
    assert!(r.visits.is_empty(), "{r:?}");
    assert_eq!(r.erased_applications, 0);
    // A dry run lists but erases nothing.
    let r = purge("2027-07-01T00:00:00Z", 1826, true).await;
    assert_eq!(r.visits.len(), 1, "{r:?}");
    assert_eq!(r.visits[0].visit_id.to_string(), ended);
    assert_eq!(r.visits[0].applications.len(), 2);
    assert_eq!(r.erased_applications, 0);
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM personal_data")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 3);
    // Past the retention period: visit A's applicants are erased, visit B's kept.
    let r = purge("2027-07-01T00:00:00Z", 1826, false).await;
    assert_eq!(r.erased_applications, 2, "{r:?}");
    // stara@ had only visit A: the subject goes; obie@ still applies to B: it stays.
    assert_eq!(r.erased_subjects, 1, "{r:?}");
    let roster = app.roster(&ended, &ta, p).await.body;
    for e in entries(&roster) {
        assert_eq!(e.3, json!({"erased": true}), "{roster}");
    }
    let roster_b = app.roster(&running, &tb, both_b.position()).await.body;
    assert_eq!(entries(&roster_b)[0].3["last_name"], "Obiewska");
    assert!(tables_containing(&app, "Starowska").await.is_empty());
    assert!(tables_containing(&app, "stara@ops.example.pl")
        .await
        .is_empty());
    let r = app
        .get(&lookup_path("obie@ops.example.pl"), &app.admin)
        .await;
    let apps = r.body["subjects"][0]["applications"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(apps.len(), 2, "{r:?}");
    let a = apps
        .iter()
        .find(|a| a["application_id"] == both_a.str("application_id"))
        .unwrap();
    assert_eq!(a["erased"], true, "{a}");
    assert_eq!(a["erasure_reason"], "retention", "{a}");
    assert!(a["personal_data"].is_null(), "{a}");
    assert_eq!(
        a["legal_basis"], "consent",
        "the record of the submission stays: {a}"
    );
    let b = apps
        .iter()
        .find(|a| a["application_id"] == both_b.str("application_id"))
        .unwrap();
    assert_eq!(b["erased"], false);
    assert_eq!(b["personal_data"]["last_name"], "Obiewska");
    assert!(!old.str("application_id").is_empty());
    // Again: nothing more to do.
    let r = purge("2027-07-01T00:00:00Z", 1826, false).await;
    assert!(r.visits.is_empty(), "{r:?}");
}

#[tokio::test]
async fn an_officers_name_is_erased_while_the_office_and_its_history_stay() {
    let app = tests::spawn().await;
    let created = app
        .post(
            "/api/v1/networks",
            &app.coordinator,
            json!({"name": "Sieć CIS", "region": "kujawsko-pomorskie", "member_types": ["CIS"],
                   "established_on": "2017-03-01"}),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let network = created.str("id");
    let member = app
        .post(
            &format!("/api/v1/networks/{network}/members"),
            &app.coordinator,
            json!({"institution": {"name": "CIS w Toruniu", "type": "CIS", "nip": nip(31)},
                   "declaration": {"signed_on": "2017-03-01", "document_ref": "deklaracja 1/2017"}}),
        )
        .await;
    assert_eq!(member.status, 201, "{member:?}");
    let elected = app
        .post(
            &format!("/api/v1/networks/{network}/officers"),
            &app.coordinator,
            json!({"role": "chair", "person": {"first_name": "Bożydar", "last_name": "Przewodniczący"},
                   "member_id": member.str("member_id"), "term_starts_on": "2017-03-01", "term_ends_on": null}),
        )
        .await;
    assert_eq!(elected.status, 200, "{elected:?}");
    let officer = elected.str("officer_id");
    let registry = |position: i64| {
        let app = &app;
        let network = network.clone();
        async move {
            app.get(
                &format!("/api/v1/networks/{network}/registry?min_position={position}"),
                &app.coordinator,
            )
            .await
        }
    };
    let before = registry(elected.position()).await;
    assert_eq!(
        before.body["officers"][0]["person"]["last_name"],
        "Przewodniczący"
    );
    assert!(!tables_containing(&app, "Przewodnicz").await.is_empty());

    // Officers are held without an e-mail: the admin names them by id.
    let erased = app
        .post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": "bozydar@example.org", "officer_ids": [officer]}),
        )
        .await;
    assert_eq!(erased.status, 200, "{erased:?}");
    assert_eq!(erased.body["erased_officers"], 1);
    let after = registry(erased.position()).await;
    let o = &after.body["officers"][0];
    assert_eq!(o["officer_id"], officer.as_str());
    assert_eq!(o["role"], "chair");
    assert_eq!(o["person"], json!({"erased": true}));
    assert_eq!(
        tables_containing(&app, "Przewodnicz").await,
        Vec::<String>::new()
    );
    assert!(!export_text(&app).await.contains("Przewodnicz"));
    // A second erasure finds nothing more.
    let again = app
        .post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": "bozydar@example.org", "officer_ids": [officer]}),
        )
        .await;
    assert_eq!(again.body["erased_officers"], 0, "{again:?}");
}

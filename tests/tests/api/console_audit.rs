//! The console's audit tools (`/panel/audyt…`) through HTTP, as an evaluator uses them from
//! a browser: the integrity check intact and then naming the event altered behind the
//! triggers, the export file passed through with its trailer, a visit's re-derivation, a
//! roster as it stood before its close, the access log naming the console account, and
//! the refusals (a coordinator's store-wide check, another organizer's visit, a bad
//! instant).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use infra::tokens::Role;
use serde_json::json;
use tests::console::{account, Browser, PASSWORD};
use tests::{expect, institution, nip, TestApp};
use uuid::Uuid;

const EVALUATOR: &str = "ewa@ewaluacja.pl";

/// A visit of `rops-torun` with one term of 2 seats and three applicants (two of one
/// institution, cap 1), open on the real clock: (visit, term).
async fn recruitment(app: &TestApp) -> (String, String) {
    let (visit, term) = app.open_recruitment(Some(1), 2).await;
    for (i, seed) in [(0, 301), (1, 301), (2, 302)] {
        let a = app
            .apply(
                &visit,
                &term,
                &format!("osoba{i}@example.pl"),
                &nip(seed),
                "JST",
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
    }
    (visit, term)
}

/// Waits until the visit read model has every event written so far (the console's pages
/// read the visit through the API, which reads it there).
async fn settled(app: &TestApp) {
    let position: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    tests::eventually(Duration::from_secs(15), || async {
        let visits = infra::checkpoints::position(&app.pool, "study_visits")
            .await
            .unwrap();
        let applications = infra::checkpoints::position(&app.pool, "applications")
            .await
            .unwrap();
        (visits >= position && applications >= position).then_some(())
    })
    .await
    .expect("the read models caught up");
}

async fn signed_in(app: &TestApp, email: &str, role: Role, organizer: Option<&str>) -> Browser {
    account(app, email, role, organizer).await;
    let mut b = Browser::new(app);
    let signed = b.sign_in(email, PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.html);
    b
}

/// `now` as a person types it on the console: Polish time, `DD.MM.RRRR GG:MM:SS` (the
/// database's clock and time zones, the same machine's as the service's).
async fn typed_now(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'Europe/Warsaw', 'DD.MM.YYYY HH24:MI:SS')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// A typed instant in a query string.
fn query(value: &str) -> String {
    value.replace(' ', "+").replace(':', "%3A")
}

/// Runs `sql` with the triggers switched off, as a database superuser could.
async fn behind_the_triggers(app: &TestApp, sql: &str, position: i64) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql)
        .bind(position)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_evaluator_checks_the_record_replays_a_roster_and_every_read_is_logged() {
    let app = tests::spawn().await;
    let (visit, term) = recruitment(&app).await;
    // A moment strictly between the last application and the close (the typed instant is
    // cut to the second, so a second on either side).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before_close = typed_now(&app).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.close(&visit, &term).await;
    settled(&app).await;
    let mut b = signed_in(&app, EVALUATOR, Role::Evaluator, Some("rops-torun")).await;

    // The start page leads to every tool.
    let start = b.get("/panel/audyt").await;
    assert_eq!(start.status, 200, "{}", start.html);
    assert!(start.html.contains("href=\"/panel/audyt/spojnosc\""));
    assert!(start.html.contains("href=\"/panel/audyt/eksport\""));

    // The whole record is intact, and the page says how much it re-computed.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let intact = b.get("/panel/audyt/spojnosc").await;
    assert_eq!(intact.status, 200, "{}", intact.html);
    assert!(
        intact.html.contains("Cały zapis jest nienaruszony"),
        "{}",
        intact.html
    );
    assert!(
        intact
            .html
            .contains(&format!("<dt>Sprawdzone zdarzenia</dt><dd>{events}</dd>")),
        "{}",
        intact.html
    );

    // The export: the API's file, its name kept, the trailer last.
    let form = b.get("/panel/audyt/eksport").await;
    assert_eq!(form.status, 200, "{}", form.html);
    let res = b
        .http
        .get(format!("{}/panel/audyt/eksport/plik?od=&do=", b.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"koordynator-audit.jsonl\""
    );
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let trailer: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(
        trailer["export"]["events"].as_u64(),
        Some(lines.len() as u64 - 1),
        "{trailer}"
    );
    assert!(lines.len() > 5, "the visit's events are in it");
    // One visit's history only, from the visit's audit page.
    let res = b
        .http
        .get(format!(
            "{}/panel/audyt/eksport/plik?wizyta={visit}",
            b.base
        ))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let one = res.text().await.unwrap();
    assert!(one
        .lines()
        .rev()
        .skip(1)
        .all(|l| l.contains(&format!("\"aggregate_id\":\"{visit}\""))));

    // The visit's decisions, re-derived: consistent, with the API's count.
    let checked = app
        .get(
            &format!("/api/v1/audit/study-visits/{visit}/verify"),
            &app.evaluator,
        )
        .await
        .body["checked"]
        .as_u64()
        .unwrap();
    assert!(checked >= 3, "every candidate at the close: {checked}");
    let verified = b.get(&format!("/panel/audyt/wizyty/{visit}")).await;
    assert_eq!(verified.status, 200, "{}", verified.html);
    assert!(
        verified.html.contains(&format!(
            "Decyzje są zgodne z zasadami.</strong> Sprawdzone decyzje: {checked}."
        )),
        "{}",
        verified.html
    );
    assert!(verified.html.contains("I termin"), "the term to choose");

    // The roster before the close (chosen on the visit's page) was the provisional
    // ranking of an open term; now it is the final list.
    let chosen = b
        .get(&format!(
            "/panel/audyt/wizyty/{visit}/lista?termin={term}&chwila={}",
            query(&before_close)
        ))
        .await;
    assert_eq!(chosen.status, 303);
    let then = b.get(&chosen.location).await;
    assert_eq!(then.status, 200, "{}", then.html);
    assert!(then.html.contains("nabór jeszcze trwał"), "{}", then.html);
    assert!(then.html.contains("rekrutacja otwarta"), "{}", then.html);
    assert!(then.html.contains("(ranking wstępny)"));
    assert!(!then.html.contains("Zakwalifikowani"));
    // An evaluator sees institutions and NIP, never names.
    assert!(then.html.contains(&nip(302)));
    assert!(!then.html.contains("<th scope=\"col\">Osoba</th>"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let now = b
        .get(&format!(
            "/panel/audyt/wizyty/{visit}/terminy/{term}?chwila={}",
            query(&typed_now(&app).await)
        ))
        .await;
    assert_eq!(now.status, 200, "{}", now.html);
    assert!(now.html.contains("Zakwalifikowani"), "{}", now.html);
    assert!(now.html.contains("rekrutacja zakończona"));
    assert!(!now.html.contains("nabór jeszcze trwał"));
    assert!(now.html.contains("Pominięci — limit osób z instytucji"));

    // Every audit read of the console is in the access log, with the account as its actor.
    let user_id: Uuid = sqlx::query_scalar("SELECT user_id FROM console_users WHERE email = $1")
        .bind(EVALUATOR)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let logged: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, role, action FROM audit_access_log ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let actor = format!("user:{user_id}");
    for action in [
        "GET /api/v1/audit/integrity".to_owned(),
        "GET /api/v1/audit/export".to_owned(),
        format!("GET /api/v1/audit/study-visits/{visit}/verify"),
        format!("GET /api/v1/study-visits/{visit}/terms/{term}/roster"),
    ] {
        assert!(
            logged.contains(&(actor.clone(), "evaluator".to_owned(), action.clone())),
            "{action} by {actor} not in {logged:?}"
        );
    }

    // An event altered behind the triggers: the page names the broken place.
    let (position, sequence): (i64, i64) = sqlx::query_as(
        "SELECT position, sequence FROM events WHERE aggregate_id = $1
            AND event_type = 'ApplicationSubmitted' ORDER BY sequence LIMIT 1",
    )
    .bind(&visit)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    behind_the_triggers(
        &app,
        "UPDATE events SET payload = jsonb_set(payload, '{ApplicationSubmitted,institution,name}', '\"Inna Gmina\"')
          WHERE position = $1",
        position,
    )
    .await;
    let broken = b.get("/panel/audyt/spojnosc").await;
    assert_eq!(broken.status, 200, "{}", broken.html);
    assert!(
        broken.html.contains("Zapis został naruszony"),
        "{}",
        broken.html
    );
    let first = broken
        .html
        .split("<h2>Pierwsze naruszone miejsce</h2>")
        .nth(1)
        .expect("the first broken place");
    assert!(first.contains("Zmienione zdarzenie"), "{first}");
    assert!(
        first.contains(&format!(
            "wizyta studyjna {visit}; zdarzenie nr {sequence} tej historii; pozycja {position} w całym zapisie"
        )),
        "{first}"
    );
    assert!(first.contains(&format!("href=\"/panel/audyt/wizyty/{visit}\"")));
}

#[tokio::test]
async fn bad_instants_come_back_as_the_form_with_the_error_at_the_field() {
    let app = tests::spawn().await;
    let (visit, term) = recruitment(&app).await;
    settled(&app).await;
    let mut b = signed_in(&app, EVALUATOR, Role::Evaluator, None).await;

    let bad = b.get("/panel/audyt/eksport/plik?od=jutro&do=").await;
    assert_eq!(bad.status, 400, "{}", bad.html);
    assert!(bad.html.contains("<title>Błąd: "));
    assert!(bad.html.contains("<a href=\"#od\">Wpisz datę i godzinę"));
    assert!(bad.html.contains("id=\"od-blad\""));
    assert!(bad.html.contains("value=\"jutro\""), "what was typed stays");

    let date_only = b.get("/panel/audyt/eksport/plik?od=&do=20.05.2027").await;
    assert_eq!(date_only.status, 400);
    assert!(date_only
        .html
        .contains("<a href=\"#do\">Podaj także godzinę"));

    let reversed = b
        .get("/panel/audyt/eksport/plik?od=2027-05-20+12%3A00&do=20.05.2027+11%3A00")
        .await;
    assert_eq!(reversed.status, 400);
    assert!(reversed.html.contains("Koniec okresu musi być późniejszy"));

    let roster = b
        .get(&format!(
            "/panel/audyt/wizyty/{visit}/terminy/{term}?chwila=wczoraj"
        ))
        .await;
    assert_eq!(roster.status, 400, "{}", roster.html);
    assert!(roster
        .html
        .contains("<a href=\"#chwila\">Wpisz datę i godzinę"));
    // Before the visit existed: the form again, saying so.
    let early = b
        .get(&format!(
            "/panel/audyt/wizyty/{visit}/terminy/{term}?chwila=01.01.2020+12%3A00"
        ))
        .await;
    assert_eq!(early.status, 404, "{}", early.html);
    assert!(early.html.contains("tego terminu jeszcze nie było"));
}

#[tokio::test]
async fn a_coordinator_is_told_plainly_and_another_organizers_evaluator_gets_404() {
    let app = tests::spawn().await;
    let (visit, term) = recruitment(&app).await;
    settled(&app).await;

    let mut coordinator = signed_in(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let start = coordinator.get("/panel/audyt").await;
    assert_eq!(start.status, 200);
    assert!(start
        .html
        .contains("są dla kont ewaluatora i administratora"));
    assert!(!start.html.contains("href=\"/panel/audyt/spojnosc\""));
    for path in ["/panel/audyt/spojnosc", "/panel/audyt/eksport/plik?od=&do="] {
        let refused = coordinator.get(path).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.html);
        assert!(
            refused
                .html
                .contains("Tylko dla ewaluatorów i administratorów"),
            "{path}: {}",
            refused.html
        );
    }
    // Their own visit's checks are theirs.
    let own = coordinator
        .get(&format!("/panel/audyt/wizyty/{visit}"))
        .await;
    assert_eq!(own.status, 200, "{}", own.html);

    let mut other = signed_in(
        &app,
        "olga@rops-olsztyn.pl",
        Role::Evaluator,
        Some("rops-olsztyn"),
    )
    .await;
    assert_eq!(
        other
            .get(&format!("/panel/audyt/wizyty/{visit}"))
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .get(&format!(
                "/panel/audyt/wizyty/{visit}/terminy/{term}?chwila={}",
                query(&typed_now(&app).await)
            ))
            .await
            .status,
        404
    );
    assert_eq!(other.get("/panel/audyt/wizyty/nie-uuid").await.status, 404);
}

/// Waits until the read model `name` has every event written so far.
async fn caught_up(app: &TestApp, name: &str) {
    let position: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    tests::eventually(Duration::from_secs(15), || async {
        (infra::checkpoints::position(&app.pool, name).await.unwrap() >= position).then_some(())
    })
    .await
    .expect("the read model caught up");
}

#[tokio::test]
async fn a_programme_and_a_network_are_checked_and_shown_as_they_stood() {
    let app = tests::spawn().await;
    let programme = expect(
        app.post(
            "/api/v1/programs",
            &app.coordinator,
            json!({
                "title": "Program współpracy z organizacjami pozarządowymi",
                "kind": "cooperation_programme",
                "period": {"start": "2013-01-01", "end": "2014-12-31"},
                "indicators": [{"code": "szkolenia", "label": "Szkolenia", "target": 3,
                                "measure": "activities_held:training"}]
            }),
        )
        .await,
        201,
    )
    .str("id");
    let network = expect(
        app.post(
            "/api/v1/networks",
            &app.coordinator,
            json!({"name": "Platforma Współpracy", "region": "kujawsko-pomorskie",
                   "member_types": ["CIS", "ZAZ"], "established_on": "2016-12-08"}),
        )
        .await,
        201,
    )
    .str("id");
    let member = expect(
        app.post(
            &format!("/api/v1/networks/{network}/members"),
            &app.coordinator,
            json!({"institution": institution("ZAZ", "Zakład Aktywności Zawodowej w Chełmnie", 400210),
                   "declaration": {"signed_on": "2016-12-08", "document_ref": "deklaracja.docx"}}),
        )
        .await,
        201,
    )
    .str("member_id");
    expect(
        app.post(
            &format!("/api/v1/networks/{network}/officers"),
            &app.coordinator,
            json!({"role": "chair", "person": {"first_name": "Tadeusz", "last_name": "Wróblewski"},
                   "member_id": member, "term_starts_on": "2016-12-08"}),
        )
        .await,
        200,
    );
    caught_up(&app, "programs").await;
    caught_up(&app, "networks").await;
    let mut ev = signed_in(&app, EVALUATOR, Role::Evaluator, Some("rops-torun")).await;

    // The programme's check, and its indicators now.
    let checked = ev.get(&format!("/panel/audyt/programy/{programme}")).await;
    assert_eq!(checked.status, 200, "{}", checked.html);
    assert!(
        checked
            .html
            .contains("Wskaźniki zgadzają się ze zdarzeniami"),
        "{}",
        checked.html
    );
    let now = query(&typed_now(&app).await);
    let then = ev
        .get(&format!("/panel/audyt/programy/{programme}?chwila={now}"))
        .await;
    assert_eq!(then.status, 200, "{}", then.html);
    assert!(
        then.html.contains(
            "<th scope=\"row\">Szkolenia <span class=\"podpowiedz\">(szkolenia)</span></th><td>3</td><td>0</td><td>nie</td>"
        ),
        "{}",
        then.html
    );
    let early = ev
        .get(&format!(
            "/panel/audyt/programy/{programme}?chwila=01.01.2020+12%3A00"
        ))
        .await;
    assert_eq!(early.status, 404);
    assert!(early.html.contains("tego programu jeszcze nie było"));

    // The network's registry then: its member and chair; names only for an admin.
    let registry = ev
        .get(&format!("/panel/audyt/sieci/{network}?chwila={now}"))
        .await;
    assert_eq!(registry.status, 200, "{}", registry.html);
    assert!(registry
        .html
        .contains("Zakład Aktywności Zawodowej w Chełmnie"));
    assert!(registry.html.contains("przewodniczący"));
    assert!(
        !registry.html.contains("Wróblewski"),
        "no names for an evaluator"
    );
    assert!(registry.html.contains("jeszcze nie przyjęto regulaminu"));
    let mut admin = signed_in(&app, "admin@koordynator.pl", Role::Admin, None).await;
    let named = admin
        .get(&format!("/panel/audyt/sieci/{network}?chwila={now}"))
        .await;
    assert_eq!(named.status, 200, "{}", named.html);
    assert!(named.html.contains("Tadeusz Wróblewski"));
    let bad = admin
        .get(&format!("/panel/audyt/sieci/{network}?chwila="))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.html.contains("<a href=\"#chwila\">Podaj chwilę"));
}

//! The console's sign-in (PAGES.md "The console") through HTTP: accounts with Argon2id
//! hashes, sessions in PostgreSQL shared by two instances, the same answer for a wrong
//! address and a wrong password, the lock after 5 failures, idle and absolute expiry on the
//! service's clock, CSRF refusal, sign-out that ends the session on the server, and the
//! access log's record of it all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use calamine::Reader;
use chrono::Duration;
use domain::services::{Clock, FixedClock};
use infra::tokens::Role;
use tests::console::{account, Browser, PASSWORD};
use tests::{expect, instant, spawn_at, spawn_with, Options, TestApp};

#[tokio::test]
async fn a_coordinator_signs_in_sees_their_organizers_visits_and_signs_out() {
    let app = tests::spawn().await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let ours = app.announce_visit(Some(2)).await;
    let mut other = tests::visit_body(None);
    other["title"] = "Wizyta innego ROPS".into();
    let theirs = app
        .post("/api/v1/study-visits", &app.other_coordinator, other)
        .await;
    assert_eq!(theirs.status, 201);

    let mut b = Browser::new(&app);
    assert_eq!(
        b.get("/panel").await.location,
        "/logowanie",
        "not signed in"
    );
    // The address typed another way is the same account.
    let signed = b.sign_in(" Anna@ROPS-torun.pl ", PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.html);
    assert_eq!(signed.location, "/panel");
    let cookie = signed
        .set_cookies
        .iter()
        .find(|c| c.starts_with("kdn_sesja="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");

    let position: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    tests::eventually(std::time::Duration::from_secs(10), || async {
        (infra::checkpoints::position(&app.pool, "study_visits")
            .await
            .unwrap()
            >= position)
            .then_some(())
    })
    .await
    .unwrap();
    let panel = b.get("/panel").await;
    assert_eq!(panel.status, 200, "{}", panel.html);
    assert!(panel.html.contains("Anna Koordynatorka"));
    assert!(
        panel.html.contains(&format!("/wizyty/{ours}")),
        "{}",
        panel.html
    );
    assert!(
        !panel.html.contains("Wizyta innego ROPS"),
        "another organizer's visit"
    );

    // Sign-out ends the session on the server: the old cookie no longer opens the panel.
    let old = b.cookies.clone();
    let csrf = panel.hidden("csrf");
    let out = b.post("/wyloguj", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location, "/logowanie?wylogowano=1");
    b.cookies = old;
    let after = b.get("/panel").await;
    assert_eq!(after.status, 303);
    assert!(
        after.location.starts_with("/logowanie"),
        "{}",
        after.location
    );

    // The access log has the sign-in and the sign-out.
    let log = app
        .get("/api/v1/audit/access-log?limit=1000", &app.admin)
        .await;
    let actions: Vec<String> = log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"SIGN-IN console".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"SIGN-OUT console".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn wrong_address_and_wrong_password_look_alike_and_five_failures_lock_the_account() {
    let clock = Arc::new(FixedClock::new(instant("2026-12-01T09:00:00Z")));
    let app = spawn_at(clock.clone()).await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let mut b = Browser::new(&app);
    let wrong_password = b.sign_in("anna@rops-torun.pl", "nie-to-haslo").await;
    let wrong_address = b.sign_in("nikt@rops-torun.pl", PASSWORD).await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(wrong_address.status, 401);
    let message = "Nieprawidłowy adres e-mail lub hasło";
    assert!(wrong_password.html.contains(message));
    assert!(wrong_address.html.contains(message));
    assert!(!b.cookies.contains_key("kdn_sesja"));

    for _ in 0..4 {
        assert_eq!(b.sign_in("anna@rops-torun.pl", "zle").await.status, 401);
    }
    // Five failures: locked, whatever the password.
    let locked = b.sign_in("anna@rops-torun.pl", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.html);
    assert!(!b.cookies.contains_key("kdn_sesja"));
    // Fifteen minutes later it opens again.
    clock.advance(Duration::minutes(16));
    assert_eq!(b.sign_in("anna@rops-torun.pl", PASSWORD).await.status, 303);

    // A disabled account cannot sign in, and its sessions end.
    assert_eq!(b.get("/panel").await.status, 200);
    assert!(
        infra::accounts::disable(&app.pool, "anna@rops-torun.pl", clock.now())
            .await
            .unwrap()
    );
    assert_eq!(b.get("/panel").await.status, 303);
    assert_eq!(b.sign_in("anna@rops-torun.pl", PASSWORD).await.status, 401);
}

#[tokio::test]
async fn sessions_end_idle_and_at_twelve_hours_and_forms_need_their_token() {
    let clock = Arc::new(FixedClock::new(instant("2026-12-01T07:00:00Z")));
    let app = spawn_at(clock.clone()).await;
    account(
        &app,
        "ewa@rops-torun.pl",
        Role::Evaluator,
        Some("rops-torun"),
    )
    .await;
    let mut b = Browser::new(&app);

    // Without the CSRF token: refused, no session.
    b.get("/logowanie").await;
    let forged = b
        .post(
            "/logowanie",
            &[("email", "ewa@rops-torun.pl"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(!b.cookies.contains_key("kdn_sesja"));

    // Idle: 29 minutes keep it, 31 end it.
    assert_eq!(b.sign_in("ewa@rops-torun.pl", PASSWORD).await.status, 303);
    clock.advance(Duration::minutes(29));
    assert_eq!(b.get("/panel").await.status, 200);
    clock.advance(Duration::minutes(31));
    let expired = b.get("/panel").await;
    assert_eq!(expired.location, "/logowanie?wygasla=1");

    // Absolute: used every 20 minutes, it still ends 12 hours after the sign-in.
    assert_eq!(b.sign_in("ewa@rops-torun.pl", PASSWORD).await.status, 303);
    for _ in 0..35 {
        clock.advance(Duration::minutes(20));
        assert_eq!(b.get("/panel").await.status, 200);
    }
    clock.advance(Duration::minutes(20));
    assert_eq!(
        b.get("/panel").await.status,
        303,
        "12 hours after the sign-in"
    );
}

#[tokio::test]
async fn a_session_works_on_every_instance_of_the_database() {
    let first = tests::spawn().await;
    account(&first, "adam@rops-torun.pl", Role::Admin, None).await;
    let second = spawn_with(Options {
        database_url: Some(first.database_url.clone()),
        ..Options::default()
    })
    .await;
    let mut b = Browser::new(&first);
    assert_eq!(b.sign_in("adam@rops-torun.pl", PASSWORD).await.status, 303);
    let mut on_second = b.at(&second);
    let panel = on_second.get("/panel").await;
    assert_eq!(panel.status, 200, "{}", panel.html);
    assert!(panel.html.contains("Administrator"));
}

/// Waits until the read models have every event written so far.
async fn settled(app: &TestApp) {
    let position: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    tests::eventually(std::time::Duration::from_secs(10), || async {
        let mut all = true;
        for model in ["study_visits", "applications"] {
            all &= infra::checkpoints::position(&app.pool, model)
                .await
                .unwrap()
                >= position;
        }
        all.then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_coordinator_opens_and_closes_a_term_and_reads_its_roster_in_the_console() {
    let app = tests::spawn().await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    account(
        &app,
        "olga@rops-olsztyn.pl",
        Role::Coordinator,
        Some("rops-olsztyn"),
    )
    .await;
    account(
        &app,
        "ewa@rops-torun.pl",
        Role::Evaluator,
        Some("rops-torun"),
    )
    .await;
    let visit = app.announce_visit(Some(2)).await;
    let deadline = (chrono::Utc::now() + Duration::hours(2)).to_rfc3339();
    let term = app
        .schedule_term(&visit, "I termin", 2, "2030-06-27", &deadline)
        .await;
    settled(&app).await;

    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("anna@rops-torun.pl", PASSWORD).await.status, 303);
    let page = b.get(&format!("/panel/wizyty/{visit}")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Otwórz rekrutację"), "{}", page.html);
    let csrf = page.hidden("csrf");
    let opened = b
        .post(
            &format!("/panel/wizyty/{visit}/terminy/{term}/otworz"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.html);
    let actor: String = sqlx::query_scalar(
        "SELECT metadata ->> 'actor' FROM events WHERE event_type = 'RecruitmentOpened'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(actor.starts_with("user:"), "{actor}");

    for (i, email) in ["jan@gmina-a.pl", "ola@gmina-b.pl", "piotr@gmina-c.pl"]
        .iter()
        .enumerate()
    {
        let a = app
            .apply(&visit, &term, email, &tests::nip(700 + i as u32), "JST")
            .await;
        assert_eq!(a.status, 201, "{a:?}");
    }
    settled(&app).await;
    let page = b.get(&format!("/panel/wizyty/{visit}")).await;
    assert!(page.html.contains("Zamknij rekrutację"), "{}", page.html);
    // Without the form's token nothing happens.
    let forged = b
        .post(
            &format!("/panel/wizyty/{visit}/terminy/{term}/zamknij"),
            &[],
        )
        .await;
    assert_eq!(forged.status, 403);
    let closed = b
        .post(
            &format!("/panel/wizyty/{visit}/terminy/{term}/zamknij"),
            &[("csrf", &page.hidden("csrf"))],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.html);
    settled(&app).await;
    let roster = b
        .get(&format!("/panel/wizyty/{visit}/terminy/{term}"))
        .await;
    assert_eq!(roster.status, 200, "{}", roster.html);
    assert!(
        roster.html.contains("Zakwalifikowani (2)"),
        "{}",
        roster.html
    );
    assert!(
        roster.html.contains("Lista rezerwowa (1)"),
        "{}",
        roster.html
    );
    assert!(roster.html.contains("Zofia"), "the coordinator sees names");

    // Another organizer's coordinator sees nothing of it.
    let mut other = Browser::new(&app);
    assert_eq!(
        other.sign_in("olga@rops-olsztyn.pl", PASSWORD).await.status,
        303
    );
    assert_eq!(
        other.get(&format!("/panel/wizyty/{visit}")).await.status,
        404
    );
    assert_eq!(
        other
            .get(&format!("/panel/wizyty/{visit}/terminy/{term}"))
            .await
            .status,
        404
    );
    // An evaluator reads (without names) but changes nothing.
    let mut evaluator = Browser::new(&app);
    assert_eq!(
        evaluator
            .sign_in("ewa@rops-torun.pl", PASSWORD)
            .await
            .status,
        303
    );
    let read = evaluator
        .get(&format!("/panel/wizyty/{visit}/terminy/{term}"))
        .await;
    assert_eq!(read.status, 200);
    assert!(!read.html.contains("Zofia"), "no names for an evaluator");
    let page = evaluator.get(&format!("/panel/wizyty/{visit}")).await;
    assert!(!page.html.contains("Zamknij rekrutację"));
    assert_eq!(evaluator.get("/panel/poczta").await.status, 403);

    // The outbox: mail is off in this service, the confirmations wait, no address is shown.
    let mail = tests::eventually(std::time::Duration::from_secs(10), || async {
        let mut b = b.at(&app);
        let page = b.get("/panel/poczta").await;
        (page.html.matches("Zgłoszenie przyjęte").count() == 3).then_some(page)
    })
    .await
    .expect("three confirmations in the outbox");
    assert!(
        mail.html.contains("Wysyłanie poczty jest wyłączone"),
        "{}",
        mail.html
    );
    assert!(!mail.html.contains("@gmina"), "no address");
    let theirs = other.get("/panel/poczta").await;
    assert!(
        !theirs.html.contains("Zgłoszenie przyjęte"),
        "another organizer's mail"
    );
}

#[tokio::test]
async fn a_coordinator_announces_a_visit_and_adds_its_terms_from_forms() {
    let app = tests::spawn().await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let mut b = Browser::new(&app);
    b.sign_in("anna@rops-torun.pl", PASSWORD).await;

    // Nothing filled in: every missing field is named, in Polish, and nothing is written.
    let empty = b.fill("/panel/wizyty/nowa", &[]).await;
    assert_eq!(empty.status, 422, "{}", empty.html);
    assert!(empty.html.contains("Popraw formularz"), "{}", empty.html);
    for field in ["f-title", "f-destination", "f-eligible-institution-types"] {
        assert!(
            empty.html.contains(&format!("href=\"#{field}\"")),
            "the summary links to {field}: {}",
            empty.html
        );
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(events, 0);

    // A bad row of the preferences is named by its row as shown, the rest kept as typed.
    let bad = b
        .fill(
            "/panel/wizyty/nowa",
            &[
                ("title", "Wizyta studyjna: CUS w Toruniu"),
                ("destination", "Toruń"),
                ("eligible_institution_types", "JST"),
                ("eligible_institution_types", "JOPS"),
                ("max_per_institution", "2"),
                ("preferences[1].code", "Zła Nazwa!"),
                ("preferences[1].label", "Zadeklarowali CUS"),
                ("preferences[1].kind", "listed"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.html);
    assert!(
        bad.html.contains("href=\"#f-preferences-1--code\""),
        "{}",
        bad.html
    );
    assert!(bad
        .html
        .contains("value=\"Wizyta studyjna: CUS w Toruniu\""));

    let done = b
        .fill(
            "/panel/wizyty/nowa",
            &[
                ("title", "Wizyta studyjna: CUS w Toruniu"),
                ("destination", "Toruń"),
                ("eligible_institution_types", "JST"),
                ("eligible_institution_types", "JOPS"),
                ("max_per_institution", "2"),
                ("preferences[1].code", "cus"),
                ("preferences[1].label", "Zadeklarowali CUS"),
                ("preferences[1].kind", "listed"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.html);
    let visit = done
        .location
        .strip_prefix("/panel/wizyty/")
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned();
    let view = app
        .get(
            &format!("/api/v1/study-visits/{visit}?min_position=1"),
            &app.coordinator,
        )
        .await;
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(view.body["max_per_institution"], 2);
    assert_eq!(view.body["preferences"][0]["code"], "cus");
    assert_eq!(
        view.body["eligible_institution_types"],
        serde_json::json!(["JST", "JOPS"])
    );

    // A dated term, its deadline typed in Polish time; and a planned one.
    let term = format!("/panel/wizyty/{visit}/terminy/nowy");
    let dated = b
        .fill(
            &term,
            &[
                ("label", "Termin I"),
                ("seats", "12"),
                ("starts_on", "2027-03-10"),
                ("ends_on", "2027-03-11"),
                ("recruitment_deadline", "2027-02-20T12:00"),
            ],
        )
        .await;
    assert_eq!(dated.status, 303, "{}", dated.html);
    let planned = b
        .fill(
            &term,
            &[
                ("label", "Termin II"),
                ("seats", "10"),
                ("planned", "koniec maja 2027"),
            ],
        )
        .await;
    assert_eq!(planned.status, 303, "{}", planned.html);
    let wrong = b
        .fill(&term, &[("label", "Termin III"), ("seats", "dużo")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.html.contains("href=\"#f-seats\""), "{}", wrong.html);

    let view = app
        .get(
            &format!("/api/v1/study-visits/{visit}?min_position=3"),
            &app.coordinator,
        )
        .await;
    let terms = view.body["terms"].as_array().unwrap();
    assert_eq!(terms.len(), 2, "{}", view.body);
    // 12:00 in Warsaw in February is 11:00 UTC.
    assert_eq!(terms[0]["recruitment_deadline"], "2027-02-20T11:00:00Z");
    assert_eq!(terms[1]["status"], "planned");

    // The events name the account that acted, not a token.
    let actors: Vec<String> = sqlx::query_scalar("SELECT DISTINCT metadata->>'actor' FROM events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(actors.len(), 1);
    assert!(actors[0].starts_with("user:"), "{actors:?}");
}

/// The preference list's check: the pasted text and an optional file, as a browser sends them.
async fn check_list(
    b: &mut Browser,
    path: &str,
    pasted: &str,
    file: Option<(&str, Vec<u8>)>,
) -> tests::console::Page {
    b.fill_multipart(
        path,
        &[("lista", pasted)],
        file.map(|(name, bytes)| ("plik", name, bytes)),
    )
    .await
}

#[tokio::test]
async fn a_coordinator_runs_a_recruitment_from_the_console() {
    let app = tests::spawn().await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let visit = app.announce_visit(Some(1)).await;
    let deadline = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    // Two days, so attendance is taken day by day below.
    let term = expect(
        app.post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            serde_json::json!({"label": "I termin", "starts_on": "2030-06-27", "ends_on": "2030-06-28",
                               "seats": 2, "recruitment_deadline": deadline}),
        )
        .await,
        201,
    )
    .str("term_id");
    tests::console::settled(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in("anna@rops-torun.pl", PASSWORD).await;

    // The preference list pasted as it comes from a spreadsheet: a header, NIPs written
    // three ways, one with a wrong check digit: named by its line, nothing recorded.
    let list = format!("/panel/wizyty/{visit}/preferencje/cus_declared");
    let (a, c) = (tests::nip(100), tests::nip(300));
    let pasted = format!("Gmina;NIP\nA;{a}\nB;{}\n\nC;PL{c}\n", tests::bad_nip(200));
    // Sent without its file encoding (a hand-made request): a clear page, nothing written.
    let csrf = b.get(&list).await.hidden("csrf");
    let plain = b.post(&list, &[("csrf", &csrf), ("lista", &pasted)]).await;
    assert_eq!(plain.status, 400, "{}", plain.html);
    assert!(plain.html.contains("Nie udało się odczytać formularza"));
    let bad = check_list(&mut b, &list, &pasted, None).await;
    assert_eq!(bad.status, 422, "{}", bad.html);
    assert!(bad.html.contains("Wiersz 3:"), "{}", bad.html);
    assert!(!bad.html.contains("Wiersz 2:"), "{}", bad.html);
    // The text is kept to be fixed.
    assert!(bad.html.contains(&format!("C;PL{c}")));

    // Fixed, and one more NIP from an uploaded CSV file: the preview counts them, and only
    // the confirmation records the list.
    let pasted = format!("Gmina;NIP\nA;{a}\n\nC;PL{c}\n");
    let csv = format!("NIP\r\n{}\r\n", tests::nip(400)).into_bytes();
    let preview = check_list(&mut b, &list, &pasted, Some(("lista.csv", csv))).await;
    assert_eq!(preview.status, 200, "{}", preview.html);
    assert!(
        preview.html.contains("3 NIP (nowych: 3"),
        "{}",
        preview.html
    );
    let before = tests::event_count(&app).await;
    let nips = preview.hidden("nips");
    let csrf = preview.hidden("csrf");
    let saved = b
        .post(
            &format!("{list}/zapisz"),
            &[("csrf", &csrf), ("nips", &nips)],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    assert_eq!(tests::event_count(&app).await, before + 1);
    let page = b.get(&saved.location).await;
    assert!(
        page.html.contains("<td>3</td>"),
        "the list's count on the visit page: {}",
        page.html
    );
    // The page's title is its visit's, nothing else (a template once put a table in it).
    assert_eq!(
        page.title(),
        "Wizyta studyjna: dobre praktyki ekonomii społecznej – Koordynator, panel"
    );

    // Seats freed after the close are offered for two days, then back to at once.
    let offers = format!("/panel/wizyty/{visit}/oferty");
    let wrong = b.fill(&offers, &[("offer_hours", "1000")]).await;
    assert_eq!(wrong.status, 422, "{}", wrong.html);
    assert!(
        wrong.html.contains("href=\"#f-offer-hours\""),
        "{}",
        wrong.html
    );
    let set = b.fill(&offers, &[("offer_hours", "48")]).await;
    assert_eq!(set.status, 303, "{}", set.html);
    let page = b.get(&set.location).await;
    assert!(
        page.html.contains("ma 48 godzin na jej przyjęcie"),
        "{}",
        page.html
    );
    let form = b.get(&offers).await;
    assert!(
        form.html.contains("value=\"48\""),
        "the form shows the current hours"
    );
    let cleared = b.fill(&offers, &[("offer_hours", "")]).await;
    assert_eq!(cleared.status, 303, "{}", cleared.html);
    let page = b.get(&cleared.location).await;
    assert!(page.html.contains("przypada od razu"), "{}", page.html);

    // Opened from the visit page; three apply, two institutions' people on two seats with a
    // cap of one per institution.
    let visit_page = b.get(&format!("/panel/wizyty/{visit}")).await;
    let opened = b
        .post(
            &format!("/panel/wizyty/{visit}/terminy/{term}/otworz"),
            &[("csrf", &visit_page.hidden("csrf"))],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.html);
    for (email, nip) in [("a@x.pl", &a), ("b@x.pl", &c), ("c@x.pl", &tests::nip(900))] {
        let applied = app.apply(&visit, &term, email, nip, "JST").await;
        assert_eq!(applied.status, 201, "{applied:?}");
    }
    let closed = b
        .post(
            &format!("/panel/wizyty/{visit}/terminy/{term}/zamknij"),
            &[("csrf", &visit_page.hidden("csrf"))],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.html);
    let roster = app
        .roster(&visit, &term, closed_position(&closed.location))
        .await;
    let allocated: Vec<String> = roster.body["allocated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["application_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(allocated.len(), 2, "{}", roster.body);
    let waiting = roster.body["waitlist"][0]["application_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The final list offers the decisions; releasing a seat asks for a reason and promotes.
    let roster_page = b
        .get(&format!(
            "/panel/wizyty/{visit}/terminy/{term}?po={}",
            closed_position(&closed.location)
        ))
        .await;
    let release = format!("/panel/wizyty/{visit}/zgloszenia/{}/zwolnij", allocated[0]);
    assert!(roster_page.html.contains(&release), "{}", roster_page.html);
    let no_reason = b.fill(&release, &[("reason", " ")]).await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.html);
    assert!(no_reason.html.contains("href=\"#f-reason\""));
    let released = b
        .fill(
            &release,
            &[("reason", "Rezygnacja zgłoszona telefonicznie")],
        )
        .await;
    assert_eq!(released.status, 303, "{}", released.html);
    let after = b.get(&released.location).await;
    assert!(after.html.contains("Zapisano."), "{}", after.html);
    // The promotion is shown, in Polish, with the preferences by their labels.
    assert!(
        after.html.contains("awans na zwolnione miejsce"),
        "{}",
        after.html
    );
    assert!(!after.html.contains("promoted to"), "{}", after.html);
    let roster = app
        .roster(&visit, &term, closed_position(&released.location))
        .await;
    let now: Vec<&str> = roster.body["allocated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["application_id"].as_str().unwrap())
        .collect();
    assert!(
        now.contains(&waiting.as_str()),
        "the first waiting was promoted: {}",
        roster.body
    );

    // Attendance at the door, by day: one tap each, back to the same row of the same day.
    let door = format!("/panel/wizyty/{visit}/terminy/{term}/obecnosc");
    let sheet = b.get(&door).await;
    assert_eq!(sheet.status, 200, "{}", sheet.html);
    let first_day = sheet.hidden("dzien");
    // A day that is not a date (here with a line break, which a redirect header could not
    // carry) is refused, never echoed into the address.
    let odd = b
        .post(
            &format!("{door}/{waiting}"),
            &[
                ("csrf", &sheet.hidden("csrf")),
                ("dzien", &format!("{first_day}\r\nX: y")),
                ("obecny", "tak"),
            ],
        )
        .await;
    assert_eq!(odd.status, 404, "{}", odd.html);
    let tapped = b
        .post(
            &format!("{door}/{waiting}"),
            &[
                ("csrf", &sheet.hidden("csrf")),
                ("dzien", &first_day),
                ("obecny", "tak"),
            ],
        )
        .await;
    assert_eq!(tapped.status, 303, "{}", tapped.html);
    assert!(
        tapped.location.ends_with(&format!("#o-{waiting}")),
        "{}",
        tapped.location
    );
    let roster = app
        .roster(&visit, &term, closed_position(&tapped.location))
        .await;
    let entry = roster.body["allocated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["application_id"] == waiting.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["attended"], true, "{entry}");
    assert_eq!(
        entry["days_present"],
        serde_json::json!([first_day]),
        "{entry}"
    );
    assert!(
        tapped.location.contains(&format!("dzien={first_day}")),
        "{}",
        tapped.location
    );
    let sheet = b.get(&tapped.location).await;
    assert!(sheet.html.contains("Obecnych: 1 z 2 —"), "{}", sheet.html);
    // Another day of the term is its own list.
    let next = chrono::NaiveDate::parse_from_str(&first_day, "%Y-%m-%d")
        .unwrap()
        .succ_opt()
        .unwrap();
    // The term lasts two days: the chooser links the second, whose list is its own.
    assert!(
        sheet.html.contains(&format!("dzien={next}")),
        "{}",
        sheet.html
    );
    let other = b.get(&format!("{door}?dzien={next}")).await;
    assert!(other.html.contains("Obecnych: 0 z 2 —"), "{}", other.html);
    assert_eq!(other.hidden("dzien"), next.to_string());
    // The sign-in sheet to print and the certificate of the person present.
    let pdf = b
        .http
        .get(format!(
            "{}/panel/wizyty/{visit}/terminy/{term}/pobierz/lista-obecnosci.pdf",
            b.base
        ))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    let text = pdf_extract::extract_text_from_mem(&pdf.bytes().await.unwrap()).unwrap();
    assert!(text.contains("Lista obecności"), "{text}");
    assert!(
        sheet.html.contains(&format!(
            "/panel/wizyty/{visit}/zgloszenia/{waiting}/zaswiadczenie.pdf"
        )),
        "{}",
        sheet.html
    );
    let cert = b
        .http
        .get(format!(
            "{}/panel/wizyty/{visit}/zgloszenia/{waiting}/zaswiadczenie.pdf",
            b.base
        ))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(cert.status(), 200);
    let text = pdf_extract::extract_text_from_mem(&cert.bytes().await.unwrap()).unwrap();
    assert!(text.contains("Kod weryfikacyjny"), "{text}");

    // The roster's download is the API's CSV, with names for the coordinator.
    let csv = b
        .get(&format!(
            "/panel/wizyty/{visit}/terminy/{term}/pobierz/lista.csv"
        ))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.html.contains("Wiśniewska"), "{}", csv.html);
    // And as a workbook a spreadsheet opens: the same people, read back with calamine.
    let res = b
        .http
        .get(format!(
            "{}/panel/wizyty/{visit}/terminy/{term}/pobierz/lista.xlsx",
            b.base
        ))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = sheet.cells().map(|(_, _, c)| c.to_string()).collect();
    assert!(cells.contains(&"Wiśniewska".to_owned()), "{cells:?}");
    assert!(cells.contains(&waiting), "{cells:?}");
    assert_eq!(sheet.height(), 1 + 2, "a header and the two holding seats");
}

/// The `po=` position of a console redirect (0 when absent).
fn closed_position(location: &str) -> i64 {
    location
        .split(['?', '&', '#'])
        .find_map(|p| p.strip_prefix("po="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_session_reads_the_api_for_the_dashboard_but_changes_nothing() {
    let app = tests::spawn().await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let ours = app.announce_visit(None).await;
    let mut theirs = tests::visit_body(None);
    theirs["title"] = "Wizyta innego ROPS".into();
    let theirs = app
        .post("/api/v1/study-visits", &app.other_coordinator, theirs)
        .await
        .str("id");
    let mut b = Browser::new(&app);
    b.sign_in("anna@rops-torun.pl", PASSWORD).await;

    // The dashboard's reads: the cookie alone, scoped to the account's organizer.
    let list = b.get("/api/v1/study-visits?min_position=2").await;
    assert_eq!(list.status, 200, "{}", list.html);
    assert!(list.html.contains(&ours), "{}", list.html);
    assert!(!list.html.contains(&theirs), "{}", list.html);
    assert_eq!(
        b.get(&format!("/api/v1/study-visits/{theirs}"))
            .await
            .status,
        404
    );

    // A change with the cookie alone is refused before anything is read: a cookie the
    // browser sends by itself must not be able to change anything.
    let before = tests::event_count(&app).await;
    let res = b
        .http
        .post(format!("{}/api/v1/study-visits/{ours}/terms", b.base))
        .header("cookie", b.cookie_header())
        .json(&serde_json::json!({"label": "x", "seats": 1, "planned": {"month": "2027-05"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(tests::event_count(&app).await, before);

    // Signed out, the same cookie (kept, as a stolen one would be) reads nothing.
    let secret = b.cookies.get("kdn_sesja").cloned().unwrap();
    let panel = b.get("/panel").await;
    let out = b.post("/wyloguj", &[("csrf", &panel.hidden("csrf"))]).await;
    assert_eq!(out.status, 303);
    let res = b
        .http
        .get(format!("{}/api/v1/study-visits", b.base))
        .header("cookie", format!("kdn_sesja={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_coordinator_of_another_organizer_finds_none_of_a_visits_pages() {
    let app = tests::spawn().await;
    account(
        &app,
        "obcy@rops-gdansk.pl",
        Role::Coordinator,
        Some("rops-gdansk"),
    )
    .await;
    let (visit, term) = app.open_recruitment(Some(1), 2).await;
    let applied = app
        .apply(&visit, &term, "a@x.pl", &tests::nip(100), "JST")
        .await;
    let application = applied.str("application_id");
    app.close(&visit, &term).await;
    // The visit is in the read models: a 404 below is the scope's, not a lag's.
    tests::console::settled(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in("obcy@rops-gdansk.pl", PASSWORD).await;
    let before = tests::event_count(&app).await;
    for path in [
        format!("/panel/wizyty/{visit}"),
        format!("/panel/wizyty/{visit}/terminy/nowy"),
        format!("/panel/wizyty/{visit}/terminy/{term}"),
        format!("/panel/wizyty/{visit}/terminy/{term}/daty"),
        format!("/panel/wizyty/{visit}/terminy/{term}/obecnosc"),
        format!("/panel/wizyty/{visit}/terminy/{term}/pobierz/lista.csv"),
        format!("/panel/wizyty/{visit}/terminy/{term}/pobierz/lista.xlsx"),
        format!("/panel/wizyty/{visit}/preferencje/cus_declared"),
        format!("/panel/wizyty/{visit}/zgloszenia/{application}/zwolnij"),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.html);
        assert!(!page.html.contains("Wiśniewska"), "{path}");
    }
    // Posts with a valid CSRF token of its own pages change nothing either.
    let csrf = b.get("/panel").await.hidden("csrf");
    for path in [
        format!("/panel/wizyty/{visit}/terminy/nowy"),
        format!("/panel/wizyty/{visit}/terminy/{term}/zamknij"),
        format!("/panel/wizyty/{visit}/zgloszenia/{application}/zwolnij"),
        format!("/panel/wizyty/{visit}/terminy/{term}/obecnosc/{application}"),
    ] {
        let page = b
            .post(
                &path,
                &[
                    ("csrf", csrf.as_str()),
                    ("reason", "x"),
                    ("label", "x"),
                    ("seats", "1"),
                    ("obecny", "tak"),
                ],
            )
            .await;
        assert_eq!(page.status, 404, "{path}: {}", page.html);
    }
    assert_eq!(tests::event_count(&app).await, before);
    let panel = b.get("/panel").await;
    assert!(!panel.html.contains(&visit), "{}", panel.html);
}

#[tokio::test]
async fn a_form_sent_twice_is_carried_out_once() {
    let app = tests::spawn().await;
    account(
        &app,
        "anna@rops-torun.pl",
        Role::Coordinator,
        Some("rops-torun"),
    )
    .await;
    let mut b = Browser::new(&app);
    b.sign_in("anna@rops-torun.pl", PASSWORD).await;
    let form = b.get("/panel/wizyty/nowa").await;
    let (csrf, key) = (form.hidden("csrf"), form.hidden("klucz"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("klucz", key.as_str()),
        ("title", "Wizyta klikana dwa razy"),
        ("destination", "Toruń"),
        ("eligible_institution_types", "JST"),
    ];
    // A double click: the same page's form twice.
    let first = b.post("/panel/wizyty/nowa", &fields).await;
    let second = b.post("/panel/wizyty/nowa", &fields).await;
    assert_eq!(first.status, 303, "{}", first.html);
    assert_eq!(second.status, 303, "{}", second.html);
    let visit = |p: &tests::console::Page| p.location.split('?').next().unwrap().to_owned();
    assert_eq!(visit(&first), visit(&second), "both lead to the one visit");
    let announced: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'VisitAnnounced'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(announced, 1);
    // The form opened again has a key of its own: a new request, another visit.
    let form = b.get("/panel/wizyty/nowa").await;
    let (csrf, new_key) = (form.hidden("csrf"), form.hidden("klucz"));
    assert_ne!(new_key, key);
    let again = b
        .post(
            "/panel/wizyty/nowa",
            &[
                ("csrf", csrf.as_str()),
                ("klucz", new_key.as_str()),
                ("title", "Wizyta klikana dwa razy"),
                ("destination", "Toruń"),
                ("eligible_institution_types", "JST"),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_ne!(visit(&again), visit(&first));
}

//! The console's programmes pages through HTTP, as a person uses them: seed 001 (the Toruń
//! programme of cooperation with social economy entities for 2013–2014, its testing period
//! until 30 April 2014 and its evaluation) entered from the forms, every change checked
//! through the API's reads; another organizer's coordinator finds nothing, an evaluator reads
//! and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use infra::tokens::Role;
use serde_json::{json, Value};
use tests::console::{account, Browser, Page, PASSWORD};
use tests::TestApp;

const TITLE: &str =
    "Program współpracy Gminy Miasta Toruń z podmiotami ekonomii społecznej na 2013-2014";
const CIS_NIP: &str = "9562307984";
const CIS: &str = "Centrum Integracji Społecznej w Toruniu";

async fn events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The programme as the API answers it once its read model has every event written so far.
async fn detail(app: &TestApp, id: &str) -> Value {
    let position: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let answer = app
        .get(
            &format!("/api/v1/programs/{id}?min_position={position}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// The path a form's success leads to, without its query.
fn landed(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.html);
    page.location.split('?').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_coordinator_runs_the_torun_programme_from_the_console() {
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
    let list = b.get("/panel/programy").await;
    assert_eq!(list.status, 200, "{}", list.html);
    assert!(list.html.contains("href=\"/panel/programy/nowy\""));

    // Nothing filled in: every missing field is named at once, and nothing is written.
    let empty = b.fill("/panel/programy/nowy", &[]).await;
    assert_eq!(empty.status, 422, "{}", empty.html);
    for field in ["f-title", "f-period-start", "f-period-end"] {
        assert!(
            empty.html.contains(&format!("href=\"#{field}\"")),
            "the summary links to {field}: {}",
            empty.html
        );
    }
    // A bad indicator is named by its row as shown, what was typed kept.
    let seed: Vec<(&str, &str)> = vec![
        ("title", TITLE),
        ("kind", "cooperation_programme"),
        ("period.start", "2013-01-01"),
        ("period.end", "2014-12-31"),
        (
            "goals",
            "Poprawa współpracy między toruńskimi podmiotami ekonomii społecznej a Urzędem Miasta Torunia\nZwiększenie wzajemnego zaufania i znajomości potrzeb obu stron",
        ),
        ("indicators[0].code", "szkolenia"),
        ("indicators[0].label", "Szkolenia dla podmiotów ekonomii społecznej"),
        ("indicators[0].target", "3"),
        ("indicators[0].measure", "activities_held:training"),
        ("indicators[2].label", "Wzajemne zaufanie (ankieta)"),
        ("indicators[2].target", "1"),
        ("indicators[2].measure", "manual"),
    ];
    let mut bad = seed.clone();
    bad.push(("indicators[2].code", "Zaufanie!"));
    let refused = b.fill("/panel/programy/nowy", &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("href=\"#f-indicators-2--code\""),
        "{}",
        refused.html
    );
    assert!(refused
        .html
        .contains("value=\"Wzajemne zaufanie (ankieta)\""));
    assert_eq!(events(&app).await, 0);

    let mut good = seed.clone();
    good.push(("indicators[2].code", "zaufanie"));
    let created = b.fill("/panel/programy/nowy", &good).await;
    let page = landed(&created);
    let id = page.strip_prefix("/panel/programy/").unwrap().to_owned();
    let shown = b.get(&created.location).await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    assert!(shown.html.contains("Zapisano."));
    assert!(shown.html.contains("Program współpracy Gminy Miasta Toruń"));
    let view = detail(&app, &id).await;
    assert_eq!(view["kind"], "cooperation_programme");
    assert_eq!(
        view["period"],
        json!({"start": "2013-01-01", "end": "2014-12-31"})
    );
    assert_eq!(view["goals"].as_array().unwrap().len(), 2);
    let codes: Vec<&str> = view["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["szkolenia", "zaufanie"]);

    // The last of the three trainings, planned for "luty 2014" as a schedule writes it.
    let plan = format!("/panel/programy/{id}/dzialanie");
    let unreadable = b
        .fill(
            &plan,
            &[
                ("title", "Szkolenie"),
                ("kind", "training"),
                ("planned", "kiedyś"),
            ],
        )
        .await;
    assert_eq!(unreadable.status, 422, "{}", unreadable.html);
    assert!(unreadable.html.contains("href=\"#f-planned\""));
    let planned = b
        .fill(
            &plan,
            &[
                (
                    "title",
                    "Szkolenie: zmiany w systemie pomocy społecznej i rynku pracy",
                ),
                ("kind", "training"),
                ("planned", "luty 2014"),
                ("location", "Toruń"),
            ],
        )
        .await;
    assert_eq!(landed(&planned), page);
    let view = detail(&app, &id).await;
    let activity = &view["activities"][0];
    assert_eq!(activity["status"], "planned");
    assert_eq!(activity["month"], "2014-02");
    let activity_id = activity["activity_id"].as_str().unwrap().to_owned();
    let shown = b.get(&planned.location).await;
    assert!(shown.html.contains("luty 2014"), "{}", shown.html);
    assert!(shown
        .html
        .contains(&format!("/dzialania/{activity_id}/odbyte")));

    // It took place on 3 February 2014, with the city's social assistance centre.
    let held = b
        .fill(
            &format!("/panel/programy/{id}/dzialania/{activity_id}/odbyte"),
            &[
                ("starts_on", "2014-02-03"),
                ("ends_on", "2014-02-03"),
                ("participants_total", "25"),
                ("institutions[0].name", CIS),
                ("institutions[0].nip", CIS_NIP),
                ("institutions[0].type", "CIS"),
                (
                    "notes",
                    "Dyrektorzy MOPR i PUP w Toruniu o planowanych zmianach w ustawach.",
                ),
            ],
        )
        .await;
    assert_eq!(landed(&held), page);
    let view = detail(&app, &id).await;
    let activity = &view["activities"][0];
    assert_eq!(activity["status"], "held");
    assert_eq!(activity["participants_total"], 25);
    assert_eq!(activity["institutions"][0]["nip"], CIS_NIP);

    // A partner whose card came by e-mail: the sending date counts.
    let partner = b
        .fill(
            &format!("/panel/programy/{id}/partner"),
            &[
                ("institution.name", CIS),
                ("institution.nip", CIS_NIP),
                ("institution.type", "CIS"),
                ("channel", "email"),
                ("sent_on", "2013-02-15"),
            ],
        )
        .await;
    assert_eq!(landed(&partner), page);
    let view = detail(&app, &id).await;
    assert_eq!(view["partners"][0]["channel"], "email");
    assert_eq!(view["partners"][0]["counted_on"], "2013-02-15");

    // A schedule with one bad line: that line is named and nothing is imported.
    let schedule = format!("/panel/programy/{id}/harmonogram");
    let bad_csv = "date,title,kind,location\n\
                   Koniec listopada 2013,I Toruńskie Forum Ekonomii Społecznej,forum,Toruń\n\
                   31.02.2014,Wizyta studyjna w spółdzielni socjalnej,study_visit,Toruń\n";
    let refused = b
        .fill_multipart(&schedule, &[("csv", bad_csv), ("year", "")], None)
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("Wiersz 3"), "{}", refused.html);
    assert!(!refused.html.contains("Wiersz 2"), "{}", refused.html);
    assert_eq!(
        detail(&app, &id).await["activities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let good_csv = "date,title,kind,location\n\
                    Koniec listopada,I Toruńskie Forum Ekonomii Społecznej,forum,Toruń\n\
                    12.12.2013,Wizyta studyjna w spółdzielni socjalnej,study_visit,Toruń\n";
    // The good one as a file saved from a spreadsheet (with the BOM Excel writes).
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend_from_slice(good_csv.as_bytes());
    let imported = b
        .fill_multipart(
            &schedule,
            &[("csv", ""), ("year", "2013")],
            Some(("plik", "harmonogram.csv", file)),
        )
        .await;
    assert_eq!(landed(&imported), page);
    let shown = b.get(&imported.location).await;
    assert!(
        shown.html.contains("Zaimportowano 2 działania"),
        "{}",
        shown.html
    );
    let view = detail(&app, &id).await;
    let titles: Vec<&str> = view["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles.contains(&"I Toruńskie Forum Ekonomii Społecznej"));

    // The same schedule sent twice from one page (a double click) is imported once.
    let form = b.get(&schedule).await;
    let (csrf, key) = (form.hidden("csrf"), form.hidden("klucz"));
    let twice = "date,title,kind\nMarzec 2014,Forum organizacji,forum\n";
    for _ in 0..2 {
        let sent = b
            .post_multipart(
                &schedule,
                &csrf,
                &[("csv", twice), ("year", ""), ("klucz", &key)],
                None,
            )
            .await;
        assert_eq!(sent.status, 303, "{}", sent.html);
    }
    let view = detail(&app, &id).await;
    let forums = view["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["title"] == "Forum organizacji")
        .count();
    assert_eq!(forums, 1, "{view}");

    // Opinions, proposals and suggestions, by e-mail as the article asks.
    let feedback = b
        .fill(
            &format!("/panel/programy/{id}/opinia"),
            &[
                ("received_on", "2014-02-10"),
                ("channel", "email"),
                (
                    "text",
                    "Platforma PES-TOR pomaga nam znaleźć partnerów w urzędzie.",
                ),
                ("rating", "5"),
                ("institution.type", ""),
            ],
        )
        .await;
    assert_eq!(landed(&feedback), page);
    let view = detail(&app, &id).await;
    assert_eq!(view["feedback"][0]["channel"], "email");
    assert_eq!(view["feedback"][0]["rating"], 5);
    assert!(view["feedback"][0]["institution"].is_null());

    // Testing until 30 April 2014; a consultation with a comment in its window.
    let testing = b
        .fill(
            &format!("/panel/programy/{id}/testowanie"),
            &[("ends_on", "2014-04-30")],
        )
        .await;
    assert_eq!(landed(&testing), page);
    let opened = b
        .fill(
            &format!("/panel/programy/{id}/konsultacja"),
            &[
                ("subject", "Program współpracy po roku testowania"),
                ("opens_on", "2014-03-01"),
                ("closes_on", "2014-03-31"),
            ],
        )
        .await;
    assert_eq!(landed(&opened), page);
    let view = detail(&app, &id).await;
    assert_eq!(view["testing_ends_on"], "2014-04-30");
    let consultation = view["consultations"][0]["consultation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let comment = b
        .fill(
            &format!("/panel/programy/{id}/konsultacje/{consultation}/uwaga"),
            &[
                ("institution.name", CIS),
                ("institution.nip", CIS_NIP),
                ("institution.type", "CIS"),
                ("text", "Prosimy o więcej wizyt studyjnych."),
                ("submitted_on", "2014-03-12"),
            ],
        )
        .await;
    assert_eq!(landed(&comment), page);
    let view = detail(&app, &id).await;
    assert_eq!(
        view["consultations"][0]["comments"][0]["text"],
        "Prosimy o więcej wizyt studyjnych."
    );

    // The evaluation: did it achieve its intended effects?
    let evaluated = b
        .fill(
            &format!("/panel/programy/{id}/ewaluacja"),
            &[
                ("verdict", "partially_achieved"),
                (
                    "summary",
                    "Współpraca się poprawiła; platforma wymaga promocji.",
                ),
                ("manual_values[0].code", "zaufanie"),
                ("manual_values[0].value", "1"),
                (
                    "recommendations",
                    "Więcej szkoleń\nPromocja platformy PES-TOR",
                ),
            ],
        )
        .await;
    assert_eq!(landed(&evaluated), page);
    let view = detail(&app, &id).await;
    assert_eq!(view["evaluation"]["verdict"], "partially_achieved");
    assert_eq!(view["evaluation"]["manual_values"], json!({"zaufanie": 1}));
    assert_eq!(
        view["evaluation"]["recommendations"],
        json!(["Więcej szkoleń", "Promocja platformy PES-TOR"])
    );

    // The page shows what was recorded, and the evaluation downloads as the API's CSV.
    let shown = b.get(&evaluated.location).await;
    assert_eq!(shown.status, 200);
    for text in [
        "Platforma PES-TOR pomaga nam znaleźć partnerów w urzędzie.",
        "Prosimy o więcej wizyt studyjnych.",
        "cele osiągnięte częściowo",
        "uczestników: 25",
        "I Toruńskie Forum Ekonomii Społecznej",
    ] {
        assert!(shown.html.contains(text), "{text}: {}", shown.html);
    }
    // Each indicator's target and the value reached, as the API's evaluation computes it.
    let evaluation = app
        .get(
            &format!("/api/v1/programs/{id}/evaluation"),
            &app.coordinator,
        )
        .await;
    assert_eq!(evaluation.status, 200, "{}", evaluation.body);
    for i in evaluation.body["indicators"].as_array().unwrap() {
        let cells = format!("<td>{}</td><td>{}</td>", i["target"], i["actual"]);
        assert!(shown.html.contains(&cells), "{cells}: {}", shown.html);
    }
    let csv = b.get(&format!("/panel/programy/{id}/ewaluacja.csv")).await;
    assert_eq!(csv.status, 200, "{}", csv.html);
    let (_, api_csv) = app
        .get_text(
            &format!("/api/v1/programs/{id}/evaluation.csv"),
            &app.coordinator,
        )
        .await;
    assert!(csv.html.contains("szkolenia"), "{}", csv.html);
    assert_eq!(csv.html.lines().count(), api_csv.lines().count());

    // Closed: recorded with its reason, and nothing more is offered.
    let closed = b
        .fill(
            &format!("/panel/programy/{id}/zamkniecie"),
            &[("reason", "Koniec okresu programu")],
        )
        .await;
    assert_eq!(landed(&closed), page);
    assert_eq!(detail(&app, &id).await["status"], "closed");
    let shown = b.get(&closed.location).await;
    assert!(
        shown.html.contains("Koniec okresu programu"),
        "{}",
        shown.html
    );
    assert!(!shown.html.contains("/dzialanie\""), "{}", shown.html);

    // Everything was done by the signed-in account.
    let actors: Vec<String> = sqlx::query_scalar("SELECT DISTINCT metadata->>'actor' FROM events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(actors.len(), 1, "{actors:?}");
    assert!(actors[0].starts_with("user:"), "{actors:?}");
}

#[tokio::test]
async fn another_organizer_finds_nothing_and_an_evaluator_only_reads() {
    let app = tests::spawn().await;
    let created = app
        .post(
            "/api/v1/programs",
            &app.coordinator,
            json!({
                "title": TITLE,
                "kind": "cooperation_programme",
                "period": {"start": "2013-01-01", "end": "2014-12-31"},
                "indicators": [{"code": "szkolenia", "label": "Szkolenia", "target": 3,
                                "measure": "activities_held:training"}]
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let planned = app
        .post(
            &format!("/api/v1/programs/{id}/activities"),
            &app.coordinator,
            json!({"kind": "training", "title": "Szkolenie", "planned": "luty 2014"}),
        )
        .await;
    assert!(planned.status < 300, "{}", planned.body);
    let position = planned.body["position"].as_i64().unwrap();
    let activity = detail(&app, &id).await["activities"][0]["activity_id"]
        .as_str()
        .unwrap()
        .to_owned();

    account(
        &app,
        "jan@rops-olsztyn.pl",
        Role::Coordinator,
        Some("rops-olsztyn"),
    )
    .await;
    let mut other = Browser::new(&app);
    other.sign_in("jan@rops-olsztyn.pl", PASSWORD).await;
    for path in [
        format!("/panel/programy/{id}"),
        format!("/panel/programy/{id}?po={position}"),
        format!("/panel/programy/{id}/dzialanie"),
        format!("/panel/programy/{id}/dzialania/{activity}/odbyte"),
        format!("/panel/programy/{id}/harmonogram"),
        format!("/panel/programy/{id}/ewaluacja.csv"),
    ] {
        let page = other.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.html);
    }
    let list = other.get("/panel/programy").await;
    assert_eq!(list.status, 200);
    assert!(!list.html.contains(&id), "{}", list.html);

    account(
        &app,
        "ewa@rops-torun.pl",
        Role::Evaluator,
        Some("rops-torun"),
    )
    .await;
    let mut ev = Browser::new(&app);
    ev.sign_in("ewa@rops-torun.pl", PASSWORD).await;
    let list = ev.get("/panel/programy").await;
    assert!(list.html.contains(&id), "{}", list.html);
    assert!(!list.html.contains("/panel/programy/nowy"), "{}", list.html);
    let page = ev.get(&format!("/panel/programy/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Szkolenie"));
    assert!(!page.html.contains("<form"), "{}", page.html);
    assert!(!page.html.contains("/dzialanie\""), "{}", page.html);
    assert!(!page.html.contains("/odbyte"), "{}", page.html);
    let form = ev.get(&format!("/panel/programy/{id}/opinia")).await;
    assert_eq!(form.status, 403);
    // A post with a valid token (the panel's) is refused too, and writes nothing.
    let before = events(&app).await;
    let csrf = ev.get("/panel").await.hidden("csrf");
    for (path, fields) in [
        (
            format!("/panel/programy/{id}/opinia"),
            vec![
                ("received_on", "2014-02-10"),
                ("channel", "email"),
                ("text", "Opinia"),
            ],
        ),
        (
            format!("/panel/programy/{id}/dzialania/{activity}/odwolaj"),
            vec![("reason", "Brak sali")],
        ),
    ] {
        let mut all = fields.clone();
        all.push(("csrf", &csrf));
        let refused = ev.post(&path, &all).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.html);
        assert!(
            refused.html.contains("Tylko do odczytu"),
            "{}",
            refused.html
        );
    }
    // The schedule's form, sent as the browser sends it (multipart), is refused too.
    let refused = ev
        .post_multipart(
            &format!("/panel/programy/{id}/harmonogram"),
            &csrf,
            &[("csv", "date,title\nluty 2014,Szkolenie\n")],
            None,
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert_eq!(events(&app).await, before);
}

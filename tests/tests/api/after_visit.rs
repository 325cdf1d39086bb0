//! After the visit (API.md, "Seat offers, attendance by day, certificates, reports"):
//! attendance by day, the printable sign-in sheet, certificates anyone can verify (before
//! and after the person's data is erased, and after a revocation), and the EU participant
//! report, reproducible byte for byte and checked against an independent count.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use domain::services::FixedClock;
use serde_json::{json, Value};
use tests::{expect, instant, nip, spawn_at, Answer, TestApp};

const T1_DEADLINE: &str = "2022-06-23T11:00:00+02:00";
const T2_DEADLINE: &str = "2022-06-24T11:00:00+02:00";

/// A dated term, opened.
async fn term(
    app: &TestApp,
    visit: &str,
    label: &str,
    days: (&str, &str),
    deadline: &str,
) -> String {
    let t = expect(
        app.post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": label, "starts_on": days.0, "ends_on": days.1, "seats": 5, "recruitment_deadline": deadline}),
        )
        .await,
        201,
    )
    .str("term_id");
    expect(app.open(visit, &t).await, 200);
    t
}

/// An applicant with a name of their own (the PDFs and reports are read for it).
struct Person {
    id: String,
    key: String,
    email: String,
    /// Where the submission was written (`?min_position=` reads see it).
    position: i64,
}

async fn apply(
    app: &TestApp,
    visit: &str,
    term: &str,
    (first, last): (&str, &str),
    inst: u32,
) -> Person {
    let email = format!("{}.{}@ops.example.pl", inst, last.to_lowercase());
    let a = app
        .call(
            "POST",
            &format!("/api/v1/study-visits/{visit}/terms/{term}/applications"),
            None,
            Some(json!({
                "person": {"first_name": first, "last_name": last, "email": email, "job_title": "pracownik socjalny"},
                "institution": {"name": format!("Gminny Ośrodek {inst}"), "type": "JST", "nip": nip(inst)},
                "consent": true
            })),
        )
        .await;
    let a = expect(a, 201);
    Person {
        id: a.str("application_id"),
        key: a.str("applicant_key"),
        email,
        position: a.position(),
    }
}

async fn attend(app: &TestApp, visit: &str, p: &Person, body: Value) -> Answer {
    app.post(
        &format!(
            "/api/v1/study-visits/{visit}/applications/{}/attendance",
            p.id
        ),
        &app.coordinator,
        body,
    )
    .await
}

/// A PDF's text, as a reader extracts it (white space dropped: wrapped cells join lines).
fn pdf_text(bytes: &[u8]) -> String {
    let text = pdf_extract::extract_text_from_mem(bytes).expect("a readable PDF");
    text.split_whitespace().collect()
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect()
}

/// GET without a token, with extra headers: status, content type, bytes.
async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, res.bytes().await.expect("body").to_vec())
}

/// The code printed on a certificate: the 19 characters after "Kodweryfikacyjny:".
fn printed_code(text: &str) -> String {
    let at = text
        .find("Kodweryfikacyjny:")
        .unwrap_or_else(|| panic!("no code in {text}"));
    text[at + "Kodweryfikacyjny:".len()..]
        .chars()
        .take(19)
        .collect()
}

#[tokio::test]
async fn attendance_by_day_sign_in_sheet_and_certificates_anyone_can_verify() {
    let clock = Arc::new(FixedClock::new(instant("2022-06-15T10:00:00Z")));
    let app = spawn_at(clock).await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term(
        &app,
        &visit,
        "I termin",
        ("2022-06-27", "2022-06-28"),
        T1_DEADLINE,
    )
    .await;
    let zaneta = apply(&app, &visit, &t, ("Żaneta", "Łęcka-Ścibor"), 11).await;
    let jerzy = apply(&app, &visit, &t, ("Jerzy", "Gąsiorowski"), 12).await;
    let absent = apply(&app, &visit, &t, ("Anna", "Nieobecna"), 13).await;

    // Before the close nobody holds a seat: no sign-in sheet, no attendance. (Read after the
    // last submission: without `min_position` the term may not be in the read model yet.)
    let (s, ..) = fetch(
        &app,
        &format!(
            "/api/v1/study-visits/{visit}/terms/{t}/attendance-list.pdf?min_position={}",
            absent.position
        ),
        &[("authorization", &format!("Bearer {}", app.coordinator))],
    )
    .await;
    assert_eq!(s, 409);
    expect(app.close(&visit, &t).await, 200);

    // By day: a day outside the term and a badly written day name the field, write nothing.
    for (day, code) in [
        ("2022-06-29", "day_outside_term"),
        ("28.06.2022", "date_format"),
    ] {
        let a = expect(
            attend(&app, &visit, &zaneta, json!({"day": day, "attended": true})).await,
            422,
        );
        assert_eq!(a.body["errors"][0]["field"], "day", "{a:?}");
        assert_eq!(a.body["errors"][0]["code"], code, "{a:?}");
    }
    expect(
        attend(
            &app,
            &visit,
            &zaneta,
            json!({"day": "2022-06-27", "attended": true}),
        )
        .await,
        200,
    );
    // Without a day (today's clients): every day.
    expect(
        attend(&app, &visit, &jerzy, json!({"attended": true})).await,
        200,
    );
    let p = expect(
        attend(&app, &visit, &absent, json!({"attended": false})).await,
        200,
    )
    .position();
    let roster = app.roster(&visit, &t, p).await.body;
    let days_of = |p: &Person| {
        roster["allocated"]
            .as_array()
            .expect("allocated")
            .iter()
            .find(|e| e["application_id"] == p.id.as_str())
            .map(|e| (e["attended"].clone(), e["days_present"].clone()))
            .expect("allocated")
    };
    assert_eq!(days_of(&zaneta), (json!(true), json!(["2022-06-27"])));
    assert_eq!(
        days_of(&jerzy),
        (json!(true), json!(["2022-06-27", "2022-06-28"]))
    );
    assert_eq!(days_of(&absent), (json!(false), Value::Null));
    let own = app
        .call_with(
            "GET",
            &format!("/api/v1/applications/{}?min_position={p}", zaneta.id),
            None,
            None,
            &[("X-Applicant-Key", &zaneta.key)],
        )
        .await;
    assert_eq!(own.body["days_present"], json!(["2022-06-27"]), "{own:?}");

    // The sign-in sheet: a PDF with the names, the institutions and a column per day.
    let sheet = format!("/api/v1/study-visits/{visit}/terms/{t}/attendance-list.pdf");
    let (s, ct, pdf) = app.download(&sheet, &app.coordinator).await;
    assert_eq!((s, ct.as_str()), (200, "application/pdf"));
    let text = pdf_text(&pdf);
    for expected in [
        "Listaobecności",
        "27.06.2022",
        "28.06.2022",
        "ŻanetaŁęcka-Ścibor",
        "JerzyGąsiorowski",
        "AnnaNieobecna",
        "GminnyOśrodek11",
        "RPOWK-P2014-2020",
    ] {
        assert!(
            text.contains(expected),
            "{expected} not in the sheet: {text}"
        );
    }
    // It names people: not for evaluators.
    assert_eq!(app.download(&sheet, &app.evaluator).await.0, 403);

    // Certificates: only for someone present on a day.
    let cert = |p: &Person| {
        format!(
            "/api/v1/study-visits/{visit}/applications/{}/certificate.pdf",
            p.id
        )
    };
    let refused = app.get(&cert(&absent), &app.coordinator).await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (409, Some("/problems/not_present")),
        "{refused:?}"
    );
    // The person, with their own key; a wrong key is 404.
    let (s, ct, pdf) = fetch(&app, &cert(&zaneta), &[("X-Applicant-Key", &zaneta.key)]).await;
    assert_eq!((s, ct.as_str()), (200, "application/pdf"));
    assert_eq!(
        fetch(&app, &cert(&zaneta), &[("X-Applicant-Key", &jerzy.key)])
            .await
            .0,
        404
    );
    let text = pdf_text(&pdf);
    for expected in [
        "Zaświadczenie",
        "ŻanetaŁęcka-Ścibor",
        "GminnyOśrodek11",
        "27.06.2022",
    ] {
        assert!(
            text.contains(expected),
            "{expected} not on the certificate: {text}"
        );
    }
    assert!(
        !text.contains("28.06.2022"),
        "a day absent is not certified: {text}"
    );
    let code = printed_code(&text);
    // A whole address (the one the request came to: no public address is configured here).
    assert!(
        text.contains(&squeeze(&format!("{}/weryfikacja/{code}", app.base))),
        "{text}"
    );
    // Printed again (by the coordinator): the same code.
    let (_, _, again) = app.download(&cert(&zaneta), &app.coordinator).await;
    assert_eq!(printed_code(&pdf_text(&again)), code);

    // The person's own page offers it too, without a token: the same code.
    let own_page = format!("/zgloszenia/{}/{}", zaneta.id, zaneta.key);
    let (s, _, html) = fetch(&app, &own_page, &[]).await;
    let html = String::from_utf8(html).expect("html");
    assert_eq!(s, 200);
    assert!(
        html.contains("27 czerwca 2022") || html.contains("27.06.2022"),
        "{html}"
    );
    assert!(
        html.contains(&format!("{own_page}/zaswiadczenie.pdf")),
        "{html}"
    );
    let (s, ct, pdf) = fetch(&app, &format!("{own_page}/zaswiadczenie.pdf"), &[]).await;
    assert_eq!((s, ct.as_str()), (200, "application/pdf"));
    assert_eq!(printed_code(&pdf_text(&pdf)), code);
    let absent_page = format!("/zgloszenia/{}/{}", absent.id, absent.key);
    let (_, _, html) = fetch(&app, &absent_page, &[]).await;
    assert!(!String::from_utf8_lossy(&html).contains("zaswiadczenie.pdf"));
    let (s, _, _) = fetch(&app, &format!("{absent_page}/zaswiadczenie.pdf"), &[]).await;
    assert_eq!(s, 409);
    let (s, _, _) = fetch(
        &app,
        &format!("/zgloszenia/{}/wrong-key/zaswiadczenie.pdf", zaneta.id),
        &[],
    )
    .await;
    assert_eq!(s, 404);

    // Anyone checks it, typed any way: initials only.
    let check = |c: String| {
        let app = &app;
        async move {
            app.call("GET", &format!("/api/v1/certificates/{c}"), None, None)
                .await
        }
    };
    let v = expect(check(code.clone()).await, 200).body;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["days_present"], json!(["2022-06-27"]));
    assert_eq!(v["person_initials"], "Ż. Ł.-Ś.");
    assert_eq!(v["institution"]["nip"], nip(11).as_str());
    assert_eq!(v["visit"]["id"], visit.as_str());
    assert!(v["position"].as_i64().is_some_and(|p| p > 0), "{v}");
    assert!(
        !v.to_string().contains("Łęcka"),
        "a public answer names nobody: {v}"
    );
    let typed = code.to_lowercase().replace('-', "");
    assert_eq!(expect(check(typed).await, 200).body["code"], code.as_str());
    expect(check("K7QF-2M9X-ABCD-EFGH".into()).await, 404);
    // The page, without JavaScript or a token.
    let (s, _, html) = fetch(&app, &format!("/weryfikacja/{code}"), &[]).await;
    let html = String::from_utf8(html).expect("html");
    assert_eq!(s, 200);
    assert!(
        html.contains("Zaświadczenie jest ważne") && html.contains("Ż. Ł.-Ś."),
        "{html}"
    );
    assert!(!html.contains("Łęcka"), "{html}");
    let (s, _, html) = fetch(&app, "/weryfikacja?kod=K7QF", &[]).await;
    assert_eq!(s, 422);
    assert!(String::from_utf8_lossy(&html).contains("aria-invalid=\"true\""));

    // After the person's data is erased the certificate still verifies, without a name.
    expect(
        app.post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": zaneta.email}),
        )
        .await,
        200,
    );
    let v = expect(check(code.clone()).await, 200).body;
    assert_eq!(
        (v["valid"].clone(), v["person_initials"].clone()),
        (json!(true), Value::Null),
        "{v}"
    );
    let erased = app.get(&cert(&zaneta), &app.coordinator).await;
    assert_eq!(
        erased.body["type"], "/problems/personal_data_erased",
        "{erased:?}"
    );

    // A revocation: a certified day later recorded absent. The code says since when.
    let (_, _, pdf) = app.download(&cert(&jerzy), &app.coordinator).await;
    let jerzy_code = printed_code(&pdf_text(&pdf));
    assert_eq!(
        expect(check(jerzy_code.clone()).await, 200).body["valid"],
        true
    );
    expect(
        attend(
            &app,
            &visit,
            &jerzy,
            json!({"day": "2022-06-28", "attended": false}),
        )
        .await,
        200,
    );
    let v = expect(check(jerzy_code.clone()).await, 200).body;
    assert_eq!(v["valid"], false, "{v}");
    assert!(v["revoked_at"].as_str().is_some(), "{v}");
    let (_, _, html) = fetch(&app, &format!("/weryfikacja/{jerzy_code}"), &[]).await;
    assert!(String::from_utf8_lossy(&html).contains("nie jest już ważne"));
    // A new certificate names the day that remains, under a new code.
    let (_, _, pdf) = app.download(&cert(&jerzy), &app.coordinator).await;
    let text = pdf_text(&pdf);
    assert_ne!(printed_code(&text), jerzy_code);
    assert!(
        text.contains("27.06.2022") && !text.contains("28.06.2022"),
        "{text}"
    );
}

/// The files of a ZIP, by name, in order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("entry");
            let mut out = Vec::new();
            f.read_to_end(&mut out).expect("read");
            (f.name().expect("a name").into_owned(), out)
        })
        .collect()
}

/// A CSV of the report: its header and rows (`;`, a BOM).
fn table(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').expect("a BOM");
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let range = book.worksheet_range(name).expect("sheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test]
async fn the_participant_report_counts_people_present_and_institutions_once_and_reproduces() {
    let clock = Arc::new(FixedClock::new(instant("2022-06-15T10:00:00Z")));
    let app = spawn_at(clock).await;
    let visit = app.announce_visit(None).await;
    let t1 = term(
        &app,
        &visit,
        "I termin",
        ("2022-06-27", "2022-06-28"),
        T1_DEADLINE,
    )
    .await;
    let t2 = term(
        &app,
        &visit,
        "II termin",
        ("2022-06-29", "2022-06-30"),
        T2_DEADLINE,
    )
    .await;
    let before_attendance = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let a = apply(&app, &visit, &t1, ("Adam", "Pierwszy"), 11).await;
    let b = apply(&app, &visit, &t1, ("Beata", "Druga"), 12).await;
    let c = apply(&app, &visit, &t2, ("Celina", "Trzecia"), 12).await;
    let d = apply(&app, &visit, &t2, ("Dariusz", "Czwarty"), 13).await;
    let _e = apply(&app, &visit, &t2, ("Ewa", "Piąta"), 14).await;
    expect(app.close(&visit, &t1).await, 200);
    expect(app.close(&visit, &t2).await, 200);
    for (p, body) in [
        (&a, json!({"day": "2022-06-27", "attended": true})),
        (&b, json!({"attended": true})),
        (&c, json!({"day": "2022-06-30", "attended": true})),
        // Recorded, but absent on every day: not supported.
        (&d, json!({"attended": false})),
    ] {
        expect(attend(&app, &visit, p, body).await, 200);
    }
    let last = app.all_events().await;
    let newest = last
        .iter()
        .filter(|e| e["aggregate_id"] == visit.as_str())
        .map(|e| e["position"].as_i64().expect("position"))
        .max()
        .expect("events");

    // The independent count: from the rosters the API shows, not from the report's code.
    let mut want_people = 0;
    let mut want: BTreeMap<String, (u32, String, String)> = BTreeMap::new();
    for t in [&t1, &t2] {
        let r = app.roster(&visit, t, newest).await.body;
        for e in r["allocated"].as_array().expect("allocated") {
            let days: Vec<String> = e["days_present"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .map(|x| x.as_str().expect("day").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let (Some(first), Some(last)) = (days.first(), days.last()) else {
                continue;
            };
            want_people += 1;
            let nip = e["institution"]["nip"].as_str().expect("nip").to_owned();
            let row = want.entry(nip).or_insert((0, first.clone(), last.clone()));
            row.0 += 1;
            row.1 = row.1.clone().min(first.clone());
            row.2 = row.2.clone().max(last.clone());
        }
    }
    assert_eq!((want_people, want.len()), (3, 2), "{want:?}");

    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let path = |format: &str, at: &str| {
        format!(
            "/api/v1/reports/participants?visit_id={visit}&at={}&format={format}",
            at.replace('+', "%2B")
        )
    };
    let (s, ct, zip1) = app.download(&path("csv", &at), &app.evaluator).await;
    assert_eq!((s, ct.as_str()), (200, "application/zip"));
    let (_, _, zip2) = app.download(&path("csv", &at), &app.coordinator).await;
    assert_eq!(zip1, zip2, "the same `at` gives the same bytes");
    let files = unzip(&zip1);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["instytucje.csv", "osoby.csv", "raport.json"]);
    let (ih, institutions) = table(&files[0].1);
    assert_eq!(
        ih,
        [
            "nip",
            "nazwa",
            "typ_instytucji",
            "rodzaj_wsparcia",
            "data_rozpoczecia_wsparcia",
            "data_zakonczenia_wsparcia",
            "liczba_osob"
        ]
    );
    let got: BTreeMap<String, (u32, String, String)> = institutions
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                (r[6].parse().expect("count"), r[4].clone(), r[5].clone()),
            )
        })
        .collect();
    assert_eq!(
        got, want,
        "institutions once by NIP, only people present counted"
    );
    let (ph, people) = table(&files[1].1);
    assert_eq!(
        ph,
        [
            "imie",
            "nazwisko",
            "nip_instytucji",
            "nazwa_instytucji",
            "stanowisko",
            "rodzaj_wsparcia",
            "data_rozpoczecia_wsparcia",
            "data_zakonczenia_wsparcia"
        ]
    );
    assert_eq!(people.len(), want_people);
    let names: BTreeSet<String> = people.iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["Pierwszy".into(), "Druga".into(), "Trzecia".into()])
    );
    let summary: Value = serde_json::from_slice(&files[2].1).expect("raport.json");
    assert_eq!(
        summary["ostatnie_zdarzenie"]["pozycja"], newest,
        "{summary}"
    );
    assert_eq!(
        summary["ostatnie_zdarzenie"]["skrot"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    assert_eq!(
        (
            summary["liczba_instytucji"].clone(),
            summary["liczba_osob"].clone()
        ),
        (json!(2), json!(3))
    );

    // The workbook holds the same tables.
    let (s, _, x1) = app.download(&path("xlsx", &at), &app.evaluator).await;
    assert_eq!(s, 200);
    assert_eq!(app.download(&path("xlsx", &at), &app.evaluator).await.2, x1);
    let mut csv_inst = vec![ih.clone()];
    csv_inst.extend(institutions.clone());
    assert_eq!(sheet(&x1, "instytucje"), csv_inst);
    let mut csv_people = vec![ph.clone()];
    csv_people.extend(people.clone());
    assert_eq!(sheet(&x1, "osoby"), csv_people);

    // Before any attendance the record supported nobody.
    let (_, _, early) = app
        .download(&path("csv", &before_attendance), &app.evaluator)
        .await;
    assert!(table(&unzip(&early)[1].1).1.is_empty());

    // An erased person stays, as erased; every count stays.
    expect(
        app.post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": b.email}),
        )
        .await,
        200,
    );
    let (_, _, after) = app.download(&path("csv", &at), &app.evaluator).await;
    let files = unzip(&after);
    assert_eq!(files[0].1, unzip(&zip1)[0].1, "institutions unchanged");
    let (_, people) = table(&files[1].1);
    assert_eq!(people.len(), 3);
    assert_eq!(
        people
            .iter()
            .filter(|r| r[0] == "[dane usunięte]" && r[1] == "[dane usunięte]")
            .count(),
        1,
        "{people:?}"
    );
    assert!(!String::from_utf8_lossy(&files[1].1).contains("Druga"));

    // Bad requests name the parameter; another organizer's visit is not there.
    let bad = app
        .get("/api/v1/reports/participants?format=pdf", &app.evaluator)
        .await;
    assert_eq!(bad.status, 422, "{bad:?}");
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["visit_id", "format"]);
    assert_eq!(
        app.get(
            &format!("/api/v1/reports/participants?visit_id={visit}"),
            &app.other_coordinator
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn a_programme_reports_the_institutions_of_its_held_activities_once() {
    let clock = Arc::new(FixedClock::new(instant("2014-02-04T09:00:00Z")));
    let app = spawn_at(clock).await;
    let c = app.coordinator.clone();
    let p = expect(
        app.post("/api/v1/programs", &c, json!({
            "title": "Program współpracy z podmiotami ekonomii społecznej", "kind": "cooperation_programme",
            "period": {"start": "2013-01-01", "end": "2014-12-31"}, "goals": ["Współpraca"], "indicators": [],
            "partner_application_deadline": null})).await,
        201,
    )
    .str("id");
    let plan = |kind: &'static str, day: &'static str| {
        let (app, c, p) = (&app, c.clone(), p.clone());
        async move {
            expect(app.post(&format!("/api/v1/programs/{p}/activities"), &c, json!({"kind": kind, "title": format!("Działanie {kind}"), "planned": {"day": day}})).await, 201).str("activity_id")
        }
    };
    let training = plan("training", "2013-05-20").await;
    let forum = plan("forum", "2013-06-10").await;
    assert_eq!(
        BTreeSet::from([nip(31), nip(34), nip(37)]).len(),
        3,
        "three institutions"
    );
    let inst = |seed: u32| json!({"name": format!("Spółdzielnia {seed}"), "type": "PES", "nip": nip(seed)});
    for (a, day, insts) in [
        (&training, "2013-05-20", vec![inst(31), inst(34)]),
        (&forum, "2013-06-10", vec![inst(31), inst(37)]),
    ] {
        expect(app.post(&format!("/api/v1/programs/{p}/activities/{a}/held"), &c,
            json!({"starts_on": day, "ends_on": day, "participants_total": 30, "institutions": insts, "notes": ""})).await, 200);
    }
    let (s, _, zip) = app
        .download(
            &format!("/api/v1/reports/participants?program_id={p}"),
            &app.evaluator,
        )
        .await;
    assert_eq!(s, 200);
    let files = unzip(&zip);
    let (_, rows) = table(&files[0].1);
    let got: Vec<(String, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                r[3].clone(),
                r[4].clone(),
                r[5].clone(),
                r[6].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                nip(31),
                "forum, szkolenie".into(),
                "2013-05-20".into(),
                "2013-06-10".into(),
                String::new()
            ),
            (
                nip(34),
                "szkolenie".into(),
                "2013-05-20".into(),
                "2013-05-20".into(),
                String::new()
            ),
            (
                nip(37),
                "forum".into(),
                "2013-06-10".into(),
                "2013-06-10".into(),
                String::new()
            ),
        ]
    );
    assert!(table(&files[1].1).1.is_empty(), "activities name no people");
}

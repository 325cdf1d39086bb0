//! Cooperation programmes through HTTP: the Toruń programme of seed 001 (trainings, forum,
//! consultations, feedback, the testing period to 30 April 2014 and the evaluation answering
//! "did it achieve its intended effects?" from recorded facts), the Lublin partner rules of
//! seed 003 around 13 July 2018 for each channel, the Olsztyn 2020 schedule of seed 002
//! imported as CSV and checked month by month, and a bad import that changes nothing.
//! People are invented; institutions are identified by generated NIPs.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::services::FixedClock;
use serde_json::{json, Value};
use tests::{event_count, expect, instant, institution, spawn, spawn_at, Answer, TestApp};

/// POSTs a CSV body.
/// The `(line, message)` of each refused line of an import's answer.
fn line_errors(a: &Answer) -> Vec<(u64, String)> {
    a.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().expect("line"),
                e["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

async fn post_csv(app: &TestApp, path: &str, token: &str, csv: &str, content_type: &str) -> Answer {
    app.call_raw("POST", path, Some(token), content_type, csv.to_owned())
        .await
}

fn field_errors(a: &Answer) -> Vec<(String, String)> {
    a.body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or_default().to_owned(),
                e["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Toruń, seed 001
// ------------------------------------------------------------------------------------------

fn torun_body() -> Value {
    json!({
        "title": "Program współpracy Gminy Miasta Toruń z podmiotami ekonomii społecznej na 2013-2014",
        "kind": "cooperation_programme",
        "period": {"start": "2013-01-01", "end": "2014-12-31"},
        "goals": [
            "Poprawa współpracy pomiędzy toruńskimi podmiotami ekonomii społecznej a Urzędem Miasta Torunia",
            "Zwiększenie wzajemnego zaufania i znajomości potrzeb obu stron"
        ],
        "indicators": [
            {"code": "trainings", "label": "Szkolenia", "target": 3, "measure": "activities_held:training"},
            {"code": "forum", "label": "Toruńskie Forum Ekonomii Społecznej", "target": 1, "measure": "activities_held:forum"},
            {"code": "participants", "label": "Uczestnicy wydarzeń", "target": 100, "measure": "participants_total"},
            {"code": "institutions", "label": "Instytucje biorące udział", "target": 10, "measure": "distinct_institutions"},
            {"code": "opinions", "label": "Opinie, propozycje i sugestie", "target": 3, "measure": "feedback_received"},
            {"code": "activities", "label": "Wszystkie działania", "target": 6, "measure": "activities_held"},
            {"code": "trust", "label": "Wzajemne zaufanie (ocena 1-5)", "target": 4, "measure": "manual"}
        ],
        "partner_application_deadline": null
    })
}

async fn plan(app: &TestApp, token: &str, program: &str, body: Value) -> String {
    expect(
        app.post(
            &format!("/api/v1/programs/{program}/activities"),
            token,
            body,
        )
        .await,
        201,
    )
    .str("activity_id")
}

async fn held(
    app: &TestApp,
    token: &str,
    program: &str,
    activity: &str,
    days: (&str, &str),
    participants: u32,
    institutions: Vec<Value>,
) -> Answer {
    app.post(
        &format!("/api/v1/programs/{program}/activities/{activity}/held"),
        token,
        json!({"starts_on": days.0, "ends_on": days.1, "participants_total": participants,
               "institutions": institutions, "notes": ""}),
    )
    .await
}

#[tokio::test]
async fn torun_programme_from_activities_to_its_evaluation() {
    // The article of seed 001 is dated 4 February 2014.
    let clock = Arc::new(FixedClock::new(instant("2014-02-04T09:00:00Z")));
    let app = spawn_at(clock.clone()).await;
    let c = app.coordinator.clone();

    // An admin must name the organizer; an evaluator cannot create.
    let a = app.post("/api/v1/programs", &app.admin, torun_body()).await;
    assert_eq!(a.status, 422, "{a:?}");
    assert!(
        field_errors(&a).iter().any(|(f, _)| f == "organizer"),
        "{a:?}"
    );
    expect(
        app.post("/api/v1/programs", &app.evaluator, torun_body())
            .await,
        403,
    );
    let mut bad = torun_body();
    bad["indicators"][0]["measure"] = json!("activities_held:party");
    bad["period"]["end"] = json!("2012-12-31");
    let a = expect(app.post("/api/v1/programs", &c, bad).await, 422);
    let fields: Vec<String> = field_errors(&a).into_iter().map(|(f, _)| f).collect();
    assert!(
        fields.contains(&"indicators[0].measure".to_owned()),
        "{a:?}"
    );
    assert!(fields.contains(&"period.end".to_owned()), "{a:?}");

    let p = expect(app.post("/api/v1/programs", &c, torun_body()).await, 201).str("id");

    // The institutions of the city's events (invented NIPs).
    let mopr = institution("JOPS", "Miejski Ośrodek Pomocy Rodzinie w Toruniu", 101);
    let pup = institution("OTHER", "Powiatowy Urząd Pracy dla Miasta Torunia", 102);
    let um = institution("JST", "Urząd Miasta Torunia", 103);
    let ngo = |i: u32| institution("NGO", &format!("Stowarzyszenie toruńskie nr {i}"), 110 + i);
    let coop = institution("PES", "Spółdzielnia Socjalna Przykładowa", 120);

    // Individual consultations, the first forum, study visits and three trainings.
    let consult = plan(&app, &c, &p, json!({"kind": "consultation", "title": "Indywidualne konsultacje dla PES", "planned": {"month": "2013-04"}, "location": "Toruń"})).await;
    let forum = plan(&app, &c, &p, json!({"kind": "forum", "title": "I Toruńskie Forum Ekonomii Społecznej", "planned": "Czerwiec 2013", "location": "Toruń"})).await;
    let visits = plan(&app, &c, &p, json!({"kind": "study_visit", "title": "Wizyty studyjne w toruńskich organizacjach", "planned": {"month": "2013-09", "part": "mid"}})).await;
    let t1 = plan(&app, &c, &p, json!({"kind": "training", "title": "Szkolenie I: współpraca z administracją", "planned": {"day": "2013-05-20"}})).await;
    let t2 = plan(&app, &c, &p, json!({"kind": "training", "title": "Szkolenie II: zlecanie zadań publicznych", "planned": {"from": "2013-10-14", "to": "2013-10-15"}})).await;
    let t3 = plan(&app, &c, &p, json!({"kind": "training", "title": "Szkolenie III: zmiany w systemie pomocy społecznej i rynku pracy", "planned": "początek lutego 2014", "co_organizer": "MOPR i PUP w Toruniu"})).await;
    let extra = plan(&app, &c, &p, json!({"kind": "training", "title": "Szkolenie dodatkowe", "planned": {"month": "2014-03"}})).await;
    let bad_plan = app
        .post(
            &format!("/api/v1/programs/{p}/activities"),
            &c,
            json!({"kind": "party", "title": "", "planned": "31.02.2014"}),
        )
        .await;
    let fields: Vec<String> = field_errors(&expect(bad_plan, 422))
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, vec!["kind", "title", "planned"]);

    // The third training is fixed on 3 February 2014, then held with the directors of the
    // city's social assistance centre and the labour office.
    expect(
        app.post(
            &format!("/api/v1/programs/{p}/activities/{t3}/reschedule"),
            &c,
            json!({"planned": {"day": "2014-02-03"}}),
        )
        .await,
        200,
    );
    expect(
        held(
            &app,
            &c,
            &p,
            &consult,
            ("2013-04-08", "2013-04-26"),
            12,
            vec![ngo(1), ngo(2), coop.clone()],
        )
        .await,
        200,
    );
    expect(
        held(
            &app,
            &c,
            &p,
            &forum,
            ("2013-06-12", "2013-06-12"),
            40,
            vec![um.clone(), ngo(1), ngo(3), coop.clone(), mopr.clone()],
        )
        .await,
        200,
    );
    expect(
        held(
            &app,
            &c,
            &p,
            &visits,
            ("2013-09-16", "2013-09-17"),
            15,
            vec![um.clone(), ngo(2), ngo(4)],
        )
        .await,
        200,
    );
    expect(
        held(
            &app,
            &c,
            &p,
            &t1,
            ("2013-05-20", "2013-05-20"),
            18,
            vec![ngo(1), ngo(5)],
        )
        .await,
        200,
    );
    expect(
        held(
            &app,
            &c,
            &p,
            &t2,
            ("2013-10-14", "2013-10-15"),
            20,
            vec![ngo(3), ngo(5), um.clone()],
        )
        .await,
        200,
    );
    let a = held(
        &app,
        &c,
        &p,
        &t3,
        ("2014-02-03", "2014-02-03"),
        25,
        vec![mopr.clone(), pup.clone(), ngo(1), ngo(6)],
    )
    .await;
    expect(a, 200);
    // Held twice, a reversed range, a cancelled one held: refused.
    expect(
        held(&app, &c, &p, &t3, ("2014-02-03", "2014-02-03"), 25, vec![]).await,
        409,
    );
    let a = expect(
        held(
            &app,
            &c,
            &p,
            &extra,
            ("2014-03-05", "2014-03-04"),
            5,
            vec![],
        )
        .await,
        422,
    );
    assert_eq!(field_errors(&a)[0].0, "ends_on");
    expect(
        app.post(
            &format!("/api/v1/programs/{p}/activities/{extra}/cancel"),
            &c,
            json!({"reason": "Brak zgłoszeń"}),
        )
        .await,
        200,
    );
    expect(
        held(
            &app,
            &c,
            &p,
            &extra,
            ("2014-03-05", "2014-03-05"),
            5,
            vec![],
        )
        .await,
        409,
    );
    expect(
        app.post(
            &format!("/api/v1/programs/{p}/activities/{extra}/reschedule"),
            &c,
            json!({"planned": "Kwiecień 2014"}),
        )
        .await,
        409,
    );
    let unknown = uuid::Uuid::now_v7();
    expect(
        app.post(
            &format!("/api/v1/programs/{p}/activities/{unknown}/cancel"),
            &c,
            json!({"reason": "x"}),
        )
        .await,
        404,
    );

    // Consultation of the next programme: comments inside the window only.
    let cons = expect(
        app.post(&format!("/api/v1/programs/{p}/consultations"), &c,
            json!({"subject": "Projekt programu współpracy na 2015 rok", "opens_on": "2014-02-10", "closes_on": "2014-03-10"})).await,
        201,
    )
    .str("consultation_id");
    let comment = |on: &str, seed: u32| json!({"institution": ngo(seed), "text": "Proponujemy więcej spotkań branżowych.", "submitted_on": on});
    let path = format!("/api/v1/programs/{p}/consultations/{cons}/comments");
    let inside = expect(app.post(&path, &c, comment("2014-02-10", 1)).await, 201);
    assert!(inside.body["comment_id"].is_string(), "{inside:?}");
    expect(app.post(&path, &c, comment("2014-03-10", 2)).await, 201);
    let late = expect(app.post(&path, &c, comment("2014-03-11", 3)).await, 409);
    assert!(
        late.body["detail"].as_str().unwrap().contains("2014-03-10"),
        "{late:?}"
    );
    expect(app.post(&path, &c, comment("2014-02-09", 3)).await, 409);

    // Opinions, proposals and suggestions by e-mail, with ratings where given.
    let feedback = |rating: Value, seed: u32| {
        json!({"channel": "email", "received_on": "2014-02-20", "text": "Platforma PES-TOR ułatwia kontakt z urzędem.",
               "rating": rating, "institution": ngo(seed)})
    };
    let fpath = format!("/api/v1/programs/{p}/feedback");
    expect(app.post(&fpath, &c, feedback(json!(5), 1)).await, 201);
    expect(app.post(&fpath, &c, feedback(json!(4), 2)).await, 201);
    let last = expect(
        app.post(&fpath, &c, json!({"channel": "in_person", "received_on": "2014-03-01", "text": "Więcej szkoleń.", "rating": null, "institution": null})).await,
        201,
    );
    for bad in [json!(0), json!(6)] {
        let a = expect(app.post(&fpath, &c, feedback(bad, 3)).await, 422);
        assert_eq!(field_errors(&a)[0].0, "rating");
    }

    // Testing period until 30 April 2014.
    let tp = expect(
        app.post(
            &format!("/api/v1/programs/{p}/testing-period"),
            &c,
            json!({"ends_on": "2014-04-30"}),
        )
        .await,
        200,
    );
    assert!(tp.position() > last.position());

    // Before the evaluation: actual values known from facts, the manual one and the verdict null.
    let ev = expect(
        app.get(
            &format!(
                "/api/v1/programs/{p}/evaluation?min_position={}",
                tp.position()
            ),
            &c,
        )
        .await,
        200,
    );
    assert_eq!(ev.body["verdict"], Value::Null);
    let trust = ev.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "trust")
        .unwrap()
        .clone();
    assert_eq!(
        trust,
        json!({"code": "trust", "label": "Wzajemne zaufanie (ocena 1-5)", "target": 4, "actual": null, "achieved": null})
    );

    // Evaluation refused while testing lasts: still 30 April at 22:00 in Warsaw.
    let evaluation = json!({"verdict": "partially_achieved",
        "summary": "Program poprawił komunikację między PES a urzędem; liczba instytucji poniżej celu.",
        "manual_values": {"trust": 4},
        "recommendations": ["Kontynuować Forum Ekonomii Społecznej", "Więcej szkoleń dla pracowników urzędu"]});
    let epath = format!("/api/v1/programs/{p}/evaluation");
    clock.set(instant("2014-04-15T10:00:00Z"));
    let early = expect(app.post(&epath, &c, evaluation.clone()).await, 409);
    assert!(
        early.body["detail"]
            .as_str()
            .unwrap()
            .contains("2014-04-30"),
        "{early:?}"
    );
    clock.set(instant("2014-04-30T20:00:00Z"));
    expect(app.post(&epath, &c, evaluation.clone()).await, 409);
    // Evaluators read but cannot evaluate.
    clock.set(instant("2014-05-05T08:00:00Z"));
    expect(
        app.post(&epath, &app.evaluator, evaluation.clone()).await,
        403,
    );
    let mut wrong = evaluation.clone();
    wrong["manual_values"] = json!({"trainings": 3});
    wrong["verdict"] = json!("maybe");
    let a = expect(app.post(&epath, &c, wrong).await, 422);
    assert_eq!(field_errors(&a)[0].0, "verdict");
    let done = expect(app.post(&epath, &c, evaluation.clone()).await, 200);
    expect(app.post(&epath, &c, evaluation.clone()).await, 409);

    // The answer, from recorded facts.
    let ev = expect(
        app.get(
            &format!(
                "/api/v1/programs/{p}/evaluation?min_position={}",
                done.position()
            ),
            &app.evaluator,
        )
        .await,
        200,
    );
    let by_code: BTreeMap<String, Value> = ev.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap().to_owned(), i.clone()))
        .collect();
    let check = |code: &str, actual: u64, achieved: bool| {
        let i = &by_code[code];
        assert_eq!(
            (i["actual"].as_u64(), i["achieved"].as_bool()),
            (Some(actual), Some(achieved)),
            "{code}: {i}"
        );
    };
    check("trainings", 3, true);
    check("forum", 1, true);
    check("participants", 12 + 40 + 15 + 18 + 20 + 25, true);
    // um, mopr, pup, coop and NGOs 1..6 → 10 institutions counted once by NIP.
    check("institutions", 10, true);
    check("opinions", 3, true);
    check("activities", 6, true);
    check("trust", 4, true);
    assert_eq!(by_code["trainings"]["target"], json!(3));
    assert_eq!(ev.body["activities"]["planned"], json!(7));
    assert_eq!(ev.body["activities"]["held"], json!(6));
    assert_eq!(ev.body["activities"]["cancelled"], json!(1));
    assert_eq!(
        ev.body["activities"]["by_kind"]["training"],
        json!({"planned": 4, "held": 3, "cancelled": 1})
    );
    assert_eq!(
        ev.body["activities"]["by_kind"]["forum"],
        json!({"planned": 1, "held": 1, "cancelled": 0})
    );
    assert_eq!(ev.body["participants_total"], json!(130));
    assert_eq!(ev.body["distinct_institutions"], json!(10));
    assert_eq!(ev.body["partners"], json!(0));
    assert_eq!(
        ev.body["feedback"],
        json!({"count": 3, "average_rating": 4.5})
    );
    assert_eq!(ev.body["verdict"], json!("partially_achieved"));
    assert!(ev.body["position"].as_i64().unwrap() >= done.position());

    // The detail: activities with their status, the last training on 3 February 2014.
    let d = expect(
        app.get(
            &format!("/api/v1/programs/{p}?min_position={}", done.position()),
            &c,
        )
        .await,
        200,
    );
    let acts = d.body["activities"].as_array().unwrap();
    let third = acts.iter().find(|a| a["activity_id"] == json!(t3)).unwrap();
    assert_eq!(third["planned"], json!({"day": "2014-02-03"}));
    assert_eq!(
        (third["status"].as_str(), third["starts_on"].as_str()),
        (Some("held"), Some("2014-02-03"))
    );
    assert_eq!(third["institutions"].as_array().unwrap().len(), 4);
    let statuses: Vec<&str> = acts.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "held").count(), 6);
    assert_eq!(statuses.iter().filter(|s| **s == "cancelled").count(), 1);
    let months: Vec<&str> = acts.iter().map(|a| a["month"].as_str().unwrap()).collect();
    let mut sorted = months.clone();
    sorted.sort();
    assert_eq!(months, sorted, "activities in date order");
    assert_eq!(
        d.body["consultations"][0]["comments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(d.body["feedback"].as_array().unwrap().len(), 3);
    assert_eq!(d.body["testing_ends_on"], json!("2014-04-30"));
    assert_eq!(d.body["evaluation"]["evaluated_on"], json!("2014-05-05"));
    assert_eq!(d.body["status"], json!("active"));

    // Organizers apart: another coordinator neither sees nor changes it.
    expect(
        app.get(&format!("/api/v1/programs/{p}"), &app.other_coordinator)
            .await,
        404,
    );
    expect(
        app.get(
            &format!("/api/v1/programs/{p}/evaluation"),
            &app.other_coordinator,
        )
        .await,
        404,
    );
    expect(
        app.post(&fpath, &app.other_coordinator, feedback(json!(1), 9))
            .await,
        404,
    );
    let list = expect(
        app.get("/api/v1/programs", &app.other_coordinator).await,
        200,
    );
    assert_eq!(list.body["programs"], json!([]));
    let list = expect(
        app.get(
            &format!("/api/v1/programs?min_position={}", done.position()),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(list.body["programs"][0]["id"], json!(p));

    // Closing: nothing more is recorded.
    let closed = expect(
        app.post(&format!("/api/v1/programs/{p}/close"), &c, json!({}))
            .await,
        200,
    );
    expect(app.post(&fpath, &c, feedback(json!(5), 1)).await, 409);
    expect(
        app.post(&format!("/api/v1/programs/{p}/close"), &c, json!({}))
            .await,
        409,
    );
    let d = expect(
        app.get(
            &format!("/api/v1/programs/{p}?min_position={}", closed.position()),
            &c,
        )
        .await,
        200,
    );
    assert_eq!(
        (d.body["status"].as_str(), d.body["closed_on"].as_str()),
        (Some("closed"), Some("2014-05-05"))
    );

    // The stored events are the public shapes.
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT event_type FROM events WHERE aggregate_type = 'CooperationProgram' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        types,
        vec![
            "ActivityCancelled",
            "ActivityHeld",
            "ActivityPlanned",
            "ActivityRescheduled",
            "ConsultationCommentSubmitted",
            "ConsultationOpened",
            "FeedbackReceived",
            "ProgramClosed",
            "ProgramCreated",
            "ProgramEvaluated",
            "TestingPeriodSet"
        ]
    );
    let payload: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'ActivityRescheduled'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        payload,
        json!({"ActivityRescheduled": {"activity_id": t3, "planned": {"day": "2014-02-03"}}})
    );
}

// ------------------------------------------------------------------------------------------
// Lublin, seed 003
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn lublin_partner_cards_by_channel_around_13_july_2018() {
    let clock = Arc::new(FixedClock::new(instant("2018-07-20T10:00:00Z")));
    let app = spawn_at(clock).await;
    let admin = app.admin.clone();
    let p = expect(
        app.post("/api/v1/programs", &admin, json!({
            "organizer": "rops-lublin",
            "title": "Liderzy kooperacji",
            "kind": "project",
            "period": {"start": "2018-01-01", "end": "2019-03-31"},
            "goals": ["Wypracowanie i wdrożenie modelu kooperacji pomiędzy instytucjami pomocy i integracji społecznej a podmiotami innych polityk sektorowych"],
            "indicators": [{"code": "partners", "label": "Jednostki wojewódzkie w projekcie", "target": 4, "measure": "partners"}],
            "partner_application_deadline": "2018-07-13"
        })).await,
        201,
    )
    .str("id");
    let path = format!("/api/v1/programs/{p}/partners");
    let card = |seed: u32, channel: &str, dates: Value| {
        let mut body = json!({"institution": institution("OTHER", &format!("Jednostka wojewódzka {seed}"), 300 + seed), "channel": channel});
        for (k, v) in dates.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    // E-mail: the sending date counts.
    let a = expect(
        app.post(
            &path,
            &admin,
            card(
                1,
                "email",
                json!({"sent_on": "2018-07-13", "delivered_on": "2018-07-14"}),
            ),
        )
        .await,
        201,
    );
    assert!(a.body["partner_id"].is_string());
    expect(
        app.post(
            &path,
            &admin,
            card(2, "email", json!({"sent_on": "2018-07-12"})),
        )
        .await,
        201,
    );
    let late = expect(
        app.post(
            &path,
            &admin,
            card(3, "email", json!({"sent_on": "2018-07-14"})),
        )
        .await,
        409,
    );
    assert!(
        late.body["detail"].as_str().unwrap().contains("sent_on"),
        "{late:?}"
    );
    // Post: the postmark counts, even when the card arrives after the deadline.
    expect(
        app.post(
            &path,
            &admin,
            card(
                4,
                "post",
                json!({"postmarked_on": "2018-07-13", "delivered_on": "2018-07-17"}),
            ),
        )
        .await,
        201,
    );
    expect(
        app.post(
            &path,
            &admin,
            card(
                5,
                "post",
                json!({"postmarked_on": "2018-07-14", "delivered_on": "2018-07-16"}),
            ),
        )
        .await,
        409,
    );
    // In person: the day of delivery counts.
    expect(
        app.post(
            &path,
            &admin,
            card(6, "in_person", json!({"delivered_on": "2018-07-13"})),
        )
        .await,
        201,
    );
    expect(
        app.post(
            &path,
            &admin,
            card(7, "in_person", json!({"delivered_on": "2018-07-14"})),
        )
        .await,
        409,
    );
    // The date that counts is required for its channel; an unknown channel is invalid.
    let a = expect(
        app.post(
            &path,
            &admin,
            card(8, "post", json!({"delivered_on": "2018-07-12"})),
        )
        .await,
        422,
    );
    assert_eq!(field_errors(&a)[0].0, "postmarked_on");
    let a = expect(
        app.post(
            &path,
            &admin,
            card(8, "pigeon", json!({"sent_on": "2018-07-12"})),
        )
        .await,
        422,
    );
    assert_eq!(field_errors(&a)[0].0, "channel");
    let mut bad_nip = card(8, "email", json!({"sent_on": "2018-07-12"}));
    bad_nip["institution"]["nip"] = json!("1234567890");
    let a = expect(app.post(&path, &admin, bad_nip).await, 422);
    assert_eq!(field_errors(&a)[0].0, "institution.nip");
    // Once a partner, always the same institution (by NIP).
    expect(
        app.post(
            &path,
            &admin,
            card(1, "in_person", json!({"delivered_on": "2018-07-10"})),
        )
        .await,
        409,
    );
    // Another organizer's coordinator does not see the programme.
    expect(
        app.post(
            &path,
            &app.coordinator,
            card(9, "email", json!({"sent_on": "2018-07-10"})),
        )
        .await,
        404,
    );

    // Two one-day trainings (July, December 2018) and the consultation of the model
    // (January–February 2019).
    let july = plan(&app, &admin, &p, json!({"kind": "training", "title": "Szkoła Kooperacji: szkolenie I", "planned": "Lipiec 2018"})).await;
    plan(&app, &admin, &p, json!({"kind": "training", "title": "Szkoła Kooperacji: szkolenie II", "planned": "Grudzień 2018"})).await;
    expect(
        held(
            &app,
            &admin,
            &p,
            &july,
            ("2018-07-26", "2018-07-26"),
            14,
            vec![institution("OTHER", "Jednostka wojewódzka 1", 301)],
        )
        .await,
        200,
    );
    let cons = expect(
        app.post(&format!("/api/v1/programs/{p}/consultations"), &admin,
            json!({"subject": "Model Kooperacji", "opens_on": "2019-01-01", "closes_on": "2019-02-28"})).await,
        201,
    )
    .str("consultation_id");
    let cpath = format!("/api/v1/programs/{p}/consultations/{cons}/comments");
    let body = |on: &str| json!({"institution": institution("OTHER", "Jednostka wojewódzka 2", 302), "text": "Uwagi do modelu.", "submitted_on": on});
    expect(app.post(&cpath, &admin, body("2019-02-28")).await, 201);
    expect(app.post(&cpath, &admin, body("2019-03-01")).await, 409);
    let bad = expect(
        app.post(
            &format!("/api/v1/programs/{p}/consultations"),
            &admin,
            json!({"subject": "X", "opens_on": "2019-03-01", "closes_on": "2019-02-28"}),
        )
        .await,
        422,
    );
    assert_eq!(field_errors(&bad)[0].0, "closes_on");

    let last = expect(app.post(&cpath, &admin, body("2019-01-15")).await, 201);
    let ev = expect(
        app.get(
            &format!(
                "/api/v1/programs/{p}/evaluation?min_position={}",
                last.position()
            ),
            &admin,
        )
        .await,
        200,
    );
    assert_eq!(ev.body["partners"], json!(4));
    assert_eq!(
        ev.body["indicators"][0],
        json!({"code": "partners", "label": "Jednostki wojewódzkie w projekcie", "target": 4, "actual": 4, "achieved": true})
    );
    assert_eq!(ev.body["activities"]["planned"], json!(2));
    assert_eq!(ev.body["activities"]["held"], json!(1));
    assert_eq!(
        ev.body["feedback"],
        json!({"count": 0, "average_rating": null})
    );
    let d = expect(
        app.get(
            &format!("/api/v1/programs/{p}?min_position={}", last.position()),
            &admin,
        )
        .await,
        200,
    );
    let partners = d.body["partners"].as_array().unwrap();
    let counted: Vec<(&str, &str)> = partners
        .iter()
        .map(|p| {
            (
                p["channel"].as_str().unwrap(),
                p["counted_on"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counted,
        vec![
            ("email", "2018-07-13"),
            ("email", "2018-07-12"),
            ("post", "2018-07-13"),
            ("in_person", "2018-07-13")
        ]
    );
    assert_eq!(partners[2]["delivered_on"], json!("2018-07-17"));
    // The evaluator of rops-torun does not see Lublin's programme.
    expect(
        app.get(&format!("/api/v1/programs/{p}"), &app.evaluator)
            .await,
        404,
    );
}

// ------------------------------------------------------------------------------------------
// Olsztyn, seed 002
// ------------------------------------------------------------------------------------------

/// The 2020 schedule (harmonogram) of seed 002, dates as written there; the year of the
/// schedule ("na 2020 rok") is given as `?year=2020` for the rows that leave it out.
const OLSZTYN_2020: &str = r#"date,title,kind,location,co_organizer
Styczeń 2020,Uruchomienie procedury postępowania wyboru wykonawcy na badanie ewaluacyjne OWES,other,,
Luty 2020,Badanie ewaluacyjne OWES,other,,
Luty 2020,Spotkanie zespołu ds. opracowania WPRES 2021-2025,meeting,,
7.02.2020,Spotkanie monitoringowe OWES (Olsztyn),monitoring_meeting,Olsztyn,
Marzec 2020,Spotkanie zespołu ds. opracowania WPRES 2021-2025 (2 spotkania),meeting,,
Kwiecień 2020,Spotkanie branżowe PES,meeting,,
23.04.2020,Posiedzenie Regionalnego Komitetu Rozwoju Ekonomii Społecznej,committee_sitting,,
7-8.05.2020,Doradztwo eksperckie dla JST,other,,
13.05.2020,Spotkanie monitoringowe OWES (Nidzica),monitoring_meeting,Nidzica,
21-22.05.2020,Regionalna Platforma Współpracy na Rzecz Rozwoju Ekonomii Społecznej,meeting,,
26-29.05.2020,Wizyta studyjna do Austrii (prezentacja wiosek tematycznych),study_visit,Austria,
05.06.2020,"Konferencja "" Ekonomia społeczna odpowiedzią na usługi społeczne w regionie Warmii i Mazur""",conference,,
18-19.06.2020,Wizyta studyjna dla przedstawicieli CIS,study_visit,,
22.06.2020,"Kapituła Konkursu Zakup Prospołeczny, Spotkanie Kapituły dot. Konkursu „Samorząd, biznes, szkoła przyjazna Ekonomii Społecznej”",committee_sitting,,
Lipiec,Praca nad Biuletynem „Ekonomia społeczna na Warmii i Mazurach”,publication,,
Sierpień,Praca nad Biuletynem „Ekonomia społeczna na Warmii i Mazurach”,publication,,
Wrzesień 2020,Forum Inicjatyw Lokalnych,forum,,ROPS Lublin
Wrzesień 2020,Spotkanie ze środowiskiem naukowym,,,
04.09.2020,Spotkanie monitoringowe OWES (Ełk),monitoring_meeting,Ełk,
30.09.2020,II Gala Ekonomii Społecznej na Warmii i Mazurach,gala,,
Koniec września,Wydanie Biuletynu,publication,,
1-2.10.2020,Wizyta studyjna dla przedstawicieli podmiotów reintegracyjnych,study_visit,,
8-9.10.2020,Wizyta studyjna dla członków RKRES,study_visit,,
29-30.10.2020,Regionalna Platforma Współpracy na Rzecz Rozwoju Ekonomii Społecznej,meeting,,
06.11.2020,Posiedzenie Regionalnego Komitetu Rozwoju Ekonomii Społecznej,committee_sitting,,
27.11.2020,Konferencja podsumowująca projekt Ekonomia Społeczna na Warmii i Mazurach w latach 2018-2020,conference,,
04.12.2020,Spotkanie monitoringowe OWES (Elbląg),monitoring_meeting,Elbląg,
"#;

async fn olsztyn_project(app: &TestApp) -> String {
    expect(
        app.post("/api/v1/programs", &app.other_coordinator, json!({
            "title": "Ekonomia Społeczna na Warmii i Mazurach",
            "kind": "project",
            "period": {"start": "2018-01-01", "end": "2020-12-31"},
            "goals": ["Koordynacja sektora ekonomii społecznej w województwie warmińsko-mazurskim"],
            "indicators": [{"code": "staff", "label": "Pracownicy instytucji lokalnych i regionalnych", "target": 400, "measure": "participants_total"}]
        })).await,
        201,
    )
    .str("id")
}

#[tokio::test]
async fn olsztyn_2020_schedule_imported_month_by_month() {
    let app = spawn().await;
    let p = olsztyn_project(&app).await;
    let token = app.other_coordinator.clone();
    let path = format!("/api/v1/programs/{p}/schedule/import?year=2020");
    // Only a coordinator of the organizer (or an admin) may import.
    expect(
        post_csv(&app, &path, &app.evaluator, OLSZTYN_2020, "text/csv").await,
        403,
    );
    expect(
        post_csv(&app, &path, &app.coordinator, OLSZTYN_2020, "text/csv").await,
        404,
    );
    let before = event_count(&app).await;
    let a = expect(
        post_csv(&app, &path, &token, OLSZTYN_2020, "text/csv; charset=utf-8").await,
        200,
    );
    assert_eq!(a.body["imported"], json!(27));
    assert_eq!(a.body["errors"], json!([]));
    assert_eq!(
        event_count(&app).await,
        before + 27,
        "one ActivityPlanned per row"
    );
    let positions: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT tx_id::text::bigint FROM events WHERE event_type = 'ActivityPlanned'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(positions.len(), 1, "the import is one commit");

    let d = expect(
        app.get(
            &format!("/api/v1/programs/{p}?min_position={}", a.position()),
            &token,
        )
        .await,
        200,
    );
    let mut by_month: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for act in d.body["activities"].as_array().unwrap() {
        assert_eq!(act["status"], json!("planned"));
        by_month
            .entry(act["month"].as_str().unwrap().to_owned())
            .or_default()
            .push((
                act["title"].as_str().unwrap().to_owned(),
                act["planned"].clone(),
            ));
    }
    // What the harmonogram says, month by month (titles shortened to their start).
    let expected: Vec<(&str, Vec<(&str, Value)>)> = vec![
        (
            "2020-01",
            vec![("Uruchomienie procedury", json!({"month": "2020-01"}))],
        ),
        (
            "2020-02",
            vec![
                (
                    "Spotkanie monitoringowe OWES (Olsztyn)",
                    json!({"day": "2020-02-07"}),
                ),
                ("Badanie ewaluacyjne OWES", json!({"month": "2020-02"})),
                (
                    "Spotkanie zespołu ds. opracowania WPRES",
                    json!({"month": "2020-02"}),
                ),
            ],
        ),
        (
            "2020-03",
            vec![(
                "Spotkanie zespołu ds. opracowania WPRES 2021-2025 (2 spotkania)",
                json!({"month": "2020-03"}),
            )],
        ),
        (
            "2020-04",
            vec![
                ("Spotkanie branżowe PES", json!({"month": "2020-04"})),
                (
                    "Posiedzenie Regionalnego Komitetu",
                    json!({"day": "2020-04-23"}),
                ),
            ],
        ),
        (
            "2020-05",
            vec![
                (
                    "Doradztwo eksperckie dla JST",
                    json!({"from": "2020-05-07", "to": "2020-05-08"}),
                ),
                (
                    "Spotkanie monitoringowe OWES (Nidzica)",
                    json!({"day": "2020-05-13"}),
                ),
                (
                    "Regionalna Platforma Współpracy",
                    json!({"from": "2020-05-21", "to": "2020-05-22"}),
                ),
                (
                    "Wizyta studyjna do Austrii",
                    json!({"from": "2020-05-26", "to": "2020-05-29"}),
                ),
            ],
        ),
        (
            "2020-06",
            vec![
                (
                    "Konferencja \" Ekonomia społeczna odpowiedzią",
                    json!({"day": "2020-06-05"}),
                ),
                (
                    "Wizyta studyjna dla przedstawicieli CIS",
                    json!({"from": "2020-06-18", "to": "2020-06-19"}),
                ),
                (
                    "Kapituła Konkursu Zakup Prospołeczny",
                    json!({"day": "2020-06-22"}),
                ),
            ],
        ),
        (
            "2020-07",
            vec![("Praca nad Biuletynem", json!({"month": "2020-07"}))],
        ),
        (
            "2020-08",
            vec![("Praca nad Biuletynem", json!({"month": "2020-08"}))],
        ),
        (
            "2020-09",
            vec![
                ("Forum Inicjatyw Lokalnych", json!({"month": "2020-09"})),
                (
                    "Spotkanie ze środowiskiem naukowym",
                    json!({"month": "2020-09"}),
                ),
                (
                    "Spotkanie monitoringowe OWES (Ełk)",
                    json!({"day": "2020-09-04"}),
                ),
                ("II Gala Ekonomii Społecznej", json!({"day": "2020-09-30"})),
                (
                    "Wydanie Biuletynu",
                    json!({"month": "2020-09", "part": "late"}),
                ),
            ],
        ),
        (
            "2020-10",
            vec![
                (
                    "Wizyta studyjna dla przedstawicieli podmiotów reintegracyjnych",
                    json!({"from": "2020-10-01", "to": "2020-10-02"}),
                ),
                (
                    "Wizyta studyjna dla członków RKRES",
                    json!({"from": "2020-10-08", "to": "2020-10-09"}),
                ),
                (
                    "Regionalna Platforma Współpracy",
                    json!({"from": "2020-10-29", "to": "2020-10-30"}),
                ),
            ],
        ),
        (
            "2020-11",
            vec![
                (
                    "Posiedzenie Regionalnego Komitetu",
                    json!({"day": "2020-11-06"}),
                ),
                (
                    "Konferencja podsumowująca projekt",
                    json!({"day": "2020-11-27"}),
                ),
            ],
        ),
        (
            "2020-12",
            vec![(
                "Spotkanie monitoringowe OWES (Elbląg)",
                json!({"day": "2020-12-04"}),
            )],
        ),
    ];
    assert_eq!(
        by_month.keys().cloned().collect::<Vec<_>>(),
        expected
            .iter()
            .map(|(m, _)| m.to_string())
            .collect::<Vec<_>>()
    );
    for (month, entries) in &expected {
        let got = &by_month[*month];
        assert_eq!(got.len(), entries.len(), "{month}: {got:?}");
        for (title, planned) in entries {
            assert!(
                got.iter()
                    .any(|(t, p)| t.starts_with(title) && p == planned),
                "{month}: no '{title}' on {planned} in {got:?}"
            );
        }
    }
    // The order within a month follows the dates (a whole month after the days it starts with).
    let sept: Vec<&Value> = by_month["2020-09"].iter().map(|(_, p)| p).collect();
    assert_eq!(sept[0], &json!({"month": "2020-09"}));
    let acts = d.body["activities"].as_array().unwrap();
    let forum = acts
        .iter()
        .find(|a| a["title"] == "Forum Inicjatyw Lokalnych")
        .unwrap();
    assert_eq!(
        (forum["kind"].as_str(), forum["co_organizer"].as_str()),
        (Some("forum"), Some("ROPS Lublin"))
    );
    let science = acts
        .iter()
        .find(|a| a["title"] == "Spotkanie ze środowiskiem naukowym")
        .unwrap();
    assert_eq!(science["kind"], json!("other"), "an empty kind is other");
    let elk = acts
        .iter()
        .find(|a| a["title"] == "Spotkanie monitoringowe OWES (Ełk)")
        .unwrap();
    assert_eq!(elk["location"], json!("Ełk"));

    let ev = expect(
        app.get(
            &format!(
                "/api/v1/programs/{p}/evaluation?min_position={}",
                a.position()
            ),
            &token,
        )
        .await,
        200,
    );
    assert_eq!(ev.body["activities"]["planned"], json!(27));
    assert_eq!(ev.body["activities"]["held"], json!(0));
    assert_eq!(
        ev.body["activities"]["by_kind"]["monitoring_meeting"],
        json!({"planned": 4, "held": 0, "cancelled": 0})
    );
    assert_eq!(ev.body["indicators"][0]["actual"], json!(0));
    assert_eq!(ev.body["indicators"][0]["achieved"], json!(false));
}

#[tokio::test]
async fn a_bad_import_changes_nothing_and_names_its_lines() {
    let app = spawn().await;
    let p = olsztyn_project(&app).await;
    let token = app.other_coordinator.clone();
    let path = format!("/api/v1/programs/{p}/schedule/import");
    let created = event_count(&app).await;

    // One bad date on line 3: nothing is imported, and the answer says which line and why
    // (API.md: `{imported, errors: [{line, message}]}`).
    let csv = "date,title,kind,location,co_organizer\n7.02.2020,Spotkanie monitoringowe OWES (Olsztyn),monitoring_meeting,Olsztyn,\n31.02.2020,Spotkanie zespołu,meeting,,\n13.05.2020,Spotkanie monitoringowe OWES (Nidzica),monitoring_meeting,Nidzica,\n";
    let a = expect(post_csv(&app, &path, &token, csv, "text/csv").await, 200);
    assert_eq!(a.body["imported"], 0, "{a:?}");
    assert!(a.body.get("position").is_none(), "nothing written: {a:?}");
    let errors = line_errors(&a);
    assert_eq!(errors.len(), 1, "{a:?}");
    assert_eq!(errors[0].0, 3);
    assert!(errors[0].1.contains("31.02.2020"), "{a:?}");
    assert_eq!(event_count(&app).await, created, "nothing written");

    // Every bad row is named; a date without a year needs ?year=.
    let csv = "date,title,kind\nKoniec września,Wydanie Biuletynu,publication\nLuty 2020,,party\n7-8.05.2020,Doradztwo,other\n";
    let a = expect(post_csv(&app, &path, &token, csv, "text/csv").await, 200);
    let errors = line_errors(&a);
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![2, 3]);
    assert!(errors[0].1.contains("year"), "{a:?}");
    assert!(
        errors[1].1.contains("title") && errors[1].1.contains("kind"),
        "{a:?}"
    );
    // A bad header, an empty schedule, a NUL character; JSON instead of CSV.
    let a = expect(
        post_csv(&app, &path, &token, "kiedy,co\n7.02.2020,x\n", "text/csv").await,
        200,
    );
    assert_eq!(line_errors(&a)[0].0, 1);
    let a = expect(
        post_csv(
            &app,
            &path,
            &token,
            "date,title,kind,location,co_organizer\n",
            "text/csv",
        )
        .await,
        200,
    );
    assert_eq!(a.body["errors"][0]["code"], "schedule_empty");
    let a = expect(
        post_csv(
            &app,
            &path,
            &token,
            "date,title\n7.02.2020,a\0b\n",
            "text/csv",
        )
        .await,
        200,
    );
    assert_eq!(line_errors(&a)[0].0, 2);
    assert_eq!(a.body["errors"][0]["code"], "nul_character");
    expect(
        post_csv(
            &app,
            &path,
            &token,
            "{\"date\": \"7.02.2020\"}",
            "application/json",
        )
        .await,
        400,
    );
    expect(
        post_csv(&app, &format!("{path}?year=20"), &token, csv, "text/csv").await,
        400,
    );
    let unknown = uuid::Uuid::now_v7();
    expect(
        post_csv(
            &app,
            &format!("/api/v1/programs/{unknown}/schedule/import"),
            &token,
            "date,title\n7.02.2020,x\n",
            "text/csv",
        )
        .await,
        404,
    );
    assert_eq!(event_count(&app).await, created, "still nothing written");

    // The same schedule, corrected, goes in whole.
    let a = expect(
        post_csv(
            &app,
            &format!("{path}?year=2020"),
            &token,
            "date,title,kind\nKoniec września,Wydanie Biuletynu,publication\nLuty 2020,Badanie,\n",
            "text/csv",
        )
        .await,
        200,
    );
    assert_eq!(a.body["imported"], json!(2));
    assert_eq!(event_count(&app).await, created + 2);
    let d = expect(
        app.get(
            &format!("/api/v1/programs/{p}?min_position={}", a.position()),
            &token,
        )
        .await,
        200,
    );
    assert_eq!(d.body["activities"].as_array().unwrap().len(), 2);
}

/// Opinions and comments may be long (up to 10,000 characters): once accepted, they are
/// facts the programme is loaded from again by every later command and by its read model.
#[tokio::test]
async fn long_feedback_and_comments_stay_readable() {
    let app = spawn().await;
    let p = olsztyn_project(&app).await;
    let token = app.other_coordinator.clone();
    let long = "Opinia uczestnika szkolenia, wiele zdań. ".repeat(240);
    assert!(long.trim().chars().count() > 9_000);
    let fpath = format!("/api/v1/programs/{p}/feedback");
    let feedback = |text: &str| json!({"channel": "email", "received_on": "2020-03-02", "text": text, "rating": 4, "institution": null});
    expect(app.post(&fpath, &token, feedback(&long)).await, 201);
    // A later command loads the programme with the long feedback in it.
    let last = expect(app.post(&fpath, &token, feedback("Krótko.")).await, 201);
    let cons = expect(
        app.post(&format!("/api/v1/programs/{p}/consultations"), &token,
            json!({"subject": "Model współpracy", "opens_on": "2020-03-01", "closes_on": "2020-03-31"})).await,
        201,
    )
    .str("consultation_id");
    let comment = json!({"institution": institution("NGO", "Stowarzyszenie", 41), "text": long, "submitted_on": "2020-03-03"});
    expect(
        app.post(
            &format!("/api/v1/programs/{p}/consultations/{cons}/comments"),
            &token,
            comment,
        )
        .await,
        201,
    );
    let detail = expect(
        app.call(
            "GET",
            &format!("/api/v1/programs/{p}?min_position={}", last.position()),
            Some(&token),
            None,
        )
        .await,
        200,
    );
    assert_eq!(detail.body["feedback"][0]["text"], json!(long.trim()));
    assert_eq!(detail.body["feedback"].as_array().map(Vec::len), Some(2));
}

//! The shared schedule: entries under the month they start in, with their precision kept.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

fn month<'a>(s: &'a Value, m: &str) -> Vec<&'a Value> {
    s["months"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["month"] == m)
        .flat_map(|x| x["entries"].as_array().unwrap())
        .collect()
}

#[tokio::test]
async fn visit_terms_appear_by_month_with_their_precision() {
    let app = tests::spawn().await;
    let visit = app.announce_visit(Some(2)).await;
    let t1 = app
        .schedule_term(
            &visit,
            "I termin",
            25,
            "2027-06-27",
            "2027-06-23T11:00:00+02:00",
        )
        .await;
    let t2 = app
        .schedule_term(
            &visit,
            "II termin",
            25,
            "2027-06-29",
            "2027-06-24T11:00:00+02:00",
        )
        .await;
    let planned = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": "III termin", "seats": 25, "planned": {"month": "2027-07", "part": "mid"}}),
        )
        .await;
    assert_eq!(planned.status, 201, "{planned:?}");
    let t3 = planned.str("term_id");

    let s = app
        .get(
            &format!(
                "/api/v1/schedule?year=2027&min_position={}",
                planned.position()
            ),
            &app.coordinator,
        )
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    let june = month(&s.body, "2027-06");
    assert_eq!(june.len(), 2);
    assert_eq!(june[0]["source_id"], visit.as_str());
    assert_eq!(june[0]["source"], "study_visit");
    assert_eq!(
        june[0]["when"],
        json!({"day": "2027-06-27"}),
        "a one-day term stays a day"
    );
    assert!(june[0]["title"].as_str().unwrap().ends_with("I termin"));
    assert_eq!(june[1]["when"], json!({"day": "2027-06-29"}));
    let july = month(&s.body, "2027-07");
    assert_eq!(july.len(), 1);
    assert_eq!(
        july[0]["when"],
        json!({"month": "2027-07", "part": "mid"}),
        "precision kept"
    );
    assert_eq!(july[0]["status"], "planned");

    // Dates fixed later: the entry moves to its real dates; a cancelled term says so.
    let fixed = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{t3}/dates"),
            &app.coordinator,
            json!({"starts_on": "2027-07-14", "ends_on": "2027-07-15", "recruitment_deadline": "2027-07-08T11:00:00+02:00"}),
        )
        .await;
    assert_eq!(fixed.status, 200, "{fixed:?}");
    let cancel = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{t2}/cancel"),
            &app.coordinator,
            json!({"reason": "brak autokaru"}),
        )
        .await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    let s = app
        .get(
            &format!(
                "/api/v1/schedule?year=2027&min_position={}",
                cancel.position()
            ),
            &app.coordinator,
        )
        .await;
    assert_eq!(
        month(&s.body, "2027-07")[0]["when"],
        json!({"from": "2027-07-14", "to": "2027-07-15"})
    );
    let june = month(&s.body, "2027-06");
    assert_eq!(
        june.iter()
            .find(|e| e["title"].as_str().unwrap().ends_with("II termin"))
            .unwrap()["status"],
        "cancelled"
    );
    let _ = t1;

    // Another year is empty; another organizer's coordinator sees none of it.
    let other = app
        .get("/api/v1/schedule?year=2026", &app.coordinator)
        .await;
    assert_eq!(other.body["months"], json!([]));
    let foreign = app
        .get("/api/v1/schedule?year=2027", &app.other_coordinator)
        .await;
    assert_eq!(foreign.status, 200);
    assert_eq!(foreign.body["months"], json!([]));
    assert_eq!(
        app.get("/api/v1/schedule?year=abc", &app.coordinator)
            .await
            .status,
        400
    );
    assert_eq!(
        app.call("GET", "/api/v1/schedule?year=2027", None, None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn programme_activities_follow_their_lives_in_the_schedule() {
    let app = tests::spawn().await;
    let p = app
        .post(
            "/api/v1/programs",
            &app.coordinator,
            json!({"title": "Ekonomia Społeczna na Warmii i Mazurach", "kind": "project",
                   "period": {"start": "2018-01-01", "end": "2020-12-31"}, "goals": ["współpraca"], "indicators": []}),
        )
        .await;
    assert_eq!(p.status, 201, "{p:?}");
    let id = p.str("id");
    let plan = |title: &str, planned: Value| {
        let (app, id) = (&app, id.clone());
        let body =
            json!({"kind": "meeting", "title": title, "planned": planned, "location": "Olsztyn"});
        async move {
            app.post(
                &format!("/api/v1/programs/{id}/activities"),
                &app.coordinator,
                body,
            )
            .await
        }
    };
    let held = plan("Spotkanie zespołu", json!({"month": "2020-02"})).await;
    let cancelled = plan("Gala", json!({"month": "2020-09", "part": "late"})).await;
    let moved = plan("Konferencja", json!({"day": "2020-06-05"})).await;
    for a in [&held, &cancelled, &moved] {
        assert_eq!(a.status, 201, "{a:?}");
    }
    let path = |a: &tests::Answer, what: &str| {
        format!(
            "/api/v1/programs/{id}/activities/{}/{what}",
            a.str("activity_id")
        )
    };
    let h = app
        .post(&path(&held, "held"), &app.coordinator,
              json!({"starts_on": "2020-02-07", "ends_on": "2020-02-07", "participants_total": 12, "institutions": []}))
        .await;
    assert_eq!(h.status, 200, "{h:?}");
    let c = app
        .post(
            &path(&cancelled, "cancel"),
            &app.coordinator,
            json!({"reason": "pandemia"}),
        )
        .await;
    assert_eq!(c.status, 200, "{c:?}");
    let r = app
        .post(
            &path(&moved, "reschedule"),
            &app.coordinator,
            json!({"planned": {"from": "2020-10-01", "to": "2020-10-02"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");

    let s = app
        .get(
            &format!("/api/v1/schedule?year=2020&min_position={}", r.position()),
            &app.coordinator,
        )
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    let feb = month(&s.body, "2020-02");
    assert_eq!(
        (feb.len(), &feb[0]["status"], &feb[0]["when"]),
        (1, &json!("held"), &json!({"day": "2020-02-07"}))
    );
    assert_eq!(feb[0]["source"], "program");
    let sep = month(&s.body, "2020-09");
    assert_eq!(
        (&sep[0]["status"], &sep[0]["when"]),
        (
            &json!("cancelled"),
            &json!({"month": "2020-09", "part": "late"})
        )
    );
    assert!(
        month(&s.body, "2020-06").is_empty(),
        "a rescheduled activity leaves its old month"
    );
    assert_eq!(
        month(&s.body, "2020-10")[0]["when"],
        json!({"from": "2020-10-01", "to": "2020-10-02"})
    );
}

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

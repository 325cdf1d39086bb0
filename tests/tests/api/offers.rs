//! Seat offers end to end (DOMAIN.md "Seat offers", API.md): a visit announced with
//! `offer_hours`; a seat freed after the close is offered, not given; the applicant accepts
//! or declines on their page or through the API; an offer whose time ran out is expired by
//! the service's own clock and passes on; the roster and the applicant's status show the
//! standing offer; verify re-derives it all; each step sends its mail through a real SMTP
//! server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use domain::services::FixedClock;
use serde_json::{json, Value};
use service::startup::MailSettings;
use tests::{instant, nip, spawn_with, MailServer, Options, TestApp};

const WAIT: Duration = Duration::from_secs(30);

/// The applicant's status through the API (their key), read after `position`.
async fn status(app: &TestApp, (id, key): &(String, String), position: i64) -> Value {
    let a = app
        .call_with(
            "GET",
            &format!("/api/v1/applications/{id}?min_position={position}"),
            None,
            None,
            &[("x-applicant-key", key)],
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    a.body
}

async fn as_applicant(app: &TestApp, (id, key): &(String, String), action: &str) -> tests::Answer {
    app.call_with(
        "POST",
        &format!("/api/v1/applications/{id}/{action}"),
        None,
        Some(json!({})),
        &[("x-applicant-key", key)],
    )
    .await
}

/// Polls the applicant's status until it is `want`.
async fn until_status(app: &TestApp, who: &(String, String), want: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = status(app, who, 0).await;
        if s["status"] == want {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_freed_seat_is_offered_declined_expired_and_accepted_with_a_mail_at_each_step() {
    let server = MailServer::start().await;
    let clock = Arc::new(FixedClock::new(instant("2022-06-20T09:00:00Z")));
    let app = spawn_with(Options {
        clock: clock.clone(),
        mail: MailSettings {
            smtp_url: Some(server.url()),
            from: Some("ROPS <wizyty@rops.example>".into()),
            poll: Duration::from_millis(100),
            ..Default::default()
        },
        public_url: Some("https://wizyty.rops.example".into()),
        ..Options::default()
    })
    .await;
    let mut body = tests::visit_body(None);
    body["offer_hours"] = json!(48);
    let created = app
        .post("/api/v1/study-visits", &app.coordinator, body)
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let visit = created.str("id");
    let detail = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}?min_position={}",
                created.position()
            ),
            &app.coordinator,
        )
        .await;
    assert_eq!(detail.body["offer_hours"], 48);
    let term = app
        .schedule_term(
            &visit,
            "I termin",
            2,
            "2022-06-27",
            "2022-06-23T11:00:00+02:00",
        )
        .await;
    app.open(&visit, &term).await;
    let mut people = Vec::new();
    for i in 1..=4u32 {
        let a = app
            .apply(
                &visit,
                &term,
                &format!("osoba{i}@gmina.pl"),
                &nip(600 + i),
                "JST",
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        people.push((a.str("application_id"), a.str("applicant_key")));
    }
    app.close(&visit, &term).await;

    // 1 gives their seat back: 3, first on the waiting list, is offered it for 48 hours.
    let w = as_applicant(&app, &people[0], "withdraw").await;
    assert_eq!(w.status, 200, "{w:?}");
    let third = status(&app, &people[2], w.position()).await;
    assert_eq!(third["status"], "offered", "{third}");
    assert_eq!(third["offer_expires_at"], "2022-06-22T09:00:00Z");
    let roster = app.roster(&visit, &term, w.position()).await;
    assert_eq!(roster.body["allocated"].as_array().unwrap().len(), 1);
    assert_eq!(
        roster.body["waitlist"][0]["status"], "offered",
        "{:?}",
        roster.body
    );

    // 3 declines on their own page (the form with its CSRF token) ...
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page_url = format!("{}/zgloszenia/{}/{}", app.base, people[2].0, people[2].1);
    let page = http.get(&page_url).send().await.unwrap();
    let cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("Przyjmuję miejsce"), "{html}");
    assert!(
        html.contains("22 czerwca 2022 r., 11:00"),
        "the expiry, Warsaw time"
    );
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let declined = http
        .post(format!("{page_url}/oferta"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("decyzja", "odrzuc")])
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 303);
    // ... and waits again; 4 is offered the seat. Answering twice is refused.
    until_status(&app, &people[3], "offered").await;
    assert_eq!(status(&app, &people[2], 0).await["status"], "waitlisted");
    let again = as_applicant(&app, &people[2], "offer/accept").await;
    assert_eq!(again.status, 409, "{again:?}");
    assert_eq!(again.body["type"], "/problems/no_offer");

    // 4 does not answer: past the expiry, the service's clock records it; nobody is left
    // who has not let this seat's offer lapse, so it stays free.
    clock.set(instant("2022-06-22T09:00:01Z"));
    let lapsed = until_status(&app, &people[3], "waitlisted").await;
    assert!(lapsed.get("offer_expires_at").is_none(), "{lapsed}");

    // 2 gives their seat back too: a new chance for everyone waiting; 3 accepts in time.
    let w = as_applicant(&app, &people[1], "withdraw").await;
    assert_eq!(w.status, 200, "{w:?}");
    assert_eq!(
        status(&app, &people[2], w.position()).await["status"],
        "offered"
    );
    let accepted = as_applicant(&app, &people[2], "offer/accept").await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    assert_eq!(
        status(&app, &people[2], accepted.position()).await["status"],
        "allocated"
    );

    // The audit re-derives every offer, acceptance and lapse.
    let v = app
        .get(
            &format!("/api/v1/audit/study-visits/{visit}/verify"),
            &app.evaluator,
        )
        .await;
    assert_eq!(v.status, 200, "{v:?}");
    assert_eq!(v.body["consistent"], true, "{v:?}");

    // Mail: 3 was offered the seat twice and got it; 4 was offered it and told it lapsed.
    // 4 received, 2 seats and 2 on the waiting list at close, offers to 3, 4 and 3 again,
    // the lapse to 4, the seat to 3.
    let mails = server.wait_for(4 + 2 + 2 + 3 + 1 + 1, WAIT).await;
    let subjects = |who: &str| -> Vec<String> {
        mails
            .iter()
            .filter(|m| m.recipients.iter().any(|r| r == who))
            .map(|m| m.subject.split(':').next().unwrap_or_default().to_owned())
            .collect()
    };
    let third = subjects("osoba3@gmina.pl");
    assert_eq!(
        third
            .iter()
            .filter(|s| s.starts_with("Oferta miejsca do"))
            .count(),
        2,
        "{third:?}"
    );
    assert!(third.contains(&"Masz miejsce".to_owned()), "{third:?}");
    let fourth = subjects("osoba4@gmina.pl");
    assert!(
        fourth.iter().any(|s| s.starts_with("Oferta miejsca do")),
        "{fourth:?}"
    );
    assert!(
        fourth.contains(&"Oferta miejsca wygasła".to_owned()),
        "{fourth:?}"
    );
    let offer = mails
        .iter()
        .find(|m| {
            m.subject.starts_with("Oferta miejsca do") && m.recipients[0] == "osoba4@gmina.pl"
        })
        .unwrap();
    assert!(
        offer
            .text
            .contains(&format!("/zgloszenia/{}/{}", people[3].0, people[3].1)),
        "{}",
        offer.text
    );
}

#[tokio::test]
async fn offer_hours_out_of_range_are_refused_naming_the_field() {
    let app = tests::spawn().await;
    for hours in [json!(0), json!(721), json!(-5)] {
        let mut body = tests::visit_body(None);
        body["offer_hours"] = hours.clone();
        let a = app
            .post("/api/v1/study-visits", &app.coordinator, body)
            .await;
        assert_eq!(a.status, 422, "{hours}: {a:?}");
        assert_eq!(a.body["errors"][0]["field"], "offer_hours");
    }
}

#[tokio::test]
async fn a_visits_offer_hours_change_after_it_is_announced() {
    let app = tests::spawn().await;
    let visit = app.announce_visit(None).await;
    let path = format!("/api/v1/study-visits/{visit}/offer-hours");
    let set = app
        .call(
            "PUT",
            &path,
            Some(&app.coordinator),
            Some(json!({"offer_hours": 48})),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    let view = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}?min_position={}",
                set.position()
            ),
            &app.coordinator,
        )
        .await;
    assert_eq!(view.body["offer_hours"], 48);
    // Out of range: named, nothing written.
    for bad in [0, 721, -1] {
        let refused = app
            .call(
                "PUT",
                &path,
                Some(&app.coordinator),
                Some(json!({"offer_hours": bad})),
            )
            .await;
        assert_eq!(refused.status, 422, "{refused:?}");
        assert_eq!(refused.body["errors"][0]["field"], "offer_hours");
    }
    // Back to promotions at once; the same again writes nothing.
    let cleared = app
        .call(
            "PUT",
            &path,
            Some(&app.coordinator),
            Some(json!({"offer_hours": null})),
        )
        .await;
    assert_eq!(cleared.status, 200);
    let before = tests::event_count(&app).await;
    let again = app
        .call(
            "PUT",
            &path,
            Some(&app.coordinator),
            Some(json!({"offer_hours": null})),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(tests::event_count(&app).await, before);
    let view = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}?min_position={}",
                cleared.position()
            ),
            &app.coordinator,
        )
        .await;
    assert!(view.body["offer_hours"].is_null(), "{}", view.body);
    // Another organizer's coordinator cannot.
    let theirs = app
        .call(
            "PUT",
            &path,
            Some(&app.other_coordinator),
            Some(json!({"offer_hours": 24})),
        )
        .await;
    assert_eq!(theirs.status, 404);
}

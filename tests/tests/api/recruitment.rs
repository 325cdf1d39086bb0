//! A whole recruitment of a study visit (seed 000) through HTTP: preferences, the cap per
//! institution across terms, withdrawals and promotions, the deadline watcher, the roster
//! as it stood at an instant, the CSV export, the audit and idempotency.
//!
//! Seat counts are small so each expected roster can be checked by hand against the rules
//! of DOMAIN.md ("StudyVisit").
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{FixedOffset, SecondsFormat, Utc};
use serde_json::{json, Value};
use tests::{application_body, eventually, instant, nip, Answer, TestApp};

const T1_DEADLINE: &str = "2022-06-23T11:00:00+02:00";
const T2_DEADLINE: &str = "2022-06-24T11:00:00+02:00";

async fn schedule(
    app: &TestApp,
    visit: &str,
    label: &str,
    seats: u32,
    starts: &str,
    ends: &str,
    deadline: &str,
) -> String {
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": label, "starts_on": starts, "ends_on": ends, "seats": seats, "recruitment_deadline": deadline}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    a.str("term_id")
}

/// The seed's first term, 27–28 June 2022, deadline 23 June 11:00 (Warsaw), opened.
async fn term1(app: &TestApp, visit: &str, seats: u32) -> String {
    let t = schedule(
        app,
        visit,
        "I termin",
        seats,
        "2022-06-27",
        "2022-06-28",
        T1_DEADLINE,
    )
    .await;
    app.open(visit, &t).await;
    t
}

/// The seed's second term, 29–30 June 2022, deadline 24 June 11:00 (Warsaw), opened.
async fn term2(app: &TestApp, visit: &str, seats: u32) -> String {
    let t = schedule(
        app,
        visit,
        "II termin",
        seats,
        "2022-06-29",
        "2022-06-30",
        T2_DEADLINE,
    )
    .await;
    app.open(visit, &t).await;
    t
}

/// A submitted application.
#[derive(Debug, Clone)]
struct Applied {
    id: String,
    key: String,
    position: i64,
}

/// Submits an application of `email` for the institution `nip(inst)` (201 expected).
async fn submit(app: &TestApp, visit: &str, term: &str, email: &str, inst: u32) -> Applied {
    let a = app.apply(visit, term, email, &nip(inst), "JST").await;
    assert_eq!(a.status, 201, "{a:?}");
    Applied {
        id: a.str("application_id"),
        key: a.str("applicant_key"),
        position: a.position(),
    }
}

async fn put_list(app: &TestApp, visit: &str, code: &str, nips: &[u32]) -> i64 {
    let nips: Vec<String> = nips.iter().map(|n| nip(*n)).collect();
    let a = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/preferences/{code}/institutions"),
            Some(&app.coordinator),
            Some(json!({"nips": nips})),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    a.position()
}

async fn withdraw(app: &TestApp, visit: &str, a: &Applied) -> Answer {
    app.post(
        &format!(
            "/api/v1/study-visits/{visit}/applications/{}/withdraw",
            a.id
        ),
        &app.coordinator,
        json!({}),
    )
    .await
}

async fn withdraw_own(app: &TestApp, a: &Applied, key: &str) -> Answer {
    app.call_with(
        "POST",
        &format!("/api/v1/applications/{}/withdraw", a.id),
        None,
        None,
        &[("X-Applicant-Key", key)],
    )
    .await
}

async fn release(app: &TestApp, visit: &str, a: &Applied, reason: &str) -> Answer {
    app.post(
        &format!(
            "/api/v1/study-visits/{visit}/applications/{}/release-seat",
            a.id
        ),
        &app.coordinator,
        json!({"reason": reason}),
    )
    .await
}

async fn own_status(app: &TestApp, a: &Applied, key: &str, min_position: i64) -> Answer {
    app.call_with(
        "GET",
        &format!("/api/v1/applications/{}?min_position={min_position}", a.id),
        None,
        None,
        &[("X-Applicant-Key", key)],
    )
    .await
}

/// `(application_id, rank)` of one list of a roster body.
fn list(roster: &Value, which: &str) -> Vec<(String, u64)> {
    roster[which]
        .as_array()
        .unwrap_or_else(|| panic!("no {which} in {roster}"))
        .iter()
        .map(|e| {
            (
                e["application_id"].as_str().unwrap().to_owned(),
                e["rank"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// One field of every entry of a list.
fn field(roster: &Value, which: &str, key: &str) -> Vec<Value> {
    roster[which]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].clone())
        .collect()
}

fn entry<'a>(roster: &'a Value, a: &Applied) -> &'a Value {
    ["allocated", "waitlist", "passed_over"]
        .iter()
        .flat_map(|l| roster[*l].as_array().unwrap())
        .find(|e| e["application_id"] == a.id.as_str())
        .unwrap_or_else(|| panic!("{} not on the roster {roster}", a.id))
}

fn exp(pairs: &[(&Applied, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(a, r)| (a.id.clone(), *r)).collect()
}

fn strs(v: &[&str]) -> Vec<Value> {
    v.iter().map(|s| Value::String((*s).to_owned())).collect()
}

/// The events of `visit`'s stream, in order.
async fn visit_events(app: &TestApp, visit: &str) -> Vec<Value> {
    app.all_events()
        .await
        .into_iter()
        .filter(|e| e["aggregate_id"] == visit)
        .collect()
}

fn of_type<'a>(events: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == event_type)
        .collect()
}

/// Term 1 of a visit with cap 2 closed by hand with institution X (`nip(100)`) holding two
/// seats and Y (`nip(101)`) one.
async fn term1_closed_with_x_holding_two(app: &TestApp, visit: &str) -> String {
    let t1 = term1(app, visit, 3).await;
    submit(app, visit, &t1, "x1@gmina-x.pl", 100).await;
    submit(app, visit, &t1, "x2@gmina-x.pl", 100).await;
    submit(app, visit, &t1, "y1@gmina-y.pl", 101).await;
    let p = app.close(visit, &t1).await.position();
    let r = app.roster(visit, &t1, p).await.body;
    assert_eq!(list(&r, "allocated").len(), 3, "{r}");
    assert_eq!(r["per_institution"][nip(100)], 2, "{r}");
    t1
}

#[tokio::test]
async fn preferences_outrank_earlier_submitters_and_submission_order_breaks_ties() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    // 32 and 34 declared a CUS; 30 and 34 took part in the 2019-2021 project.
    put_list(&app, &visit, "cus_declared", &[32, 34]).await;
    put_list(&app, &visit, "new_to_project", &[30, 34]).await;
    let t = term1(&app, &visit, 3).await;
    let a1 = submit(&app, &visit, &t, "a1@ops-jeden.pl", 30).await; // score 0
    let a2 = submit(&app, &visit, &t, "a2@ops-dwa.pl", 31).await; // score 1 (new)
    let a3 = submit(&app, &visit, &t, "a3@gmina-trzy.pl", 32).await; // score 2 (cus + new)
    let a4 = submit(&app, &visit, &t, "a4@ops-cztery.pl", 33).await; // score 1 (new)
    let a5 = submit(&app, &visit, &t, "a5@gmina-piec.pl", 34).await; // score 1 (cus)

    let r = app.roster(&visit, &t, a5.position).await.body;
    assert_eq!(r["status"], "open");
    assert_eq!(r["provisional"], true);
    assert_eq!(r["seats"], 3);
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a3, 1), (&a2, 2), (&a4, 3)]),
        "{r}"
    );
    assert_eq!(list(&r, "waitlist"), exp(&[(&a5, 4), (&a1, 5)]), "{r}");
    assert!(list(&r, "passed_over").is_empty(), "{r}");
    assert_eq!(
        entry(&r, &a3)["preferences_met"],
        json!(["cus_declared", "new_to_project"])
    );
    assert_eq!(entry(&r, &a2)["preferences_met"], json!(["new_to_project"]));
    assert_eq!(entry(&r, &a5)["preferences_met"], json!(["cus_declared"]));
    assert_eq!(entry(&r, &a1)["preferences_met"], json!([]));
    assert_eq!(
        field(&r, "waitlist", "waitlist_position"),
        vec![json!(1), json!(2)]
    );

    let p = app.close(&visit, &t).await.position();
    let r = app.roster(&visit, &t, p).await.body;
    assert_eq!(r["status"], "closed");
    assert_eq!(r["provisional"], false);
    assert_eq!(r["seats_left"], 0);
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a3, 1), (&a2, 2), (&a4, 3)]),
        "{r}"
    );
    assert_eq!(list(&r, "waitlist"), exp(&[(&a5, 4), (&a1, 5)]), "{r}");
    assert!(list(&r, "passed_over").is_empty(), "{r}");
    assert_eq!(
        field(&r, "allocated", "rule"),
        strs(&["rank_order", "rank_order", "rank_order"])
    );
    assert_eq!(
        field(&r, "waitlist", "rule"),
        strs(&["waitlist", "waitlist"])
    );
    assert_eq!(
        field(&r, "waitlist", "waitlist_position"),
        vec![json!(1), json!(2)]
    );
    assert!(
        field(&r, "allocated", "basis")
            .iter()
            .all(|b| b.as_str().is_some_and(|s| !s.is_empty())),
        "{r}"
    );
}

#[tokio::test]
async fn not_oversubscribed_term_allocates_everyone_without_applying_the_cap() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 3).await;
    // Three people of one institution, cap 2, three seats: rule 1, no cap.
    let a = submit(&app, &visit, &t, "pierwsza@gops-x.pl", 7).await;
    let b = submit(&app, &visit, &t, "druga@gops-x.pl", 7).await;
    let c = submit(&app, &visit, &t, "trzecia@gops-x.pl", 7).await;
    let r = app.roster(&visit, &t, c.position).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a, 1), (&b, 2), (&c, 3)]),
        "provisional {r}"
    );
    let p = app.close(&visit, &t).await.position();
    let r = app.roster(&visit, &t, p).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a, 1), (&b, 2), (&c, 3)]),
        "{r}"
    );
    assert!(
        list(&r, "waitlist").is_empty() && list(&r, "passed_over").is_empty(),
        "{r}"
    );
    assert_eq!(
        field(&r, "allocated", "rule"),
        strs(&["all_within_seats"; 3])
    );
    assert_eq!(r["per_institution"][nip(7)], 3, "{r}");
    let events = visit_events(&app, &visit).await;
    let closed = of_type(&events, "RecruitmentClosed");
    assert_eq!(closed.len(), 1);
    assert_eq!(
        closed[0]["payload"]["RecruitmentClosed"]["oversubscribed"],
        false
    );
}

#[tokio::test]
async fn institution_cap_across_terms_passes_over_after_the_waitlist() {
    // The seed's two terms, both closed by the deadline watcher as the clock moves.
    let (app, clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t1 = term1(&app, &visit, 3).await;
    let t2 = term2(&app, &visit, 3).await;
    let x1 = submit(&app, &visit, &t1, "x1@gmina-x.pl", 100).await;
    let x2 = submit(&app, &visit, &t1, "x2@gmina-x.pl", 100).await;
    let y1 = submit(&app, &visit, &t1, "y1@mops-y.pl", 101).await;

    // Past the first deadline: term 1 closes, term 2 stays open.
    clock.set(instant("2022-06-23T11:00:30+02:00"));
    let closed = eventually(Duration::from_secs(10), || async {
        let r = app
            .get(
                &format!("/api/v1/study-visits/{visit}/terms/{t1}/roster"),
                &app.coordinator,
            )
            .await;
        (r.body["status"] == "closed").then_some(())
    })
    .await;
    assert!(
        closed.is_some(),
        "term 1 was not closed by the deadline watcher"
    );
    let last = visit_events(&app, &visit).await.last().unwrap()["position"]
        .as_i64()
        .unwrap();
    let r1 = app.roster(&visit, &t1, last).await.body;
    assert_eq!(
        list(&r1, "allocated"),
        exp(&[(&x1, 1), (&x2, 2), (&y1, 3)]),
        "{r1}"
    );

    // Term 2: X already holds 2 seats (the cap) from term 1.
    let x3 = submit(&app, &visit, &t2, "x3@gmina-x.pl", 100).await;
    let z1 = submit(&app, &visit, &t2, "z1@pes-z.pl", 102).await;
    let x4 = submit(&app, &visit, &t2, "x4@gmina-x.pl", 100).await;
    let w1 = submit(&app, &visit, &t2, "w1@owes-w.pl", 103).await;
    let v1 = submit(&app, &visit, &t2, "v1@jops-v.pl", 104).await;
    let u1 = submit(&app, &visit, &t2, "u1@gmina-u.pl", 105).await;
    let r = app.roster(&visit, &t2, u1.position).await.body;
    assert_eq!(r["provisional"], true);
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&z1, 2), (&w1, 4), (&v1, 5)]),
        "provisional {r}"
    );
    assert_eq!(list(&r, "waitlist"), exp(&[(&u1, 6)]), "provisional {r}");
    assert_eq!(
        list(&r, "passed_over"),
        exp(&[(&x3, 1), (&x4, 3)]),
        "provisional {r}"
    );

    clock.set(instant("2022-06-24T11:00:30+02:00"));
    let closed = eventually(Duration::from_secs(10), || async {
        let r = app
            .get(
                &format!("/api/v1/study-visits/{visit}/terms/{t2}/roster"),
                &app.coordinator,
            )
            .await;
        (r.body["status"] == "closed").then_some(())
    })
    .await;
    assert!(
        closed.is_some(),
        "term 2 was not closed by the deadline watcher"
    );
    let last = visit_events(&app, &visit).await.last().unwrap()["position"]
        .as_i64()
        .unwrap();
    let r = app.roster(&visit, &t2, last).await.body;
    assert_eq!(r["provisional"], false);
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&z1, 2), (&w1, 4), (&v1, 5)]),
        "{r}"
    );
    assert_eq!(field(&r, "allocated", "rule"), strs(&["rank_order"; 3]));
    assert_eq!(list(&r, "waitlist"), exp(&[(&u1, 6)]), "{r}");
    assert_eq!(field(&r, "waitlist", "waitlist_position"), vec![json!(1)]);
    assert_eq!(list(&r, "passed_over"), exp(&[(&x3, 1), (&x4, 3)]), "{r}");
    assert_eq!(
        field(&r, "passed_over", "reason"),
        strs(&["institution_cap", "institution_cap"])
    );
    assert_eq!(
        field(&r, "passed_over", "rule"),
        strs(&["institution_cap", "institution_cap"])
    );

    let s = own_status(&app, &x3, &x3.key, last).await;
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.body["status"], "passed_over");
    let s = own_status(&app, &u1, &u1.key, last).await;
    assert_eq!(s.body["status"], "waitlisted", "{s:?}");
    assert_eq!(s.body["waitlist_position"], 1, "{s:?}");
    assert_eq!(s.body["rank"], 6, "{s:?}");

    let events = visit_events(&app, &visit).await;
    let passed = of_type(&events, "ApplicationPassedOver");
    assert_eq!(passed.len(), 2);
    for p in passed {
        assert_eq!(
            p["payload"]["ApplicationPassedOver"]["reason"],
            "institution_cap"
        );
        assert_eq!(
            p["payload"]["ApplicationPassedOver"]["basis"]["institution_seats_before"], 2,
            "{p}"
        );
    }
}

#[tokio::test]
async fn cap_fill_gives_seats_left_after_the_walk_to_capped_candidates() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    term1_closed_with_x_holding_two(&app, &visit).await;
    // Term 2: 4 seats, 5 candidates, three of X (at the cap). The walk gives z1 and w1 a
    // seat; two seats are left, so x3 and x4 fill them in rank order; x5 is passed over.
    let t2 = term2(&app, &visit, 4).await;
    let x3 = submit(&app, &visit, &t2, "x3@gmina-x.pl", 100).await;
    let z1 = submit(&app, &visit, &t2, "z1@pes-z.pl", 102).await;
    let x4 = submit(&app, &visit, &t2, "x4@gmina-x.pl", 100).await;
    let x5 = submit(&app, &visit, &t2, "x5@gmina-x.pl", 100).await;
    let w1 = submit(&app, &visit, &t2, "w1@owes-w.pl", 103).await;
    let r = app.roster(&visit, &t2, w1.position).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&x3, 1), (&z1, 2), (&x4, 3), (&w1, 5)]),
        "provisional {r}"
    );
    assert_eq!(list(&r, "passed_over"), exp(&[(&x5, 4)]), "provisional {r}");

    let p = app.close(&visit, &t2).await.position();
    let r = app.roster(&visit, &t2, p).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&x3, 1), (&z1, 2), (&x4, 3), (&w1, 5)]),
        "{r}"
    );
    assert_eq!(
        field(&r, "allocated", "rule"),
        strs(&["cap_fill", "rank_order", "cap_fill", "rank_order"])
    );
    assert!(list(&r, "waitlist").is_empty(), "{r}");
    assert_eq!(list(&r, "passed_over"), exp(&[(&x5, 4)]), "{r}");
    assert_eq!(
        field(&r, "passed_over", "reason"),
        strs(&["institution_cap"])
    );
    assert_eq!(r["seats_left"], 0);
}

#[tokio::test]
async fn withdrawals_before_close_leave_the_provisional_roster() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 3).await;
    let a1 = submit(&app, &visit, &t, "a1@gops-a.pl", 11).await;
    let a2 = submit(&app, &visit, &t, "a2@gops-b.pl", 12).await;
    let a3 = submit(&app, &visit, &t, "a3@gops-c.pl", 13).await;
    let a4 = submit(&app, &visit, &t, "a4@gops-d.pl", 14).await;
    let a5 = submit(&app, &visit, &t, "a5@gops-e.pl", 15).await;
    let r = app.roster(&visit, &t, a5.position).await.body;
    assert_eq!(list(&r, "allocated"), exp(&[(&a1, 1), (&a2, 2), (&a3, 3)]));
    assert_eq!(list(&r, "waitlist"), exp(&[(&a4, 4), (&a5, 5)]));

    // The coordinator withdraws a1.
    let w = withdraw(&app, &visit, &a1).await;
    assert_eq!(w.status, 200, "{w:?}");
    // The applicant a3 withdraws with their key; a wrong key does nothing.
    let wrong = withdraw_own(&app, &a3, &a1.key).await;
    assert_eq!(wrong.status, 404, "{wrong:?}");
    let w = withdraw_own(&app, &a3, &a3.key).await;
    assert_eq!(w.status, 200, "{w:?}");
    let r = app.roster(&visit, &t, w.position()).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a2, 1), (&a4, 2), (&a5, 3)]),
        "{r}"
    );
    assert!(list(&r, "waitlist").is_empty(), "{r}");
    assert_eq!(r["withdrawn"], 2, "{r}");
    let s = own_status(&app, &a3, &a3.key, w.position()).await;
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.body["status"], "withdrawn");
    // Withdrawing again is refused.
    let again = withdraw(&app, &visit, &a3).await;
    assert_eq!(again.status, 409, "{again:?}");

    let p = app.close(&visit, &t).await.position();
    let r = app.roster(&visit, &t, p).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a2, 1), (&a4, 2), (&a5, 3)]),
        "{r}"
    );
    assert_eq!(
        field(&r, "allocated", "rule"),
        strs(&["all_within_seats"; 3])
    );
    assert_eq!(r["withdrawn"], 2);
    let events = visit_events(&app, &visit).await;
    let withdrawn = of_type(&events, "ApplicationWithdrawn");
    assert_eq!(withdrawn.len(), 2);
    assert!(withdrawn
        .iter()
        .all(|e| e["payload"]["ApplicationWithdrawn"]["had_seat"] == false));
    assert!(of_type(&events, "SeatReleased").is_empty());
}

#[tokio::test]
async fn withdrawal_after_close_promotes_the_first_of_the_waitlist_and_attendance_needs_a_seat() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 3).await;
    let a1 = submit(&app, &visit, &t, "a1@gops-a.pl", 11).await;
    let a2 = submit(&app, &visit, &t, "a2@gops-b.pl", 12).await;
    let a3 = submit(&app, &visit, &t, "a3@gops-c.pl", 13).await;
    let a4 = submit(&app, &visit, &t, "a4@gops-d.pl", 14).await;
    let a5 = submit(&app, &visit, &t, "a5@gops-e.pl", 15).await;
    app.close(&visit, &t).await.position();

    // a2 gives up their seat: a4, first of the waiting list, is promoted.
    let w = withdraw_own(&app, &a2, &a2.key).await;
    assert_eq!(w.status, 200, "{w:?}");
    let r = app.roster(&visit, &t, w.position()).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a1, 1), (&a3, 3), (&a4, 4)]),
        "{r}"
    );
    assert_eq!(entry(&r, &a4)["rule"], "promotion_below_cap", "{r}");
    assert_eq!(list(&r, "waitlist"), exp(&[(&a5, 5)]), "{r}");
    assert_eq!(field(&r, "waitlist", "waitlist_position"), vec![json!(1)]);
    let s = own_status(&app, &a4, &a4.key, w.position()).await;
    assert_eq!(s.body["status"], "allocated", "{s:?}");
    let s = own_status(&app, &a2, &a2.key, w.position()).await;
    assert_eq!(s.body["status"], "withdrawn", "{s:?}");
    let events = visit_events(&app, &visit).await;
    let released = of_type(&events, "SeatReleased");
    assert_eq!(released.len(), 1);
    assert_eq!(
        released[0]["payload"]["SeatReleased"]["application_id"],
        a2.id.as_str()
    );
    let promoted = events.last().unwrap();
    assert_eq!(promoted["event_type"], "SeatAllocated");
    assert_eq!(
        promoted["payload"]["SeatAllocated"]["application_id"],
        a4.id.as_str()
    );
    assert_eq!(
        promoted["payload"]["SeatAllocated"]["basis"]["promoted_for"],
        a2.id.as_str()
    );

    // Attendance: recorded for a seat holder, refused for someone waiting.
    let path = |a: &Applied| {
        format!(
            "/api/v1/study-visits/{visit}/applications/{}/attendance",
            a.id
        )
    };
    let ok = app
        .post(&path(&a3), &app.coordinator, json!({"attended": true}))
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let refused = app
        .post(&path(&a5), &app.coordinator, json!({"attended": true}))
        .await;
    assert_eq!(refused.status, 409, "{refused:?}");
    let r = app.roster(&visit, &t, ok.position()).await.body;
    assert_eq!(entry(&r, &a3)["attended"], true, "{r}");

    // A withdrawal from the waiting list only removes that person.
    let w = withdraw(&app, &visit, &a5).await;
    assert_eq!(w.status, 200, "{w:?}");
    let r = app.roster(&visit, &t, w.position()).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a1, 1), (&a3, 3), (&a4, 4)]),
        "{r}"
    );
    assert!(list(&r, "waitlist").is_empty(), "{r}");
    let events = visit_events(&app, &visit).await;
    assert_eq!(of_type(&events, "SeatReleased").len(), 1);
    assert_eq!(events.last().unwrap()["event_type"], "ApplicationWithdrawn");
    let withdrawn_att = app
        .post(&path(&a5), &app.coordinator, json!({"attended": false}))
        .await;
    assert_eq!(withdrawn_att.status, 409, "{withdrawn_att:?}");
}

#[tokio::test]
async fn release_promotes_the_first_waiting_below_the_cap_else_the_first_in_line() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    term1_closed_with_x_holding_two(&app, &visit).await;
    // Term 2: 3 seats, 5 candidates; the walk fills the seats before reaching x3, so x3
    // (of X, at the cap) waits first and u1 second.
    let t2 = term2(&app, &visit, 3).await;
    let z1 = submit(&app, &visit, &t2, "z1@pes-z.pl", 102).await;
    let w1 = submit(&app, &visit, &t2, "w1@owes-w.pl", 103).await;
    let v1 = submit(&app, &visit, &t2, "v1@jops-v.pl", 104).await;
    let x3 = submit(&app, &visit, &t2, "x3@gmina-x.pl", 100).await;
    let u1 = submit(&app, &visit, &t2, "u1@gmina-u.pl", 105).await;
    let p = app.close(&visit, &t2).await.position();
    let r = app.roster(&visit, &t2, p).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&z1, 1), (&w1, 2), (&v1, 3)]),
        "{r}"
    );
    assert_eq!(list(&r, "waitlist"), exp(&[(&x3, 4), (&u1, 5)]), "{r}");
    assert!(list(&r, "passed_over").is_empty(), "{r}");

    // z1's seat is released: x3's institution is at the cap, u1's is below it.
    let rel = release(&app, &visit, &z1, "Rezygnacja zgłoszona telefonicznie").await;
    assert_eq!(rel.status, 200, "{rel:?}");
    let r = app.roster(&visit, &t2, rel.position()).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&w1, 2), (&v1, 3), (&u1, 5)]),
        "{r}"
    );
    assert_eq!(entry(&r, &u1)["rule"], "promotion_below_cap", "{r}");
    assert_eq!(list(&r, "waitlist"), exp(&[(&x3, 4)]), "{r}");
    let s = own_status(&app, &z1, &z1.key, rel.position()).await;
    assert_eq!(s.body["status"], "released", "{s:?}");

    // w1's seat is released: nobody waiting is below the cap, so the first in line.
    let rel = release(&app, &visit, &w1, "Choroba uczestniczki").await;
    assert_eq!(rel.status, 200, "{rel:?}");
    let r = app.roster(&visit, &t2, rel.position()).await.body;
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&v1, 3), (&x3, 4), (&u1, 5)]),
        "{r}"
    );
    assert_eq!(entry(&r, &x3)["rule"], "promotion_first_in_line", "{r}");
    assert!(list(&r, "waitlist").is_empty(), "{r}");

    // A release needs a seat.
    let no_seat = release(&app, &visit, &w1, "Ponownie").await;
    assert_eq!(no_seat.status, 409, "{no_seat:?}");

    let events = visit_events(&app, &visit).await;
    let released = of_type(&events, "SeatReleased");
    assert_eq!(released.len(), 2);
    assert_eq!(
        released[0]["payload"]["SeatReleased"]["cause"]["released"]["reason"],
        "Rezygnacja zgłoszona telefonicznie",
        "{}",
        released[0]
    );
}

#[tokio::test]
async fn deadline_watcher_closes_a_term_exactly_once_and_late_applications_are_refused() {
    let (app, clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t1 = term1(&app, &visit, 3).await;
    let t2 = term2(&app, &visit, 3).await;
    let a1 = submit(&app, &visit, &t1, "a1@gops-a.pl", 11).await;
    let a2 = submit(&app, &visit, &t1, "a2@gops-b.pl", 12).await;
    let a3 = submit(&app, &visit, &t1, "a3@gops-c.pl", 13).await;
    let a4 = submit(&app, &visit, &t1, "a4@gops-d.pl", 14).await;
    // The watcher does not close before the deadline.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = app.roster(&visit, &t1, a4.position).await.body;
    assert_eq!(r["status"], "open", "{r}");

    // One minute past the deadline of term 1 (11:00 Warsaw, 23 June 2022).
    clock.set(instant("2022-06-23T09:01:00Z"));
    let late = app
        .apply(&visit, &t1, "spozniona@gops-f.pl", &nip(16), "JST")
        .await;
    assert_eq!(
        late.status, 409,
        "late application, before or after the watcher closed: {late:?}"
    );

    let closed = eventually(Duration::from_secs(10), || async {
        let r = app
            .get(
                &format!("/api/v1/study-visits/{visit}/terms/{t1}/roster"),
                &app.coordinator,
            )
            .await;
        (r.body["status"] == "closed").then_some(())
    })
    .await;
    assert!(closed.is_some(), "the watcher did not close term 1");
    // A few more watcher cycles, then a manual close attempt.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let manual = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{t1}/close"),
            &app.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(manual.status, 409, "{manual:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let events = visit_events(&app, &visit).await;
    let closes: Vec<&Value> = of_type(&events, "RecruitmentClosed")
        .into_iter()
        .filter(|e| e["payload"]["RecruitmentClosed"]["term_id"] == t1.as_str())
        .collect();
    assert_eq!(closes.len(), 1, "{closes:?}");
    let c = &closes[0]["payload"]["RecruitmentClosed"];
    assert_eq!(c["trigger"], "deadline");
    assert_eq!(c["candidates"], 4);
    assert_eq!(c["oversubscribed"], true);
    assert_eq!(
        instant(c["closed_at"].as_str().unwrap()),
        instant("2022-06-23T09:01:00Z")
    );
    assert_eq!(
        closes[0]["metadata"]["actor"], "system:deadline-watcher",
        "{}",
        closes[0]
    );
    // One decision per candidate, recorded once.
    let decisions = events
        .iter()
        .filter(|e| {
            [
                "SeatAllocated",
                "ApplicantWaitlisted",
                "ApplicationPassedOver",
            ]
            .contains(&e["event_type"].as_str().unwrap())
        })
        .count();
    assert_eq!(decisions, 4);

    let last = events.last().unwrap()["position"].as_i64().unwrap();
    let r = app.roster(&visit, &t1, last).await.body;
    assert_eq!(r["status"], "closed");
    assert_eq!(
        list(&r, "allocated"),
        exp(&[(&a1, 1), (&a2, 2), (&a3, 3)]),
        "{r}"
    );
    assert_eq!(list(&r, "waitlist"), exp(&[(&a4, 4)]), "{r}");

    // Still late after the close; term 2 (deadline 24 June) is open and takes applications.
    let late = app
        .apply(&visit, &t1, "spozniona@gops-f.pl", &nip(16), "JST")
        .await;
    assert_eq!(late.status, 409, "{late:?}");
    let r2 = app.roster(&visit, &t2, last).await.body;
    assert_eq!(r2["status"], "open", "{r2}");
    let on_time = app
        .apply(&visit, &t2, "spozniona@gops-f.pl", &nip(16), "JST")
        .await;
    assert_eq!(on_time.status, 201, "{on_time:?}");
}

#[tokio::test]
async fn planned_term_opens_only_after_its_dates_are_fixed() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": "III termin", "seats": 3, "planned": {"month": "2022-07", "part": "mid"}}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let t3 = a.str("term_id");
    let open = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{t3}/open"),
            &app.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(open.status, 409, "{open:?}");
    let apply = app
        .apply(&visit, &t3, "wczesna@gops-a.pl", &nip(11), "JST")
        .await;
    assert_eq!(apply.status, 409, "{apply:?}");
    let d = app
        .get(
            &format!("/api/v1/study-visits/{visit}?min_position={}", a.position()),
            &app.coordinator,
        )
        .await;
    assert_eq!(d.status, 200, "{d:?}");
    assert_eq!(d.body["terms"][0]["status"], "planned", "{d:?}");

    let fix = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{t3}/dates"),
            &app.coordinator,
            json!({"starts_on": "2022-07-14", "ends_on": "2022-07-15", "recruitment_deadline": "2022-07-08T11:00:00+02:00"}),
        )
        .await;
    assert_eq!(fix.status, 200, "{fix:?}");
    let open = app.open(&visit, &t3).await;
    let d = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}?min_position={}",
                open.position()
            ),
            &app.coordinator,
        )
        .await;
    let term = &d.body["terms"][0];
    assert_eq!(term["status"], "open", "{term}");
    assert_eq!(term["starts_on"], "2022-07-14");
    assert_eq!(term["ends_on"], "2022-07-15");
    assert_eq!(
        instant(term["recruitment_deadline"].as_str().unwrap()),
        instant("2022-07-08T09:00:00Z")
    );
    let apply = app
        .apply(&visit, &t3, "wczesna@gops-a.pl", &nip(11), "JST")
        .await;
    assert_eq!(apply.status, 201, "{apply:?}");
}

#[tokio::test]
async fn applicant_follows_their_own_application_with_the_key() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 1).await;
    let a1 = submit(&app, &visit, &t, "a1@gops-a.pl", 11).await;
    let a2 = submit(&app, &visit, &t, "a2@gops-b.pl", 12).await;
    let a3 = submit(&app, &visit, &t, "a3@gops-c.pl", 13).await;

    let s = own_status(&app, &a2, &a2.key, a3.position).await;
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.body["status"], "submitted");
    assert_eq!(s.body["term_id"], t.as_str());
    assert_eq!(s.body["rank"], 2, "{s:?}");

    // A wrong key, another applicant's key, or none: 404.
    for key in ["zly-klucz", a1.key.as_str()] {
        let s = own_status(&app, &a2, key, a3.position).await;
        assert_eq!(s.status, 404, "{s:?}");
    }
    let none = app
        .call(
            "GET",
            &format!("/api/v1/applications/{}", a2.id),
            None,
            None,
        )
        .await;
    assert_eq!(none.status, 404, "{none:?}");

    let p = app.close(&visit, &t).await.position();
    let s = own_status(&app, &a1, &a1.key, p).await;
    assert_eq!(
        (s.body["status"].clone(), s.body["rank"].clone()),
        (json!("allocated"), json!(1)),
        "{s:?}"
    );
    let s = own_status(&app, &a3, &a3.key, p).await;
    assert_eq!(s.body["status"], "waitlisted", "{s:?}");
    assert_eq!(s.body["rank"], 3, "{s:?}");
    assert_eq!(s.body["waitlist_position"], 2, "{s:?}");
}

#[tokio::test]
async fn roster_at_an_instant_equals_the_live_roster_then() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 3).await;
    let a1 = submit(&app, &visit, &t, "a1@gops-a.pl", 11).await;
    submit(&app, &visit, &t, "a2@gops-b.pl", 12).await;
    submit(&app, &visit, &t, "a3@gops-c.pl", 11).await;
    let a4 = submit(&app, &visit, &t, "a4@gops-d.pl", 14).await;
    let then = app.roster(&visit, &t, a4.position).await.body;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    tokio::time::sleep(Duration::from_millis(150)).await;

    // Changes after the instant: a preference list, a withdrawal, a new candidate, the close.
    put_list(&app, &visit, "cus_declared", &[14]).await;
    assert_eq!(withdraw(&app, &visit, &a1).await.status, 200);
    submit(&app, &visit, &t, "a5@gops-e.pl", 15).await;
    let p = app.close(&visit, &t).await.position();
    let now = app.roster(&visit, &t, p).await.body;
    assert_ne!(
        list(&now, "allocated"),
        list(&then, "allocated"),
        "the changes must show"
    );

    let past = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?at={at}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(past.status, 200, "{past:?}");
    for key in ["status", "provisional", "seats", "withdrawn"] {
        assert_eq!(past.body[key], then[key], "{key}: {past:?} vs {then}");
    }
    for which in ["allocated", "waitlist", "passed_over"] {
        assert_eq!(list(&past.body, which), list(&then, which), "{which}");
        assert_eq!(
            field(&past.body, which, "preferences_met"),
            field(&then, which, "preferences_met"),
            "{which}"
        );
    }
    // The same instant written in Warsaw summer time (RFC 3339 with offset) answers the same.
    let local = instant(&at)
        .with_timezone(&FixedOffset::east_opt(2 * 3600).unwrap())
        .to_rfc3339_opts(SecondsFormat::Micros, false)
        .replace('+', "%2B");
    let past_local = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?at={local}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(past_local.status, 200, "{local}: {past_local:?}");
    for which in ["allocated", "waitlist", "passed_over"] {
        assert_eq!(
            list(&past_local.body, which),
            list(&then, which),
            "{which} at {local}"
        );
    }

    // And as of now it equals the live, closed roster.
    let at_now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let current = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?at={at_now}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(current.status, 200, "{current:?}");
    assert_eq!(current.body["status"], "closed");
    for which in ["allocated", "waitlist", "passed_over"] {
        assert_eq!(list(&current.body, which), list(&now, which), "{which}");
        assert_eq!(
            field(&current.body, which, "rule"),
            field(&now, which, "rule"),
            "{which}"
        );
    }
}

#[tokio::test]
async fn roster_csv_is_utf8_with_a_header_and_one_line_per_entry() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 2).await;
    let mut ids = Vec::new();
    for (i, (first, last, inst)) in [
        (
            "Jadwiga",
            "Żółtowska",
            "Gminny Ośrodek Pomocy Społecznej w Łęczycy",
        ),
        ("Grzegorz", "Ćwikliński", "Spółdzielnia Socjalna „Źródło”"),
        ("Łucja", "Śledź", "Urząd Gminy Kęsowo"),
    ]
    .iter()
    .enumerate()
    {
        let n = nip(50 + i as u32);
        let a = app
            .call(
                "POST",
                &format!("/api/v1/study-visits/{visit}/terms/{t}/applications"),
                None,
                Some(json!({
                    "person": {"first_name": first, "last_name": last, "email": format!("osoba{i}@example.org")},
                    "institution": {"name": inst, "type": "PES", "nip": n},
                    "consent": true
                })),
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        ids.push((a.str("application_id"), a.position()));
    }
    let p = app.close(&visit, &t).await.position();
    app.roster(&visit, &t, p).await;

    let (status, ct, bytes) = app
        .download(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster.csv?min_position={p}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1 + 3, "{text}");
    assert!(
        lines[0].contains("application_id") && lines[0].contains("rank"),
        "header: {}",
        lines[0]
    );
    for (id, _) in &ids {
        assert_eq!(
            lines.iter().filter(|l| l.contains(id.as_str())).count(),
            1,
            "{id} in {text}"
        );
    }
    for s in [
        "Gminny Ośrodek Pomocy Społecznej w Łęczycy",
        "Spółdzielnia Socjalna „Źródło”",
        "Urząd Gminy Kęsowo",
        "Żółtowska",
        "Ćwikliński",
        "Łucja",
        "Śledź",
    ] {
        assert!(text.contains(s), "{s} missing in {text}");
    }
}

#[tokio::test]
async fn verify_rederives_every_decision() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    put_list(&app, &visit, "cus_declared", &[102]).await;
    term1_closed_with_x_holding_two(&app, &visit).await;
    let t2 = term2(&app, &visit, 2).await;
    let x3 = submit(&app, &visit, &t2, "x3@gmina-x.pl", 100).await;
    let z1 = submit(&app, &visit, &t2, "z1@pes-z.pl", 102).await;
    submit(&app, &visit, &t2, "w1@owes-w.pl", 103).await;
    submit(&app, &visit, &t2, "v1@jops-v.pl", 104).await;
    app.close(&visit, &t2).await.position();
    // A withdrawal and a release, each with somebody to promote.
    let w = withdraw_own(&app, &z1, &z1.key).await;
    assert_eq!(w.status, 200, "{w:?}");
    let r = app.roster(&visit, &t2, w.position()).await.body;
    let holder = r["allocated"][0]["application_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rel = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{holder}/release-seat"),
            &app.coordinator,
            json!({"reason": "Zmiana kadrowa"}),
        )
        .await;
    assert_eq!(rel.status, 200, "{rel:?}");
    let r = app.roster(&visit, &t2, rel.position()).await.body;
    assert!(
        list(&r, "allocated").iter().any(|(id, _)| *id == x3.id),
        "x3 promoted at last: {r}"
    );

    let events = visit_events(&app, &visit).await;
    let decisions = events
        .iter()
        .filter(|e| {
            [
                "SeatAllocated",
                "ApplicantWaitlisted",
                "ApplicationPassedOver",
            ]
            .contains(&e["event_type"].as_str().unwrap())
        })
        .count();
    // Term 1: 3, term 2 at close: 4, promotions: 2.
    assert_eq!(decisions, 9);
    let v = app
        .get(
            &format!("/api/v1/audit/study-visits/{visit}/verify"),
            &app.evaluator,
        )
        .await;
    assert_eq!(v.status, 200, "{v:?}");
    assert_eq!(v.body["consistent"], true, "{v:?}");
    assert_eq!(v.body["checked"], decisions, "{v:?}");
    assert_eq!(v.body["discrepancies"], json!([]), "{v:?}");
}

#[tokio::test]
async fn events_carry_metadata_and_no_personal_data() {
    let (app, clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    put_list(&app, &visit, "cus_declared", &[11]).await;
    let t = term1(&app, &visit, 1).await;
    let person = json!({"first_name": "Bożydar", "last_name": "Kwiatkowski-Zawadzki", "email": "Bozydar.Kwiatkowski@Przyklad.example", "phone": "+48 511 222 333", "job_title": "inspektor"});
    let correlation = format!("korelacja-{}", uuid::Uuid::new_v4());
    let a = app
        .call_with(
            "POST",
            &format!("/api/v1/study-visits/{visit}/terms/{t}/applications"),
            None,
            Some(json!({"person": person, "institution": {"name": "Gmina Testowo", "type": "JST", "nip": nip(11)}, "consent": true})),
            &[("X-Correlation-Id", correlation.as_str())],
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let b = submit(&app, &visit, &t, "druga.osoba@example.org", 12).await;
    // The watcher closes the term (system actor), the coordinator releases the seat.
    clock.set(instant("2022-06-23T09:00:00Z"));
    let closed = eventually(Duration::from_secs(10), || async {
        let r = app
            .get(
                &format!("/api/v1/study-visits/{visit}/terms/{t}/roster"),
                &app.coordinator,
            )
            .await;
        (r.body["status"] == "closed").then_some(())
    })
    .await;
    assert!(closed.is_some(), "not closed");
    let app_id = a.str("application_id");
    let rel = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{app_id}/release-seat"),
            &app.coordinator,
            json!({"reason": "Rezygnacja"}),
        )
        .await;
    assert_eq!(rel.status, 200, "{rel:?}");
    let withdrawn = withdraw_own(&app, &b, &b.key).await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");

    let events = app.all_events().await;
    assert!(events.len() >= 10, "{events:?}");
    for e in &events {
        for key in [
            "actor",
            "organizer",
            "correlation_id",
            "causation_id",
            "command",
        ] {
            let v = e["metadata"][key].as_str().unwrap_or_default();
            assert!(!v.is_empty(), "{key} missing in metadata of {e}");
        }
        assert_eq!(e["metadata"]["organizer"], "rops-torun", "{e}");
        let payload = e["payload"].to_string().to_lowercase();
        for secret in [
            "bozydar.kwiatkowski@przyklad.example",
            "bożydar",
            "kwiatkowski",
            "511 222 333",
            "druga.osoba@example.org",
            "wiśniewska",
            "zofia",
        ] {
            assert!(!payload.contains(secret), "{secret} in payload of {e}");
        }
    }
    let correlated: Vec<&Value> = events
        .iter()
        .filter(|e| e["metadata"]["correlation_id"] == correlation.as_str())
        .collect();
    assert_eq!(correlated.len(), 1, "{correlated:?}");
    assert_eq!(correlated[0]["event_type"], "ApplicationSubmitted");
    assert_eq!(correlated[0]["metadata"]["actor"], "public");
    assert_eq!(
        a.headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok()),
        Some(correlation.as_str())
    );
    // The watcher's close is attributed to the system; the coordinator's commands to a token.
    let close = events
        .iter()
        .find(|e| e["event_type"] == "RecruitmentClosed")
        .unwrap();
    assert_eq!(close["metadata"]["actor"], "system:deadline-watcher");
    let released = events
        .iter()
        .find(|e| e["event_type"] == "SeatReleased")
        .unwrap();
    assert!(
        released["metadata"]["actor"]
            .as_str()
            .unwrap()
            .starts_with("token:"),
        "{released}"
    );
    assert_eq!(released["metadata"]["command"], "ReleaseSeat", "{released}");
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term1(&app, &visit, 3).await;
    let path = format!("/api/v1/study-visits/{visit}/terms/{t}/applications");
    let body = application_body("powtorka@gops-a.pl", &nip(11), "JST");
    let headers = [("Idempotency-Key", "formularz-0001")];
    let first = app
        .call_with("POST", &path, None, Some(body.clone()), &headers)
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    let second = app
        .call_with("POST", &path, None, Some(body.clone()), &headers)
        .await;
    assert_eq!(second.status, 201, "{second:?}");
    assert_eq!(second.str("application_id"), first.str("application_id"));
    assert_eq!(second.position(), first.position());

    let other = application_body("inna.osoba@gops-b.pl", &nip(12), "JST");
    let mismatch = app
        .call_with("POST", &path, None, Some(other), &headers)
        .await;
    assert_eq!(mismatch.status, 422, "{mismatch:?}");

    let events = visit_events(&app, &visit).await;
    assert_eq!(
        of_type(&events, "ApplicationSubmitted").len(),
        1,
        "{events:?}"
    );
    let r = app.roster(&visit, &t, first.position()).await.body;
    assert_eq!(list(&r, "allocated").len(), 1, "{r}");

    // Without the key the same body is a new request: the e-mail already holds a live application.
    let again = app.call("POST", &path, None, Some(body)).await;
    assert_eq!(again.status, 409, "{again:?}");
}

#[tokio::test]
async fn promotion_looks_at_the_passed_over_after_the_waitlist() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    // Term 1: X (100) gets two seats, Z (102) one.
    let t1 = term1(&app, &visit, 3).await;
    let x1 = submit(&app, &visit, &t1, "x1@gmina-x.pl", 100).await;
    submit(&app, &visit, &t1, "x2@gmina-x.pl", 100).await;
    submit(&app, &visit, &t1, "z1@pes-z.pl", 102).await;
    app.close(&visit, &t1).await.position();
    // Term 2, 2 seats: x3 is capped, z2 and a1 take the seats, z3 is never reached and
    // waits although Z now holds two seats too.
    let t2 = term2(&app, &visit, 2).await;
    let x3 = submit(&app, &visit, &t2, "x3@gmina-x.pl", 100).await;
    let z2 = submit(&app, &visit, &t2, "z2@pes-z.pl", 102).await;
    let a1 = submit(&app, &visit, &t2, "a1@gops-a.pl", 106).await;
    let z3 = submit(&app, &visit, &t2, "z3@pes-z.pl", 102).await;
    let p = app.close(&visit, &t2).await.position();
    let r = app.roster(&visit, &t2, p).await.body;
    assert_eq!(list(&r, "allocated"), exp(&[(&z2, 2), (&a1, 3)]), "{r}");
    assert_eq!(list(&r, "waitlist"), exp(&[(&z3, 4)]), "{r}");
    assert_eq!(list(&r, "passed_over"), exp(&[(&x3, 1)]), "{r}");

    // X gives back a seat of term 1 (nobody waits there), so X is below the cap again.
    let rel = release(&app, &visit, &x1, "Rezygnacja").await;
    assert_eq!(rel.status, 200, "{rel:?}");
    let r1 = app.roster(&visit, &t1, rel.position()).await.body;
    assert_eq!(list(&r1, "allocated").len(), 2, "{r1}");
    // A seat of term 2 is freed: z3 (first waiting) is at the cap, x3 (passed over) is not.
    let rel = release(&app, &visit, &a1, "Zmiana terminu").await;
    assert_eq!(rel.status, 200, "{rel:?}");
    let r = app.roster(&visit, &t2, rel.position()).await.body;
    assert_eq!(list(&r, "allocated"), exp(&[(&x3, 1), (&z2, 2)]), "{r}");
    assert_eq!(entry(&r, &x3)["rule"], "promotion_below_cap", "{r}");
    assert_eq!(list(&r, "waitlist"), exp(&[(&z3, 4)]), "{r}");
    assert!(list(&r, "passed_over").is_empty(), "{r}");
    let v = app
        .get(
            &format!("/api/v1/audit/study-visits/{visit}/verify"),
            &app.evaluator,
        )
        .await;
    assert_eq!(v.body["consistent"], true, "{v:?}");
}

//! A crowd on one term: every acknowledged submission is recorded once, none is lost, no 5xx.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Instant;

use futures::future::join_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_submissions_to_one_term() {
    let app = tests::spawn().await;
    let (visit, term) = app.open_recruitment(Some(2), 25).await;

    const N: u32 = 200;
    let started = Instant::now();
    let answers = join_all((0..N).map(|i| {
        let app = &app;
        let (visit, term) = (visit.clone(), term.clone());
        async move {
            app.apply(
                &visit,
                &term,
                &format!("osoba{i}@example.org"),
                &tests::nip(1000 + i % 40),
                "JST",
            )
            .await
        }
    }))
    .await;
    let elapsed = started.elapsed();
    println!(
        "{N} concurrent submissions in {elapsed:.2?} = {:.0}/s",
        f64::from(N) / elapsed.as_secs_f64()
    );

    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(
        statuses.iter().all(|s| *s == 201),
        "every submission accepted: {:?}",
        answers.iter().find(|a| a.status != 201)
    );
    let acknowledged: HashSet<String> = answers.iter().map(|a| a.str("application_id")).collect();
    assert_eq!(acknowledged.len(), N as usize);
    let max_position = answers.iter().map(|a| a.position()).max().unwrap();

    // The store: exactly one ApplicationSubmitted per acknowledged application.
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload -> 'ApplicationSubmitted' ->> 'application_id' FROM events WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), N as usize, "no event lost or doubled");
    assert_eq!(stored.into_iter().collect::<HashSet<_>>(), acknowledged);

    // Group commit: the crowd shared transactions, yet each answer names its own event.
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT payload -> 'ApplicationSubmitted' ->> 'application_id', position, tx_id::text
           FROM events WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let positions: std::collections::HashMap<String, i64> =
        rows.iter().map(|(id, p, _)| (id.clone(), *p)).collect();
    for a in &answers {
        assert_eq!(positions[&a.str("application_id")], a.position());
    }
    let transactions: HashSet<&String> = rows.iter().map(|(_, _, tx)| tx).collect();
    println!("{N} submissions in {} transactions", transactions.len());
    assert!(
        transactions.len() < N as usize,
        "waiting commands were grouped"
    );
    // ... and each application's personal data, written for the whole group at once, sit
    // under the subject its event names, one per address.
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events e
           JOIN personal_data p
             ON p.application_id = (e.payload -> 'ApplicationSubmitted' ->> 'application_id')::uuid
          WHERE e.event_type = 'ApplicationSubmitted'
            AND p.subject_id::text <> e.payload -> 'ApplicationSubmitted' ->> 'subject_id'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        mismatched, 0,
        "personal data under another application's subject"
    );
    let (subjects, addresses): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT subject_id), count(DISTINCT email) FROM personal_data",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (subjects, addresses),
        (i64::from(N), i64::from(N)),
        "one subject per address"
    );

    // The roster: every acknowledged one, once, 25 seats then the waiting list / passed over.
    let roster = app.roster(&visit, &term, max_position).await;
    let mut in_roster = Vec::new();
    for list in ["allocated", "waitlist", "passed_over"] {
        for e in roster.body[list].as_array().unwrap() {
            in_roster.push(e["application_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(in_roster.len(), N as usize);
    assert_eq!(in_roster.into_iter().collect::<HashSet<_>>(), acknowledged);
    assert_eq!(roster.body["allocated"].as_array().unwrap().len(), 25);
}

/// One address applying to many visits and twice to each at the same instant: the first
/// application of an address creates its subject, every other one (a race between visits'
/// transactions, or two commands of one group commit) must end up with that same subject,
/// and so the second application to a visit is refused as the same person's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_applying_everywhere_at_once_has_one_subject() {
    let app = tests::spawn().await;
    let mut targets = Vec::new();
    for _ in 0..6 {
        targets.push(app.open_recruitment(Some(2), 5).await);
    }
    let answers = join_all((0..12u32).map(|i| {
        let (app, (visit, term)) = (&app, &targets[i as usize % 6]);
        async move {
            app.apply(
                visit,
                term,
                "ta.sama@example.org",
                &tests::nip(2000 + i),
                "JST",
            )
            .await
        }
    }))
    .await;
    for (visit, _) in &targets {
        let mut statuses: Vec<u16> = answers
            .iter()
            .zip((0..12).map(|i| &targets[i % 6].0))
            .filter(|(_, v)| *v == visit)
            .map(|(a, _)| a.status)
            .collect();
        statuses.sort();
        assert_eq!(statuses, [201, 409], "one accepted per visit: {answers:?}");
    }
    for a in answers.iter().filter(|a| a.status == 409) {
        assert_eq!(a.body["type"], "/problems/duplicate_application", "{a:?}");
    }
    let (subjects, rows): (i64, i64) =
        sqlx::query_as("SELECT count(DISTINCT subject_id), count(*) FROM personal_data")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (subjects, rows),
        (1, 6),
        "no personal data without its event"
    );
    let in_events: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT payload -> 'ApplicationSubmitted' ->> 'subject_id') FROM events
          WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(in_events, 1, "every event names the one subject");
}

//! Mail to applicants through a real SMTP server (aiosmtpd on loopback, `tests::MailServer`):
//! every mail of a recruitment arrives once with its content and link; the mail server
//! down for a while loses nothing and doubles nothing; a mail sent again carries the same
//! Message-ID; erasure stops mail; reminders are written for a seat and dropped with it; the
//! outbox shows what was decided without an address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use service::mail::send::RetryPolicy;
use service::startup::MailSettings;
use tests::{nip, spawn_with, MailServer, Options, Received, TestApp};

const PUBLIC_URL: &str = "https://wizyty.rops.example";

/// A service sending through `server`, retrying after `first_pause`.
async fn app_mailing_to(server: &MailServer, first_pause: Duration) -> TestApp {
    spawn_with(Options {
        mail: MailSettings {
            smtp_url: Some(server.url()),
            from: Some("ROPS Toruń <wizyty@rops.example>".into()),
            poll: Duration::from_millis(100),
            retry: RetryPolicy {
                first_pause,
                max_attempts: 50,
            },
            ..Default::default()
        },
        public_url: Some(PUBLIC_URL.into()),
        ..Options::default()
    })
    .await
}

const WAIT: Duration = Duration::from_secs(30);

/// Waits until `check` holds (polling), or fails the test.
async fn until<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let found = tests::eventually(WAIT, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await;
    assert!(
        found.is_some(),
        "the condition did not hold within {WAIT:?}"
    );
}

/// The mails to `address`.
fn to<'a>(mails: &'a [Received], address: &str) -> Vec<&'a Received> {
    mails
        .iter()
        .filter(|m| m.recipients.iter().any(|r| r == address))
        .collect()
}

async fn outbox(app: &TestApp, token: &str, query: &str) -> serde_json::Value {
    let a = app.get(&format!("/api/v1/mail/outbox{query}"), token).await;
    assert_eq!(a.status, 200, "{a:?}");
    a.body
}

#[tokio::test]
async fn every_mail_of_a_recruitment_arrives_once_with_its_content_and_link() {
    let server = MailServer::start().await;
    let app = app_mailing_to(&server, Duration::from_millis(200)).await;
    // Two seats, one per institution: A and C get seats, D waits, B is passed over.
    let (visit, term) = app.open_recruitment(Some(1), 2).await;
    let people = [
        ("anna@gmina-a.pl", nip(301)),
        ("bartek@gmina-a.pl", nip(301)),
        ("celina@gmina-c.pl", nip(303)),
        ("dawid@gmina-d.pl", nip(304)),
    ];
    let mut keys = Vec::new();
    for (email, nip) in &people {
        let a = app.apply(&visit, &term, email, nip, "JST").await;
        assert_eq!(a.status, 201, "{a:?}");
        keys.push((a.str("application_id"), a.str("applicant_key")));
    }
    app.close(&visit, &term).await;
    // A second term, cancelled with an applicant.
    let second = app
        .schedule_term(
            &visit,
            "II termin",
            5,
            "2030-07-10",
            &(chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
        )
        .await;
    app.open(&visit, &second).await;
    let e = app
        .apply(&visit, &second, "ewa@gmina-e.pl", &nip(305), "JST")
        .await;
    assert_eq!(e.status, 201, "{e:?}");
    let cancel = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{second}/cancel"),
            &app.coordinator,
            json!({"reason": "Za mało chętnych"}),
        )
        .await;
    assert_eq!(cancel.status, 200, "{cancel:?}");

    // 5 received, 2 qualified, 1 waiting list, 1 passed over, 1 term cancelled.
    server.wait_for(10, WAIT).await;
    // Nothing more arrives, nothing twice.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = server.messages();
    assert_eq!(
        mails.len(),
        10,
        "{:#?}",
        mails
            .iter()
            .map(|m| (&m.recipients, &m.subject))
            .collect::<Vec<_>>()
    );
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10, "every mail has its own Message-ID");

    let subjects = |address: &str| -> Vec<String> {
        let mut s: Vec<String> = to(&mails, address)
            .iter()
            .map(|m| m.subject.split(':').next().unwrap_or_default().to_owned())
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        subjects("anna@gmina-a.pl"),
        ["Masz miejsce", "Zgłoszenie przyjęte"]
    );
    assert_eq!(
        subjects("bartek@gmina-a.pl"),
        ["Limit osób z instytucji", "Zgłoszenie przyjęte"]
    );
    assert_eq!(
        subjects("celina@gmina-c.pl"),
        ["Masz miejsce", "Zgłoszenie przyjęte"]
    );
    assert_eq!(
        subjects("dawid@gmina-d.pl"),
        ["Lista rezerwowa", "Zgłoszenie przyjęte"]
    );
    assert_eq!(
        subjects("ewa@gmina-e.pl"),
        ["Termin odwołany", "Zgłoszenie przyjęte"]
    );

    // The confirmation links to the applicant's own page with their key, which opens it.
    let (anna_id, anna_key) = &keys[0];
    let received = to(&mails, "anna@gmina-a.pl")
        .into_iter()
        .find(|m| m.subject.starts_with("Zgłoszenie przyjęte"))
        .unwrap();
    let link = format!("{PUBLIC_URL}/zgloszenia/{anna_id}/{anna_key}");
    assert!(received.text.contains(&link), "{}", received.text);
    assert!(received
        .html
        .as_deref()
        .unwrap_or_default()
        .contains(&format!("href=\"{link}\"")));
    assert!(received.text.contains("Dzień dobry"), "{}", received.text);
    let page = app
        .http
        .get(format!("{}/zgloszenia/{anna_id}/{anna_key}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // A seat comes with the term as a calendar entry; the waiting list says the position;
    // the cancellation says why.
    let seat = to(&mails, "celina@gmina-c.pl")
        .into_iter()
        .find(|m| m.subject.starts_with("Masz miejsce"))
        .unwrap();
    let (kind, ics) = seat.attachments.first().expect("an .ics");
    assert_eq!(kind, "text/calendar");
    let ics = String::from_utf8_lossy(ics);
    assert!(ics.contains("DTSTART;VALUE=DATE:20300627"), "{ics}");
    let waiting = to(&mails, "dawid@gmina-d.pl")
        .into_iter()
        .find(|m| m.subject.starts_with("Lista rezerwowa"))
        .unwrap();
    assert!(waiting.text.contains("na miejscu 1"), "{}", waiting.text);
    let cancelled = to(&mails, "ewa@gmina-e.pl")
        .into_iter()
        .find(|m| m.subject.starts_with("Termin odwołany"))
        .unwrap();
    assert!(
        cancelled.text.contains("Za mało chętnych"),
        "{}",
        cancelled.text
    );

    // The outbox: every mail sent, reminders waiting for the seats, no address anywhere.
    let all = outbox(&app, &app.coordinator, "").await;
    assert_eq!(all["mail_enabled"], true);
    let entries = all["entries"].as_array().unwrap();
    let count = |kind: &str, status: &str| {
        entries
            .iter()
            .filter(|e| e["kind"] == kind && e["status"] == status)
            .count()
    };
    assert_eq!(count("application_received", "sent"), 5);
    assert_eq!(count("qualified", "sent"), 2);
    assert_eq!(count("reminder", "pending"), 2, "{all}");
    assert!(!all.to_string().contains('@'), "{all}");
    let sent = outbox(&app, &app.admin, "?status=sent").await;
    assert_eq!(sent["entries"].as_array().unwrap().len(), 10);
    let other = outbox(&app, &app.other_coordinator, "").await;
    assert_eq!(
        other["entries"],
        json!([]),
        "another organizer's outbox is not mine"
    );
    let evaluator = app.get("/api/v1/mail/outbox", &app.evaluator).await;
    assert_eq!(evaluator.status, 403);

    // A seat given up takes its reminder with it.
    let withdraw = app
        .call_with(
            "POST",
            &format!("/api/v1/applications/{anna_id}/withdraw"),
            None,
            None,
            &[("x-applicant-key", anna_key)],
        )
        .await;
    assert_eq!(withdraw.status, 200, "{withdraw:?}");
    until(|| async {
        let dropped = outbox(&app, &app.coordinator, "?status=dropped").await;
        dropped["entries"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["kind"] == "reminder" && e["application_id"] == anna_id.as_str())
        })
    })
    .await;
}

/// Applications from `osoba{i}@gmina.pl`, each of its own institution.
async fn apply_numbered(app: &TestApp, visit: &str, term: &str, range: std::ops::Range<u32>) {
    for i in range {
        let email = format!("osoba{i}@gmina.pl");
        let a = app.apply(visit, term, &email, &nip(400 + i), "JST").await;
        assert_eq!(a.status, 201, "{a:?}");
    }
}

#[tokio::test]
async fn a_mail_server_away_for_a_while_loses_nothing_and_doubles_nothing() {
    // It refuses the first two messages with a temporary error, then goes away entirely.
    let mut server = MailServer::start_failing_first(2).await;
    let app = app_mailing_to(&server, Duration::from_millis(200)).await;
    let (visit, term) = app.open_recruitment(None, 10).await;
    apply_numbered(&app, &visit, &term, 0..3).await;
    server.wait_for(1, WAIT).await;
    server.stop();
    apply_numbered(&app, &visit, &term, 3..6).await;
    // While it is away, attempts fail and are recorded, and nothing is given up.
    until(|| async {
        let pending = outbox(&app, &app.admin, "?status=pending").await;
        pending["entries"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["attempts"].as_i64() > Some(0) && e["last_error"].is_string())
        })
    })
    .await;
    server.restart().await;
    server.wait_for(6, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = server.messages();
    assert_eq!(
        mails.len(),
        6,
        "each once: {:?}",
        mails.iter().map(|m| &m.recipients).collect::<Vec<_>>()
    );
    for i in 0..6 {
        assert_eq!(to(&mails, &format!("osoba{i}@gmina.pl")).len(), 1);
    }
    let failed = outbox(&app, &app.admin, "?status=failed").await;
    assert_eq!(failed["entries"], json!([]));

    // A crash between the server accepting a mail and the outbox noting it: the mail goes
    // again, with the same Message-ID, so the copy is recognisable.
    let first = mails[0].message_id.clone();
    let mail_id = first.split('@').next().unwrap().to_owned();
    sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', sent_at = NULL WHERE mail_id = $1::uuid",
    )
    .bind(&mail_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let mails = server.wait_for(7, WAIT).await;
    assert_eq!(mails[6].message_id, first);
}

#[tokio::test]
async fn an_erased_person_gets_no_more_mail_and_sent_rows_keep_no_address() {
    let mut server = MailServer::start().await;
    let app = app_mailing_to(&server, Duration::from_millis(200)).await;
    server.stop();
    let (visit, term) = app.open_recruitment(None, 10).await;
    let a = app
        .apply(&visit, &term, "zapomnij@gmina.pl", &nip(501), "JST")
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let b = app
        .apply(&visit, &term, "zostaje@gmina.pl", &nip(502), "JST")
        .await;
    assert_eq!(b.status, 201, "{b:?}");
    until(|| async {
        let pending = outbox(&app, &app.admin, "?status=pending").await;
        pending["entries"].as_array().is_some_and(|e| e.len() == 2)
    })
    .await;
    let erased = app
        .post(
            "/api/v1/personal-data/erasure",
            &app.admin,
            json!({"email": "zapomnij@gmina.pl"}),
        )
        .await;
    assert_eq!(erased.status, 200, "{erased:?}");
    server.restart().await;
    server.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = server.messages();
    assert_eq!(
        mails.len(),
        1,
        "{:?}",
        mails.iter().map(|m| &m.recipients).collect::<Vec<_>>()
    );
    assert_eq!(mails[0].recipients, ["zostaje@gmina.pl"]);
    let dropped = outbox(&app, &app.admin, "?status=dropped").await;
    let dropped = dropped["entries"].as_array().unwrap();
    assert_eq!(dropped.len(), 1);
    assert_eq!(
        dropped[0]["application_id"],
        a.str("application_id").as_str()
    );
    // No address in the outbox table at all, sent or not.
    let text: String =
        sqlx::query_scalar("SELECT coalesce(string_agg(t::text, ' '), '') FROM mail_outbox t")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!text.contains('@'), "{text}");
}

#[tokio::test]
async fn a_thousand_submissions_get_a_thousand_confirmations() {
    let server = MailServer::start().await;
    let app = app_mailing_to(&server, Duration::from_millis(200)).await;
    let (visit, term) = app.open_recruitment(None, 1000).await;
    let mut set = tokio::task::JoinSet::new();
    let app = std::sync::Arc::new(app);
    for i in 0..1000u32 {
        let app = app.clone();
        let (visit, term) = (visit.clone(), term.clone());
        set.spawn(async move {
            app.apply(
                &visit,
                &term,
                &format!("t{i}@gmina.pl"),
                &nip(10_000 + i),
                "JST",
            )
            .await
            .status
        });
        if set.len() >= 32 {
            assert_eq!(set.join_next().await.unwrap().unwrap(), 201);
        }
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), 201);
    }
    let mails = server.wait_for(1000, Duration::from_secs(180)).await;
    let mut recipients: Vec<&str> = mails
        .iter()
        .flat_map(|m| m.recipients.iter().map(String::as_str))
        .collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert_eq!(recipients.len(), 1000);
    assert_eq!(mails.len(), 1000);
}

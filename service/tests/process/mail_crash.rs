//! The real binary killed while a mail is being sent: the mail server has the message but
//! the service never heard so (the server holds its answer). After the restart the outbox
//! row is still pending, so the mail goes again — with the same `Message-ID`, which lets the
//! recipient's mail system (or a person) recognise the copy — and is then recorded once.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tests::{application_body, database_url, nip, MailServer};

use crate::common::{self, coordinator_token, open_term, serve_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_sending_the_mail_goes_again_with_the_same_message_id() {
    let _alone = common::alone().await;
    let server = MailServer::start_holding_first_reply(60).await;
    let db = database_url("kdn_mailkill");
    let _drop_db = tests::DropDatabase::new(&db);
    let token = coordinator_token(&db);
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = server.url();
    let flags = [
        "--smtp-url",
        url.as_str(),
        "--mail-from",
        "ROPS <wizyty@rops.example>",
    ];
    let mut child = serve_with(&db, port, &flags);
    common::wait_healthy(&http, &base).await;
    let deadline = chrono::Utc::now() + chrono::Duration::hours(1);
    let (visit, term) = open_term(&http, &base, &token, 10, deadline).await;
    let (status, _) = common::post(
        &http,
        format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications"),
        None,
        &[],
        application_body("zofia@gmina.pl", &nip(901), "JST"),
    )
    .await
    .unwrap();
    assert_eq!(status, 201);

    // The server has the message; its answer is held: the service is mid-send. Kill it.
    let first = server.wait_for(1, Duration::from_secs(30)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = serve_with(&db, port, &flags);
    common::wait_healthy(&http, &base).await;
    let both = server.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].message_id, first[0].message_id);
    assert_eq!(
        both[1].message_id, both[0].message_id,
        "the resend carries the same Message-ID"
    );
    assert_eq!(both[1].recipients, ["zofia@gmina.pl"]);

    // Recorded as sent, once; nothing more goes.
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let sent = tests::eventually(Duration::from_secs(15), || async {
        let rows: Vec<(String, i32)> = sqlx::query_as("SELECT status, attempts FROM mail_outbox")
            .fetch_all(&pool)
            .await
            .unwrap();
        (rows.len() == 1 && rows[0].0 == "sent").then_some(rows)
    })
    .await;
    assert!(sent.is_some(), "the outbox row was not recorded as sent");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.messages().len(), 2, "nothing more");
    pool.close().await;
    child.kill().unwrap();
    child.wait().unwrap();
}

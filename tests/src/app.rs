//! A running service under test and how the tests talk to it: [`spawn`] starts one over a
//! fresh database, [`TestApp`] sends requests as the seed's users and performs the common
//! steps of a recruitment, [`Answer`] is what came back.

use std::sync::Arc;
use std::time::Duration;

use domain::services::{Clock, FixedClock};
use infra::tokens::{self, Role};
use serde_json::{json, Value};
use service::http::state::SystemClock;
use service::startup::{self, Running, Settings};
use sqlx::PgPool;

use crate::database::{fresh_database_url, DropDatabase};
use crate::fixtures::{application_body, instant, visit_body};

/// A running service over its own database.
pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub running: Running,
    /// Tokens: an admin, a coordinator of `rops-torun`, one of `rops-olsztyn`, an evaluator of `rops-torun`.
    pub admin: String,
    pub coordinator: String,
    pub other_coordinator: String,
    pub evaluator: String,
    /// Drops the database at the end of the test when this app made it (last: after the
    /// service and its pool). None when the test named the database (it owns it).
    pub owned_database: Option<DropDatabase>,
}

/// Options of [`spawn_with`].
pub struct Options {
    pub clock: Arc<dyn Clock>,
    pub read_wait: Duration,
    pub database_url: Option<String>,
    /// Public submissions per minute per client address (0: no limit). Off by default:
    /// tests submit hundreds of applications from 127.0.0.1.
    pub submission_rate_limit: u32,
    /// Submissions one client may send at once before the rate applies.
    pub submission_burst: u32,
    /// Bearer token `/metrics` wants (None: open).
    pub metrics_token: Option<String>,
    /// Largest projection lag in events at which `/ready` answers 200.
    pub ready_max_lag: i64,
    /// Longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// Mail: off by default (mails wait in the outbox); a test with a mail server sets
    /// `smtp_url` and `from`, and short pauses.
    pub mail: startup::MailSettings,
    /// The site's public address (the links in mails).
    pub public_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            // Longer than the service's 5 s: a test must not fail because another database on
            // the server briefly held back the commit-order horizon of the feed.
            read_wait: Duration::from_secs(15),
            database_url: None,
            submission_rate_limit: 0,
            submission_burst: 1,
            metrics_token: None,
            ready_max_lag: Settings::new("", "").ready_max_lag,
            header_read_timeout: Settings::new("", "").header_read_timeout,
            mail: startup::MailSettings {
                poll: Duration::from_millis(100),
                ..Default::default()
            },
            public_url: None,
        }
    }
}

/// Starts a service with the wall clock.
pub async fn spawn() -> TestApp {
    spawn_with(Options::default()).await
}

/// Starts a service whose clock the test controls.
pub async fn spawn_at(clock: Arc<FixedClock>) -> TestApp {
    spawn_with(Options {
        clock,
        ..Options::default()
    })
    .await
}

/// A service whose clock stands at 15 June 2022, the day seed 000 announced the visit,
/// before both of its recruitment deadlines.
pub async fn spawn_at_seed_000() -> (TestApp, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(instant("2022-06-15T08:00:00Z")));
    (spawn_at(clock.clone()).await, clock)
}

/// Starts a service with `options`.
pub async fn spawn_with(options: Options) -> TestApp {
    let owned = options.database_url.is_none();
    let database_url = options.database_url.unwrap_or_else(fresh_database_url);
    let mut settings = Settings::new(database_url.clone(), "127.0.0.1:0");
    settings.deadline_poll = Duration::from_millis(100);
    settings.projection_poll = Duration::from_millis(50);
    settings.read_wait = options.read_wait;
    settings.max_connections = 10;
    settings.submission_rate_limit = options.submission_rate_limit;
    settings.submission_burst = options.submission_burst;
    settings.metrics_token = options.metrics_token;
    settings.ready_max_lag = options.ready_max_lag;
    settings.header_read_timeout = options.header_read_timeout;
    settings.mail = options.mail;
    settings.site.public_url = options.public_url;
    let running = startup::start(&settings, options.clock)
        .await
        .expect("service starts");
    let pool = running.state.pool.clone();
    let issue = |role, org: Option<&'static str>| {
        let pool = pool.clone();
        async move {
            tokens::issue(&pool, role, org, "test")
                .await
                .expect("token")
                .1
        }
    };
    let admin = issue(Role::Admin, None).await;
    let coordinator = issue(Role::Coordinator, Some("rops-torun")).await;
    let other_coordinator = issue(Role::Coordinator, Some("rops-olsztyn")).await;
    let evaluator = issue(Role::Evaluator, Some("rops-torun")).await;
    let owned_database = owned.then(|| DropDatabase::new(&database_url));
    TestApp {
        base: format!("http://{}", running.addr),
        database_url,
        pool,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        running,
        admin,
        coordinator,
        other_coordinator,
        evaluator,
        owned_database,
    }
}

/// An HTTP answer: status and JSON body (Null when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// Reads a response whole: its status, headers and body (as JSON when it is JSON),
    /// after holding it to the OpenAPI document (`crate::contract`): a test fails on an
    /// answer the document does not describe.
    async fn read(method: &str, path: &str, res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if let Err(e) = crate::contract::check(method, path, status, content_type, &text) {
            panic!("the answer disagrees with the OpenAPI document: {e}");
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
        }
    }

    /// The `Content-Type` header ("" when there is none or it is not text).
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// `body[key]` as a string (panics with the whole answer when missing: a test failure).
    pub fn str(&self, key: &str) -> String {
        self.body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string {key} in {self:?}"))
            .to_owned()
    }

    /// `body.position`.
    pub fn position(&self) -> i64 {
        self.body["position"]
            .as_i64()
            .unwrap_or_else(|| panic!("no position in {self:?}"))
    }
}

impl TestApp {
    /// Sends a request with an optional token and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_with(method, path, token, body, &[]).await
    }

    /// [`call`](Self::call) with extra headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(verb, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Answer::read(method, path, req.send().await.expect("request sent")).await
    }

    /// Sends `body` as it is, with `content_type`: what [`call`](Self::call) cannot send
    /// (a CSV upload, unparsable or oversized JSON).
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let verb = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(verb, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Answer::read(method, path, req.send().await.expect("request sent")).await
    }

    /// GETs a document that is not JSON (an export, a CSV, a calendar) with a token: its
    /// status, content type and bytes as sent.
    pub async fn download(&self, path: &str, token: &str) -> (u16, String, Vec<u8>) {
        let res = self.get_response(path, token).await;
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("a text content type").to_owned())
            .unwrap_or_default();
        let bytes = res.bytes().await.expect("body").to_vec();
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = crate::contract::check("GET", path, status, &ct, &text) {
            panic!("the answer disagrees with the OpenAPI document: {e}");
        }
        (status, ct, bytes)
    }

    /// GETs a document that is not JSON with a token: its status and text, decoded as a
    /// client would (a UTF-8 byte-order mark is dropped).
    pub async fn get_text(&self, path: &str, token: &str) -> (u16, String) {
        let res = self.get_response(path, token).await;
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = res.text().await.expect("body");
        if let Err(e) = crate::contract::check("GET", path, status, &ct, &text) {
            panic!("the answer disagrees with the OpenAPI document: {e}");
        }
        (status, text)
    }

    async fn get_response(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None).await
    }

    /// POST with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// Announces the seed's visit (JST, JOPS, PES, OWES; cap 2; two preferences) as the
    /// `rops-torun` coordinator and returns its id.
    pub async fn announce_visit(&self, max_per_institution: Option<u32>) -> String {
        let a = self
            .post(
                "/api/v1/study-visits",
                &self.coordinator,
                visit_body(max_per_institution),
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        a.str("id")
    }

    /// Schedules a dated term and returns its id.
    pub async fn schedule_term(
        &self,
        visit: &str,
        label: &str,
        seats: u32,
        starts_on: &str,
        deadline: &str,
    ) -> String {
        let ends_on = starts_on;
        let a = self
            .post(
                &format!("/api/v1/study-visits/{visit}/terms"),
                &self.coordinator,
                json!({"label": label, "starts_on": starts_on, "ends_on": ends_on, "seats": seats, "recruitment_deadline": deadline}),
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        a.str("term_id")
    }

    /// Opens a term's recruitment.
    pub async fn open(&self, visit: &str, term: &str) -> Answer {
        let a = self
            .post(
                &format!("/api/v1/study-visits/{visit}/terms/{term}/open"),
                &self.coordinator,
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        a
    }

    /// Closes a term's recruitment by hand (as its coordinator).
    pub async fn close(&self, visit: &str, term: &str) -> Answer {
        let a = self
            .post(
                &format!("/api/v1/study-visits/{visit}/terms/{term}/close"),
                &self.coordinator,
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        a
    }

    /// A new visit of the seed (see [`announce_visit`](Self::announce_visit)) with one
    /// one-day term "I termin" of `seats` on `starts_on`, open until `deadline`:
    /// (visit id, term id).
    pub async fn open_term(
        &self,
        max_per_institution: Option<u32>,
        seats: u32,
        starts_on: &str,
        deadline: &str,
    ) -> (String, String) {
        let visit = self.announce_visit(max_per_institution).await;
        let term = self
            .schedule_term(&visit, "I termin", seats, starts_on, deadline)
            .await;
        self.open(&visit, &term).await;
        (visit, term)
    }

    /// A new visit with one term of `seats` whose recruitment is open until an hour from now
    /// (on the real clock): (visit id, term id).
    pub async fn open_recruitment(
        &self,
        max_per_institution: Option<u32>,
        seats: u32,
    ) -> (String, String) {
        let deadline = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        self.open_term(max_per_institution, seats, "2030-06-27", &deadline)
            .await
    }

    /// Submits an application from `email` at the institution with `nip`.
    pub async fn apply(
        &self,
        visit: &str,
        term: &str,
        email: &str,
        nip: &str,
        kind: &str,
    ) -> Answer {
        self.call(
            "POST",
            &format!("/api/v1/study-visits/{visit}/terms/{term}/applications"),
            None,
            Some(application_body(email, nip, kind)),
        )
        .await
    }

    /// The roster, read after `min_position`.
    pub async fn roster(&self, visit: &str, term: &str, min_position: i64) -> Answer {
        let a = self
            .get(
                &format!(
                    "/api/v1/study-visits/{visit}/terms/{term}/roster?min_position={min_position}"
                ),
                &self.coordinator,
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        a
    }

    /// Every event committed so far, in commit order, through the audit API. `min_position`
    /// names the event of the newest transaction: once it is in the history, every event
    /// committed before this call is (positions alone would not do: they follow INSERT order).
    pub async fn all_events(&self) -> Vec<Value> {
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .expect("newest event");
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let a = self
                .get(
                    &format!(
                        "/api/v1/audit/events?after={after}&limit=1000&min_position={}",
                        newest.unwrap_or(0)
                    ),
                    &self.admin,
                )
                .await;
            assert_eq!(a.status, 200, "{a:?}");
            let events = a.body["events"].as_array().cloned().unwrap_or_default();
            if events.is_empty() {
                return out;
            }
            after = a.body["next_after"].as_i64().expect("next_after");
            out.extend(events);
        }
    }
}

/// `a`, after checking its status (the whole answer is shown when it differs).
pub fn expect(a: Answer, status: u16) -> Answer {
    assert_eq!(a.status, status, "{a:?}");
    a
}

/// Events stored, counted in the table itself: what "a refused command wrote nothing" means.
pub async fn event_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .expect("events counted")
}

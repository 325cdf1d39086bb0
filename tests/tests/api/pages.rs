//! The public pages through HTTP, as a browser without JavaScript uses them (PAGES.md): the
//! open recruitments, a visit, the application form and its GOV.UK error pattern, the
//! applicant's page and withdrawal; and what keeps them safe — the CSRF token (403 and nothing
//! recorded without it), the form key (a form sent twice records once), the honeypot, the
//! headers of pages that show a key or personal data. The browser check
//! (`scripts/screenshots.py`) walks the same flow with the keyboard and axe-core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use domain::services::FixedClock;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::redirect::Policy;
use tests::{event_count, instant, nip, spawn_at, TestApp};

/// A browser: a client that does not follow redirects, with the CSRF cookie it was given.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// A page as the browser got it.
struct Page {
    status: u16,
    headers: HeaderMap,
    html: String,
}

impl Page {
    /// The value of the hidden input `name`.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.html))
            + marker.len();
        self.html[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn assert_private(&self) {
        assert_eq!(self.header("cache-control"), "no-store");
        assert_eq!(self.header("referrer-policy"), "no-referrer");
        assert_eq!(self.header("x-robots-tag"), "noindex");
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookie: None,
        }
    }

    async fn read(&mut self, res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        if let Some(c) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            self.cookie = c.split(';').next().map(str::to_owned);
        }
        let html = res.text().await.unwrap();
        Page {
            status,
            headers,
            html,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        self.read(res).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        self.read(res).await
    }
}

/// The person's part of a valid form.
fn filled<'a>(nip: &'a str, email: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("first_name", "Zofia"),
        ("last_name", "Wiśniewska"),
        ("email", email),
        ("phone", ""),
        ("job_title", "specjalistka"),
        ("institution_name", "Gmina Przykładowa"),
        ("institution_type", "JST"),
        ("nip", nip),
        ("regon", ""),
        ("consent", "true"),
    ]
}

async fn app_with_open_term() -> (TestApp, Arc<FixedClock>, String, String) {
    let clock = Arc::new(FixedClock::new(instant("2022-06-20T09:00:00Z")));
    let app = spawn_at(clock.clone()).await;
    let (visit, term) = app
        .open_term(Some(2), 25, "2022-06-27", "2022-06-23T11:00:00+02:00")
        .await;
    // The pages read the read models: let them record the opening first.
    let last: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let read = app
        .get(
            &format!("/api/v1/study-visits/{visit}?min_position={last}"),
            &app.coordinator,
        )
        .await;
    assert_eq!(read.status, 200);
    (app, clock, visit, term)
}

#[tokio::test]
async fn an_applicant_applies_sees_their_status_and_withdraws_without_javascript() {
    let (app, _clock, visit, term) = app_with_open_term().await;
    let mut b = Browser::new(&app);

    // The open recruitments link to the visit and its form; the visit shows its terms.
    let list = b.get("/wizyty").await;
    assert_eq!(list.status, 200);
    let form_path = format!("/wizyty/{visit}/terminy/{term}/zgloszenie");
    assert!(list.html.contains(&form_path), "{}", list.html);
    assert!(list.html.contains("<html lang=\"pl\">"));
    assert!(list
        .header("content-security-policy")
        .contains("frame-ancestors 'none'"));
    assert!(!list
        .header("content-security-policy")
        .contains("unsafe-inline"));
    assert_eq!(list.header("x-content-type-options"), "nosniff");
    let page = b.get(&format!("/wizyty/{visit}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("23 czerwca 2022 r., 11:00"),
        "the deadline as people write it"
    );
    assert!(page.html.contains("27 czerwca 2022 r."));

    // The form: a CSRF cookie, its token and a form key, every binding field name.
    let form = b.get(&form_path).await;
    assert_eq!(form.status, 200);
    form.assert_private();
    assert!(b
        .cookie
        .as_deref()
        .is_some_and(|c| c.starts_with("kdn_csrf=")));
    for name in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "institution_name",
        "institution_type",
        "nip",
        "regon",
        "consent",
    ] {
        assert!(
            form.html.contains(&format!("name=\"{name}\"")),
            "no field {name}"
        );
    }
    assert!(form
        .html
        .contains("Informacja o przetwarzaniu danych osobowych"));
    let csrf = form.hidden("csrf");
    let key = form.hidden("form_key");
    let before = event_count(&app).await;

    // The empty form: 422, an error summary linking to every field, each field marked.
    let empty = b
        .post(&form_path, &[("csrf", &csrf), ("form_key", &key)])
        .await;
    assert_eq!(empty.status, 422);
    empty.assert_private();
    assert!(empty.html.contains("id=\"bledy\""));
    for id in [
        "first_name",
        "last_name",
        "email",
        "institution_name",
        "institution_type",
        "nip",
        "consent",
    ] {
        assert!(
            empty.html.contains(&format!("href=\"#{id}\"")),
            "no summary link to {id}"
        );
        assert!(
            empty.html.contains(&format!("id=\"{id}-blad\"")),
            "no message beside {id}"
        );
    }
    assert!(empty.html.contains("aria-invalid=\"true\""));
    assert!(
        empty.html.contains("<title>Błąd: "),
        "the title says there is an error"
    );
    assert_eq!(event_count(&app).await, before, "nothing recorded");

    // Typed values are kept when the page comes back with errors.
    let bad_nip = tests::bad_nip(3);
    let mut fields = filled(&bad_nip, "zofia@gmina-przykladowa.pl");
    fields.push(("csrf", &csrf));
    fields.push(("form_key", &key));
    let wrong = b.post(&form_path, &fields).await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.html.contains("value=\"Wiśniewska\""),
        "typed values are kept"
    );
    assert!(wrong.html.contains(&format!("value=\"{bad_nip}\"")));
    assert!(wrong.html.contains("href=\"#nip\""));
    assert!(
        !wrong.html.contains("href=\"#first_name\""),
        "only the wrong field"
    );
    assert_eq!(event_count(&app).await, before);

    // Sent right: 303 to the applicant's own page, whose address holds their key.
    let good_nip = nip(7);
    let mut fields = filled(&good_nip, "zofia@gmina-przykladowa.pl");
    fields.push(("csrf", &csrf));
    let second_key = format!("{key}-2");
    fields.push(("form_key", &second_key));
    let sent = b.post(&form_path, &fields).await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    let own = sent.header("location").to_owned();
    assert!(own.starts_with("/zgloszenia/"), "{own}");
    let after = event_count(&app).await;
    assert_eq!(after, before + 1, "one application");

    // The same form sent again (a double click): the same page, nothing more recorded.
    let again = b.post(&form_path, &fields).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.header("location"), own);
    assert_eq!(event_count(&app).await, after);

    // The applicant's page: the status in Polish, what was recorded.
    let mine = b.get(&own).await;
    assert_eq!(mine.status, 200);
    mine.assert_private();
    assert!(mine.html.contains("Zgłoszenie przyjęte"));
    assert!(mine.html.contains("złożone"));
    assert!(mine.html.contains("Gmina Przykładowa"));
    let base_own = own.split('?').next().unwrap().to_owned();

    // Withdrawal: a confirmation step, then the page says it is withdrawn.
    let confirm = b.get(&format!("{base_own}/wycofanie")).await;
    assert_eq!(confirm.status, 200);
    confirm.assert_private();
    let token = confirm.hidden("csrf");
    let refused = b
        .post(&format!("{base_own}/wycofanie"), &[("csrf", "nie-ten")])
        .await;
    assert_eq!(refused.status, 403, "without its token nothing changes");
    assert_eq!(event_count(&app).await, after);
    let withdrawn = b
        .post(&format!("{base_own}/wycofanie"), &[("csrf", &token)])
        .await;
    assert_eq!(withdrawn.status, 303);
    let back = withdrawn.header("location").to_owned();
    assert!(back.starts_with(&base_own), "{back}");
    let mine = b.get(&back).await;
    assert!(mine.html.contains("wycofane"), "{}", mine.html);
    assert!(!mine.html.contains("/wycofanie\""), "no second withdrawal");

    // A wrong key is a page that does not exist.
    let (prefix, _) = base_own.rsplit_once('/').unwrap();
    let other = b.get(&format!("{prefix}/zly-klucz")).await;
    assert_eq!(other.status, 404);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_or_with_the_honeypot_records_nothing() {
    let (app, _clock, visit, term) = app_with_open_term().await;
    let form_path = format!("/wizyty/{visit}/terminy/{term}/zgloszenie");
    let before = event_count(&app).await;
    let n = nip(11);

    // Another site posting the form: no cookie, no token.
    let mut stranger = Browser::new(&app);
    let mut fields = filled(&n, "obcy@example.org");
    fields.push(("form_key", "k1"));
    let forged = stranger.post(&form_path, &fields).await;
    assert_eq!(forged.status, 403);

    // A token of another browser's cookie.
    let mut b = Browser::new(&app);
    let form = b.get(&form_path).await;
    let mut other = Browser::new(&app);
    other.get(&form_path).await;
    let mut fields = filled(&n, "ktos@example.org");
    let csrf = form.hidden("csrf");
    fields.push(("csrf", &csrf));
    fields.push(("form_key", "k2"));
    let crossed = other.post(&form_path, &fields).await;
    assert_eq!(crossed.status, 403);

    // The honeypot filled (a bot): refused, nothing recorded.
    fields.push(("website", "http://spam.example"));
    let bot = b.post(&form_path, &fields).await;
    assert_eq!(bot.status, 400);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn after_the_deadline_the_form_says_so_and_a_late_submission_is_refused() {
    let (app, clock, visit, term) = app_with_open_term().await;
    let form_path = format!("/wizyty/{visit}/terminy/{term}/zgloszenie");
    let mut b = Browser::new(&app);
    let form = b.get(&form_path).await;
    let csrf = form.hidden("csrf");
    let key = form.hidden("form_key");

    // The deadline passes while the form is open in the browser.
    clock.set(instant("2022-06-23T09:00:01Z"));
    let closed = b.get(&form_path).await;
    assert_eq!(closed.status, 200);
    assert!(
        closed
            .html
            .contains("Termin zgłoszeń minął 23 czerwca 2022 r., 11:00"),
        "{}",
        closed.html
    );
    let n = nip(21);
    let mut fields = filled(&n, "spozniona@example.org");
    fields.push(("csrf", &csrf));
    fields.push(("form_key", &key));
    let late = b.post(&form_path, &fields).await;
    assert_eq!(late.status, 409, "{}", late.html);
    assert!(late.html.contains("23 czerwca 2022 r., 11:00"));
}

#[tokio::test]
async fn the_accessibility_statement_and_the_assets_are_served() {
    let (app, _clock, _visit, _term) = app_with_open_term().await;
    let mut b = Browser::new(&app);
    let statement = b.get("/deklaracja-dostepnosci").await;
    assert_eq!(statement.status, 200);
    assert!(statement.html.contains("Deklaracja dostępności"));
    let css = b.get("/static/strony.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    let js = b.get("/static/strony.js").await;
    assert!(js.header("content-type").starts_with("text/javascript"));
    let missing = b.get("/wizyty/nie-ma-takiej").await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("content-type").starts_with("text/html"));
}

/// The visit's information clause as the API shows it, read after `position`.
async fn clause_of(app: &TestApp, visit: &str, position: i64) -> serde_json::Value {
    let path = format!("/api/v1/study-visits/{visit}?min_position={position}");
    let detail = app.get(&path, &app.coordinator).await;
    assert_eq!(detail.status, 200, "{detail:?}");
    detail.body["information_clause"].clone()
}

/// The clause versions the applications recorded, in commit order.
async fn recorded_clauses(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT payload -> 'ApplicationSubmitted' -> 'consent' ->> 'information_clause'
           FROM events WHERE event_type = 'ApplicationSubmitted' ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// The version the form shows in its hidden field, with the form's other hidden values.
fn with_hidden<'a>(
    mut fields: Vec<(&'static str, &'a str)>,
    csrf: &'a str,
    key: &'a str,
    clause: &'a str,
) -> Vec<(&'static str, &'a str)> {
    fields.push(("csrf", csrf));
    fields.push(("form_key", key));
    fields.push(("information_clause", clause));
    fields
}

#[tokio::test]
async fn each_visit_shows_its_own_information_clause_and_applications_record_its_version() {
    let (app, _clock, visit, term) = app_with_open_term().await;
    let mut b = Browser::new(&app);
    let form_path = format!("/wizyty/{visit}/terminy/{term}/zgloszenie");

    // No clause of its own: the default, naming the organizer, version 2026-01.
    let detail = app
        .get(&format!("/api/v1/study-visits/{visit}"), &app.coordinator)
        .await;
    assert_eq!(detail.body["information_clause"]["version"], "2026-01");
    assert_eq!(detail.body["information_clause"]["default"], true);
    let form = b.get(&form_path).await;
    assert_eq!(form.hidden("information_clause"), "2026-01");
    assert!(form
        .html
        .contains("Administratorem Twoich danych osobowych jest organizator wizyty"));

    // The coordinator sets the clause of the visit's own controller.
    let set = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/information-clause"),
            Some(&app.coordinator),
            Some(serde_json::json!({
                "version": "ROPS-2022-06",
                "text": "Administratorem danych jest Regionalny Ośrodek Polityki Społecznej w Toruniu.\n\nInspektor ochrony danych: iod@rops.example.",
            })),
        )
        .await;
    assert_eq!(set.status, 200, "{set:?}");
    let shown = clause_of(&app, &visit, set.position()).await;
    assert_eq!(shown["version"], "ROPS-2022-06");
    assert_eq!(shown["default"], false);

    // The form opened before the change is refused when sent: 409, the new text shown in
    // full, consent to give again, nothing recorded.
    let csrf = form.hidden("csrf");
    let key = form.hidden("form_key");
    let before = event_count(&app).await;
    let nip_a = nip(11);
    let stale = b
        .post(
            &form_path,
            &with_hidden(filled(&nip_a, "anna@gmina.pl"), &csrf, &key, "2026-01"),
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.html);
    assert!(stale
        .html
        .contains("Regionalny Ośrodek Polityki Społecznej w Toruniu"));
    assert!(
        stale
            .html
            .contains("<p>Inspektor ochrony danych: iod@rops.example.</p>"),
        "paragraphs kept"
    );
    assert!(
        stale.html.contains("zmienił klauzulę informacyjną"),
        "{}",
        stale.html
    );
    assert!(stale.html.contains("href=\"#consent\""));
    assert!(
        stale.html.contains("value=\"anna@gmina.pl\""),
        "typed values are kept"
    );
    assert_eq!(stale.hidden("information_clause"), "ROPS-2022-06");
    assert_eq!(event_count(&app).await, before);

    // Accepted now: the application records the version the applicant read.
    let sent = b
        .post(
            &form_path,
            &with_hidden(filled(&nip_a, "anna@gmina.pl"), &csrf, &key, "ROPS-2022-06"),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    let recorded = recorded_clauses(&app).await;
    assert_eq!(recorded, vec!["ROPS-2022-06".to_owned()]);

    // The JSON API: without a version, the visit's current one is recorded; an old one is
    // refused with its code.
    let mut body = tests::application_body("jan@gmina.pl", &nip(12), "JST");
    let applications = format!("/api/v1/study-visits/{visit}/terms/{term}/applications");
    let a = app
        .call("POST", &applications, None, Some(body.clone()))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    body["person"]["email"] = "ewa@gmina.pl".into();
    body["information_clause"] = "2026-01".into();
    let old = app.call("POST", &applications, None, Some(body)).await;
    assert_eq!(old.status, 409, "{old:?}");
    assert_eq!(old.body["type"], "/problems/information_clause_changed");
    let recorded = recorded_clauses(&app).await;
    assert_eq!(
        recorded,
        vec!["ROPS-2022-06".to_owned(), "ROPS-2022-06".to_owned()]
    );

    // A version names one text: another text under it is refused, naming the field.
    let reuse = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/information-clause"),
            Some(&app.coordinator),
            Some(serde_json::json!({"version": "ROPS-2022-06", "text": "Inna treść."})),
        )
        .await;
    assert_eq!(reuse.status, 422, "{reuse:?}");
    assert_eq!(
        reuse.body["errors"][0]["field"],
        "information_clause.version"
    );
    assert_eq!(
        reuse.body["errors"][0]["code"],
        "information_clause_version_taken"
    );
}

#[tokio::test]
async fn a_clause_given_when_announcing_is_the_visits_from_the_start() {
    let app = tests::spawn().await;
    let mut body = tests::visit_body(None);
    body["information_clause"] =
        serde_json::json!({"version": "A-1", "text": "Administratorem jest Gmina Testowo."});
    let created = app
        .post("/api/v1/study-visits", &app.coordinator, body)
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.str("id");
    let shown = clause_of(&app, &id, created.position()).await;
    assert_eq!(shown["version"], "A-1");
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(types, ["VisitAnnounced", "InformationClauseSet"]);

    // A bad clause refuses the whole announcement, naming the field.
    let mut body = tests::visit_body(None);
    body["information_clause"] = serde_json::json!({"version": " ", "text": "Treść."});
    let bad = app
        .post("/api/v1/study-visits", &app.coordinator, body)
        .await;
    assert_eq!(bad.status, 422, "{bad:?}");
    assert_eq!(bad.body["errors"][0]["field"], "information_clause.version");
}

//! A console user's browser for HTTP-level tests: follows no redirects, keeps cookies, reads
//! hidden fields; and console accounts with a known password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use infra::tokens::Role;
use reqwest::redirect::Policy;

use crate::TestApp;

/// The password of every test account.
pub const PASSWORD: &str = "bardzo-tajne-haslo-2026";

/// Waits until the visits' read models hold every event written so far: a console page read
/// right after commands sent through the API (which answer before their projections run)
/// must not see the store as it was a moment earlier.
pub async fn settled(app: &TestApp) {
    let position: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    crate::eventually(std::time::Duration::from_secs(10), || async {
        let mut all = true;
        for model in ["study_visits", "applications"] {
            all &= infra::checkpoints::position(&app.pool, model)
                .await
                .unwrap()
                >= position;
        }
        all.then_some(())
    })
    .await
    .unwrap();
}

/// Adds a console account `email` with [`PASSWORD`].
pub async fn account(app: &TestApp, email: &str, role: Role, organizer: Option<&str>) {
    let hash = service::http::console::hash_password(PASSWORD).unwrap();
    infra::accounts::add(
        &app.pool,
        email,
        "Anna Koordynatorka",
        role,
        organizer,
        &hash,
    )
    .await
    .unwrap();
}

/// A browser: no redirects followed, cookies kept by name.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub set_cookies: Vec<String>,
    pub html: String,
}

impl Page {
    /// The text of the page's `<title>`.
    pub fn title(&self) -> String {
        self.html
            .split("<title>")
            .nth(1)
            .and_then(|s| s.split("</title>").next())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        self.html
            .split(&marker)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no {name} in {}", self.html))
            .to_owned()
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn at(&self, app: &TestApp) -> Self {
        Self {
            http: self.http.clone(),
            base: app.base.clone(),
            cookies: self.cookies.clone(),
        }
    }

    pub async fn read(&mut self, res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            if let Some((name, value)) = c.split(';').next().and_then(|p| p.split_once('=')) {
                if value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Page {
            status,
            location,
            set_cookies,
            html: res.text().await.unwrap(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.read(res).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/logowanie").await;
        let csrf = form.hidden("csrf");
        self.post(
            "/logowanie",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// Opens the form at `path`, fills in `fields` and sends it back to `path` with the
    /// page's CSRF token, as a person would.
    pub async fn fill(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let form = self.get(path).await;
        assert_eq!(form.status, 200, "the form at {path}: {}", form.html);
        let csrf = form.hidden("csrf");
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post(path, &all).await
    }

    /// Opens the form at `path` and sends it back as a browser sends a form with a file
    /// input (multipart), with `fields`, the page's CSRF token and, if given, a file
    /// `(field, file name, bytes)`.
    pub async fn fill_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, Vec<u8>)>,
    ) -> Page {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "the form at {path}: {}", page.html);
        let csrf = page.hidden("csrf");
        self.post_multipart(path, &csrf, fields, file).await
    }

    /// Posts a multipart form with `csrf`, `fields` and an optional file.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        csrf: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, Vec<u8>)>,
    ) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf.to_owned());
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        if let Some((field, name, bytes)) = file {
            form = form.part(
                field.to_owned(),
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        }
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.read(res).await
    }
}

//! What every page shares (the public pages and the console): rendering a template with its status, the one-message page
//! (refusals, closed forms, a page not found), the headers of private pages, and the pages
//! the service answers when it cannot serve one.

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::http::problem::ApiError;

/// The headers of a page that shows an applicant's key or personal data (PAGES.md): kept
/// out of caches, out of `Referer`, out of search engines.
pub fn private(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    res
}

/// A rendered page with its status; a template that fails to render is a defect of ours.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(
                    "<!doctype html><html lang=\"pl\"><head><meta charset=\"utf-8\"><title>Błąd serwisu</title></head>\
                     <body><main><h1>Przepraszamy, wystąpił błąd serwisu</h1><p>Spróbuj ponownie za chwilę.</p></main></body></html>"
                        .to_owned(),
                ),
            )
                .into_response()
        }
    }
}

/// A link shown on a message page.
pub struct Link {
    pub href: String,
    pub label: String,
}

/// A page that says one thing: a refusal, a closed form, a page not found.
#[derive(Template)]
#[template(path = "strony/komunikat.html")]
pub struct Message {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub back: Option<Link>,
    pub next: Option<Link>,
}

impl Message {
    pub fn new(title: impl Into<String>, paragraphs: Vec<String>) -> Self {
        Self {
            title: title.into(),
            paragraphs,
            back: None,
            next: None,
        }
    }

    pub fn back(mut self, href: impl Into<String>, label: impl Into<String>) -> Self {
        self.back = Some(Link {
            href: href.into(),
            label: label.into(),
        });
        self
    }

    pub fn next(mut self, href: impl Into<String>, label: impl Into<String>) -> Self {
        self.next = Some(Link {
            href: href.into(),
            label: label.into(),
        });
        self
    }
}

pub fn not_found() -> Response {
    render(
        StatusCode::NOT_FOUND,
        &Message::new(
            "Nie ma takiej strony",
            vec![
                "Sprawdź, czy adres jest wpisany dokładnie tak, jak go otrzymałaś lub otrzymałeś.".into(),
                "Jeśli to adres Twojego zgłoszenia, skopiuj go jeszcze raz w całości: ostatnia część adresu to Twój klucz i musi być kompletna.".into(),
            ],
        )
        .next("/wizyty", "Zobacz otwarte rekrutacje"),
    )
}

/// What a page answers when the service cannot: the database away, too many submissions,
/// or a defect (logged).
pub fn service_error(e: ApiError) -> Response {
    match e {
        ApiError::NotFound(_) => not_found(),
        ApiError::TooManyRequests {
            retry_after_secs, ..
        } => {
            let mut res = render(
                StatusCode::TOO_MANY_REQUESTS,
                &Message::new(
                    "Za dużo zgłoszeń naraz",
                    vec![format!(
                        "Z Twojego adresu wysłano w ostatniej minucie wiele zgłoszeń. Odczekaj {retry_after_secs} s i wyślij formularz ponownie."
                    )],
                ),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            res
        }
        ApiError::Unavailable {
            retry_after_secs, ..
        } => {
            let mut res = render(
                StatusCode::SERVICE_UNAVAILABLE,
                &Message::new(
                    "Serwis chwilowo niedostępny",
                    vec!["Nie udało się teraz obsłużyć Twojej prośby. Spróbuj ponownie za chwilę; nic nie zostało zapisane.".into()],
                ),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            res
        }
        other => {
            if let ApiError::Internal(msg) = &other {
                tracing::error!(error = %msg, "internal error on a page");
            }
            render(
                StatusCode::INTERNAL_SERVER_ERROR,
                &Message::new(
                    "Przepraszamy, wystąpił błąd serwisu",
                    vec!["Spróbuj ponownie za chwilę. Jeśli błąd się powtarza, napisz do organizatora wizyty.".into()],
                ),
            )
        }
    }
}

/// Whether the site is served over https (the CSRF cookie is then `Secure`).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The Content-Security-Policy of every page: only this site's own files, no inline script
/// or style, no framing, forms posted only here.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The headers every page (and its assets) answers with.
pub async fn page_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    res
}

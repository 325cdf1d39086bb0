//! `GET|POST /logowanie` and `POST /wyloguj`. A wrong address and a wrong password get the
//! same answer in the same time; after 5 failures for one address within 15 minutes, it is
//! refused for 15 minutes (429) whatever the password. Each sign-in gets a new session
//! secret (no session fixation).

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use infra::access_log::Access;
use infra::accounts::{self, User};
use serde::Deserialize;
use serde_json::json;

use super::password;
use super::session;
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{over_https, private, render, service_error, Message};
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "konsola/logowanie.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
    signed_out: bool,
    expired: bool,
}

#[derive(Debug, Deserialize)]
pub struct SignInParams {
    wylogowano: Option<String>,
    wygasla: Option<String>,
}

/// What the sign-in form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInBody {
    email: String,
    password: String,
    csrf: String,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mut page: SignInPage,
) -> Response {
    let (csrf, cookie) = csrf_for(&state.forms, headers);
    page.csrf = csrf;
    with_cookie(private(render(status, &page)), cookie)
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<SignInParams>,
) -> Response {
    page(
        &state,
        &headers,
        StatusCode::OK,
        SignInPage {
            csrf: String::new(),
            email: String::new(),
            error: None,
            signed_out: p.wylogowano.is_some(),
            expired: p.wygasla.is_some(),
        },
    )
}

/// Notes a sign-in, a failure or a sign-out in the access log (best effort: the answer does
/// not wait on it failing).
async fn log(state: &AppState, user: Option<&User>, action: &str, status: u16) {
    let actor = user.map_or_else(|| "anonymous".to_owned(), |u| format!("user:{}", u.user_id));
    let entry = Access {
        actor: &actor,
        role: user.map_or("none", |u| u.role.as_str()),
        organizer: user.and_then(|u| u.organizer.as_deref()),
        action,
        target: "/logowanie",
        parameters: json!({"status": status}),
    };
    if let Err(e) = infra::access_log::record(&state.pool, &entry).await {
        tracing::warn!(error = %e, "the access log did not take a sign-in");
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Form<SignInBody>, FormRejection>,
) -> Response {
    let body = body.map(|Form(b)| b).unwrap_or_default();
    if !csrf_sent(&state.forms, &headers, &body.csrf) {
        return private(render(
            StatusCode::FORBIDDEN,
            &Message::new(
                "Formularz wygasł",
                vec!["Nie zalogowano. Otwórz stronę logowania i spróbuj ponownie.".to_owned()],
            )
            .next("/logowanie", "Przejdź do logowania"),
        ));
    }
    let now = state.clock.now();
    let email = body.email.trim().to_owned();
    match accounts::locked(&state.pool, &email, now).await {
        Ok(false) => {}
        Ok(true) => {
            log(&state, None, "SIGN-IN LOCKED console", 429).await;
            return private(render(
                StatusCode::TOO_MANY_REQUESTS,
                &Message::new(
                    "Logowanie wstrzymane na 15 minut",
                    vec!["Na to konto było zbyt wiele nieudanych prób logowania. Spróbuj ponownie za 15 minut albo poproś administratora o nowe hasło.".to_owned()],
                )
                .next("/logowanie", "Wróć do logowania"),
            ));
        }
        Err(e) => return private(service_error(e.into())),
    }
    let account = match accounts::for_sign_in(&state.pool, &email).await {
        Ok(a) => a,
        Err(e) => return private(service_error(e.into())),
    };
    let (user, hash) = match account {
        Some((user, hash)) if !user.disabled => (Some(user), Some(hash)),
        _ => (None, None),
    };
    let matches = password::verify(body.password, hash).await;
    let Some(user) = user.filter(|_| matches) else {
        if let Err(e) = accounts::record_failure(&state.pool, &email, now).await {
            return private(service_error(e.into()));
        }
        log(&state, None, "SIGN-IN FAILED console", 401).await;
        return page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            SignInPage {
                csrf: String::new(),
                email,
                error: Some(
                    "Nieprawidłowy adres e-mail lub hasło. Sprawdź oba i spróbuj ponownie."
                        .to_owned(),
                ),
                signed_out: false,
                expired: false,
            },
        );
    };
    let secret = match accounts::start_session(&state.pool, user.user_id, now).await {
        Ok(s) => s,
        Err(e) => return private(service_error(e.into())),
    };
    log(&state, Some(&user), "SIGN-IN console", 303).await;
    let mut res = private(Redirect::to("/panel").into_response());
    if let Some(c) = session::cookie(&secret, over_https(&headers)) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// What the sign-out form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignOutBody {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Form<SignOutBody>, FormRejection>,
) -> Response {
    let token = body.map(|Form(b)| b.csrf).unwrap_or_default();
    if !csrf_sent(&state.forms, &headers, &token) {
        return private(Redirect::to("/panel").into_response());
    }
    if let Some(secret) = session::secret(&headers) {
        let now = state.clock.now();
        match accounts::end_session(&state.pool, &secret, now).await {
            Ok(Some(_)) => log(&state, None, "SIGN-OUT console", 303).await,
            Ok(None) => {}
            Err(e) => return private(service_error(e.into())),
        }
    }
    let mut res = private(Redirect::to("/logowanie?wylogowano=1").into_response());
    res.headers_mut()
        .append(header::SET_COOKIE, session::removal());
    res
}

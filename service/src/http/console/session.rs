//! The session cookie and who it signs in: a request to a console page without a live
//! session is sent to `/logowanie`.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use infra::accounts::User;

use crate::http::page::{private, service_error};
use crate::http::state::AppState;

/// The session cookie's name (shared with the API's reads, `http::auth`).
pub use crate::http::auth::SESSION_COOKIE as COOKIE;

/// The session secret the request carries, if any.
pub use crate::http::auth::session_secret as secret;

/// The `Set-Cookie` value of a new session (for the browser's session; `Secure` over https).
pub fn cookie(secret: &str, secure: bool) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    ))
    .ok()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn removal() -> HeaderValue {
    HeaderValue::from_static("kdn_sesja=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The signed-in account, or the answer to give instead: to the sign-in page (saying the
/// session expired when the browser still had one).
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    let Some(secret) = secret(headers) else {
        return Err(private(Redirect::to("/logowanie").into_response()));
    };
    match infra::accounts::session_user(&state.pool, &secret, state.clock.now()).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => {
            let mut res = private(Redirect::to("/logowanie?wygasla=1").into_response());
            res.headers_mut().append(header::SET_COOKIE, removal());
            Err(res)
        }
        Err(e) => Err(private(service_error(e.into()))),
    }
}

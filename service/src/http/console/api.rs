//! The console calls the JSON API in-process, as a signed-in account.
//!
//! Why: every command the console offers (announce, terms, preference lists, programmes,
//! networks…) is already an API operation whose request type parses the input into domain
//! values and names each invalid field, behind the same roles, organizer scope and command
//! bus. Calling it in-process gives the console exactly those rules, answers in Polish
//! (`Accept-Language: pl`) and no second copy of any of them. The account rides in a request
//! extension ([`ConsoleCaller`]), which only code inside the service can set; the API then
//! records `user:<id>` as the actor of what it writes, and audit reads in the access log.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use infra::accounts::User;
use infra::tokens::Principal;
use serde_json::Value;
use tower::ServiceExt;

use crate::http::auth::ConsoleCaller;
use crate::http::request::{CORRELATION_ID, IDEMPOTENCY_KEY, REQUEST_ID};

/// The API's routes with their state, for in-process calls (see the module comment).
#[derive(Clone)]
pub struct Api(Router);

/// A JSON answer of the API.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The problem document's `detail` (Polish), if the answer is one.
    pub fn detail(&self) -> String {
        self.body
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("Nie można wykonać tego polecenia.")
            .to_owned()
    }

    /// The `errors` of a 422: each field's JSON path and its Polish message.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let text = |k: &str| {
                            e.get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        (text("field"), text("message"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A string at `pointer` (RFC 6901) of the body.
    pub fn text(&self, pointer: &str) -> Option<String> {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The event position of a command's answer, for reading one's own writes.
    pub fn position(&self) -> Option<i64> {
        self.body.get("position").and_then(Value::as_i64)
    }
}

impl Api {
    pub fn new(routes: Router) -> Self {
        Self(routes)
    }

    /// Calls `method path` with `body` as JSON on behalf of `user`, keeping the ids of the
    /// console's own request (`outer`) so the access log ties the two together.
    pub async fn call(
        &self,
        user: &User,
        outer: &HeaderMap,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let res = self.raw(user, outer, method, path, body).await;
        let status = res.status();
        let body = match axum::body::to_bytes(res.into_body(), usize::MAX).await {
            Ok(bytes) if !bytes.is_empty() => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Answer { status, body }
    }

    /// As [`Api::call`], with the `Idempotency-Key` of the form that sent it: the same form
    /// sent again gets the first answer and writes nothing.
    pub async fn call_once(
        &self,
        user: &User,
        outer: &HeaderMap,
        method: Method,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Answer {
        let res = self
            .send_with(
                user,
                outer,
                method,
                path,
                Some("application/json"),
                Body::from(body.to_string()),
                Some(key),
            )
            .await;
        answer_of(res).await
    }

    /// As [`Api::call`], the answer as it is (a CSV file, say).
    pub async fn raw(
        &self,
        user: &User,
        outer: &HeaderMap,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Response {
        match body {
            Some(json) => {
                self.send(
                    user,
                    outer,
                    method,
                    path,
                    Some("application/json"),
                    Body::from(json.to_string()),
                )
                .await
            }
            None => {
                self.send(user, outer, method, path, None, Body::empty())
                    .await
            }
        }
    }

    /// Calls `method path` with `body` of `content_type` (the CSV of a schedule import, say)
    /// on behalf of `user`; the answer as it is.
    pub async fn send(
        &self,
        user: &User,
        outer: &HeaderMap,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Body,
    ) -> Response {
        self.send_with(user, outer, method, path, content_type, body, None)
            .await
    }

    /// As [`Api::send`], with the `Idempotency-Key` of the form that sent it (`None`: none).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_with(
        &self,
        user: &User,
        outer: &HeaderMap,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Body,
        idempotency_key: Option<&str>,
    ) -> Response {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT_LANGUAGE, "pl");
        for name in [REQUEST_ID, CORRELATION_ID] {
            if let Some(v) = outer.get(name) {
                req = req.header(name, v);
            }
        }
        // Where the browser reached us: what a certificate prints when no public address is
        // configured.
        for name in [header::HOST.as_str(), "x-forwarded-proto"] {
            if let Some(v) = outer.get(name) {
                req = req.header(name, v);
            }
        }
        if let Some(t) = content_type {
            req = req.header(header::CONTENT_TYPE, t);
        }
        if let Some(k) = idempotency_key {
            req = req.header(IDEMPOTENCY_KEY, k);
        }
        let mut req = match req.body(body) {
            Ok(r) => r,
            // Only a path the console built wrongly gets here.
            Err(_) => return failure(),
        };
        req.extensions_mut().insert(ConsoleCaller(Principal {
            token_id: user.user_id,
            role: user.role,
            organizer: user.organizer.clone(),
            name: user.name.clone(),
        }));
        match self.0.clone().oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    }
}

/// A JSON answer read whole.
async fn answer_of(res: Response) -> Answer {
    let status = res.status();
    let body = match axum::body::to_bytes(res.into_body(), usize::MAX).await {
        Ok(bytes) if !bytes.is_empty() => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer { status, body }
}

fn failure() -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res
}

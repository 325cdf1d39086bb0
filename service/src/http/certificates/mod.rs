//! `GET /api/v1/certificates/{code}`: anyone holding a certificate's code (an employer, an
//! auditor, the EU managing authority) checks that it was issued and still stands. Public:
//! no token, initials only. The checking itself is `crate::http::certificate::verify`,
//! shared with the page `/weryfikacja/{code}`.

use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::certificate::{self, Verification};
use crate::http::extract::ApiPath;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
}

/// Check a certificate of participation by its code (public).
#[utoipa::path(get, path = "/api/v1/certificates/{code}", operation_id = "verify_certificate", tag = "certificates",
    params(("code" = String, Path, description = "The code printed on the certificate, with or without dashes, in any case.")),
    responses((status = 200, body = Verification, description = "The certificate: `valid` true while it stands; false with `revoked_at` and `reason` once a day it certifies was recorded absent."),
        (status = 404, description = "No certificate has this code.")))]
pub(super) async fn verify(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Verification>, ApiError> {
    certificate::verify(&state, &code)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("No certificate has this code.".into()))
}

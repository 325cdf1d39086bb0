//! `GET …/applications/{application_id}/certificate.pdf`: the certificate of participation
//! of a person present on at least one day, for the coordinator, or for the person with
//! their applicant key. Issuing it records its code (`crate::http::certificate`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use projections::study_visits;
use uuid::Uuid;

use super::applicant::{applicant_visit, APPLICANT_KEY};
use crate::documents::pdf;
use crate::http::auth::Auth;
use crate::http::certificate;
use crate::http::extract::ApiPath;
use crate::http::problem::ApiError;
use crate::http::spreadsheet::attachment;
use crate::http::state::AppState;

/// The certificate of participation (coordinator, or the applicant with `X-Applicant-Key`).
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/applications/{application_id}/certificate.pdf", operation_id = "get_certificate_pdf", tag = "applications",
    security(("bearer" = []), ()),
    params(("id" = Uuid, Path), ("application_id" = Uuid, Path),
        ("X-Applicant-Key" = Option<String>, Header, description = "The applicant's own key, instead of a token.")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>,
            description = "A4 PDF: who took part, from which institution, on which days, with the verification code and where to check it (`GET /api/v1/certificates/{code}`, page `/weryfikacja/{code}`). The same attendance record gives the same code.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"zaswiadczenie-{application_id}.pdf\"`"))),
        (status = 401, description = "Neither a token nor an applicant key."),
        (status = 403, description = "An evaluator: certificates are printed by coordinators."),
        (status = 404, description = "No such application in this visit (or another organizer's), or a wrong key."),
        (status = 409, description = "The person was not recorded present on any day (`not_present`), or their data were erased (`personal_data_erased`).")))]
pub(super) async fn certificate_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, ApiError>,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    if headers.contains_key(APPLICANT_KEY) {
        if applicant_visit(&state, &headers, application_id).await? != id {
            return Err(ApiError::NotFound("No such application.".into()));
        }
    } else {
        let auth = auth?;
        if !auth.sees_personal_data() {
            return Err(ApiError::Forbidden(
                "Certificates are printed by coordinators and admins.".into(),
            ));
        }
        let mut conn = state.pool.acquire().await?;
        match study_visits::read::visit(&mut conn, id).await? {
            Some(v) if auth.can_read(&v.organizer) => {}
            _ => return Err(ApiError::NotFound("No such study visit.".into())),
        }
    }
    let printable =
        certificate::issue(&state, id, application_id, certificate::origin(&headers)).await?;
    let bytes = pdf::certificate(&printable.document)
        .map_err(|e| ApiError::Internal(format!("certificate: {e}")))?;
    Ok(attachment(
        bytes,
        "application/pdf",
        &format!("zaswiadczenie-{application_id}.pdf"),
    ))
}

//! The public pages people use (PAGES.md): the open recruitments, a visit, the application
//! form of an open term, the applicant's own page with withdrawal, the check of a
//! certificate's code, and the accessibility statement. Polish, server-rendered HTML that works without JavaScript; the same command
//! path as the JSON API (`crate::http::submission`), with the person as actor.
//!
//! Templates are askama's (`service/templates/strony/`): checked when the crate compiles
//! (a missing field or a typo in a template is a build error, not a blank page), and every
//! value is HTML-escaped unless a template says otherwise (none does). The CSS and the
//! small script that improves the error summary are files of this folder embedded in the
//! binary: nothing is loaded from another site.
//!
//! Every page answers with the headers of PAGES.md (a Content-Security-Policy without inline
//! script, `frame-ancestors 'none'`, `form-action 'self'`; `nosniff`); pages that show an
//! applicant's key or personal data also `Cache-Control: no-store`, `Referrer-Policy:
//! no-referrer` and `X-Robots-Tag: noindex`.

mod accessibility;
mod applicant;
mod assets;
mod form;
mod verification;
mod visits;

use axum::routing::get;
use axum::Router;

use crate::http::state::AppState;

/// The public pages and their assets (not part of the JSON API's OpenAPI document).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wizyty", get(visits::open_recruitments))
        .route("/wizyty/{visit_id}", get(visits::visit))
        .route(
            "/wizyty/{visit_id}/terminy/{term_id}/zgloszenie",
            get(form::show).post(form::submit),
        )
        .route(
            "/zgloszenia/{application_id}/{applicant_key}",
            get(applicant::page),
        )
        .route(
            "/zgloszenia/{application_id}/{applicant_key}/wycofanie",
            get(applicant::confirm_withdrawal).post(applicant::withdraw),
        )
        .route(
            "/zgloszenia/{application_id}/{applicant_key}/zaswiadczenie.pdf",
            get(applicant::certificate),
        )
        .route(
            "/zgloszenia/{application_id}/{applicant_key}/oferta",
            axum::routing::post(applicant::answer_offer),
        )
        .route("/deklaracja-dostepnosci", get(accessibility::statement))
        .route("/weryfikacja", get(verification::form))
        .route("/weryfikacja/{code}", get(verification::check))
        .route("/static/strony.css", get(assets::style))
        .route("/static/strony.js", get(assets::script))
        .layer(axum::middleware::from_fn(crate::http::page::page_headers))
}

//! For tests that drive a `CommandBus` directly, as another instance of the service would
//! (crash, group commit, concurrency): a bus of their own and the commands they send.

use std::sync::Arc;

use service::http::state::SystemClock;
use sqlx::PgPool;

use crate::fixtures::nip;

/// A study-visit command bus of its own on `pool`, as another instance of the service has.
pub fn study_visit_bus(pool: PgPool) -> infra::CommandBus<domain::study_visit::StudyVisit> {
    infra::CommandBus::new(
        pool,
        domain::services::StudyVisitServices::new(Arc::new(SystemClock)),
        vec![],
        |v: &domain::study_visit::StudyVisit| v.organizer().map(|o| o.as_str().to_owned()),
    )
}

/// A public submission as a command, for tests that drive a `CommandBus` directly (as
/// another instance would): a PES with NIP `nip(seed)`, consent to the 2026-01 clause.
pub fn submission(
    application_id: uuid::Uuid,
    term_id: uuid::Uuid,
    seed: u32,
) -> domain::study_visit::StudyVisitCommand {
    use domain::study_visit::{ConsentRecord, LegalBasis, StudyVisitCommand};
    use domain::values::{Institution, InstitutionType, Nip, NonEmptyText};
    let text = |s: &str| NonEmptyText::parse(s).expect("a non-empty literal");
    StudyVisitCommand::SubmitApplication {
        application_id,
        term_id,
        subject_id: uuid::Uuid::now_v7(),
        institution: Institution {
            name: text("Spółdzielnia socjalna"),
            kind: InstitutionType::PES,
            nip: Nip::parse(&nip(seed)).expect("nip() makes valid NIPs"),
            regon: None,
        },
        consent: Some(ConsentRecord {
            information_clause: text("2026-01"),
            legal_basis: LegalBasis::Consent,
        }),
    }
}

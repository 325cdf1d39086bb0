//! What every handler shares: the pool, the command bus per aggregate, the clock.

use std::sync::Arc;
use std::time::Duration;

use domain::cooperation_program::CooperationProgram;
use domain::network::Network;
use domain::services::{AggregateServices, Clock, StudyVisitServices};
use domain::study_visit::StudyVisit;
use infra::personal_data::EmailHasher;
use infra::replica::ReadPools;
use infra::CommandBus;
use sqlx::PgPool;

use crate::http::forms::FormKeys;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The primary: every write, and the reads that must see the newest state.
    pub pool: PgPool,
    /// Where read-model and audit reads go: a streaming replica when configured and usable,
    /// else the primary (see [`AppState::reads`]).
    pub read_pools: ReadPools,
    pub visits: Arc<CommandBus<StudyVisit>>,
    pub programs: Arc<CommandBus<CooperationProgram>>,
    pub networks: Arc<CommandBus<Network>>,
    pub hasher: EmailHasher,
    /// The secret of the public forms' CSRF tokens and form keys.
    pub forms: FormKeys,
    pub clock: Arc<dyn Clock>,
    /// How long a read with `?min_position=` waits for its projection (API.md: 5 s).
    pub read_wait: Duration,
    /// Who runs this site, for the pages (the accessibility statement's contact).
    pub site: Arc<SiteInfo>,
    /// Whether mail is sent (SMTP configured); off, mails wait in the outbox.
    pub mail_enabled: bool,
}

/// Who runs the site, as the accessibility statement the law requires names them
/// (`serve --organization …`, `--accessibility-email …`; README, configuration).
#[derive(Debug, Clone)]
pub struct SiteInfo {
    /// The public body running the site, e.g. `Regionalny Ośrodek Polityki Społecznej w Toruniu`.
    pub organization: String,
    /// Who answers about accessibility.
    pub contact_person: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// The site's public address, e.g. `https://wizyty.rops.example`.
    pub public_url: Option<String>,
}

impl Default for SiteInfo {
    fn default() -> Self {
        Self {
            organization: "Organizator serwisu".to_owned(),
            contact_person: None,
            contact_email: None,
            contact_phone: None,
            public_url: None,
        }
    }
}

impl AppState {
    /// Builds the state over a migrated pool.
    pub async fn new(pool: PgPool, clock: Arc<dyn Clock>) -> Result<Self, sqlx::Error> {
        let hasher = EmailHasher::load(&pool).await?;
        let forms = FormKeys::load(&pool).await?;
        let visits = CommandBus::new(
            pool.clone(),
            StudyVisitServices::new(clock.clone()),
            domain::upcasting::upcasters("StudyVisit"),
            |v: &StudyVisit| v.organizer().map(|o| o.as_str().to_owned()),
        );
        let programs = CommandBus::new(
            pool.clone(),
            AggregateServices::new(clock.clone()),
            domain::upcasting::upcasters("CooperationProgram"),
            |p: &CooperationProgram| p.organizer().map(|o| o.as_str().to_owned()),
        );
        let networks = CommandBus::new(
            pool.clone(),
            AggregateServices::new(clock.clone()),
            domain::upcasting::upcasters("Network"),
            |n: &Network| n.organizer().map(|o| o.as_str().to_owned()),
        );
        Ok(Self {
            read_pools: ReadPools::primary_only(pool.clone()),
            pool,
            visits: Arc::new(visits),
            programs: Arc::new(programs),
            networks: Arc::new(networks),
            hasher,
            forms,
            clock,
            read_wait: Duration::from_secs(5),
            site: Arc::new(SiteInfo::default()),
            mail_enabled: false,
        })
    }
}

impl AppState {
    /// The pool of a read of read models or of the audit history: the replica when one is
    /// configured and usable, else the primary. Reads that replay history into temporary
    /// tables (`?at=`) stay on `pool`: a hot standby cannot create them.
    pub fn reads(&self) -> &PgPool {
        self.read_pools.pool()
    }
}

/// The wall clock, for production.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

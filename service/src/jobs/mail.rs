//! The mail jobs of `serve`, each in one instance at a time (a lease): the notifier (always:
//! the outbox fills even while mail is off, so nothing is missed once it is configured) and,
//! when SMTP is configured, the sender.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

use crate::http::forms::FormKeys;
use crate::http::state::SiteInfo;
use crate::mail::notify;
use crate::mail::send::{Mailer, RetryPolicy, Sender};

/// What the mail jobs need.
#[derive(Clone)]
pub struct MailJobs {
    pub pool: PgPool,
    /// None: mail is off (rows wait in the outbox).
    pub mailer: Option<Mailer>,
    pub forms: FormKeys,
    pub site: Arc<SiteInfo>,
    pub reminder_days: u32,
    pub retry: RetryPolicy,
    /// Longest pause between two looks at the feed and at the outbox.
    pub poll: Duration,
}

/// Runs the notifier, and the sender when mail is on, until aborted.
pub async fn run(jobs: MailJobs) {
    let leases = infra::locks::Leases::start(&jobs.pool, projections::runner::LEASE_RETRY);
    let notifier = {
        let jobs = jobs.clone();
        leases
            .lease("mail-notifier")
            .run(move || notify_forever(jobs.clone()))
    };
    match jobs.mailer.clone() {
        Some(mailer) => {
            let sender = leases
                .lease("mail-sender")
                .run(move || send_forever(jobs.clone(), mailer.clone()));
            tokio::join!(notifier, sender);
        }
        None => notifier.await,
    }
}

async fn notify_forever(jobs: MailJobs) {
    // Per lease: another instance may have decided events while this one did not hold it,
    // which the cache's entries then simply stand before.
    let cache = notify::visit_cache();
    loop {
        match notify::run_batch(&jobs.pool, &cache, jobs.reminder_days).await {
            // A full batch: more may be waiting.
            Ok(n) if n as i64 == notify::BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deciding mails failed; will retry"),
        }
        if let Ok(pending) = infra::outbox::pending(&jobs.pool).await {
            metrics::gauge!("koordynator_mail_outbox_pending").set(pending as f64);
        }
        tokio::time::sleep(jobs.poll).await;
    }
}

async fn send_forever(jobs: MailJobs, mailer: Mailer) {
    let sender = Sender {
        pool: &jobs.pool,
        mailer: &mailer,
        forms: &jobs.forms,
        site: &jobs.site,
        retry: jobs.retry,
    };
    loop {
        match sender.round(Utc::now(), 50).await {
            // A full round: more may be due.
            Ok(r) if r.sent + r.retried + r.failed + r.dropped == 50 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sending mail failed; will retry"),
        }
        tokio::time::sleep(jobs.poll).await;
    }
}

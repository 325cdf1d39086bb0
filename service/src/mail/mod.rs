//! Mail to applicants: [`notify`] decides from the events what to tell whom and writes it to
//! the outbox (`infra::outbox`) with its checkpoint; [`send`] delivers the outbox over SMTP;
//! [`compose`] writes each mail in Polish. The jobs that run them are in `crate::jobs::mail`.

pub mod compose;
pub mod notify;
pub mod send;

/// Describes the mail metrics for `/metrics`.
pub fn describe_metrics() {
    metrics::describe_gauge!(
        "koordynator_mail_outbox_pending",
        "Mails in the outbox waiting to be sent (including reminders not yet due)."
    );
    metrics::describe_counter!(
        "koordynator_mail_sent_total",
        "Mails the SMTP server accepted."
    );
    metrics::describe_counter!(
        "koordynator_mail_failed_total",
        "Mails given up after the last retry."
    );
}

//! Delivering the outbox over SMTP with `lettre` (the maintained Rust mail library: a typed
//! message builder that encodes Polish headers and bodies correctly, an async SMTP client
//! with STARTTLS and implicit TLS over rustls). One sender runs at a time (a lease, like the
//! other jobs); a row is marked sent only after the server accepted it, so a crash between
//! the two sends it again — with the same `Message-ID`, taken from the row, so the copy is
//! recognisable. A failure is retried with growing pauses, then the row is marked failed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

use super::compose::{compose, Letter};
use crate::http::forms::FormKeys;
use crate::http::state::SiteInfo;
use infra::outbox::{self, Mail};

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The pause after the first failure; each next one doubles, up to an hour.
    pub first_pause: Duration,
    /// Attempts before a mail is marked failed.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 30 s, 1, 2, 4, 8, 16, 32 min: a mail server down for about an hour loses nothing.
        Self {
            first_pause: Duration::from_secs(30),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts` failed attempts (None: give up).
    pub fn next(&self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        let pause = self
            .first_pause
            .saturating_mul(factor)
            .min(Duration::from_secs(3600));
        chrono::Duration::from_std(pause).ok().map(|p| now + p)
    }
}

/// Why the mail settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("--smtp-url: {0}")]
    Url(String),
    #[error("--mail-from: {0}")]
    From(String),
}

/// An SMTP connection's settings and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// From `smtp://host:port` (no TLS unless `?tls=required`), `smtp://user:pass@host:587`
    /// (STARTTLS required: credentials never go in clear), `smtps://user:pass@host:465`
    /// (implicit TLS), and the `From` address (`Name <address>` or an address).
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, MailConfigError> {
        let url = url::Url::parse(smtp_url).map_err(|e| MailConfigError::Url(e.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| MailConfigError::Url("no host".into()))?
            .to_owned();
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params =
            || TlsParameters::new(host.clone()).map_err(|e| MailConfigError::Url(e.to_string()));
        let user = percent_decode(url.username());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", _) => (Tls::Wrapper(params()?), 465),
            ("smtp", Some("required")) => (Tls::Required(params()?), 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic(params()?), 25),
            ("smtp", Some("none")) => (Tls::None, 25),
            ("smtp", None) if !user.is_empty() => (Tls::Required(params()?), 587),
            ("smtp", None) => (Tls::None, 25),
            (scheme, _) => {
                return Err(MailConfigError::Url(format!(
                    "scheme {scheme}: use smtp:// or smtps://"
                )))
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        if !user.is_empty() {
            let password = percent_decode(url.password().unwrap_or_default());
            builder = builder.credentials(Credentials::new(user, password));
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailConfigError::From(e.to_string()))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// The message for `letter` to `to` under `mail_id`'s Message-ID.
    fn message(&self, mail: &Mail, to: Mailbox, letter: Letter) -> Result<Message, String> {
        let body = MultiPart::alternative_plain_html(letter.text, letter.html);
        let body = match letter.ics {
            Some(ics) => {
                let calendar = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .map_err(|e| e.to_string())?;
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new("wizyta.ics".to_owned()).body(ics, calendar))
            }
            None => body,
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject)
            .message_id(Some(message_id(mail)))
            .multipart(body)
            .map_err(|e| e.to_string())
    }
}

/// The Message-ID of a row: the same for every attempt.
pub fn message_id(mail: &Mail) -> String {
    format!("<{}@koordynator>", mail.mail_id)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// What a round of sending did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub dropped: usize,
}

/// What the sender needs besides the database.
pub struct Sender<'a> {
    pub pool: &'a PgPool,
    pub mailer: &'a Mailer,
    pub forms: &'a FormKeys,
    pub site: &'a SiteInfo,
    pub retry: RetryPolicy,
}

impl Sender<'_> {
    /// Sends the mails due at `now` (at most `limit`).
    pub async fn round(&self, now: DateTime<Utc>, limit: i64) -> Result<Round, sqlx::Error> {
        let mut round = Round::default();
        for mail in outbox::due(self.pool, now, limit).await? {
            // The address is read now: a person erased since gets nothing.
            let people = infra::personal_data::people(self.pool, &[mail.application_id]).await?;
            let Some(person) = people.get(&mail.application_id) else {
                outbox::mark_dropped(self.pool, mail.mail_id, "the person's data was erased")
                    .await?;
                round.dropped += 1;
                continue;
            };
            let link = self.link(&mail).await?;
            let letter = compose(&mail, person, link.as_deref(), &self.site.organization);
            let name = format!("{} {}", person.first_name, person.last_name);
            let sent = match person.email.parse() {
                Ok(address) => {
                    match self
                        .mailer
                        .message(&mail, Mailbox::new(Some(name), address), letter)
                    {
                        Ok(message) => self
                            .mailer
                            .transport
                            .send(message)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(format!("the address cannot be used: {e}")),
            };
            match sent {
                Ok(()) => {
                    outbox::mark_sent(self.pool, mail.mail_id, Utc::now()).await?;
                    metrics::counter!("koordynator_mail_sent_total").increment(1);
                    round.sent += 1;
                }
                Err(error) => {
                    let attempts = u32::try_from(mail.attempts).unwrap_or(0) + 1;
                    let retry_at = self.retry.next(attempts, Utc::now());
                    tracing::warn!(mail_id = %mail.mail_id, kind = %mail.kind, attempts, %error,
                        gives_up = retry_at.is_none(), "sending a mail failed");
                    outbox::mark_attempt_failed(self.pool, mail.mail_id, &error, retry_at).await?;
                    if retry_at.is_none() {
                        metrics::counter!("koordynator_mail_failed_total").increment(1);
                        round.failed += 1;
                    } else {
                        round.retried += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    /// The applicant's own page, when the site's address is known and the key the service
    /// derives for the application is the one it holds (applications recorded before keys
    /// were derived have another: their mails carry no link rather than a wrong one).
    async fn link(&self, mail: &Mail) -> Result<Option<String>, sqlx::Error> {
        let Some(base) = self.site.public_url.as_deref() else {
            return Ok(None);
        };
        let key = self.forms.applicant_key(mail.application_id);
        let opens = infra::personal_data::applicant_visit(self.pool, mail.application_id, &key)
            .await?
            .is_some();
        Ok(opens.then(|| {
            format!(
                "{}/zgloszenia/{}/{key}",
                base.trim_end_matches('/'),
                mail.application_id
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_and_the_last_attempt_gives_up() {
        let p = RetryPolicy {
            first_pause: Duration::from_secs(30),
            max_attempts: 4,
        };
        let now = Utc::now();
        let pauses: Vec<i64> = (1..=3)
            .map(|a| (p.next(a, now).expect("retried") - now).num_seconds())
            .collect();
        assert_eq!(pauses, [30, 60, 120]);
        assert_eq!(p.next(4, now), None);
    }

    #[test]
    fn urls_choose_the_encryption_and_credentials_never_go_in_clear() {
        assert!(Mailer::new("smtp://127.0.0.1:2525", "ROPS <rops@example.org>").is_ok());
        assert!(Mailer::new("smtp://u:p%40ss@mail.example.org:587", "rops@example.org").is_ok());
        assert!(Mailer::new("smtps://u:p@mail.example.org", "rops@example.org").is_ok());
        assert!(matches!(
            Mailer::new("http://mail.example.org", "rops@example.org"),
            Err(MailConfigError::Url(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:25", "not an address"),
            Err(MailConfigError::From(_))
        ));
        assert_eq!(percent_decode("p%40ss"), "p@ss");
    }
}

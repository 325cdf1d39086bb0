//! What to tell whom, decided from the events: the notifier reads the feed in commit order
//! (as a projection does) and, in the transaction that moves its checkpoint, writes the mails
//! each event calls for into the outbox (`infra::outbox`). A crash rolls back rows and
//! checkpoint together, so no mail is lost and none is decided twice; a row's id comes from
//! its event, so even a second notifier could not write it twice.
//!
//! The decision ([`mails_for`]) is pure: the visit as it stood before the event, the event,
//! and the settings. The visit is replayed from its own stream (`infra::feed`), not read from
//! a read model that may stand elsewhere in commit order.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Warsaw;
use cqrs_es::Aggregate;
use domain::study_visit::{StudyVisit, StudyVisitEvent, Term};
use infra::feed::{self, StoredEvent};
use infra::outbox::{self, NewMail, Reminders, NOTIFIER};
use infra::state_cache::StateCache;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// Events the notifier reads per transaction.
pub const BATCH: i64 = 500;

/// Events of one visit's history read per round trip when its state is not cached.
const REPLAY_PAGE: i64 = 1_000;

/// What an event asks of the outbox.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub mails: Vec<NewMail>,
    /// Applications whose pending reminders go (their seat was given up).
    pub drop_reminders: Vec<Uuid>,
    /// A term whose pending reminders all go (it was cancelled).
    pub drop_term_reminders: Option<Uuid>,
}

/// Mail kinds, as stored and as the outbox endpoint shows them.
pub mod kind {
    pub const RECEIVED: &str = "application_received";
    pub const QUALIFIED: &str = "qualified";
    pub const WAITLISTED: &str = "waitlisted";
    pub const PASSED_OVER: &str = "passed_over";
    pub const TERM_CANCELLED: &str = "term_cancelled";
    pub const REMINDER: &str = "reminder";
    pub const SEAT_OFFERED: &str = "seat_offered";
    pub const OFFER_LAPSED: &str = "offer_lapsed";
    /// Every kind, for the outbox endpoint's schema.
    pub const ALL: [&str; 8] = [
        RECEIVED,
        QUALIFIED,
        WAITLISTED,
        PASSED_OVER,
        TERM_CANCELLED,
        REMINDER,
        SEAT_OFFERED,
        OFFER_LAPSED,
    ];
}

/// The facts of a term every mail about it repeats (none of them personal).
fn term_facts(visit: &StudyVisit, term: &Term) -> Value {
    let details = visit.details();
    let dates = term.dates();
    json!({
        "visit_title": details.map(|d| d.title.as_str()),
        "destination": details.map(|d| d.destination.as_str()),
        "term_label": term.label.as_str(),
        "starts_on": dates.map(|d| d.starts_on),
        "ends_on": dates.map(|d| d.ends_on),
        "deadline": dates.map(|d| d.recruitment_deadline),
        "planned": term.when(),
    })
}

fn with(mut facts: Value, key: &str, value: Value) -> Value {
    if let Some(o) = facts.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
    facts
}

/// When a reminder `days` before `starts_on` goes: 9:00 Warsaw time that day.
pub fn reminder_due(starts_on: NaiveDate, days: u32) -> Option<DateTime<Utc>> {
    let day = starts_on.checked_sub_signed(Duration::days(i64::from(days)))?;
    let nine = day.and_hms_opt(9, 0, 0)?;
    Warsaw
        .from_local_datetime(&nine)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The mails `event` (at `position`, recorded at `at`) calls for, given the visit `before`
/// it. `reminder_days`: how long before a term its participants are reminded.
pub fn mails_for(
    before: &StudyVisit,
    event: &StudyVisitEvent,
    position: i64,
    at: DateTime<Utc>,
    reminder_days: u32,
) -> Decision {
    use StudyVisitEvent as E;
    let Some(details) = before.details() else {
        return Decision::default();
    };
    let mail = |kind: &'static str, application_id: Uuid, term: &Term, facts: Value| NewMail {
        organizer: details.organizer.as_str().to_owned(),
        kind,
        application_id,
        visit_id: details.visit_id,
        term_id: term.term_id,
        facts,
        cause_position: position,
        due_at: at,
    };
    let mut d = Decision::default();
    match event {
        E::ApplicationSubmitted {
            application_id,
            term_id,
            institution,
            ..
        } => {
            if let Some(term) = before.term(*term_id) {
                let facts = with(
                    term_facts(before, term),
                    "institution",
                    json!(institution.name.as_str()),
                );
                d.mails
                    .push(mail(kind::RECEIVED, *application_id, term, facts));
            }
        }
        E::SeatAllocated {
            application_id,
            term_id,
            ..
        } => {
            if let Some(term) = before.term(*term_id) {
                let facts = term_facts(before, term);
                d.mails
                    .push(mail(kind::QUALIFIED, *application_id, term, facts.clone()));
                let due = term
                    .dates()
                    .and_then(|dates| reminder_due(dates.starts_on, reminder_days));
                if let Some(due) = due.filter(|due| *due > at) {
                    let mut reminder = mail(kind::REMINDER, *application_id, term, facts);
                    reminder.due_at = due;
                    d.mails.push(reminder);
                }
            }
        }
        E::ApplicantWaitlisted {
            application_id,
            term_id,
            waitlist_position,
            ..
        } => {
            if let Some(term) = before.term(*term_id) {
                let facts = with(
                    term_facts(before, term),
                    "waitlist_position",
                    json!(waitlist_position),
                );
                d.mails
                    .push(mail(kind::WAITLISTED, *application_id, term, facts));
            }
        }
        E::ApplicationPassedOver {
            application_id,
            term_id,
            ..
        } => {
            if let Some(term) = before.term(*term_id) {
                let facts = with(
                    term_facts(before, term),
                    "max_per_institution",
                    json!(details.max_per_institution),
                );
                d.mails
                    .push(mail(kind::PASSED_OVER, *application_id, term, facts));
            }
        }
        E::TermCancelled { term_id, reason } => {
            if let Some(term) = before.term(*term_id) {
                let facts = with(term_facts(before, term), "reason", json!(reason.as_str()));
                for a in before.applications_of(*term_id) {
                    if a.status.is_live() {
                        d.mails.push(mail(
                            kind::TERM_CANCELLED,
                            a.application_id,
                            term,
                            facts.clone(),
                        ));
                    }
                }
                d.drop_term_reminders = Some(*term_id);
            }
        }
        E::SeatOffered {
            application_id,
            term_id,
            expires_at,
            ..
        } => {
            if let Some(term) = before.term(*term_id) {
                let facts = with(
                    term_facts(before, term),
                    "offer_expires_at",
                    json!(expires_at),
                );
                d.mails
                    .push(mail(kind::SEAT_OFFERED, *application_id, term, facts));
            }
        }
        E::OfferExpired {
            application_id,
            term_id,
            ..
        } => {
            if let Some(term) = before.term(*term_id) {
                d.mails.push(mail(
                    kind::OFFER_LAPSED,
                    *application_id,
                    term,
                    term_facts(before, term),
                ));
            }
        }
        E::ApplicationWithdrawn { application_id, .. } | E::SeatReleased { application_id, .. } => {
            d.drop_reminders.push(*application_id);
        }
        _ => {}
    }
    d
}

/// Why a batch of the notifier failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at position {position} does not deserialize: {message}")]
    Decode { position: i64, message: String },
}

fn decode(e: &StoredEvent) -> Result<StudyVisitEvent, NotifyError> {
    domain::upcasting::decode::<StudyVisitEvent>(
        &e.aggregate_type,
        &e.event_type,
        &e.event_version,
        e.payload.clone(),
    )
    .map_err(|err| NotifyError::Decode {
        position: e.position,
        message: err.to_string(),
    })
}

/// Visits as the notifier's last batch left them, with the sequence they stand at, so a
/// batch replays only its own events (it replayed each visit's whole history, and fell
/// further behind as visits grew: docs/benchmarks.md). Bounded as the pipeline's cache is.
pub type VisitCache = StateCache<(i64, StudyVisit)>;

/// A [`VisitCache`] standing for at most 10,000 events (some 7 MB: a visit's state takes
/// about 0.7 kB per application). Smaller than the pipeline's: it serves the visits active
/// in the last moments, and a miss costs the mails' lag, not a request's.
pub fn visit_cache() -> VisitCache {
    StateCache::new(10_000, 10_000)
}

/// Decides the mails of the next batch of events after the notifier's checkpoint and writes
/// them with the checkpoint in one transaction; returns how many events it read.
pub async fn run_batch(
    pool: &PgPool,
    cache: &VisitCache,
    reminder_days: u32,
) -> Result<usize, NotifyError> {
    let mut tx = pool.begin().await?;
    outbox::lock_notifier(&mut tx).await?;
    let from = infra::checkpoints::of(&mut tx, NOTIFIER).await?;
    let events = feed::read_after(&mut *tx, from, BATCH).await?;
    let Some(last) = events.last().map(StoredEvent::checkpoint) else {
        return Ok(0);
    };
    // The batch's events of each visit, by sequence: each visit is brought up to its last
    // event of the batch once, deciding the batch's events on the way.
    let mut visits: BTreeMap<String, BTreeMap<i64, &StoredEvent>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.aggregate_type == StudyVisit::TYPE)
    {
        visits
            .entry(e.aggregate_id.clone())
            .or_default()
            .insert(e.sequence, e);
    }
    let mut decisions = Vec::new();
    let mut replayed = Vec::with_capacity(visits.len());
    for (visit_id, in_batch) in &visits {
        let (Some(&first), Some(&last)) = (in_batch.keys().next(), in_batch.keys().next_back())
        else {
            continue;
        };
        // The visit as an earlier batch left it, when that is before this batch's events
        // (a batch rolled back is never cached; another notifier may have gone further).
        let (at, mut state) = cache
            .take(visit_id)
            .filter(|(at, _)| *at < first)
            .unwrap_or_else(|| (0, StudyVisit::default()));
        // Up to the batch's last event, from the cached state (or the start): the batch's
        // own events need no read when they follow on; what comes before them is read a
        // page at a time, so a long history never sits in memory whole.
        let contiguous = (last - first + 1) as usize == in_batch.len();
        let mut done = at;
        while done < last {
            let read;
            let page: Vec<&StoredEvent> = if done == first - 1 && contiguous {
                in_batch.values().copied().collect()
            } else {
                let until = last.min(done + REPLAY_PAGE);
                read = feed::stream_range(pool, StudyVisit::TYPE, visit_id, done, until).await?;
                read.iter().collect()
            };
            let Some(end) = page.last().map(|e| e.sequence) else {
                break;
            };
            for stored in page {
                let event = decode(stored)?;
                if let Some(current) = in_batch.get(&stored.sequence) {
                    decisions.push(mails_for(
                        &state,
                        &event,
                        current.position,
                        current.recorded_at,
                        reminder_days,
                    ));
                }
                state.apply(event);
            }
            done = end;
        }
        // Cached where the replay stands (`last`, unless the stream ended early).
        replayed.push((visit_id, done, state));
    }
    // The mails go in one INSERT per run of decisions without a drop (usually the whole
    // batch): a drop first writes every mail decided up to it, its own decision's too, so
    // the statements see what they saw when each decision was written on its own.
    let mut mails: Vec<NewMail> = Vec::new();
    for d in decisions {
        mails.extend(d.mails);
        let drops = d
            .drop_reminders
            .iter()
            .map(|id| Reminders::Of(*id))
            .chain(d.drop_term_reminders.map(Reminders::OfTerm));
        for which in drops {
            outbox::enqueue(&mut tx, &std::mem::take(&mut mails)).await?;
            outbox::drop_reminders(&mut tx, which).await?;
        }
    }
    outbox::enqueue(&mut tx, &mails).await?;
    infra::checkpoints::advance(&mut tx, &[NOTIFIER], last).await?;
    tx.commit().await?;
    for (visit_id, sequence, state) in replayed {
        cache.put(visit_id, sequence, (sequence, state));
    }
    Ok(events.len())
}

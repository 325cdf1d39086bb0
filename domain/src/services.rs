//! What aggregates may ask of the outside world. The domain has no clock of its own:
//! the service injects one, tests inject a [`FixedClock`].

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// The source of "now" for command handling, injected so the domain stays pure and
/// deadlines can be tested to the minute.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that only moves when told to, for tests and replays.
#[derive(Debug)]
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at` (forwards or backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *guard += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The services a [`crate::study_visit::StudyVisit`] needs while handling commands.
#[derive(Clone)]
pub struct StudyVisitServices {
    /// Stamps `submitted_at`, `opened_at`, `closed_at` and decides whether a deadline passed.
    pub clock: Arc<dyn Clock>,
}

impl StudyVisitServices {
    /// Services backed by the given clock.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl std::fmt::Debug for StudyVisitServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudyVisitServices")
            .field("now", &self.clock.now())
            .finish()
    }
}

/// The services every aggregate receives (today only the clock); the study visit's name is
/// kept for the code that already uses it.
pub type AggregateServices = StudyVisitServices;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let t0 = Utc
            .with_ymd_and_hms(2022, 6, 23, 9, 0, 0)
            .single()
            .expect("valid");
        let clock = FixedClock::new(t0);
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::minutes(5));
        assert_eq!(clock.now(), t0 + Duration::minutes(5));
        clock.set(t0);
        assert_eq!(clock.now(), t0);
    }
}

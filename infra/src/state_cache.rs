//! States folded from event streams, kept between uses so that the next use reads only the
//! events stored after them instead of the whole stream.
//!
//! Used by the command pipeline (an aggregate as the last command left it) and by the mail
//! notifier (a visit as its last decided event left it). An entry is only ever a starting
//! point: its owner still reads what was stored after it, so a stale entry costs a longer
//! read, never a wrong state. The bound is on the *events* the states stand for (each
//! entry's weight, its stream's sequence), because a state's size follows its stream's
//! length, not the number of streams.

use std::collections::HashMap;
use std::sync::Mutex;

/// States by stream id, each with the weight (events) it stands for.
pub struct StateCache<T> {
    entries: Mutex<Cached<T>>,
    /// Most events the cached states may stand for together.
    max_events: i64,
    /// Longest single stream kept: a far longer one would take the room of many ordinary
    /// ones, and is read instead.
    longest: i64,
}

/// The cached states and the events they stand for, kept as a sum (not recounted on every
/// use: the cache may hold thousands of short streams).
struct Cached<T> {
    states: HashMap<String, (i64, T)>,
    events: i64,
}

impl<T> StateCache<T> {
    /// A cache of states standing for at most `max_events` events, none longer than
    /// `longest`.
    pub fn new(max_events: i64, longest: i64) -> Self {
        StateCache {
            entries: Mutex::new(Cached {
                states: HashMap::new(),
                events: 0,
            }),
            max_events,
            longest: longest.min(max_events),
        }
    }

    /// Takes the state of `id` out (its user puts it back once it is the stream's again).
    pub fn take(&self, id: &str) -> Option<T> {
        let mut cached = lock(&self.entries);
        let (weight, state) = cached.states.remove(id)?;
        cached.events -= weight;
        Some(state)
    }

    /// Keeps `state` of `id`, standing for `weight` events, making room as needed.
    pub fn put(&self, id: &str, weight: i64, state: T) {
        if weight > self.longest {
            return;
        }
        let mut cached = lock(&self.entries);
        if let Some((replaced, _)) = cached.states.remove(id) {
            cached.events -= replaced;
        }
        while cached.events + weight > self.max_events {
            // Any entry will do: a miss only means one full read.
            let Some(victim) = cached.states.keys().next().cloned() else {
                break;
            };
            if let Some((w, _)) = cached.states.remove(&victim) {
                cached.events -= w;
            }
        }
        cached.states.insert(id.to_owned(), (weight, state));
        cached.events += weight;
    }
}

/// A std mutex's guard whether or not a panic poisoned it: every critical section of this
/// crate's in-process state (this cache, the pipeline's queues) leaves the data consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(cache: &StateCache<u8>) -> (i64, i64, usize) {
        let cached = lock(&cache.entries);
        let counted = cached.states.values().map(|(w, _)| w).sum();
        (cached.events, counted, cached.states.len())
    }

    #[test]
    fn the_cache_stays_within_its_events_and_counts_what_it_holds() {
        let cache = StateCache::new(100, 100);
        for i in 0..10 {
            cache.put(&format!("visit-{i}"), 30, 0);
        }
        assert_eq!(held(&cache), (90, 90, 3), "three streams of 30 fit in 100");
        cache.put("visit-3", 40, 0);
        let (events, counted, _) = held(&cache);
        assert!(events <= 100 && events == counted, "{events} {counted}");
        assert!(cache.take("visit-3").is_some());
        let (events, counted, _) = held(&cache);
        assert_eq!(events, counted, "a taken state no longer counts");
        assert!(cache.take("visit-3").is_none());

        let roomy = StateCache::new(1_000_000, 5_000);
        roomy.put("long", 5_001, 0);
        assert!(
            roomy.take("long").is_none(),
            "a stream that long is read instead"
        );
    }
}

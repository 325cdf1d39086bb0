//! Latency and rate figures of one benchmark phase.

use std::time::Duration;

use serde::Serialize;

/// What one phase measured: how many operations, how fast, how long each took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Operations that succeeded.
    pub ok: u64,
    /// Operations that failed (non-2xx answers, database errors).
    pub failed: u64,
    /// Successful operations per second over the phase's wall time.
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub seconds: f64,
}

impl Figures {
    /// Figures from the latencies of the successful operations and the phase's wall time.
    pub fn from(mut latencies: Vec<Duration>, failed: u64, wall: Duration) -> Self {
        latencies.sort_unstable();
        let ok = latencies.len() as u64;
        Self {
            ok,
            failed,
            per_second: ok as f64 / wall.as_secs_f64().max(1e-9),
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            max_ms: latencies.last().map_or(0.0, ms),
            seconds: wall.as_secs_f64(),
        }
    }
}

/// The `q` quantile (nearest rank) of sorted `values`, in milliseconds.
pub fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    ms(&sorted[rank - 1])
}

fn ms(d: &Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.99), 0.0);
        let f = Figures::from(v, 3, Duration::from_secs(2));
        assert_eq!((f.ok, f.failed, f.per_second), (100, 3, 50.0));
    }
}

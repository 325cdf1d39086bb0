//! Progress of long commands (rebuild, export, import, verify) on a terminal: events done,
//! rate, and time left when the total is known. Silent when stderr is not a terminal, so
//! logs and CI output stay clean; the final summary is printed either way by the caller.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A progress line on stderr, redrawn at most a few times a second.
pub struct Progress {
    label: String,
    total: Option<u64>,
    started: Instant,
    last_drawn: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// A progress line for `label`; `total` when known (for the time left).
    pub fn new(label: impl Into<String>, total: Option<u64>) -> Self {
        Self {
            label: label.into(),
            total,
            started: Instant::now(),
            last_drawn: None,
            enabled: Self::shown(),
        }
    }

    /// Whether progress lines are drawn (stderr is a terminal): callers skip work that only
    /// the line needs.
    pub fn shown() -> bool {
        std::io::stderr().is_terminal()
    }

    /// Reports `done` events so far.
    pub fn update(&mut self, done: u64) {
        if !self.enabled
            || self
                .last_drawn
                .is_some_and(|t| t.elapsed() < Duration::from_millis(250))
        {
            return;
        }
        self.last_drawn = Some(Instant::now());
        let _ = write!(std::io::stderr(), "\r{}\x1b[K", self.line(done));
    }

    /// Clears the line (the caller prints its own summary).
    pub fn finish(&mut self) {
        if self.enabled && self.last_drawn.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn line(&self, done: u64) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        match self.total {
            Some(total) if total > 0 => {
                let left = total.saturating_sub(done) as f64 / rate.max(1e-9);
                format!(
                    "{}: {done}/{total} events ({:.0}%), {rate:.0}/s, ~{left:.0} s left",
                    self.label,
                    100.0 * done as f64 / total as f64
                )
            }
            _ => format!("{}: {done} events, {rate:.0}/s", self.label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_done_total_and_rate() {
        let p = Progress::new("export", Some(100));
        let line = p.line(50);
        assert!(line.starts_with("export: 50/100 events (50%)"), "{line}");
        assert!(line.contains("/s"), "{line}");
        let open = Progress::new("verify", None);
        assert!(open.line(7).starts_with("verify: 7 events"));
    }
}

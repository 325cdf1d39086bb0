//! Where the CPU goes: the processor time PostgreSQL, the service and the load generator
//! spent during a phase, per operation. On a machine with few cores the missed ratios are
//! bounded by CPU, not by commits; this turns that claim into a measurement.
//!
//! Read from `/proc` (Linux): `utime + stime` of the service child, of this process and of
//! every process named `postgres*` (all PostgreSQL backends and workers, including those of
//! other databases on the same server: a busy neighbour shows up as PostgreSQL time), and the
//! machine's busy fraction from `/proc/stat`.

use serde::Serialize;

/// CPU time counters at one instant, in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    postgres: u64,
    service: u64,
    generator: u64,
    machine_busy: u64,
    machine_total: u64,
}

/// CPU spent during a phase, per operation that phase completed.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// PostgreSQL's CPU per operation, in milliseconds.
    pub postgres_ms: f64,
    /// The service's CPU per operation (zero for the baseline, which bypasses it).
    pub service_ms: f64,
    /// The load generator's CPU per operation (this benchmark process).
    pub generator_ms: f64,
    /// All three.
    pub total_ms: f64,
    /// How busy the machine's CPUs were during the phase (1.0 = every core, all the time).
    pub machine_busy: f64,
}

impl Sample {
    /// The counters now; `service` is the pid of the service child. Zero where `/proc` is
    /// missing (the figures then read as zero rather than failing the run).
    pub fn now(service: u32) -> Sample {
        let (machine_busy, machine_total) = machine();
        Sample {
            postgres: postgres(),
            service: process_ticks(&format!("/proc/{service}/stat")).unwrap_or(0),
            generator: process_ticks("/proc/self/stat").unwrap_or(0),
            machine_busy,
            machine_total,
        }
    }

    /// What was spent between `self` and `later`, over `operations` completed meanwhile.
    pub fn usage(&self, later: &Sample, operations: u64) -> Usage {
        let ms = |a: u64, b: u64| b.saturating_sub(a) as f64 * 1000.0 / ticks_per_second();
        let per = |ms: f64| ms / operations.max(1) as f64;
        let postgres_ms = per(ms(self.postgres, later.postgres));
        let service_ms = per(ms(self.service, later.service));
        let generator_ms = per(ms(self.generator, later.generator));
        let total = later.machine_total.saturating_sub(self.machine_total);
        Usage {
            postgres_ms,
            service_ms,
            generator_ms,
            total_ms: postgres_ms + service_ms + generator_ms,
            machine_busy: later.machine_busy.saturating_sub(self.machine_busy) as f64
                / total.max(1) as f64,
        }
    }
}

/// Clock ticks per second of `/proc` counters (USER_HZ): 100 on every Linux we run on.
fn ticks_per_second() -> f64 {
    100.0
}

/// utime + stime of one process, from its `stat` file.
fn process_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Summed CPU ticks of every process whose command name starts with `postgres`.
fn postgres() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| {
            let path = e.path();
            let comm = std::fs::read_to_string(path.join("comm")).ok()?;
            if !comm.starts_with("postgres") {
                return None;
            }
            process_ticks(&path.join("stat").to_string_lossy())
        })
        .sum()
}

/// (busy, total) ticks of all CPUs since boot, from the first line of `/proc/stat`.
fn machine() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let Some(cpu) = stat.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    // idle and iowait are the not-busy columns.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_the_machine() {
        // This test spends CPU, so its own counter cannot stay at zero for long.
        let before = Sample::now(std::process::id());
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_millis(120) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let after = Sample::now(std::process::id());
        let usage = before.usage(&after, 1);
        assert!(usage.generator_ms > 0.0, "{usage:?}");
        assert!(
            usage.machine_busy > 0.0 && usage.machine_busy <= 1.0,
            "{usage:?}"
        );
    }
}

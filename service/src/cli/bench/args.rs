//! The sizes and places of a benchmark run: `koordynator bench`'s flags.

use std::path::PathBuf;

/// Sizes and places of a benchmark run (the defaults are the full benchmark).
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// PostgreSQL server on which a fresh database is created (and dropped afterwards).
    #[arg(
        long,
        env = "KOORDYNATOR_BENCH_SERVER",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub server: String,
    /// Concurrencies (connections / HTTP clients) of the baseline and the submissions.
    #[arg(
        long,
        env = "KOORDYNATOR_BENCH_CONCURRENCY",
        value_delimiter = ',',
        default_value = "1,8,32"
    )]
    pub concurrency: Vec<usize>,
    /// Seconds each concurrency level runs.
    #[arg(long, env = "KOORDYNATOR_BENCH_SECONDS", default_value_t = 10.0)]
    pub seconds: f64,
    /// Visits (each with one open term) the submissions of (b) are spread over.
    #[arg(long, env = "KOORDYNATOR_BENCH_VISITS", default_value_t = 64)]
    pub visits: usize,
    /// Concurrent submissions to one term in (c).
    #[arg(long, env = "KOORDYNATOR_BENCH_CROWD", default_value_t = 1000)]
    pub crowd: usize,
    /// Events stored for the rebuild (e) and the memory figure (f).
    #[arg(long, env = "KOORDYNATOR_BENCH_EVENTS", default_value_t = 1_000_000)]
    pub events: usize,
    /// Where the JSON report is written.
    #[arg(
        long,
        env = "KOORDYNATOR_BENCH_OUTPUT",
        default_value = "docs/benchmarks.json"
    )]
    pub output: PathBuf,
    /// Database connections of the service under test.
    #[arg(
        long,
        env = "KOORDYNATOR_BENCH_SERVICE_CONNECTIONS",
        default_value_t = 40
    )]
    pub service_connections: u32,
    /// Keep the benchmark database instead of dropping it (to inspect it).
    #[arg(long, env = "KOORDYNATOR_BENCH_KEEP_DATABASE")]
    pub keep_database: bool,
}

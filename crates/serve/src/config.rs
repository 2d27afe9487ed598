//! The knobs every server shares, as clap arguments. Each flag also reads a
//! `KIT_*` environment variable, so `KIT_IO_MS=100 cargo run --bin ...` works
//! as well as `--io-ms 100`. The variant's own slot knob (`--threads`,
//! `--worker-threads`, `--workers`) is declared in its main.rs, where the
//! lesson about it is told.

use std::time::Duration;

use crate::contract::{Settings, DEFAULT_CPU_ROUNDS, MAX_CPU_ROUNDS, MAX_WAIT_MS};

#[derive(clap::Args, Clone, Debug)]
pub struct CommonArgs {
    /// Address to listen on.
    #[arg(long, env = "KIT_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free port (printed on the first line).
    #[arg(long, env = "KIT_PORT", default_value_t = 0)]
    pub port: u16,
    /// One I/O wait, in milliseconds (/parallel makes two, /multi-io three).
    #[arg(long, env = "KIT_IO_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_MS))]
    pub io_ms: u64,
    /// One database query, in milliseconds (/db-simulation).
    #[arg(long, env = "KIT_DB_MS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_MS))]
    pub db_ms: u64,
    /// CPU rounds per /cpu-intensive request (the default is about 0.1 s optimized).
    #[arg(long, env = "KIT_CPU_ROUNDS", default_value_t = DEFAULT_CPU_ROUNDS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_CPU_ROUNDS))]
    pub cpu_rounds: u64,
}

impl CommonArgs {
    pub fn settings(&self, variant: &'static str) -> Settings {
        Settings {
            variant,
            io: Duration::from_millis(self.io_ms),
            db: Duration::from_millis(self.db_ms),
            cpu_rounds: self.cpu_rounds,
        }
    }

    /// The knobs as /metrics reports them, plus the variant's own.
    pub fn knobs(&self, own: (&'static str, u64)) -> Vec<(&'static str, u64)> {
        vec![own, ("io_ms", self.io_ms), ("db_ms", self.db_ms), ("cpu_rounds", self.cpu_rounds)]
    }
}

/// The number of cores the OS gives this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

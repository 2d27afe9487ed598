//! The knobs every server shares, as clap arguments. Each flag also reads a
//! `KIT_*` environment variable, so `KIT_IO_MS=100 cargo run --bin ...` works
//! as well as `--io-ms 100`. The variant's own slot knob (`--threads`,
//! `--worker-threads`, `--workers`) is declared in its main.rs, where the
//! lesson about it is told.

use std::time::Duration;

use crate::contract::{Query, DEFAULT_CPU_ROUNDS, MAX_CPU_ROUNDS, MAX_WAIT_MS};

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
    /// After SIGTERM or Ctrl-C: how many seconds the server keeps answering the
    /// clients that were already connected before it gives up on the rest and
    /// exits anyway. 30 s covers 100 x /parallel on 4 slots at the default waits
    /// (25 rounds of 1 s).
    #[arg(long, env = "KIT_DRAIN_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_timeout: u64,
    /// How long a connection may take to send a request's head (request line
    /// and headers), in milliseconds, counted from when the server starts
    /// waiting for it; then it is closed. Bounds slowloris, clients that
    /// connect and send nothing or a byte now and then. On a blocking server
    /// each such client holds a slot for this long; on an async one it
    /// costs a parked task.
    #[arg(long, env = "KIT_HEADER_READ_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub header_read_timeout_ms: u64,
}

impl CommonArgs {
    /// The defaults a request's query may override.
    pub fn defaults(&self, variant: &'static str) -> Query {
        Query {
            variant,
            io_wait: Duration::from_millis(self.io_ms),
            db_wait: Duration::from_millis(self.db_ms),
            cpu_rounds: self.cpu_rounds,
        }
    }

    /// `--drain-timeout` as a duration.
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout)
    }

    /// `--header-read-timeout-ms` as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// These flags as /metrics reports them (a server adds its own knobs:
    /// `serve::Server::knob`).
    pub fn knobs(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("io_ms", self.io_ms),
            ("db_ms", self.db_ms),
            ("cpu_rounds", self.cpu_rounds),
            ("drain_timeout_s", self.drain_timeout),
            ("header_read_timeout_ms", self.header_read_timeout_ms),
        ]
    }
}

/// The number of cores the OS gives this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

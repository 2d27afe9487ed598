//! Where a server's waits go: `--io-backend`.
//!
//! Every lesson first waits on a timer (`timer`, the default: needs nothing
//! installed). The same handlers can wait on real I/O instead:
//! - `http=URL`: each wait is a `GET URL/delay?ms=N` to an upstream service
//!   (the kit's `upstream` binary), through the client a real server of
//!   that kind would use (http.rs);
//! - `postgres=URL`: each /db-simulation query is `SELECT pg_sleep(s)` on
//!   a real PostgreSQL, through a driver and, on async servers, a pool
//!   (postgres.rs). A pool is a slot limit too.
//!
//! Handlers do not know which backend they have: they call `wait` (yields,
//! for the async servers) or `wait_blocking` (holds the calling thread, for
//! the blocking ones and for the trap). Which of the two a server calls is
//! the lesson; the backend only makes the wait real.

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "postgres")]
mod postgres;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::contract::{ApiError, PoolStats};

#[cfg(feature = "postgres")]
pub use postgres::PoolOptions;

/// `--io-backend`, `--pool-size` and `--io-timeout-ms`: flattened into the
/// four servers' arguments (the exercises wait on timers only, so they
/// refuse these flags rather than ignore them).
#[derive(clap::Args, Clone, Debug)]
pub struct IoArgs {
    /// What a wait is: `timer` (a sleep), `http=URL` (GET URL/delay?ms=N on
    /// an upstream service) or `postgres=URL` (/db-simulation runs
    /// `SELECT pg_sleep(..)` on PostgreSQL).
    #[arg(long, env = "KIT_IO_BACKEND", default_value = "timer", value_parser = BackendSpec::parse)]
    pub io_backend: BackendSpec,
    /// Connections in the async servers' database pool: a slot limit for
    /// /db-simulation. Blocking servers hold one connection per thread.
    #[arg(long, env = "KIT_POOL_SIZE", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub pool_size: u64,
    /// The longest one backend call may wait, in milliseconds: for an
    /// upstream's answer (then 504), or on PostgreSQL for a pool connection
    /// and for connecting (then 503). A request fails instead of hanging.
    #[arg(long, env = "KIT_IO_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub io_timeout_ms: u64,
}

/// A parsed `--io-backend` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendSpec {
    Timer,
    Http(String),
    Postgres(String),
}

impl BackendSpec {
    pub fn parse(s: &str) -> Result<BackendSpec, String> {
        match s.split_once('=') {
            None if s == "timer" => Ok(BackendSpec::Timer),
            // Checked here, so a bad URL stops the server before it listens.
            Some(("http", url)) => Ok(BackendSpec::Http(base_url(url)?)),
            Some(("postgres", url)) if !url.is_empty() => Ok(BackendSpec::Postgres(url.to_string())),
            _ => Err(format!(
                "'{s}' is not a backend: use timer, http=URL (an upstream with /delay) or postgres=URL"
            )),
        }
    }

    /// The name /metrics and tables show.
    pub fn name(&self) -> &'static str {
        match self {
            BackendSpec::Timer => "timer",
            BackendSpec::Http(_) => "http",
            BackendSpec::Postgres(_) => "postgres",
        }
    }
}

/// Checks an `http=` base URL: `http://HOST:PORT`, with an optional trailing
/// slash and nothing else (no path, query or user), so `/delay` can be
/// appended. Returns it without the slash.
pub fn base_url(url: &str) -> Result<String, String> {
    let bad = |why: &str| {
        Err(format!("'{url}' is not an upstream base URL ({why}): use http://HOST:PORT, e.g. http://127.0.0.1:6000"))
    };
    let Some(authority) = url.strip_prefix("http://") else {
        return bad("it must start with http://");
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.contains(['/', '?', '#', '@']) {
        return bad("no path, query or user after HOST:PORT");
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(format!("http://{authority}"))
        }
        _ => bad("it needs a host and a port from 1 to 65535"),
    }
}

impl IoArgs {
    /// The knobs /metrics reports for a real backend (none for the timer).
    pub fn knobs(&self) -> Vec<(&'static str, u64)> {
        match self.io_backend {
            BackendSpec::Timer => vec![],
            BackendSpec::Http(_) => vec![("io_timeout_ms", self.io_timeout_ms)],
            BackendSpec::Postgres(_) => {
                vec![("pool_size", self.pool_size), ("io_timeout_ms", self.io_timeout_ms)]
            }
        }
    }

    /// The backend these flags name, ready for handlers.
    pub fn open(&self) -> Result<IoBackend, String> {
        // Unused when the build has neither real backend (the exercises).
        #[allow(unused_variables)]
        let timeout = || Duration::from_millis(self.io_timeout_ms);
        match &self.io_backend {
            BackendSpec::Timer => Ok(IoBackend::timer()),
            #[cfg(feature = "http")]
            BackendSpec::Http(url) => Ok(IoBackend(Arc::new(Backend::Http(http::Upstream::new(url, timeout())?)))),
            #[cfg(not(feature = "http"))]
            BackendSpec::Http(_) => Err("this build has no http backend (kit-serve's cargo feature `http`, which the four servers turn on)".into()),
            #[cfg(feature = "postgres")]
            BackendSpec::Postgres(url) => IoBackend::postgres(url, PoolOptions { size: self.pool_size, acquire_timeout: Some(timeout()) }),
            #[cfg(not(feature = "postgres"))]
            BackendSpec::Postgres(_) => Err("postgres=URL needs kit-serve's `postgres` feature, which this binary \
                 was built without (the four servers have it: cargo run -p kit-servers --bin async-native)"
                .into()),
        }
    }
}

/// The backend handlers wait on (`p.backend`): a timer, an upstream or a
/// database. Cheap to clone (one `Arc`). Named for what it is, not `Io`:
/// `io` is also this module and a request's wait (`p.io_wait`).
#[derive(Clone)]
pub struct IoBackend(Arc<Backend>);

// One per server, behind the Arc above: the variants' sizes cost nothing.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Timer,
    /// Both io waits and db queries are `GET /delay` on the upstream.
    #[cfg(feature = "http")]
    Http(http::Upstream),
    /// Queries go to PostgreSQL; io waits stay timers.
    #[cfg(feature = "postgres")]
    Postgres(postgres::Postgres),
}

impl std::fmt::Debug for IoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl IoBackend {
    /// Waits are sleeps: the default, and what the exercises use.
    pub fn timer() -> IoBackend {
        IoBackend(Arc::new(Backend::Timer))
    }

    /// /db-simulation on PostgreSQL at `url`; io waits stay timers. The
    /// four servers get here through `--io-backend postgres=URL`; the pool
    /// exercise calls it with options of its own.
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str, options: PoolOptions) -> Result<IoBackend, String> {
        Ok(IoBackend(Arc::new(Backend::Postgres(postgres::Postgres::open(url, options)?))))
    }

    pub fn name(&self) -> &'static str {
        match *self.0 {
            Backend::Timer => "timer",
            #[cfg(feature = "http")]
            Backend::Http(_) => "http",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The counters of this backend's pool, for /metrics: a server whose
    /// queries go through the pool (`query`) reports it (`serve::Server`
    /// does so for every server whose slots are not threads). The blocking
    /// servers hold one connection per thread instead, and report none.
    pub fn pool(&self) -> Option<Arc<PoolGauge>> {
        match &*self.0 {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => Some(pg.gauge()),
            _ => None,
        }
    }

    /// One I/O wait of `d` that yields: the task parks, the thread is free.
    pub async fn wait(&self, d: Duration) -> Result<(), ApiError> {
        match &*self.0 {
            #[cfg(feature = "http")]
            Backend::Http(upstream) => upstream.call(d).await?,
            // PostgreSQL only changes the queries.
            _ => tokio::time::sleep(d).await,
        }
        Ok(())
    }

    /// One I/O wait of `d` that holds the calling thread until it is over.
    pub fn wait_blocking(&self, d: Duration) -> Result<(), ApiError> {
        match &*self.0 {
            #[cfg(feature = "http")]
            Backend::Http(upstream) => upstream.call_blocking(d)?,
            _ => std::thread::sleep(d),
        }
        Ok(())
    }

    /// One database query of `d` that yields.
    pub async fn query(&self, d: Duration) -> Result<(), ApiError> {
        match &*self.0 {
            Backend::Timer => tokio::time::sleep(d).await,
            #[cfg(feature = "http")]
            Backend::Http(upstream) => upstream.call(d).await?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.query(d).await?,
        }
        Ok(())
    }

    /// One database query of `d` that holds the calling thread.
    pub fn query_blocking(&self, d: Duration) -> Result<(), ApiError> {
        match &*self.0 {
            Backend::Timer => std::thread::sleep(d),
            #[cfg(feature = "http")]
            Backend::Http(upstream) => upstream.call_blocking(d)?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.query_blocking(d)?,
        }
        Ok(())
    }
}

/// A connection pool's own counters, kept by the backend that owns the pool
/// and read by /metrics. Counted around each checkout, like `in_flight`
/// around each handler: `peak_in_use` is exact, so a test can assert that a
/// pool of 10 never lent out an 11th connection.
#[derive(Debug)]
pub struct PoolGauge {
    size: u64,
    in_use: AtomicU64,
    peak_in_use: AtomicU64,
    timeouts: AtomicU64,
}

impl PoolGauge {
    pub fn new(size: u64) -> Arc<PoolGauge> {
        Arc::new(PoolGauge {
            size,
            in_use: AtomicU64::new(0),
            peak_in_use: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
        })
    }

    /// Marks one connection as lent out until the guard drops.
    pub fn checkout(self: &Arc<Self>) -> PoolCheckout {
        let now = self.in_use.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_use.fetch_max(now, Ordering::SeqCst);
        PoolCheckout(Arc::clone(self))
    }

    /// A request gave up waiting for a connection.
    pub fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::SeqCst);
    }

    /// Restarts the peak at what is lent out now (`POST /metrics/reset`).
    pub fn reset(&self) {
        self.peak_in_use.store(self.in_use.load(Ordering::SeqCst), Ordering::SeqCst);
        self.timeouts.store(0, Ordering::SeqCst);
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            size: self.size,
            in_use: self.in_use.load(Ordering::SeqCst),
            peak_in_use: self.peak_in_use.load(Ordering::SeqCst),
            timeouts: self.timeouts.load(Ordering::SeqCst),
        }
    }
}

/// One connection lent out by a pool.
pub struct PoolCheckout(Arc<PoolGauge>);

impl Drop for PoolCheckout {
    fn drop(&mut self) {
        self.0.in_use.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_host_and_port_only() {
        assert_eq!(base_url("http://127.0.0.1:6000").as_deref(), Ok("http://127.0.0.1:6000"));
        assert_eq!(base_url("http://localhost:6000/").as_deref(), Ok("http://localhost:6000"));
        for bad in [
            "notaurl",
            "https://x:1",
            "http://x",
            "http://:80",
            "http://x:0",
            "http://x:99999",
            "http://x:1/api",
            "http://x:1?a",
            "ftp://x:1",
        ] {
            let e = base_url(bad).expect_err(bad);
            assert!(e.contains(bad) && e.contains("http://HOST:PORT"), "{e}");
        }
    }
}

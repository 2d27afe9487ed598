//! `--io-backend postgres=URL`: each /db-simulation query is
//! `SELECT pg_sleep(s)` on a real PostgreSQL. The io waits stay timers.
//!
//! Two drivers, as real servers of each kind would have:
//! - blocking servers (`query_blocking`) use the blocking `postgres` crate
//!   with one connection per calling thread, connected on first use and
//!   again after an error: a Flask worker with its own connection. The
//!   threads are the slots, and each slot owns a connection.
//! - async-native (`query`) uses tokio-postgres through a deadpool pool of
//!   `--pool-size` connections. A query first waits (yielding) for a
//!   connection: the pool is a slot limit of its own, and when it is
//!   smaller than the server's slots it is the one that binds. The wait
//!   for a connection is bounded (sqlx calls running out of it
//!   `PoolTimedOut`); so is connecting.
//!
//! Every failure is an answer, never a hang: a database that is down, or a
//! pool that stayed exhausted past its timeout, is a 503 whose JSON says
//! which.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use postgres::Client;
use tokio_postgres::NoTls;

use super::PoolGauge;
use crate::contract::ApiError;

/// The query: pg_sleep takes seconds as float8.
const SLEEP: &str = "SELECT pg_sleep($1)";
/// Opening a connection never takes longer than this (nor than the call's
/// own timeout): a database host that drops packets must not hang a request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How a pool behaves: what the four servers get from `--pool-size` and
/// `--io-timeout-ms`, and what the pool exercise gets wrong.
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    /// Connections the pool may hold: the slots for queries.
    pub size: u64,
    /// How long a query may wait for a free connection (and for connecting).
    /// `None` waits forever: under a burst larger than the pool, requests
    /// queue without bound and their clients see a hang. The query itself
    /// is not cut short: it is the work the client asked for.
    pub acquire_timeout: Option<Duration>,
}

pub(crate) struct Postgres {
    pool: Pool,
    gauge: Arc<PoolGauge>,
    blocking: postgres::Config,
    options: PoolOptions,
}

impl Postgres {
    /// Parses the URL and builds the pool. Nothing connects yet: a database
    /// that is down shows as 503s, not as a server that will not start.
    pub(crate) fn open(url: &str, options: PoolOptions) -> Result<Postgres, String> {
        let bad = |e: tokio_postgres::Error| format!("postgres={url} is not a PostgreSQL URL: {e}");
        let connect = options.acquire_timeout.map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT));
        let mut config: tokio_postgres::Config = url.parse().map_err(bad)?;
        config.connect_timeout(connect);
        let mut blocking: postgres::Config = url.parse().map_err(bad)?;
        blocking.connect_timeout(connect);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(options.size as usize)
            .wait_timeout(options.acquire_timeout)
            .create_timeout(Some(connect))
            .recycle_timeout(Some(connect))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("the PostgreSQL pool could not be built: {e}"))?;
        Ok(Postgres { pool, gauge: PoolGauge::new(options.size), blocking, options })
    }

    pub(crate) fn gauge(&self) -> Arc<PoolGauge> {
        Arc::clone(&self.gauge)
    }

    /// One query through the pool: wait (yielding) for a connection, then
    /// for PostgreSQL. Neither wait holds a thread.
    pub(crate) async fn query(&self, d: Duration) -> Result<(), ApiError> {
        let client = self.pool.get().await.map_err(|e| self.pool_error(e))?;
        let _lent = self.gauge.checkout();
        let statement = client.prepare_cached(SLEEP).await.map_err(|e| query_error(&e))?;
        let seconds = d.as_secs_f64();
        client.execute(&statement, &[&seconds]).await.map(|_| ()).map_err(|e| query_error(&e))
    }

    fn pool_error(&self, e: PoolError) -> ApiError {
        match e {
            PoolError::Timeout(TimeoutType::Wait) => {
                self.gauge.timed_out();
                ApiError::unavailable(format!(
                    "pool exhausted: all {} connections stayed in use for {} ms (--pool-size, --io-timeout-ms)",
                    self.options.size,
                    self.options.acquire_timeout.unwrap_or_default().as_millis()
                ))
            }
            PoolError::Timeout(_) => {
                ApiError::unavailable("database unavailable: connecting timed out".into())
            }
            PoolError::Backend(e) => unavailable(&e),
            other => ApiError::unavailable(format!("database unavailable: {other}")),
        }
    }

    /// One query on this thread's own connection, holding the thread.
    ///
    /// The `postgres` crate blocks by running a small tokio runtime of its
    /// own, and tokio panics when that happens on a runtime's worker thread.
    /// The trap calls this on a worker, and a real trap's blocking driver
    /// would not panic: it would block the worker silently. So there the
    /// query runs on a plain thread that the worker joins: the worker is
    /// held for the whole query, exactly as a blocking driver holds it.
    pub(crate) fn query_blocking(&self, d: Duration) -> Result<(), ApiError> {
        let conn = CONN.with(|c| c.borrow_mut().take());
        let (client, result) = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| s.spawn(|| self.run_blocking(conn, d)).join()).unwrap_or_else(
                |_| (None, Err(ApiError::internal("the database thread panicked".into()))),
            )
        } else {
            self.run_blocking(conn, d)
        };
        CONN.with(|c| *c.borrow_mut() = client.map(|client| Conn(Some(client))));
        result
    }

    fn run_blocking(
        &self,
        conn: Option<Conn>,
        d: Duration,
    ) -> (Option<Client>, Result<(), ApiError>) {
        let mut client = match conn.and_then(Conn::into_client) {
            Some(client) if !client.is_closed() => client,
            _ => match self.blocking.connect(NoTls) {
                Ok(client) => client,
                Err(e) => return (None, Err(unavailable(&e))),
            },
        };
        match client.execute(SLEEP, &[&d.as_secs_f64()]) {
            Ok(_) => (Some(client), Ok(())),
            // The connection is dropped here, on this thread: the next
            // call connects again.
            Err(e) => (None, Err(query_error(&e))),
        }
    }
}

/// A failed query: a lost connection means the database is unavailable;
/// anything else is the database refusing the query.
fn query_error(e: &tokio_postgres::Error) -> ApiError {
    if e.is_closed() {
        unavailable(e)
    } else {
        ApiError::bad_gateway(format!("the database refused the query: {}", describe(e)))
    }
}

fn unavailable(e: &dyn std::error::Error) -> ApiError {
    ApiError::unavailable(format!("database unavailable: {}", describe(e)))
}

/// "error connecting to server: Connection refused (os error 111)": the
/// driver's Display stops at the first line, the cause is in its sources.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

thread_local! {
    /// The calling thread's own connection (blocking servers).
    static CONN: RefCell<Option<Conn>> = const { RefCell::new(None) };
}

/// A thread's blocking client, kept between its queries. It is only
/// dropped with its thread, and is left for the OS to close then: dropping
/// a `postgres::Client` enters its own small tokio runtime, which panics
/// once the thread's tokio context is gone (as it is while a thread's
/// locals are destroyed). The serving threads end only when the server does.
struct Conn(Option<Client>);

impl Conn {
    fn into_client(mut self) -> Option<Client> {
        self.0.take()
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            std::mem::forget(client);
        }
    }
}

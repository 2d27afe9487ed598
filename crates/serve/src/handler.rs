//! What a handler works with, where requests are served: its [`Params`]
//! (the contract's query plus the backend its waits go to), and the CPU
//! work, counted for /metrics.
//!
//! The tokio servers get `Params` as an axum extractor (`serve`); the
//! blocking app parses it itself (`Params::parse`).

use std::ops::Deref;

use crate::contract::{self, ApiError, Query};
use crate::io::IoBackend;
use crate::metrics;

/// The server-wide defaults that a request's query may override, and the
/// backend every request waits on.
#[derive(Clone, Debug)]
pub struct Settings {
    pub defaults: Query,
    /// What a wait is: a timer unless `--io-backend` says otherwise.
    pub backend: IoBackend,
}

/// One request's parameters (`p.io_wait`, `p.db_wait`, `p.cpu_rounds`,
/// `p.variant`: the contract's [`Query`], reached through `Deref`) and
/// where its waits go (`p.backend.wait(p.io_wait)`).
#[derive(Clone, Debug)]
pub struct Params {
    pub query: Query,
    pub backend: IoBackend,
}

impl Params {
    /// Reads one request's query string over `settings` (the rules:
    /// `contract::Query::parse`).
    pub fn parse(query: Option<&str>, settings: &Settings) -> Result<Params, ApiError> {
        Ok(Params {
            query: Query::parse(query, &settings.defaults)?,
            backend: settings.backend.clone(),
        })
    }
}

impl Deref for Params {
    type Target = Query;

    fn deref(&self) -> &Query {
        &self.query
    }
}

/// The CPU work behind /cpu-intensive (`contract::checksum`), counted while
/// it runs: /metrics reports how many jobs ran at once (`cpu_jobs_peak`),
/// however the server schedules them.
pub fn cpu_work(rounds: u64) -> u64 {
    let _job = metrics::cpu_job();
    contract::checksum(rounds)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn params_are_the_query_over_the_defaults_with_the_backend() {
        let defaults = Query {
            variant: "test",
            io_wait: Duration::from_millis(500),
            db_wait: Duration::from_millis(300),
            cpu_rounds: 10,
        };
        let settings = Settings { defaults, backend: IoBackend::timer() };
        let p = Params::parse(Some("io_ms=20"), &settings).unwrap();
        assert_eq!((p.variant, p.io_wait.as_millis(), p.db_wait.as_millis()), ("test", 20, 300));
        assert_eq!(p.backend.name(), "timer");
        assert_eq!(Params::parse(Some("io_ms=x"), &settings).unwrap_err().status, 400);
    }

    #[test]
    fn cpu_work_is_the_contracts_checksum() {
        assert_eq!(cpu_work(1000), contract::checksum(1000));
    }
}

//! The HTTP client every measurement sends through, and what its results
//! mean: the grade's burst and CPU probe here, and the load generators of
//! kit-load (`kit bench`, `kit attack`, `kit capacity`) on top of it.
//!
//! - [`url`]: the URL parser ([`url::HttpUrl`]) and the connection probe
//!   that makes "server not running" fail fast.
//! - [`outcome`]: the names given to transport failures, and what counts as
//!   an error (the load generators' rule and the stricter contract rule).
//! - [`progress`]: the progress hook every generator accepts.
//! - [`hyper_conn`]: one hyper HTTP/1.1 connection at a time (the CPU probe,
//!   bench and attack).
//! - [`raw`]: the burst's leaner client: one GET per connection, written and
//!   read by hand on a `TcpStream`, its answer read by a pure
//!   [`raw::AnswerReader`] (the fuzz target's).
//! - [`hostile`]: misbehaving servers for the tests of every client here
//!   (never answering, stalling, endless, garbage, closing early).
//!
//! Bench (closed loop) and attack (open loop) differ in *when* they send;
//! the rules for what a result means live here so that both report the
//! same thing the same way. Both send through [`hyper_conn`], the client
//! `kit selfcheck` compares with wrk. The burst and the CPU probe use the
//! same failure names and the same progress hook; only their error rule is
//! stricter (see [`outcome::is_contract_answer`]).

use std::fmt;

pub mod hostile;
pub mod hyper_conn;
pub mod outcome;
pub mod progress;
pub mod raw;
pub mod url;

/// Why a load run could not start (or, for the wrk comparison, finish).
/// Failures *during* a run are not errors: they are counted in the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The URL cannot be loaded: not a URL, not http://, no host.
    InvalidUrl { url: String, reason: String },
    /// The options contradict themselves (zero connections, no stop condition...).
    InvalidOptions(String),
    /// Nothing answers at the URL's host and port.
    Connect { url: String, reason: String },
    /// Running or reading `wrk` failed (only `kit_load::bench::self_check_vs_wrk`).
    Wrk(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::InvalidUrl { url, reason } => write!(
                f,
                "invalid URL '{url}': {reason} (expected something like http://127.0.0.1:3000/health)"
            ),
            LoadError::InvalidOptions(why) => write!(f, "invalid options: {why}"),
            LoadError::Connect { url, reason } => {
                write!(f, "cannot connect to {url}: {reason} — is the server running?")
            }
            LoadError::Wrk(why) => write!(f, "wrk comparison failed: {why}"),
        }
    }
}

impl std::error::Error for LoadError {}

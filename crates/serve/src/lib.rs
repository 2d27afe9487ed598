//! # kit-serve: what a server needs
//!
//! The serving kernel of async-await-kit. The four servers, the
//! exercises and their solutions depend on this crate (and the wrapper's on
//! kit-blocking, the blocking app and its bridge), never on the measuring
//! or the presentation stack.
//!
//! ## Layout
//! - [`contract`]: the wire vocabulary: the endpoints, the query (without a
//!   backend), the JSON bodies, the errors and `GET /metrics`. A leaf.
//! - [`config`]: the flags every server shares (`--io-ms`, ...), with `KIT_*` env vars.
//! - [`io`]: where waits go (`--io-backend`): a timer, an upstream over HTTP,
//!   PostgreSQL (`IoBackend`), and a pool's gauge.
//! - [`metrics`]: in-flight counting, `peak_in_flight`, the CPU jobs, latency,
//!   threads, RSS, the declared [`metrics::Slots`]: what `GET /metrics` reports.
//! - [`handler`]: what a handler gets (`Params`: the query plus the backend)
//!   and the CPU work, counted.
//! - [`http_rules`]: the HTTP rules every server keeps whoever parses its
//!   requests (Host, the body's framing, HEAD, `Allow`): docs/http.md.
//! - [`net`]: binding with a real backlog, the first stdout line, signals.
//! - [`serve`]: the one way a server starts (`Server`), and the axum plumbing
//!   shared by the tokio servers (`Routes`, serving, draining).
//! - [`upstream`]: the slow service the servers and the exercises call
//!   (`/delay`, `/price`, a limit, a hang switch, its own count of calls).
//! - [`os`]: the only place that asks the operating system directly (threads,
//!   RSS, liveness, limits): /proc on Linux, libproc and sysctl on macOS.
//!
//! Who imports whom (no module imports one that imports it back):
//! `contract` and `os` import nothing of the crate; `net` imports `os`;
//! `config` imports `contract`; `io` imports `contract`; `metrics` imports
//! `contract`, `io` and `os`; `handler` imports `contract`, `io` and
//! `metrics`; `http_rules` imports `contract`; `serve` imports all of them but `os`; `upstream` imports `config`, `contract`,
//! `metrics`, `net` and `serve`.

// The kit needs unix processes, signals and pipes. One clear error instead
// of a page of missing items; the modules below are left out so that it is
// the only one.
#[cfg(not(unix))]
compile_error!("async-await-kit runs on Linux and macOS; on Windows use WSL 2");

#[cfg(unix)]
pub mod config;
#[cfg(unix)]
pub mod contract;
#[cfg(unix)]
pub mod handler;
#[cfg(unix)]
pub mod http_rules;
#[cfg(unix)]
pub mod io;
#[cfg(unix)]
pub mod metrics;
#[cfg(unix)]
pub mod net;
#[cfg(unix)]
pub mod os;
#[cfg(unix)]
pub mod serve;
#[cfg(unix)]
pub mod upstream;

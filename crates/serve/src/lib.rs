//! # kit-serve: what a server needs
//!
//! The serving kernel of async-await-kit. The four servers, both exercises
//! and both solutions depend on this crate and on nothing else of the kit,
//! so a learner's build compiles the contract and the plumbing, never the
//! measuring or the presentation stack.
//!
//! ## Layout
//! - [`contract`]: the endpoints, their query parameters and JSON bodies.
//! - [`config`]: the flags every server shares (`--io-ms`, ...), with `KIT_*` env vars.
//! - [`io`]: where waits go (`--io-backend`): a timer, an upstream over HTTP, PostgreSQL.
//! - [`metrics`]: in-flight counting, `peak_in_flight`, latency, threads, RSS: `GET /metrics`.
//! - [`net`]: binding with a real backlog, the first stdout line, signals.
//! - [`serve`]: the axum plumbing shared by the three tokio servers.
//! - [`os`]: the only place that asks the operating system directly (threads,
//!   RSS, liveness, limits): /proc on Linux, libproc and sysctl on macOS.

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
pub mod io;
#[cfg(unix)]
pub mod metrics;
#[cfg(unix)]
pub mod net;
#[cfg(unix)]
pub mod os;
#[cfg(unix)]
pub mod serve;

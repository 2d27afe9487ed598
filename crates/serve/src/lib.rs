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
//! - [`metrics`]: in-flight counting, `peak_in_flight`, latency, threads, RSS: `GET /metrics`.
//! - [`net`]: binding with a real backlog, the first stdout line, signals.
//! - [`serve`]: the axum plumbing shared by the three tokio servers.

pub mod config;
pub mod contract;
pub mod metrics;
pub mod net;
pub mod serve;

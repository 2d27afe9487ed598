//! # async-await-kit
//!
//! Four web servers that wait the same way on paper and very differently in
//! practice, and the tools to measure why. The one idea is the slot model:
//! N concurrent requests of t seconds on a server with s slots take about
//! `ceil(N / s) * t`.
//!
//! ## Layout
//! The servers' side (what the four binaries under `servers/` share):
//! - [`contract`]: the endpoints, their query parameters and JSON bodies.
//! - [`config`]: the flags every server shares (`--io-ms`, ...), with `KIT_*` env vars.
//! - [`metrics`]: in-flight counting, `peak_in_flight`, latency, threads, RSS: `GET /metrics`.
//! - [`net`]: binding with a real backlog, the first stdout line, signals.
//! - [`serve`]: the axum plumbing shared by the three tokio servers.
//!
//! The measuring side (tests, grade and the `kit` command):
//! - [`harness`]: start a server process on port 0, kill it on drop; `Target` and `Remote`.
//! - [`burst`]: N concurrent requests, one connection each, with the server's metrics around them.
//! - [`http1`]: one hyper HTTP/1.1 connection at a time (the burst's, the CPU probe's and `bench`'s client).
//! - [`probe`]: /health latency while /cpu-intensive saturates the cores.
//! - [`bench`], [`attack`], [`loadgen`]: closed-loop and open-loop load against any URL.
//! - [`latency`]: hdrhistogram recording and percentile summaries.
//! - [`slots`]: the slot model and the measured `Row`.
//! - [`expect`]: assertions in slot language, paired time + exact checks.
//! - [`conformance`]: does a running server keep the contract?
//! - [`grade`]: the learners' five checks, one implementation for every exercise.
//!
//! Rendering and the command:
//! - [`table`]: rows as an aligned Markdown table (snapshot-tested).
//! - [`charts`]: rows as PNG and SVG charts with an embedded font.
//! - [`demo`]: the guided workshop walk-through.
//! - [`cli`]: the `kit` subcommands (race, report, up, health, bench, attack, selfcheck, demo).

pub mod attack;
pub mod bench;
pub mod burst;
pub mod charts;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod contract;
pub mod demo;
pub mod expect;
pub mod grade;
pub mod harness;
pub mod http1;
pub mod latency;
pub mod loadgen;
pub mod metrics;
pub mod net;
pub mod probe;
pub mod serve;
pub mod slots;
pub mod table;

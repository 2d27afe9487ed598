//! # kit-measure: what a test or the grade needs
//!
//! Starting servers as real processes, loading them over real HTTP, and
//! judging what came back against the slot model. The kit's tests, the
//! `kit` command, and every exercise's and solution's grade use it; the
//! exercises and solutions take it as a dev-dependency only.
//!
//! ## Layout
//! - [`harness`]: start a server process on port 0, kill it on drop; `Target` and `Remote`.
//! - [`burst`]: N concurrent requests, one connection each, with the server's metrics around them.
//! - [`http1`]: one hyper HTTP/1.1 connection at a time (the CPU probe, `bench` and `attack`).
//! - [`wire`]: the burst's client, one GET per connection by hand, sockets closed after the last answer.
//! - [`probe`]: /health latency while /cpu-intensive saturates the cores.
//! - [`capacity`], [`little`]: open-loop attacks at rising rates, and Little's law measured on the server's own /metrics.
//! - [`bench`], [`attack`], [`loadgen`]: closed-loop and open-loop load against any http:// URL; loadgen holds their URL parser and rules.
//! - [`series`]: an attack interval by interval, the server's /metrics sampled alongside, and its live view.
//! - [`latency`]: hdrhistogram recording and percentile summaries.
//! - [`slots`]: the slot model and the measured `Row`.
//! - [`expect`]: assertions in slot language, paired time + exact checks.
//! - [`conformance`]: does a running server keep the contract?
//! - [`grade`]: the learners' five checks, one implementation for every exercise.
//! - [`pool_grade`], [`database`]: the pool exercise's checks, and the PostgreSQL they need (`KIT_DATABASE_URL`).
//! - [`table`]: rows as an aligned Markdown table (snapshot-tested).

pub mod attack;
pub mod bench;
pub mod burst;
pub mod capacity;
pub mod conformance;
pub mod database;
pub mod exercises;
pub mod expect;
pub mod grade;
pub mod harness;
pub mod http1;
pub mod latency;
pub mod little;
pub mod loadgen;
pub mod pool_grade;
pub mod probe;
pub mod series;
pub mod slots;
pub mod table;
pub mod wire;

//! # async-await-kit: the `kit` command
//!
//! Four web servers that wait the same way on paper and very differently in
//! practice, and the tools to measure why. The one idea is the slot model:
//! N concurrent requests of t seconds on a server with s slots take about
//! `ceil(N / s) * t`.
//!
//! ## Layout of the workspace (three crates, split by who needs what)
//! - `crates/serve` (`kit-serve`): what a server needs: contract, config,
//!   metrics, net, serve. Servers, exercises and solutions depend on it.
//! - `crates/measure` (`kit-measure`): what a test or the grade needs:
//!   harness, burst, probes, load generators, slots, expect, conformance,
//!   grade, table. A dev-dependency of exercises and solutions.
//! - this crate (`kit`): the presentation: the command line, charts, the
//!   demo, live views. Nothing a learner builds depends on it.
//!
//! The modules of the first two are re-exported here, so the command reads
//! `crate::burst` whichever crate a module lives in.
//!
//! ## Layout of this crate
//! - [`charts`]: rows as PNG and SVG charts with an embedded font.
//! - [`demo`]: the guided workshop walk-through.
//! - [`containers`]: the servers as locally made images (`kit images`,
//!   `kit up --containers`, the container tests).
//! - [`cli`]: the `kit` subcommands (race, report, up, health, bench, attack, capacity, seed, stress, selfcheck, demo, doctor).

pub use kit_load::{attack, bench, capacity, intervals, littles_law, live, sampler};
pub use kit_measure::{burst, client, conformance, expect, grade, harness, latency, probe, slots, table};
pub use kit_serve::{config, contract, metrics, net, os, serve};

pub mod charts;
pub mod cli;
pub mod containers;
pub mod demo;

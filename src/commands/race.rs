//! `kit race` (and `kit` alone): the headline. All four servers at once,
//! N concurrent /parallel each, live progress per server, then the table,
//! what it means in slots, and the report files.
//!
//! Run: `cargo run --release` (or `cargo run --release -- race --n 100 --io-ms 500`)

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::json;

use kit_measure::burst::Timeline;
use kit_measure::slots::{fill_speedups, Row, VARIANTS};
use kit_measure::table;
use kit_serve::contract::{Endpoint, DEFAULT_CPU_ROUNDS};
use kit_serve::net;

use crate::error::{CliError, Result};
use crate::support::explain;
use crate::support::files::{self, OutArgs};
use crate::support::fleet::{self, Cell, Job};
use crate::support::servers::{self, Knobs, Started};

/// The endpoint of the race: two independent waits of io.
const PATH: &str = Endpoint::Parallel.path();
/// The database wait does not matter to /parallel; the contract's default.
const DB_MS: u64 = 300;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Concurrent requests at each server.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub n: u64,
    /// One I/O wait, in milliseconds (/parallel makes two).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub io_ms: u64,
    #[command(flatten)]
    pub out: OutArgs,
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    let bins = servers::locate_all(stop)?;
    let knobs = Knobs { io_ms: args.io_ms, db_ms: DB_MS, cpu_rounds: DEFAULT_CPU_ROUNDS };
    // Started here, on the main thread, which outlives every burst.
    let mut started = Vec::with_capacity(VARIANTS.len());
    for (bin, variant) in bins.iter().zip(VARIANTS) {
        started.push(servers::start(bin, variant, &knobs.args(), stop)?);
    }
    eprintln!("racing {} x {PATH} at the four servers (io {} ms)...", args.n, args.io_ms);
    let jobs: Vec<Job> =
        started.iter().map(|s| job(s, args.n, Duration::from_millis(args.io_ms))).collect();
    let outcome = fleet::run(&jobs, stop);
    drop(jobs);
    drop(started);
    let mut rows = outcome.rows;
    fill_speedups(&mut rows);
    publish(&args, knobs, &rows, &outcome.timelines)?;
    if outcome.failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(outcome.failures.join("\n")))
    }
}

/// One server's part of the race. The model's t is what one request needs
/// alone: its two waits in a row (2 x io) on a blocking server, overlapped
/// (1 x io) on async-native.
fn job(started: &Started, n: u64, io: Duration) -> Job<'_> {
    let t = if started.slots.is_none() { io } else { io * 2 };
    Job {
        started,
        cells: vec![Cell { path: PATH.into(), n, t, slots: started.slots }],
        label: started.variant.clone(),
    }
}

/// The table and the conclusion on stdout, the files in `--out`.
fn publish(args: &Args, knobs: Knobs, rows: &[Row], timelines: &[Timeline]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let conclusion = explain::in_slots(rows);
    // A terminal gets the table that fits a projector; a pipe or a file
    // gets the full one, as report.md does.
    let shown = if std::io::stdout().is_terminal() {
        table::to_narrow_string(rows)
    } else {
        table::to_string(rows)
    };
    println!("{shown}\n{conclusion}");
    let settings = json!({ "endpoint": PATH, "n": args.n, "knobs": knobs });
    let written = files::write(&args.out.out, "race", settings, rows, timelines, &conclusion)?;
    eprintln!(
        "wrote report.md, report.html (one page, offline), report.json and {} chart files (PNG + SVG) to {}",
        written.len() - 3,
        args.out.out.display()
    );
    Ok(())
}

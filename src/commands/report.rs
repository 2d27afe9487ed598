//! `kit report`: the matrix, variants x endpoints x concurrency.
//!
//! A fresh server per (variant, endpoint), because RSS creeps across bursts
//! in one process. Sleep-bound endpoints measure the four variants at once:
//! waiting costs no CPU, so they do not disturb each other. /cpu-intensive
//! measures one variant at a time, or the variants would share the cores.
//!
//! Run: `cargo run --release -- report` (about half a minute) or `-- report --full`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use kit_measure::harness;
use kit_measure::slots::{fill_speedups, Row, VARIANTS};
use kit_measure::table;
use kit_serve::config::cores;
use kit_serve::contract::Endpoint;
use kit_serve::net;

use crate::error::{CliError, Result};
use crate::support::explain;
use crate::support::files::{self, OutArgs};
use crate::support::fleet::{self, Cell, Job, Outcome};
use crate::support::servers::{self, Knobs, Started};

/// The endpoints that only wait, measured four variants at a time.
const SLEEP_BOUND: [&str; 3] =
    [Endpoint::Parallel.path(), Endpoint::MultiIo.path(), Endpoint::DbSimulation.path()];
const CPU: &str = Endpoint::CpuIntensive.path();
/// Short waits: the same shape as the full run in a fraction of the time.
const QUICK: Knobs = Knobs { io_ms: 100, db_ms: 60, cpu_rounds: 10_000_000 };
/// The contract's defaults.
const FULL: Knobs =
    Knobs { io_ms: 500, db_ms: 300, cpu_rounds: kit_serve::contract::DEFAULT_CPU_ROUNDS };
/// How long calibrating one /cpu-intensive request may take.
const CALIBRATE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The contract's full waits (io 500 ms, db 300 ms, default CPU work): a few minutes.
    #[arg(long)]
    pub full: bool,
    /// The concurrency levels, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1u64, 10, 50, 100],
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub concurrency: Vec<u64>,
    /// Override the profile's I/O wait, in milliseconds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub io_ms: Option<u64>,
    /// Override the profile's database wait, in milliseconds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub db_ms: Option<u64>,
    /// Override the profile's CPU rounds per /cpu-intensive request.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=kit_serve::contract::MAX_CPU_ROUNDS))]
    pub cpu_rounds: Option<u64>,
    #[command(flatten)]
    pub out: OutArgs,
}

impl Args {
    fn knobs(&self) -> Knobs {
        let base = if self.full { FULL } else { QUICK };
        Knobs {
            io_ms: self.io_ms.unwrap_or(base.io_ms),
            db_ms: self.db_ms.unwrap_or(base.db_ms),
            cpu_rounds: self.cpu_rounds.unwrap_or(base.cpu_rounds),
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    let bins = servers::locate_all(stop)?;
    let knobs = args.knobs();
    let started_at = Instant::now();
    let mut all = Outcome::default();
    for path in SLEEP_BOUND {
        eprintln!("{path}: the four variants at once, N = {:?}", args.concurrency);
        let started = start_group(&bins, &VARIANTS, knobs, stop)?;
        let jobs: Vec<Job> =
            started.iter().map(|s| sleep_job(s, path, &args.concurrency, knobs)).collect();
        merge(&mut all, fleet::run(&jobs, stop));
    }
    for (bin, variant) in bins.iter().zip(VARIANTS) {
        eprintln!("{CPU}: {variant} alone, N = {:?}", args.concurrency);
        let started = start_group(std::slice::from_ref(bin), &[variant], knobs, stop)?;
        let job = cpu_job(&started[0], &args.concurrency)?;
        merge(&mut all, fleet::run(&[job], stop));
    }
    eprintln!("measured {} cells in {:.1} s", all.rows.len(), started_at.elapsed().as_secs_f64());
    publish(&args, knobs, all)
}

/// Fresh servers for one group of cells, started on the main thread.
fn start_group(
    bins: &[PathBuf],
    variants: &[&str],
    knobs: Knobs,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Vec<Started>> {
    bins.iter().zip(variants).map(|(bin, v)| servers::start(bin, v, &knobs.args(), stop)).collect()
}

fn merge(all: &mut Outcome, more: Outcome) {
    all.rows.extend(more.rows);
    all.timelines.extend(more.timelines);
    all.failures.extend(more.failures);
}

/// The time one request of a sleep-bound endpoint needs alone. Only
/// /parallel differs by variant: async-native overlaps its two waits.
fn wait_time(path: &str, native: bool, knobs: Knobs) -> Duration {
    let (io, db) = (Duration::from_millis(knobs.io_ms), Duration::from_millis(knobs.db_ms));
    match path {
        "/parallel" if native => io,
        "/parallel" => io * 2,
        "/multi-io" => io * 3,
        _ => db,
    }
}

fn sleep_job<'a>(started: &'a Started, path: &str, levels: &[u64], knobs: Knobs) -> Job<'a> {
    let t = wait_time(path, started.slots.is_none(), knobs);
    let cells =
        levels.iter().map(|&n| Cell { path: path.into(), n, t, slots: started.slots }).collect();
    Job { started, cells, label: format!("{} {path}", started.variant) }
}

/// CPU work has no t on paper: one request is timed alone first. And
/// whatever a server's slots, CPU work cannot run on more than the cores.
fn cpu_job<'a>(started: &'a Started, levels: &[u64]) -> Result<Job<'a>> {
    let t = calibrate(started)?;
    let slots = Some(started.slots.map_or(cores() as u64, |s| s.min(cores() as u64)));
    let cells = levels.iter().map(|&n| Cell { path: CPU.into(), n, t, slots }).collect();
    Ok(Job { started, cells, label: format!("{} {CPU}", started.variant) })
}

/// Times one /cpu-intensive request on an idle server (after a warm-up one).
fn calibrate(started: &Started) -> Result<Duration> {
    let addr = started.server.addr;
    let _ = harness::get(addr, CPU, CALIBRATE_TIMEOUT);
    let sent = Instant::now();
    match harness::get(addr, CPU, CALIBRATE_TIMEOUT) {
        Ok((200, _)) => Ok(sent.elapsed()),
        Ok((status, body)) => {
            Err(CliError::Failed(format!("{}: {CPU} answered {status}: {body}", started.variant)))
        }
        Err(e) => Err(CliError::Failed(format!("{}: {CPU} failed: {e}", started.variant))),
    }
}

/// The table on stdout, a conclusion per endpoint at the highest
/// concurrency, and the files.
fn publish(args: &Args, knobs: Knobs, all: Outcome) -> Result<()> {
    let mut rows = all.rows;
    fill_speedups(&mut rows);
    if !rows.is_empty() {
        let conclusion = conclusion(&rows);
        println!("{}\n{conclusion}", table::to_string(&rows));
        let settings = json!({ "profile": if args.full { "full" } else { "quick" }, "concurrency": args.concurrency, "knobs": knobs });
        let written = files::write(&args.out.out, "report", settings, &rows, &[], &conclusion)?;
        eprintln!(
            "wrote report.md, report.html (one page, offline), report.json and {} chart files (PNG + SVG) to {}",
            written.len() - 3,
            args.out.out.display()
        );
    }
    if all.failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(all.failures.join("\n")))
    }
}

fn conclusion(rows: &[Row]) -> String {
    let top = rows.iter().map(|r| r.concurrency).max().unwrap_or(0);
    SLEEP_BOUND
        .iter()
        .chain([&CPU])
        .map(|path| {
            let cell: Vec<Row> = rows
                .iter()
                .filter(|r| r.endpoint == *path && r.concurrency == top)
                .cloned()
                .collect();
            format!("### {path}, {top} concurrent\n\n{}", explain::in_slots(&cell))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

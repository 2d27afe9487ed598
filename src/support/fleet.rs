//! Bursts at several servers at once, one thread per server, watched from
//! the main thread.
//!
//! Each job is a server and the cells to measure on it, in order. The job
//! threads only measure. The main thread draws the progress, notices a
//! server that died, and on Ctrl-C / SIGTERM stops every server and exits
//! 130 at once, without waiting for bursts that may have seconds to go.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::ScopedJoinHandle;
use std::time::Duration;

use kit_measure::burst::{burst_with_progress, Burst, Timeline};
use kit_measure::harness;
use kit_measure::slots::{Row, SlotModel};

use super::progress::Bars;
use super::servers::Started;
use crate::error::EXIT_INTERRUPTED;

/// How often the main thread redraws and checks for Ctrl-C and dead servers.
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// A burst gives up at this multiple of the slot model's prediction...
const DEADLINE_FACTOR: u32 = 3;
/// ...plus this margin, so a hung server cannot hang the run.
const DEADLINE_MARGIN: Duration = Duration::from_secs(10);
/// How many lines of a failed server's output the report shows.
const TAIL_LINES: usize = 15;

/// One measurement: `n` concurrent `GET path`, judged against `slots`
/// slots of `t` each.
#[derive(Clone, Debug)]
pub struct Cell {
    pub path: String,
    pub n: u64,
    /// How long one request needs alone: the slot model's t.
    pub t: Duration,
    /// The slots the model should assume. Usually the server's own limit,
    /// but CPU work is bounded by the cores too.
    pub slots: Option<u64>,
}

impl Cell {
    pub fn model(&self) -> SlotModel {
        SlotModel::new(self.n, self.t, self.slots)
    }

    /// Long enough for any server that behaves as the model says.
    pub fn deadline(&self) -> Duration {
        self.model().predicted() * DEADLINE_FACTOR + DEADLINE_MARGIN
    }

    /// The burst as a row and as a timeline, under this cell's model.
    fn measured(&self, burst: &Burst) -> (Row, Timeline) {
        (burst.row_under(self.model()), burst.timeline(self.model()))
    }
}

/// A server and the cells to measure on it, in order.
pub struct Job<'a> {
    pub started: &'a Started,
    pub cells: Vec<Cell>,
    /// The bar's label.
    pub label: String,
}

/// What the jobs measured, and which of them failed.
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    /// Every request of every burst, from sent to answered, in the order of `rows`.
    pub timelines: Vec<Timeline>,
    /// One message per failed job: which server, why, its last output.
    pub failures: Vec<String>,
}

/// What a job thread shares with the main thread.
#[derive(Default)]
struct Live {
    /// Requests finished in this job, all its cells so far.
    done: AtomicU64,
    cell: AtomicUsize,
    /// Each finished cell's measured total, for the bar's last word.
    totals: Mutex<Vec<Duration>>,
}

/// Runs every job at once and waits for all of them. Returns only when all
/// jobs finished; on Ctrl-C it does not return (see [`abort`]).
pub fn run(jobs: &[Job], stop: &AtomicBool) -> Outcome {
    let live: Vec<Live> = jobs.iter().map(|_| Live::default()).collect();
    let labels: Vec<String> = jobs.iter().map(|j| j.label.clone()).collect();
    let lens: Vec<u64> = jobs.iter().map(|j| j.cells.iter().map(|c| c.n).sum()).collect();
    let bars = Bars::new(&labels, &lens);
    let results = std::thread::scope(|s| {
        let handles: Vec<_> =
            jobs.iter().zip(&live).map(|(job, live)| s.spawn(move || measure(job, live))).collect();
        watch(jobs, &live, &handles, &bars, stop);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("the measuring thread panicked".into())))
            .collect::<Vec<_>>()
    });
    let mut outcome = Outcome::default();
    for (job, result) in jobs.iter().zip(results) {
        match result {
            Ok(measured) => {
                for (row, timeline) in measured {
                    outcome.rows.push(row);
                    outcome.timelines.push(timeline);
                }
            }
            Err(why) => outcome.failures.push(failure(job.started, &why)),
        }
    }
    outcome
}

/// What a job thread returns: each cell's row and timeline, or why it failed.
type Measured = Result<Vec<(Row, Timeline)>, String>;

/// A job thread: the cells one after the other. No printing here.
fn measure(job: &Job, live: &Live) -> Measured {
    let mut rows = Vec::with_capacity(job.cells.len());
    for (i, cell) in job.cells.iter().enumerate() {
        live.cell.store(i, Ordering::Relaxed);
        // The burst counts from 0; the bar spans the job's cells.
        let before = live.done.load(Ordering::Relaxed);
        let hook = |n: u64| live.done.store(before + n, Ordering::Relaxed);
        let burst = burst_with_progress(
            &job.started.server,
            &cell.path,
            cell.n,
            cell.deadline(),
            Some(&hook),
        )
        .map_err(|e| format!("{} x {}: {e}", cell.n, cell.path))?;
        live.totals.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(burst.total);
        rows.push(cell.measured(&burst));
    }
    Ok(rows)
}

/// The main thread's loop while the jobs run.
fn watch(
    jobs: &[Job],
    live: &[Live],
    handles: &[ScopedJoinHandle<'_, Measured>],
    bars: &Bars,
    stop: &AtomicBool,
) {
    let mut open: Vec<bool> = vec![true; jobs.len()];
    while open.iter().any(|o| *o) {
        if stop.load(Ordering::SeqCst) {
            abort(jobs);
        }
        for (i, job) in jobs.iter().enumerate() {
            if !open[i] {
                continue;
            }
            let done = live[i].done.load(Ordering::Relaxed);
            if job.started.server.exited().is_some() {
                bars.fail(i, "the server died");
                open[i] = false;
            } else if handles[i].is_finished() {
                let totals =
                    live[i].totals.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
                if totals.len() < job.cells.len() {
                    // A burst that failed: its message follows the bars.
                    bars.fail(i, "stopped, see below");
                } else {
                    bars.finish(i, done, &totals);
                }
                open[i] = false;
            } else {
                let cell =
                    &job.cells[live[i].cell.load(Ordering::Relaxed).min(job.cells.len() - 1)];
                bars.tick(i, done, &format!("{} x {}", cell.n, cell.path));
            }
        }
        std::thread::sleep(WATCH_EVERY);
    }
}

/// Ctrl-C or SIGTERM: kill every server of this run and exit 130 now.
///
/// Exiting from here, not returning, is deliberate: the job threads are
/// blocked in bursts that may have seconds to go, and a scoped thread
/// cannot be abandoned. The servers are killed first, explicitly; they would
/// also see their stdin pipe close as the process exits, and exit.
fn abort(jobs: &[Job]) -> ! {
    for job in jobs {
        harness::signal(job.started.server.pid(), libc::SIGKILL);
    }
    eprintln!("\ninterrupted: stopped {} server(s)", jobs.len());
    std::process::exit(i32::from(EXIT_INTERRUPTED));
}

/// A failed job, told with the server's name and its last words.
fn failure(started: &Started, why: &str) -> String {
    let state = if started.server.exited().is_none() { "is still running" } else { "died" };
    format!(
        "{variant} failed: {why}\n  the server {state}; the last lines of its output:\n{tail}",
        variant = started.variant,
        tail = indent(&started.server.output_tail(TAIL_LINES)),
    )
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

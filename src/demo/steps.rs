//! The seven steps of the demo, one function each. A step returns
//! `Ok(None)` when the presenter's input ended, and the demo stops there.
//!
//! Steps 2-5 are one shape, a burst of N x /parallel against one server,
//! described by a [`BurstStep`]; what differs between them is data: the
//! lines they show, the slot count the lesson predicts, and what the
//! runtime's executor lag should look like.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::snippets::{self, Snippet};
use super::{start, start_with, DemoError, DemoOptions, Go, Screen};
use crate::burst::{burst_with_progress, Burst};
use crate::probe::{health_under_cpu_load, CpuProbe};
use crate::slots::{fill_speedups, Row, SlotModel};
use crate::table::{self, VERDICT_TOLERANCE};

pub const COUNT: usize = 8;

/// Slots of the three blocking-shaped servers at their default knobs.
const BLOCKING_SLOTS: u64 = 4;
/// Step 6's closed-loop /cpu-intensive clients: twice the slots, so all stay busy.
const CPU_CLIENTS: usize = 8;
/// /health p99 under this reads as "fast" in step 6 (the same line as servers/tests/alone/cpu.rs).
const FAST_HEALTH_MS: f64 = 50.0;

/// What executor lag the lesson predicts for a server.
#[derive(Clone, Copy)]
enum Lag {
    /// No async runtime to lag.
    NoRuntime,
    /// Blocking calls on the workers: the heartbeat waits a whole wait or more.
    Stalls,
    /// The runtime stays free: lag below this many ms.
    Free(f64),
}

/// One of steps 2-5: N x /parallel against one server.
struct BurstStep {
    number: usize,
    server: &'static str,
    title: &'static str,
    /// What is about to happen, in a few lines.
    intro: &'static [&'static str],
    shows: &'static [Snippet],
    /// `None`: unbounded.
    slots: Option<u64>,
    /// How many io waits one request takes on an idle server.
    waits: u32,
    lag: Lag,
    takeaway: &'static str,
}

const BURSTS: [BurstStep; 4] = [
    BurstStep {
        number: 2,
        server: "sync-blocking",
        title: "sync-blocking: 4 threads = 4 slots",
        intro: &[
            "Four handler threads. Each takes a request and sleeps through its two waits,",
            "one after the other, before it can take the next: a thread is a slot.",
        ],
        shows: &[snippets::SYNC_PARALLEL, snippets::SYNC_HANDLER_LOOP],
        slots: Some(BLOCKING_SLOTS),
        waits: 2,
        lag: Lag::NoRuntime,
        takeaway: "a blocking server waits on exactly as many requests as it has threads.",
    },
    BurstStep {
        number: 3,
        server: "async-trap",
        title: "async-trap: async fn, still 4 slots",
        intro: &[
            "Same waits, now inside `async fn` on a tokio runtime with 4 worker threads.",
            "A blocking wait never yields: each worker is held for the whole request,",
            "and the runtime itself stalls (its heartbeat waits at least one whole wait).",
        ],
        shows: &[snippets::TRAP_PARALLEL],
        slots: Some(BLOCKING_SLOTS),
        waits: 2,
        lag: Lag::Stalls,
        takeaway: "writing `async fn` does not add slots; a blocking call inside it takes a worker hostage.",
    },
    BurstStep {
        number: 4,
        server: "blocking-wrapper",
        title: "blocking-wrapper: an async front, the same 4 slots",
        intro: &[
            "An async front end hands every request to the unchanged blocking app on 4 app",
            "threads and awaits the answer. The front end never blocks: its lag stays small.",
            "But the app still holds a thread per request.",
        ],
        shows: &[snippets::WRAPPER_BRIDGE],
        slots: Some(BLOCKING_SLOTS),
        waits: 2,
        lag: Lag::Free(100.0),
        takeaway: "an async front end keeps the server responsive, but the slots are still the app's threads.",
    },
    BurstStep {
        number: 5,
        server: "async-native",
        title: "async-native: waits that yield, unbounded slots",
        intro: &[
            "Every wait is an .await on a timer: a waiting request holds no thread.",
            "The two waits are independent, so tokio::join! runs them together: 1 x io.",
        ],
        shows: &[snippets::NATIVE_PARALLEL],
        slots: None,
        waits: 1,
        lag: Lag::Free(20.0),
        takeaway: "only waits that really yield, on a shared runtime, lift the slot limit.",
    },
];

/// Every step in order; stops early, cleanly, when the input ends.
pub(super) fn all(opts: &DemoOptions, screen: &mut Screen) -> Result<(), DemoError> {
    if slot_model(opts, screen)?.is_none() {
        return Ok(());
    }
    let mut rows = Vec::new();
    for step in &BURSTS {
        match burst_step(opts, screen, step)? {
            Some(row) => rows.push(row),
            None => return Ok(()),
        }
    }
    if cpu_step(opts, screen)?.is_none() {
        return Ok(());
    }
    if idle_step(opts, screen)?.is_none() {
        return Ok(());
    }
    summary(screen, rows)
}

/// Step 1: the slot model in three lines, and what the demo will measure.
fn slot_model(opts: &DemoOptions, screen: &mut Screen) -> Result<Option<()>, DemoError> {
    screen.title(1, "The slot model in three lines")?;
    screen.line("  1. A server can only wait on as many requests at once as it has slots.")?;
    screen.line("  2. N requests that each wait t seconds, on s slots, take about ceil(N / s) x t.")?;
    screen.line("  3. A blocking wait holds its slot (a thread) throughout; only an .await gives it back.")?;
    screen.line("")?;
    screen.line(&format!(
        "Next: {} concurrent GET /parallel (two independent waits of {} ms each) against four servers.",
        opts.n, opts.io_ms
    ))?;
    if screen.wait_for_enter("continue")? == Go::Stop {
        return Ok(None);
    }
    screen.takeaway("for every server, ask one question: how many slots does it have?")?;
    Ok(Some(()))
}

/// Steps 2-5: predict, show the lines, burst, compare.
fn burst_step(opts: &DemoOptions, screen: &mut Screen, step: &BurstStep) -> Result<Option<Row>, DemoError> {
    let t = opts.io() * step.waits;
    let model = SlotModel::new(opts.n, t, step.slots);
    screen.title(step.number, step.title)?;
    for line in step.intro {
        screen.line(&format!("  {line}"))?;
    }
    screen.line(&format!("  The slot model: {}.", prediction(&model)))?;
    show(screen, step.shows)?;
    if screen.wait_for_enter(&format!("run {} x /parallel against {}", opts.n, step.server))? == Go::Stop {
        return Ok(None);
    }
    screen.line(&format!("\n  This takes about {}.", duration_words(&model)))?;
    let burst = measure(opts, screen, step.server, &model)?;
    compare(screen, &model, &burst, step.lag, opts.io())?;
    screen.takeaway(step.takeaway)?;
    Ok(Some(burst.row(t)))
}

/// Starts the server, fires the burst, and drops the server before returning.
fn measure(opts: &DemoOptions, screen: &mut Screen, server: &'static str, model: &SlotModel) -> Result<Burst, DemoError> {
    let guard = start(opts, server)?;
    // Twice the prediction plus slack: a late burst still gets reported.
    let deadline = model.predicted() * 2 + Duration::from_secs(10);
    let done = AtomicU64::new(0);
    let hook = |n: u64| done.store(n, Ordering::Relaxed);
    let burst = screen.with_progress(opts.n, &done, || burst_with_progress(&guard, "/parallel", opts.n, deadline, Some(&hook)))?;
    burst.map_err(|e| DemoError::Measure { server, detail: e.0 })
}

fn prediction(model: &SlotModel) -> String {
    let slots = model.slots.map_or("unbounded slots".to_string(), |s| format!("{s} slots"));
    format!(
        "{} requests of {:.2} s on {slots} -> {} round(s) = {:.2} s, peak_in_flight {}",
        model.n,
        model.t.as_secs_f64(),
        model.rounds(),
        model.predicted().as_secs_f64(),
        predicted_peak(model)
    )
}

/// "25 s: 25 rounds of 1.0 s", so the room knows how long to watch.
fn duration_words(model: &SlotModel) -> String {
    let rounds = model.rounds();
    let plural = if rounds == 1 { "round" } else { "rounds" };
    format!("{}: {rounds} {plural} of {}", about(model.predicted()), about(model.t))
}

/// Seconds as a person says them: "25 s", "1.0 s", "0.50 s".
fn about(d: Duration) -> String {
    match d.as_secs_f64() {
        s if s >= 10.0 => format!("{s:.0} s"),
        s if s >= 1.0 => format!("{s:.1} s"),
        s => format!("{s:.2} s"),
    }
}

/// The most requests the model lets into handlers at once.
fn predicted_peak(model: &SlotModel) -> u64 {
    model.slots.map_or(model.n, |s| s.min(model.n))
}

/// Prints the measured burst next to the model, one quantity per line.
fn compare(screen: &mut Screen, model: &SlotModel, b: &Burst, lag: Lag, io: Duration) -> Result<(), DemoError> {
    let slots = model.slots.map_or("unbounded".to_string(), |s| s.to_string());
    // Measured rounds and slots use the server's own time per request.
    let seen = SlotModel { t: b.handler_time().unwrap_or(model.t), ..*model };
    let mut lines = vec![
        ("", "predicted".to_string(), "measured".to_string()),
        ("total", secs(model.predicted()), secs(b.total)),
        ("rounds", format!("{} x {}", model.rounds(), secs(model.t)), format!("{:.1}", seen.measured_rounds(b.total))),
        ("slots", slots, format!("{:.1} (N x t / total)", seen.measured_slots(b.total))),
        ("peak_in_flight", predicted_peak(model).to_string(), b.peak_in_flight().to_string()),
    ];
    if let Some(lag_line) = lag_line(lag, b, io) {
        lines.push(lag_line);
    }
    let threads = b.peak_threads.map_or_else(|| format!("unavailable on {}", crate::os::NAME), |t| t.to_string());
    lines.push(("OS threads (peak)", "-".into(), threads));
    lines.push(("errors", "0".into(), b.errors.to_string()));
    screen.line("")?;
    for (what, predicted, measured) in lines {
        screen.line(&format!("  {what:<18} {predicted:<26} {measured}"))?;
    }
    let verdict = b.row(model.t).verdict(VERDICT_TOLERANCE);
    screen.line("")?;
    screen.paragraph(&format!("In slot language: {}.", model.explain(b.total, b.handler_time())))?;
    screen.line(&format!("  Verdict: {verdict}."))?;
    if matches!(lag, Lag::Stalls) && verdict == "slower than the model" {
        // Seen on the trap with small bursts: a request queued on a worker
        // that is asleep in std::thread::sleep waits for that worker.
        screen.paragraph("Slower than 4 slots: requests queued on a worker that blocks wait for it, the stall made visible.")?;
    }
    Ok(())
}

fn lag_line(lag: Lag, b: &Burst, io: Duration) -> Option<(&'static str, String, String)> {
    let measured = b.after.executor_lag_ms.as_ref().map_or("-".to_string(), |l| millis(l.max));
    let predicted = match lag {
        Lag::NoRuntime => return None,
        Lag::Stalls => format!(">= {} ms (one wait)", io.as_millis()),
        Lag::Free(ms) => format!("small (< {ms:.0} ms)"),
    };
    Some(("executor lag max", predicted, measured))
}

/// A lag of 25007.6 ms reads better as 25.01 s.
fn millis(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn show(screen: &mut Screen, shows: &[Snippet]) -> Result<(), DemoError> {
    for snippet in shows {
        // The unit tests prove every snippet is found; should one still go
        // missing, say so on screen rather than stop a live workshop.
        let text = snippet.render(screen.color).unwrap_or_else(|e| format!("  (source not shown: {e})\n"));
        screen.line("")?;
        screen.out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// Step 6: CPU work is not a wait. async-trap computes on its workers,
/// async-native moves it to spawn_blocking; /health tells the difference.
fn cpu_step(opts: &DemoOptions, screen: &mut Screen) -> Result<Option<()>, DemoError> {
    let probe = Duration::from_millis(opts.cpu_probe_ms);
    screen.title(6, "CPU work: a slot that never yields")?;
    screen.line(&format!("  {CPU_CLIENTS} clients keep /cpu-intensive busy while we ask /health every 25 ms."))?;
    screen.line("  async-trap computes on its 4 workers: /health queues behind the CPU jobs.")?;
    screen.line("  async-native computes on spawn_blocking, one job per core: its workers stay free.")?;
    show(screen, &[snippets::TRAP_CPU, snippets::NATIVE_CPU])?;
    if screen.wait_for_enter("load async-trap, then async-native")? == Go::Stop {
        return Ok(None);
    }
    screen.line(&format!("\n  This takes about {} per server.", about(probe)))?;
    let trap = cpu_probe(opts, "async-trap", probe)?;
    let native = cpu_probe(opts, "async-native", probe)?;
    screen.line("")?;
    screen.line(&format!("  {:<14} {:>12} {:>12} {:>9}   predicted", "", "/health p50", "/health p99", "CPU jobs"))?;
    cpu_row(screen, "async-trap", &trap, "queued behind CPU jobs")?;
    cpu_row(screen, "async-native", &native, &format!("fast (p99 < {FAST_HEALTH_MS:.0} ms)"))?;
    screen.takeaway("CPU work needs a core, not a wait: keep it off the threads that answer requests.")?;
    Ok(Some(()))
}

fn cpu_probe(opts: &DemoOptions, server: &'static str, duration: Duration) -> Result<CpuProbe, DemoError> {
    let guard = start(opts, server)?;
    health_under_cpu_load(&guard, CPU_CLIENTS, duration).map_err(|e| DemoError::Measure { server, detail: e.0 })
}

fn cpu_row(screen: &mut Screen, server: &str, p: &CpuProbe, predicted: &str) -> Result<(), DemoError> {
    let (p50, p99) = (format!("{:.1} ms", p.health.p50_ms), format!("{:.1} ms", p.health.p99_ms));
    screen.line(&format!("  {server:<14} {p50:>12} {p99:>12} {:>9}   {predicted}", p.cpu_done))?;
    Ok(())
}

/// Step 7's idle clients: as many as sync-blocking has slots.
const IDLE_CLIENTS: usize = BLOCKING_SLOTS as usize;
/// How long before the real client the idle ones connect, so the server has
/// taken them when it arrives.
const IDLE_HEAD_START: Duration = Duration::from_millis(100);

/// Step 7: idle clients. A blocking server gives a connection its thread
/// from the moment it takes it, so clients that connect and send nothing
/// hold its slots (slowloris) until the header-read timeout closes them; a
/// tokio server parks such a connection as a task and serves on.
fn idle_step(opts: &DemoOptions, screen: &mut Screen) -> Result<Option<()>, DemoError> {
    let timeout = Duration::from_millis(opts.idle_timeout_ms);
    screen.title(7, "Idle clients: slots held by connections that send nothing")?;
    screen.line(&format!("  {IDLE_CLIENTS} clients connect and send nothing; then one client asks /health."))?;
    screen.line("  sync-blocking gives each connection a thread until it has read a request: 4 idle ones take all 4.")?;
    screen.line(&format!("  Its header-read timeout ({}) closes them; a tokio server parks each one as a task.", secs(timeout)))?;
    if screen.wait_for_enter("connect the idle clients to sync-blocking, then to async-native")? == Go::Stop {
        return Ok(None);
    }
    screen.line("")?;
    screen.line(&format!("  {:<14} {:>22}   predicted", "", "/health answered after"))?;
    let freed = timeout.saturating_sub(IDLE_HEAD_START);
    for (server, predicted) in [
        (
            "sync-blocking",
            format!(
                "when the timeout frees a slot: {} - the {} the idle clients came earlier = {}",
                secs(timeout),
                secs(IDLE_HEAD_START),
                secs(freed)
            ),
        ),
        ("async-native", "at once".to_string()),
    ] {
        let waited = health_beside_idle_clients(opts, server, timeout)?;
        screen.line(&format!("  {server:<14} {:>22}   {predicted}", secs(waited)))?;
    }
    screen.takeaway("a thread-per-connection server's slots are held by connections, not by work: time out slow clients.")?;
    Ok(Some(()))
}

/// How long /health took while `IDLE_CLIENTS` connections sat idle.
fn health_beside_idle_clients(opts: &DemoOptions, server: &'static str, timeout: Duration) -> Result<Duration, DemoError> {
    let guard = start_with(opts, server, &["--header-read-timeout-ms".to_string(), timeout.as_millis().to_string()])?;
    let measure = |e: std::io::Error| DemoError::Measure { server, detail: e.to_string() };
    let idle: Vec<std::net::TcpStream> =
        (0..IDLE_CLIENTS).map(|_| std::net::TcpStream::connect(guard.addr)).collect::<Result<_, _>>().map_err(measure)?;
    std::thread::sleep(IDLE_HEAD_START);
    let started = std::time::Instant::now();
    crate::harness::get(guard.addr, "/health", timeout * 4).map_err(measure)?;
    drop(idle);
    Ok(started.elapsed())
}

/// Step 8: the four bursts side by side, and where to go from here.
fn summary(screen: &mut Screen, mut rows: Vec<Row>) -> Result<(), DemoError> {
    screen.title(8, "Summary: the same burst, four servers")?;
    if screen.wait_for_enter("see the table")? == Go::Stop {
        return Ok(());
    }
    fill_speedups(&mut rows);
    screen.line("")?;
    screen.out.write_all(table::to_string(&rows).as_bytes())?;
    screen.line("")?;
    screen.line("What to do next:")?;
    screen.line("  cd exercises/trap && cargo test       # the grade fails: fix the trap (HINTS.md helps)")?;
    screen.line("  cd exercises/wrapper && cargo test    # then the wrapper")?;
    screen.takeaway("count the slots first; the timings follow from them.")?;
    Ok(())
}

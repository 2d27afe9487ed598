//! The eight steps of the demo, one function each. A step returns
//! `Ok(None)` when the presenter's input ended, and the demo stops there.
//!
//! Steps 2-5 are one shape, a burst of N x /parallel against one server,
//! described by a [`BurstStep`]; what differs between them is data: the
//! lines they show, the slot count the lesson predicts, and what the
//! runtime's executor lag should look like.
//!
//! What the steps measure comes from a [`Lab`]: the live servers in the
//! demo ([`LiveLab`]), fixed figures in the tests, so that every screen can
//! be checked at the projector's size without starting a server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kit_measure::burst::burst_with_progress;
use kit_measure::probe::health_under_cpu_load;
use kit_measure::slots::{fill_speedups, rounds, whole_ms, Row, SlotModel};
use kit_measure::table::{self, short_seconds, VERDICT_TOLERANCE};
use kit_serve::serve::HEARTBEAT;

use super::snippets::{self, Snippet};
use super::{start, start_with, DemoError, DemoOptions, Go, Screen};

pub const COUNT: usize = 8;

/// Each step's title, in order ("Step k of COUNT: ...").
pub const TITLES: [&str; COUNT] = [
    "The slot model in three lines",
    "sync-blocking: 4 threads = 4 slots",
    "async-trap: async fn, still 4 slots",
    "blocking-wrapper: an async front, the same 4 slots",
    "async-native: waits that yield, unbounded slots",
    "CPU work: a slot that never yields",
    "Idle clients: slots held by connections that send nothing",
    "Summary: the same burst, four servers",
];

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
    /// What is about to happen, in a few sentences (wrapped on screen).
    intro: &'static str,
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
        intro: "Four handler threads. Each takes a request and sleeps through its two waits, one after \
                the other, before it can take the next: a thread is a slot.",
        shows: &[snippets::SYNC_PARALLEL, snippets::SYNC_HANDLER_LOOP],
        slots: Some(BLOCKING_SLOTS),
        waits: 2,
        lag: Lag::NoRuntime,
        takeaway: "a blocking server waits on exactly as many requests as it has threads.",
    },
    BurstStep {
        number: 3,
        server: "async-trap",
        intro: "Same waits, now inside `async fn` on a tokio runtime with 4 worker threads. A blocking \
                wait never yields: each worker is held for the whole request, and the runtime itself \
                stalls (its heartbeat waits at least one whole wait).",
        shows: &[snippets::TRAP_PARALLEL],
        slots: Some(BLOCKING_SLOTS),
        waits: 2,
        lag: Lag::Stalls,
        takeaway: "writing `async fn` does not add slots; a blocking call inside it takes a worker hostage.",
    },
    BurstStep {
        number: 4,
        server: "blocking-wrapper",
        intro: "An async front end hands every request to the unchanged blocking app on 4 app threads \
                and awaits the answer. The front end never blocks: its lag stays small. But the app \
                still holds a thread per request.",
        shows: &[snippets::WRAPPER_BRIDGE],
        slots: Some(BLOCKING_SLOTS),
        waits: 2,
        lag: Lag::Free(100.0),
        takeaway: "an async front end keeps the server responsive, but the slots are still the app's threads.",
    },
    BurstStep {
        number: 5,
        server: "async-native",
        intro: "Every wait is an .await on a timer: a waiting request holds no thread. The two waits \
                are independent, so tokio::join! runs them together: 1 x io.",
        shows: &[snippets::NATIVE_PARALLEL],
        slots: None,
        waits: 1,
        lag: Lag::Free(20.0),
        takeaway: "only waits that really yield, on a shared runtime, lift the slot limit.",
    },
];

/// What one burst step measured: the figures its screen shows.
pub(super) struct BurstFigures {
    /// The burst as the summary's row: total, measured slots, peak, errors.
    pub row: Row,
    /// The time one request spent in its handler, as the server measured it (its p50).
    pub handler: Option<Duration>,
    /// The longest the runtime's heartbeat waited for a turn, in ms (`None`: no runtime).
    pub lag_max_ms: Option<f64>,
    /// The most OS threads the server had at once (`None`: no reading here).
    pub peak_threads: Option<u64>,
}

/// What step 6 measured on one server.
pub(super) struct CpuFigures {
    pub health_p50_ms: f64,
    pub health_p99_ms: f64,
    /// /cpu-intensive requests answered during the probe: a total.
    pub done: u64,
    /// The most CPU jobs that ran at the same moment (the server's own count).
    pub peak_at_once: u64,
}

/// Where the steps' figures come from.
pub(super) trait Lab {
    /// N x /parallel against `server`, judged by `model`; may show progress on `screen`.
    fn burst(
        &mut self,
        screen: &mut Screen,
        server: &'static str,
        model: &SlotModel,
    ) -> Result<BurstFigures, DemoError>;
    /// `server`'s /health while CPU_CLIENTS keep /cpu-intensive busy.
    fn cpu(&mut self, server: &'static str) -> Result<CpuFigures, DemoError>;
    /// How long /health took on `server` beside idle connections.
    fn idle(&mut self, server: &'static str) -> Result<Duration, DemoError>;
}

/// The demo's own lab: the four server binaries, started one at a time.
pub(super) struct LiveLab<'a>(pub(super) &'a DemoOptions);

impl Lab for LiveLab<'_> {
    fn burst(
        &mut self,
        screen: &mut Screen,
        server: &'static str,
        model: &SlotModel,
    ) -> Result<BurstFigures, DemoError> {
        let opts = self.0;
        let guard = start(opts, server)?;
        // Twice the prediction plus slack: a late burst still gets reported.
        let deadline = model.predicted() * 2 + Duration::from_secs(10);
        let done = AtomicU64::new(0);
        let hook = |n: u64| done.store(n, Ordering::Relaxed);
        let burst = screen.with_progress(opts.n, &done, || {
            burst_with_progress(&guard, "/parallel", opts.n, deadline, Some(&hook))
        })?;
        drop(guard);
        let burst = burst.map_err(|e| DemoError::Measure { server, detail: e.0 })?;
        Ok(BurstFigures {
            row: burst.row_under(*model),
            handler: burst.handler_time(),
            lag_max_ms: burst.after.executor_lag_ms.as_ref().map(|l| l.max),
            peak_threads: burst.peak_threads,
        })
    }

    fn cpu(&mut self, server: &'static str) -> Result<CpuFigures, DemoError> {
        let guard = start(self.0, server)?;
        let p =
            health_under_cpu_load(&guard, CPU_CLIENTS, Duration::from_millis(self.0.cpu_probe_ms))
                .map_err(|e| DemoError::Measure { server, detail: e.0 })?;
        Ok(CpuFigures {
            health_p50_ms: p.health.p50_ms,
            health_p99_ms: p.health.p99_ms,
            done: p.cpu_done,
            peak_at_once: p.after.cpu_jobs_peak,
        })
    }

    fn idle(&mut self, server: &'static str) -> Result<Duration, DemoError> {
        health_beside_idle_clients(self.0, server, Duration::from_millis(self.0.idle_timeout_ms))
    }
}

/// Every step in order; stops early, cleanly, when the input ends.
pub(super) fn all(
    opts: &DemoOptions,
    screen: &mut Screen,
    lab: &mut dyn Lab,
) -> Result<(), DemoError> {
    if slot_model(opts, screen)? == Go::Stop {
        return Ok(());
    }
    let mut rows = Vec::new();
    for step in &BURSTS {
        if begin(screen, step.number)? == Go::Stop {
            return Ok(());
        }
        match burst_step(opts, screen, lab, step)? {
            Some(row) => rows.push(row),
            None => return Ok(()),
        }
    }
    if begin(screen, 6)? == Go::Stop || cpu_step(opts, screen, lab)?.is_none() {
        return Ok(());
    }
    if begin(screen, 7)? == Go::Stop || idle_step(opts, screen, lab)?.is_none() {
        return Ok(());
    }
    if begin(screen, 8)? == Go::Stop {
        return Ok(());
    }
    summary(screen, rows)
}

/// Between one step and the next: the last one's result stays on screen until Enter,
/// then the next one's title.
fn begin(screen: &mut Screen, number: usize) -> Result<Go, DemoError> {
    if screen.wait_for_enter(&format!("go on to step {number} of {COUNT}"))? == Go::Stop {
        return Ok(Go::Stop);
    }
    screen.title(number, TITLES[number - 1])?;
    Ok(Go::Run)
}

/// Step 1: the slot model in three lines, and what the demo will measure.
fn slot_model(opts: &DemoOptions, screen: &mut Screen) -> Result<Go, DemoError> {
    screen.title(1, TITLES[0])?;
    screen.line("  1. A server can only wait on as many requests at once as it has slots.")?;
    screen.line(
        "  2. N requests that each wait t seconds, on s slots, take about ceil(N / s) x t.",
    )?;
    screen.line(
        "  3. A blocking wait holds its slot (a thread) throughout; only an .await gives it back.",
    )?;
    screen.line("")?;
    screen.paragraph(&format!(
        "Next: {} concurrent GET /parallel (two independent waits of {} ms each) against four servers, \
         one at a time.",
        opts.n, opts.io_ms
    ))?;
    screen.takeaway("for every server, ask one question: how many slots does it have?")
}

/// Steps 2-5: predict, show the lines, burst, compare.
fn burst_step(
    opts: &DemoOptions,
    screen: &mut Screen,
    lab: &mut dyn Lab,
    step: &BurstStep,
) -> Result<Option<Row>, DemoError> {
    let t = opts.io() * step.waits;
    let model = SlotModel::new(opts.n, t, step.slots);
    screen.paragraph(step.intro)?;
    screen.paragraph(&format!("The slot model: {}.", prediction(&model)))?;
    if show(screen, step.shows)? == Go::Stop {
        return Ok(None);
    }
    if screen.wait_for_enter(&format!("run {} x /parallel against {}", opts.n, step.server))?
        == Go::Stop
    {
        return Ok(None);
    }
    screen.line(&format!("  This takes about {}.", duration_words(&model)))?;
    let figures = lab.burst(screen, step.server, &model)?;
    if compare(screen, &model, &figures, step, opts.io())? == Go::Stop {
        return Ok(None);
    }
    if screen.takeaway(step.takeaway)? == Go::Stop {
        return Ok(None);
    }
    Ok(Some(figures.row))
}

fn prediction(model: &SlotModel) -> String {
    let slots = model.slots.map_or("unbounded slots".to_string(), |s| format!("{s} slots"));
    format!(
        "{} requests of {} on {slots} -> {} = {}, peak_in_flight {}",
        model.n,
        short_seconds(model.t.as_secs_f64()),
        rounds(model.rounds()),
        short_seconds(model.predicted().as_secs_f64()),
        predicted_peak(model)
    )
}

/// "25 s: 25 rounds of 1.0 s", so the room knows how long to watch.
fn duration_words(model: &SlotModel) -> String {
    format!("{}: {} of {}", about(model.predicted()), rounds(model.rounds()), about(model.t))
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

/// The measured burst next to the model, one quantity per line and one
/// figure per quantity: the same figures as the summary's table, formatted
/// the same way, and not repeated in other words below it.
fn compare(
    screen: &mut Screen,
    model: &SlotModel,
    f: &BurstFigures,
    step: &BurstStep,
    io: Duration,
) -> Result<Go, DemoError> {
    let row = &f.row;
    let slots = model.slots.map_or("unbounded".to_string(), |s| s.to_string());
    let how = if step.waits == 1 { "at once" } else { "in a row" };
    let per_request = f.handler.map_or("- (the server reported none)".to_string(), |h| {
        format!("{} ms (the server's own p50 in its handler)", whole_ms(h))
    });
    // Rounds as the table's slots are measured: with the server's own time per request.
    let t_seen = f.handler.unwrap_or(model.t).as_secs_f64();
    let rounds_seen = if t_seen > 0.0 { row.total_s / t_seen } else { 0.0 };
    let mut lines: Vec<(&str, String, String)> = vec![
        ("", "predicted".into(), "measured".into()),
        ("total", short_seconds(row.model_s), short_seconds(row.total_s)),
        (
            "time per request",
            format!("{} ms (2 x {} ms {how})", whole_ms(model.t), io.as_millis()),
            per_request,
        ),
        (
            "rounds",
            format!("{} x {}", model.rounds(), short_seconds(model.t.as_secs_f64())),
            format!("{rounds_seen:.1} (total / time per request)"),
        ),
        ("slots", slots, format!("{:.1} (N x time per request / total)", row.measured_slots)),
        ("peak_in_flight", predicted_peak(model).to_string(), row.peak_in_flight.to_string()),
    ];
    if let Some(lag_line) = lag_line(step.lag, f, io) {
        lines.push(lag_line);
    }
    let threads = f
        .peak_threads
        .map_or_else(|| format!("unavailable on {}", kit_serve::os::NAME), |t| t.to_string());
    lines.push(("OS threads (peak)", "-".into(), threads));
    lines.push(("errors", "0".into(), row.errors.to_string()));
    let mut text = String::from("\n");
    for (what, predicted, measured) in lines {
        text.push_str(&format!("  {what:<18} {predicted:<30} {measured}\n"));
    }
    let verdict = row.verdict(VERDICT_TOLERANCE);
    let mut notes = Vec::new();
    match step.lag {
        Lag::NoRuntime => {}
        Lag::Stalls => notes.push(format!(
            "executor lag max: the longest the runtime's heartbeat, due every {} ms, waited for a turn. \
             All that time every worker was held by a blocking wait, and the runtime ran nothing else.",
            HEARTBEAT.as_millis()
        )),
        Lag::Free(_) => notes.push(format!(
            "executor lag max: the longest the runtime's heartbeat, due every {} ms, waited for a turn: \
             the workers stayed free to run it.",
            HEARTBEAT.as_millis()
        )),
    }
    notes.push(format!("In slot language: {}", in_slot_language(model, row)));
    notes.push(format!("Verdict: {verdict}."));
    if matches!(step.lag, Lag::Stalls) && verdict == "slower than the model" {
        // Seen on the trap with small bursts: a request queued on a worker
        // that is asleep in std::thread::sleep waits for that worker.
        notes.push("Slower than 4 slots: requests queued on a worker that blocks wait for it, the stall made visible.".into());
    }
    for note in notes {
        text.push('\n');
        text.push_str(&super::indented(&note));
    }
    screen.block(&text)
}

/// What the burst means, in words and in figures the table already shows.
fn in_slot_language(model: &SlotModel, row: &Row) -> String {
    let peak = row.peak_in_flight;
    match model.slots {
        Some(s) => format!(
            "with {s} slots, at most {peak} requests were in handlers at once (the server's own count); \
             the other {} queued for a slot, round after round.",
            model.n.saturating_sub(peak)
        ),
        None if peak >= model.n => format!(
            "no slot limit, so all {peak} requests were in handlers at once (the server's own count): \
             one round."
        ),
        None => format!(
            "no slot limit, yet at most {peak} of the {} requests were in handlers at once (the \
             server's own count): something else held the rest back.",
            model.n
        ),
    }
}

fn lag_line(lag: Lag, f: &BurstFigures, io: Duration) -> Option<(&'static str, String, String)> {
    let measured = f.lag_max_ms.map_or("-".to_string(), millis);
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

/// The snippets, each as one block: the demo waits for Enter before a
/// listing that would push the step's title and the listing before it off
/// the screen.
fn show(screen: &mut Screen, shows: &[Snippet]) -> Result<Go, DemoError> {
    for snippet in shows {
        // The unit tests prove every snippet is found; should one still go
        // missing, say so on screen rather than stop a live workshop.
        let text =
            snippet.render(screen.color).unwrap_or_else(|e| format!("  (source not shown: {e})\n"));
        if screen.block(&format!("\n{text}"))? == Go::Stop {
            return Ok(Go::Stop);
        }
    }
    Ok(Go::Run)
}

/// Step 6: CPU work is not a wait. async-trap computes on its workers,
/// async-native moves it to spawn_blocking; /health tells the difference.
fn cpu_step(
    opts: &DemoOptions,
    screen: &mut Screen,
    lab: &mut dyn Lab,
) -> Result<Option<()>, DemoError> {
    let probe = Duration::from_millis(opts.cpu_probe_ms);
    screen.paragraph(&format!(
        "{CPU_CLIENTS} clients keep /cpu-intensive busy while we ask /health every 25 ms. async-trap \
         computes on its 4 workers: /health queues behind the CPU jobs. async-native computes on \
         spawn_blocking, one job per core: its workers stay free."
    ))?;
    if show(screen, &[snippets::TRAP_CPU, snippets::NATIVE_CPU])? == Go::Stop {
        return Ok(None);
    }
    if screen.wait_for_enter("load async-trap, then async-native")? == Go::Stop {
        return Ok(None);
    }
    screen.line(&format!("  This takes about {} per server.", about(probe)))?;
    let trap = lab.cpu("async-trap")?;
    let native = lab.cpu("async-native")?;
    let mut text = String::from("\n");
    text.push_str(&cpu_line(
        "",
        "/health p50",
        "/health p99",
        "CPU jobs done",
        "at once",
        "predicted /health",
    ));
    text.push_str(&cpu_row("async-trap", &trap, probe, "queued behind CPU jobs"));
    text.push_str(&cpu_row(
        "async-native",
        &native,
        probe,
        &format!("fast (p99 < {FAST_HEALTH_MS:.0} ms)"),
    ));
    text.push('\n');
    let note = format!(
        "CPU jobs done: the /cpu-intensive requests answered in the {} of load, a total. At once: the most \
         CPU jobs that ran at the same moment, the server's own count (a peak).",
        about(probe)
    );
    text.push_str(&super::indented(&note));
    if screen.block(&text)? == Go::Stop {
        return Ok(None);
    }
    if screen.takeaway(
        "CPU work needs a core, not a wait: keep it off the threads that answer requests.",
    )? == Go::Stop
    {
        return Ok(None);
    }
    Ok(Some(()))
}

fn cpu_line(server: &str, p50: &str, p99: &str, done: &str, peak: &str, predicted: &str) -> String {
    format!("  {server:<14} {p50:>11} {p99:>11}  {done:>14}  {peak:>7}   {predicted}\n")
}

fn cpu_row(server: &str, f: &CpuFigures, probe: Duration, predicted: &str) -> String {
    let (p50, p99) = (format!("{:.1} ms", f.health_p50_ms), format!("{:.1} ms", f.health_p99_ms));
    let done = format!("{} in {}", f.done, about(probe));
    cpu_line(server, &p50, &p99, &done, &f.peak_at_once.to_string(), predicted)
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
fn idle_step(
    opts: &DemoOptions,
    screen: &mut Screen,
    lab: &mut dyn Lab,
) -> Result<Option<()>, DemoError> {
    let timeout = Duration::from_millis(opts.idle_timeout_ms);
    screen.paragraph(&format!(
        "{IDLE_CLIENTS} clients connect and send nothing; then one client asks /health. sync-blocking \
         gives each connection a thread until it has read a request: {IDLE_CLIENTS} idle ones take all \
         {BLOCKING_SLOTS}. Its header-read timeout ({}) closes them; a tokio server parks each one as a task.",
        secs(timeout)
    ))?;
    if screen.wait_for_enter("connect the idle clients to sync-blocking, then to async-native")?
        == Go::Stop
    {
        return Ok(None);
    }
    let freed = timeout.saturating_sub(IDLE_HEAD_START);
    let mut text = String::from("\n");
    text.push_str(&format!("  {:<14} {:>22}   predicted\n", "", "/health answered after"));
    for (server, predicted) in [
        (
            "sync-blocking",
            format!(
                "{}: the {} timeout less the {} head start",
                secs(freed),
                secs(timeout),
                secs(IDLE_HEAD_START)
            ),
        ),
        ("async-native", "at once".to_string()),
    ] {
        let waited = lab.idle(server)?;
        text.push_str(&format!(
            "  {server:<14} {:>22}   {predicted}\n",
            millis(waited.as_secs_f64() * 1000.0)
        ));
    }
    text.push('\n');
    let note = format!(
        "The head start: the idle clients connect {} before /health is asked, so the timeout frees \
         sync-blocking's first slot that much sooner.",
        secs(IDLE_HEAD_START)
    );
    text.push_str(&super::indented(&note));
    if screen.block(&text)? == Go::Stop {
        return Ok(None);
    }
    if screen.takeaway("a thread-per-connection server's slots are held by connections, not by work: time out slow clients.")? == Go::Stop {
        return Ok(None);
    }
    Ok(Some(()))
}

fn secs(d: Duration) -> String {
    short_seconds(d.as_secs_f64())
}

/// How long /health took while `IDLE_CLIENTS` connections sat idle.
fn health_beside_idle_clients(
    opts: &DemoOptions,
    server: &'static str,
    timeout: Duration,
) -> Result<Duration, DemoError> {
    let guard = start_with(
        opts,
        server,
        &["--header-read-timeout-ms".to_string(), timeout.as_millis().to_string()],
    )?;
    let measure = |e: std::io::Error| DemoError::Measure { server, detail: e.to_string() };
    let idle: Vec<std::net::TcpStream> = (0..IDLE_CLIENTS)
        .map(|_| std::net::TcpStream::connect(guard.addr))
        .collect::<Result<_, _>>()
        .map_err(measure)?;
    std::thread::sleep(IDLE_HEAD_START);
    let started = std::time::Instant::now();
    kit_measure::harness::get(guard.addr, "/health", timeout * 4).map_err(measure)?;
    drop(idle);
    Ok(started.elapsed())
}

/// Step 8: the four bursts side by side (the race's 100-column table), and
/// where to go from here.
fn summary(screen: &mut Screen, mut rows: Vec<Row>) -> Result<(), DemoError> {
    fill_speedups(&mut rows);
    let mut text = table::to_narrow_grid(&rows);
    text.push_str("(peak: the server's own count of requests in its handlers at once)\n\n");
    text.push_str("What to do next:\n");
    text.push_str("  cd exercises/trap && cargo test --release     # the grade fails: fix the trap (HINTS.md helps)\n");
    text.push_str("  cd exercises/wrapper && cargo test --release  # then the wrapper\n");
    if screen.block(&text)? == Go::Stop {
        return Ok(());
    }
    screen.takeaway("count the slots first; the timings follow from them.")?;
    Ok(())
}

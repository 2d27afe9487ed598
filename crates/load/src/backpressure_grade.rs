//! The backpressure exercise's grade (exercises/backpressure): an async
//! server whose quotes each need one of a gateway's 4 connections for
//! 250 ms, attacked in the open loop at 2.5 x what it can serve. One
//! implementation, called by the exercise and its solution with their own
//! binaries (the server, and the kit's upstream built under its name).
//!
//! Why here: the grade drives the kit's open loop ([`crate::attack`]) and
//! Little's law ([`crate::littles_law`]), and kit-load depends on
//! kit-measure, so kit-measure cannot hold it. What a failure says is
//! kit-measure's one implementation (`kit_measure::grade::failure`: `fail`,
//! `Next`, `diagnose`, public for this grade); the exercise has kit-load as
//! a dev-dependency.
//!
//! The slot model at a rate: s slots of t sustain s / t per second, here
//! 4 / 0.25 s = 16/s. Offered 40/s, a server that queues without a bound
//! holds more and more requests, each waits longer than the last, and
//! clients give up. The checks, on one attack at 40/s for 5 s (checks 1 to
//! 3) and one at 8/s for 3 s (check 4):
//!   1. the goodput (200s answered within the client's patience) is at
//!      least 90 % of s / t, and the accepted requests' p99 stays within
//!      3 t (a call and two rounds of waiting);
//!   2. every request is answered within the patience, the shed ones with a
//!      503 within one call's time t, and a 503 carries Retry-After;
//!   3. exact partners: the gateway's own count of calls at once stays at
//!      its 4, and the server's sampled in_flight never exceeds the slots
//!      plus the longest line the patience allows, its mean agreeing with
//!      Little's law (throughput x mean handler time);
//!   4. at half the capacity nothing is shed ("503 for everyone" fails).
//!
//! Decisions (the exercise's README repeats them for the learner):
//! - The gateway is the kit's upstream (`/price` after 250 ms, no limit),
//!   started beside the server ([`kit_measure::calls::start_pair`]). Its
//!   count of calls at once is the exact partner of "4 connections": the
//!   server under grade cannot fake it. It answers every call, so a server
//!   that opens 40 connections passes checks 1, 2 and 4 and fails check 3,
//!   the check of its lesson.
//! - The client's patience is 1 s: the attack's timeout. A client that gives
//!   up closes its connection, hyper drops the handler's future, and a
//!   request waiting on the semaphore leaves the line (a call in progress is
//!   hung up, and the gateway counts it). So the line without a bound does
//!   not grow forever: it settles at about rate x patience = 40 requests,
//!   each served too late. Measured here: the server as given answered
//!   none of the 160 requests due in the steady window in time, held 39 on
//!   average (Little's law: 37.2/s x 989 ms = 36.8), and the gateway counted
//!   180 of its 230 calls hung up by clients who had left (docs/open-loop.md).
//! - The bound on in_flight is the grade's, from the patience, not a
//!   number the server declares: a request that must be answered within
//!   P = 1 s may wait P - t = 0.75 s, behind at most s x (P - t) / t = 12
//!   others, so a server that can answer what it keeps holds at most
//!   4 + 12 = 16. It is read from in_flight sampled every 20 ms
//!   ([`WindowSampler`]): a shed request is inside its handler for
//!   microseconds, so a 503 racing past the bound is never what a sample
//!   sees, while a line of 17 lasts at least a round.
//! - A gateway call whose client left is counted by the gateway until it
//!   sees the hang-up, which may be after the server has lent that
//!   connection again: check 3 allows the gateway one call more per call it
//!   counted as hung up (at most 4 more). An honest fix hangs up none.
//! - Honest fixes the grade accepts: a count of the requests in line with a
//!   503 past a bound of up to about 8 waiting (p99 755 ms measured at 8,
//!   within the 900 ms of 3 t + 150 ms; at 12 a request waits 0.75 s and
//!   its call ends at the patience itself); `Semaphore::try_acquire` with a
//!   waiting room of that size; a bounded wait (`tokio::time::timeout` on
//!   `acquire`) of at most t. A longer bounded wait sheds too slowly
//!   (check 2); one longer than the patience is no bound (checks 1 to 3).
//! - The client shares the machine. It states its own late sends, as
//!   `kit capacity` does. When more than [`LATE_SHARE`] of the sends went
//!   out more than 10 ms after they were due, or the gateway's own runtime
//!   was starved (its executor lag over [`LAG_LIMIT_MS`]), a failure may be
//!   the machine's: the check says that the measurement is void and why,
//!   and names no hint. A pass on such a run holds: late sends bunch the same
//!   requests up, and a slow gateway serves fewer, so the load was harder,
//!   not lighter. A run that sent less than asked ([`MIN_SENT_SHARE`], or
//!   dropped sends) is void either way. servers/tests/alone/backpressure.rs
//!   runs the grade beside a CPU hog to prove it.
//!
//! Each grade run takes about 12 s warm: the two attacks, the drain of the
//! first, and one start of the pair each.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kit_measure::calls::{start_pair, Pair};
use kit_measure::grade::failure::{diagnose, fail, Next};
use kit_measure::harness::Target;
use kit_serve::contract::CallStats;

use crate::attack::{self, AttackOptions, AttackResult, LATE_THRESHOLD};
use crate::intervals::Outcome;
use crate::littles_law::{Little, WindowSampler, AGREEMENT_BAND};

/// The gateway's connections (s), and one call's time (t).
pub const GATEWAY_CONNECTIONS: u64 = 4;
pub const CALL_MS: u64 = 250;
/// How long a client waits for an answer before it gives up: the attack's
/// timeout.
pub const PATIENCE: Duration = Duration::from_secs(1);
/// The overload: 2.5 x capacity for 5 s (200 requests)...
pub const OVERLOAD_RATE: f64 = 40.0;
pub const OVERLOAD_FOR: Duration = Duration::from_secs(5);
/// ...and the quiet day: half the capacity for 3 s (24 requests).
pub const QUIET_RATE: f64 = 8.0;
pub const QUIET_FOR: Duration = Duration::from_secs(3);
/// The steady part of the overload starts one patience in: by then a line
/// without a bound has grown as long as the clients let it.
pub const STEADY_FROM: Duration = Duration::from_secs(1);
/// Check 1: the goodput must reach this share of s / t...
pub const GOODPUT_SHARE: f64 = 0.9;
/// ...and the accepted requests' p99 stay within this many calls' time,
/// plus [`P99_SLACK`] for a shared machine.
pub const P99_CALLS: u64 = 3;
const P99_SLACK: Duration = Duration::from_millis(150);
/// Check 2: at least this share of the requests is answered in time.
pub const IN_TIME_SHARE: f64 = 0.99;
/// Check 2: the requests of the probe for Retry-After, sent at once.
const PROBE: usize = 30;
/// The measurement is void when more than this share of the sends went
/// out late (and at least three: one late send is a timer's hiccup)...
pub const LATE_SHARE: f64 = 0.1;
/// ...or when the gateway's own runtime was late by more than this.
pub const LAG_LIMIT_MS: f64 = 100.0;
/// A run that sent less than this share of the rate asked offered a
/// lighter load than the check is about: void, pass or fail.
pub const MIN_SENT_SHARE: f64 = 0.9;
/// The handlers' label in /metrics: /quote is no endpoint of the shared
/// contract, so the server counts it as "other".
const LABEL: &str = "other";

fn t() -> Duration {
    Duration::from_millis(CALL_MS)
}

/// s / t: what the gateway sustains, per second.
pub fn capacity() -> f64 {
    GATEWAY_CONNECTIONS as f64 / t().as_secs_f64()
}

/// The longest line a request can wait in and still be answered within the
/// patience: s x (P - t) / t.
pub fn longest_line() -> u64 {
    GATEWAY_CONNECTIONS * (PATIENCE.as_millis() as u64 - CALL_MS) / CALL_MS
}

/// The most requests a server that answers what it keeps can hold at once.
pub fn most_inside() -> u64 {
    GATEWAY_CONNECTIONS + longest_line()
}

/// The accepted requests' p99 limit.
pub fn p99_limit() -> Duration {
    t() * P99_CALLS as u32 + P99_SLACK
}

/// One attack on a fresh pair, and what the gateway and the server said.
#[derive(Clone, Debug)]
pub struct Run {
    pub rate: f64,
    pub duration: Duration,
    pub attack: AttackResult,
    /// The steady window's Little's law, or why there is none.
    pub little: Result<Little, String>,
    /// The gateway's own count of the calls, after the attack.
    pub calls: CallStats,
    /// The most the gateway's runtime was late during the attack, ms.
    pub gateway_lag_ms: Option<f64>,
    /// The gateway's own mean time per call, ms (its /metrics), hung-up
    /// calls included.
    pub gateway_call_ms: Option<f64>,
    /// The statuses of [`PROBE`] requests sent at once after the attack,
    /// and how many of the 503s carried Retry-After (overload only).
    pub probe: Option<Probe>,
}

#[derive(Clone, Debug, Default)]
pub struct Probe {
    pub statuses: BTreeMap<u16, u64>,
    pub with_retry_after: u64,
}

impl Probe {
    pub fn shed(&self) -> u64 {
        self.statuses.get(&503).copied().unwrap_or(0)
    }
}

/// The requests due in the steady window, by how they ended.
#[derive(Clone, Debug, Default)]
pub struct Steady {
    pub window_s: f64,
    pub due: u64,
    pub ok: u64,
    pub server_errors: u64,
    pub timeouts: u64,
    pub other: u64,
    /// p99 of the 2xx answers' times, and of the 5xx answers', ms.
    pub ok_p99_ms: f64,
    pub shed_p99_ms: f64,
}

impl Steady {
    /// 2xx answered within the patience, per second of the window.
    pub fn goodput(&self) -> f64 {
        self.ok as f64 / self.window_s
    }

    pub fn in_time(&self) -> u64 {
        self.ok + self.server_errors
    }
}

fn p99(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let at = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
    v[at]
}

impl Run {
    /// The requests due from [`STEADY_FROM`] to the end of the sending
    /// (for the quiet day, from the start).
    pub fn steady(&self, from: Duration) -> Steady {
        let (from, to) = (from.as_secs_f64(), self.duration.as_secs_f64());
        let mine: Vec<_> = self
            .attack
            .series
            .points
            .points
            .iter()
            .filter(|p| (from..to).contains(&f64::from(p.due_s)))
            .collect();
        let times = |o: Outcome| -> Vec<f64> {
            mine.iter().filter(|p| p.outcome == o).map(|p| f64::from(p.ms)).collect()
        };
        let count = |o: Outcome| mine.iter().filter(|p| p.outcome == o).count() as u64;
        Steady {
            window_s: to - from,
            due: mine.len() as u64,
            ok: count(Outcome::Ok),
            server_errors: count(Outcome::ServerError),
            timeouts: count(Outcome::Timeout),
            other: count(Outcome::Other) + count(Outcome::Failed),
            ok_p99_ms: p99(times(Outcome::Ok)),
            shed_p99_ms: p99(times(Outcome::ServerError)),
        }
    }

    /// Why this run offered less than the load asked for, if it did: then
    /// no verdict holds, a pass no more than a failure.
    pub fn lighter(&self) -> Option<String> {
        let a = &self.attack;
        let mut why = Vec::new();
        if a.dropped > 0 {
            why.push(format!(
                "the client dropped {} due requests it had no room to send",
                a.dropped
            ));
        }
        if a.sent_rate < MIN_SENT_SHARE * self.rate {
            why.push(format!(
                "the client sent {:.1}/s where {:.0}/s was asked: it could not keep the schedule",
                a.sent_rate, self.rate
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Why a failure of this run may be the machine's, if it may: the client
    /// sent late (its requests bunched up: the same load, burstier), or the
    /// gateway, the kit's own, was starved. Both make the load harder, never
    /// lighter, so a pass still holds; a failure is void.
    pub fn void(&self) -> Option<String> {
        let a = &self.attack;
        let mut why: Vec<String> = self.lighter().into_iter().collect();
        if a.late >= 3 && a.late as f64 > LATE_SHARE * a.requests.max(1) as f64 {
            why.push(format!(
                "the grade's client sent {} of its {} requests more than {} ms after they were due: it fell \
                 behind (the machine's CPUs were busy elsewhere), so the load offered was not {:.0}/s on schedule",
                a.late,
                a.requests,
                LATE_THRESHOLD.as_millis(),
                self.rate
            ));
        }
        if let Some(lag) = self.gateway_lag_ms.filter(|l| *l > LAG_LIMIT_MS) {
            why.push(format!(
                "the gateway (the kit's own upstream, not your code) was starved: its runtime was {lag:.0} ms \
                 late, so its calls took longer than {CALL_MS} ms"
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// The overload run of each server binary: measured once, read by checks 1
/// to 3. The lock also keeps the two attacks of a grade apart.
static RUNS: Mutex<BTreeMap<PathBuf, Arc<Run>>> = Mutex::new(BTreeMap::new());

fn overload(bin: &Path, upstream_bin: &Path) -> Arc<Run> {
    let mut runs = RUNS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(run) = runs.get(bin) {
        return run.clone();
    }
    let run = Arc::new(measure(bin, upstream_bin, OVERLOAD_RATE, OVERLOAD_FOR, true));
    runs.insert(bin.to_path_buf(), run.clone());
    run
}

fn quiet(bin: &Path, upstream_bin: &Path) -> Run {
    let _one_at_a_time = RUNS.lock().unwrap_or_else(|p| p.into_inner());
    measure(bin, upstream_bin, QUIET_RATE, QUIET_FOR, false)
}

/// Starts the pair, attacks `/quote` at `rate` for `duration` with the
/// client's patience as the timeout, Little's law sampled over the steady
/// window, then (`probe`) sends [`PROBE`] requests at once.
fn measure(bin: &Path, upstream_bin: &Path, rate: f64, duration: Duration, probe: bool) -> Run {
    let mut pair = start_pair(bin, upstream_bin, CALL_MS, &[]);
    let url = format!("{}/quote?product=7", pair.server.url);
    let opts = AttackOptions {
        timeout: PATIENCE,
        interval: Duration::from_millis(500),
        sample_server: false,
        ..AttackOptions::new(url, rate, duration)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            fail("the grade could not start its client", &format!("  {e}"), Next::Crash)
        });
    let window = WindowSampler::start(pair.server.addr, LABEL, STEADY_FROM, duration);
    let attack = runtime.block_on(attack::run(&opts, None));
    let window = window.finish();
    let attack =
        attack.unwrap_or_else(|e| crashed(&mut pair, &format!("the attack could not run: {e}")));
    if pair.server.exited().is_some() {
        crashed(&mut pair, &format!("the server died during the attack at {rate:.0}/s"));
    }
    let little = window.and_then(|w| {
        if w.handler_count > 0 {
            Ok(Little::of(w))
        } else {
            Err("no request finished inside the window".into())
        }
    });
    let probe = probe.then(|| retry_after_probe(pair.server.addr));
    let calls = pair.calls();
    let gateway = pair.upstream.metrics().ok();
    let gateway_lag_ms = gateway.as_ref().and_then(|m| m.executor_lag_ms.as_ref()).map(|l| l.max);
    // The gateway's /price is no endpoint of the shared contract either.
    let gateway_call_ms = gateway.as_ref().and_then(|m| m.endpoints.get(LABEL)).map(|e| e.mean_ms);
    Run { rate, duration, attack, little, calls, gateway_lag_ms, gateway_call_ms, probe }
}

fn crashed(pair: &mut Pair, what: &str) -> ! {
    let diagnosis = diagnose(&mut pair.server);
    fail(what, &diagnosis, Next::Crash)
}

/// [`PROBE`] requests at once, one connection each: their statuses, and
/// whether each 503 says when to come back.
fn retry_after_probe(addr: SocketAddr) -> Probe {
    let heads: Vec<Option<String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..PROBE).map(|_| scope.spawn(move || head_of(addr))).collect();
        threads.into_iter().map(|t| t.join().ok().flatten()).collect()
    });
    let mut probe = Probe::default();
    for head in heads.into_iter().flatten() {
        let status = head.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        *probe.statuses.entry(status).or_default() += 1;
        let retry = head.lines().any(|l| l.to_ascii_lowercase().starts_with("retry-after:"));
        if status == 503 && retry {
            probe.with_retry_after += 1;
        }
    }
    probe
}

/// The status line and headers of one GET /quote, or `None` if none came
/// within the patience.
fn head_of(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE).ok()?;
    stream.set_read_timeout(Some(PATIENCE * 2)).ok()?;
    stream
        .write_all(b"GET /quote?product=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).to_string();
    text.split("\r\n\r\n").next().map(str::to_string)
}

/// A check on a run that offered less than asked fails without a hint: it
/// measured the machine.
fn fail_if_lighter(check: &str, run: &Run) {
    if let Some(why) = run.lighter() {
        void(check, run, &why);
    }
}

/// A failure that names a hint, unless the run is void ([`Run::void`]).
fn blame(check: &str, run: &Run, what: &str, detail: &str, hint: u32) -> ! {
    if let Some(why) = run.void() {
        void(check, run, &why);
    }
    fail(what, detail, Next::Hint(hint))
}

fn void(check: &str, run: &Run, why: &str) -> ! {
    fail(
        &format!("{check}: the measurement is void, and says nothing about your server"),
        &format!(
            "  {why}.\n  measured anyway: {}\n  meaning: an open-loop grade is only as good as its schedule; \
             judged on this run, a server could fail for the machine's sake.",
            figures(run, &run.steady(steady_from(run)))
        ),
        Next::Setup(
            "run the grade again on a quieter machine (let a build or another test run finish first).",
        ),
    )
}

fn steady_from(run: &Run) -> Duration {
    if run.rate > capacity() {
        STEADY_FROM
    } else {
        Duration::ZERO
    }
}

/// One line of what the client measured in the window.
fn figures(run: &Run, s: &Steady) -> String {
    let p99 = |n: u64, ms: f64, (open, close): (&str, &str)| {
        if n > 0 {
            format!("{open}p99 {ms:.0} ms{close}")
        } else {
            String::new()
        }
    };
    format!(
        "{:.0}/s for {:.0} s; of the {} requests due from {:.0} s to {:.0} s: {} x 200 in time \
         ({:.1}/s{}), {} x 5xx{}, {} gave up after {:.0} s (statuses over the whole run: {:?}, {} of {} sent late)",
        run.rate,
        run.duration.as_secs_f64(),
        s.due,
        run.duration.as_secs_f64() - s.window_s,
        run.duration.as_secs_f64(),
        s.ok,
        s.goodput(),
        p99(s.ok, s.ok_p99_ms, (", ", "")),
        s.server_errors,
        p99(s.server_errors, s.shed_p99_ms, (" (", ")")),
        s.timeouts,
        PATIENCE.as_secs_f64(),
        run.attack.status_counts,
        run.attack.late,
        run.attack.requests
    )
}

/// What the run measured, in the lesson's numbers: offered, capacity,
/// achieved, in flight and Little's law, and the gateway's exact count.
fn report(run: &Run, s: &Steady) -> String {
    let inside = match &run.little {
        Ok(l) => format!(
            "{:.1} requests inside the server on average (in_flight sampled {} times every 20 ms, at most {}); \
             Little's law: {:.1}/s leaving the handler (answered, or dropped when the client left) x {:.0} ms \
             each in it = {:.1} ({})",
            l.measured_in_flight,
            l.window.samples,
            l.window.max_in_flight,
            l.throughput,
            l.handler_mean_s * 1000.0,
            l.predicted_in_flight,
            l.verdict()
        ),
        Err(why) => format!("not sampled: {why}"),
    };
    format!(
        "  offered: {}; each client waits {:.0} s at most (its patience)\n  \
         capacity: the gateway's {GATEWAY_CONNECTIONS} connections, {CALL_MS} ms a call{}: s / t = \
         {GATEWAY_CONNECTIONS} / {:.2} s = {:.1}/s\n  \
         in flight: {inside}\n  \
         the gateway counted (exact): {} calls, at most {} at once, {} hung up by a client who had left",
        figures(run, s),
        PATIENCE.as_secs_f64(),
        call_time(run),
        t().as_secs_f64(),
        capacity(),
        run.calls.total,
        run.calls.peak_in_flight,
        run.calls.hung_up
    )
}

/// The gateway's own time per call beside the 250 ms, and why it is
/// shorter when calls were hung up.
fn call_time(run: &Run) -> String {
    match (run.gateway_call_ms, run.calls.hung_up) {
        (None, _) => String::new(),
        (Some(ms), 0) => format!(" (measured by the gateway: {ms:.0} ms per call on average)"),
        (Some(ms), hung_up) => format!(
            " (measured by the gateway: {ms:.0} ms per call on average, the {hung_up} calls hung up cut short)"
        ),
    }
}

/// The hint for a run that kept too many, or too few: shedding nothing is
/// hint 1; shedding while the gateway stands idle is hint 5; shedding, but
/// too late, is hint 2.
fn hint_for(run: &Run, s: &Steady) -> u32 {
    let gateway_could = capacity() * run.duration.as_secs_f64();
    if s.server_errors == 0 {
        1
    } else if (run.calls.total as f64) < 0.5 * gateway_could {
        5
    } else {
        2
    }
}

fn meaning(run: &Run, s: &Steady, hint: u32) -> String {
    let little = run.little.as_ref().ok();
    match hint {
        1 => format!(
            "  meaning: nothing was turned away, so every request stood in one line for a connection. {} \
             The gateway was busy all along ({} calls), but {} of them were hung up because their client had \
             already left: work done for nobody. Past {:.0}/s a line without a bound only grows, until the \
             clients' patience is the bound and everyone waits it out.",
            little.map_or(String::new(), |l| format!(
                "By Little's law, {:.1} inside / {:.1}/s leaving = {:.2} s each in the server, against a patience of {:.0} s.",
                l.measured_in_flight,
                l.throughput,
                if l.throughput > 0.0 { l.measured_in_flight / l.throughput } else { f64::NAN },
                PATIENCE.as_secs_f64()
            )),
            run.calls.total,
            run.calls.hung_up,
            capacity()
        ),
        5 => format!(
            "  meaning: {} requests were turned away while the gateway stood mostly idle: it took {} calls in {:.0} s \
             where it could take {:.0}. Shed only what the gateway cannot serve in time.",
            s.server_errors,
            run.calls.total,
            run.duration.as_secs_f64(),
            capacity() * run.duration.as_secs_f64()
        ),
        _ => format!(
            "  meaning: the server turned {} away, but kept too many: a request behind n others waits n / {GATEWAY_CONNECTIONS} \
             x {CALL_MS} ms, so within a patience of {:.0} s at most {GATEWAY_CONNECTIONS} x ({:.0} s - {CALL_MS} ms) / \
             {CALL_MS} ms = {} may wait, and the server holds at most {} ({GATEWAY_CONNECTIONS} calling + {} waiting). \
             A longer line, or a longer wait, only delays the same 503 past the client's patience.",
            s.server_errors,
            PATIENCE.as_secs_f64(),
            PATIENCE.as_secs_f64(),
            longest_line(),
            most_inside(),
            longest_line()
        ),
    }
}

/// Check 1: at 2.5 x capacity, the goodput holds at s / t, and what is
/// accepted is answered within a few calls' time.
pub fn goodput_holds_under_overload(bin: impl AsRef<Path>, upstream_bin: impl AsRef<Path>) {
    let run = overload(bin.as_ref(), upstream_bin.as_ref());
    fail_if_lighter("check 1", &run);
    let s = run.steady(STEADY_FROM);
    let goal = GOODPUT_SHARE * capacity();
    let limit = p99_limit().as_secs_f64() * 1000.0;
    if s.goodput() < goal || s.ok_p99_ms > limit {
        let hint = hint_for(&run, &s);
        let what = if s.goodput() < goal {
            format!(
                "offered {:.0}/s, the server achieved {:.1}/s answered in time: {:.0} % of the {:.1}/s the gateway sustains",
                run.rate,
                s.goodput(),
                100.0 * s.goodput() / capacity(),
                capacity()
            )
        } else {
            format!(
                "the accepted requests' p99 was {:.0} ms, more than {P99_CALLS} calls' time",
                s.ok_p99_ms
            )
        };
        blame(
            "check 1",
            &run,
            &what,
            &format!(
                "{}\n{}\n  goal: at least {:.0} % of s / t = {goal:.1}/s answered 200 within the patience, their p99 \
                 within {P99_CALLS} x {CALL_MS} ms (+ {} ms) = {limit:.0} ms (measured: {})",
                report(&run, &s),
                meaning(&run, &s, hint),
                GOODPUT_SHARE * 100.0,
                P99_SLACK.as_millis(),
                if s.ok > 0 { format!("{:.0} ms", s.ok_p99_ms) } else { "no 200 to measure".into() }
            ),
            hint,
        );
    }
    // Passed: the figures, for `cargo test --release -- --nocapture`.
    eprintln!("check 1 measured:\n{}", report(&run, &s));
}

/// Check 2: under the same overload every request is answered in time:
/// a 200, or a 503 within one call's time that says when to come back.
pub fn the_rest_get_a_fast_503(bin: impl AsRef<Path>, upstream_bin: impl AsRef<Path>) {
    let run = overload(bin.as_ref(), upstream_bin.as_ref());
    fail_if_lighter("check 2", &run);
    let s = run.steady(STEADY_FROM);
    if (s.in_time() as f64) < IN_TIME_SHARE * s.due as f64 {
        let hint = hint_for(&run, &s);
        blame(
            "check 2",
            &run,
            &format!(
                "{} of {} requests got no answer within the client's patience of {:.0} s",
                s.due - s.in_time(),
                s.due,
                PATIENCE.as_secs_f64()
            ),
            &format!(
                "{}\n{}\n  goal: at least {:.0} % answered in time: a 200, or a quick 503",
                report(&run, &s),
                meaning(&run, &s, hint),
                IN_TIME_SHARE * 100.0
            ),
            hint,
        );
    }
    let within = t().as_secs_f64() * 1000.0;
    if s.server_errors > 0 && s.shed_p99_ms > within {
        blame(
            "check 2",
            &run,
            &format!("the 503s took {:.0} ms (p99): longer than one call's {CALL_MS} ms", s.shed_p99_ms),
            &format!(
                "{}\n  meaning: a request the server will not serve is told so only after it waited: {} of them \
                 spent that time holding a client who could have gone elsewhere. A no is worth most when it is \
                 fast: decide at once, or after a short wait (at most one call's time).\n  \
                 goal: the 503s' p99 within {within:.0} ms",
                report(&run, &s),
                s.server_errors
            ),
            3,
        );
    }
    let other_5xx: u64 = run
        .attack
        .status_counts
        .iter()
        .filter(|(c, _)| **c >= 500 && **c != 503)
        .map(|(_, n)| n)
        .sum();
    if other_5xx > 0 {
        blame(
            "check 2",
            &run,
            &format!("{other_5xx} requests were answered with a 5xx other than 503"),
            &format!(
                "{}\n  meaning: shedding is 503 Service Unavailable (with Retry-After); a 502 or 500 tells the \
                 client something broke, not that the server is busy.\n  goal: 200 or 503, nothing else",
                report(&run, &s)
            ),
            3,
        );
    }
    if let Some(probe) = run.probe.as_ref().filter(|p| p.shed() > p.with_retry_after) {
        blame(
            "check 2",
            &run,
            &format!(
                "{} of {} 503s carried no Retry-After header",
                probe.shed() - probe.with_retry_after,
                probe.shed()
            ),
            &format!(
                "{}\n  measured: {PROBE} requests sent at once after the attack: statuses {:?}\n  \
                 meaning: a 503 without Retry-After leaves the client to guess when to come back, and clients that \
                 guess retry at once, all together: more load on a server that just said it had too much.\n  \
                 goal: every 503 with `Retry-After: <seconds>`",
                report(&run, &s),
                probe.statuses
            ),
            3,
        );
    }
}

/// Check 3: the exact partners. The gateway's own count of calls at once
/// stays at its 4; the server's in_flight never exceeds the slots plus the
/// longest line the patience allows; and its mean agrees with Little's law.
pub fn in_flight_stays_within_the_bound(bin: impl AsRef<Path>, upstream_bin: impl AsRef<Path>) {
    let run = overload(bin.as_ref(), upstream_bin.as_ref());
    fail_if_lighter("check 3", &run);
    let s = run.steady(STEADY_FROM);
    let allowed = GATEWAY_CONNECTIONS + run.calls.hung_up.min(GATEWAY_CONNECTIONS);
    if run.calls.peak_in_flight > allowed {
        blame(
            "check 3",
            &run,
            &format!(
                "the gateway counted {} calls at once from your server; it gives this app {GATEWAY_CONNECTIONS}",
                run.calls.peak_in_flight
            ),
            &format!(
                "{}\n  meaning: more connections make the overload look handled here, and fail where the gateway \
                 is real: it refuses calls past its {GATEWAY_CONNECTIONS}, or every other app that shares it loses \
                 its share. The capacity is s / t = {:.1}/s whatever the server does; what it can choose is what \
                 to do with the rest.\n  goal: at most {GATEWAY_CONNECTIONS} calls at once (the gateway's own count; \
                 one more is allowed per call it counted as hung up, here {allowed})",
                report(&run, &s),
                capacity()
            ),
            4,
        );
    }
    let little = match &run.little {
        Ok(l) => l,
        Err(why) => fail(
            "check 3: the measurement is void, and says nothing about your server",
            &format!("  the server's in_flight could not be sampled: {why}.\n{}", report(&run, &s)),
            Next::Setup(
                "run the grade again; if it says the same, the server's /metrics is not answering.",
            ),
        ),
    };
    if little.window.max_in_flight > most_inside() {
        let hint = hint_for(&run, &s);
        blame(
            "check 3",
            &run,
            &format!(
                "the server held up to {} requests at once; one that can answer what it keeps holds at most {}",
                little.window.max_in_flight,
                most_inside()
            ),
            &format!(
                "{}\n{}\n  goal: in_flight (sampled) at most {GATEWAY_CONNECTIONS} + {} = {}",
                report(&run, &s),
                meaning(&run, &s, hint),
                longest_line(),
                most_inside()
            ),
            hint,
        );
    }
    if little.judgeable() && !little.agrees(AGREEMENT_BAND) {
        fail(
            "check 3: the measurement is void, and says nothing about your server",
            &format!(
                "  the sampled in_flight and Little's law differ by more than {:.0} %: the samples did not see \
                 the requests the server finished (a starved observer).\n{}",
                AGREEMENT_BAND * 100.0,
                report(&run, &s)
            ),
            Next::Setup("run the grade again on a quieter machine."),
        );
    }
}

/// Check 4: at half the capacity nothing is shed: every request is a 200.
pub fn nothing_is_shed_at_half_capacity(bin: impl AsRef<Path>, upstream_bin: impl AsRef<Path>) {
    let run = quiet(bin.as_ref(), upstream_bin.as_ref());
    fail_if_lighter("check 4", &run);
    let s = run.steady(Duration::ZERO);
    if s.ok < s.due {
        let hint = if s.server_errors > 0 { 5 } else { 2 };
        blame(
            "check 4",
            &run,
            &format!(
                "at {:.0}/s, half of the {:.1}/s the gateway sustains, {} of {} requests got no 200",
                run.rate,
                capacity(),
                s.due - s.ok,
                s.due
            ),
            &format!(
                "{}\n  meaning: at {:.0}/s a request finds at most {:.0} others inside ({:.0}/s x {CALL_MS} ms, by \
                 Little's law): there is a free connection for every one of them. A 503 here turns away a \
                 customer the gateway had room for.\n  goal: all {} answered 200",
                report(&run, &s),
                run.rate,
                (run.rate * t().as_secs_f64()).ceil(),
                run.rate,
                s.due
            ),
            hint,
        );
    }
    eprintln!("check 4 measured:\n{}", report(&run, &s));
}

/// Check `n` (1 to 4), for the kit's own tests that run them in turn.
pub fn check(n: u32, bin: &Path, upstream_bin: &Path) {
    match n {
        1 => goodput_holds_under_overload(bin, upstream_bin),
        2 => the_rest_get_a_fast_503(bin, upstream_bin),
        3 => in_flight_stays_within_the_bound(bin, upstream_bin),
        4 => nothing_is_shed_at_half_capacity(bin, upstream_bin),
        _ => panic!("the backpressure grade has checks 1 to 4, not {n}"),
    }
}

/// The backpressure grade's checks as `#[test]`s:
/// `backpressure_grade_tests!(server_bin, upstream_bin)`.
#[macro_export]
macro_rules! backpressure_grade_tests {
    ($server:expr, $upstream:expr) => {
        #[test]
        fn check_1_the_goodput_holds_at_2_5_x_capacity() {
            $crate::backpressure_grade::goodput_holds_under_overload($server, $upstream);
        }

        #[test]
        fn check_2_the_rest_get_a_fast_503_with_retry_after() {
            $crate::backpressure_grade::the_rest_get_a_fast_503($server, $upstream);
        }

        #[test]
        fn check_3_in_flight_stays_within_the_gateway_and_the_line() {
            $crate::backpressure_grade::in_flight_stays_within_the_bound($server, $upstream);
        }

        #[test]
        fn check_4_nothing_is_shed_at_half_capacity() {
            $crate::backpressure_grade::nothing_is_shed_at_half_capacity($server, $upstream);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_s_numbers() {
        assert_eq!(capacity(), 16.0);
        assert_eq!((longest_line(), most_inside()), (12, 16));
        assert_eq!(p99_limit(), Duration::from_millis(900));
        assert_eq!(p99(vec![]), 0.0);
        assert_eq!(p99((1..=100).map(f64::from).collect()), 99.0);
        assert_eq!(p99(vec![5.0]), 5.0);
    }

    /// An overload run of 200 requests with `late` of them sent late.
    fn run(late: u64, sent_rate: f64, dropped: u64, gateway_lag_ms: f64) -> Run {
        let attack = AttackResult {
            url: "http://x/quote".into(),
            target_rate: OVERLOAD_RATE,
            achieved_rate: 16.0,
            sent_rate,
            requests: 200,
            completed: 200,
            ok: 80,
            errors: 120,
            late,
            dropped,
            status_counts: BTreeMap::from([(200, 80), (503, 120)]),
            error_kinds: BTreeMap::new(),
            elapsed_s: 5.3,
            service_time: Default::default(),
            response_time: Default::default(),
            ok_response_time: Default::default(),
            first_ok_s: Some(0.25),
            last_ok_s: Some(5.25),
            first_ok_round: 4,
            stopped: false,
            series: Default::default(),
        };
        Run {
            rate: OVERLOAD_RATE,
            duration: OVERLOAD_FOR,
            attack,
            little: Err("not sampled".into()),
            calls: CallStats {
                limit: None,
                total: 80,
                in_flight: 0,
                peak_in_flight: 4,
                rejected: 0,
                hung_up: 0,
                hanging: false,
            },
            gateway_lag_ms: Some(gateway_lag_ms),
            gateway_call_ms: Some(250.5),
            probe: None,
        }
    }

    /// A late client or a starved gateway voids a failure (a pass holds);
    /// a client that sent less than asked voids both; a few late sends, a
    /// timer's hiccups, void nothing.
    #[test]
    fn a_client_that_fell_behind_voids_the_measurement_and_says_why() {
        assert_eq!((run(2, 40.0, 0, 1.0).void(), run(20, 40.0, 0, 1.0).void()), (None, None));
        let late = run(21, 40.0, 0, 1.0);
        let why = late.void().expect("21 of 200 late is void");
        assert!(why.contains("sent 21 of its 200 requests more than 10 ms after"), "{why}");
        assert!(late.lighter().is_none());
        let starved = run(0, 40.0, 0, 250.0).void().expect("a starved gateway is void");
        assert!(starved.contains("its runtime was 250 ms late"), "{starved}");
        let light = run(0, 30.0, 3, 1.0);
        let why = light.lighter().expect("30/s sent for 40/s asked");
        assert!(why.contains("dropped 3") && why.contains("sent 30.0/s where 40/s"), "{why}");
        assert!(light.void().is_some());
    }
}

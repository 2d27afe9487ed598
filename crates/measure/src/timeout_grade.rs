//! The timeout exercise's grade: a server that calls a pricing service
//! (exercises/timeout), graded while that service hangs. One
//! implementation, called by the exercise and its solution with their own
//! two binaries: the server, and the kit's upstream built under its name.
//!
//! The server may hold [`PERMITS`] calls to the service at once (the
//! service's contract, a semaphore in the server): 20 slots for calls. A
//! call to a service that hangs holds its slot until something ends it.
//! With no deadline nothing does, and once 20 such calls hold every
//! permit, every request waits for ever. With a deadline d, a hung call
//! holds its slot for exactly d: the slot model with t = d. [`N`] requests
//! on 20 slots take ceil(100 / 20) = 5 rounds of d when the deadline bounds
//! the call alone (a request queued for a permit waits out the rounds
//! before its own), and 1 round when one deadline bounds the wait for a
//! permit and the call together.
//!
//! "Answered within the deadline plus a small slack" is, precisely: each of
//! the N requests, sent at once, has its 504 within [`ANSWER_WITHIN`] =
//! [`DEADLINE`] (1 s) + [`SLACK`] (0.5 s: reading 100 requests and opening
//! 100 connections to the service on a shared machine) of being sent. One
//! deadline of at most 1 s over the whole wait passes (1 round); a deadline
//! on the call alone passes when its 5 rounds fit, at most about 0.25 s.
//! The shop's front end gives up at [`PATIENCE`] (2 s), and so do the
//! grade's clients.
//!
//! The checks, each timed and paired with the service's own count of the
//! calls it received (`calls` in its /metrics, which the server under grade
//! cannot fake):
//!   1. while the service hangs, 100 requests at once all get a JSON 504
//!      within 1.5 s, and the service counted at least 20 calls (a 504
//!      reports its silence, so it was asked);
//!   2. the service sees every call the server abandons hang up: 20
//!      requests, 20 calls, all hung up, none held;
//!   3. once the service recovers, 100 requests get its prices in the rounds
//!      of the 20 permits: 100 calls, exactly 20 at once;
//!   4. /health stays fast while the service hangs and the server holds all
//!      100 requests (its own `peak_in_flight`).

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use kit_serve::contract::{CallStats, ErrorBody};
use kit_serve::upstream::{price_cents, Price};

use crate::burst::Burst;
use crate::calls::{products, start_pair, Pair};
use crate::grade::failure::{diagnose, fail, indent, Next};
use crate::harness::{get, Target};
use crate::slots::{rounds, whole_ms, SlotModel};

/// The burst: one request per product, all at once.
pub const N: u64 = 100;
/// The calls the server may hold at once: the service's contract, and the
/// server's semaphore (exercises/timeout/src/main.rs, PERMITS).
pub const PERMITS: u64 = 20;
/// The service's own time per answer, when it does not hang.
pub const PARTNER_MS: u64 = 100;
/// The longest a request may wait for the service, its turn for a permit
/// included: the exercise's DEADLINE, at most.
pub const DEADLINE: Duration = Duration::from_secs(1);
/// What the grade adds to the deadline for the machine.
pub const SLACK: Duration = Duration::from_millis(500);
/// DEADLINE + SLACK: every answer is due by then.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(1500);
/// The shop's front end gives up on a request after this; so do the
/// grade's clients.
pub const PATIENCE: Duration = Duration::from_secs(2);
/// How long the grade waits for the service to see its callers go, and for
/// the server to let go of requests whose clients left.
const SETTLE: Duration = Duration::from_secs(2);
/// /health while the service hangs: asked this often, given up on after
/// PROBE_TIMEOUT, and fast when its median is under FAST.
const PROBE_EVERY: Duration = Duration::from_millis(50);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const FAST: Duration = Duration::from_millis(50);

/// Checks 1 to 3 mostly wait on a hang, and share the machine; check 4
/// times /health, and takes it alone.
static MACHINE: RwLock<()> = RwLock::new(());

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// "1 s", "1.5 s": the grade's own durations, as a sentence says them.
fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// `/price?product=0..99`: a burst's name.
fn label(first: u64, n: u64) -> String {
    format!("/price?product={first}..{}", first + n - 1)
}

/// The service hangs (`true`) or answers again (`false`).
fn hang(pair: &Pair, on: bool) {
    if let Err(e) = pair.upstream.hang(on) {
        fail(
            "the pricing service (the kit's upstream) did not switch its hang",
            &format!(
                "  {}\n  the service is the kit's, not yours: run the grade again.",
                indent(&e.to_string())
            ),
            Next::Crash,
        )
    }
}

/// The server and the service under grade, the service hanging or not.
fn start(bin: &Path, upstream: &Path, hanging: bool) -> Pair {
    let pair = start_pair(bin, upstream, PARTNER_MS, &[]);
    if hanging {
        hang(&pair, true);
    }
    pair
}

/// What came back of a burst: when, and with which status.
struct Answers {
    n: u64,
    /// Requests answered within ANSWER_WITHIN of being sent.
    in_time: u64,
    /// Requests answered at all, before the clients gave up.
    answered: u64,
    gateway_timeouts: u64,
    statuses: BTreeMap<u16, u64>,
    /// The first and the last answer, from their requests' sending.
    first: Option<Duration>,
    last: Option<Duration>,
}

impl Answers {
    /// A request that failed without an HTTP answer (other than the
    /// clients' giving up) is a broken server: it fails here, as a crash.
    fn of(pair: &mut Pair, b: &Burst) -> Answers {
        let answered: u64 = b.status_counts.values().sum();
        if answered + b.timed_out < b.n {
            let diagnosis = diagnose(&mut pair.server);
            let next = if pair.server.exited().is_some() { Next::Crash } else { Next::Hint(1) };
            fail(
                &format!(
                    "{} x {}: {} requests failed without an answer (errors {:?})",
                    b.n,
                    b.path,
                    b.n - answered - b.timed_out,
                    b.error_kinds
                ),
                &diagnosis,
                next,
            );
        }
        // The answered requests are the first to come back: the clients
        // that gave up came back at the deadline, after every answer.
        let mut spans = b.spans.clone();
        spans.sort_by(|x, y| x.answered_s.total_cmp(&y.answered_s));
        let mut times: Vec<Duration> = spans
            .iter()
            .take(answered as usize)
            .map(|s| Duration::from_secs_f64((s.answered_s - s.sent_s).max(0.0)))
            .collect();
        times.sort_unstable();
        let in_time = times.iter().filter(|t| **t <= ANSWER_WITHIN).count() as u64;
        Answers {
            n: b.n,
            in_time,
            answered,
            gateway_timeouts: b.status_counts.get(&504).copied().unwrap_or(0),
            statuses: b.status_counts.clone(),
            first: times.first().copied(),
            last: times.last().copied(),
        }
    }

    /// What was measured, in one line.
    fn measured(&self, path: &str) -> String {
        let when = match (self.first, self.last) {
            (Some(first), Some(last)) => {
                format!(
                    "; the first answer after {} ms, the last after {} ms",
                    whole_ms(first),
                    whole_ms(last)
                )
            }
            _ => String::new(),
        };
        format!(
            "  measured: {n} x {path} at once, one product each, while the pricing service hangs: {in_time} \
             answered within {within} (the deadline, {deadline}, plus {slack} of slack), {answered} before the \
             clients gave up at {patience} (statuses {statuses:?}){when}",
            n = self.n,
            in_time = self.in_time,
            within = secs(ANSWER_WITHIN),
            deadline = secs(DEADLINE),
            slack = secs(SLACK),
            answered = self.answered,
            patience = secs(PATIENCE),
            statuses = self.statuses,
        )
    }
}

/// The service's count when the answers were due, in one line.
fn due_line(calls: &CallStats) -> String {
    format!(
        "  the pricing service's own count at {} (its /metrics, exact): {} calls received, in_flight {} (held, \
         unanswered), hung_up {} (abandoned by their caller)",
        secs(ANSWER_WITHIN),
        calls.total,
        calls.in_flight,
        calls.hung_up
    )
}

/// What every hang check wants, in one line.
fn goal() -> String {
    format!(
        "  goal: every request answered within {}: its price, or a JSON 504 when the service did not answer in time",
        secs(ANSWER_WITHIN)
    )
}

/// Waits (at most SETTLE) until the server holds no request and the
/// service no call; returns the service's count then, and how long it took.
fn settle(pair: &Pair) -> (CallStats, Duration) {
    let started = Instant::now();
    loop {
        let calls = pair.calls();
        let server_idle = pair.server.metrics().is_ok_and(|m| m.in_flight == 0);
        if (server_idle && calls.in_flight == 0) || started.elapsed() >= SETTLE {
            return (calls, started.elapsed());
        }
        std::thread::sleep(ms(20));
    }
}

/// Check 1: while the service hangs, N requests at once each get a JSON 504
/// within ANSWER_WITHIN, and the service was asked.
pub fn a_hanging_partner_gets_quick_504s(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let _shared = MACHINE.read().unwrap_or_else(|p| p.into_inner());
    let mut pair = start(bin.as_ref(), upstream.as_ref(), true);
    let path = label(0, N);
    let (b, due) = pair.fire_each_counting_at(&path, &products(0, N), PATIENCE, ANSWER_WITHIN);
    let a = Answers::of(&mut pair, &b);
    let measured = format!("{}\n{}", a.measured(&path), due_line(&due));
    if a.in_time < N {
        match a.first.filter(|first| *first <= ANSWER_WITHIN) {
            None => no_deadline(&a, &due, &measured),
            Some(t) => queued_for_a_permit(&a, t, &measured),
        }
    }
    if a.gateway_timeouts < N {
        fail(
            &format!("{N} requests while the pricing service hangs: answered {:?}", a.statuses),
            &format!(
                "{measured}\n  meaning: every request was answered in time, but not all with a 504. A service that \
                 did not answer in time is a 504 Gateway Timeout, JSON like every error here \
                 (ApiError::gateway_timeout): the client can tell it from a bug (500) or a service that \
                 failed (502).\n{goal}",
                goal = goal(),
            ),
            Next::Hint(1),
        );
    }
    if due.total < PERMITS.min(N) {
        fail(
            &format!("{N} x 504 while the pricing service hangs, and the service received {} calls", due.total),
            &format!(
                "{measured}\n  meaning: a 504 reports that the service did not answer in time, and this one was \
                 never asked. With {PERMITS} permits free at the start, the first {PERMITS} requests get one at \
                 once and call: the service counts at least {PERMITS} calls. Ask, and give up at the deadline.\n  \
                 goal: at least {PERMITS} calls received, every request answered within {}",
                secs(ANSWER_WITHIN)
            ),
            Next::Hint(3),
        );
    }
    expect_a_json_504(&pair);
}

/// No answer came in time at all: no deadline, or one longer than the
/// answers were due in.
fn no_deadline(a: &Answers, due: &CallStats, measured: &str) -> ! {
    let never_called = N.saturating_sub(due.total);
    let queue = if never_called > 0 {
        format!(", and the other {never_called} requests wait for a permit behind them")
    } else {
        String::new()
    };
    let meaning = match a.first {
        None => format!(
            "the service holds {held} calls from this server and will never answer them, and nothing in the \
             server ends them: each one holds its permit{queue}. A permit held by a hung call is a slot that \
             never comes back: the slot model has no round to count, and the wait has no end. A deadline that \
             has not passed when the client gives up ({patience}) is no deadline to that client.",
            held = due.in_flight,
            patience = secs(PATIENCE),
        ),
        Some(first) => format!(
            "the first answer came {first} ms after its request: the deadline itself is longer than the {within} \
             every answer was due in. Until it passes, each call to the hanging service holds its permit \
             ({held} held when the answers were due){queue}.",
            first = whole_ms(first),
            within = secs(ANSWER_WITHIN),
            held = due.in_flight,
        ),
    };
    fail(
        &format!(
            "{N} requests while the pricing service hangs: {} answered within {}",
            a.in_time,
            secs(ANSWER_WITHIN)
        ),
        &format!("{measured}\n  meaning: {meaning}\n{}", goal()),
        Next::Hint(1),
    )
}

/// Some 504s came in time, the rest later or never: a deadline on the call
/// alone, while the requests queued for a permit wait out rounds of it.
fn queued_for_a_permit(a: &Answers, t: Duration, measured: &str) -> ! {
    let model = SlotModel::new(N, ms(whole_ms(t)), Some(PERMITS));
    let fit = (ANSWER_WITHIN.as_secs_f64() / t.as_secs_f64()).floor() as u64;
    fail(
        &format!(
            "{N} requests while the pricing service hangs: {} answered within {}, {} later or never",
            a.in_time,
            secs(ANSWER_WITHIN),
            N - a.in_time
        ),
        &format!(
            "{measured}\n  slot model: a hung call holds its permit for the whole deadline, t = {t} ms (the first \
             answer, measured); {N} requests on {PERMITS} permits = {r} x {t} ms = {pred:.3} s for the last one; \
             {fit} round{s} of {PERMITS} fit in {within}: {expected} answers in time, measured {in_time}\n  \
             meaning: the deadline bounds the call, not the wait for a permit before it: a request queued for a \
             permit waits out the rounds before its own, and the last of {N} waits {r}. Put the wait for the \
             permit under the same deadline (1 round of {t} ms), or make the deadline short enough that all {r} \
             fit in {within}.\n{goal}",
            goal = goal(),
            t = whole_ms(t),
            r = rounds(model.rounds()),
            pred = model.rounds() as f64 * whole_ms(t) as f64 / 1000.0,
            s = if fit == 1 { "" } else { "s" },
            within = secs(ANSWER_WITHIN),
            expected = (fit * PERMITS).min(N),
            in_time = a.in_time,
        ),
        Next::Hint(2),
    )
}

/// One more request while the service hangs: its 504 is JSON, `{"error": ...}`.
fn expect_a_json_504(pair: &Pair) {
    let path = format!("/price?product={N}");
    let answer = get(pair.server.addr(), &path, PATIENCE);
    let json =
        answer.as_ref().ok().and_then(|(_, body)| serde_json::from_str::<ErrorBody>(body).ok());
    match (&answer, json) {
        (Ok((504, _)), Some(_)) => {}
        _ => fail(
            &format!("GET {path} while the pricing service hangs: not a JSON 504"),
            &format!(
                "  measured: {answer:?}\n  meaning: every error here is JSON, {{\"error\": \"...\"}}, with its \
                 status: a 504 Gateway Timeout (ApiError::gateway_timeout) for a service that did not answer in \
                 time."
            ),
            Next::Hint(1),
        ),
    }
}

/// Check 2: every call the server abandons, the service sees hang up. A
/// burst of PERMITS requests: each gets a permit at once and calls.
pub fn abandoned_calls_hang_up(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let _shared = MACHINE.read().unwrap_or_else(|p| p.into_inner());
    let mut pair = start(bin.as_ref(), upstream.as_ref(), true);
    let (n, path) = (PERMITS, label(0, PERMITS));
    let (b, due) = pair.fire_each_counting_at(&path, &products(0, n), PATIENCE, ANSWER_WITHIN);
    let a = Answers::of(&mut pair, &b);
    let measured = format!("{}\n{}", a.measured(&path), due_line(&due));
    if a.answered < n {
        fail(
            &format!(
                "{n} calls to the hanging pricing service: {} never abandoned before the clients gave up",
                n - a.answered
            ),
            &format!(
                "{measured}\n  meaning: {n} requests, {n} permits: every request called at once. The service \
                 still held {held} of those calls when the answers were due, and the server had abandoned {gone}: \
                 it holds a call for as long as the service does, and only a client that gives up ends it. Only \
                 a deadline in the server abandons a call.\n{goal}",
                goal = goal(),
                held = due.in_flight,
                gone = due.hung_up,
            ),
            Next::Hint(1),
        );
    }
    let (calls, took) = settle(&pair);
    let counted = format!(
        "  the pricing service's own count {} ms after the last answer (exact): {} calls received, hung_up {}, \
         in_flight {}",
        whole_ms(took),
        calls.total,
        calls.hung_up,
        calls.in_flight
    );
    if calls.total < n {
        fail(
            &format!("{n} answers while the pricing service hangs, and it received {} calls", calls.total),
            &format!(
                "{measured}\n{counted}\n  meaning: {n} requests, {n} permits free: each request gets one at once and \
                 must call. A 504 reports the service's silence: ask first."
            ),
            Next::Hint(3),
        );
    }
    if calls.in_flight > 0 || calls.hung_up != calls.total {
        fail(
            &format!(
                "the server answered all {n} requests, and the pricing service still holds {} of its calls",
                calls.in_flight
            ),
            &format!(
                "{measured}\n{counted}\n  meaning: the server stopped waiting for these calls, but the calls go on: \
                 each keeps its connection open, and the service keeps waiting (and working) for a caller that \
                 left. A service with a limit of calls at once fills up with them, and every retry adds one. \
                 Dropping the call's future closes its connection: the service sees the hang-up.\n  goal: hung_up \
                 {total} of {total} calls, in_flight 0, within {settle} of the answers",
                total = calls.total,
                settle = secs(SETTLE),
            ),
            Next::Hint(4),
        );
    }
}

/// Check 3: after a hang, once the service recovers, N requests get its
/// prices in the rounds of the permits: every permit came back.
pub fn recovers_with_the_partner(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let _shared = MACHINE.read().unwrap_or_else(|p| p.into_inner());
    let mut pair = start(bin.as_ref(), upstream.as_ref(), true);
    // The hang: whatever the server answers, it is check 1's business. Then
    // every request of it is over: answered, or dropped with its client.
    let hang_burst = pair.fire_each(&label(0, N), &products(0, N), PATIENCE);
    Answers::of(&mut pair, &hang_burst);
    settle(&pair);
    hang(&pair, false);
    // Calls the service still holds from the hang are never answered (they
    // hang for good): counted apart, so that "at once" is this burst's own.
    let held = match pair.upstream.reset_metrics() {
        Ok(m) => m.calls.map_or(0, |c| c.in_flight),
        Err(e) => {
            fail("the pricing service's /metrics/reset failed", &format!("  {e}"), Next::Crash)
        }
    };
    let path = label(N, N);
    let b = pair.fire_each(&path, &products(N, N), PATIENCE);
    let calls = pair.calls();
    let at_once = calls.peak_in_flight.saturating_sub(held);
    let model = SlotModel::new(N, ms(PARTNER_MS), Some(PERMITS));
    let leftover = if held > 0 {
        format!(" (besides {held} calls from the hang that it still holds, never hung up: check 2)")
    } else {
        String::new()
    };
    let measured = format!(
        "  measured, after the pricing service recovered: {n} x {path} at once: {ok} prices (statuses {statuses:?}) \
         in {total:.3} s; the service's own count (exact): {calls} calls received, at most {at_once} at once{leftover}\n  \
         slot model: {n} calls of {t} ms on {PERMITS} permits = {r} x {t} ms = {pred:.3} s, {PERMITS} at once",
        n = N,
        ok = b.ok,
        statuses = b.status_counts,
        total = b.total.as_secs_f64(),
        calls = calls.total,
        t = PARTNER_MS,
        r = rounds(model.rounds()),
        pred = model.predicted().as_secs_f64(),
    );
    if at_once > PERMITS {
        fail(
            &format!("the server held {at_once} calls at once; the pricing service's contract allows {PERMITS}"),
            &format!(
                "{measured}\n  meaning: the permits are the service's limit, not a knob of this server: past \
                 {PERMITS} calls at once a real partner refuses calls (429) or slows down for everyone.\n  goal: \
                 {PERMITS} calls at once"
            ),
            Next::Hint(2),
        );
    }
    if b.ok < N || at_once < PERMITS.min(N) {
        fail(
            &format!("after the pricing service recovered, {} of {N} requests got a price", b.ok),
            &format!(
                "{measured}\n  meaning: the service answers again, and a request needs a permit to ask it: {gone} of \
                 the {PERMITS} permits never came back from the hang. The calls that timed out kept theirs. A permit \
                 goes back when it is dropped, and code after an `.await` never runs when the deadline drops the \
                 future at that `.await`.\n  goal: {N} prices in {r} of {t} ms, {PERMITS} calls at once, {N} in all",
                gone = PERMITS.min(N) - at_once,
                r = rounds(model.rounds()),
                t = PARTNER_MS,
            ),
            Next::Hint(5),
        );
    }
    if b.total > ANSWER_WITHIN {
        fail(
            &format!("after the pricing service recovered, {N} prices took {:.3} s", b.total.as_secs_f64()),
            &format!(
                "{measured}\n  meaning: every permit came back ({PERMITS} calls at once, as the model wants), and \
                 the rounds still took longer than {within}: the time went outside the calls, in the server or in \
                 the machine. Run the grade again on a quiet machine.\n  goal: {N} prices within {within}",
                within = secs(ANSWER_WITHIN),
            ),
            Next::Hint(2),
        );
    }
    if calls.total != N {
        fail(
            &format!("{N} prices, and the pricing service received {} calls", calls.total),
            &format!("{measured}\n  meaning: each price is one call to the service: {N} prices, {N} calls."),
            Next::Hint(3),
        );
    }
    expect_a_price(&pair, N + 7);
}

/// One request after the recovery: the service's own price for it.
fn expect_a_price(pair: &Pair, product: u64) {
    let path = format!("/price?product={product}");
    let answer = get(pair.server.addr(), &path, PATIENCE);
    let price = answer.as_ref().ok().and_then(|(_, body)| serde_json::from_str::<Price>(body).ok());
    let expected = Price { product, cents: price_cents(product) };
    if !matches!((&answer, price), (Ok((200, _)), Some(p)) if p == expected) {
        fail(
            &format!("GET {path} after the pricing service recovered: not its price"),
            &format!(
                "  measured: {answer:?}\n  goal: 200 and {}: the service's answer, passed on",
                serde_json::to_string(&expected).unwrap_or_default()
            ),
            Next::Hint(3),
        );
    }
}

/// /health, asked every PROBE_EVERY until `until`: each answer's time, or
/// what went wrong.
fn probe_health(addr: SocketAddr, until: Duration) -> Vec<Result<Duration, String>> {
    let started = Instant::now();
    let mut probes = Vec::new();
    while started.elapsed() < until {
        let asked = Instant::now();
        probes.push(match get(addr, "/health", PROBE_TIMEOUT) {
            Ok((200, _)) => Ok(asked.elapsed()),
            Ok((status, body)) => Err(format!("{status} {body}")),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(format!("no answer within {} ms", whole_ms(PROBE_TIMEOUT)))
            }
            Err(e) => Err(e.to_string()),
        });
        std::thread::sleep(PROBE_EVERY.saturating_sub(asked.elapsed()));
    }
    probes
}

/// Check 4: /health stays fast while the service hangs and the server holds
/// the N requests waiting on it.
pub fn health_stays_fast(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let _alone = MACHINE.write().unwrap_or_else(|p| p.into_inner());
    let mut pair = start(bin.as_ref(), upstream.as_ref(), true);
    let addr = pair.server.addr();
    let probing = std::thread::spawn(move || probe_health(addr, ANSWER_WITHIN));
    let path = label(0, N);
    let b = pair.fire_each(&path, &products(0, N), PATIENCE);
    let probes = probing.join().unwrap_or_default();
    let mut times: Vec<Duration> = probes.iter().filter_map(|p| p.as_ref().ok().copied()).collect();
    times.sort_unstable();
    let failed: Vec<&String> = probes.iter().filter_map(|p| p.as_ref().err()).collect();
    let median = times.get(times.len() / 2).copied();
    let peak = b.peak_in_flight();
    let fast = match (median, times.last()) {
        (Some(median), Some(slowest)) => {
            format!(", median {} ms, slowest {} ms", whole_ms(median), whole_ms(*slowest))
        }
        _ => String::new(),
    };
    let measured = format!(
        "  measured, while {N} x {path} waited on the hanging pricing service: /health asked {asked} times, one \
         after the other, every {every} ms: {ok} answered 200{fast}; {failed} failed{first}; the server held \
         {peak} requests at once (peak_in_flight, exact)",
        asked = probes.len(),
        every = whole_ms(PROBE_EVERY),
        ok = times.len(),
        failed = failed.len(),
        first = failed.first().map(|e| format!(" (the first: {e})")).unwrap_or_default(),
    );
    if probes.is_empty() || !failed.is_empty() || median.is_none_or(|m| m >= FAST) {
        fail(
            "/health is not fast while the pricing service hangs",
            &format!(
                "{measured}\n  meaning: /health tells a load balancer whether this server can take requests. It \
                 can: its waits yield, and a request that waits for the service holds no thread. A /health that \
                 waits for the service (or for a permit) hangs with it, and the balancer takes a working server \
                 out.\n  goal: every /health answered 200, median under {} ms",
                whole_ms(FAST)
            ),
            Next::Hint(6),
        );
    }
    if peak < N {
        fail(
            &format!("only {peak} of {N} requests were ever inside the server at once"),
            &format!(
                "{measured}\n  meaning: /health must be fast while all {N} requests wait inside the server; these \
                 were answered, or held, before they reached a handler."
            ),
            Next::Hint(6),
        );
    }
}

/// The timeout grade's checks as `#[test]`s:
/// `timeout_grade_tests!(env!("CARGO_BIN_EXE_timeout"), env!("CARGO_BIN_EXE_timeout-upstream"));`
#[macro_export]
macro_rules! timeout_grade_tests {
    ($server:expr, $upstream:expr) => {
        #[test]
        fn check_1_a_hanging_partner_gets_quick_504s() {
            $crate::timeout_grade::a_hanging_partner_gets_quick_504s($server, $upstream);
        }

        #[test]
        fn check_2_abandoned_calls_hang_up() {
            $crate::timeout_grade::abandoned_calls_hang_up($server, $upstream);
        }

        #[test]
        fn check_3_the_server_recovers_with_the_partner() {
            $crate::timeout_grade::recovers_with_the_partner($server, $upstream);
        }

        #[test]
        fn check_4_health_stays_fast_while_the_partner_hangs() {
            $crate::timeout_grade::health_stays_fast($server, $upstream);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_are_due_at_the_deadline_plus_the_slack() {
        assert_eq!(ANSWER_WITHIN, DEADLINE + SLACK);
        assert!(
            ANSWER_WITHIN < PATIENCE,
            "the grade must see the late answers before its clients give up"
        );
        // One deadline over the whole wait: 1 round. On the call alone: 5
        // rounds, which fit only a short deadline.
        assert_eq!(SlotModel::new(N, DEADLINE, Some(PERMITS)).rounds(), 5);
        assert!(SlotModel::new(N, ms(250), Some(PERMITS)).predicted() < ANSWER_WITHIN);
        assert!(SlotModel::new(N, ms(300), Some(PERMITS)).predicted() >= ANSWER_WITHIN);
    }
}

//! The lock exercise's grade: a price cache in front of the pricing service
//! (the kit's upstream), whose lock was held across the call
//! (exercises/lock). One implementation, called by the exercise and its
//! solution with their own binaries: the server and the upstream it builds.
//!
//! A lock held across an `.await` is a slot of one: N misses of t take
//! N x t, whatever the runtime's threads. The checks, each timed and paired
//! with the upstream's own count of the calls it received (the server under
//! grade cannot fake it):
//!   1. 100 misses for 100 products take about one call's time, and the
//!      upstream holds all 100 calls at once (exact: 1 as given);
//!   2. the cache still saves calls: a second burst for the same products
//!      makes no call at all (exact), so deleting the cache fails;
//!   3. /health stays fast during a burst of misses, and so does the
//!      runtime (executor lag): a lock that blocks a thread stalls both;
//!   4. the answers keep the contract: each price is the upstream's
//!      (`{"product": ID, "cents": price_cents(ID)}`), fetched from it.
//!
//! A server whose runtime stops answering (a blocking call inside the lock
//! can stop every worker thread) is reported as stalled, a few seconds
//! after the burst's deadline, not after the harness's long timeouts.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use kit_serve::contract::MetricsSnapshot;
use kit_serve::upstream::{price_cents, Price};

use crate::burst::{burst_each, Burst};
use crate::calls::{products, start_pair, Pair};
use crate::expect::Band;
use crate::grade::failure::{diagnose, fail, indent, Next};
use crate::harness::{get, Target};
use crate::latency::Latencies;
use crate::slots::{rounds, whole_ms, SlotModel};

/// The burst: misses for this many different products at once.
pub const N: u64 = 100;
/// How long the upstream takes to answer one call.
pub const UPSTREAM_MS: u64 = 100;
/// Check 1 gives up after this: a slot of one needs 100 x 100 ms = 10 s,
/// and 3 s of it already tell.
const DEADLINE: Duration = Duration::from_secs(3);
/// Check 2 fills the cache with this many products (one call's time when
/// fixed, 10 calls' as given), then asks for each of them again.
pub const CACHED: u64 = 10;
/// Check 2's bursts give up after this (a slot of one fills 10 products in 1 s).
const CACHE_DEADLINE: Duration = Duration::from_secs(5);
/// Check 3 probes /health during a burst of misses that gives up after
/// this (as given, 10 of 100 answered by then: /health is not about that).
const HEALTH_DEADLINE: Duration = Duration::from_secs(1);
/// The /health probe's pace, and how long one probe may take before it
/// counts as unanswered.
const PROBE_EVERY: Duration = Duration::from_millis(10);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// /health and the runtime's heartbeat must wait less than one call: a
/// thread blocked for a call (`block_on`) makes them wait at least that
/// long, while a burst of parked misses delays them by tens of ms at most
/// on 2 busy cores (measured: /health p99 15-37 ms, executor lag 6-49 ms,
/// with two CPU hogs beside the grade).
const SLOW_MS: f64 = UPSTREAM_MS as f64;
/// A burst's /metrics must answer within this after its deadline; past it,
/// the server's runtime has stopped.
const GRACE: Duration = Duration::from_secs(2);
/// One request, alone or for the contract.
const ONE: Duration = Duration::from_secs(2);
/// One round of one call: 100 requests and 100 calls reach the server and
/// the upstream within tens of ms on 2 cores; a noisy neighbour adds a few
/// hundred. The exact count carries the precision.
const ONE_ROUND: Band = Band { below: 0.05, above: 0.5, slack: Duration::from_millis(400) };
/// The product check 1 times alone before its burst (not one of the burst's).
const ALONE: u64 = 0;
/// The products of check 4: small, large, and the last the upstream knows.
const CONTRACT_PRODUCTS: [u64; 3] = [7, 4242, kit_serve::upstream::MAX_PRODUCT];

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The server under grade, as a burst on another thread sees it.
struct Seen {
    name: String,
    url: String,
    addr: SocketAddr,
    pid: u32,
}

impl Target for Seen {
    fn name(&self) -> &str {
        &self.name
    }

    fn url(&self) -> &str {
        &self.url
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn pid(&self) -> Option<u32> {
        Some(self.pid)
    }
}

/// A burst that never hangs the grade: `None` when the server's runtime
/// stopped (its own /metrics did not answer within `GRACE` of the
/// deadline). A server that died, or a burst that could not be measured,
/// fails the check as a crash, in the server's own words.
fn fire(pair: &mut Pair, label: &str, paths: Vec<String>, deadline: Duration) -> Option<Burst> {
    let server = &pair.server;
    let seen = Seen {
        name: server.name().to_string(),
        url: server.url.clone(),
        addr: server.addr,
        pid: server.pid(),
    };
    let n = paths.len();
    let (tell, told) = mpsc::channel();
    let label_owned = label.to_string();
    // Detached on purpose: on a stalled server it stays in its /metrics read
    // until the server is killed, when the check ends.
    std::thread::spawn(move || {
        let _ = tell.send(burst_each(&seen, &label_owned, &paths, deadline));
    });
    let measured = told.recv_timeout(deadline + GRACE).ok()?;
    Some(pair.alive(measured, label, n))
}

/// The failure for a server whose runtime stopped during `what`: `silent`
/// says what got no answer.
fn stalled(pair: &mut Pair, what: &str, silent: &str, check: u32) -> ! {
    if pair.server.exited().is_some() {
        let diagnosis = diagnose(&mut pair.server);
        fail(&format!("the server died during {what}"), &diagnosis, Next::Crash)
    }
    let calls = pair.calls();
    fail(
        &format!("the server stopped answering during {what}"),
        &format!(
            "  measured: {silent}; the upstream received {} (at most {} at once; exact: counted by the upstream)\n  \
             meaning: no worker thread of the runtime is free to poll anything: not the requests, not /health, \
             not /metrics, not the server's own calls to the upstream. A thread that blocks inside a handler (a \
             std::sync::Mutex waiting for its lock, `block_on` waiting for a call) is a thread the runtime has \
             lost; once every worker thread is blocked, the call that would release them is never polled \
             either.\n  \
             goal (check {check}): no thread blocked inside the handler: hold no lock across a wait, and never \
             block_on inside an async fn.",
            plural(calls.total, "call"),
            calls.peak_in_flight,
        ),
        Next::Hint(3),
    )
}

/// What a burst that stalled got no answer to.
fn silent_burst(n: usize, label: &str, deadline: Duration) -> String {
    format!(
        "{n} x {label} gave up after {:.0} s, and then not even the server's own /metrics answered within {:.0} s",
        deadline.as_secs_f64(),
        GRACE.as_secs_f64()
    )
}

/// What a failed request met, in words: a read timeout is "timed out" on
/// every system (Linux says "Resource temporarily unavailable").
fn why(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}

/// "1 call", "2 calls".
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The server's worst executor lag in a snapshot, in ms: how long the
/// runtime could not poll its own heartbeat.
fn lag_ms(m: &MetricsSnapshot) -> f64 {
    m.executor_lag_ms.as_ref().map_or(0.0, |l| l.max)
}

/// One `GET path` on a fresh connection, timed: (status, body, time). A
/// request that gets no answer is told apart by what still answers: a
/// server whose /health is silent too has stalled; one whose call never
/// reached the upstream waits for a call nobody polls; one whose call was
/// answered waits for a lock nobody releases.
fn one(pair: &mut Pair, path: &str, check: u32) -> (u16, String, Duration) {
    let before = pair.calls();
    let sent = Instant::now();
    let e = match get(pair.server.addr, path, ONE) {
        Ok((status, body)) => return (status, body, sent.elapsed()),
        Err(e) => e,
    };
    if pair.server.exited().is_some() {
        let diagnosis = diagnose(&mut pair.server);
        fail(&format!("the server died during GET {path}"), &diagnosis, Next::Crash)
    }
    let alone =
        format!("GET {path}, alone, got no answer within {} s ({})", ONE.as_secs(), why(&e));
    if get(pair.server.addr, "/health", GRACE).is_err() {
        let silent = format!("{alone}, and then /health none within {} s", GRACE.as_secs());
        stalled(pair, &format!("one GET {path}"), &silent, check)
    }
    let calls = pair.calls().total - before.total;
    let (meaning, hint) = if calls == 0 {
        (
            "the request's call never reached the upstream: it was made, and never polled. A call run with \
             `block_on` inside a handler blocks the worker thread it needs to make progress on.",
            3,
        )
    } else {
        (
            "the upstream answered the request's call, and the request still waits: for a lock that is never \
             released. A task that locks again while its first guard is still alive waits for itself (tokio's \
             Mutex is not reentrant): end the first guard before taking the lock again.",
            2,
        )
    };
    fail(
        &format!("GET {path} never answered"),
        &format!(
            "  measured: {alone}; /health answered; the upstream received {} for it (exact: counted by the \
             upstream)\n  meaning: {meaning}\n  goal: every request answered, the first miss in about one call's \
             time",
            plural(calls, "call")
        ),
        Next::Hint(hint),
    )
}

/// The price in a /price answer, or a failure that says what came back.
fn price_in(path: &str, status: u16, body: &str) -> Price {
    let wrong = |why: String| -> ! {
        fail(
            &format!("GET {path} did not answer with a price"),
            &format!(
                "  answered {status}: {}\n  {why}\n  goal: 200 and {{\"product\": ID, \"cents\": C}}, the pricing \
                 service's own answer",
                indent(body)
            ),
            Next::Hint(5),
        )
    };
    if status != 200 {
        wrong("the pricing service answers every product it knows: the server's answer must be its price.".into());
    }
    serde_json::from_str(body).unwrap_or_else(|e| wrong(format!("not the price JSON: {e}")))
}

/// Check 1: N misses for N different products take one call's time, with
/// all N calls at the upstream at once.
pub fn misses_take_one_round(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = start_pair(bin.as_ref(), upstream.as_ref(), UPSTREAM_MS, &[]);
    // One miss alone: the time one request needs, with its one call.
    let path = format!("/price?product={ALONE}");
    let (status, body, alone) = one(&mut pair, &path, 1);
    price_in(&path, status, &body);
    let t = whole_ms(alone).max(1);
    let label = format!("/price?product=1..{N}");
    let _ = pair.upstream.reset_metrics();
    let Some(b) = fire(&mut pair, &label, products(1, N), DEADLINE) else {
        stalled(
            &mut pair,
            &format!("{N} x {label}"),
            &silent_burst(N as usize, &label, DEADLINE),
            1,
        )
    };
    let calls = pair.calls();
    let lag = lag_ms(&b.after);
    let secs = b.total.as_secs_f64();
    let answered = if b.ok < N {
        format!("{} of {N} answered after {secs:.3} s", b.ok)
    } else {
        format!("{N} answered in {secs:.3} s")
    };
    let threads =
        b.peak_threads.map(|n| format!(", on {n} OS threads at most")).unwrap_or_default();
    let measured = format!(
        "  measured: {N} misses for {N} products at once: {answered}; one miss alone took {t} ms; the upstream's \
         own peak of calls at once {peak} (exact: counted by the upstream), {total} in all; the server's \
         peak_in_flight {inflight} (requests inside its handler at once, waiting or not){threads}; executor lag \
         max {lag:.1} ms",
        peak = calls.peak_in_flight,
        total = plural(calls.total, "call"),
        inflight = b.peak_in_flight(),
    );
    let refused = b.errors - b.timed_out;
    if refused > 0 {
        fail(
            &format!("{refused} of {N} misses were answered with an error (statuses {:?})", b.status_counts),
            &format!(
                "{measured}\n  meaning: a price the server could not give is not a price: nothing else here \
                 means anything until every miss is answered with the pricing service's answer.\n  goal: {N} \
                 prices, each from one call"
            ),
            Next::Hint(5),
        );
    }
    if calls.total < b.ok {
        fail(
            &format!("{} prices answered with {} to the upstream", b.ok, plural(calls.total, "call")),
            &format!(
                "{measured}\n  meaning: each of the {N} products was asked for once, and none was in the cache, \
                 so each answer needs one call. {} answers came from nowhere: the prices must be the pricing \
                 service's.\n  goal: {N} prices, each from one call",
                b.ok - calls.total
            ),
            Next::Hint(5),
        );
    }
    // The slot model, with the calls the upstream held at once as the slots.
    let model = SlotModel::new(N, ms(t), Some(calls.peak_in_flight.max(1)));
    let seen = b.ok as f64 * t as f64 / 1000.0 / secs.max(1e-9);
    let report = format!(
        "{measured}\n  slot model, with the calls at once as the slots: {N} misses of {t} ms on {slots} = {r} x \
         {t} ms = {pred:.3} s; measured {ok} x {t} ms / {secs:.3} s = about {seen:.1} calls waiting at once",
        slots = plural(calls.peak_in_flight.max(1), "slot"),
        r = rounds(model.rounds()),
        pred = model.rounds() as f64 * t as f64 / 1000.0,
        ok = b.ok,
    );
    let goal = format!(
        "  goal: 1 round of {t} ms: the upstream's peak of calls at once {N}, every price answered"
    );
    let failed = |what: String, meaning: String, hint: u32| -> ! {
        fail(&what, &format!("{report}\n{meaning}\n{goal}"), Next::Hint(hint))
    };
    if calls.peak_in_flight < N {
        let (meaning, hint) = if lag >= SLOW_MS {
            (
                format!(
                    "  meaning: the calls took turns, and the runtime itself stalled for {lag:.0} ms (its executor \
                     lag): a worker thread was blocked inside a handler, not parked at an `.await`. A lock that \
                     blocks a thread, or a call that does (block_on), costs a thread on top of the slot."
                ),
                3,
            )
        } else {
            let why = if calls.peak_in_flight <= 1 {
                "The lock's guard is held across the call's `.await`, so each miss waits for the one before it to \
                 hear back: one lock, one slot."
            } else {
                "Some calls overlapped, not all: something held across the call's `.await` still makes the misses \
                 take turns (a lock, or a few of them)."
            };
            (
                format!(
                    "  meaning: {} requests were inside the handler at once, yet the upstream never held more than \
                     {} of their calls: the requests took turns for the calls. {why}",
                    b.peak_in_flight(),
                    calls.peak_in_flight,
                ),
                1,
            )
        };
        failed(
            format!(
                "{N} misses for {N} products took turns: {} at once at most",
                plural(calls.peak_in_flight, "call")
            ),
            meaning,
            hint,
        );
    }
    if b.ok < N || !ONE_ROUND.contains(ms(t), b.total) && b.total > ms(t) {
        failed(
            format!("{N} misses did not finish in about one round of {t} ms"),
            "  meaning: all the calls were at the upstream at once (good), yet the burst took longer than one \
             round: the time went outside the calls (the server could not poll them, or the machine was \
             overloaded: run the grade again on a quiet machine)."
                .into(),
            1,
        );
    }
}

/// Check 2: the cache still saves calls: asked again, the same products
/// make no call at all.
pub fn the_cache_still_saves_calls(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = start_pair(bin.as_ref(), upstream.as_ref(), UPSTREAM_MS, &[]);
    let first = 1000;
    let label = format!("/price?product={first}..{}", first + CACHED - 1);
    let Some(fill) = fire(&mut pair, &label, products(first, CACHED), CACHE_DEADLINE) else {
        let silent = silent_burst(CACHED as usize, &label, CACHE_DEADLINE);
        stalled(&mut pair, &format!("{CACHED} x {label}"), &silent, 2)
    };
    let filled = pair.calls();
    if fill.ok < CACHED {
        fail(
            &format!("{CACHED} misses to fill the cache: only {} answered", fill.ok),
            &format!(
                "  measured: {} of {CACHED} answered after {:.3} s (statuses {:?}); the upstream received {} calls\n  \
                 goal: every miss answered with its price, then cached",
                fill.ok,
                fill.total.as_secs_f64(),
                fill.status_counts,
                filled.total
            ),
            Next::Hint(if fill.errors > fill.timed_out { 5 } else { 1 }),
        );
    }
    if filled.total < CACHED {
        fail(
            &format!("{CACHED} prices answered with {} calls to the upstream", filled.total),
            &format!(
                "  measured: {CACHED} misses for {CACHED} products answered, and the upstream received {} calls \
                 (exact: counted by the upstream)\n  meaning: a price that was never fetched is not the pricing \
                 service's, and a cache with nothing fetched in it saves nothing.",
                filled.total
            ),
            Next::Hint(5),
        );
    }
    // Every product again, N / CACHED times each, all at once: all hits.
    let again: Vec<String> = (0..N / CACHED).flat_map(|_| products(first, CACHED)).collect();
    let _ = pair.upstream.reset_metrics();
    let Some(hits) = fire(&mut pair, &label, again, CACHE_DEADLINE) else {
        let silent = silent_burst(N as usize, &label, CACHE_DEADLINE);
        stalled(&mut pair, &format!("{N} x {label}"), &silent, 2)
    };
    let calls = pair.calls();
    let measured = format!(
        "  measured: {CACHED} misses filled the cache with {} calls; then {N} requests for the same {CACHED} \
         products ({} each, at once): {} answered in {:.3} s, with {} calls to the upstream (exact: counted by \
         the upstream; {} at once at most)",
        filled.total,
        N / CACHED,
        hits.ok,
        hits.total.as_secs_f64(),
        calls.total,
        calls.peak_in_flight
    );
    if hits.ok < N {
        fail(
            &format!("{N} requests for cached products: only {} answered", hits.ok),
            &format!(
                "{measured} (statuses {:?})\n  goal: every one answered from the cache",
                hits.status_counts
            ),
            Next::Hint(4),
        );
    }
    if calls.total > 0 {
        fail(
            &format!("the cache did not save calls: {} calls for {CACHED} products already fetched", calls.total),
            &format!(
                "{measured}\n  meaning: every price here was fetched a moment ago, yet {} requests asked the \
                 upstream again. A fix that deletes the cache (or stops reading it) is fast, and every page \
                 view becomes a call: {N} x the load on a partner that is slow and, at work, rate-limited or \
                 paid by the call.\n  goal: 0 calls for products already in the cache",
                calls.total
            ),
            Next::Hint(4),
        );
    }
}

/// The /health probe's findings.
struct Probes {
    latencies: Latencies,
    unanswered: u64,
}

/// Probes /health every `PROBE_EVERY` until `stop`, each on a fresh connection.
fn probe_health(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Probes> {
    std::thread::spawn(move || {
        let mut probes = Probes { latencies: Latencies::default(), unanswered: 0 };
        while !stop.load(Ordering::SeqCst) {
            let sent = Instant::now();
            match get(addr, "/health", PROBE_TIMEOUT) {
                Ok((200, _)) => probes.latencies.record(sent.elapsed()),
                _ => probes.unanswered += 1,
            }
            std::thread::sleep(PROBE_EVERY);
        }
        probes
    })
}

/// Check 3: /health stays fast during a burst of misses, and so does the
/// runtime's heartbeat.
pub fn health_stays_fast(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = start_pair(bin.as_ref(), upstream.as_ref(), UPSTREAM_MS, &[]);
    let label = format!("/price?product=2000..{}", 2000 + N - 1);
    let stop = Arc::new(AtomicBool::new(false));
    let prober = probe_health(pair.server.addr, stop.clone());
    let b = fire(&mut pair, &label, products(2000, N), HEALTH_DEADLINE);
    stop.store(true, Ordering::SeqCst);
    // Cannot fail: the probe thread only records.
    let probes = prober.join().expect("the /health probe does not panic");
    let health = probes.latencies.summary();
    let answered = probes.latencies.len();
    let probed = format!(
        "during {N} x {label}, /health answered {} (p50 {:.1} ms, p99 {:.1} ms, \
         slowest {:.1} ms); {} got no answer within {} ms",
        plural(answered, "probe"),
        health.p50_ms,
        health.p99_ms,
        health.max_ms,
        plural(probes.unanswered, "probe"),
        PROBE_TIMEOUT.as_millis()
    );
    let Some(b) = b else {
        let silent = format!("{}; {probed}", silent_burst(N as usize, &label, HEALTH_DEADLINE));
        stalled(&mut pair, &format!("{N} x {label}"), &silent, 3)
    };
    let lag = lag_ms(&b.after);
    if probes.unanswered > 0 || answered == 0 || health.p99_ms >= SLOW_MS || lag >= SLOW_MS {
        fail(
            "/health stalled during a burst of misses",
            &format!(
                "  measured: {probed}; the runtime's executor lag max {lag:.1} ms (how long its own heartbeat waited for a \
                 worker thread); {} of {N} misses answered in {:.3} s\n  \
                 meaning: /health takes no lock and calls nothing, so it waits only for a worker thread. It \
                 waited: worker threads were blocked inside the price handler, not parked at an `.await` \
                 (a std::sync::Mutex waiting for its lock, a `block_on` waiting for a call). A parked request \
                 costs no thread; a blocked one costs one, and everything else waits for it.\n  \
                 goal: /health p99 and executor lag both < {SLOW_MS} ms (one call), every probe answered",
                b.ok,
                b.total.as_secs_f64()
            ),
            Next::Hint(3),
        );
    }
}

/// Check 4: each answer is the pricing service's price, fetched from it,
/// and a bad query is the contract's JSON 400.
pub fn keeps_the_contract(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = start_pair(bin.as_ref(), upstream.as_ref(), UPSTREAM_MS, &[]);
    let _ = pair.upstream.reset_metrics();
    // Each product twice: a miss, then a hit; both must be the same price.
    for product in CONTRACT_PRODUCTS.iter().chain(&CONTRACT_PRODUCTS) {
        let path = format!("/price?product={product}");
        let (status, body, _) = one(&mut pair, &path, 4);
        let price = price_in(&path, status, &body);
        let expected = Price { product: *product, cents: price_cents(*product) };
        if price != expected {
            fail(
                &format!("GET {path} answered a price the pricing service did not give"),
                &format!(
                    "  answered: {}\n  the pricing service's price: {}\n  goal: the server passes on the pricing \
                     service's answer, cached or not",
                    body.trim(),
                    serde_json::json!(expected)
                ),
                Next::Hint(5),
            );
        }
    }
    let calls = pair.calls();
    let asked = CONTRACT_PRODUCTS.len() as u64;
    if calls.total < asked {
        fail(
            &format!("{asked} products priced with {} calls to the upstream", calls.total),
            &format!(
                "  measured: {asked} different products asked for (each twice), {} calls received by the upstream \
                 (exact: counted by the upstream)\n  meaning: the prices were right, but not all of them came from \
                 the pricing service: at work, its prices change, and a price made up here would not.\n  \
                 goal: at least one call per product",
                calls.total
            ),
            Next::Hint(5),
        );
    }
    let path = "/price?product=seven";
    let (status, body, _) = one(&mut pair, path, 4);
    let is_error = serde_json::from_str::<serde_json::Value>(&body)
        .is_ok_and(|v| v.get("error").is_some_and(serde_json::Value::is_string));
    if status != 400 || !is_error {
        fail(
            &format!("GET {path} answered {status}, not the contract's JSON 400"),
            &format!(
                "  answered {status}: {}\n  goal: 400 with {{\"error\": \"...\"}}, as every endpoint of the kit \
                 answers a bad query value",
                indent(&body)
            ),
            Next::Hint(5),
        );
    }
}

/// The lock grade's four checks as `#[test]`s against `$server` and the
/// upstream it builds:
/// `kit_measure::lock_grade_tests!(env!("CARGO_BIN_EXE_lock"), env!("CARGO_BIN_EXE_lock-upstream"));`
#[macro_export]
macro_rules! lock_grade_tests {
    ($server:expr, $upstream:expr) => {
        #[test]
        fn check_1_misses_for_different_products_take_one_round() {
            $crate::lock_grade::misses_take_one_round($server, $upstream);
        }

        #[test]
        fn check_2_the_cache_still_saves_calls() {
            $crate::lock_grade::the_cache_still_saves_calls($server, $upstream);
        }

        #[test]
        fn check_3_health_stays_fast_during_misses() {
            $crate::lock_grade::health_stays_fast($server, $upstream);
        }

        #[test]
        fn check_4_the_answers_keep_the_contract() {
            $crate::lock_grade::keeps_the_contract($server, $upstream);
        }
    };
}

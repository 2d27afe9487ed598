//! The heart of the kit: each server's concurrency property, measured over
//! real HTTP against a real process, as time (against the slot model) and
//! exactly (peak_in_flight from the server's own /metrics).
//!
//! These tests are sleep-bound and run side by side (see .cargo/config.toml);
//! the CPU-bound ones live in tests/alone so they cannot skew these.

use crate::common;

use std::time::Duration;

use common::{slots, start};
use kit_measure::burst::burst;
use kit_measure::expect::{assert_ok, Expect};

/// The race runs the headline at the original's scale (io 500 ms: 25 s against
/// 0.5 s). Here each wait is 200 ms: the claim is the 25 rounds and the 100 in
/// flight, which do not depend on the wait, and the suite saves 15 s.
const IO: Duration = Duration::from_millis(200);
/// Give up on a burst after this long: 60% over the slowest prediction.
const DEADLINE: Duration = Duration::from_secs(60);

/// One request alone: two waits in sequence on a thread, overlapped natively.
fn parallel_t(variant: &str, io: Duration) -> Duration {
    if variant == "async-native" {
        io
    } else {
        io * 2
    }
}

/// The headline: 100 x /parallel, 25 rounds on 4 slots, one round natively.
fn headline(variant: &str) -> kit_measure::burst::Burst {
    let server = start(variant, &["--io-ms", &IO.as_millis().to_string()]);
    let b = burst(&server, "/parallel", 100, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(Expect::new(slots(variant), parallel_t(variant, IO)).all(&b));
    b
}

#[test]
fn headline_sync_blocking_takes_25_rounds_on_4_threads() {
    headline("sync-blocking");
}

#[test]
fn headline_async_trap_takes_25_rounds_and_stalls_its_runtime() {
    let b = headline("async-trap");
    let lag = b.after.executor_lag_ms.expect("tokio variants report executor lag");
    // Every worker sleeps through whole requests: the heartbeat waits at least one wait.
    assert!(lag.max >= IO.as_millis() as f64, "async-trap executor lag max {} ms, expected >= one io wait ({} ms): the runtime should stall", lag.max, IO.as_millis());
}

#[test]
fn headline_blocking_wrapper_takes_25_rounds_but_its_front_end_stays_free() {
    let b = headline("blocking-wrapper");
    let lag = b.after.executor_lag_ms.expect("the front end reports executor lag");
    assert!(lag.max < never_blocked_ms(), "blocking-wrapper front-end lag max {} ms, expected < {} ms: the front end should never block", lag.max, never_blocked_ms());
}

#[test]
fn headline_async_native_takes_one_round_with_100_in_flight() {
    // (That the load generator is not the bottleneck, within 10% of the
    // floor, is measured with the machine to itself: tests/alone/cpu.rs.)
    let b = headline("async-native");
    let lag = b.after.executor_lag_ms.expect("tokio variants report executor lag");
    assert!(
        lag.max < never_blocked_ms(),
        "async-native executor lag max {} ms under load, expected < {} ms",
        lag.max,
        never_blocked_ms()
    );
}

/// Executor lag below one io wait: a runtime that blocked in a handler would
/// lag at least one whole wait (the trap's test above; it lags seconds). The
/// band leaves room for a busy machine: these tests share it with dozens of
/// servers, and a tail of 100 ms there is the scheduler, not the server.
fn never_blocked_ms() -> f64 {
    IO.as_millis() as f64
}

/// One request alone: 2 x io on a thread, 1 x io when the waits overlap.
fn single(variant: &str) {
    let server = start(variant, &["--io-ms", &IO.as_millis().to_string()]);
    let b = burst(&server, "/parallel", 1, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(Expect::new(slots(variant), parallel_t(variant, IO)).all(&b));
}

#[test]
fn single_parallel_request_sync_blocking() {
    single("sync-blocking");
}

#[test]
fn single_parallel_request_async_trap() {
    single("async-trap");
}

#[test]
fn single_parallel_request_blocking_wrapper() {
    single("blocking-wrapper");
}

#[test]
fn single_parallel_request_async_native() {
    single("async-native");
}

/// 100 x /multi-io at io = 100 ms: three dependent waits are 3 x io
/// everywhere; the slots decide how many rounds (25 on 4 slots, 1 native).
fn multi_io(variant: &str) {
    let server = start(variant, &["--io-ms", "100"]);
    let b = burst(&server, "/multi-io", 100, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(Expect::new(slots(variant), Duration::from_millis(300)).all(&b));
}

#[test]
fn multi_io_sync_blocking() {
    multi_io("sync-blocking");
}

#[test]
fn multi_io_async_trap() {
    multi_io("async-trap");
}

#[test]
fn multi_io_blocking_wrapper() {
    multi_io("blocking-wrapper");
}

#[test]
fn multi_io_async_native() {
    multi_io("async-native");
}

/// 100 x /db-simulation at db = 200 ms: 25 rounds on 4 slots, 1 native.
fn db(variant: &str) {
    let server = start(variant, &["--db-ms", "200"]);
    let b = burst(&server, "/db-simulation", 100, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(Expect::new(slots(variant), Duration::from_millis(200)).all(&b));
}

#[test]
fn db_simulation_sync_blocking() {
    db("sync-blocking");
}

#[test]
fn db_simulation_async_trap() {
    db("async-trap");
}

#[test]
fn db_simulation_blocking_wrapper() {
    db("blocking-wrapper");
}

#[test]
fn db_simulation_async_native() {
    db("async-native");
}

/// The slot knob really is the slot count: 8 threads, 8 slots.
#[test]
fn more_threads_means_more_slots_on_sync_blocking() {
    let server = start("sync-blocking", &["--threads", "8", "--io-ms", "100"]);
    let b = burst(&server, "/parallel", 40, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(Expect::new(Some(8), Duration::from_millis(200)).all(&b));
}

/// The README's example failure: async-trap held to async-native's lesson.
/// The sentence's "requests waited at once" comes from the server's own
/// time per request, so it agrees with the exact peak_in_flight beside it.
#[test]
fn a_failure_message_and_its_exact_check_agree_on_the_trap() {
    let io = Duration::from_millis(100);
    let server = start("async-trap", &["--io-ms", "100"]);
    let b = burst(&server, "/parallel", 100, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    let message =
        Expect::new(None, io).all(&b).expect_err("the trap cannot keep async-native's lesson");
    eprintln!("{message}");
    let (before, _) = message.split_once(" requests waited at once").expect("the measured slots");
    let waited: f64 = before.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(b.peak_in_flight(), 4, "{message}");
    assert!(
        (waited - 4.0).abs() < 0.5,
        "the sentence says {waited} requests at once, peak_in_flight says 4:\n{message}"
    );
}

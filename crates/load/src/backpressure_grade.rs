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
//!   ([`crate::littles_law::WindowSampler`]): a shed request is inside its handler for
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
//! Layout: the checks and the model's numbers are here; `run` measures
//! one attack (and judges whether it is void), `report` words what it
//! measured.
//!
//! Each grade run takes about 12 s warm: the two attacks, the drain of the
//! first, and one start of the pair each.

use std::path::Path;
use std::time::Duration;

use kit_measure::grade::failure::{fail, Next};

use crate::littles_law::AGREEMENT_BAND;

mod report;
mod run;
use report::{blame, fail_if_lighter, hint_for, meaning, report};
use run::{overload, quiet};
pub use run::{Probe, Run, Steady};

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
pub const P99_SLACK: Duration = Duration::from_millis(150);
/// Check 2: at least this share of the requests is answered in time.
pub const IN_TIME_SHARE: f64 = 0.99;
/// Check 2: the requests of the probe for Retry-After, sent at once.
pub const PROBE: usize = 30;
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
    }
}

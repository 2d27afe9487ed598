//! The timeout exercise's grade, held to its lesson: the exercise as given
//! and the wrong fixes learners write fail on the check whose lesson they
//! miss, naming the hint that says what that failure needs; the honest fixes
//! pass all four checks. The server is `timeout-variants`
//! (servers/examples), the exercise with its fixes behind flags; the pricing
//! service is the kit's upstream. Cheap: a check waits at most 2 s on a
//! hang, then a few rounds of 100 ms.

use std::path::{Path, PathBuf};

use crate::common::grading::{assert_mentions, failure, variant_of};
use crate::common::hints::assert_names_hint_with;
use kit_measure::harness::sibling_binary;
use kit_measure::timeout_grade as grade;

const HINTS: &str = include_str!("../../../exercises/timeout/HINTS.md");

fn upstream() -> PathBuf {
    sibling_binary("upstream").unwrap_or_else(|e| panic!("{e}"))
}

fn variant(flags: &[&str]) -> PathBuf {
    variant_of("timeout-variants", flags)
}

/// The failure of `check` on `bin`, which must fail.
fn fails(check: fn(PathBuf, PathBuf), bin: &Path, what: &str) -> String {
    let bin = bin.to_path_buf();
    failure(move || check(bin, upstream())).unwrap_or_else(|| panic!("{what} must fail"))
}

/// `bin` passes `check`.
fn passes(check: fn(PathBuf, PathBuf), bin: &Path, what: &str) {
    let bin = bin.to_path_buf();
    if let Some(message) = failure(move || check(bin, upstream())) {
        panic!("{what} must pass:{message}");
    }
}

fn check_1(bin: PathBuf, up: PathBuf) {
    grade::a_hanging_partner_gets_quick_504s(bin, up);
}

fn check_2(bin: PathBuf, up: PathBuf) {
    grade::abandoned_calls_hang_up(bin, up);
}

fn check_3(bin: PathBuf, up: PathBuf) {
    grade::recovers_with_the_partner(bin, up);
}

fn check_4(bin: PathBuf, up: PathBuf) {
    grade::health_stays_fast(bin, up);
}

/// As given: 20 calls hold every permit, 80 requests wait behind them. The
/// hang checks fail on the missing deadline; the recovery and /health pass.
#[test]
fn as_given_the_hang_checks_fail_on_the_missing_deadline() {
    let bin = variant(&["--permits", "20"]);
    let message = fails(check_1, &bin, "the exercise as given, check 1");
    assert_names_hint_with(
        HINTS,
        &message,
        1,
        &["tokio::time::timeout", "ApiError::gateway_timeout", "1 s", "in_flight 20"],
    );
    assert_mentions(&message, &["in_flight 20 (held", "the other 80 requests wait for a permit"]);
    let message = fails(check_2, &bin, "the exercise as given, check 2");
    assert_names_hint_with(HINTS, &message, 1, &["tokio::time::timeout"]);
    assert_mentions(&message, &["in_flight 20 (held", "hung_up 0"]);
    passes(
        check_3,
        &bin,
        "the exercise as given, check 3 (its clients gave up, so the permits came back)",
    );
    passes(check_4, &bin, "the exercise as given, check 4");
}

/// A deadline of 30 s is no deadline to a client that leaves after 2.
#[test]
fn a_deadline_far_past_the_clients_patience_is_told_how_long() {
    let bin = variant(&["--deadline-ms", "30000"]);
    let message = fails(check_1, &bin, "a deadline of 30 s");
    assert_names_hint_with(HINTS, &message, 1, &["30 s", "2 s", "1 s"]);
    assert_mentions(&message, &["0 answered within 1.5 s", "no deadline to that client"]);
}

/// A deadline of 1.8 s: every answer comes, each one after the 1.5 s it
/// was due in.
#[test]
fn a_deadline_longer_than_the_answers_are_due_in_is_told_how_long() {
    let bin = variant(&["--deadline-ms", "1800"]);
    let message = fails(check_1, &bin, "a deadline of 1.8 s");
    assert_names_hint_with(HINTS, &message, 1, &["1 s, plus 0.5 s of slack"]);
    assert_mentions(
        &message,
        &["0 answered within 1.5 s", "the deadline itself is longer than the 1.5 s"],
    );
}

/// 200 permits and no deadline: 100 calls hang instead of 20.
#[test]
fn more_permits_without_a_deadline_still_hang() {
    let bin = variant(&["--permits", "200"]);
    let message = fails(check_1, &bin, "200 permits and no deadline");
    assert_names_hint_with(HINTS, &message, 1, &["tokio::time::timeout"]);
    assert_mentions(&message, &["100 calls received, in_flight 100"]);
    assert!(
        HINTS.contains("200 permits are only 200"),
        "hint 2 answers the learner who tries more permits"
    );
}

/// A deadline of 1 s on the call alone: 5 rounds of 1 s for the last requests.
#[test]
fn a_deadline_on_the_call_alone_is_shown_the_rounds_of_the_permits() {
    let bin = variant(&["--deadline-ms", "1000", "--deadline-over", "call"]);
    let message = fails(check_1, &bin, "a deadline of 1 s on the call alone");
    assert_names_hint_with(HINTS, &message, 2, &["acquire().await", "5 rounds", "20 slots"]);
    assert_mentions(&message, &["on 20 permits = 5 rounds x", "20 answered within 1.5 s"]);
}

/// 504 at once, without calling: the service's count of calls says so.
#[test]
fn a_504_without_a_call_is_caught_by_the_services_count() {
    let bin = variant(&["--deadline-ms", "1000", "--call", "skip"]);
    let message = fails(check_1, &bin, "a 504 without a call");
    assert_names_hint_with(HINTS, &message, 3, &["calls the service received", "at least 20"]);
    assert_mentions(&message, &["the service received 0 calls"]);
}

/// The call in a task of its own: the handler answers 504, the call runs on.
#[test]
fn a_spawned_call_that_runs_on_is_caught_by_the_hang_ups() {
    let bin = variant(&["--deadline-ms", "1000", "--call", "spawn"]);
    passes(check_1, &bin, "a spawned call, check 1 (its 504s are in time)");
    let message = fails(check_2, &bin, "a spawned call, check 2");
    assert_names_hint_with(HINTS, &message, 4, &["tokio::spawn", "JoinHandle::abort", "hung_up"]);
    assert_mentions(&message, &["still holds 20 of its calls", "hung_up 0"]);
}

/// The permit forgotten and given back by hand after the call: the deadline
/// drops the call before that line, and the permits never come back.
#[test]
fn a_permit_released_by_hand_is_caught_after_the_recovery() {
    let bin = variant(&["--deadline-ms", "1000", "--release-by-hand"]);
    passes(check_1, &bin, "a permit released by hand, check 1");
    passes(check_2, &bin, "a permit released by hand, check 2");
    let message = fails(check_3, &bin, "a permit released by hand, check 3");
    assert_names_hint_with(HINTS, &message, 5, &["add_permits(1)", "std::mem::forget", "_permit"]);
    assert_mentions(
        &message,
        &["0 of 100 requests got a price", "20 of the 20 permits never came back"],
    );
}

/// A /health that asks the service hangs with it.
#[test]
fn a_deep_health_check_is_told_to_leave_the_service_alone() {
    let bin = variant(&["--deadline-ms", "1000", "--deep-health"]);
    let message = fails(check_4, &bin, "a deep /health");
    assert_names_hint_with(HINTS, &message, 6, &["deep", "load balancer"]);
    assert_mentions(&message, &["/health is not fast", "failed"]);
}

/// An honest fix passes all four checks.
fn passes_every_check(flags: &[&str]) {
    let bin = variant(flags);
    for (n, check) in [check_1, check_2, check_3, check_4].into_iter().enumerate() {
        passes(check, &bin, &format!("{flags:?}, check {}", n + 1));
    }
}

/// Honest: one deadline of 1 s over the wait for a permit and the call.
#[test]
fn one_deadline_over_the_permit_and_the_call_passes() {
    passes_every_check(&["--deadline-ms", "1000"]);
}

/// Honest: `tokio::time::timeout` around the call alone, short enough for
/// its 5 rounds (5 x 200 ms).
#[test]
fn a_short_timeout_around_the_call_passes() {
    passes_every_check(&["--deadline-ms", "200", "--deadline-over", "call"]);
}

/// Honest: reqwest's own timeout, as short.
#[test]
fn a_short_timeout_on_the_client_passes() {
    passes_every_check(&["--deadline-ms", "200", "--deadline-over", "client"]);
}

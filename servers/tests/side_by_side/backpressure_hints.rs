//! The backpressure hints lead to the fix: the grade
//! (kit_load::backpressure_grade) against the exercise fixed in the ways
//! learners fix it (servers/examples/backpressure-variants.rs). Honest
//! fixes pass every check; each wrong one fails on the check of the lesson
//! it misses, and the hint it names says what that failure needs. The
//! grade measures one binary at a time (its own lock), so these take about
//! a minute and a half together, beside the other tests.

use std::path::PathBuf;

use crate::common::grading::{assert_mentions, failure, variant_of};
use crate::common::hints::assert_names_hint_with;
use kit_load::backpressure_grade as grade;

const HINTS: &str = include_str!("../../../exercises/backpressure/HINTS.md");

/// The gateway: the kit's upstream, this package's own build of it.
fn gateway() -> PathBuf {
    kit_measure::harness::sibling_binary("upstream").expect("the upstream binary")
}

fn variant(flags: &[&str]) -> PathBuf {
    variant_of("backpressure-variants", flags)
}

/// Check `n` on the variant: its failure message, or None if it passed.
fn check(n: u32, flags: &[&str]) -> Option<String> {
    let (bin, up) = (variant(flags), gateway());
    failure(move || grade::check(n, &bin, &up))
}

fn fails(n: u32, flags: &[&str]) -> String {
    check(n, flags).unwrap_or_else(|| panic!("{flags:?} passed check {n}"))
}

fn passes(checks: &[u32], flags: &[&str]) {
    for &n in checks {
        if let Some(message) = check(n, flags) {
            panic!("{flags:?} failed check {n}:\n{message}");
        }
    }
}

#[test]
fn a_waiting_room_after_try_acquire_passes() {
    passes(&[1, 2, 3, 4], &["--shed", "try-acquire", "--waiting", "8"]);
}

#[test]
fn a_bounded_wait_of_less_than_a_call_passes() {
    passes(&[1, 2, 3, 4], &["--shed", "timeout", "--wait-ms", "200"]);
}

#[test]
fn the_line_with_no_bound_is_told_to_bound_it() {
    let flags = ["--shed", "none"];
    for n in [1, 2, 3] {
        let message = fails(n, &flags);
        assert_names_hint_with(HINTS, &message, 1, &["AtomicUsize", "503", "Little's law"]);
        assert_mentions(&message, &["0 x 5xx", "hung up", "Little's law", "16.0/s"]);
    }
    passes(&[4], &flags);
}

#[test]
fn a_bound_too_large_or_a_wait_longer_than_the_patience_is_no_bound() {
    for flags in
        [["--shed", "line", "--waiting", "1000"], ["--shed", "timeout", "--wait-ms", "2000"]]
    {
        let message = fails(1, &flags);
        // Nothing was shed: as given, and hint 1 points on to the size.
        assert_names_hint_with(HINTS, &message, 1, &["hint 2"]);
        assert_mentions(&message, &["nothing was turned away"]);
        assert!(grade::longest_line() == 12 && HINTS.contains("bound of 1000 is no bound"));
        assert!(HINTS.contains("2 s is longer than the client's"));
    }
}

#[test]
fn a_line_of_20_sheds_but_too_late() {
    let message = fails(1, &["--shed", "line", "--waiting", "20"]);
    assert_names_hint_with(HINTS, &message, 2, &["4 x (1 s - 250 ms) / 250 ms = 12"]);
    assert_mentions(
        &message,
        &["(1 s - 250 ms) / 250 ms = 12 may wait", "away, but kept too many"],
    );
}

#[test]
fn a_503_for_everyone_is_told_to_shed_only_what_it_cannot_serve() {
    let flags = ["--shed", "everyone"];
    for n in [4, 1] {
        let message = fails(n, &flags);
        assert_names_hint_with(HINTS, &message, 5, &["8 a second", "free"]);
    }
}

#[test]
fn more_connections_fail_only_on_the_gateway_s_count() {
    let flags = ["--connections", "40"];
    passes(&[1, 2, 4], &flags);
    let message = fails(3, &flags);
    assert_names_hint_with(HINTS, &message, 4, &["GATEWAY_CONNECTIONS", "counts the calls"]);
    assert_mentions(&message, &["calls at once from your server; it gives this app 4"]);
}

#[test]
fn a_slow_503_or_one_without_retry_after_is_told_to_say_no_fast() {
    let message = fails(2, &["--shed", "timeout", "--wait-ms", "500"]);
    assert_names_hint_with(HINTS, &message, 3, &["one call's", "Retry-After"]);
    assert_mentions(&message, &["longer than one call's 250 ms"]);
    let flags = ["--shed", "line", "--no-retry-after"];
    passes(&[1], &flags);
    let message = fails(2, &flags);
    assert_names_hint_with(HINTS, &message, 3, &["RETRY_AFTER"]);
    assert_mentions(&message, &["carried no Retry-After header"]);
}

//! The wrapper's hints lead to the fix: tried as a learner would, reading
//! only the hint each failure names. The pristine wrapper (blocking-wrapper
//! is the exercise under another name) and the known wrong or half fixes
//! (more app threads, waits still on the bridge, sequential awaits, the
//! declared slots left as threads) go through checks 1 and 2 of the grade;
//! the hint each failure names must say what that failure needs. Check 3
//! is in tests/alone/wrapper_hints.rs. Cheap: every burst but the pristine
//! one (5 s, the lesson itself) takes one or two rounds.

use crate::common::grading::{failure, variant_of};
use crate::common::hints::assert_names_hint_with;
use kit_measure::grade;

const HINTS: &str = include_str!("../../../exercises/wrapper/HINTS.md");
const WRAPPER: &str = env!("CARGO_BIN_EXE_blocking-wrapper");

/// Enough app threads for 2 rounds of a burst of 100, and few enough to
/// pass the threads-at-rest check: a learner's "more workers".
const FIFTY: [(&str, &str); 1] = [("KIT_WORKERS", "50")];

#[test]
fn the_pristine_wrapper_is_told_to_move_the_waits_off_the_app_threads() {
    let message =
        failure(|| grade::parallel_overlaps(WRAPPER)).expect("the pristine wrapper fails check 1");
    assert_names_hint_with(
        HINTS,
        &message,
        1,
        &["peak_in_flight", "async handlers", "tokio::time::sleep", "route them"],
    );
}

#[test]
fn more_app_threads_are_told_that_threads_are_not_the_fix() {
    // Still too few for 100 at once: the slots, and the knob that will not fix them.
    let message = failure(|| grade::parallel_overlaps_in_env(WRAPPER, &FIFTY))
        .expect("50 app threads fail check 1");
    assert_names_hint_with(HINTS, &message, 1, &["--workers", "hint 5"]);
    // Enough for 100 at once: the threads at rest.
    let message = failure(|| grade::parallel_overlaps_in_env(WRAPPER, &[("KIT_WORKERS", "100")]))
        .expect("100 app threads fail check 1");
    assert_names_hint_with(HINTS, &message, 5, &["--workers", "OS threads"]);
}

#[test]
fn multi_io_and_db_left_on_the_bridge_are_shown_how_to_route_a_handler() {
    let message = failure(|| grade::multi_io_and_db_scale_in_env(WRAPPER, &FIFTY))
        .expect("the waits on the bridge fail check 2");
    assert_names_hint_with(
        HINTS,
        &message,
        2,
        &["/multi-io", "Routes::route", "rest_to_app", "Endpoint::MultiIo"],
    );
}

#[test]
fn parallel_left_on_the_bridge_is_told_to_leave_the_bridge() {
    let bin = variant_of("wrapper-variants", &["--parallel", "bridge"]);
    let message = failure(|| grade::parallel_overlaps_in_env(bin, &FIFTY))
        .expect("/parallel on the bridge fails check 1");
    assert_names_hint_with(HINTS, &message, 1, &["/parallel", "async handlers"]);
}

#[test]
fn sequential_awaits_are_told_to_join_and_not_to_touch_app_rs() {
    let message = failure(|| {
        grade::parallel_overlaps(variant_of("wrapper-variants", &["--parallel", "sequential"]))
    })
    .expect("sequential awaits fail check 1");
    assert_names_hint_with(HINTS, &message, 3, &["a.await; b.await;", "tokio::join!", "app.rs"]);
}

#[test]
fn slots_still_declared_as_threads_are_told_what_to_declare() {
    let message = failure(|| {
        grade::parallel_overlaps(variant_of("wrapper-variants", &["--declare-threads"]))
    })
    .expect("a fixed wrapper that declares its app threads as slots fails check 1");
    assert_names_hint_with(
        HINTS,
        &message,
        5,
        &["Slots::Threads(args.workers)", "Slots::Unbounded"],
    );
}

#[test]
fn the_honest_fix_passes_checks_1_and_2() {
    let bin = variant_of("wrapper-variants", &["--parallel", "join"]);
    if let Some(message) = failure(|| grade::parallel_overlaps(&bin)) {
        panic!("the fixed wrapper must pass check 1:{message}");
    }
    if let Some(message) = failure(|| grade::multi_io_and_db_scale(&bin)) {
        panic!("the fixed wrapper must pass check 2:{message}");
    }
}

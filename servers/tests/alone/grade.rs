//! The grade's checks 3 and 4 from the kit's side: CPU saturation and 1000
//! connections at once need the machine alone (the grade's own lock takes
//! care of it). Every way to game them or to fix them halfway fails on the
//! right check, with the hint that fits.

use crate::common::grading::{assert_mentions, assert_omits, example, failure, variant};
use kit_measure::grade;

#[test]
fn the_pristine_trap_fails_check_4_on_its_slots_and_points_to_hint_1() {
    let message = failure(|| grade::cannot_be_gamed_with_threads(env!("CARGO_BIN_EXE_async-trap")))
        .expect("must fail");
    assert_mentions(&message, &["peak_in_flight 4", "hint 1"]);
    assert_omits(&message, &["hint 5"]);
}

#[test]
fn more_worker_threads_fail_at_rest_on_the_knob_that_made_them() {
    let env = [("KIT_WORKER_THREADS", "1000")];
    let message = failure(|| {
        grade::cannot_be_gamed_with_threads_in_env(env!("CARGO_BIN_EXE_async-trap"), &env)
    })
    .expect("1000 worker threads must not pass check 4");
    assert_mentions(&message, &["before any request", "--worker-threads 1000", "hint 5"]);
}

#[test]
fn more_app_threads_on_the_wrapper_name_the_wrappers_knob() {
    let env = [("KIT_WORKERS", "1000")];
    let message = failure(|| {
        grade::cannot_be_gamed_with_threads_in_env(env!("CARGO_BIN_EXE_blocking-wrapper"), &env)
    })
    .expect("1000 app threads must not pass check 4");
    assert_mentions(&message, &["--workers 1000", "hint 5"]);
    assert_omits(&message, &["worker-threads", "spawn_blocking"]);
}

#[test]
fn spawn_blocking_around_waits_fails_check_4_and_says_what_peak_in_flight_counts() {
    let message = failure(|| grade::cannot_be_gamed_with_threads(example("thread-per-request")))
        .expect("must fail check 4");
    assert_mentions(
        &message,
        &[
            "OS threads",
            "grew with the requests",
            "counts requests inside handlers, not slots",
            "hint 5",
        ],
    );
}

#[test]
fn uncapped_cpu_work_fails_check_3_on_the_count_of_cpu_jobs() {
    let message = failure(|| grade::cpu_does_not_stall(variant(&["--cpu", "uncapped"])))
        .expect("must fail check 3");
    // Usually its only failure; on a loaded machine the stall can fail first,
    // and then the count is named beside it.
    assert_mentions(&message, &["CPU jobs ran at once on", "hint 4"]);
}

#[test]
fn a_cap_held_by_the_future_fails_check_3_when_clients_give_up() {
    let message = failure(|| grade::cpu_does_not_stall(variant(&["--cpu", "permit-in-future"])))
        .expect("must fail check 3");
    assert_mentions(&message, &["did not survive clients that gave up", "hint 4"]);
}

#[test]
fn a_cap_held_by_the_blocking_job_passes_check_3() {
    if let Some(message) = failure(|| grade::cpu_does_not_stall(variant(&["--cpu", "capped"]))) {
        panic!("the capped fix must pass check 3:{message}");
    }
}

#[test]
fn idle_worker_threads_fail_check_3_on_the_knob_not_the_cpu_work() {
    let message = failure(|| grade::cpu_does_not_stall(variant(&["--worker-threads", "100"])))
        .expect("must fail check 3");
    assert_mentions(&message, &["before any request", "--worker-threads 100", "hint 5"]);
    assert_omits(&message, &["hint 4"]);
}

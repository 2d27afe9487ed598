//! The grade, from the kit's side (the checks that share the machine;
//! checks 3 and 4 need it alone: tests/alone/grade.rs): every honest fix passes, and every way to
//! game it or to fix it halfway fails on the check whose lesson it misses,
//! with a message that names the measured cause and the hint that fits.
//! (Both solutions pass the whole grade in their own crates, which the root
//! `cargo test --release` runs; CI also proves that the pristine exercises fail it:
//! see .ci/run.)

use std::process::Command;

use crate::common::grading::{
    assert_mentions, assert_multiplies_out, assert_omits, example, failure, requests_waiting,
    variant, variant_of,
};
use kit_measure::grade;

#[test]
fn the_pristine_trap_fails_check_1_in_slot_language_with_numbers_that_agree() {
    // The unfixed trap is async-trap under another name.
    let message = failure(|| grade::parallel_overlaps(env!("CARGO_BIN_EXE_async-trap")))
        .expect("async-trap must fail check 1");
    assert_mentions(
        &message,
        &["peak_in_flight 4", "25 rounds x", "holds a thread while it waits", "HINTS.md, hint 1"],
    );
    assert_multiplies_out(&message);
    // The time, read with the server's own time per request, says what the
    // count says: 4 requests at once.
    let waiting = requests_waiting(&message);
    assert!(
        (3.5..=4.5).contains(&waiting),
        "the time says {waiting} requests at once, peak_in_flight says 4:\n{message}"
    );
}

#[test]
fn sequential_awaits_fail_check_1_on_the_overlap_and_point_to_hint_3() {
    let message = failure(|| grade::parallel_overlaps(variant(&["--waits", "sequential"])))
        .expect("must fail check 1");
    assert_mentions(&message, &["peak_in_flight 100", "did not overlap", "hint 3"]);
    assert_multiplies_out(&message);
}

#[test]
fn skipped_waits_fail_check_1() {
    let message = failure(|| grade::parallel_overlaps(variant(&["--waits", "skipped"])))
        .expect("must fail check 1");
    assert_mentions(&message, &["skipped or shortened"]);
}

#[test]
fn every_honest_way_to_overlap_the_waits_passes_check_1() {
    for style in ["join", "spawn", "futures-join"] {
        if let Some(message) = failure(|| grade::parallel_overlaps(variant(&["--waits", style]))) {
            panic!("--waits {style} is an honest fix and must pass check 1:{message}");
        }
    }
}

#[test]
fn more_worker_threads_tick_neither_check_1_nor_check_2() {
    // 100 workers give the unfixed trap 100 slots: on time alone, check 2
    // would pass. The threads at rest are its exact partner.
    let env = [("KIT_WORKER_THREADS", "100")];
    for (check, message) in [
        (1, failure(|| grade::parallel_overlaps_in_env(variant(&["--waits", "sequential"]), &env))),
        (
            2,
            failure(|| grade::multi_io_and_db_scale_in_env(env!("CARGO_BIN_EXE_async-trap"), &env)),
        ),
    ] {
        let message =
            message.unwrap_or_else(|| panic!("100 worker threads must not pass check {check}"));
        assert_mentions(
            &message,
            &[
                "before any request",
                "--worker-threads 100",
                &format!("check {check} allows 64"),
                "hint 5",
            ],
        );
    }
}

#[test]
fn more_app_threads_on_the_wrapper_do_not_tick_check_2() {
    let env = [("KIT_WORKERS", "100")];
    let message = failure(|| {
        grade::multi_io_and_db_scale_in_env(env!("CARGO_BIN_EXE_blocking-wrapper"), &env)
    })
    .expect("100 app threads must not pass check 2");
    assert_mentions(&message, &["before any request", "--workers 100", "hint 5"]);
}

#[test]
fn spawn_blocking_around_waits_does_not_tick_check_1_either() {
    // A blocking thread per waiting request: 100 of them for the burst.
    let message = failure(|| grade::parallel_overlaps(example("thread-per-request")))
        .expect("must fail check 1");
    assert_mentions(
        &message,
        &["100 concurrent /parallel ran on", "OS threads", "grew with the requests", "hint 5"],
    );
}

#[test]
fn a_fixed_server_that_still_declares_4_slots_fails_on_its_declaration() {
    // Every wait yields, every time is right, and /metrics still says 4.
    let message = failure(|| grade::parallel_overlaps(variant(&["--declare-slots", "4"])))
        .expect("must fail check 1");
    assert_mentions(
        &message,
        &[
            "declares 4 slots in /metrics, and 100 requests waited at once",
            "peak_in_flight 100",
            "25 rounds",
            "hint 5",
        ],
    );
    assert_multiplies_out(&message);
    // A declaration the count does not contradict is not a finding.
    if let Some(message) =
        failure(|| grade::parallel_overlaps(variant(&["--declare-slots", "1000"])))
    {
        panic!("1000 declared slots are not contradicted by 100 at once:{message}");
    }
}

#[test]
fn one_round_is_said_in_the_singular() {
    let message = failure(|| grade::parallel_overlaps(variant(&["--waits", "sequential"])))
        .expect("must fail check 1");
    assert_mentions(&message, &["on 100 slots = 1 round x "]);
    assert_omits(&message, &["1 rounds"]);
}

#[test]
fn a_server_that_panics_while_building_its_router_is_reported_dead_in_its_own_words() {
    let message = failure(|| grade::parallel_overlaps(variant_of("crash", &["--when", "router"])))
        .expect("must fail");
    assert_mentions(
        &message,
        &[
            "exited",
            "before it printed its listening line",
            "Cannot merge two `Router`s",
            "crash.rs:",
            "not about slots",
        ],
    );
    assert_omits(&message, &["HINTS.md"]);
}

#[test]
fn a_server_that_panics_after_listening_is_reported_dead_in_its_own_words() {
    let message =
        failure(|| grade::parallel_overlaps(variant_of("crash", &["--when", "after-listening"])))
            .expect("must fail");
    assert_mentions(
        &message,
        &["exited", "died right after it announced itself", "not about slots"],
    );
    assert_omits(&message, &["HINTS.md", "never answered"]);
}

#[test]
fn a_known_panic_is_recognised_and_explained() {
    let message = failure(|| grade::parallel_overlaps(example("runtime-in-runtime")))
        .expect("must fail check 1");
    assert_mentions(&message, &["block_on was called inside the runtime"]);
}

/// Run by `the_message_is_the_last_thing_a_learner_reads` in a child
/// process, the way `cargo test --release` runs an exercise's grade.

#[test]
#[ignore = "run as a child process by the_message_is_the_last_thing_a_learner_reads"]
fn a_failing_check_as_a_learner_sees_it() {
    grade::parallel_overlaps(variant_of("crash", &["--when", "router"]));
}

#[test]
fn the_message_is_the_last_thing_a_learner_reads() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "a_failing_check_as_a_learner_sees_it"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run this test binary again");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "the check should fail:\n{text}");
    assert_mentions(&text, &["✗ the server did not start", "not about slots"]);
    assert_omits(&text, &["stack backtrace", "grade.rs", "panicked at crates"]);
}

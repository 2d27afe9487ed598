//! The grade, from the kit's side: every honest fix passes, and every way to
//! game it or to fix it halfway fails on the check whose lesson it misses,
//! with a message that names the measured cause and the hint that fits.
//! (Both solutions pass the whole grade in their own crates, which the root
//! `cargo test` runs; CI also proves that the pristine exercises fail it:
//! see .ci/run.)

use std::path::PathBuf;
use std::process::Command;

use kit_measure::grade;

/// An example of this package: `cargo test` builds the examples into
/// target/<profile>/examples before it runs any test.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // The test runs from target/<profile>/deps.
    let profile = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let path = profile.join("examples").join(name);
    assert!(path.is_file(), "{} not found: run `cargo test` in the workspace", path.display());
    path
}

/// `fix-variants` with the given flags (see `variant_of`).
fn variant(flags: &[&str]) -> PathBuf {
    variant_of("fix-variants", flags)
}

/// Runs a check and returns its failure message, or None if it passed.
fn failure(check: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    std::panic::catch_unwind(check).err().map(|payload| match grade::failure_message(payload.as_ref()) {
        Some(message) => message.to_string(),
        None => panic!("the check panicked instead of failing with a message: {payload:?}"),
    })
}

fn assert_mentions(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(message.contains(needle), "missing '{needle}' in:\n{message}");
    }
}

fn assert_omits(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(!message.contains(needle), "'{needle}' should not be in:\n{message}");
    }
}

/// "= 25 rounds x 201 ms = 5.025 s": the printed figures multiply out.
fn assert_multiplies_out(message: &str) {
    let line = message.lines().find(|l| l.contains("slot model:")).unwrap_or_else(|| panic!("no slot model in:\n{message}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "rounds").expect("'N rounds'");
    let rounds: f64 = words[at - 1].parse().unwrap();
    let (t, predicted): (f64, f64) = (words[at + 2].parse().unwrap(), words[at + 5].parse().unwrap());
    assert_eq!(words[at + 3], "ms", "{line}");
    assert!((rounds * t / 1000.0 - predicted).abs() < 1e-9, "{rounds} x {t} ms is not {predicted} s: {line}");
}

/// "about 4.0 requests waiting at once", as a number.
fn requests_waiting(message: &str) -> f64 {
    let (before, _) = message.split_once(" requests waiting at once").expect("the measured slots");
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn the_pristine_trap_fails_check_1_in_slot_language_with_numbers_that_agree() {
    // The unfixed trap is async-trap under another name.
    let message = failure(|| grade::parallel_overlaps(env!("CARGO_BIN_EXE_async-trap"))).expect("async-trap must fail check 1");
    assert_mentions(&message, &["peak_in_flight 4", "25 rounds x", "holds a thread while it waits", "HINTS.md, hint 1"]);
    assert_multiplies_out(&message);
    // The time, read with the server's own time per request, says what the
    // count says: 4 requests at once.
    let waiting = requests_waiting(&message);
    assert!((3.5..=4.5).contains(&waiting), "the time says {waiting} requests at once, peak_in_flight says 4:\n{message}");
}

#[test]
fn the_pristine_trap_fails_check_4_on_its_slots_and_points_to_hint_1() {
    let message = failure(|| grade::cannot_be_gamed_with_threads(env!("CARGO_BIN_EXE_async-trap"))).expect("must fail");
    assert_mentions(&message, &["peak_in_flight 4", "hint 1"]);
    assert_omits(&message, &["hint 5"]);
}

#[test]
fn more_worker_threads_fail_at_rest_on_the_knob_that_made_them() {
    let env = [("KIT_WORKER_THREADS", "1000")];
    let message = failure(|| grade::cannot_be_gamed_with_threads_in_env(env!("CARGO_BIN_EXE_async-trap"), &env))
        .expect("1000 worker threads must not pass check 4");
    assert_mentions(&message, &["before any request", "--worker-threads 1000", "hint 5"]);
}

#[test]
fn more_app_threads_on_the_wrapper_name_the_wrappers_knob() {
    let env = [("KIT_WORKERS", "1000")];
    let message = failure(|| grade::cannot_be_gamed_with_threads_in_env(env!("CARGO_BIN_EXE_blocking-wrapper"), &env))
        .expect("1000 app threads must not pass check 4");
    assert_mentions(&message, &["--workers 1000", "hint 5"]);
    assert_omits(&message, &["worker-threads", "spawn_blocking"]);
}

#[test]
fn spawn_blocking_around_waits_fails_check_4_and_says_what_peak_in_flight_counts() {
    let message = failure(|| grade::cannot_be_gamed_with_threads(example("thread-per-request"))).expect("must fail check 4");
    assert_mentions(&message, &["OS threads", "grew with the requests", "counts requests inside handlers, not slots", "hint 5"]);
}

#[test]
fn sequential_awaits_fail_check_1_on_the_overlap_and_point_to_hint_3() {
    let message = failure(|| grade::parallel_overlaps(variant(&["--waits", "sequential"]))).expect("must fail check 1");
    assert_mentions(&message, &["peak_in_flight 100", "did not overlap", "hint 3"]);
    assert_multiplies_out(&message);
}

#[test]
fn skipped_waits_fail_check_1() {
    let message = failure(|| grade::parallel_overlaps(variant(&["--waits", "skipped"]))).expect("must fail check 1");
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
fn uncapped_cpu_work_fails_check_3_on_the_count_of_cpu_jobs() {
    let message = failure(|| grade::cpu_does_not_stall(variant(&["--cpu", "uncapped"]))).expect("must fail check 3");
    assert_mentions(&message, &["CPU jobs ran at once", "hint 4"]);
}

#[test]
fn a_cap_held_by_the_future_fails_check_3_when_clients_give_up() {
    let message = failure(|| grade::cpu_does_not_stall(variant(&["--cpu", "permit-in-future"]))).expect("must fail check 3");
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
    let message = failure(|| grade::cpu_does_not_stall(variant(&["--worker-threads", "100"]))).expect("must fail check 3");
    assert_mentions(&message, &["before any request", "--worker-threads 100", "hint 5"]);
    assert_omits(&message, &["hint 4"]);
}

#[test]
fn a_server_that_panics_while_building_its_router_is_reported_dead_in_its_own_words() {
    let message = failure(|| grade::parallel_overlaps(variant_of("crash", &["--when", "router"]))).expect("must fail");
    assert_mentions(&message, &["exited", "before it printed its listening line", "Cannot merge two `Router`s", "crash.rs:", "not about slots"]);
    assert_omits(&message, &["HINTS.md"]);
}

#[test]
fn a_server_that_panics_after_listening_is_reported_dead_in_its_own_words() {
    let message = failure(|| grade::parallel_overlaps(variant_of("crash", &["--when", "after-listening"]))).expect("must fail");
    assert_mentions(&message, &["exited", "died right after it announced itself", "not about slots"]);
    assert_omits(&message, &["HINTS.md", "never answered"]);
}

#[test]
fn a_known_panic_is_recognised_and_explained() {
    let message = failure(|| grade::parallel_overlaps(example("runtime-in-runtime"))).expect("must fail check 1");
    assert_mentions(&message, &["block_on was called inside the runtime"]);
}

/// A script that runs the example `name` with `flags`, as the grade starts
/// servers with their own flags appended.
fn variant_of(name: &str, flags: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("a folder for the wrapper scripts");
    let script = dir.join(flags.join("_").replace("--", ""));
    let body = format!("#!/bin/sh\nexec '{}' {} \"$@\"\n", example(name).display(), flags.join(" "));
    std::fs::write(&script, body).expect("write the wrapper script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("make it executable");
    script
}

/// Run by `the_message_is_the_last_thing_a_learner_reads` in a child
/// process, the way `cargo test` runs an exercise's grade.
#[test]
#[ignore = "run as a child process by the_message_is_the_last_thing_a_learner_reads"]
fn a_failing_check_as_a_learner_sees_it() {
    grade::parallel_overlaps(variant_of("crash", &["--when", "router"]));
}

#[test]
fn the_message_is_the_last_thing_a_learner_reads() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "a_failing_check_as_a_learner_sees_it"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run this test binary again");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "the check should fail:\n{text}");
    assert_mentions(&text, &["✗ the server did not start", "not about slots"]);
    assert_omits(&text, &["stack backtrace", "grade.rs", "panicked at crates"]);
}

//! The grade, from the kit's side: the ways to game it fail it for the right
//! reason. (Both solutions pass it in their own crates, which the root
//! `cargo test` runs; CI also proves that the pristine exercises fail it:
//! see .ci/run.)

use std::path::PathBuf;

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

/// Runs check 4 and returns its failure message (or None if it passed).
fn check_4_failure(bin: PathBuf, env: &[(&str, &str)]) -> Option<String> {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    std::panic::catch_unwind(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        kit_measure::grade::cannot_be_gamed_with_threads_in_env(&bin, &env);
    })
    .err()
    .map(|panic| panic.downcast_ref::<String>().cloned().unwrap_or_default())
}

#[test]
fn more_worker_threads_fail_check_4_on_thread_count() {
    let message = check_4_failure(env!("CARGO_BIN_EXE_async-trap").into(), &[("KIT_WORKER_THREADS", "1000")])
        .expect("1000 worker threads must not pass check 4");
    assert!(message.contains("OS threads") && message.contains("bought slots with threads"), "{message}");
}

#[test]
fn spawn_blocking_around_waits_fails_check_4() {
    let example = example("thread-per-request");
    let message = check_4_failure(example, &[]).expect("spawn_blocking around each wait must not pass check 4");
    assert!(message.contains("OS threads") && message.contains("bought slots with threads"), "{message}");
}

#[test]
fn the_pristine_trap_fails_check_1_in_slot_language() {
    // The unfixed trap is async-trap under another name: it must fail on
    // the slots, with the diagnosis and the hint.
    let message = std::panic::catch_unwind(|| kit_measure::grade::parallel_overlaps(env!("CARGO_BIN_EXE_async-trap")))
        .expect_err("async-trap must fail check 1");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    for needle in ["peak_in_flight 4", "25 rounds", "holds a thread while it waits", "HINTS.md, hint 1"] {
        assert!(message.contains(needle), "missing '{needle}' in:\n{message}");
    }
}

#[test]
fn a_known_panic_is_recognised_and_explained() {
    let example = example("runtime-in-runtime");
    let message = std::panic::catch_unwind(move || kit_measure::grade::parallel_overlaps(&example))
        .expect_err("a server whose requests panic must fail check 1");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("block_on was called inside the runtime"), "not explained:\n{message}");
}

//! The grade, from the kit's side: both solutions pass it, and the ways to
//! game check 4 with threads fail it for the right reason. (CI also proves
//! that the pristine exercises fail it: see .ci/run.)

use std::path::PathBuf;
use std::sync::OnceLock;

/// Builds the solution crates (workspace members outside this package) and
/// returns the folder their binaries land in. Cargo releases its build lock
/// before running tests, so a nested build is safe.
fn built(bin: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        cargo_build(&["-p", "trap-solution", "-p", "wrapper-solution"])?;
        cargo_build(&["--example", "thread-per-request", "--example", "runtime-in-runtime"])
    });
    if let Err(e) = result {
        panic!("building the solutions failed:\n{e}");
    }
    kit::harness::sibling_binary(bin).unwrap_or_else(|e| panic!("{e}"))
}

fn cargo_build(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new(env!("CARGO"))
        .arg("build")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

mod trap_solution {
    kit::grade_tests!(super::built("trap-solution"));
}

mod wrapper_solution {
    kit::grade_tests!(super::built("wrapper-solution"));
}

/// Runs check 4 and returns its failure message (or None if it passed).
fn check_4_failure(bin: PathBuf, env: &[(&str, &str)]) -> Option<String> {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    std::panic::catch_unwind(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        kit::grade::cannot_be_gamed_with_threads_in_env(&bin, &env);
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
    let example = built("trap-solution").parent().unwrap().join("examples/thread-per-request");
    let message = check_4_failure(example, &[]).expect("spawn_blocking around each wait must not pass check 4");
    assert!(message.contains("OS threads") && message.contains("bought slots with threads"), "{message}");
}

#[test]
fn the_pristine_trap_fails_check_1_in_slot_language() {
    // The unfixed trap is async-trap under another name: it must fail on
    // the slots, with the diagnosis and the hint.
    let message = std::panic::catch_unwind(|| kit::grade::parallel_overlaps(env!("CARGO_BIN_EXE_async-trap")))
        .expect_err("async-trap must fail check 1");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    for needle in ["peak_in_flight 4", "25 rounds", "holds a thread while it waits", "HINTS.md, hint 1"] {
        assert!(message.contains(needle), "missing '{needle}' in:\n{message}");
    }
}

#[test]
fn a_known_panic_is_recognised_and_explained() {
    let example = built("trap-solution").parent().unwrap().join("examples/runtime-in-runtime");
    let message = std::panic::catch_unwind(move || kit::grade::parallel_overlaps(&example))
        .expect_err("a server whose requests panic must fail check 1");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("block_on was called inside the runtime"), "not explained:\n{message}");
}

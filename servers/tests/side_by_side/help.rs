//! Every binary's `--help` says what is true of that binary: the servers
//! name their slot limits, and the fixed solutions do not repeat the trap's
//! words. (The exercises' code is their servers' code, line for line, see
//! exercises.rs, so their `--help` is their server's.)

use std::process::Command;

use kit_measure::harness::sibling_binary;

fn help(bin: &std::path::Path) -> String {
    let out = Command::new(bin).arg("--help").output().expect("run --help");
    assert!(out.status.success(), "{} --help failed", bin.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check(bin: &std::path::Path, says: &[&str], never: &[&str]) {
    let text = help(bin);
    for s in says {
        assert!(text.contains(s), "{} --help should say '{s}':\n{text}", bin.display());
    }
    for s in never {
        assert!(!text.contains(s), "{} --help must not say '{s}':\n{text}", bin.display());
    }
}

#[test]
fn each_server_names_where_its_slots_come_from() {
    check(
        env!("CARGO_BIN_EXE_sync-blocking").as_ref(),
        &["N handler threads = N slots", "slot count"],
        &[],
    );
    check(
        env!("CARGO_BIN_EXE_async-trap").as_ref(),
        &["block", "N worker threads = N slots", "slot count"],
        &[],
    );
    check(
        env!("CARGO_BIN_EXE_blocking-wrapper").as_ref(),
        &["N app threads = N slots", "slot count"],
        &[],
    );
    check(
        env!("CARGO_BIN_EXE_async-native").as_ref(),
        &["slots are unbounded", "Not a slot limit"],
        &["= N slots"],
    );
}

#[test]
fn the_solutions_describe_the_fix_not_the_trap() {
    // Built by the root `cargo test --release` (the solutions are default members).
    let found = |name: &str| {
        sibling_binary(name)
            .unwrap_or_else(|e| panic!("{e} (run `cargo test --release` at the repo root)"))
    };
    check(
        &found("trap-solution"),
        &["fixed", "unbounded", "Not a slot limit"],
        &["= N slots", "slot count", "handlers block"],
    );
    check(
        &found("wrapper-solution"),
        &["fixed", "one thread per core"],
        &["= N slots", "slot count"],
    );
}

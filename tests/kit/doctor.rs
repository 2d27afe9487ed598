//! `kit doctor` from the outside: a normal run names every check and ends
//! with a verdict; a machine with too low an open-file limit is "not ready",
//! exits 1 and says how to fix it. The verdict logic is tested on fixed
//! findings, so it does not depend on this machine.

use std::time::Duration;

use crate::common;

use assert_cmd::Command;
use kit::commands::doctor::{
    postgres_unset, render, verdict, Finding, Level, DATABASE_URL_ENV, NOFILE_NEEDED,
};
use predicates::prelude::*;

/// Docker and cargo may take up to 5 s each to answer; this is the whole run.
const RUN_WITHIN: Duration = Duration::from_secs(60);
/// A limit far below what the kit's bursts need, and below what any normal
/// shell has, so the doctor must call it a FAIL.
const LOW_NOFILE: u64 = 256;
const CHECKS: [&str; 9] = [
    "system",
    "rust toolchain",
    "open-file limit",
    "listen backlog",
    "OS threads and RSS",
    "docker",
    "postgresql",
    "builds",
    "cargo insta",
];

#[test]
fn a_normal_run_names_every_check_and_ends_with_a_verdict() {
    let out =
        Command::cargo_bin("kit").unwrap().arg("doctor").timeout(RUN_WITHIN).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for check in CHECKS {
        assert!(stdout.lines().any(|l| l.contains(check)), "no line for {check}:\n{stdout}");
    }
    let last = stdout.lines().last().unwrap_or_default();
    // Whether this machine is ready is its own business; the exit code must agree with the verdict.
    match out.status.code() {
        Some(0) => assert_eq!(last, "ready for the workshop", "{stdout}"),
        Some(1) => assert!(last.starts_with("not ready: "), "{stdout}"),
        other => panic!("exit {other:?}:\n{stdout}"),
    }
    // The readings the grade needs are there on Linux, which CI runs.
    if cfg!(target_os = "linux") {
        assert!(
            stdout.lines().any(|l| l.starts_with("ok") && l.contains("OS threads and RSS")),
            "{stdout}"
        );
    }
}

#[test]
fn a_low_open_file_limit_is_not_ready_and_says_how_to_fix_it() {
    let cmd = common::kit_with_nofile_limit(&["doctor"], LOW_NOFILE);
    Command::from_std(cmd).timeout(RUN_WITHIN).assert().code(1).stdout(
        predicate::str::is_match(r"(?m)^FAIL +open-file limit +soft 256, hard 256").unwrap().and(
            predicate::str::is_match(r"(?m)^not ready: .*open-file limit \(fix: .+\)").unwrap(),
        ),
    );
}

fn finding(check: &'static str, level: Level, fix: Option<&str>) -> Finding {
    Finding { check, level, detail: format!("{check} detail"), fix: fix.map(str::to_string) }
}

#[test]
fn the_verdict_names_every_fail_with_its_fix_and_ignores_warnings() {
    let ready =
        [finding("system", Level::Ok, None), finding("docker", Level::Warn, Some("start Docker"))];
    assert_eq!(verdict(&ready), "ready for the workshop");
    let broken = [
        finding("rust toolchain", Level::Fail, Some("install Rust")),
        finding("docker", Level::Warn, Some("start Docker")),
        finding("open-file limit", Level::Fail, Some(&format!("ulimit -n {NOFILE_NEEDED}"))),
    ];
    assert_eq!(
        verdict(&broken),
        "not ready: rust toolchain (fix: install Rust); open-file limit (fix: ulimit -n 4096)"
    );
    let mut text = Vec::new();
    render(&broken, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.lines().any(|l| l.starts_with("FAIL") && l.contains("rust toolchain")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("warn") && l.contains("docker")), "{text}");
    assert!(text.contains("fix: start Docker"), "{text}");
    assert_eq!(text.lines().last(), Some(verdict(&broken).as_str()));
}

/// Without a database, `kit doctor` says "optional" once, and where
/// PostgreSQL is installed its fix is the kit's throwaway server, from the
/// repository root (the reported line said "fix: optional: export
/// KIT_DATABASE_URL=..." after "...; optional").
#[test]
fn without_a_database_the_fix_says_optional_once_and_names_the_throwaway_script() {
    let out = Command::cargo_bin("kit")
        .unwrap()
        .arg("doctor")
        .env_remove(DATABASE_URL_ENV)
        .timeout(RUN_WITHIN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("postgresql"))
        .unwrap_or_else(|| panic!("no postgresql line:\n{stdout}"));
    let (finding, fix) = (lines[at], lines[at + 1]);
    assert!(finding.starts_with("warn") && finding.contains("not configured"), "{stdout}");
    assert!(fix.trim_start().starts_with("fix: "), "{stdout}");
    assert_eq!(format!("{finding}\n{fix}").matches("optional").count(), 1, "{finding}\n{fix}");
    let installed = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|mut d| d.next().is_some())
        || which_pg_ctl();
    if installed {
        assert!(
            fix.contains(
                "from the repository root, `source .ci/postgres.sh && start_throwaway_postgres`"
            ),
            "{fix}"
        );
    }
}

fn which_pg_ctl() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("pg_ctl").is_file()))
}

#[test]
fn the_postgres_fix_is_the_throwaway_script_where_postgres_is_installed() {
    let installed = postgres_unset(Some(std::path::Path::new("/usr/lib/postgresql/16/bin/pg_ctl")));
    let fix = installed.fix.clone().unwrap();
    assert!(
        fix.contains("(/usr/lib/postgresql/16/bin/pg_ctl)")
            && fix.contains("from the repository root")
            && fix.contains(".ci/postgres.sh"),
        "{fix}"
    );
    let missing = postgres_unset(None);
    let fix = missing.fix.clone().unwrap();
    assert!(
        fix.starts_with(&format!("export {DATABASE_URL_ENV}=postgres://"))
            && !fix.contains(".ci/postgres.sh"),
        "{fix}"
    );
    for f in [installed, missing] {
        assert_eq!(f.level, Level::Warn, "{f:?}");
        assert_eq!(
            format!("{} {}", f.detail, f.fix.as_deref().unwrap()).matches("optional").count(),
            1,
            "{f:?}"
        );
    }
}

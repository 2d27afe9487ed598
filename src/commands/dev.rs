//! `kit dev check`: every registered exercise fails its grade as given, on
//! exactly the checks the registry lists (naming its hint and showing its
//! evidence), and every solution passes it; in the manner of rustlings'
//! `dev check`. For contributors and CI, not for learners: hidden from
//! `kit --help` (CONTRIBUTING.md names it).
//!
//! The registry is `kit_measure::exercises::EXERCISES`. Each grade runs as a
//! learner runs it, `cargo test --release` in the folder, one at a time (the
//! grade measures timing: two at once would slow each other), its output in
//! `target/dev-check/<name>.log` (`<name>-solution.log`).
//!
//! Run: `cargo run --release -- dev check`, or `-- dev check --exercise trap`.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kit_measure::database;
use kit_measure::exercises::{self, Exercise, Needs, EXERCISES};
use kit_measure::harness;

use crate::error::{CliError, Result};
use crate::learn::{course, timing};
use crate::support::grade_log::{
    check_names, check_outcomes, failure_report, grade_section, spawn_cargo_test, Outcome,
};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: DevCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum DevCommand {
    /// Every pristine exercise fails its grade on exactly its registered checks, and every solution passes it.
    Check(CheckArgs),
    /// `kit learn`'s save-to-first-verdict time, warm, on an exercise as given and as solved.
    FirstVerdict(FirstVerdictArgs),
}

#[derive(clap::Args, Debug)]
pub struct FirstVerdictArgs {
    /// The exercise to time (its file is put back as it was afterwards).
    #[arg(long, value_name = "NAME", value_parser = registered, default_value = "trap")]
    pub exercise: &'static Exercise,
    /// Saves timed on each version, after one unmeasured save.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Check only this exercise and its solution (a name in the registry: trap, wrapper, pool, ...).
    #[arg(long, value_name = "NAME", value_parser = registered)]
    pub exercise: Option<&'static Exercise>,
}

/// How long one `cargo test --release` may take, the build included.
const TIMEOUT: Duration = Duration::from_secs(600);

/// How many lines of a failed run's log to print.
const TAIL: usize = 40;

/// How to get the database a grade needs, on a machine with PostgreSQL installed.
const GET_A_DATABASE: &str = "From the repository root, `source .ci/postgres.sh && start_throwaway_postgres` starts a throwaway \
    PostgreSQL and exports KIT_DATABASE_URL (it is removed when that shell exits); then run `cargo run --release -- dev check` \
    in the same shell";

fn registered(name: &str) -> std::result::Result<&'static Exercise, String> {
    exercises::find(name).ok_or_else(|| {
        let names: Vec<&str> = EXERCISES.iter().map(|e| e.name).collect();
        format!("'{name}' is not a registered exercise: {}", names.join(", "))
    })
}

pub fn run(args: Args) -> Result<()> {
    match args.command {
        DevCommand::Check(args) => check(args),
        DevCommand::FirstVerdict(args) => first_verdict(args),
    }
}

/// Times saves of the pristine file and of the solution's, as `kit learn` grades them.
fn first_verdict(args: FirstVerdictArgs) -> Result<()> {
    let root = course::repository_root("kit dev first-verdict").map_err(CliError::Failed)?;
    let course = course::Course::from_registry(&root);
    let lesson = course
        .position(args.exercise.name)
        .map(|i| course.lessons[i].clone())
        .ok_or_else(|| CliError::Failed(format!("{} is not in the course", args.exercise.name)))?;
    let pristine = lesson.pristine_text().map_err(CliError::Failed)?;
    let solved =
        std::fs::read_to_string(root.join(args.exercise.solution).join(args.exercise.file()))?;
    let scratch = root.join("target").join("learn-timing");
    println!(
        "kit learn, save to verdict on {} ({} warm saves each, min / median / max):",
        lesson.name, args.runs
    );
    println!("| file | save to first verdict | save to last verdict |");
    println!("|---|---|---|");
    for (name, text) in [("as given", &pristine), ("solved", &solved)] {
        let samples =
            timing::saves(&lesson, text, args.runs, &scratch).map_err(CliError::Failed)?;
        println!(
            "| {name} | {} | {} |",
            timing::spread(samples.iter().map(|s| s.first_verdict).collect()),
            timing::spread(samples.iter().map(|s| s.last_verdict).collect())
        );
    }
    Ok(())
}

fn check(args: CheckArgs) -> Result<()> {
    let started = Instant::now();
    let root = course::repository_root("kit dev check").map_err(CliError::Failed)?;
    let layout = exercises::layout_problems(&root, EXERCISES);
    if !layout.is_empty() {
        return Err(CliError::Failed(format!(
            "the exercise registry and the folders disagree:\n  {}",
            layout.join("\n  ")
        )));
    }
    let selected: Vec<&Exercise> = match args.exercise {
        Some(e) => vec![e],
        None => EXERCISES.iter().collect(),
    };
    if let Some(e) = selected.iter().find(|e| e.needs == Needs::Database) {
        if database::url().is_none() {
            return Err(CliError::Failed(format!(
                "{} needs a PostgreSQL and {} is not set: its grade would measure nothing. {GET_A_DATABASE}",
                e.folder,
                database::ENV
            )));
        }
    }
    let logs = root.join("target").join("dev-check");
    std::fs::create_dir_all(&logs)?;
    let stop = kit_serve::net::stop_flag();

    let mut failed = Vec::new();
    for e in &selected {
        for solution in [false, true] {
            let (folder, log) = match solution {
                false => (e.folder, logs.join(format!("{}.log", e.name))),
                true => (e.solution, logs.join(format!("{}-solution.log", e.name))),
            };
            print!("{folder}: cargo test --release ... ");
            std::io::stdout().flush()?;
            // The solution's skip line is printed by a passing test: only --show-output shows it.
            let extra: &[&str] =
                if solution && e.needs == Needs::Database { &["--", "--show-output"] } else { &[] };
            let run = cargo_test(&root.join(folder), extra, &log, stop)?;
            let mut problems = match solution {
                false => exercise_problems(e, &run.output, run.passed),
                true => solution_problems(e, &run.output, run.passed),
            };
            if run.timed_out {
                problems.insert(
                    0,
                    format!("cargo test --release did not finish in {} s", TIMEOUT.as_secs()),
                );
            }
            let took = format!("({:.0} s)", run.took.as_secs_f64());
            if problems.is_empty() {
                let verdict = match solution {
                    false => fails_as_intended(e),
                    true => format!(
                        "passes its grade: {}",
                        numbers(&(1..=e.check_count()).collect::<Vec<_>>())
                    ),
                };
                println!("{verdict} {took}");
            } else {
                println!("NOT AS REGISTERED {took}");
                for p in &problems {
                    println!("  {folder}: {p}");
                }
                println!("  the last {TAIL} lines of {}:", log.display());
                for line in tail(&run.output, TAIL) {
                    println!("  | {line}");
                }
                failed.push(folder);
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    let checked = selected.len();
    if failed.is_empty() {
        println!(
            "dev check: {checked} exercise{s} and {checked} solution{s} behave as registered ({total:.0} s; logs in {})",
            logs.display(),
            s = if checked == 1 { "" } else { "s" }
        );
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "dev check: {} not as registered (crates/measure/src/exercises.rs): {} ({total:.0} s; logs in {})",
            failed.len(),
            failed.join(", "),
            logs.display()
        )))
    }
}

/// The line for a pristine exercise that failed as it should.
fn fails_as_intended(e: &Exercise) -> String {
    let passes = e.pass_as_given();
    let passes = match passes.len() {
        0 => String::new(),
        1 => format!(", {} passes", numbers(&passes)),
        _ => format!(", {} pass", numbers(&passes)),
    };
    let verb = if e.fail_as_given.len() == 1 { "fails" } else { "fail" };
    format!(
        "fails as intended: {} {verb}{passes}; names \"{}\", shows \"{}\"",
        numbers(e.fail_as_given),
        e.hint,
        e.evidence
    )
}

/// "check 5", "checks 1 and 3", "checks 1-4", "checks 1, 2 and 5".
pub fn numbers(ns: &[u32]) -> String {
    let list: Vec<String> = ns.iter().map(u32::to_string).collect();
    match ns {
        [] => "no check".into(),
        [n] => format!("check {n}"),
        [first, .., last] if ns.len() > 2 && ns.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("checks {first}-{last}")
        }
        [init @ .., _] => {
            format!("checks {} and {}", list[..init.len()].join(", "), list[init.len()])
        }
    }
}

/// One `cargo test --release`, as it ended.
struct Run {
    passed: bool,
    timed_out: bool,
    output: String,
    took: Duration,
}

/// `cargo test --release` in `dir`, stdout and stderr both into `log`, in a
/// process group of its own, so that a timeout or Ctrl-C ends the grade and
/// the servers it started too.
fn cargo_test(dir: &Path, extra: &[&str], log: &Path, stop: &AtomicBool) -> Result<Run> {
    let started = Instant::now();
    let mut child = spawn_cargo_test(dir, extra, log)
        .map_err(|e| CliError::Failed(format!("cannot run cargo in {}: {e}", dir.display())))?;
    let kill = |child: &mut std::process::Child| {
        harness::signal_group(child.id(), libc::SIGKILL);
        let _ = child.kill();
        let _ = child.wait();
    };
    let (passed, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (status.success(), false);
        }
        if stop.load(Ordering::SeqCst) {
            kill(&mut child);
            return Err(CliError::Interrupted);
        }
        if started.elapsed() > TIMEOUT {
            kill(&mut child);
            break (false, true);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = String::from_utf8_lossy(&std::fs::read(log)?).into_owned();
    Ok(Run { passed, timed_out, output, took: started.elapsed() })
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// Where the checks' outcomes differ from what the registry says: one
/// sentence each. `pristine`: the exercise as given (its listed checks
/// fail) or its solution (every check passes).
fn outcome_problems(e: &Exercise, section: &str, pristine: bool) -> Vec<String> {
    let outcomes = check_outcomes(section);
    let mut problems = Vec::new();
    let names = check_names(section);
    for n in 1..=e.check_count() {
        let fails = pristine && e.fail_as_given.contains(&n);
        let expected = if fails { Outcome::Failed } else { Outcome::Ok };
        let said = if fails { "fails" } else { "passes" };
        let whose = if pristine { "as given" } else { "in the solution" };
        match outcomes.get(&n) {
            None => problems.push(format!(
                "check {n} did not run (no `test check_{n}_... ` line in the grade's output)"
            )),
            Some(o) if *o == expected => {}
            Some(o) => {
                let did = match o {
                    Outcome::Ok => "passed",
                    Outcome::Failed => "failed",
                    Outcome::Ignored => "was ignored",
                };
                problems.push(format!("check {n} {did}; the registry says it {said} {whose}"));
            }
        }
    }
    for n in outcomes.keys().filter(|&&n| n == 0 || n > e.check_count()) {
        problems.push(format!(
            "the grade has a check {n}; the registry lists checks 1-{}",
            e.check_count()
        ));
    }
    for (&n, name) in names.iter().filter(|(n, _)| (1..=e.check_count()).contains(n)) {
        let registered = e.checks[n as usize - 1];
        if name != registered {
            problems.push(format!(
                "check {n} is check_{n}_{name} in the grade and check_{n}_{registered} in the registry"
            ));
        }
    }
    problems
}

/// What is wrong with a pristine exercise's grade run: empty when it failed
/// on exactly the registered checks, its first failure names the registered
/// hint, and its failures show the registered evidence.
pub fn exercise_problems(e: &Exercise, log: &str, passed: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if passed {
        problems.push("passed its grade: a pristine exercise must fail it".to_string());
    }
    let Some(section) = grade_section(log) else {
        problems
            .push("the grade did not run (no `Running tests/grade.rs`: a compile error?)".into());
        return problems;
    };
    if e.needs == Needs::Database && log.contains("no database to measure") {
        problems.push(format!(
            "the grade did not reach the database (\"no database to measure\"): is {} right?",
            database::ENV
        ));
    }
    problems.extend(outcome_problems(e, section, true));
    // The first failure: the lowest-numbered check that failed.
    let first =
        check_outcomes(section).into_iter().find(|(_, o)| *o == Outcome::Failed).map(|(n, _)| n);
    match first.and_then(|n| failure_report(section, n).map(|r| (n, r))) {
        Some((_, report)) if report.contains(e.hint) => {}
        Some((n, _)) => {
            problems.push(format!("the first failure (check {n}) does not name \"{}\"", e.hint))
        }
        None => problems.push("no failure report (`---- check_...`) in the grade's output".into()),
    }
    if !section.contains(e.evidence) {
        problems.push(format!("the failures do not show \"{}\"", e.evidence));
    }
    problems
}

/// What is wrong with a solution's grade run: empty when every check
/// passed, having measured (a database solution that skipped did not).
pub fn solution_problems(e: &Exercise, log: &str, passed: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if !passed {
        problems.push("failed (cargo test --release): a solution must pass its grade".to_string());
    }
    let Some(section) = grade_section(log) else {
        problems
            .push("the grade did not run (no `Running tests/grade.rs`: a compile error?)".into());
        return problems;
    };
    problems.extend(outcome_problems(e, section, false));
    if e.needs == Needs::Database && section.contains(": skipped: ") {
        problems.push(format!("the grade skipped instead of measuring: is {} set?", database::ENV));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trap() -> &'static Exercise {
        exercises::find("trap").unwrap()
    }

    fn pool() -> &'static Exercise {
        exercises::find("pool").unwrap()
    }

    /// A `cargo test` log of the grade with these outcomes, the report of
    /// the first check that failed holding `report`.
    fn log(outcomes: &[(&str, &str)], report: &str) -> String {
        let mut s = String::from(
            "   Compiling trap-exercise v0.1.0\n    Finished `release` profile\n     Running unittests src/main.rs (target/release/deps/trap-1)\n\nrunning 0 tests\n\n\
             test result: ok. 0 passed\n\n     Running tests/grade.rs (target/release/deps/grade-2)\n\nrunning 5 tests\n",
        );
        for (name, result) in outcomes {
            s.push_str(&format!("test {name} ... {result}\n"));
        }
        s.push_str("\nfailures:\n\n");
        // libtest prints the reports in the order the checks ended: here the last first.
        let failed: Vec<&str> =
            outcomes.iter().filter(|(_, r)| *r == "FAILED").map(|(name, _)| *name).collect();
        for (i, name) in failed.iter().enumerate().rev() {
            let text = if i == 0 { report } else { "some other failure" };
            s.push_str(&format!("---- {name} stdout ----\n{text}\n\n"));
        }
        s.push_str("\nfailures:\n    check_1\n\ntest result: FAILED. 1 passed; 4 failed\n\nerror: test failed, to rerun pass `--test grade`\n");
        s
    }

    const TRAP_CHECKS: [&str; 5] = [
        "check_1_parallel_requests_and_their_waits_overlap",
        "check_2_multi_io_and_db_scale_the_same_way",
        "check_3_cpu_work_does_not_stall_the_runtime",
        "check_4_it_cannot_be_gamed_with_threads",
        "check_5_responses_keep_the_contract",
    ];

    fn trap_log(results: [&str; 5], report: &str) -> String {
        let outcomes: Vec<(&str, &str)> = TRAP_CHECKS.iter().copied().zip(results).collect();
        log(&outcomes, report)
    }

    const TRAP_REPORT: &str = "thread 'check_1' panicked:\n  measured: peak_in_flight 4 (exact)\n  next: read HINTS.md, hint 1";

    #[test]
    fn the_pristine_trap_as_registered_has_no_problems() {
        let log = trap_log(["FAILED", "FAILED", "FAILED", "FAILED", "ok"], TRAP_REPORT);
        assert_eq!(exercise_problems(trap(), &log, false), Vec::<String>::new());
    }

    #[test]
    fn only_the_grades_lines_count() {
        let log = trap_log(["FAILED", "FAILED", "FAILED", "FAILED", "ok"], TRAP_REPORT);
        let section = grade_section(&log).unwrap();
        assert!(
            section.starts_with("Running tests/grade.rs") && !section.contains("unittests"),
            "{section}"
        );
        let outcomes = check_outcomes(section);
        assert_eq!(outcomes.len(), 5);
        assert_eq!(outcomes[&1], Outcome::Failed);
        assert_eq!(outcomes[&5], Outcome::Ok);
        // A later test binary's lines are not the grade's.
        let later = format!("{log}     Running tests/other.rs (x)\ntest check_6_extra ... ok\n");
        assert_eq!(check_outcomes(grade_section(&later).unwrap()).len(), 5);
        assert_eq!(check_outcomes("test check_2_x ... ignored, needs a database\ntest not_a_check ... ok\ntest check_x ... ok")[&2], Outcome::Ignored);
        assert_eq!(check_outcomes("test not_a_check ... ok\ntest check_x ... ok\ntest check_3_y has been running for over 60 seconds").len(), 0);
    }

    #[test]
    fn a_check_that_passes_or_fails_against_the_registry_is_named() {
        let swapped = trap_log(["FAILED", "FAILED", "FAILED", "ok", "FAILED"], TRAP_REPORT);
        assert_eq!(
            exercise_problems(trap(), &swapped, false),
            vec![
                "check 4 passed; the registry says it fails as given".to_string(),
                "check 5 failed; the registry says it passes as given".to_string()
            ]
        );
        let missing =
            log(&TRAP_CHECKS[..4].iter().map(|c| (*c, "FAILED")).collect::<Vec<_>>(), TRAP_REPORT);
        assert_eq!(
            exercise_problems(trap(), &missing, false),
            vec!["check 5 did not run (no `test check_5_... ` line in the grade's output)"
                .to_string()]
        );
        let mut extra: Vec<(&str, &str)> = TRAP_CHECKS.iter().map(|c| (*c, "FAILED")).collect();
        extra[4].1 = "ok";
        extra.push(("check_6_new", "ok"));
        assert_eq!(
            exercise_problems(trap(), &log(&extra, TRAP_REPORT), false),
            vec!["the grade has a check 6; the registry lists checks 1-5".to_string()]
        );
    }

    #[test]
    fn a_pristine_exercise_that_passes_or_does_not_build_is_a_problem() {
        let all_ok = trap_log(["ok"; 5], "");
        let problems = exercise_problems(trap(), &all_ok, true);
        assert_eq!(problems[0], "passed its grade: a pristine exercise must fail it");
        assert!(problems.len() > 4, "{problems:?}");
        let compile_error = "   Compiling trap-exercise v0.1.0\nerror[E0425]: cannot find value `x`\nerror: could not compile `trap-exercise`\n";
        assert_eq!(
            exercise_problems(trap(), compile_error, false),
            vec![
                "the grade did not run (no `Running tests/grade.rs`: a compile error?)".to_string()
            ]
        );
    }

    #[test]
    fn the_hint_must_be_in_the_first_failure_and_the_evidence_shown() {
        let results = ["FAILED", "FAILED", "FAILED", "FAILED", "ok"];
        let wrong_hint =
            trap_log(results, "  measured: peak_in_flight 4\n  next: read HINTS.md, hint 3");
        assert_eq!(
            exercise_problems(trap(), &wrong_hint, false),
            vec!["the first failure (check 1) does not name \"HINTS.md, hint 1\"".to_string()]
        );
        let no_evidence =
            trap_log(results, "  measured: peak_in_flight 100\n  next: read HINTS.md, hint 1");
        assert_eq!(
            exercise_problems(trap(), &no_evidence, false),
            vec!["the failures do not show \"peak_in_flight 4\"".to_string()]
        );
        // The hint of a later failure is not the first failure's.
        let later = trap_log(results, "  measured: peak_in_flight 4")
            .replace("some other failure", "HINTS.md, hint 1");
        assert_eq!(
            exercise_problems(trap(), &later, false),
            vec!["the first failure (check 1) does not name \"HINTS.md, hint 1\"".to_string()]
        );
    }

    const POOL_CHECKS: [&str; 3] = [
        "check_1_a_burst_takes_the_rounds_of_the_database_capacity",
        "check_2_the_pool_stays_within_the_database_capacity",
        "check_3_a_burst_past_the_pool_gets_quick_503s",
    ];

    #[test]
    fn the_pool_fails_on_checks_1_and_3_and_must_reach_the_database() {
        let outcomes =
            [(POOL_CHECKS[0], "FAILED"), (POOL_CHECKS[1], "ok"), (POOL_CHECKS[2], "FAILED")];
        let report = "  measured: 2.4 s; pool size 2, peak_in_use 2 (exact, from /metrics)\n  next: HINTS.md, hint 1";
        assert_eq!(exercise_problems(pool(), &log(&outcomes, report), false), Vec::<String>::new());
        let no_db =
            [(POOL_CHECKS[0], "FAILED"), (POOL_CHECKS[1], "FAILED"), (POOL_CHECKS[2], "FAILED")];
        let problems = exercise_problems(
            pool(),
            &log(&no_db, "check_1: no database to measure\n  next: HINTS.md, hint 1"),
            false,
        );
        assert!(problems[0].starts_with("the grade did not reach the database"), "{problems:?}");
        assert!(
            problems.contains(&"check 2 failed; the registry says it passes as given".to_string()),
            "{problems:?}"
        );
    }

    #[test]
    fn a_solution_passes_every_check_and_a_database_one_measures() {
        let all_ok = trap_log(["ok"; 5], "");
        assert_eq!(solution_problems(trap(), &all_ok, true), Vec::<String>::new());
        let one_fails = trap_log(["ok", "ok", "FAILED", "ok", "ok"], "x");
        assert_eq!(
            solution_problems(trap(), &one_fails, false),
            vec![
                "failed (cargo test --release): a solution must pass its grade".to_string(),
                "check 3 failed; the registry says it passes in the solution".to_string()
            ]
        );
        let pool_ok = log(&POOL_CHECKS.map(|c| (c, "ok")), "");
        assert_eq!(solution_problems(pool(), &pool_ok, true), Vec::<String>::new());
        let skipped = pool_ok.replace(
            "\nfailures:",
            "\nsuccesses:\n\n---- check_1 stdout ----\ncheck_1: skipped: KIT_DATABASE_URL is not set (see the README)\n\nfailures:",
        );
        assert_eq!(
            solution_problems(pool(), &skipped, true),
            vec!["the grade skipped instead of measuring: is KIT_DATABASE_URL set?".to_string()]
        );
    }

    #[test]
    fn a_check_named_otherwise_than_the_registry_is_a_problem() {
        let mut names = TRAP_CHECKS;
        names[2] = "check_3_cpu_work_is_fine";
        let outcomes: Vec<(&str, &str)> =
            names.iter().copied().zip(["FAILED", "FAILED", "FAILED", "FAILED", "ok"]).collect();
        let problems = exercise_problems(trap(), &log(&outcomes, TRAP_REPORT), false);
        assert_eq!(
            problems,
            vec!["check 3 is check_3_cpu_work_is_fine in the grade and check_3_cpu_work_does_not_stall_the_runtime in the registry".to_string()]
        );
    }

    #[test]
    fn numbers_read_as_a_sentence() {
        assert_eq!(numbers(&[5]), "check 5");
        assert_eq!(numbers(&[1, 3]), "checks 1 and 3");
        assert_eq!(numbers(&[1, 2]), "checks 1 and 2");
        assert_eq!(numbers(&[1, 2, 3, 4]), "checks 1-4");
        assert_eq!(numbers(&[1, 2, 5]), "checks 1, 2 and 5");
        assert_eq!(fails_as_intended(trap()), "fails as intended: checks 1-4 fail, check 5 passes; names \"HINTS.md, hint 1\", shows \"peak_in_flight 4\"");
        assert_eq!(fails_as_intended(pool()), "fails as intended: checks 1 and 3 fail, check 2 passes; names \"HINTS.md, hint 1\", shows \"peak_in_use 2 (exact\"");
        let lock = exercises::find("lock").expect("lock is registered");
        assert!(fails_as_intended(lock)
            .starts_with("fails as intended: check 1 fails, checks 2-4 pass;"));
    }

    #[test]
    fn an_unknown_exercise_is_refused_with_the_registered_names() {
        let e = registered("queue").unwrap_err();
        let names: Vec<&str> = EXERCISES.iter().map(|x| x.name).collect();
        assert_eq!(e, format!("'queue' is not a registered exercise: {}", names.join(", ")));
        assert!(names.starts_with(&["trap", "wrapper"]) && names.contains(&"pool"), "{names:?}");
        assert_eq!(registered("pool").unwrap().folder, "exercises/pool");
    }
}

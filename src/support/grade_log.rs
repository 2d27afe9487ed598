//! Reading a grade as `cargo test --release` prints it, and starting one:
//! shared by `kit dev check` (the whole log, afterwards) and `kit learn`
//! (line by line, as each check ends).
//!
//! libtest prints `test check_<n>_<name> ... ok|FAILED` as each test ends,
//! and the failures' reports after the last one. A failing check of the
//! kit's grade also writes its report into `KIT_GRADE_REPORTS` as it ends
//! (`kit_measure::grade::failure::REPORTS_ENV`), so that a runner can show
//! it before the rest of the grade is done.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// How one check of the grade ended, as libtest prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Ok,
    Failed,
    Ignored,
}

/// One `test check_<n>_<name> ... <result>` line, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckLine {
    pub n: u32,
    /// The test's name after `check_<n>_`.
    pub name: String,
    pub outcome: Outcome,
}

/// A line of libtest's output, if it is a check's result.
pub fn check_line(line: &str) -> Option<CheckLine> {
    let (test, result) = line.strip_prefix("test check_")?.split_once(" ... ")?;
    let (n, name) = test.split_once('_')?;
    let outcome = match result.trim() {
        "ok" => Outcome::Ok,
        "FAILED" => Outcome::Failed,
        r if r.starts_with("ignored") => Outcome::Ignored,
        _ => return None,
    };
    Some(CheckLine { n: n.parse().ok()?, name: name.to_string(), outcome })
}

/// The grade's part of a `cargo test` log: from cargo's `Running tests/grade.rs`
/// line to the next test binary's, or `None` when the grade did not run.
pub fn grade_section(log: &str) -> Option<&str> {
    let start = log.find("Running tests/grade.rs")?;
    let rest = &log[start..];
    let body = rest.find('\n').map_or("", |i| &rest[i..]);
    let end = ["     Running ", "   Doc-tests "]
        .iter()
        .filter_map(|m| body.find(m))
        .min()
        .unwrap_or(body.len());
    Some(&rest[..rest.len() - body.len() + end])
}

/// The checks in libtest's lines `test check_<n>_<name> ... ok|FAILED|ignored`, by number.
pub fn check_outcomes(section: &str) -> BTreeMap<u32, Outcome> {
    section.lines().filter_map(check_line).map(|c| (c.n, c.outcome)).collect()
}

/// The checks' test names (after `check_<n>_`), by number.
pub fn check_names(section: &str) -> BTreeMap<u32, String> {
    section.lines().filter_map(check_line).map(|c| (c.n, c.name)).collect()
}

/// libtest's report of check `n`: from its `---- check_<n>_` line to the
/// next `----` line or the list of failures. (libtest prints the reports in
/// the order the checks ended, not in their order.)
pub fn failure_report(section: &str, n: u32) -> Option<&str> {
    let start = section.find(&format!("\n---- check_{n}_"))? + 1;
    let rest = &section[start..];
    let body = rest.find('\n').map_or("", |i| &rest[i..]);
    let end =
        ["\n---- ", "\nfailures:"].iter().filter_map(|m| body.find(m)).min().unwrap_or(body.len());
    Some(&rest[..rest.len() - body.len() + end])
}

/// The hint a failure's report names (`HINTS.md, hint <n>`), if any.
pub fn hint_named(report: &str) -> Option<u32> {
    let at = report.find("HINTS.md, hint ")? + "HINTS.md, hint ".len();
    let digits: String = report[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Where the grade did not build: cargo's and the compiler's words, from the
/// first `error` on, as they were printed (the `Compiling` lines before it
/// left out). `None` when the log has no error of the build.
pub fn build_error(log: &str) -> Option<String> {
    if grade_section(log).is_some() {
        return None;
    }
    let lines: Vec<&str> = log.lines().collect();
    lines.iter().find(|l| l.starts_with("error"))?;
    // The warnings before the first error are kept: they often point at it.
    let first = lines.iter().position(|l| l.starts_with("error") || l.starts_with("warning"))?;
    Some(lines[first..].join("\n"))
}

/// `cmd` started with stdout and stderr both into `log`, in a process group
/// of its own, so that killing the group (`kit_measure::harness::signal_group`)
/// ends the grade and the servers it started too.
pub fn spawn_logged(mut cmd: Command, log: &Path) -> std::io::Result<Child> {
    let out = File::create(log)?;
    cmd.env("CARGO_TERM_COLOR", "never").stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn()
}

/// `cargo test --release <extra>` in `dir`, started by [`spawn_logged`].
pub fn spawn_cargo_test(dir: &Path, extra: &[&str], log: &Path) -> std::io::Result<Child> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["test", "--release"]).args(extra).current_dir(dir);
    spawn_logged(cmd, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_line_is_read_and_others_are_not() {
        assert_eq!(
            check_line("test check_12_the_goodput_holds ... FAILED"),
            Some(CheckLine { n: 12, name: "the_goodput_holds".into(), outcome: Outcome::Failed })
        );
        assert_eq!(
            check_line("test check_3_x ... ignored, needs a db").unwrap().outcome,
            Outcome::Ignored
        );
        for other in [
            "test check_1_x ... ",
            "test check_x_y ... ok",
            "test other ... ok",
            "    check_1_x",
            "test check_1_x ... bench",
        ] {
            assert_eq!(check_line(other), None, "{other}");
        }
    }

    #[test]
    fn a_hint_is_read_from_its_report() {
        assert_eq!(hint_named("  next: read HINTS.md, hint 3 (and the ones before it)."), Some(3));
        assert_eq!(hint_named("next: read HINTS.md, hint 12."), Some(12));
        assert_eq!(hint_named("next: fix the crash quoted above."), None);
    }

    #[test]
    fn a_build_error_is_shown_from_its_first_line() {
        let log = "   Compiling trap-exercise v0.1.0\nerror[E0425]: cannot find value `x`\n --> src/main.rs:3:5\n\nerror: could not compile `trap-exercise`\n";
        let shown = build_error(log).unwrap();
        assert!(shown.starts_with("error[E0425]"), "{shown}");
        assert!(shown.contains("src/main.rs:3:5") && !shown.contains("Compiling"), "{shown}");
        let with_warning = "   Compiling a\nwarning: unused variable\nerror: nope\n";
        assert_eq!(build_error(with_warning).unwrap(), "warning: unused variable\nerror: nope");
        // A grade that ran is no build error, whatever it printed.
        assert_eq!(build_error("     Running tests/grade.rs (x)\nerror: test failed\n"), None);
        assert_eq!(build_error("   Compiling a\n"), None);
    }
}

//! What a failed check says, shared by the grade's five checks, the pool
//! grade's three, and the grades of kit-load (`kit_load::backpressure_grade`,
//! which cannot live here because kit-load depends on this crate): the
//! message's shape (what failed, what was measured, what to do next), how
//! it ends the test, and how a dead server is explained from its own output.
//! One implementation: [`fail`], [`Next`] and [`diagnose`] are public for them.

use std::any::Any;

use crate::harness::Server;

/// A failed check. The message is printed by `fail` itself; the payload only
/// tells the test harness (and the kit's own tests) that the check failed.
#[derive(Debug)]
pub struct GradeFailure(pub String);

/// The message of a failed check, from a caught panic's payload.
pub fn failure_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload.downcast_ref::<GradeFailure>().map(|f| f.0.as_str())
}

/// Where a runner (`kit learn`) wants each failing check's message as the
/// check ends: a folder, one file per check, named as the test is
/// (`check_1_...`). libtest prints the reports only after the last check;
/// this lets the runner show the first one while the rest still run.
pub const REPORTS_ENV: &str = "KIT_GRADE_REPORTS";

/// Writes `message` for the runner, if one asked: a file written whole under
/// a temporary name and then renamed, so the runner never reads half of it.
/// libtest names each test's thread after the test.
fn report_to_runner(message: &str) {
    let thread = std::thread::current();
    let (Some(dir), Some(name)) = (std::env::var_os(REPORTS_ENV), thread.name()) else {
        return;
    };
    let test = name.rsplit("::").next().unwrap_or(name);
    if !test.starts_with("check_") {
        return;
    }
    let dir = std::path::Path::new(&dir);
    let partial = dir.join(format!(".{test}.partial"));
    if std::fs::write(&partial, message).is_ok() {
        let _ = std::fs::rename(&partial, dir.join(test));
    }
}

/// What a failure points the learner to.
pub enum Next {
    Hint(u32),
    /// A crash: no hint is about it; the server's own words are.
    Crash,
    /// Nothing was measured yet: what to set up first.
    Setup(&'static str),
}

/// Ends a check with a teaching message, and nothing else. The message is
/// the last thing a learner reads: `resume_unwind` fails the test without
/// the panic hook, so no "panicked at src/grade.rs" line (a file the
/// exercise does not have) and no backtrace follow it, whatever
/// RUST_BACKTRACE says.
pub fn fail(what: &str, detail: &str, next: Next) -> ! {
    let next = match next {
        Next::Hint(n) => format!("next: read HINTS.md, hint {n} (and the ones before it)."),
        Next::Crash => {
            "next: fix the crash quoted above. It is not about slots, so no hint covers it.".into()
        }
        Next::Setup(how) => format!("next: {how}"),
    };
    let message = format!("\n\n✗ {what}\n{detail}\n  {next}\n\n");
    eprint!("{message}");
    report_to_runner(&message);
    std::panic::resume_unwind(Box::new(GradeFailure(message)))
}

/// The known ways a learner's server breaks, and what each means.
const KNOWN: [(&str, &str); 3] = [
    (
        "Cannot drop a runtime in a context where blocking is not allowed",
        "a blocking client (or runtime) was dropped inside an async fn. Blocking clients own a runtime of \
         their own; inside tokio, use the async client and .await it.",
    ),
    (
        "Cannot start a runtime from within a runtime",
        "block_on was called inside the runtime. An async fn is already on the runtime: .await the future \
         instead of blocking on it.",
    ),
    (
        "Too many open files",
        "the process ran out of file descriptors: raise the soft limit (kit_serve::net::raise_open_files_limit).",
    ),
];

/// Explains a dead or failing server from what it printed: whether it
/// exited, the panic (message and location) quoted, a known cause.
pub fn diagnose(server: &mut Server) -> String {
    let status = server.exited();
    let output = server.output();
    let mut lines = Vec::new();
    if let Some(status) = status {
        lines.push(format!("  the server exited ({status}): it is dead, not slow."));
    }
    lines.push(crash_lines(&output));
    lines.push(format!(
        "  server output (last lines):\n    {}",
        server.output_tail(8).replace('\n', "\n    ")
    ));
    lines.retain(|l| !l.is_empty());
    lines.join("\n")
}

/// The panic a server printed (its message and where), and a known cause.
pub(crate) fn crash_lines(output: &str) -> String {
    let mut lines = Vec::new();
    if let Some(panic) = panic_in(output) {
        lines.push(format!("  it panicked: {panic}"));
    }
    if let Some((_, why)) = KNOWN.iter().find(|(needle, _)| output.contains(needle)) {
        lines.push(format!("  diagnosis: {why}"));
    }
    lines.join("\n")
}

/// "panicked at src/main.rs:95:10: Cannot merge ..." from Rust's panic output.
pub fn panic_in(output: &str) -> Option<String> {
    let mut lines = output.lines();
    let at = lines.find_map(|l| {
        l.split_once("panicked at ").map(|(_, at)| at.trim_end_matches(':').to_string())
    })?;
    let message = lines.next().unwrap_or_default().trim();
    Some(format!("{message} (at {at})"))
}

pub(crate) fn indent(text: &str) -> String {
    text.trim_end().replace('\n', "\n    ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_quoted_with_its_location() {
        let output = "listening on http://127.0.0.1:1\n\nthread 'main' panicked at src/main.rs:95:10:\n\
                      Cannot merge two `Router`s that both have a fallback\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_in(output).as_deref(),
            Some("Cannot merge two `Router`s that both have a fallback (at src/main.rs:95:10)")
        );
        assert_eq!(panic_in("listening on http://127.0.0.1:1\n"), None);
    }
}

//! # async-await-kit: the `kit` command
//!
//! Four web servers that wait the same way on paper and very differently in
//! practice, and the tools to measure why. The one idea is the slot model:
//! N concurrent requests of t seconds on a server with s slots take about
//! `ceil(N / s) * t`.
//!
//! ## Layout of the workspace (crates split by who needs what)
//! - `crates/serve` (`kit-serve`): what a server needs: contract, config,
//!   metrics, net, serve. Servers, exercises and solutions depend on it.
//! - `crates/measure` (`kit-measure`): what the grade and the tests need:
//!   harness, burst, probe, client, slots, expect, conformance, grade,
//!   table. A dev-dependency of exercises and solutions.
//! - `crates/load` (`kit-load`): the load generators: bench, attack and
//!   its intervals, sampler and live view, capacity, Little's law.
//! - this crate (`kit`): the presentation: the command line, charts, the
//!   demo, live views. Nothing a learner builds depends on it.
//! - `crates/container-tests` (`container-tests`): the servers in real
//!   containers, tested with testcontainers; CI-only, where Docker answers.
//!
//! This crate names the libraries in full (`kit_measure::burst`,
//! `kit_serve::contract`) and re-exports none of their modules: a path
//! that starts with `crate::` is a file under `src/`.
//!
//! ## Layout of this crate
//! - [`cli`]: the command line as a whole: the top-level parser, and the
//!   race's flags at the top level (`kit --n 8`).
//! - [`commands`]: one file per subcommand (race, report, up, images,
//!   health, bench, stress, attack, capacity, seed, slots, selfcheck, learn, demo,
//!   doctor, dev), named as it is typed, and [`commands::Command::run`], the one
//!   place that dispatches to them.
//! - [`support`]: what several subcommands share, none of it a subcommand:
//!   the server binaries, bursts at several servers at once, progress bars,
//!   the report files, the conclusion in slot language, the load
//!   generators' client side, and `kit attack`'s dashboard.
//! - [`error`]: how a subcommand fails, and the exit code that follows.
//! - [`charts`]: rows as PNG and SVG charts with an embedded font.
//! - [`walkthrough`]: the guided workshop walk-through that `kit demo` runs.
//! - [`learn`]: the course runner that `kit learn` runs: the exercises in
//!   order, each graded on every save.
//! - [`containers`]: the servers as locally made images (`kit images`,
//!   `kit up --containers`, the container tests).

pub mod charts;
pub mod cli;
pub mod commands;
pub mod containers;
pub mod error;
pub mod learn;
pub mod support;
pub mod walkthrough;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// No module of the libraries is re-exported: a `crate::` path names
    /// a file under `src/`.
    #[test]
    fn no_file_under_src_re_exports_a_library() {
        fn walk(dir: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            {
                let path = entry.expect("a readable entry").path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    let lines = text.lines().filter(|l| l.trim_start().starts_with("pub use kit_"));
                    found.extend(lines.map(|l| format!("{}: {}", path.display(), l.trim())));
                }
            }
        }
        let mut found = Vec::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(
            found.is_empty(),
            "re-exports of a library, name it in full instead:\n{}",
            found.join("\n")
        );
    }
}

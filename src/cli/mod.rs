//! The `kit` command: its flags, its subcommands, and how a run ends.
//!
//! One module per subcommand, from parsing to printing, in the style of
//! mini-redis's `cmd/`. The pieces the subcommands share:
//! - [`servers`]: finding (or building) the four server binaries and starting them.
//! - [`fleet`]: bursts at several servers at once, watched from the main thread
//!   (progress, Ctrl-C, a server that dies).
//! - [`progress`]: the live bars on stderr.
//! - [`files`]: report.md, report.json and the charts.
//! - [`story`]: the measured rows retold in slot language.
//! - [`load`]: what the load generators' subcommands share.
//! - [`dashboard`]: `kit attack`'s live view in the terminal.
//!
//! [`doctor`] is the odd one out: it measures the machine, not a server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub mod attack;
pub mod bench;
pub mod capacity;
pub mod dashboard;
pub mod demo;
pub mod dev;
pub mod doctor;
pub mod files;
pub mod fleet;
pub mod health;
pub mod images;
pub mod load;
pub mod progress;
pub mod race;
pub mod report;
pub mod seed;
pub mod selfcheck;
pub mod servers;
pub mod story;
pub mod stress;
pub mod up;

/// Where reports go unless `--out` says otherwise (relative to the current
/// directory, which is the project root under `cargo run`).
pub const DEFAULT_OUT: &str = "target/kit-report";

/// The exit code after Ctrl-C or SIGTERM: 128 + SIGINT, as shells expect.
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "kit",
    version,
    about = "Race, measure and explain four web servers in slot language",
    long_about = "Race, measure and explain four web servers in slot language.\n\n\
                  With no subcommand, `kit` runs the race: 100 concurrent /parallel at all four servers at once.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The race's flags, so that `kit --n 8` works like `kit race --n 8`.
    #[command(flatten)]
    pub race: race::Args,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The headline (the default): all four servers, N concurrent /parallel each, at once.
    Race(race::Args),
    /// The matrix: variants x endpoints x concurrency 1/10/50/100.
    Report(report::Args),
    /// Run the four servers on fixed ports until Ctrl-C (`--containers`: each in a Docker container).
    Up(up::Args),
    /// Make the container images kit-<server>:local from the kit's own binaries (for compose.yaml).
    Images(images::Args),
    /// Check /health of running servers (by default those of `kit up`).
    Health(health::Args),
    /// Closed loop: N connections, each sending its next request when the last one answered.
    Bench(bench::Args),
    /// Open loop: a constant request rate, with latency corrected for coordinated omission.
    Attack(attack::Args),
    /// Open loop at rising rates until the server falls behind, next to the slot model's s / t (Little's law).
    Capacity(capacity::Args),
    /// The original comparison: blocking-wrapper at 400/s and async-native at 5000/s, on /health and /parallel.
    Seed(seed::Args),
    /// N concurrent /parallel at a server the kit starts, all in flight at once: time, memory, threads, failures by name.
    Stress(stress::Args),
    /// Compare our load generator's requests/s with wrk's on the same URL.
    Selfcheck(selfcheck::Args),
    /// A guided walk through the four servers for a workshop screen.
    Demo(demo::Args),
    /// Is this machine ready for the workshop? Toolchain, limits, OS readings, optional services.
    Doctor(doctor::Args),
    /// For contributors: `kit dev check` proves every exercise fails as registered and every solution passes.
    #[command(hide = true)]
    Dev(dev::Args),
}

/// The command line, parsed: bad arguments print clap's message and exit 2.
pub fn parse() -> Cli {
    let matches = command().get_matches();
    // The matches came from this very command: they always convert, and
    // when they do not, clap's own error says why (exit 2).
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `Cli`'s command, with one change to every value of every subcommand: a
/// negative number is taken as the value. `--rate -5` then gets the value's
/// own message ("'-5' is not a rate above 0"), the same as `--rate=-5`,
/// rather than clap's "unexpected argument '-5'" and a tip (`-- -5`) that
/// does not work for an option.
pub fn command() -> clap::Command {
    negative_numbers_are_values(Cli::command())
}

fn negative_numbers_are_values(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| if arg.get_action().takes_values() { arg.allow_negative_numbers(true) } else { arg })
        .mut_subcommands(negative_numbers_are_values)
}

/// How a subcommand failed. Nothing branches on the text, only on the kind:
/// it decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// Printed as `error: ...`, exit code 1.
    Failed(String),
    /// Ctrl-C or SIGTERM: the servers are already stopped, exit code 130.
    Interrupted,
}

impl From<crate::harness::HarnessError> for CliError {
    fn from(e: crate::harness::HarnessError) -> CliError {
        CliError::Failed(e.0)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::Failed(e.to_string())
    }
}

impl From<crate::charts::ChartError> for CliError {
    fn from(e: crate::charts::ChartError) -> CliError {
        CliError::Failed(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, CliError>;

/// The end of `main`: prints the error, if any, and picks the exit code.
pub fn exit(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Failed(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
        Err(CliError::Interrupted) => {
            eprintln!("interrupted: every server the kit started is stopped");
            ExitCode::from(EXIT_INTERRUPTED)
        }
    }
}

/// The `--out` flag every reporting subcommand shares.
#[derive(clap::Args, Debug, Clone)]
pub struct OutArgs {
    /// Folder for report.md, report.json and the charts (created if missing).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::command;

    /// The error clap prints for `kit ARGS`, and its exit code.
    fn refused(args: &[&str]) -> (String, i32) {
        let e = command().try_get_matches_from(std::iter::once("kit").chain(args.iter().copied())).unwrap_err();
        (e.render().to_string(), e.exit_code())
    }

    #[test]
    fn a_negative_number_gets_the_values_own_message_in_both_forms() {
        for rate in [&["--rate", "-5"][..], &["--rate=-5"]] {
            let mut args = vec!["attack", "http://127.0.0.1:1/", "-d", "1s"];
            args.extend_from_slice(rate);
            let (text, code) = refused(&args);
            assert_eq!(code, 2, "{text}");
            assert!(text.contains("'-5' is not a rate above 0"), "{text}");
            assert!(!text.contains("-- -5"), "a tip that does not work: {text}");
        }
        let (text, code) = refused(&["stress", "--io-ms", "-5"]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("invalid value '-5' for '--io-ms <IO_MS>'"), "{text}");
    }

    /// clap's own rule, which only a debug build asserts: a value-less flag
    /// may not allow negative numbers.
    #[test]
    fn only_arguments_with_values_take_negative_numbers() {
        fn walk(cmd: &clap::Command, seen: &mut u32) {
            for arg in cmd.get_arguments().filter(|a| a.is_allow_negative_numbers_set()) {
                assert!(arg.get_action().takes_values(), "{} {}: a flag that allows negative numbers", cmd.get_name(), arg.get_id());
                *seen += 1;
            }
            cmd.get_subcommands().for_each(|sub| walk(sub, seen));
        }
        let mut cmd = command();
        cmd.build();
        let mut seen = 0;
        walk(&cmd, &mut seen);
        assert!(seen > 20, "only {seen} arguments take negative numbers");
    }

    #[test]
    fn a_malformed_url_is_a_bad_argument() {
        for args in [&["bench", "htp://x"][..], &["attack", "htp://x", "--rate", "1", "-d", "1s"], &["health", "--urls", "htp://x"], &["capacity", "htp://x"]] {
            let (text, code) = refused(args);
            assert_eq!(code, 2, "{args:?}: {text}");
            assert!(text.contains("invalid value 'htp://x'") && text.contains("unsupported scheme 'htp:'"), "{args:?}: {text}");
        }
    }
}

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

use clap::{Parser, Subcommand};

pub mod attack;
pub mod bench;
pub mod capacity;
pub mod dashboard;
pub mod demo;
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

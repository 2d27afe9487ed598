//! How a subcommand fails, and the exit code that follows: one error type
//! for every subcommand and the helpers they share.

use std::process::ExitCode;

/// The exit code after Ctrl-C or SIGTERM: 128 + SIGINT, as shells expect.
pub const EXIT_INTERRUPTED: u8 = 130;

/// How a subcommand failed. Nothing branches on the text, only on the kind:
/// it decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// Printed as `error: ...`, exit code 1.
    Failed(String),
    /// Ctrl-C or SIGTERM: the servers are already stopped, exit code 130.
    Interrupted,
}

impl From<kit_measure::harness::HarnessError> for CliError {
    fn from(e: kit_measure::harness::HarnessError) -> CliError {
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

//! `kit`: runs the four servers, measures them and explains the result in
//! slot language. This file only parses the command line and runs it; each
//! subcommand is one file under `src/commands/`.
//!
//! Run: `cargo run --release` (the race), `cargo run --release -- --help`.

use std::process::ExitCode;

use kit::{cli, error};

fn main() -> ExitCode {
    error::exit(cli::parse().run())
}

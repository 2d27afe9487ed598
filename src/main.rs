//! `kit`: runs the four servers, measures them and explains the result in
//! slot language. This file only parses the command line and dispatches;
//! each subcommand lives in its own module under `src/cli/`.
//!
//! Run: `cargo run --release` (the race), `cargo run --release -- --help`.

use std::process::ExitCode;

use kit::cli::{self, Command};

fn main() -> ExitCode {
    let cli = cli::parse();
    let result = match cli.command {
        None => cli::race::run(cli.race),
        Some(Command::Race(args)) => cli::race::run(args),
        Some(Command::Report(args)) => cli::report::run(args),
        Some(Command::Up(args)) => cli::up::run(args),
        Some(Command::Images(args)) => cli::images::run(args),
        Some(Command::Health(args)) => cli::health::run(args),
        Some(Command::Bench(args)) => cli::bench::run(args),
        Some(Command::Stress(args)) => cli::stress::run(args),
        Some(Command::Attack(args)) => cli::attack::run(args),
        Some(Command::Capacity(args)) => cli::capacity::run(args),
        Some(Command::Seed(args)) => cli::seed::run(args),
        Some(Command::Selfcheck(args)) => cli::selfcheck::run(args),
        Some(Command::Demo(args)) => cli::demo::run(args),
        Some(Command::Doctor(args)) => cli::doctor::run(args),
        Some(Command::Dev(args)) => cli::dev::run(args),
    };
    cli::exit(result)
}

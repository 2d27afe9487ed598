//! `kit demo`: the guided walk through the four servers for a workshop
//! screen (see [`crate::walkthrough`] for the steps). It pauses for Enter before
//! each step, before each measurement, and wherever more output would scroll
//! a result off a 100 x 30 terminal; `--yes` runs straight through.
//!
//! Run: `cargo run --release -- demo`

use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;

use crate::error::{CliError, Result};
use crate::support::servers;
use crate::walkthrough::{self, DemoOptions};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Run every step without waiting for Enter.
    #[arg(long)]
    pub yes: bool,
    /// The I/O unit every server waits, in ms.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub io_ms: u64,
    /// Concurrent requests per burst.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub n: u64,
}

pub fn run(args: Args) -> Result<()> {
    // No signal handler here: Ctrl-C ends the demo at once, and the servers
    // (in the same process group, and told to die with us) go with it.
    static NEVER: AtomicBool = AtomicBool::new(false);
    let bins = servers::locate_all(&NEVER)?;
    let bin_dir = bins[0].parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let mut opts = DemoOptions::new(bin_dir);
    opts.yes = args.yes;
    opts.io_ms = args.io_ms;
    opts.n = args.n;
    opts.color = std::io::stdout().is_terminal();
    opts.echo = std::io::stdin().is_terminal();
    walkthrough::run(&opts, &mut std::io::stdin().lock(), &mut std::io::stdout().lock())
        .map_err(|e| CliError::Failed(e.to_string()))
}

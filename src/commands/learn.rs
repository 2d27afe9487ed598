//! `kit learn`: the course in one terminal, graded on every save (the
//! runner itself is [`crate::learn`]). `kit learn --status` prints where
//! each exercise stands, one line each, for a teacher walking the room.
//!
//! Run: `cargo run --release -- learn`.

use crate::error::{CliError, Result};
use crate::learn::{self, course};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Start at this exercise (trap, wrapper, lock, ...) instead of where you left off.
    #[arg(long, value_name = "NAME")]
    pub exercise: Option<String>,
    /// Do not watch for saves (where file events do not arrive, e.g. some WSL setups): `r` grades.
    #[arg(long)]
    pub manual_run: bool,
    /// Print one line per exercise (done, failing on check N, not started) and exit.
    #[arg(long)]
    pub status: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = course::repository_root("kit learn").map_err(CliError::Failed)?;
    learn::run(learn::Options {
        root,
        start: args.exercise,
        manual: args.manual_run,
        status: args.status,
    })
}

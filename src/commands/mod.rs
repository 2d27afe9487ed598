//! The `kit` subcommands: one file each, named as the subcommand is typed,
//! from its flags to what it prints, and [`Command::run`], the one place
//! that dispatches to them.
//!
//! The tools they measure with are the libraries', named in full
//! (`kit_load::attack`, `kit_serve::net`), and this crate's
//! [`crate::walkthrough`] (`kit demo`) and [`crate::containers`]
//! (`kit images`, `kit up --containers`). What several subcommands share is
//! in [`crate::support`]. [`doctor`] is the odd one out: it measures the
//! machine, not a server.
//!
//! Adding a subcommand: a file here with its `Args` and `run`, a `pub mod`
//! line and a variant of [`Command`] below (its doc line is its `--help`
//! line), and an arm in [`Command::run`].

use clap::Subcommand;

use crate::error::Result;

pub mod attack;
pub mod bench;
pub mod capacity;
pub mod demo;
pub mod dev;
pub mod doctor;
pub mod health;
pub mod images;
pub mod learn;
pub mod race;
pub mod report;
pub mod seed;
pub mod selfcheck;
pub mod slots;
pub mod stress;
pub mod up;

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
    /// Count the slots of any server from outside: one request alone, then N at once, read as rounds.
    Slots(slots::Args),
    /// N concurrent /parallel at a server the kit starts, all in flight at once: time, memory, threads, failures by name.
    Stress(stress::Args),
    /// Compare our load generator's requests/s with wrk's on the same URL.
    Selfcheck(selfcheck::Args),
    /// The course in one terminal: each exercise graded on every save, its hint on `h` (`--status`: where each stands).
    Learn(learn::Args),
    /// A guided walk through the four servers for a workshop screen.
    Demo(demo::Args),
    /// Is this machine ready for the workshop? Toolchain, limits, OS readings, optional services.
    Doctor(doctor::Args),
    /// For contributors: `kit dev check` proves every exercise fails as registered and every solution passes.
    #[command(hide = true)]
    Dev(dev::Args),
}

impl Command {
    /// Runs the subcommand to its end; the error decides the exit code
    /// ([`crate::error::exit`]).
    pub fn run(self) -> Result<()> {
        match self {
            Command::Race(args) => race::run(args),
            Command::Report(args) => report::run(args),
            Command::Up(args) => up::run(args),
            Command::Images(args) => images::run(args),
            Command::Health(args) => health::run(args),
            Command::Bench(args) => bench::run(args),
            Command::Stress(args) => stress::run(args),
            Command::Slots(args) => slots::run(args),
            Command::Attack(args) => attack::run(args),
            Command::Capacity(args) => capacity::run(args),
            Command::Seed(args) => seed::run(args),
            Command::Selfcheck(args) => selfcheck::run(args),
            Command::Learn(args) => learn::run(args),
            Command::Demo(args) => demo::run(args),
            Command::Doctor(args) => doctor::run(args),
            Command::Dev(args) => dev::run(args),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The layout this module's header promises: every subcommand is one
    /// file here, named as it is typed, and every file here is a subcommand.
    #[test]
    fn every_subcommand_is_one_file_named_as_it_is_typed() {
        let typed: BTreeSet<String> = crate::cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|n| n != "help")
            .collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
        let files: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a readable entry").path())
            .filter(|path| path.file_name().is_some_and(|n| n != "mod.rs"))
            .map(|path| path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string())
            .collect();
        assert!(typed.len() >= 13, "{typed:?}");
        assert_eq!(
            files, typed,
            "src/commands/ holds one file per subcommand, named as it is typed"
        );
    }
}

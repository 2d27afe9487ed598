//! The four server binaries: where they are, how to build them when only
//! `kit` was built, and how to start one with the kit's knobs.
//!
//! `cargo run --release` builds only the `kit` binary, so on a fresh clone
//! the servers are missing from `target/release/`. When cargo launched us
//! (it sets `$CARGO`), we ask it to build them into the same folder.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kit_measure::harness::{sibling_binary, Server, Target};
use kit_measure::slots::VARIANTS;

use crate::error::{CliError, Result};

/// How often a wait on a child process checks for Ctrl-C.
const POLL: Duration = Duration::from_millis(50);

/// The knobs a run gives every server (the contract's `--io-ms` and friends).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Knobs {
    pub io_ms: u64,
    pub db_ms: u64,
    pub cpu_rounds: u64,
}

impl Knobs {
    pub fn args(&self) -> Vec<String> {
        [("--io-ms", self.io_ms), ("--db-ms", self.db_ms), ("--cpu-rounds", self.cpu_rounds)]
            .iter()
            .flat_map(|(flag, v)| [flag.to_string(), v.to_string()])
            .collect()
    }
}

/// A server the kit started, with what its /metrics said about itself.
pub struct Started {
    pub server: Server,
    pub variant: String,
    /// The variant's slot limit (`None`: unbounded).
    pub slots: Option<u64>,
}

/// Starts `variant` with `args` and reads its slot limit. The server ends
/// with the kit however the kit ends (the harness's stdin pipe).
pub fn start(bin: &Path, variant: &str, args: &[String], stop: &AtomicBool) -> Result<Started> {
    if stop.load(Ordering::SeqCst) {
        return Err(CliError::Interrupted);
    }
    let server = Server::start(bin, args)
        .map_err(|e| CliError::Failed(format!("starting {variant}: {e}")))?;
    let slots = server.metrics()?.slots;
    Ok(Started { server, variant: variant.to_string(), slots })
}

/// The paths of the four server binaries, building them first if needed.
pub fn locate_all(stop: &AtomicBool) -> Result<Vec<PathBuf>> {
    locate(&VARIANTS, stop)
}

/// The paths of these binaries of `kit-servers`, building them first if needed.
pub fn locate(names: &[&str], stop: &AtomicBool) -> Result<Vec<PathBuf>> {
    if names.iter().any(|v| sibling_binary(v).is_err()) {
        build(names, stop)?;
    }
    names.iter().map(|v| sibling_binary(v).map_err(CliError::from)).collect()
}

/// Runs `$CARGO build` for these servers, into the folder `kit` runs from.
fn build(names: &[&str], stop: &AtomicBool) -> Result<()> {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return Err(CliError::Failed(
            "the server binaries are not next to kit; build them with `cargo build --release -p kit-servers`".into(),
        ));
    };
    let exe = std::env::current_exe()?;
    let (profile_dir, target_dir) = match (exe.parent(), exe.parent().and_then(Path::parent)) {
        (Some(p), Some(t)) => (p, t),
        _ => {
            return Err(CliError::Failed(format!(
                "cannot tell the target folder of {}",
                exe.display()
            )))
        }
    };
    let mut cmd = Command::new(cargo);
    cmd.arg("build").arg("--target-dir").arg(target_dir);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("release") => cmd.arg("--release"),
        Some("debug") => &mut cmd,
        other => return Err(CliError::Failed(format!("kit runs from an unknown profile folder {other:?}; build the servers with `cargo build -p kit-servers`"))),
    };
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        cmd.arg("--manifest-path").arg(Path::new(&dir).join("Cargo.toml"));
    }
    // Only the servers: rebuilding `kit` itself while it runs is pointless.
    cmd.args(["-p", "kit-servers"]);
    for v in names {
        cmd.args(["--bin", v]);
    }
    eprintln!("building {}...", names.join(", "));
    wait_for(cmd, stop)
}

/// Runs `cmd` to the end, or kills it on Ctrl-C.
fn wait_for(mut cmd: Command, stop: &AtomicBool) -> Result<()> {
    let mut child = cmd.spawn().map_err(|e| CliError::Failed(format!("cannot run cargo: {e}")))?;
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                Ok(())
            } else {
                Err(CliError::Failed(format!("building the servers failed ({status})")))
            };
        }
        if stop.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CliError::Interrupted);
        }
        std::thread::sleep(POLL);
    }
}

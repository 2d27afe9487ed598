//! `kit up`: the four servers on fixed ports (5001-5004 by default), for a
//! browser, curl or `kit bench`, until Ctrl-C.
//!
//! Run: `cargo run --release -- up`, then `cargo run --release -- health`.
//!
//! With `--containers`, each server runs in its own container (limited to
//! `--cpus` cores and `--memory` bytes) from images made locally (see
//! [`crate::containers`]); the same port table, and Ctrl-C removes them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[cfg(feature = "containers")]
use testcontainers::{core::IntoContainerPort, runners::SyncRunner, ImageExt};

use crate::containers;
use crate::contract::DEFAULT_CPU_ROUNDS;
use crate::net;

use super::images;
use super::servers::{self, Knobs, Started, VARIANTS};
use super::{CliError, Result};

/// How often the loop checks for Ctrl-C and dead servers.
const WATCH_EVERY: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// sync-blocking listens here, the others on the next three ports.
    #[arg(long, default_value_t = 5001, value_parser = clap::value_parser!(u16).range(1..=65532))]
    pub base_port: u16,
    /// One I/O wait, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub io_ms: u64,
    /// One database query, in milliseconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub db_ms: u64,
    /// CPU rounds per /cpu-intensive request.
    #[arg(long, default_value_t = DEFAULT_CPU_ROUNDS, value_parser = clap::value_parser!(u64).range(1..=crate::contract::MAX_CPU_ROUNDS))]
    pub cpu_rounds: u64,
    /// Each server in its own Docker container, from images made here from the kit's own binaries.
    #[arg(long)]
    pub containers: bool,
    /// CPU cores per container (fractions allowed).
    #[arg(long, default_value = "1", value_parser = containers::parse_cpus, requires = "containers")]
    pub cpus: f64,
    /// Memory per container, as Docker writes it (256m, 1g).
    #[arg(long, default_value = "256m", value_parser = containers::parse_memory, requires = "containers")]
    pub memory: u64,
    /// The images' tag: `kit-<variant>:<tag>`.
    #[arg(long, default_value = containers::DEFAULT_TAG, value_parser = super::images::parse_tag, requires = "containers")]
    pub tag: String,
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    if args.containers {
        // Before the ports and the builds: without Docker, nothing else matters.
        images::docker_or_say_so()?;
        // Before the ports too: a killed run's containers still hold them.
        let orphans = containers::remove_orphans();
        if orphans > 0 {
            eprintln!("removed {orphans} container(s) an earlier `kit up --containers` could not remove (it was killed)");
        }
    }
    let ports = free_ports(args.base_port)?;
    if args.containers {
        return run_in_containers(&args, &ports, stop);
    }
    let bins = servers::locate_all(stop)?;
    let knobs = Knobs { io_ms: args.io_ms, db_ms: args.db_ms, cpu_rounds: args.cpu_rounds };
    // On an error below, the servers started so far are dropped, which stops them.
    let mut started = Vec::with_capacity(VARIANTS.len());
    for ((bin, variant), port) in bins.iter().zip(VARIANTS).zip(&ports) {
        let mut flags = knobs.args();
        flags.extend(["--port".to_string(), port.to_string()]);
        let s = servers::start(bin, variant, &flags, stop)?;
        print_row(variant, &s.server.url);
        started.push(s);
    }
    eprintln!("the four servers are up; Ctrl-C stops them");
    serve_until_stopped(&mut started, stop)
}

/// The four ports from `base`, each checked before anything starts, so a
/// taken port is named plainly and no server is left half-started.
fn free_ports(base: u16) -> Result<Vec<u16>> {
    let ports: Vec<u16> = (0..VARIANTS.len() as u16).map(|i| base + i).collect();
    for (port, variant) in ports.iter().zip(VARIANTS) {
        net::bind("127.0.0.1", *port).map_err(|e| CliError::Failed(format!("{variant} cannot have its port: {e}")))?;
    }
    Ok(ports)
}

/// One row of the port table, the same with or without containers.
fn print_row(variant: &str, url: &str) {
    println!("{variant:<17} {url}");
}

/// `--containers`: the same servers and table, each in a container.
///
/// Every container is owned by `started`: whichever way this returns (Ctrl-C,
/// an error, a panic) the `Container`s are dropped and testcontainers removes
/// them. Ctrl-C only sets the stop flag (see `net::stop_flag`), so the drops
/// always run.
#[cfg(feature = "containers")]
fn run_in_containers(args: &Args, ports: &[u16], stop: &AtomicBool) -> Result<()> {
    stop_on_hangup();
    images::make(&VARIANTS, &args.tag, stop)?;
    let limits = containers::Limits { cpus: args.cpus, memory: args.memory };
    let knobs = Knobs { io_ms: args.io_ms, db_ms: args.db_ms, cpu_rounds: args.cpu_rounds };
    let pid = std::process::id().to_string();
    let host = containers::hostname();
    let mut started = Vec::with_capacity(VARIANTS.len());
    for (variant, port) in VARIANTS.iter().zip(ports) {
        if stop.load(Ordering::SeqCst) {
            return Err(CliError::Interrupted);
        }
        let container = containers::request(variant, &args.tag, limits, &knobs.args())
            .with_mapped_port(*port, containers::PORT.tcp())
            .with_container_name(format!("kit-{variant}-{pid}"))
            .with_label(containers::RUN_LABEL, pid.as_str())
            .with_label(containers::HOST_LABEL, host.as_str())
            .start()
            .map_err(|e| CliError::Failed(format!("{variant}'s container did not start: {e}")))?;
        print_row(variant, &format!("http://127.0.0.1:{port}"));
        started.push((*variant, container));
    }
    eprintln!(
        "the four servers are up, each in a container with {} CPU and {} MiB; Ctrl-C removes them",
        args.cpus,
        args.memory >> 20
    );
    let mut checks = 0u64;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(WATCH_EVERY);
        checks += 1;
        // Asking Docker costs more than reading a pid: once a second.
        if checks % 10 == 0 {
            for (variant, container) in &started {
                if !container.is_running().unwrap_or(false) {
                    let said = container.stdout_to_vec().map(|o| String::from_utf8_lossy(&o).into_owned()).unwrap_or_default();
                    let tail: Vec<&str> = said.lines().rev().take(15).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    return Err(CliError::Failed(format!("{variant}'s container stopped; its last lines:\n{}", tail.join("\n"))));
                }
            }
        }
    }
    eprintln!("removing the four containers");
    drop(started);
    Ok(())
}

/// Built without the `containers` feature: testcontainers (and its Docker
/// client, about 130 crates) stays out of the everyday build, which every
/// learner compiles for `cargo run --release`.
#[cfg(not(feature = "containers"))]
fn run_in_containers(_: &Args, _: &[u16], _: &AtomicBool) -> Result<()> {
    Err(CliError::Failed(
        "this kit was built without container support (it keeps everyone's build small): \
         run `cargo run --release --features containers -- up --containers`"
            .into(),
    ))
}

/// A closed terminal (SIGHUP) stops the run like Ctrl-C, so the containers
/// are removed: a process dies with its terminal, a container would not.
#[cfg(feature = "containers")]
fn stop_on_hangup() {
    extern "C" fn on_hangup(_: libc::c_int) {
        // raise is async-signal-safe; SIGINT's handler sets the stop flag.
        unsafe { libc::raise(libc::SIGINT) };
    }
    // SAFETY: the handler only calls raise.
    unsafe { libc::signal(libc::SIGHUP, on_hangup as extern "C" fn(libc::c_int) as libc::sighandler_t) };
}

/// Waits for Ctrl-C; a server that dies meanwhile ends the run with its output.
fn serve_until_stopped(started: &mut [Started], stop: &AtomicBool) -> Result<()> {
    while !stop.load(Ordering::SeqCst) {
        if let Some(dead) = started.iter().find(|s| s.server.exited().is_some()) {
            return Err(CliError::Failed(format!(
                "{} died; the last lines of its output:\n{}",
                dead.variant,
                dead.server.output_tail(15)
            )));
        }
        std::thread::sleep(WATCH_EVERY);
    }
    eprintln!("stopping the four servers");
    Ok(())
}

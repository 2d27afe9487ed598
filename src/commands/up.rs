//! `kit up`: the four servers on fixed ports (5001-5004 by default), for a
//! browser, curl or `kit bench`, until Ctrl-C.
//!
//! Run: `cargo run --release -- up`, then `cargo run --release -- health`.
//!
//! With `--io-backend http`, the upstream runs too (fifth row, base+4) and
//! every server's waits are requests to it.
//!
//! With `--containers`, each server (and the upstream) runs in its own
//! container (limited to `--cpus` cores and `--memory` bytes) from images
//! made locally (see [`crate::containers`]); the same port table, and Ctrl-C
//! removes them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[cfg(feature = "containers")]
use testcontainers::{core::IntoContainerPort, runners::SyncRunner, ImageExt};

use kit_measure::slots::VARIANTS;
use kit_serve::contract::DEFAULT_CPU_ROUNDS;
use kit_serve::net;

use super::images;
use crate::containers;
use crate::error::{CliError, Result};
use crate::support::servers::{self, Knobs, Started};

/// How often the loop checks for Ctrl-C and dead servers.
const WATCH_EVERY: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// sync-blocking listens here, the others on the next three ports (the upstream on the fourth).
    #[arg(long, default_value_t = 5001, value_parser = clap::value_parser!(u16).range(1..=65531))]
    pub base_port: u16,
    /// One I/O wait, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub io_ms: u64,
    /// One database query, in milliseconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub db_ms: u64,
    /// CPU rounds per /cpu-intensive request.
    #[arg(long, default_value_t = DEFAULT_CPU_ROUNDS, value_parser = clap::value_parser!(u64).range(1..=kit_serve::contract::MAX_CPU_ROUNDS))]
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
    /// What the servers wait on: `timer` (sleeps), or `http` (requests to the
    /// upstream, which starts too, on the fifth port).
    #[arg(long, value_enum, default_value_t = Backend::Timer)]
    pub io_backend: Backend,
}

/// The backends `kit up` can start everything for by itself; a PostgreSQL
/// is the user's, so `postgres=URL` goes to the servers directly.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Timer,
    Http,
}

/// The upstream's binary, image and row name.
const UPSTREAM: &str = "upstream";

impl Args {
    /// The names of the port table's rows, in port order.
    fn names(&self) -> Vec<&'static str> {
        let mut names = VARIANTS.to_vec();
        if self.io_backend == Backend::Http {
            names.push(UPSTREAM);
        }
        names
    }

    fn knobs(&self) -> Knobs {
        Knobs { io_ms: self.io_ms, db_ms: self.db_ms, cpu_rounds: self.cpu_rounds }
    }
}

/// The flags that send a server's waits to the upstream at `url`.
fn http_backend(url: &str) -> Vec<String> {
    vec!["--io-backend".into(), format!("http={url}")]
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
    let names = args.names();
    let ports = free_ports(args.base_port, &names)?;
    if args.containers {
        return run_in_containers(&args, &ports, stop);
    }
    let bins = servers::locate(&names, stop)?;
    let mut flags = args.knobs().args();
    // On an error below, the processes started so far are dropped, which stops them.
    let mut started = Vec::with_capacity(names.len());
    if args.io_backend == Backend::Http {
        // First, so the servers' first waits have somewhere to go.
        let upstream = servers::start(
            &bins[VARIANTS.len()],
            UPSTREAM,
            &port_flags(ports[VARIANTS.len()]),
            stop,
        )?;
        flags.extend(http_backend(&upstream.server.url));
        started.push(upstream);
    }
    for ((bin, variant), port) in bins.iter().zip(VARIANTS).zip(&ports) {
        let mut flags = flags.clone();
        flags.extend(port_flags(*port));
        let s = servers::start(bin, variant, &flags, stop)?;
        print_row(variant, &s.server.url);
        started.push(s);
    }
    if let Some(upstream) = started.iter().find(|s| s.variant == UPSTREAM) {
        print_row(UPSTREAM, &upstream.server.url);
    }
    eprintln!("{}; Ctrl-C stops them", up_line(&args));
    serve_until_stopped(&mut started, stop)
}

fn port_flags(port: u16) -> [String; 2] {
    ["--port".to_string(), port.to_string()]
}

/// What is up, in one line: the same words with or without containers.
fn up_line(args: &Args) -> String {
    match args.io_backend {
        Backend::Timer => "the four servers are up".into(),
        Backend::Http => "the four servers are up, waiting on the upstream".into(),
    }
}

/// One port per name from `base`, each checked before anything starts, so
/// a taken port is named plainly and nothing is left half-started.
fn free_ports(base: u16, names: &[&str]) -> Result<Vec<u16>> {
    let ports: Vec<u16> = (0..names.len() as u16).map(|i| base + i).collect();
    for (port, name) in ports.iter().zip(names) {
        // std's listener, not `net::bind`: only the error's kind is wanted,
        // and the servers' own message points at their `--port`, which
        // `kit up` does not have.
        std::net::TcpListener::bind(("127.0.0.1", *port))
            .map_err(|e| CliError::Failed(port_taken(name, *port, base, names.len(), &e)))?;
    }
    Ok(ports)
}

/// Why `name` cannot have `port`, and the flag `kit up` has to move them all.
fn port_taken(name: &str, port: u16, base: u16, count: usize, e: &std::io::Error) -> String {
    let last = base + count as u16 - 1;
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "{name} cannot have its port: port {port} on 127.0.0.1 is already in use: stop what holds it, or move \
             the {count} servers to other ports with --base-port (now {base}, so {base}-{last})"
        ),
        _ => format!("{name} cannot have its port: cannot listen on 127.0.0.1:{port}: {e}"),
    }
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
    let names = args.names();
    images::make(&names, &args.tag, stop)?;
    let mut flags = args.knobs().args();
    let mut started = Vec::with_capacity(names.len());
    if args.io_backend == Backend::Http {
        let upstream = start_container(args, UPSTREAM, ports[VARIANTS.len()], &[], stop)?;
        // The servers reach it container to container, on Docker's bridge
        // network, by address: the images have no resolver configuration to
        // rely on, and the host's mapped port is not the container's.
        let ip = upstream.get_bridge_ip_address().map_err(|e| {
            CliError::Failed(format!("the upstream's container has no address: {e}"))
        })?;
        flags.extend(http_backend(&format!("http://{ip}:{}", containers::PORT)));
        started.push((UPSTREAM, upstream));
    }
    for (variant, port) in VARIANTS.iter().zip(ports) {
        started.push((*variant, start_container(args, variant, *port, &flags, stop)?));
        print_row(variant, &format!("http://127.0.0.1:{port}"));
    }
    if args.io_backend == Backend::Http {
        print_row(UPSTREAM, &format!("http://127.0.0.1:{}", ports[VARIANTS.len()]));
    }
    eprintln!(
        "{}, each in a container with {} CPU and {} MiB; Ctrl-C removes them",
        up_line(args),
        args.cpus,
        args.memory >> 20
    );
    let mut checks = 0u64;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(WATCH_EVERY);
        checks += 1;
        // Asking Docker costs more than reading a pid: once a second.
        if checks.is_multiple_of(10) {
            for (name, container) in &started {
                if !container.is_running().unwrap_or(false) {
                    let said = container
                        .stdout_to_vec()
                        .map(|o| String::from_utf8_lossy(&o).into_owned())
                        .unwrap_or_default();
                    let tail: Vec<&str> = said.lines().rev().take(15).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    return Err(CliError::Failed(format!(
                        "{name}'s container stopped; its last lines:\n{}",
                        tail.join("\n")
                    )));
                }
            }
        }
    }
    eprintln!("removing the {} containers", started.len());
    drop(started);
    Ok(())
}

/// `kit-<name>:<tag>` in a container named `kit-<name>-<kit's pid>`, with
/// the run's labels, its port mapped to `port` on the host.
#[cfg(feature = "containers")]
fn start_container(
    args: &Args,
    name: &str,
    port: u16,
    flags: &[String],
    stop: &AtomicBool,
) -> Result<testcontainers::Container<testcontainers::GenericImage>> {
    if stop.load(Ordering::SeqCst) {
        return Err(CliError::Interrupted);
    }
    let pid = std::process::id().to_string();
    let limits = containers::Limits { cpus: args.cpus, memory: args.memory };
    containers::request(name, &args.tag, limits, flags)
        .with_mapped_port(port, containers::PORT.tcp())
        .with_container_name(format!("kit-{name}-{pid}"))
        .with_label(containers::RUN_LABEL, pid.as_str())
        .with_label(containers::HOST_LABEL, containers::hostname().as_str())
        .start()
        .map_err(|e| CliError::Failed(format!("{name}'s container did not start: {e}")))
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
    unsafe {
        libc::signal(libc::SIGHUP, on_hangup as extern "C" fn(libc::c_int) as libc::sighandler_t)
    };
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
    eprintln!("stopping the {} processes", started.len());
    Ok(())
}

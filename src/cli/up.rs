//! `kit up`: the four servers on fixed ports (5001-5004 by default), for a
//! browser, curl or `kit bench`, until Ctrl-C.
//!
//! Run: `cargo run --release -- up`, then `cargo run --release -- health`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::contract::DEFAULT_CPU_ROUNDS;
use crate::net;

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
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    let ports: Vec<u16> = (0..VARIANTS.len() as u16).map(|i| args.base_port + i).collect();
    // Every port is checked before anything starts, so a taken port is
    // named plainly, and no server is left half-started.
    for (port, variant) in ports.iter().zip(VARIANTS) {
        net::bind("127.0.0.1", *port).map_err(|e| CliError::Failed(format!("{variant} cannot have its port: {e}")))?;
    }
    let bins = servers::locate_all(stop)?;
    let knobs = Knobs { io_ms: args.io_ms, db_ms: args.db_ms, cpu_rounds: args.cpu_rounds };
    // On an error below, the servers started so far are dropped, which stops them.
    let mut started = Vec::with_capacity(VARIANTS.len());
    for ((bin, variant), port) in bins.iter().zip(VARIANTS).zip(&ports) {
        let mut flags = knobs.args();
        flags.extend(["--port".to_string(), port.to_string()]);
        let s = servers::start(bin, variant, &flags, stop)?;
        println!("{variant:<17} {}", s.server.url);
        started.push(s);
    }
    eprintln!("the four servers are up; Ctrl-C stops them");
    serve_until_stopped(&mut started, stop)
}

/// Waits for Ctrl-C; a server that dies meanwhile ends the run with its output.
fn serve_until_stopped(started: &mut [Started], stop: &std::sync::atomic::AtomicBool) -> Result<()> {
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

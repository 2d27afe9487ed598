//! `kit selfcheck`: is our load generator fast enough to trust? It runs
//! `kit bench` and then `wrk` against the same URL, and compares requests/s.
//! Without a URL it starts async-native itself (its /health is the cheapest
//! request there is, so the client is what gets measured).
//!
//! Run: `cargo run --release -- selfcheck`

use std::time::Duration;

use kit_load::bench::self_check_vs_wrk;
use kit_measure::harness::{sibling_binary, Server};

use crate::error::{CliError, Result};
use crate::support::client::{self, parse_duration};

/// The kit's target: our closed loop reaches at least 70% of wrk's rate on
/// the same server in the same run. Below it, the client is the bottleneck.
const GOOD_ENOUGH: f64 = 0.7;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The URL to load (default: /health of an async-native the kit starts).
    #[arg(long, value_parser = client::parse_url)]
    pub url: Option<String>,
    /// Concurrent connections, for both clients.
    #[arg(short = 'c', long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub connections: u64,
    /// How long each client runs (10s, 500ms, 2m).
    #[arg(short = 'd', long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
}

pub fn run(args: Args) -> Result<()> {
    // Started here, on the main thread; dropping the guard stops it.
    let own = match &args.url {
        Some(_) => None,
        None => Some(Server::start(sibling_binary("async-native")?, &[])?),
    };
    let url = match (&args.url, &own) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => format!("{}/health", server.url),
        (None, None) => unreachable!("a server was started when no URL was given"),
    };
    eprintln!(
        "selfcheck {url}: kit bench, then wrk, {} connections for {:?} each...",
        args.connections, args.duration
    );
    let (ours, wrk) =
        client::block_on(self_check_vs_wrk(&url, args.connections as usize, args.duration))?
            .map_err(|e| CliError::Failed(e.to_string()))?;
    println!("kit bench  {ours:>10.0} requests/s");
    match wrk {
        Some(wrk) if wrk > 0.0 => {
            let ratio = ours / wrk;
            println!("wrk        {wrk:>10.0} requests/s");
            println!("ratio      {ratio:>10.2} (ours / wrk)");
            if ratio < GOOD_ENOUGH {
                println!("our client is the slower one here: numbers near this rate measure the client, not the server");
            }
        }
        _ => println!(
            "wrk        not installed: nothing to compare with (install wrk and run again)"
        ),
    }
    Ok(())
}

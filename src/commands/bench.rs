//! `kit bench URL`: the closed loop. N connections, each sending its next
//! request as soon as the last one answered; throughput at concurrency N.
//!
//! Run: `cargo run --release -- bench http://127.0.0.1:5004/health -c 50 -d 10s`

use std::time::Duration;

use kit_load::bench::{self, BenchOptions, BenchResult};

use crate::error::{CliError, Result};
use crate::support::client::{self, parse_duration};
use crate::support::thresholds::{self, Expectation};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The URL to load, e.g. http://127.0.0.1:5004/health.
    #[arg(value_parser = client::parse_url)]
    pub url: String,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub connections: u64,
    /// Requests to send in all.
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// How long to run (10s, 500ms, 2m). Without -n, 10s.
    #[arg(short = 'd', long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Give up on a request after this long (connect, answer and body): it
    /// is counted as a timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Open a new connection for every request (as browsers without keep-alive did).
    #[arg(long)]
    pub no_keep_alive: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 unless this holds, e.g. 'p99<200ms', 'errors=0', 'rps>=1000'; repeatable.
    #[arg(long, value_name = "EXPR", value_parser = thresholds::for_bench)]
    pub expect: Vec<Expectation>,
}

/// How long a bench runs when neither -n nor -d is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

pub fn run(args: Args) -> Result<()> {
    let duration = match (args.requests, args.duration) {
        (None, None) => Some(DEFAULT_DURATION),
        (_, d) => d,
    };
    let opts = BenchOptions {
        total: args.requests,
        duration,
        keep_alive: !args.no_keep_alive,
        timeout: args.timeout,
        ..BenchOptions::new(args.url.clone(), args.connections as usize)
    };
    let bar = client::counter(args.requests, &format!("bench {}", args.url));
    let progress = |done: u64| bar.set_position(done);
    let result = client::block_on(bench::run(&opts, Some(&progress)))?;
    bar.finish_and_clear();
    let result = result.map_err(|e| CliError::Failed(e.to_string()))?;
    if args.json {
        client::print_json(&result)?;
    } else {
        print!("{}", human(&result, opts.keep_alive));
    }
    thresholds::check(&args.expect, args.json, |m| {
        thresholds::of_load(m, &result.latency, result.errors, result.rps)
    })
}

/// The result as a person reads it.
fn human(r: &BenchResult, keep_alive: bool) -> String {
    let connections = if keep_alive { "kept alive" } else { "a new one per request" };
    format!(
        "bench {url}\n  \
         connections  {c} ({connections})\n  \
         requests     {n} in {s:.2} s = {rps:.1} requests/s\n  \
         errors       {e} (transport failures and 5xx)\n  \
         statuses     {statuses}\n  \
         failures     {kinds}\n  \
         latency      {lat}\n",
        url = r.url,
        c = r.connections,
        n = r.requests,
        s = r.elapsed_s,
        rps = r.rps,
        e = r.errors,
        statuses = client::counts(&r.status_counts),
        kinds = client::counts(&r.error_kinds),
        lat = client::percentiles(&r.latency),
    )
}

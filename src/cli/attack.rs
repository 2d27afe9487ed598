//! `kit attack URL --rate R --duration D`: the open loop. Requests go out on
//! a fixed schedule whether or not the server keeps up, so queueing shows
//! as latency: response time counts from when a request was *due*, which
//! corrects for coordinated omission; service time counts from the send.
//!
//! Over time: one row per interval (`--interval`, 1 s by default), in
//! `--json` and in `--out DIR` (series.json and the charts). On a terminal a
//! live dashboard shows the intervals as they end (`q` stops the sending and
//! still prints the summary); `--no-tui`, or stdout not being a terminal,
//! keeps the plain progress line.
//!
//! Run: `cargo run --release -- attack http://127.0.0.1:5001/parallel --rate 10 --duration 10s`

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::attack::{self, AttackOptions, AttackResult, LATE_THRESHOLD};
use crate::charts;
use crate::series::MIN_INTERVAL;

use super::load::{self, parse_duration};
use super::{dashboard, CliError, Result};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The URL to load, e.g. http://127.0.0.1:5004/parallel.
    #[arg(value_parser = load::parse_url)]
    pub url: String,
    /// Requests per second, on schedule.
    #[arg(long, value_parser = positive_rate)]
    pub rate: f64,
    /// How long to send for (10s, 500ms, 2m).
    #[arg(short = 'd', long, value_parser = parse_duration)]
    pub duration: Duration,
    /// Print the result as JSON (the time series included).
    #[arg(long)]
    pub json: bool,
    /// The time series' interval (at least 100ms).
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Write series.json and the charts (PNG and SVG) into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No live dashboard: the plain progress line, even on a terminal.
    #[arg(long)]
    pub no_tui: bool,
}

/// A duration of at least [`MIN_INTERVAL`]: said at parse time, with the fix.
fn parse_interval(text: &str) -> std::result::Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < MIN_INTERVAL {
        return Err(format!("'{text}' is shorter than the shortest interval, {} ms", MIN_INTERVAL.as_millis()));
    }
    Ok(d)
}

fn positive_rate(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("'{text}' is not a rate above 0 (requests per second)")),
    }
}

pub fn run(args: Args) -> Result<()> {
    let opts = AttackOptions { interval: args.interval, ..AttackOptions::new(args.url.clone(), args.rate, args.duration) };
    // Before any screen is set up: a typo is an error message, not a flash.
    attack::validate(&opts).map_err(|e| CliError::Failed(e.to_string()))?;
    let live = !args.no_tui && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let result = if live { dashboard::attack(&opts)? } else { plain(&opts)? };
    let written = match &args.out {
        Some(dir) => write_files(&result, dir)?,
        None => Vec::new(),
    };
    if args.json {
        load::print_json(&result)?;
    } else {
        print!("{}", human(&result));
        for path in &written {
            println!("  wrote          {}", path.display());
        }
    }
    Ok(())
}

/// The attack with the plain progress line on stderr.
fn plain(opts: &AttackOptions) -> Result<AttackResult> {
    let expected = (opts.rate * opts.duration.as_secs_f64()).round() as u64;
    let bar = load::counter(Some(expected.max(1)), &format!("attack {} at {}/s", opts.url, opts.rate));
    let progress = |done: u64| bar.set_position(done);
    let result = load::block_on(attack::run(opts, Some(&progress)))?;
    bar.finish_and_clear();
    result.map_err(|e| CliError::Failed(e.to_string()))
}

/// series.json (the whole result, its series included) and the charts.
fn write_files(result: &AttackResult, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    let json = dir.join("series.json");
    // A result of plain numbers and strings always serializes.
    let text = serde_json::to_string_pretty(result).expect("serializable result");
    std::fs::write(&json, text).map_err(|e| CliError::Failed(format!("cannot write {}: {e}", json.display())))?;
    let mut written = vec![json];
    written.extend(charts::write_attack(result, dir)?);
    Ok(written)
}

/// The result as a person reads it: target next to achieved first.
fn human(r: &AttackResult) -> String {
    format!(
        "attack {url}\n  \
         rate           target {target:.1}/s, sent {sent:.1}/s, achieved {achieved:.1}/s (responses)\n  \
         requests       {n} sent, {done} answered in {s:.2} s\n  \
         errors         {e} (transport failures and 5xx)\n  \
         late           {late} sent more than {late_ms} ms after they were due\n  \
         dropped        {dropped} never sent (too many in flight)\n  \
         statuses       {statuses}\n  \
         failures       {kinds}\n  \
         service time   {service}   (from the send)\n  \
         response time  {response}   (from when it was due)\n  \
         over time      {over_time}\n  \
         server         {server}\n{stopped}",
        url = r.url,
        target = r.target_rate,
        sent = r.sent_rate,
        achieved = r.achieved_rate,
        n = r.requests,
        done = r.completed,
        s = r.elapsed_s,
        e = r.errors,
        late = r.late,
        late_ms = LATE_THRESHOLD.as_millis(),
        dropped = r.dropped,
        statuses = load::counts(&r.status_counts),
        kinds = load::counts(&r.error_kinds),
        service = load::percentiles(&r.service_time),
        response = load::percentiles(&r.response_time),
        over_time = over_time(r),
        server = r.series.server.describe(),
        stopped = if r.stopped { "  stopped early  the numbers cover the time until the stop\n" } else { "" },
    )
}

/// The spread of the per-interval throughput: a steady run has a narrow one.
fn over_time(r: &AttackResult) -> String {
    let s = &r.series;
    // The last interval is usually cut short by the end of the attack and
    // only holds its stragglers: its rate says nothing about steadiness.
    let full: Vec<_> = s.intervals.iter().filter(|i| (i.seconds() - s.interval_s).abs() < 1e-9).collect();
    let rates: Vec<f64> = full.iter().map(|i| i.answered_rate()).collect();
    let (lo, hi) = rates.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    let worst_p99 = full.iter().map(|i| i.response_time.p99_ms).fold(0.0, f64::max);
    if rates.is_empty() {
        return format!("{} intervals of {} s, none complete", s.intervals.len(), s.interval_s);
    }
    format!(
        "{} intervals of {} s: achieved {lo:.1}/s to {hi:.1}/s per interval, worst interval p99 {worst_p99:.1} ms",
        s.intervals.len(),
        s.interval_s
    )
}

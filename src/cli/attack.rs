//! `kit attack URL --rate R --duration D`: the open loop. Requests go out on
//! a fixed schedule whether or not the server keeps up, so queueing shows
//! as latency: response time counts from when a request was *due*, which
//! corrects for coordinated omission; service time counts from the send.
//!
//! Run: `cargo run --release -- attack http://127.0.0.1:5001/parallel --rate 10 --duration 10s`

use std::time::Duration;

use crate::attack::{self, AttackOptions, AttackResult, LATE_THRESHOLD};

use super::load::{self, parse_duration};
use super::{CliError, Result};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The URL to load, e.g. http://127.0.0.1:5004/parallel.
    pub url: String,
    /// Requests per second, on schedule.
    #[arg(long, value_parser = positive_rate)]
    pub rate: f64,
    /// How long to send for (10s, 500ms, 2m).
    #[arg(short = 'd', long, value_parser = parse_duration)]
    pub duration: Duration,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn positive_rate(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("'{text}' is not a rate above 0 (requests per second)")),
    }
}

pub fn run(args: Args) -> Result<()> {
    let opts = AttackOptions::new(args.url.clone(), args.rate, args.duration);
    let expected = (args.rate * args.duration.as_secs_f64()).round() as u64;
    let bar = load::counter(Some(expected.max(1)), &format!("attack {} at {}/s", args.url, args.rate));
    let progress = |done: u64| bar.set_position(done);
    let result = load::block_on(attack::run(&opts, Some(&progress)))?;
    bar.finish_and_clear();
    let result = result.map_err(|e| CliError::Failed(e.to_string()))?;
    if args.json {
        load::print_json(&result)
    } else {
        print!("{}", human(&result));
        Ok(())
    }
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
         response time  {response}   (from when it was due)\n",
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
    )
}

//! `kit seed`: the original comparison, reproduced. The Python demo this kit
//! ports drove Flask behind `WsgiToAsgi` at 400 requests/s and Quart at
//! 5000/s with vegeta, on /health and on a slow endpoint. Here:
//! blocking-wrapper at 400/s and async-native at 5000/s, on /health and on
//! /parallel, each on a fresh server for a bounded time, side by side with
//! the achieved rates (never the targets alone), errors, p99 and the
//! server's own in_flight against Little's law.
//!
//! A subcommand of its own rather than a `kit capacity` mode: it is one
//! fixed experiment with its own story (two servers at two rates), not a
//! ladder.
//!
//! Run: `cargo run --release -- seed` (about 40 s).

use std::time::Duration;

use serde_json::json;

use crate::capacity::{Capacity, LadderOptions};
use crate::config::cores;
use crate::contract::DEFAULT_CPU_ROUNDS;
use crate::net;
use crate::table;

use super::capacity::{self as cap, rate};
use super::files::{self, Machine};
use super::load::parse_duration;
use super::servers::{self, Knobs, VARIANTS};
use super::{CliError, OutArgs, Result};

/// (variant, rate) as the original ran them.
const RUNS: [(&str, f64); 2] = [("blocking-wrapper", 400.0), ("async-native", 5000.0)];
const PATHS: [&str; 2] = ["/health", "/parallel"];

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// How long each of the four attacks sends.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    /// One I/O wait, in milliseconds (/parallel makes two).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub io_ms: u64,
    /// Scale both rates (0.1 = 40/s and 500/s), for a slower machine or a quick look.
    #[arg(long, default_value_t = 1.0, value_parser = scale)]
    pub scale: f64,
    #[command(flatten)]
    pub out: OutArgs,
}

fn scale(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 10.0 => Ok(r),
        _ => Err(format!("'{text}' is not a scale between 0 and 10")),
    }
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    // 5000/s of 0.5 s requests: about 2,500 sockets open at once.
    net::raise_open_files_limit();
    let bins = servers::locate_all(stop)?;
    let knobs = Knobs { io_ms: args.io_ms, db_ms: 300, cpu_rounds: DEFAULT_CPU_ROUNDS };
    let mut all = Vec::new();
    for path in PATHS {
        for (variant, target) in RUNS {
            let i = VARIANTS.iter().position(|v| *v == variant).expect("a known variant");
            // A fresh server per attack: the wrapper still works through the
            // queue of an overloaded run after its clients hung up.
            let started = servers::start(&bins[i], variant, &knobs.args(), stop)?;
            all.push(cap::climb(&LadderOptions {
                url: format!("{}{path}", started.server.url),
                start: target * args.scale,
                factor: 2.0,
                max_steps: 1,
                step: args.duration,
                // Bounded: a request queued longer than this counts as failed.
                timeout: args.duration,
                p99_limit: None,
            })?);
        }
    }
    let text = format!("{}\n{}\n{}", cap::report(&all), story(&all), over_time(&all));
    print!("{text}");
    let settings = json!({ "duration_s": args.duration.as_secs_f64(), "io_ms": args.io_ms, "scale": args.scale });
    let doc = json!({ "kind": "seed", "date": files::utc_now(), "machine": Machine::here(), "settings": settings, "runs": all });
    let dir = &args.out.out;
    std::fs::create_dir_all(dir).map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    files::write_file(&dir.join("seed.json"), &serde_json::to_string_pretty(&doc).expect("serializable runs"))?;
    files::write_file(&dir.join("seed.md"), &format!("# async-await-kit: the seed's experiment\n\n{text}"))?;
    // Each run's charts over time, as `kit attack --out` draws them.
    for c in &all {
        let run = dir.join(format!("seed-{}-{}", c.variant.as_deref().unwrap_or("server"), c.path.trim_start_matches('/')));
        crate::charts::write_attack(&c.steps[0].attack, &run).map_err(|e| CliError::Failed(e.to_string()))?;
    }
    eprintln!("wrote seed.md, seed.json and each run's charts (seed-*/) to {}", dir.display());
    Ok(())
}

/// The four runs side by side over time: answers per second in each
/// interval, with errors, as the original's live plots showed them.
pub fn over_time(all: &[Capacity]) -> String {
    let series: Vec<_> = all.iter().map(|c| &c.steps[0].attack.series).collect();
    let rows = series.iter().map(|s| s.intervals.len()).max().unwrap_or(0);
    if rows == 0 {
        return String::new();
    }
    let mut text = String::from("Over time: answered per second in each interval (errors in brackets)\n\n| from (s) |");
    for c in all {
        text.push_str(&format!(" {} {} |", c.variant.as_deref().unwrap_or("server"), c.path));
    }
    text.push_str(&format!("\n|---|{}\n", "---|".repeat(all.len())));
    for i in 0..rows {
        let start = series.iter().find_map(|s| s.intervals.get(i)).map_or(0.0, |iv| iv.start_s);
        text.push_str(&format!("| {start:.0} |"));
        for s in &series {
            match s.intervals.get(i) {
                Some(iv) if iv.seconds() > 0.0 => {
                    text.push_str(&format!(" {} ({}) |", rate(iv.answered as f64 / iv.seconds()), iv.errors))
                }
                _ => text.push_str(" - |"),
            }
        }
        text.push('\n');
    }
    text
}

/// What the four runs say, in slot language, from their numbers only.
pub fn story(all: &[Capacity]) -> String {
    let mut text = String::new();
    let find = |v: &str, p: &str| all.iter().find(|c| c.variant.as_deref() == Some(v) && c.path == p);
    if let Some(c) = find("blocking-wrapper", "/parallel") {
        let s = &c.steps[0];
        let a = &s.attack;
        let slots = c.slots.map_or("its".into(), |s| s.to_string());
        text.push_str(&format!(
            "- blocking-wrapper on /parallel: {slots} slots of {t} each (its own mean handler time) can finish at most \
             {model}/s, whatever the front end does. Offered {target}/s, it achieved {achieved}/s; of {sent} requests \
             sent, {done} were answered and {errors} failed ({kinds}).{server} The rest of the {target}/s could only queue \
             for an app thread, and the queue grows by about {growth}/s for as long as the attack lasts.\n",
            server = s.little.as_ref().map_or(String::new(), |l| format!(
                " The server itself finished {}/s (its own count, {} in {:.1} s): the clients got fewer answers than \
                 that because, once they had given up, its slots went on working through their queued requests.",
                rate(l.throughput), l.window.handler_count, l.window.window_s
            )),
            t = crate::capacity::ms_text(c.t_s),
            model = c.predicted_rate.map_or("-".into(), rate),
            target = rate(s.target_rate),
            achieved = rate(s.achieved_rate),
            sent = a.requests,
            done = a.completed,
            errors = a.errors,
            kinds = if a.error_kinds.is_empty() { "none".into() } else { super::load::counts(&a.error_kinds) },
            growth = rate((s.target_rate - s.achieved_rate).max(0.0)),
        ));
    }
    if let Some(c) = find("async-native", "/health") {
        let s = &c.steps[0];
        text.push_str(&format!(
            "- async-native on /health: offered {target}/s, achieved {achieved}/s, p99 {p99}, {late} sends late. /health does \
             no work, so this measures the machine, not the server: the load generator, the loopback and the server share \
             {cores} cores here, and whichever of them runs out of CPU first sets the rate.\n",
            target = rate(s.target_rate),
            achieved = rate(s.achieved_rate),
            p99 = table::millis(s.p99_ms),
            late = s.attack.late,
            cores = cores(),
        ));
    }
    if let Some(c) = find("async-native", "/parallel") {
        let s = &c.steps[0];
        let held = s.little.as_ref().map_or("-".into(), |l| format!("{:.0}", l.measured_in_flight));
        text.push_str(&format!(
            "- async-native on /parallel: offered {target}/s, achieved {achieved}/s with about {held} requests waiting at \
             once (the server's own count): unbounded slots, so waiting costs no thread.\n",
            target = rate(s.target_rate),
            achieved = rate(s.achieved_rate),
        ));
    }
    text
}

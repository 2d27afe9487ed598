//! `kit capacity URL` and `kit capacity --all`: open-loop attacks at rising
//! rates until the server stops keeping up, next to the slot model's
//! prediction by Little's law (s slots of t seconds sustain s / t per
//! second), with the server's sampled in_flight beside its completions per second x its mean
//! handler time. The hockey stick as a table, a chart and files.
//!
//! Run: `cargo run --release -- capacity --all` (about a minute and a half
//! at io 500 ms), or `-- capacity http://127.0.0.1:5004/parallel`.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use kit_load::capacity::{self, Capacity, LadderOptions, Step};
use kit_measure::slots::VARIANTS;
use kit_measure::table;
use kit_serve::config::cores;
use kit_serve::contract::DEFAULT_CPU_ROUNDS;
use kit_serve::net;

use crate::error::{CliError, Result};
use crate::support::client::{self, parse_duration};
use crate::support::files::{self, Machine, OutArgs};
use crate::support::html;
use crate::support::servers::{self, Knobs};

const DB_MS: u64 = 300;
/// Steps offered after the first that fell behind, to show the flat part.
const PAST_KNEE: usize = 2;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The URL to attack, e.g. http://127.0.0.1:5004/parallel (or --all).
    #[arg(required_unless_present = "all", conflicts_with = "all", value_parser = client::parse_url)]
    pub url: Option<String>,
    /// Start the four servers and climb each in turn (a fresh server each).
    #[arg(long)]
    pub all: bool,
    /// The path with --all.
    #[arg(long, default_value = "/parallel", requires = "all")]
    pub path: String,
    /// One I/O wait with --all, in milliseconds (/parallel makes two).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000), requires = "all")]
    pub io_ms: u64,
    /// The first rate, requests per second.
    #[arg(long, default_value_t = 3.0, value_parser = above_zero)]
    pub start: f64,
    /// Each step offers this many times the last one.
    #[arg(long, default_value_t = 2.0, value_parser = above_one)]
    pub factor: f64,
    /// At most this many steps per server.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=30))]
    pub steps: u64,
    /// How long each step sends (its second half is the measured window).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub step: Duration,
    /// A step whose p99 response time passes this has not kept up
    /// (default: 5 x the first step's p50, at least 50 ms).
    #[arg(long, value_parser = parse_duration)]
    pub p99_limit: Option<Duration>,
    /// Print the result as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub out: OutArgs,
}

fn above_zero(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("'{text}' is not a number above 0")),
    }
}

fn above_one(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 1.0 => Ok(r),
        _ => Err(format!("'{text}' is not a factor above 1 (each step must offer more)")),
    }
}

impl Args {
    fn ladder(&self, url: String) -> LadderOptions {
        LadderOptions {
            url,
            start: self.start,
            factor: self.factor,
            max_steps: self.steps as usize,
            step: self.step,
            // The drain of an over-capacity step's queue is bounded by this.
            timeout: self.step * 4 + Duration::from_secs(5),
            p99_limit: self.p99_limit,
            // The knee in fine steps, and the flat part past it: a
            // hockey stick needs more than two points.
            near_model: true,
            past_knee: PAST_KNEE,
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let stop = net::stop_flag();
    // Thousands of requests may wait at once past the knee, each on a socket.
    net::raise_open_files_limit();
    let mut all = Vec::new();
    match &args.url {
        Some(url) => all.push(climb(&args.ladder(url.clone()))?),
        None => {
            let bins = servers::locate_all(stop)?;
            let knobs = Knobs { io_ms: args.io_ms, db_ms: DB_MS, cpu_rounds: DEFAULT_CPU_ROUNDS };
            // One at a time: async-native's knee is set by the CPU, which a
            // neighbour's load would move.
            for (bin, variant) in bins.iter().zip(VARIANTS) {
                let started = servers::start(bin, variant, &knobs.args(), stop)?;
                all.push(climb(&args.ladder(format!("{}{}", started.server.url, args.path)))?);
            }
        }
    }
    publish(&args, &all)
}

/// One ladder, each step told on stderr as it is judged.
pub fn climb(opts: &LadderOptions) -> Result<Capacity> {
    eprintln!("capacity of {}: {}, {} s each", opts.url, plan(opts), opts.step.as_secs_f64());
    let tell = |s: &Step| eprintln!("  {}", step_line(s));
    client::block_on(capacity::ladder(opts, &tell))?.map_err(|e| CliError::Failed(e.to_string()))
}

/// The rates the ladder will offer, as a person reads them:
/// "3, 6, 12 and 24/s, until it falls behind".
pub fn plan(opts: &LadderOptions) -> String {
    let rates: Vec<String> = opts.rates().iter().map(|r| rate(*r)).collect();
    let list = match rates.as_slice() {
        [one] => return format!("one rate, {one}/s"),
        [init @ .., last] => format!("{} and {last}/s", init.join(", ")),
        [] => "no rate".into(),
    };
    let near =
        if opts.near_model { ", finer near s / t once the first step has measured t" } else { "" };
    let past = match opts.past_knee {
        0 => "until it falls behind".to_string(),
        1 => "until one step past the first that falls behind".to_string(),
        n => format!("until {n} steps past the first that falls behind"),
    };
    format!("rates {list}{near}, {past}")
}

fn step_line(s: &Step) -> String {
    format!(
        "{} offered, {} achieved, p99 {}, {} sent late: {}",
        rate(s.target_rate),
        rate(s.achieved_rate),
        table::ms_as_text(s.p99_ms),
        s.attack.late,
        s.saturated.as_deref().unwrap_or("kept up")
    )
}

/// "3", "12", "1.5", "6144": rates print without noise.
pub fn rate(r: f64) -> String {
    if (r - r.round()).abs() < 0.05 && r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

pub const HEADERS: [&str; 10] = [
    "variant",
    "path",
    "offered/s",
    "achieved/s (2xx)",
    "p99 (2xx)",
    "errors",
    "in flight (L)",
    "λ x W",
    "slot model s/t",
    "kept up",
];

/// One row per step, every ladder in turn.
pub fn rows(all: &[Capacity]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for c in all {
        let who = c.variant.clone().unwrap_or_else(|| c.url.clone());
        for s in &c.steps {
            let little = s.little.as_ref();
            let failed = s.attack.errors + s.attack.dropped;
            rows.push(vec![
                who.clone(),
                c.path.clone(),
                rate(s.target_rate),
                rate(s.achieved_rate),
                if s.attack.ok > 0 { table::ms_as_text(s.p99_ms) } else { "no 2xx".into() },
                if failed == 0 { "0".into() } else { capacity::failures(&s.attack) },
                little.map_or("-".into(), |l| format!("{:.2}", l.measured_in_flight)),
                little.map_or("-".into(), |l| format!("{:.2}", l.predicted_in_flight)),
                model(c),
                if s.kept_up() { "yes".into() } else { "no".into() },
            ]);
        }
    }
    rows
}

/// "4 / 1.00 s = 4.0/s", or what bounds a server with unbounded slots (or
/// slots held too briefly to bound it).
fn model(c: &Capacity) -> String {
    match (c.slots, c.predicted_rate) {
        (Some(s), Some(p)) => format!("{s} / {} = {}/s", capacity::ms_text(c.t_s), rate(p)),
        (Some(s), None) => format!("{s} slots of {}: CPU", capacity::ms_text(c.t_s)),
        _ if c.variant.is_some() => "no slot limit: CPU".into(),
        _ => "-".into(),
    }
}

/// The table and what it means, in slot language.
pub fn report(all: &[Capacity]) -> String {
    let mut text = table::grid(&HEADERS, &rows(all));
    text.push_str(
        "\nachieved counts 2xx answers only, from the first to the last, and p99 is theirs: a 503 or a timeout \
         is an error, named in its column, never something achieved.\n\n",
    );
    for c in all {
        text.push_str(&format!("- {}\n", c.explain(cores())));
        // The last step whose window held enough requests to judge, or else the last with a window.
        let windows = || c.steps.iter().rev().filter_map(|s| s.little.as_ref().map(|l| (s, l)));
        if let Some((s, l)) = windows().find(|(_, l)| l.judgeable()).or_else(|| windows().next()) {
            text.push_str(&format!(
                "  At {}/s offered, {}: {}.\n",
                rate(s.target_rate),
                l.explain(),
                l.verdict()
            ));
            if let Some(note) = l.observer_note(c.slots) {
                text.push_str(&format!("  Note: {note}.\n"));
            }
        }
    }
    text
}

#[derive(Serialize)]
struct CapacityJson<'a> {
    kind: &'static str,
    date: String,
    machine: Machine,
    settings: serde_json::Value,
    capacities: &'a [Capacity],
}

fn publish(args: &Args, all: &[Capacity]) -> Result<()> {
    let report = report(all);
    let settings = json!({
        "start": args.start, "factor": args.factor, "steps": args.steps, "step_s": args.step.as_secs_f64(),
        "io_ms": args.all.then_some(args.io_ms), "keep_up": capacity::KEEP_UP,
    });
    let doc = CapacityJson {
        kind: "capacity",
        date: files::utc_now(),
        machine: Machine::here(),
        settings,
        capacities: all,
    };
    // Plain values always serialize.
    let json = serde_json::to_string_pretty(&doc).expect("serializable capacity");
    if args.json {
        println!("{json}");
    } else {
        print!("{report}");
    }
    let dir = &args.out.out;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    let charts = crate::charts::write_capacity(all, dir)?;
    files::write_file(&dir.join("capacity.json"), &json)?;
    let title = "async-await-kit: capacity";
    let md = format!("# {title}\n\n{report}\n![capacity](capacity.png)\n");
    files::write_file(&dir.join("capacity.md"), &md)?;
    html::write(dir, title, &report, &charts)?;
    eprintln!(
        "wrote capacity.md, report.html (one page, offline), capacity.json and {} charts to {}",
        charts.len(),
        dir.display()
    );
    Ok(())
}

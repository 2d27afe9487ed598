//! `kit slots URL`: count the slots of any server from outside. One request
//! alone gives the endpoint's own time t; then N requests, all in flight at
//! once, come back in rounds of s, one round every t, and the rounds say s
//! ([`kit_measure::rounds`]). On a kit server, its `/metrics` gives
//! `peak_in_flight`, the estimate's exact partner; elsewhere the figure is
//! from outside only, and says so.
//!
//! Run: `cargo run --release -- slots http://127.0.0.1:5001/parallel --n 40`

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use kit_measure::burst::{burst_outside, Outside, Timeline};
use kit_measure::client::outcome::is_contract_answer;
use kit_measure::client::url::validate_url;
use kit_measure::harness;
use kit_measure::rounds::{self, Reading};
use kit_measure::slots::SlotModel;

use crate::charts;
use crate::error::{CliError, Result};
use crate::support::client::{self, parse_duration};
use crate::support::thresholds::{self, Expectation, Measured, Metric};
use crate::support::{files, html};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The endpoint to count, e.g. http://127.0.0.1:5001/parallel (any http:// server).
    #[arg(value_parser = client::parse_url)]
    pub url: String,
    /// Requests in the burst, all in flight at once.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..=10_000))]
    pub n: u64,
    /// Give up on the burst's unanswered requests after this long.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub deadline: Duration,
    /// Do not read the server's /metrics even where it has the kit's: the count from outside alone.
    #[arg(long)]
    pub outside_only: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write slots.json, report.md, report.html and the timeline chart into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 1 unless this holds, e.g. 'slots>=100', 'slots=4', 'errors=0'; repeatable.
    #[arg(long, value_name = "EXPR", value_parser = thresholds::for_slots)]
    pub expect: Vec<Expectation>,
}

/// What `kit slots` measured and read.
#[derive(Clone, Debug, Serialize)]
pub struct SlotsResult {
    pub url: String,
    pub n: u64,
    /// One request alone, seconds (the median of three).
    pub t_s: f64,
    pub reading: Reading,
    /// The slots the reading gives (`None`: more than N, or no rounds).
    pub slots: Option<u64>,
    /// ceil(N / s) x t, seconds, where the reading gives s.
    pub model_s: Option<f64>,
    pub total_s: f64,
    pub answered: u64,
    pub errors: u64,
    pub error_kinds: std::collections::BTreeMap<String, u64>,
    /// The server's own count, on a kit server.
    pub peak_in_flight: Option<u64>,
    pub conclusion: String,
}

pub fn run(args: Args) -> Result<()> {
    let (result, charts) = measure(&args)?;
    if let Some(dir) = &args.out {
        // measure() made the folder for the chart.
        let json = serde_json::to_string_pretty(&result).expect("a plain result serializes");
        files::write_file(&dir.join("slots.json"), &json)?;
        let (title, body) =
            (format!("async-await-kit: slots of {}", result.url), report_body(&result));
        files::write_file(&dir.join("report.md"), &files::markdown(&title, &body, &charts))?;
        html::write(dir, &title, &body, &charts)?;
        // On stderr: stdout stays the result alone (with --json, parseable).
        eprintln!(
            "wrote slots.json, report.md, report.html (one page, offline) and the timeline chart to {}",
            dir.display()
        );
    }
    if args.json {
        client::print_json(&result)?;
    } else {
        println!("{}", result.conclusion);
    }
    thresholds::check(&args.expect, args.json, |m| match (m, &result.reading) {
        (Metric::Errors, _) => Measured::exactly(result.errors as f64),
        (_, Reading::Rounds { slots, .. }) => Measured::exactly(*slots as f64),
        // Served all at once: as many slots as the burst had, or more.
        (_, Reading::AllAtOnce { n, .. }) => Measured { value: *n as f64, at_least: true },
        // No rounds, no count: every expectation on it fails.
        (_, Reading::NoRounds { .. }) => Measured::exactly(f64::NAN),
    })
}

/// The conclusion as Markdown: its first line, then each indented line
/// after it (one finding each) as a bullet.
fn report_body(r: &SlotsResult) -> String {
    r.conclusion
        .lines()
        .map(|line| match line.strip_prefix("  ") {
            Some(finding) => format!("- {finding}\n"),
            None => format!("{line}\n\n"),
        })
        .collect()
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

/// One request alone, three times: the median, in seconds.
fn alone(url: &str, deadline: Duration) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let one = burst_outside(url, 1, deadline).map_err(failed)?;
        if one.errors() > 0 {
            return Err(CliError::Failed(format!(
                "{url} did not answer one request alone with a 2xx ({}): there is nothing to count",
                describe_errors(&one)
            )));
        }
        times.push(one.total.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[1])
}

/// The result, and the chart files written where `--out` asks for them.
fn measure(args: &Args) -> Result<(SlotsResult, Vec<PathBuf>)> {
    let url = args.url.as_str();
    // A kit server: where its /metrics answers, its address.
    let kit = if args.outside_only {
        None
    } else {
        kit_load::capacity::kit_server(url).ok().and_then(|(addr, m)| m.map(|_| addr))
    };
    let t_s = alone(url, args.deadline)?;
    if let Some(addr) = kit {
        harness::control(url, addr, "POST", "/metrics/reset")?;
    }
    let burst = burst_outside(url, args.n, args.deadline).map_err(failed)?;
    let peak_in_flight = match kit {
        Some(addr) => Some(harness::control(url, addr, "GET", "/metrics")?.peak_in_flight),
        None => None,
    };
    let answers: Vec<f64> = burst.spans.iter().filter(|s| s.ok).map(|s| s.answered_s).collect();
    let reading = rounds::read(&answers, t_s);
    let slots = match &reading {
        Reading::Rounds { slots, .. } => Some(*slots),
        _ => None,
    };
    let model_s = slots.map(|s| {
        SlotModel::new(args.n, Duration::from_secs_f64(t_s), Some(s)).predicted().as_secs_f64()
    });
    let mut result = SlotsResult {
        url: url.to_string(),
        n: args.n,
        t_s,
        reading,
        slots,
        model_s,
        total_s: burst.total.as_secs_f64(),
        answered: answers.len() as u64,
        errors: burst.errors(),
        error_kinds: burst.error_kinds.clone(),
        peak_in_flight,
        conclusion: String::new(),
    };
    result.conclusion = conclude(&result, &burst, args.outside_only);
    let mut charts = Vec::new();
    if let Some(dir) = &args.out {
        // The chart's panel reads "origin path, s slots".
        let parsed = validate_url(url).map_err(failed)?;
        let timeline = Timeline {
            variant: parsed.origin(),
            endpoint: parsed.target().to_string(),
            slots,
            t_s,
            spans: burst.spans.clone(),
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
        charts = charts::write_timeline(&[timeline], dir)?;
    }
    Ok((result, charts))
}

fn describe_errors(o: &Outside) -> String {
    let mut parts: Vec<String> = o
        .status_counts
        .iter()
        .filter(|(s, _)| !is_contract_answer(**s))
        .map(|(s, c)| format!("{c} x {s}"))
        .collect();
    parts.extend(o.error_kinds.iter().map(|(k, c)| format!("{c} x {k}")));
    parts.join(", ")
}

/// The result in slot language.
fn conclude(r: &SlotsResult, burst: &Outside, outside_only: bool) -> String {
    let ms = |s: f64| format!("{:.0} ms", s * 1000.0);
    let secs = |s: f64| format!("{s:.2} s");
    let mut out = format!(
        "kit slots {}: one request alone took {}; then {} at once.\n",
        r.url,
        ms(r.t_s),
        r.n
    );
    if r.errors > 0 {
        out.push_str(&format!(
            "  not all answered: {} of {} failed ({}). {}\n",
            r.errors,
            r.n,
            describe_errors(burst),
            if burst.error_kinds.keys().any(|k| k.contains("refused") || k.contains("connect")) {
                "Connections were refused: the listen backlog may be full, and the burst was not all in flight at once."
            } else {
                "The rounds below count the answers that came."
            }
        ));
    }
    match &r.reading {
        Reading::Rounds { slots, spacing_s, rounds, stretches } => {
            let model = r.model_s.unwrap_or_default();
            if stretches.len() == 1 {
                out.push_str(&format!(
                    "  {} requests came back in {} rounds of {slots}, one every {}: this endpoint serves {slots} at a time.\n",
                    r.answered,
                    rounds.len(),
                    secs(*spacing_s)
                ));
            } else {
                let parts: Vec<String> = stretches
                    .iter()
                    .map(|s| format!("{} at a time for {} round{}", s.per_round, s.rounds, if s.rounds == 1 { "" } else { "s" }))
                    .collect();
                out.push_str(&format!(
                    "  {} requests came back in {} rounds, one every {}: {}. The slots changed between rounds \
                     (an uneven split between worker processes, or a pool that grows): this endpoint serves up to \
                     {slots} at a time, and did not keep it up.\n",
                    r.answered,
                    rounds.len(),
                    secs(*spacing_s),
                    parts.join(", then ")
                ));
            }
            let cost = if stretches.len() > 1 && r.total_s > model {
                format!(": the rounds that held fewer than {slots} cost {}", secs(r.total_s - model))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  The slot model predicts ceil({} / {slots}) x {} = {}; measured {}{cost}.\n",
                r.n,
                ms(r.t_s),
                secs(model),
                secs(r.total_s)
            ));
        }
        Reading::AllAtOnce { n, end_s } => out.push_str(&format!(
            "  All {n} came back in one round, after {}: this endpoint served {n} at once. It has at least {n} \
             slots; a larger --n finds where they end.\n",
            secs(*end_s)
        )),
        Reading::NoRounds { why } => out.push_str(&format!(
            "  The answers did not come back in rounds: {why}. From outside: {} answered in {}, {:.1} requests in \
             flight on average (N x t / total).\n",
            r.answered,
            secs(r.total_s),
            r.answered as f64 * r.t_s / r.total_s.max(1e-9)
        )),
    }
    match (r.peak_in_flight, outside_only) {
        (Some(peak), _) => out.push_str(&format!(
            "  The server's own count (its /metrics): peak_in_flight {peak}, the exact partner of the estimate.\n"
        )),
        (None, true) => out.push_str("  This figure comes from outside only (--outside-only: the server's /metrics was not read).\n"),
        (None, false) => out.push_str("  This figure comes from outside only: the server has no kit /metrics to check it against.\n"),
    }
    out
}

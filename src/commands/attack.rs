//! `kit attack URL --rate R --duration D`: the open loop. Requests go out on
//! a fixed schedule whether or not the server keeps up, so queueing shows
//! as latency: response time counts from when a request was *due*, which
//! corrects for coordinated omission; service time counts from the send.
//! `--rate 100..5000` ramps the rate linearly over the duration: each
//! request is still due at its own time, on the ramp.
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

use kit_load::attack::{self, AttackOptions, AttackResult, Rate, LATE_THRESHOLD};
use kit_load::intervals::MIN_INTERVAL;
use kit_load::sampler::WARM_UP_RULE;

use crate::charts;
use crate::error::{CliError, Result};
use crate::support::client::{self, parse_duration};
use crate::support::dashboard;
use crate::support::html;
use crate::support::thresholds::{self, Expectation};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The URL to load, e.g. http://127.0.0.1:5004/parallel.
    #[arg(value_parser = client::parse_url)]
    pub url: String,
    /// Requests per second, on schedule: 200, or a linear ramp over the
    /// duration from one rate to another, 100..5000 (or down, 5000..100).
    #[arg(long, value_parser = parse_rate, value_name = "R|FROM..TO")]
    pub rate: Rate,
    /// How long to send for (10s, 500ms, 2m).
    #[arg(short = 'd', long, value_parser = parse_duration)]
    pub duration: Duration,
    /// Give up on a request after this long (connect, answer and body): it
    /// is counted as a timeout. In-flight requests are waited for this long
    /// after the duration.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
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
    /// Exit 1 unless this holds, e.g. 'p99<200ms' (response time, from due), 'errors=0', 'rps>=900' (2xx/s); repeatable.
    #[arg(long, value_name = "EXPR", value_parser = thresholds::for_attack)]
    pub expect: Vec<Expectation>,
}

/// A duration of at least [`MIN_INTERVAL`]: said at parse time, with the fix.
fn parse_interval(text: &str) -> std::result::Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < MIN_INTERVAL {
        return Err(format!(
            "'{text}' is shorter than the shortest interval, {} ms",
            MIN_INTERVAL.as_millis()
        ));
    }
    Ok(d)
}

/// A rate above 0, or a ramp FROM..TO of two: said at parse time.
fn parse_rate(text: &str) -> std::result::Result<Rate, String> {
    text.parse()
}

pub fn run(args: Args) -> Result<()> {
    let opts = AttackOptions {
        interval: args.interval,
        timeout: args.timeout,
        ..AttackOptions::new(args.url.clone(), args.rate, args.duration)
    };
    // Before any screen is set up: a typo is an error message, not a flash.
    attack::validate(&opts).map_err(|e| CliError::Failed(e.to_string()))?;
    let live = !args.no_tui && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let result = if live { dashboard::attack(&opts)? } else { plain(&opts)? };
    let written = match &args.out {
        Some(dir) => write_files(&result, dir)?,
        None => Vec::new(),
    };
    if args.json {
        client::print_json(&result)?;
    } else {
        print!("{}", human(&result));
        for path in &written {
            println!("  wrote          {}", path.display());
        }
    }
    thresholds::check(&args.expect, args.json, |m| {
        thresholds::of_load(m, &result.response_time, result.errors, result.achieved_rate)
    })
}

/// The attack with the plain progress line on stderr.
fn plain(opts: &AttackOptions) -> Result<AttackResult> {
    let expected = opts.rate.over(opts.duration).count();
    let bar = client::counter(Some(expected), &format!("attack {} at {}/s", opts.url, opts.rate));
    let progress = |done: u64| bar.set_position(done);
    let result = client::block_on(attack::run(opts, Some(&progress)))?;
    bar.finish_and_clear();
    result.map_err(|e| CliError::Failed(e.to_string()))
}

/// series.json (the whole result, its series included), the charts, and
/// report.html: the summary and the charts on one page.
fn write_files(result: &AttackResult, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    let json = dir.join("series.json");
    // A result of plain numbers and strings always serializes.
    let text = serde_json::to_string_pretty(result).expect("serializable result");
    std::fs::write(&json, text)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", json.display())))?;
    let charts = charts::write_attack(result, dir)?;
    // The summary keeps its aligned columns: a fenced block.
    let summary = format!("```\n{}```\n", human(result));
    let title = format!("async-await-kit: attack {}", result.url);
    // report.md: the summary and the charts, as the race's report.md links them.
    let md = dir.join("report.md");
    let links: String = charts
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|name| format!("![{}]({name})\n\n", name.trim_end_matches(".png")))
        .collect();
    crate::support::files::write_file(&md, &format!("# {title}\n\n{summary}\n{links}"))?;
    let html = html::write(dir, &title, &summary, &charts)?;
    Ok([json, md, html].into_iter().chain(charts).collect())
}

/// The result as a person reads it: target next to achieved first, and
/// every request sent accounted for once, with the sum shown.
fn human(r: &AttackResult) -> String {
    format!(
        "attack {url}\n  \
         rate           target {target}, sent {sent:.1}/s, achieved {achieved:.1}/s (2xx answers)\n  \
         requests       {n} sent in {s:.2} s: {outcomes}\n  \
         errors         {e} (5xx answers and requests with no answer)\n  \
         late           {late} sent more than {late_ms} ms after they were due\n  \
         dropped        {dropped} never sent (too many in flight)\n  \
         statuses       {statuses}\n  \
         failures       {kinds}\n  \
         service time   {service}   (from the send, every answer)\n  \
         response time  {response}   (from when it was due, every answer)\n  \
         2xx answers    {ok_response}   (response time of the 2xx alone)\n  \
         over time      {over_time}\n  \
         server         {server}\n  \
         {resources}\n{stopped}",
        url = r.url,
        target = target(r),
        sent = r.sent_rate,
        achieved = r.achieved_rate,
        n = r.requests,
        outcomes = outcomes(r),
        s = r.elapsed_s,
        e = r.errors,
        late = r.late,
        late_ms = LATE_THRESHOLD.as_millis(),
        dropped = r.dropped,
        statuses = client::counts(&r.status_counts),
        kinds = client::counts(&r.error_kinds),
        service = client::percentiles(&r.service_time),
        response = client::percentiles(&r.response_time),
        ok_response = client::percentiles(&r.ok_response_time),
        over_time = over_time(r),
        server = r.series.server.describe(),
        resources = resources(r),
        stopped = if r.stopped { "  stopped early  the numbers cover the time until the stop\n" } else { "" },
    )
}

/// The server's RSS and open descriptors at the start, after the warm-up
/// and at the end, from its /metrics: a server that grows with every
/// request shows it in the last line. Not sampled, it says so: no zeros.
fn resources(r: &AttackResult) -> String {
    let Some(res) = &r.series.resources else {
        return format!(
            "resources      not available: RSS and descriptors come from a kit server's /metrics ({})",
            r.series.server.describe()
        );
    };
    let pad = "                 ";
    format!(
        "resources      the server's RSS and open descriptors (warm-up: the first {warm} s, {rule})\n\
         {pad}start          {start}\n\
         {pad}after warm-up  {after}\n\
         {pad}end            {end}\n\
         {pad}since warm-up  {growth}",
        warm = secs_short(res.warm_up_s),
        rule = WARM_UP_RULE,
        start = res.start.describe(),
        after = res.after_warm_up.describe(),
        end = res.end.describe(),
        growth = res.growth(),
    )
}

/// "10", "4", "0.5": a warm-up's seconds without trailing zeros.
fn secs_short(s: f64) -> String {
    secs(s).trim_end_matches(" s").to_string()
}

/// "200.0/s", or for a ramp "100.0/s rising to 5000.0/s (2550.0/s on average)".
fn target(r: &AttackResult) -> String {
    match r.ramp {
        Some(Rate { from, to }) => {
            let way = if to > from { "rising" } else { "falling" };
            format!("{from:.1}/s {way} to {to:.1}/s ({:.1}/s on average)", r.target_rate)
        }
        None => format!("{:.1}/s", r.target_rate),
    }
}

/// "78 answered 2xx + 2 answered 503 = 80": each request once, as what it was.
fn outcomes(r: &AttackResult) -> String {
    let mut parts = vec![(r.ok, "answered 2xx".to_string())];
    for (status, n) in r.status_counts.iter().filter(|(s, _)| !(200..300).contains(*s)) {
        parts.push((*n, format!("answered {status}")));
    }
    for (kind, n) in &r.error_kinds {
        parts.push((*n, format!("no answer ({kind})")));
    }
    let total: u64 = parts.iter().map(|(n, _)| n).sum();
    let listed: Vec<String> = parts.iter().map(|(n, what)| format!("{n} {what}")).collect();
    // Stopped by a signal before the last request ended, the sum can fall short: say so.
    let rest = r.requests.saturating_sub(total);
    let more = if rest > 0 { format!(" + {rest} unaccounted") } else { String::new() };
    format!("{}{more} = {}", listed.join(" + "), total + rest)
}

/// The spread of the per-interval throughput: a steady run has a narrow one.
/// The run is the send and then the wait for the last answers, so it has
/// more intervals than the duration has seconds; the last one is cut short.
fn over_time(r: &AttackResult) -> String {
    let s = &r.series;
    // The last interval is usually cut short by the end of the attack and
    // only holds its stragglers: its rate says nothing about steadiness.
    let full: Vec<_> =
        s.intervals.iter().filter(|i| (i.seconds() - s.interval_s).abs() < 1e-9).collect();
    let part = s.intervals.len() - full.len();
    let tiling = match (full.len(), part) {
        (n, 0) => format!("{n} intervals of {}", secs(s.interval_s)),
        (0, _) => {
            format!("one interval of {}", secs(s.intervals.iter().map(|i| i.seconds()).sum()))
        }
        (n, _) => format!(
            "{n} whole intervals of {} and a last one of {}",
            secs(s.interval_s),
            secs(s.intervals.last().map_or(0.0, |i| i.seconds()))
        ),
    };
    let head =
        format!("{} (the send and the wait for its last answers) in {tiling}", secs(r.elapsed_s));
    let rates: Vec<f64> = full.iter().map(|i| i.ok_rate()).collect();
    let (lo, hi) =
        rates.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    let worst_p99 = full.iter().map(|i| i.ok_response_time.p99_ms).fold(0.0, f64::max);
    if rates.is_empty() {
        return format!("{head}, none whole");
    }
    format!("{head}: achieved (2xx) {lo:.1}/s to {hi:.1}/s per whole interval, worst interval p99 of the 2xx {worst_p99:.1} ms")
}

/// "1 s", "0.25 s", "8.62 s".
fn secs(s: f64) -> String {
    if (s - s.round()).abs() < 1e-9 {
        format!("{s:.0} s")
    } else {
        let text = format!("{s:.2}");
        format!("{} s", text.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit_measure::latency::Summary;

    /// An 8 s attack at 10/s whose last answers came 0.62 s after the send:
    /// 8 whole intervals and a ninth of 0.62 s; 78 answered 2xx, 2 answered 503.
    fn eight_seconds() -> AttackResult {
        let summary = serde_json::to_value(Summary::default()).unwrap();
        let intervals: Vec<_> = (0..9)
            .map(|i| {
                let end = if i == 8 { 8.62 } else { f64::from(i + 1) };
                serde_json::json!({"start_s": f64::from(i), "end_s": end, "sent": if i < 8 { 10 } else { 0 },
                    "answered": 10, "ok": if i == 3 { 8 } else { 10 }, "server_errors": if i == 3 { 2 } else { 0 },
                    "errors": if i == 3 { 2 } else { 0 }, "late": 0, "in_flight": 0, "response_time": summary,
                    "buckets": [], "server": null})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "url": "http://127.0.0.1:1/parallel", "target_rate": 10.0, "achieved_rate": 9.0, "sent_rate": 10.0,
            "requests": 80, "completed": 80, "ok": 78, "errors": 2, "late": 0, "dropped": 0,
            "status_counts": {"200": 78, "503": 2}, "error_kinds": {}, "elapsed_s": 8.62,
            "service_time": summary, "response_time": summary,
            "series": {"interval_s": 1.0, "bucket_edges_ms": [], "server": {"status": "off"}, "server_samples": [], "intervals": intervals}
        }))
        .unwrap()
    }

    /// "9 intervals of 1 s" for an 8 s run did not add up: the run is the
    /// send and the wait for its last answers, and the last interval is short.
    #[test]
    fn the_intervals_add_up_to_the_run() {
        let r = eight_seconds();
        let text = over_time(&r);
        assert!(text.starts_with("8.62 s (the send and the wait for its last answers) in 8 whole intervals of 1 s and a last one of 0.62 s"), "{text}");
        assert!(!text.contains("9 intervals of 1 s"), "{text}");
        // Achieved per whole interval counts the 2xx: 8/s in the one with two 503s.
        assert!(text.contains("achieved (2xx) 8.0/s to 10.0/s"), "{text}");
    }

    /// A ramp says its two ends and its mean; a constant rate, as before.
    #[test]
    fn a_ramps_target_names_its_ends() {
        let mut r = eight_seconds();
        assert!(human(&r).contains("rate           target 10.0/s, sent 10.0/s"), "{}", human(&r));
        r.ramp = Some(Rate::ramp(5.0, 15.0));
        let text = human(&r);
        assert!(
            text.contains("target 5.0/s rising to 15.0/s (10.0/s on average), sent 10.0/s"),
            "{text}"
        );
        r.ramp = Some(Rate::ramp(15.0, 5.0));
        assert!(target(&r).starts_with("15.0/s falling to 5.0/s"), "{}", target(&r));
        // In the JSON: a ramp adds its ends; a constant rate adds nothing.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["ramp"], serde_json::json!({"from": 15.0, "to": 5.0}));
        assert!(serde_json::to_value(eight_seconds()).unwrap().get("ramp").is_none());
        assert_eq!(parse_rate("100..5000"), Ok(Rate::ramp(100.0, 5000.0)));
        assert!(parse_rate("5..").unwrap_err().contains("FROM..TO"));
    }

    /// Sampled, the three readings and the growth; not sampled, no numbers at all.
    #[test]
    fn resources_are_shown_at_three_moments_or_said_to_be_missing() {
        use kit_load::sampler::{Resources, ServerSample};
        let mut r = eight_seconds();
        let text = human(&r);
        assert!(text.contains("resources      not available: RSS and descriptors come from a kit server's /metrics (not sampled)"), "{text}");
        let sample = |t_s: f64, mib: u64, fds: u64| ServerSample {
            t_s,
            rss_bytes: Some(mib << 20),
            open_fds: Some(fds),
            ..Default::default()
        };
        let samples =
            [sample(0.2, 10, 9), sample(1.0, 12, 14), sample(2.0, 13, 15), sample(8.4, 12, 13)];
        r.series.resources = Resources::of(&samples, 8.62);
        let text = human(&r);
        for line in [
            "resources      the server's RSS and open descriptors (warm-up: the first 1.72 s, the shorter of the run's first 20 % and its first 10 s)",
            "start          10.0 MiB, 9 descriptors at 0.2 s",
            "after warm-up  13.0 MiB, 15 descriptors at 2.0 s",
            "end            12.0 MiB, 13 descriptors at 8.4 s",
            "since warm-up  -1.0 MiB RSS, -2 descriptors",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
    }

    #[test]
    fn every_request_is_counted_once_and_the_sum_is_shown() {
        let r = eight_seconds();
        assert!(r.outcomes_add_up(), "{r:?}");
        assert_eq!(outcomes(&r), "78 answered 2xx + 2 answered 503 = 80");
        let text = human(&r);
        assert!(
            text.contains(
                "requests       80 sent in 8.62 s: 78 answered 2xx + 2 answered 503 = 80"
            ),
            "{text}"
        );
        assert!(text.contains("achieved 9.0/s (2xx answers)"), "{text}");
    }
}

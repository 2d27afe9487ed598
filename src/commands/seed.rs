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

use kit_load::attack::AttackResult;
use kit_load::capacity::{Capacity, LadderOptions};
use kit_load::intervals::Interval;
use kit_measure::slots::VARIANTS;
use kit_measure::table;
use kit_serve::config::cores;
use kit_serve::contract::{Endpoint, DEFAULT_CPU_ROUNDS};
use kit_serve::net;

use super::capacity::{self as cap, rate};
use crate::error::{CliError, Result};
use crate::support::client::parse_duration;
use crate::support::files::{self, Machine, OutArgs};
use crate::support::html;
use crate::support::servers::{self, Knobs};

/// (variant, rate) as the original ran them.
const RUNS: [(&str, f64); 2] = [("blocking-wrapper", 400.0), ("async-native", 5000.0)];
const PATHS: [&str; 2] = [Endpoint::Health.path(), Endpoint::Parallel.path()];

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
                near_model: false,
                past_knee: 0,
            })?);
        }
    }
    // Each attack's timeout is its duration (see the ladder above).
    let text =
        format!("{}\n{}\n{}", cap::report(&all), story(&all, args.duration), over_time(&all));
    print!("{text}");
    let settings = json!({ "duration_s": args.duration.as_secs_f64(), "io_ms": args.io_ms, "scale": args.scale });
    let doc = json!({ "kind": "seed", "date": files::utc_now(), "machine": Machine::here(), "settings": settings, "runs": all });
    let dir = &args.out.out;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    files::write_file(
        &dir.join("seed.json"),
        &serde_json::to_string_pretty(&doc).expect("serializable runs"),
    )?;
    let title = "async-await-kit: the seed's experiment";
    files::write_file(&dir.join("seed.md"), &format!("# {title}\n\n{text}"))?;
    // Each run's charts over time, as `kit attack --out` draws them.
    let mut charts = Vec::new();
    for c in &all {
        let run = dir.join(format!(
            "seed-{}-{}",
            c.variant.as_deref().unwrap_or("server"),
            c.path.trim_start_matches('/')
        ));
        charts.extend(
            crate::charts::write_attack(&c.steps[0].attack, &run)
                .map_err(|e| CliError::Failed(e.to_string()))?,
        );
    }
    // One page with every run's charts, each captioned with its folder.
    html::write(dir, title, &text, &charts)?;
    eprintln!(
        "wrote seed.md, report.html (one page, offline), seed.json and each run's charts (seed-*/) to {}",
        dir.display()
    );
    Ok(())
}

/// The four runs side by side over time: 2xx answers per second in each
/// interval, with the 5xx and the requests that got no answer beside them,
/// as the original's live plots showed them.
pub fn over_time(all: &[Capacity]) -> String {
    let series: Vec<_> = all.iter().map(|c| &c.steps[0].attack.series).collect();
    let rows = series.iter().map(|s| s.intervals.len()).max().unwrap_or(0);
    if rows == 0 {
        return String::new();
    }
    let mut text = String::from(
        "Over time: 2xx answers per second in each interval (achieved); after a +, the 5xx answers and the requests \
         that got no answer (timeouts) that ended in it, as counts\n\n| from (s) |",
    );
    for c in all {
        text.push_str(&format!(" {} {} |", c.variant.as_deref().unwrap_or("server"), c.path));
    }
    text.push_str(&format!("\n|---|{}\n", "---|".repeat(all.len())));
    for i in 0..rows {
        let start = series.iter().find_map(|s| s.intervals.get(i)).map_or(0.0, |iv| iv.start_s);
        text.push_str(&format!("| {start:.0} |"));
        for s in &series {
            match s.intervals.get(i) {
                Some(iv) if iv.seconds() > 0.0 => text.push_str(&format!(" {} |", cell(iv))),
                _ => text.push_str(" - |"),
            }
        }
        text.push('\n');
    }
    text
}

/// "4.0/s + 164 x 5xx + 12 no answer": the 2xx rate, then what else ended.
fn cell(iv: &Interval) -> String {
    let mut text = format!("{}/s", rate(iv.ok_rate()));
    if iv.server_errors > 0 {
        text.push_str(&format!(" + {} x 5xx", iv.server_errors));
    }
    if iv.timeouts > 0 {
        text.push_str(&format!(" + {} timeouts", iv.timeouts));
    }
    if iv.failed > iv.timeouts {
        text.push_str(&format!(" + {} failed", iv.failed - iv.timeouts));
    }
    if iv.answered > iv.ok + iv.server_errors {
        text.push_str(&format!(" + {} other", iv.answered - iv.ok - iv.server_errors));
    }
    text
}

/// "12 were answered 2xx, 164 answered 503 and 1024 timed out (12 + 164 +
/// 1024 = 1200)": every request sent, each once, adding up on the page.
pub fn outcomes(a: &AttackResult) -> String {
    let mut parts = vec![(a.ok, "were answered 2xx".to_string())];
    for (status, n) in a.status_counts.iter().filter(|(s, _)| !(200..300).contains(*s)) {
        parts.push((*n, format!("were answered {status}")));
    }
    for (kind, n) in &a.error_kinds {
        let what = if kind == kit_measure::client::outcome::TIMEOUT_KIND {
            "timed out".to_string()
        } else {
            format!("failed ({kind})")
        };
        parts.push((*n, what));
    }
    let words: Vec<String> = parts.iter().map(|(n, what)| format!("{n} {what}")).collect();
    let sum: Vec<String> = parts.iter().map(|(n, _)| n.to_string()).collect();
    let total: u64 = parts.iter().map(|(n, _)| n).sum();
    let list = match words.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    };
    if parts.len() > 1 {
        format!("of {} requests sent, {list} ({} = {total})", a.requests, sum.join(" + "))
    } else {
        format!("of {} requests sent, {list}", a.requests)
    }
}

/// What the four runs say, in slot language, from their numbers only.
pub fn story(all: &[Capacity], timeout: Duration) -> String {
    let mut text = String::new();
    let find =
        |v: &str, p: &str| all.iter().find(|c| c.variant.as_deref() == Some(v) && c.path == p);
    if let Some(c) = find("blocking-wrapper", "/parallel") {
        text.push_str(&wrapper_story(c, timeout));
    }
    if let Some(c) = find("async-native", "/health") {
        let s = &c.steps[0];
        text.push_str(&format!(
            "- async-native on /health: offered {target}/s, achieved {achieved}/s (2xx), p99 {p99}, {late} sends late. /health does \
             no work, so this measures the machine, not the server: the load generator, the loopback and the server share \
             {cores} cores here, and whichever of them runs out of CPU first sets the rate.\n",
            target = rate(s.target_rate),
            achieved = rate(s.achieved_rate),
            p99 = table::ms_as_text(s.p99_ms),
            late = s.attack.late,
            cores = cores(),
        ));
    }
    if let Some(c) = find("async-native", "/parallel") {
        let s = &c.steps[0];
        let held = s.little.as_ref().map_or("-".into(), |l| format!("{:.0}", l.measured_in_flight));
        text.push_str(&format!(
            "- async-native on /parallel: offered {target}/s, achieved {achieved}/s (2xx) with about {held} requests waiting at \
             once (the server's own count): unbounded slots, so waiting costs no thread.\n",
            target = rate(s.target_rate),
            achieved = rate(s.achieved_rate),
        ));
    }
    text
}

/// The wrapper on /parallel: its slots, what it achieved, and what became
/// of every other request: queued, refused with a 503 once its bounded queue
/// was full, or given up by its client. Every figure measured, or derived
/// from measured ones with the sum shown.
fn wrapper_story(c: &Capacity, timeout: Duration) -> String {
    let s = &c.steps[0];
    let a = &s.attack;
    let slots = c.slots.map_or("its".into(), |s| s.to_string());
    let model = c.predicted_rate.map_or("-".into(), rate);
    let mut text = format!(
        "- blocking-wrapper on /parallel: {slots} slots of {t} each (its own mean handler time) can finish at most {model}/s, \
         whatever the front end does. Offered {target}/s, it achieved {achieved}/s (2xx answers, from the first to the last); \
         {outcomes}.",
        t = kit_load::capacity::ms_text(c.t_s),
        target = rate(s.target_rate),
        achieved = rate(s.achieved_rate),
        outcomes = outcomes(a),
    );
    if let Some(l) = &s.little {
        // Two measurements of one rate over different spans: compared only
        // where the server's window holds enough requests, and only in words
        // that its numbers bear out.
        let (server, clients) = (rate(l.throughput), rate(s.achieved_rate));
        let compared = if l.window.handler_count < kit_load::littles_law::MIN_REQUESTS_TO_JUDGE {
            format!(": too few in its window to compare closely with the clients' {clients}/s")
        } else if (l.throughput / s.achieved_rate - 1.0).abs() > 0.1 {
            format!(
                ", {} than the clients' {clients}/s of 2xx, over another span: its window is the send's second half, \
                 the clients' rate runs from their first 2xx to their last",
                if l.throughput > s.achieved_rate { "more" } else { "less" }
            )
        } else {
            format!(", about the clients' {clients}/s of 2xx")
        };
        text.push_str(&format!(
            " The server itself finished {server}/s in its handlers (its own count, {} in {:.1} s){compared}.",
            l.window.handler_count, l.window.window_s
        ));
    }
    let refused = a.server_errors();
    let first_503 = a.series.intervals.iter().find(|i| i.server_errors > 0).map(|i| i.start_s);
    match (c.queue, first_503) {
        (Some(q), Some(from)) => {
            let fill = c
                .predicted_rate
                .filter(|p| s.target_rate > *p)
                .map(|p| format!(", where the model puts it full at {q} / ({} - {}) = {:.1} s", rate(s.target_rate), rate(p), q as f64 / (s.target_rate - p)))
                .unwrap_or_default();
            text.push_str(&format!(
                " The rest could only queue for an app thread, and its queue is bounded: it holds {q} requests. Once it was \
                 full, the front end answered 503 at once: {refused} times, the first in the interval from {from:.0} s{fill}. \
                 So the queue stopped growing at its bound; a 503 is an error here, never an answer achieved."
            ));
        }
        (Some(q), None) => text.push_str(&format!(
            " The rest queued for an app thread; its queue holds {q} requests, and it never filled (no 503)."
        )),
        (None, _) => {
            let done = s.little.as_ref().map_or(s.achieved_rate, |l| l.throughput);
            text.push_str(&format!(
                " The rest could only queue for an app thread, and the queue grew by about {} - {} = {}/s while the attack lasted.",
                rate(s.target_rate),
                rate(done),
                rate((s.target_rate - done).max(0.0))
            ));
        }
    }
    if a.timeouts() > 0 {
        text.push_str(&format!(
            " {} requests got no answer within the {} timeout, and their clients gave up on them.",
            a.timeouts(),
            table::ms_as_text(timeout.as_secs_f64() * 1000.0)
        ));
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit_load::capacity::Step;
    use kit_load::littles_law::{Little, Window};
    use kit_measure::latency::Summary;

    /// The wrapper's run on the reference machine, as the user reported it:
    /// 1200 sent, 12 answered 2xx, 164 answered 503 once its queue of 1024
    /// was full (from the interval at 2 s), 1024 timed out.
    fn wrapper(queue: Option<u64>) -> Capacity {
        let summary = serde_json::to_value(Summary::default()).unwrap();
        let iv = |start: f64, refused: u64| {
            serde_json::json!({"start_s": start, "end_s": start + 1.0, "sent": 0, "answered": refused, "server_errors": refused,
                "errors": refused, "late": 0, "in_flight": 0, "response_time": summary, "buckets": [], "server": null})
        };
        let attack: AttackResult = serde_json::from_value(serde_json::json!({
            "url": "http://127.0.0.1:1/parallel", "target_rate": 400.0, "achieved_rate": 1.2, "sent_rate": 400.0,
            "requests": 1200, "completed": 176, "ok": 12, "errors": 1188, "late": 0, "dropped": 0,
            "status_counts": {"200": 12, "503": 164}, "error_kinds": {"timeout": 1024}, "elapsed_s": 10.0,
            "service_time": summary, "response_time": summary, "first_ok_s": 1.0, "last_ok_s": 3.75,
            "series": {"interval_s": 1.0, "bucket_edges_ms": [], "server": {"status": "off"}, "server_samples": [],
                "intervals": [iv(0.0, 0), iv(1.0, 0), iv(2.0, 100), iv(3.0, 64)]}
        }))
        .unwrap();
        assert!(attack.outcomes_add_up(), "{attack:?}");
        let window = Window {
            window_s: 2.5,
            samples: 100,
            missed: 0,
            mean_in_flight: 4.0,
            max_in_flight: 4,
            handler_mean_ms: 1000.0,
            handler_count: 12,
        };
        let step = Step {
            target_rate: 400.0,
            achieved_rate: kit_load::capacity::steady_rate(&attack),
            p50_ms: 2000.0,
            p99_ms: 3700.0,
            little: Some(Little::of(window)),
            little_missing: None,
            saturated: Some("164 x 503, 1024 timeouts".into()),
            attack,
        };
        Capacity {
            url: "http://127.0.0.1:1/parallel".into(),
            path: "/parallel".into(),
            variant: Some("blocking-wrapper".into()),
            slots: Some(4),
            queue,
            t_s: 1.0,
            predicted_rate: Some(4.0),
            p99_limit_ms: 5000.0,
            steps: vec![step],
        }
    }

    /// answered + failed == sent, on the page: 12 + 164 + 1024 = 1200, not
    /// "176 answered and 1188 failed" of 1200.
    #[test]
    fn every_request_sent_is_counted_once_and_the_sum_is_shown() {
        let c = wrapper(Some(1024));
        let text = outcomes(&c.steps[0].attack);
        assert!(text.contains("of 1200 requests sent, 12 were answered 2xx, 164 were answered 503 and 1024 timed out (12"), "{text}");
        assert!(text.contains("(12 + 164 + 1024 = 1200)"), "{text}");
    }

    /// Achieved is the 2xx (4/s between the first and the last), never more
    /// than what the server itself finished (4.8/s); and the sentence that
    /// compares them agrees with the numbers it prints.
    #[test]
    fn achieved_is_the_2xx_and_agrees_with_the_servers_own_count() {
        let c = wrapper(Some(1024));
        let s = &c.steps[0];
        assert!((s.achieved_rate - 4.0).abs() < 1e-9, "{}", s.achieved_rate);
        assert!(s.achieved_rate <= s.little.as_ref().unwrap().throughput);
        let text = story(std::slice::from_ref(&c), Duration::from_secs(5));
        assert!(text.contains("it achieved 4.0/s (2xx answers"), "{text}");
        assert!(
            text.contains("finished 4.8/s in its handlers")
                && text.contains(": too few in its window to compare"),
            "{text}"
        );
        // With enough requests in its window, the comparison is made, in the direction of the numbers.
        let mut busy = wrapper(Some(1024));
        let l = busy.steps[0].little.as_mut().unwrap();
        l.window.handler_count = 24;
        *l = Little::of(l.window.clone());
        let text = story(&[busy], Duration::from_secs(5));
        assert!(
            text.contains("finished 9.6/s in its handlers")
                && text.contains("more than the clients' 4.0/s"),
            "{text}"
        );
        assert!(!text.contains("31.3") && !text.contains("fewer answers than that"), "{text}");
    }

    /// A bounded queue is described as bounded, with its 503s, never as
    /// growing for as long as the attack lasts; an unknown bound still gets
    /// the growth, from the server's own rate.
    #[test]
    fn a_bounded_queue_is_not_described_as_growing_without_bound() {
        let text = story(&[wrapper(Some(1024))], Duration::from_secs(5));
        assert!(!text.contains("grows") && !text.contains("grew"), "{text}");
        assert!(
            text.contains("it holds 1024 requests")
                && text.contains(
                    "answered 503 at once: 164 times, the first in the interval from 2 s"
                ),
            "{text}"
        );
        // The model's time to fill it: 1024 / (400 - 4) = 2.6 s, next to the measured 2 s interval.
        assert!(text.contains("the model puts it full at 1024 / (400 - 4.0) = 2.6 s"), "{text}");
        assert!(text.contains("1024 requests got no answer within the 5.00 s timeout"), "{text}");
        let unbounded = story(&[wrapper(None)], Duration::from_secs(5));
        assert!(unbounded.contains("grew by about 400 - 4.8 = 395.2/s"), "{unbounded}");
    }

    #[test]
    fn the_table_over_time_shows_503s_as_what_they_are() {
        let text = over_time(&[wrapper(Some(1024))]);
        assert!(text.contains("| blocking-wrapper /parallel |"), "{text}");
        assert!(
            text.contains("| 2 | 0.0/s + 100 x 5xx |") && text.contains("| 3 | 0.0/s + 64 x 5xx |"),
            "{text}"
        );
    }
}

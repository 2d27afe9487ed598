//! `kit attack`'s charts: the open loop over time, as the original demo's
//! vegeta and jplot pictures showed it. Four charts, PNG and SVG, in the
//! race's style (same font, frame, legend and axis text):
//! - `attack-latency`: every request as a point at its due time (2xx, other
//!   answers, 5xx and requests with no answer each in their own colour),
//!   with the p50 and p99 of each interval's 2xx (in the manner of `vegeta plot`);
//! - `attack-throughput`: sent vs achieved (2xx) per interval, against the
//!   target, with the 5xx and the requests with no answer per interval;
//! - `attack-in-flight`: the client's in flight and the server's own, as
//!   the samples they are (points, not lines: nothing was measured between);
//! - `attack-heatmap`: time on x, log latency buckets on y, 2xx counts as colour.
//!
//! Achieved means a 2xx within the deadline, everywhere: a full queue's
//! fast 503s and the timeouts are drawn as what they are, never as answers.

use kit_load::attack::AttackResult;
use kit_load::intervals::{Interval, Outcome, Point, Series};

use super::*;

const SENT: RGBColor = RGBColor(31, 119, 180);
const ACHIEVED: RGBColor = RGBColor(44, 160, 44);
const P50: RGBColor = RGBColor(255, 127, 14);
const P99: RGBColor = RGBColor(214, 39, 40);
const SERVER: RGBColor = RGBColor(148, 103, 189);
/// 5xx answers: brown, never the p99's red.
const SERVER_ERROR: RGBColor = RGBColor(140, 86, 75);
/// Requests that got no answer (a timeout, a reset).
const NO_ANSWER: RGBColor = RGBColor(20, 20, 20);
/// Answers that are neither 2xx nor 5xx (a 404...).
const OTHER: RGBColor = RGBColor(188, 189, 34);
/// The heatmap's busiest cell; empty cells stay white.
const HEAT: RGBColor = RGBColor(8, 48, 107);
/// Points drawn at most: an SVG of every one of 100,000 responses would
/// weigh megabytes and draw the same picture.
const DRAWN_POINTS: usize = 50_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AttackChart {
    Latency,
    Throughput,
    InFlight,
    Heatmap,
}

const ATTACK_CHARTS: [AttackChart; 4] =
    [AttackChart::Latency, AttackChart::Throughput, AttackChart::InFlight, AttackChart::Heatmap];

impl AttackChart {
    fn name(self) -> &'static str {
        match self {
            AttackChart::Latency => "attack-latency",
            AttackChart::Throughput => "attack-throughput",
            AttackChart::InFlight => "attack-in-flight",
            AttackChart::Heatmap => "attack-heatmap",
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        area: &DrawingArea<DB, Shift>,
        r: &AttackResult,
    ) -> Result<(), ChartError> {
        let th = Theme::FULL;
        if r.series.intervals.is_empty() {
            return no_data(area, &format!("{}: {}", self.name(), r.url), "no intervals", th);
        }
        match self {
            AttackChart::Latency => draw_latency_points(area, r, th),
            AttackChart::Throughput => draw_throughput(area, r, th),
            AttackChart::InFlight => draw_in_flight(area, r, th),
            AttackChart::Heatmap => draw_heatmap(area, r, th),
        }
    }
}

/// Writes the four charts as `<name>.png` and `<name>.svg` into `dir`
/// (created if missing) and returns the paths written.
pub fn write_attack(result: &AttackResult, dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    register_font()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| ChartError(format!("cannot create {}: {e}", dir.display())))?;
    let mut written = Vec::new();
    for chart in ATTACK_CHARTS {
        let png = dir.join(format!("{}.png", chart.name()));
        present(BitMapBackend::new(&png, SIZE).into_drawing_area(), &png, |a| {
            chart.draw(a, result)
        })?;
        let svg = dir.join(format!("{}.svg", chart.name()));
        present(SVGBackend::new(&svg, SIZE).into_drawing_area(), &svg, |a| chart.draw(a, result))?;
        written.extend([png, svg]);
    }
    Ok(written)
}

type Plot<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;

/// Time on x (seconds after the first due time), `y` on y (linear, or a
/// log scale), the axes in the race's style.
fn time_plot<'a, DB, Y>(
    body: &'a DrawingArea<DB, Shift>,
    s: &Series,
    y: Y,
    y_desc: &str,
    th: Theme,
) -> Result<Plot<'a, DB, Y::CoordDescType>, ChartError>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let x_max = s.intervals.last().map_or(1.0, |i| i.end_s).max(1e-3);
    panel(body, 0.0..x_max, y, ("time since the first request was due (s)", y_desc), fmt_num, th)
}

fn title(r: &AttackResult, what: &str) -> String {
    match r.ramp {
        Some(ramp) => {
            format!("{what}: {} at {}..{}/s", r.url, fmt_num(ramp.from), fmt_num(ramp.to))
        }
        None => format!("{what}: {} at {}/s", r.url, fmt_num(r.target_rate)),
    }
}

/// Each complete interval's value, at the interval's middle.
fn per_interval(s: &Series, value: impl Fn(&Interval) -> Option<f64>) -> Vec<(f64, f64)> {
    complete(s).filter_map(|i| Some(((i.start_s + i.end_s) / 2.0, value(i)?))).collect()
}

/// A measured line with its points marked; `width` in the theme's pixels.
fn line<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut Plot<'_, DB, Y>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    width: f64,
    th: Theme,
) -> Result<(), ChartError> {
    let point = th.px(width + 2.0).max(2) as u32;
    chart.draw_series(
        LineSeries::new(points, color.stroke_width(th.px(width).max(1) as u32).filled())
            .point_size(point),
    )?;
    Ok(())
}

/// The intervals that lasted the whole interval (all of them if none did).
/// The last one is cut short by the end of the run: a few stragglers in a
/// fraction of a second would draw a rate or latency spike that never was.
fn complete(s: &Series) -> impl Iterator<Item = &Interval> {
    let whole = |i: &Interval| i.seconds() >= s.interval_s * 0.999;
    let any = s.intervals.iter().any(whole);
    s.intervals.iter().filter(move |i| !any || whole(i))
}

fn draw_latency_points<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AttackResult,
    th: Theme,
) -> Result<(), ChartError> {
    let s = &r.series;
    let all = &s.points.points;
    // Drawn: an even 1 in `stride` of what was kept (itself 1 in `every`).
    let stride = all.len().div_ceil(DRAWN_POINTS).max(1);
    let shown_every = s.points.every * stride as u64;
    let which = if shown_every == 1 {
        "each response".to_string()
    } else {
        format!("1 in {shown_every} responses")
    };
    let p50 =
        per_interval(s, |i| (i.ok_response_time.count > 0).then_some(i.ok_response_time.p50_ms));
    let p99 =
        per_interval(s, |i| (i.ok_response_time.count > 0).then_some(i.ok_response_time.p99_ms));
    let values = || all.iter().map(|p| f64::from(p.ms)).chain(p99.iter().chain(&p50).map(|p| p.1));
    let hi = values().fold(0.0, f64::max).max(1e-3);
    let lo = values().filter(|v| *v > 0.0).fold(hi, f64::min);
    // Only the kinds that happened, each with its count in the whole run.
    let count = |o: Outcome| all.iter().filter(|p| p.outcome == o).count() as u64 * s.points.every;
    let ok_label = format!("2xx answer ({which} drawn, at its due time)");
    let mut legend = vec![Entry::new(&ok_label, SENT, Mark::Box)];
    for (o, color, what) in [
        (Outcome::Other, OTHER, "other answer (4xx)"),
        (Outcome::ServerError, SERVER_ERROR, "5xx answer"),
        (Outcome::Timeout, NO_ANSWER, "no answer: timed out (at the time it gave up)"),
        (Outcome::Failed, NO_ANSWER, "no answer: failed"),
    ] {
        let n = count(o);
        if n > 0 {
            let about = if s.points.every > 1 { "about " } else { "" };
            legend.push(Entry::new(&format!("{what}: {about}{n}"), color, Mark::Box));
        }
    }
    // The lines are per interval of *answer*, the points at their *due* time: said, so that
    // a queue's answers (due early, answered late) are not read as one moment.
    legend.push(Entry::new(
        "p50 of the 2xx answered in each whole interval (at its middle)",
        P50,
        Mark::Line,
    ));
    legend.push(Entry::new("p99 of the same", P99, Mark::Line));
    let body = frame(area, &title(r, "Response time over time"), &legend, th)?;
    // A log axis as soon as the spread is wide: a queue's seconds would
    // flatten a fast server's milliseconds to the floor.
    let log = wide_range(values());
    // A few points (a drowned server's handful of 2xx) are drawn larger, or they vanish.
    let dot = if all.len() / stride < 1000 { 4.0 } else { 2.0 };
    let layers = Layers { points: all.iter().step_by(stride), p50, p99, dot };
    if log {
        let y = (lo * 0.8..hi * 1.5).log_scale();
        layers.draw(time_plot(&body, s, y, "response time from due (ms, log scale)", th)?, th)
    } else {
        layers.draw(time_plot(&body, s, 0.0..hi * 1.1, "response time from due (ms)", th)?, th)
    }
}

/// What the latency chart draws, on either y axis.
struct Layers<'a, I: Iterator<Item = &'a Point>> {
    points: I,
    p50: Vec<(f64, f64)>,
    p99: Vec<(f64, f64)>,
    /// The points' radius, in the theme's pixels.
    dot: f64,
}

impl<'a, I: Iterator<Item = &'a Point>> Layers<'a, I> {
    fn draw<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        self,
        mut chart: Plot<'_, DB, Y>,
        th: Theme,
    ) -> Result<(), ChartError> {
        let dot = th.px(self.dot).max(1);
        let mut failures = Vec::new();
        chart.draw_series(self.points.filter_map(|p| {
            let at = (f64::from(p.due_s), f64::from(p.ms));
            let color = match p.outcome {
                Outcome::Ok => SENT,
                Outcome::Other => OTHER,
                Outcome::ServerError => SERVER_ERROR,
                // Drawn after the answers, as crosses: they are no answer at all.
                Outcome::Timeout | Outcome::Failed => {
                    failures.push(at);
                    return None;
                }
            };
            Some(Circle::new(at, dot, color.mix(0.5).filled()))
        }))?;
        let arm = th.px(4.0).max(2);
        chart.draw_series(
            failures
                .into_iter()
                .map(|at| Cross::new(at, arm, NO_ANSWER.stroke_width(th.px(1.5).max(1) as u32))),
        )?;
        // p50 last and thinner: where the two agree, both colours still show.
        line(&mut chart, self.p99, P99, 5.0, th)?;
        line(&mut chart, self.p50, P50, 2.5, th)
    }
}

fn draw_throughput<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AttackResult,
    th: Theme,
) -> Result<(), ChartError> {
    let s = &r.series;
    let sent = per_interval(s, |i| Some(i.sent_rate()));
    let achieved = per_interval(s, |i| Some(i.ok_rate()));
    let refused = per_interval(s, |i| Some(i.server_error_rate()));
    let failed = per_interval(s, |i| Some(i.failed_rate()));
    let any = |v: &[(f64, f64)]| v.iter().any(|p| p.1 > 0.0);
    let hi = sent
        .iter()
        .chain(&achieved)
        .chain(&refused)
        .chain(&failed)
        .map(|p| p.1)
        .fold(r.ramp.map_or(r.target_rate, |ramp| ramp.from.max(ramp.to)), f64::max);
    let target = match r.ramp {
        Some(ramp) => {
            format!("target: a ramp from {}/s to {}/s", fmt_num(ramp.from), fmt_num(ramp.to))
        }
        None => format!("target {}/s", fmt_num(r.target_rate)),
    };
    let mut legend = vec![
        Entry::new(&target, GREY, Mark::Dashed),
        Entry::new("sent per second", SENT, Mark::Line),
        Entry::new("achieved: 2xx answers per second (whole intervals)", ACHIEVED, Mark::Line),
    ];
    if any(&refused) {
        legend.push(Entry::new(
            &format!("5xx answers per second ({} in all)", r.server_errors()),
            SERVER_ERROR,
            Mark::Line,
        ));
    }
    if any(&failed) {
        legend.push(Entry::new(
            &format!("no answer (timeouts...) per second ({} in all)", r.failed()),
            NO_ANSWER,
            Mark::Line,
        ));
    }
    let body = frame(area, &title(r, "Throughput per interval"), &legend, th)?;
    let mut chart = time_plot(&body, s, 0.0..hi * 1.15, "requests per second", th)?;
    let x_max = s.intervals.last().map_or(1.0, |i| i.end_s);
    let dash = th.px(12.0).max(2);
    // A ramp's target is each interval's due requests per second, at the
    // interval's middle as the sent line's are; a constant one, flat.
    let target_line = match r.ramp {
        Some(_) => per_interval(s, |i| Some(i.target_rate())),
        None => vec![(0.0, r.target_rate), (x_max, r.target_rate)],
    };
    chart.draw_series(DashedLineSeries::new(
        target_line,
        dash,
        dash * 2 / 3,
        GREY.stroke_width(th.px(3.0) as u32),
    ))?;
    line(&mut chart, sent, SENT, 4.0, th)?;
    if any(&refused) {
        line(&mut chart, refused, SERVER_ERROR, 3.0, th)?;
    }
    if any(&failed) {
        line(&mut chart, failed, NO_ANSWER, 3.0, th)?;
    }
    line(&mut chart, achieved, ACHIEVED, 4.0, th)
}

fn draw_in_flight<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AttackResult,
    th: Theme,
) -> Result<(), ChartError> {
    let s = &r.series;
    // Nothing is in flight before the first send.
    let client: Vec<(f64, f64)> = [(0.0, 0.0)]
        .into_iter()
        .chain(s.intervals.iter().map(|i| (i.end_s, i.in_flight as f64)))
        .collect();
    let server: Vec<(f64, f64)> =
        s.server_samples.iter().map(|p| (p.t_s, p.in_flight as f64)).collect();
    let hi = client.iter().chain(&server).map(|p| p.1).fold(1.0, f64::max);
    let every = match &s.server {
        kit_load::sampler::ServerWatch::Sampled { every_ms, .. } => format!("every {every_ms} ms"),
        _ => "when asked".into(),
    };
    let server_label = if server.is_empty() {
        format!("server: {}", s.server.describe())
    } else {
        format!("server's own in_flight, sampled from /metrics {every} (one point per sample)")
    };
    // Samples, drawn as points: neither count was measured between them,
    // and a line would say it held (or moved straight) in between.
    let most = |v: &[(f64, f64)]| v.iter().map(|p| p.1).fold(0.0, f64::max);
    let server_label = if server.is_empty() {
        server_label
    } else {
        format!("{server_label}: at most {}", most(&server))
    };
    let legend = [
        Entry::new(
            &format!("client: sent - finished, exact at each interval's end (one point per {}): at most {}", secs(s.interval_s), most(&client)),
            SENT,
            Mark::Box,
        ),
        Entry::new(&server_label, SERVER, Mark::Box),
    ];
    let body = frame(area, &title(r, "Requests in flight, sampled"), &legend, th)?;
    let mut chart = time_plot(&body, s, 0.0..hi * 1.15, "requests in flight", th)?;
    // The client's few large points under the server's many small ones, both filled like their swatches.
    let (big, small) = (th.px(7.0).max(3), th.px(3.5).max(2));
    chart.draw_series(client.into_iter().map(|p| Circle::new(p, big, SENT.filled())))?;
    chart.draw_series(server.into_iter().map(|p| Circle::new(p, small, SERVER.filled())))?;
    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &AttackResult,
    th: Theme,
) -> Result<(), ChartError> {
    let s = &r.series;
    let edges = &s.bucket_edges_ms;
    // The 2xx alone: a full queue's fast 503s would draw a dark band of
    // "fast answers" at the bottom.
    let max = s.intervals.iter().flat_map(|i| i.ok_buckets.iter().copied()).max().unwrap_or(0);
    let used = |b: usize| s.intervals.iter().any(|i| i.ok_buckets.get(b).is_some_and(|&c| c > 0));
    let buckets = edges.len() + 1;
    let found = ((0..buckets).find(|&b| used(b)), (0..buckets).rev().find(|&b| used(b)));
    let (Some(first), Some(last), false) = (found.0, found.1, edges.is_empty()) else {
        return no_data(area, &title(r, "Latency heatmap of the 2xx"), "no 2xx answers", th);
    };
    // Bucket b spans [edge b-1, edge b); the open ends get one step (a
    // fifth of a decade) of height.
    let step = 10f64.powf(0.2);
    let span = |b: usize| -> (f64, f64) {
        let top = edges.get(b).copied().unwrap_or(edges[edges.len() - 1] * step);
        let bottom = if b == 0 { top / step } else { edges[b - 1] };
        (bottom, top)
    };
    let (y_lo, _) = span(first);
    let (_, y_hi) = span(last);
    let mut legend = vec![Entry::new(
        &format!("2xx answers per cell: white = none, darkest = {max}"),
        HEAT,
        Mark::Box,
    )];
    let (refused, failed) = (r.server_errors(), r.failed());
    if refused + failed > 0 {
        legend.push(Entry::new(
            &format!("not in it: {refused} x 5xx, {failed} with no answer"),
            SERVER_ERROR,
            Mark::Box,
        ));
    }
    let body = frame(
        area,
        &title(r, "Latency heatmap of the 2xx (response time from due, per interval)"),
        &legend,
        th,
    )?;
    let mut chart =
        time_plot(&body, s, (y_lo..y_hi).log_scale(), "response time (ms, log scale)", th)?;
    let shade = |count: u64| {
        // Log scale: one slow response in ten thousand must still show.
        let t = ((count as f64).ln_1p() / (max as f64).ln_1p()).clamp(0.0, 1.0);
        let mix = |a: u8, b: u8| {
            (f64::from(a) + (f64::from(b) - f64::from(a)) * (0.15 + 0.85 * t)).round() as u8
        };
        RGBColor(mix(255, HEAT.0), mix(255, HEAT.1), mix(255, HEAT.2))
    };
    chart.draw_series(s.intervals.iter().flat_map(|i| {
        i.ok_buckets.iter().enumerate().filter(|(_, &c)| c > 0).map(move |(b, &c)| {
            let (bottom, top) = span(b);
            Rectangle::new([(i.start_s, bottom), (i.end_s, top)], shade(c).filled())
        })
    }))?;
    Ok(())
}

/// "1 s", "0.25 s".
fn secs(s: f64) -> String {
    if (s - s.round()).abs() < 1e-9 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit_measure::latency::Summary;

    /// A drowned wrapper: 4 answers of 2xx at 1-4 s, 503s at 0.3 ms from
    /// 2.6 s on, timeouts at 5 s. Nothing of it may be drawn as achieved.
    fn drowned() -> AttackResult {
        let summary = serde_json::to_value(Summary::default()).unwrap();
        let ok_time = serde_json::to_value(Summary {
            count: 1,
            min_ms: 1000.0,
            p50_ms: 1000.0,
            p99_ms: 1000.0,
            max_ms: 1000.0,
            ..Summary::default()
        })
        .unwrap();
        let intervals: Vec<_> = (0..6u32)
            .map(|i| {
                let refused = if (2..5).contains(&i) { 100 } else { 0 };
                let timeouts = if i == 5 { 50 } else { 0 };
                let ok = u64::from((1..5).contains(&i));
                serde_json::json!({"start_s": f64::from(i), "end_s": f64::from(i + 1), "sent": 100, "answered": ok + refused,
                    "ok": ok, "server_errors": refused, "failed": timeouts, "timeouts": timeouts, "errors": refused + timeouts,
                    "late": 0, "in_flight": 40, "response_time": summary, "ok_response_time": if ok > 0 { &ok_time } else { &summary },
                    "buckets": vec![0; 32], "ok_buckets": (0..32).map(|b| u64::from(b == 15 && ok > 0)).collect::<Vec<_>>(), "server": null})
            })
            .collect();
        let mut r: AttackResult = serde_json::from_value(serde_json::json!({
            "url": "http://127.0.0.1:1/parallel", "target_rate": 100.0, "achieved_rate": 0.7, "sent_rate": 100.0,
            "requests": 354, "completed": 304, "ok": 4, "errors": 350, "late": 0, "dropped": 0,
            "status_counts": {"200": 4, "503": 300}, "error_kinds": {"timeout": 50}, "elapsed_s": 6.0,
            "service_time": summary, "response_time": summary,
            "series": {"interval_s": 1.0, "bucket_edges_ms": kit_load::intervals::bucket_edges().iter().map(|e| e.as_secs_f64() * 1000.0).collect::<Vec<_>>(),
                "server": {"status": "sampled", "variant": "blocking-wrapper", "every_ms": 200, "samples": 3, "failed": 0},
                "server_samples": [{"t_s": 0.2, "in_flight": 4, "executor_lag_ms": null}, {"t_s": 0.4, "in_flight": 4, "executor_lag_ms": null}],
                "intervals": intervals}
        }))
        .unwrap();
        let point = |due_s: f32, ms: f32, outcome: Outcome| Point { due_s, ms, outcome };
        let mut points: Vec<Point> =
            (1..5).map(|i| point(0.01 * i as f32, 1000.0 * i as f32, Outcome::Ok)).collect();
        points.extend((0..300).map(|i| point(2.6 + i as f32 / 100.0, 0.3, Outcome::ServerError)));
        points.extend((0..50).map(|i| point(0.05 + i as f32 / 100.0, 5000.0, Outcome::Timeout)));
        r.series.points.points = points;
        r
    }

    /// Every chart says what its marks are: the 503s and the timeouts by
    /// name and count, never as achieved; in flight as samples.
    #[test]
    fn five_hundreds_and_timeouts_are_drawn_as_what_they_are() {
        let dir = std::env::temp_dir().join(format!("kit-attack-charts-{}", std::process::id()));
        let r = drowned();
        assert!(r.outcomes_add_up(), "{r:?}");
        write_attack(&r, &dir).unwrap();
        let svg = |name: &str| std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
        let latency = svg("attack-latency");
        for needle in [
            "5xx answer: 300",
            "no answer: timed out (at the time it gave up): 50",
            "p50 of the 2xx",
        ] {
            assert!(latency.contains(needle), "attack-latency: {needle}");
        }
        let throughput = svg("attack-throughput");
        for needle in [
            "achieved: 2xx answers per second",
            "5xx answers per second (300 in all)",
            "(50 in all)",
        ] {
            assert!(throughput.contains(needle), "attack-throughput: {needle}");
        }
        let in_flight = svg("attack-in-flight");
        assert!(
            in_flight.contains("sampled")
                && in_flight.contains("at most 40")
                && in_flight.contains("at most 4"),
            "attack-in-flight"
        );
        // Points, not lines: no polyline joins the samples (the frame's own
        // lines are straight, two points each).
        let joined = in_flight
            .split("<polyline")
            .skip(1)
            .filter(|p| {
                p.split("points=\"").nth(1).is_some_and(|pts| {
                    pts.split('"').next().unwrap_or_default().split_whitespace().count() > 2
                })
            })
            .count();
        assert_eq!(joined, 0, "attack-in-flight draws lines between samples");
        let heat = svg("attack-heatmap");
        assert!(
            heat.contains("2xx answers per cell")
                && heat.contains("not in it: 300 x 5xx, 50 with no answer"),
            "attack-heatmap"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A ramp's chart names its ends, in the title and the target's entry.
    #[test]
    fn a_ramps_target_is_named_by_its_ends() {
        let dir = std::env::temp_dir().join(format!("kit-attack-ramp-{}", std::process::id()));
        let mut r = drowned();
        r.ramp = Some(kit_load::attack::Rate::ramp(50.0, 150.0));
        for (k, i) in r.series.intervals.iter_mut().enumerate() {
            i.target = 50 + 20 * k as u64;
        }
        write_attack(&r, &dir).unwrap();
        let throughput = std::fs::read_to_string(dir.join("attack-throughput.svg")).unwrap();
        assert!(
            throughput.contains("a ramp from 50/s to 150/s") && throughput.contains("at 50..150/s"),
            "attack-throughput"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

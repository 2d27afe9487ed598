//! The hockey stick: achieved throughput (2xx answers) and their p99
//! against the offered rate, one curve per server, next to the slot
//! model's s / t, dashed in the server's own colour. The top row spans
//! every rate on log axes; where servers have a slot limit, the bottom
//! row zooms in on their rates on linear axes, where the knee at s / t is
//! a knee and not a dot in a corner.

use kit_load::capacity::{Capacity, Step};

use super::*;

/// The "achieved = offered" diagonal: the same grey in the legend and on the chart.
const DIAGONAL: RGBColor = RGBColor(110, 110, 110);

/// Writes `capacity.png` and `capacity.svg` into `dir`.
pub fn write_capacity(all: &[Capacity], dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    let size =
        if all.iter().any(|c| c.predicted_rate.is_some()) { (1600, 1240) } else { (1600, 720) };
    write_picture(dir, "capacity", size, &CapacityChart(all))
}

struct CapacityChart<'a>(&'a [Capacity]);

impl Picture for CapacityChart<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let th = Theme::FULL;
        let all = self.0;
        let title = "Open loop at rising rates: achieved keeps up until s/t, then latency climbs (the hockey stick)";
        let points = all.iter().flat_map(|c| &c.steps);
        if points.clone().next().is_none() {
            return no_data(area, title, "no steps measured", th);
        }
        let mut legend: Vec<Entry> =
            all.iter().map(|c| Entry { mark: Mark::Line, ..Entry::variant(&name(c)) }).collect();
        // Each server's s/t is dashed in its own colour, so each gets its own entry.
        for c in all {
            if let Some(p) = c.predicted_rate {
                legend.push(Entry::new(
                    &format!("{} s/t = {p:.1}/s", name(c)),
                    variant_color(&name(c)),
                    Mark::Dashed,
                ));
            }
        }
        legend.push(Entry::new("achieved = offered", DIAGONAL, Mark::Dashed));
        let body = frame(area, title, &legend, th)?;
        let bounded: Vec<Capacity> =
            all.iter().filter(|c| c.predicted_rate.is_some()).cloned().collect();
        let (top, bottom) = if bounded.is_empty() {
            (body, None)
        } else {
            let (top, bottom) = body.split_vertically(body.dim_in_pixel().1 / 2);
            (top, Some(bottom))
        };
        let (left, right) = top.split_horizontally(top.dim_in_pixel().0 / 2);
        let offered: Vec<f64> = points.clone().map(|s| s.target_rate).collect();
        let x = span(offered.iter().copied());
        let achieved = points
            .clone()
            .map(|s| s.achieved_rate)
            .chain(all.iter().filter_map(|c| c.predicted_rate));
        let y = span(achieved.chain(offered.iter().copied()));
        throughput_panel(&left, all, x.clone(), y, th)?;
        // Only what is drawn sets the range (the p99 limits are not drawn).
        let p99 = span(points.map(|s| s.p99_ms));
        latency_panel(&right, all, x, p99, th)?;
        match bottom {
            Some(bottom) => zoom(&bottom, all, &bounded, th),
            None => Ok(()),
        }
    }
}

/// The bottom row: the rates of the servers with a slot limit, on linear
/// axes, achieved and p99 against offered; the other servers' steps that
/// fall in the same rates are drawn too, for contrast.
fn zoom<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    all: &[Capacity],
    bounded: &[Capacity],
    th: Theme,
) -> Result<(), ChartError> {
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    let steps = || bounded.iter().flat_map(|c| &c.steps);
    let x_hi = steps().map(|s| s.target_rate).fold(0.0, f64::max) * 1.1;
    let x = 0.0..x_hi;
    let y_hi = steps()
        .map(|s| s.achieved_rate)
        .chain(bounded.iter().filter_map(|c| c.predicted_rate))
        .fold(0.0, f64::max)
        .max(x_hi)
        * 1.05;
    let order = |c: &Capacity| {
        all.iter().position(|a| a.variant == c.variant && a.url == c.url).unwrap_or(0)
    };
    let mut chart =
        linear_axes(&left, x.clone(), 0.0..y_hi, "achieved (2xx answers/s), near s/t", th)?;
    let dash = th.px(12.0).max(2);
    chart.draw_series(DashedLineSeries::new(
        [(0.0, 0.0), (x_hi, x_hi)],
        dash,
        dash / 2,
        DIAGONAL.stroke_width(th.px(3.0).max(1) as u32),
    ))?;
    for c in bounded {
        if let Some(p) = c.predicted_rate {
            let width = th.px(2.0 + widen(all, order(c))).max(1) as u32;
            chart.draw_series(DashedLineSeries::new(
                [(0.0, p), (x_hi, p)],
                dash,
                dash * 2 / 3,
                variant_color(&name(c)).stroke_width(width),
            ))?;
        }
    }
    let inside = |c: &'_ Capacity| {
        c.steps.iter().filter(|s| s.target_rate <= x_hi).cloned().collect::<Vec<Step>>()
    };
    for c in all {
        let pts: Vec<(f64, f64)> =
            inside(c).iter().map(|s| (s.target_rate, s.achieved_rate.min(y_hi))).collect();
        chart.draw_series(curve_series(pts, variant_color(&name(c)), widen(all, order(c)), th))?;
    }
    let p99_hi = all.iter().flat_map(inside).map(|s| s.p99_ms).fold(0.0, f64::max) * 1.1;
    let mut chart =
        linear_axes(&right, x, 0.0..p99_hi.max(1.0), "p99 of the 2xx (ms), near s/t", th)?;
    for c in all {
        let pts: Vec<(f64, f64)> = inside(c)
            .iter()
            .filter(|s| s.p99_ms > 0.0)
            .map(|s| (s.target_rate, s.p99_ms))
            .collect();
        chart.draw_series(curve_series(pts, variant_color(&name(c)), widen(all, order(c)), th))?;
    }
    Ok(())
}

fn linear_axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: Range<f64>,
    y: Range<f64>,
    y_desc: &str,
    th: Theme,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ChartError> {
    panel(area, x, y, ("offered rate (requests/s)", y_desc), fmt_num, th)
}

fn name(c: &Capacity) -> String {
    c.variant.clone().unwrap_or_else(|| c.url.clone())
}

/// A log axis around every positive value, with some air. It starts at a
/// power of ten: plotters puts its first tick at the first power of ten
/// inside the range, so a range from 335 ms had no tick below 1000 ms.
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo.is_finite() {
        10f64.powf((lo / 1.2).log10().floor())..hi * 1.5
    } else {
        0.1..10.0
    }
}

/// plotters puts a tick at every 1..9 x 10^k on a log axis, and the labels
/// collide: only 1, 2 and 5 x 10^k are labelled.
fn log_tick(v: f64) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let lead = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0].iter().any(|d| (lead - d).abs() < 0.01) {
        fmt_num(v)
    } else {
        String::new()
    }
}

type LogChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, LogCoord<f64>>>;

fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: Range<f64>,
    y: Range<f64>,
    y_desc: &str,
    th: Theme,
) -> Result<LogChart<'a, DB>, ChartError> {
    panel(
        area,
        x.log_scale(),
        y.log_scale(),
        ("offered rate (requests/s, log scale)", y_desc),
        log_tick,
        th,
    )
}

fn throughput_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    all: &[Capacity],
    x: Range<f64>,
    y: Range<f64>,
    th: Theme,
) -> Result<(), ChartError> {
    let mut chart = axes(area, x.clone(), y, "achieved (2xx answers/s, log scale)", th)?;
    let dash = th.px(12.0).max(2);
    chart.draw_series(DashedLineSeries::new(
        [(x.start, x.start), (x.end, x.end)],
        dash,
        dash / 2,
        DIAGONAL.stroke_width(th.px(3.0).max(1) as u32),
    ))?;
    for (i, c) in all.iter().enumerate() {
        if let Some(p) = c.predicted_rate {
            let width = th.px(2.0 + widen(all, i)).max(1) as u32;
            chart.draw_series(DashedLineSeries::new(
                [(x.start, p), (x.end, p)],
                dash,
                dash * 2 / 3,
                variant_color(&name(c)).stroke_width(width),
            ))?;
        }
    }
    curves(&mut chart, all, |s| s.achieved_rate, th)
}

fn latency_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    all: &[Capacity],
    x: Range<f64>,
    y: Range<f64>,
    th: Theme,
) -> Result<(), ChartError> {
    let mut chart = axes(area, x, y, "p99 response time of the 2xx (ms, log scale)", th)?;
    curves(&mut chart, all, |s| s.p99_ms, th)
}

/// Earlier curves are drawn wider, so the three 4-slot servers, which lie
/// on top of each other, still show every colour.
fn widen(all: &[Capacity], i: usize) -> f64 {
    (all.len() - 1 - i) as f64
}

/// One curve per ladder: `value` of each step against its offered rate.
fn curves<DB: DrawingBackend>(
    chart: &mut LogChart<'_, DB>,
    all: &[Capacity],
    value: fn(&Step) -> f64,
    th: Theme,
) -> Result<(), ChartError> {
    for (i, c) in all.iter().enumerate() {
        let pts: Vec<(f64, f64)> =
            c.steps.iter().map(|s| (s.target_rate, value(s))).filter(|(_, v)| *v > 0.0).collect();
        curve(chart, pts, variant_color(&name(c)), widen(all, i), th)?;
    }
    Ok(())
}

fn curve<DB: DrawingBackend>(
    chart: &mut LogChart<'_, DB>,
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    widen: f64,
    th: Theme,
) -> Result<(), ChartError> {
    chart.draw_series(curve_series(pts, color, widen, th))?;
    Ok(())
}

/// One ladder's measured points, joined.
fn curve_series<DB: DrawingBackend>(
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    widen: f64,
    th: Theme,
) -> LineSeries<DB, (f64, f64)> {
    let width = th.px(3.0 + 2.0 * widen).max(1) as u32;
    let point = th.px(6.0 + 2.0 * widen).max(2) as u32;
    LineSeries::new(pts, color.stroke_width(width).filled()).point_size(point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit_measure::latency::Summary;

    fn capacity(variant: &str, slots: Option<u64>, rates: &[(f64, f64, f64)]) -> Capacity {
        let summary = serde_json::to_value(Summary::default()).unwrap();
        let steps = rates
            .iter()
            .map(|&(offered, achieved, p99)| {
                let attack = serde_json::json!({"url": "http://x/parallel", "target_rate": offered, "achieved_rate": achieved,
                    "sent_rate": offered, "requests": 10, "completed": 10, "ok": 10, "errors": 0, "late": 0, "dropped": 0,
                    "status_counts": {"200": 10}, "error_kinds": {}, "elapsed_s": 3.0, "service_time": summary, "response_time": summary});
                serde_json::json!({"target_rate": offered, "achieved_rate": achieved, "p50_ms": p99 / 2.0, "p99_ms": p99,
                    "little": null, "little_missing": "test", "saturated": null, "attack": attack})
            })
            .collect::<Vec<_>>();
        serde_json::from_value(serde_json::json!({"url": "http://x/parallel", "path": "/parallel", "variant": variant, "slots": slots,
            "t_s": 1.0, "predicted_rate": slots.map(|s| s as f64), "p99_limit_ms": 5000.0, "steps": steps}))
        .unwrap()
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        let be = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        (be(16), be(20))
    }

    /// A log axis starts at a power of ten, so plotters labels the values
    /// below the first one that was measured (503 ms got no tick below 1000).
    #[test]
    fn log_axes_start_at_a_power_of_ten() {
        let r = span([503.0, 2340.0].into_iter());
        assert_eq!(r.start, 100.0);
        assert!(r.end > 2340.0);
        assert_eq!(span([3.0, 6144.0].into_iter()).start, 1.0);
    }

    /// With a slot-limited server the chart gets its zoomed row, and every
    /// s/t line has a legend entry in its own colour; without one it keeps
    /// its single row.
    #[test]
    fn the_slot_limited_get_a_zoomed_row_and_a_legend_of_their_own() {
        let dir = std::env::temp_dir().join(format!("kit-capacity-chart-{}", std::process::id()));
        let four = capacity(
            "sync-blocking",
            Some(4),
            &[(3.0, 3.0, 1000.0), (3.6, 3.6, 1000.0), (4.4, 4.0, 1280.0), (5.0, 4.1, 1600.0)],
        );
        let native = capacity(
            "async-native",
            None,
            &[(3.0, 3.0, 503.0), (6.0, 6.0, 503.0), (12.0, 12.0, 503.0)],
        );
        let written = write_capacity(&[four, native.clone()], &dir).unwrap();
        assert_eq!(png_size(&std::fs::read(&written[0]).unwrap()), (1600, 1240));
        let svg = std::fs::read_to_string(&written[1]).unwrap();
        assert!(
            svg.contains("sync-blocking s/t = 4.0/s")
                && svg.contains("near s/t")
                && !svg.contains("slot model s/t (dashed)"),
            "legend"
        );
        let written = write_capacity(&[native], &dir).unwrap();
        assert_eq!(png_size(&std::fs::read(&written[0]).unwrap()), (1600, 720));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

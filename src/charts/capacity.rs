//! The hockey stick: achieved throughput (2xx answers) and their p99
//! against the offered rate, one curve per server, next to the slot
//! model's s / t, dashed in the server's own colour.

use super::*;
use crate::capacity::{Capacity, Step};

/// The "achieved = offered" diagonal: the same grey in the legend and on the chart.
const DIAGONAL: RGBColor = RGBColor(110, 110, 110);

/// Writes `capacity.png` and `capacity.svg` into `dir`.
pub fn write_capacity(all: &[Capacity], dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    write_picture(dir, "capacity", (1600, 720), &CapacityChart(all))
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
        let mut legend: Vec<Entry> = all.iter().map(|c| Entry { mark: Mark::Line, ..Entry::variant(&name(c)) }).collect();
        // Each server's s/t is dashed in its own colour, so each gets its own entry.
        for c in all {
            if let Some(p) = c.predicted_rate {
                legend.push(Entry::new(&format!("{} s/t = {}/s", name(c), fmt_num(p)), variant_color(&name(c)), Mark::Dashed));
            }
        }
        legend.push(Entry::new("achieved = offered", DIAGONAL, Mark::Dashed));
        let body = frame(area, title, &legend, th)?;
        let (left, right) = body.split_horizontally(body.dim_in_pixel().0 / 2);
        let offered: Vec<f64> = points.clone().map(|s| s.target_rate).collect();
        let x = span(offered.iter().copied());
        let achieved = points.clone().map(|s| s.achieved_rate).chain(all.iter().filter_map(|c| c.predicted_rate));
        let y = span(achieved.chain(offered.iter().copied()));
        throughput_panel(&left, all, x.clone(), y, th)?;
        let p99 = span(points.map(|s| s.p99_ms).chain(all.iter().map(|c| c.p99_limit_ms)));
        latency_panel(&right, all, x, p99, th)
    }
}

fn name(c: &Capacity) -> String {
    c.variant.clone().unwrap_or_else(|| c.url.clone())
}

/// A log axis around every positive value, with some air.
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values.filter(|v| v.is_finite() && *v > 0.0).fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo.is_finite() {
        lo / 1.5..hi * 1.5
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
    let mut chart = ChartBuilder::on(area)
        .margin(th.px(12.0))
        .margin_right(th.px(30.0))
        .x_label_area_size(th.px(70.0))
        .y_label_area_size(th.px(100.0))
        .build_cartesian_2d(x.log_scale(), y.log_scale())?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| log_tick(*v))
        .y_label_formatter(&|v| log_tick(*v))
        .x_desc("offered rate (requests/s, log scale)")
        .y_desc(y_desc)
        .axis_desc_style(th.axis())
        .label_style(th.tick())
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
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
    chart.draw_series(DashedLineSeries::new([(x.start, x.start), (x.end, x.end)], dash, dash / 2, DIAGONAL.stroke_width(th.px(3.0).max(1) as u32)))?;
    for (i, c) in all.iter().enumerate() {
        if let Some(p) = c.predicted_rate {
            let width = th.px(2.0 + widen(all, i)).max(1) as u32;
            chart.draw_series(DashedLineSeries::new([(x.start, p), (x.end, p)], dash, dash * 2 / 3, variant_color(&name(c)).stroke_width(width)))?;
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
fn curves<DB: DrawingBackend>(chart: &mut LogChart<'_, DB>, all: &[Capacity], value: fn(&Step) -> f64, th: Theme) -> Result<(), ChartError> {
    for (i, c) in all.iter().enumerate() {
        let pts: Vec<(f64, f64)> = c.steps.iter().map(|s| (s.target_rate, value(s))).filter(|(_, v)| *v > 0.0).collect();
        curve(chart, pts, variant_color(&name(c)), widen(all, i), th)?;
    }
    Ok(())
}

fn curve<DB: DrawingBackend>(chart: &mut LogChart<'_, DB>, pts: Vec<(f64, f64)>, color: RGBColor, widen: f64, th: Theme) -> Result<(), ChartError> {
    let width = th.px(3.0 + 2.0 * widen).max(1) as u32;
    let point = th.px(6.0 + 2.0 * widen).max(2) as u32;
    chart.draw_series(LineSeries::new(pts, color.stroke_width(width).filled()).point_size(point))?;
    Ok(())
}

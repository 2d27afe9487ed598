//! Bars, generic over what they show, and the category axis under them.

use super::*;

/// One bar: `slot` of `slots` side by side inside x category `group`.
pub(super) struct Bar {
    pub(super) group: usize,
    pub(super) slot: usize,
    pub(super) slots: usize,
    pub(super) value: Option<f64>,
    pub(super) color: RGBColor,
    pub(super) label: String,
    /// A prediction drawn as a black dash across the bar.
    pub(super) marker: Option<f64>,
}

impl Bar {
    pub(super) fn single(
        group: usize,
        variant: &str,
        value: Option<f64>,
        label: impl Fn(f64) -> String,
    ) -> Bar {
        Bar::grouped(group, 0, 1, variant, value, label)
    }

    pub(super) fn grouped(
        group: usize,
        slot: usize,
        slots: usize,
        variant: &str,
        value: Option<f64>,
        label: impl Fn(f64) -> String,
    ) -> Bar {
        Bar {
            group,
            slot,
            slots: slots.max(1),
            value,
            color: variant_color(variant),
            label: value.map_or_else(|| "n/a".to_string(), label),
            marker: None,
        }
    }

    /// Left and right edge in category units, leaving a small gap between bars.
    pub(super) fn span(&self) -> (f64, f64) {
        let width = 0.8 / self.slots as f64;
        let x0 = self.group as f64 - 0.4 + self.slot as f64 * width;
        let gap = width * 0.08;
        (x0 + gap, x0 + width - gap)
    }
}

pub(super) struct BarChart {
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) groups: Vec<String>,
    pub(super) bars: Vec<Bar>,
    /// A horizontal dashed line, e.g. "1×".
    pub(super) reference: Option<f64>,
    pub(super) log: bool,
}

impl BarChart {
    pub(super) fn values(&self) -> impl Iterator<Item = f64> + '_ {
        let bars = self.bars.iter().flat_map(|b| [b.value, b.marker]);
        bars.chain([self.reference]).flatten()
    }
}

pub(super) fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &BarChart,
    th: Theme,
) -> Result<(), ChartError> {
    let max = spec.values().fold(0.0, f64::max);
    let min_pos = spec.values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    if spec.log && min_pos.is_finite() {
        // Whole decades keep the log ticks readable; the top decade leaves room for labels.
        let lo = 10f64.powf(min_pos.log10().floor() - 0.3);
        let hi = 10f64.powf((max * 2.5).log10().ceil());
        bars_on(area, spec, th, (lo..hi).log_scale(), lo)
    } else {
        let hi = if max > 0.0 { max * 1.15 } else { 1.0 };
        bars_on(area, spec, th, 0.0..hi, 0.0)
    }
}

pub(super) fn bars_on<DB, Y>(
    area: &DrawingArea<DB, Shift>,
    spec: &BarChart,
    th: Theme,
    y: Y,
    base: f64,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let n = spec.groups.len().max(1);
    let ticks: Vec<f64> = (0..n).map(|i| i as f64).collect();
    // Show at least three categories' width, so one lone bar is not a wall.
    let pad = 0.5 + (3.0 - n as f64).max(0.0) / 2.0;
    let mut chart = ChartBuilder::on(area)
        .margin(th.px(12.0))
        .margin_right(th.px(30.0))
        .x_label_area_size(th.px(70.0))
        .y_label_area_size(th.px(100.0))
        .build_cartesian_2d(TickedAxis::new(-pad..n as f64 - 1.0 + pad, ticks), y)?;
    let groups = &spec.groups;
    let x_label = |v: &f64| groups.get(v.round().max(0.0) as usize).cloned().unwrap_or_default();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v| fmt_num(*v))
        .x_desc(spec.x_desc.as_str())
        .y_desc(spec.y_desc.as_str())
        .axis_desc_style(th.axis())
        .label_style(th.tick())
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    let top = |b: &Bar| b.value.unwrap_or(base).max(b.marker.unwrap_or(base)).max(base);
    chart.draw_series(spec.bars.iter().filter_map(|b| {
        let (x0, x1) = b.span();
        b.value.map(|v| Rectangle::new([(x0, base), (x1, v.max(base))], b.color.filled()))
    }))?;
    let dash = BLACK.stroke_width(th.px(5.0).max(1) as u32);
    chart.draw_series(spec.bars.iter().filter_map(|b| {
        let (x0, x1) = b.span();
        let pad = (x1 - x0) * 0.1;
        b.marker.map(|m| PathElement::new(vec![(x0 - pad, m), (x1 + pad, m)], dash))
    }))?;
    if let Some(r) = spec.reference {
        let line = vec![(-pad, r), (n as f64 - 1.0 + pad, r)];
        chart.draw_series([DashedPathElement::new(
            line,
            th.px(14.0),
            th.px(8.0),
            BLACK.stroke_width(2),
        )])?;
    }
    let label_style = th.value().pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(spec.bars.iter().map(|b| {
        let (x0, x1) = b.span();
        EmptyElement::at(((x0 + x1) / 2.0, top(b)))
            + Text::new(b.label.clone(), (0, -th.px(6.0)), label_style.clone())
    }))?;
    Ok(())
}

/// A linear axis whose ticks are exactly `ticks` (bar centres, measured N).
/// plotters' own `with_key_points` on an f64 range loses the label
/// formatter (no `ValueFormatter`), hence this small axis of our own.
#[derive(Clone, Debug)]
pub(super) struct TickedAxis {
    pub(super) range: Range<f64>,
    pub(super) ticks: Vec<f64>,
}

impl TickedAxis {
    pub(super) fn new(range: Range<f64>, ticks: Vec<f64>) -> TickedAxis {
        TickedAxis { range, ticks }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let frac = if span > 0.0 { (value - self.range.start) / span } else { 0.5 };
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

//! The six charts, each drawn on any plotters backend.

use super::*;

pub(super) fn draw_concurrency<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Row],
    th: Theme,
) -> Result<(), ChartError> {
    let Some((n, hl)) = at_top_n(rows, Some(HEADLINE)) else {
        return no_data(area, "Measured total vs slot model", "no /parallel rows", th);
    };
    let title = format!("{HEADLINE}, N = {n}: measured total vs slot model ceil(N/s)·t");
    // The bars wear their variant's colour: the legend says so, and names
    // the black dash across each bar.
    let mut legend: Vec<Entry> = hl.iter().map(|r| Entry::variant(&r.variant)).collect();
    legend.push(Entry::new("slot model ceil(N/s)·t", BLACK, Mark::Line));
    let body = frame(area, &title, &legend, th)?;
    let bars = hl
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // The total and the model as the race's table prints them
            // (25.05 s, not 25.0 s): one figure for one quantity.
            let mut bar =
                Bar::single(i, &r.variant, finite(r.total_s), kit_measure::table::short_seconds);
            bar.marker = finite(r.model_s);
            if let (Some(_), Some(m)) = (bar.value, bar.marker) {
                bar.label =
                    format!("{} (model {})", bar.label, kit_measure::table::short_seconds(m));
            }
            bar
        })
        .collect();
    let spec = BarChart {
        x_desc: "variant, s = its slots".into(),
        y_desc: "total time for all N requests (s)".into(),
        groups: hl.iter().map(|r| variant_with_slots(r)).collect(),
        bars,
        reference: None,
        log: false,
    };
    draw_bars(&body, &spec, th)
}

pub(super) fn draw_latency<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Row],
    th: Theme,
) -> Result<(), ChartError> {
    let Some((n, hl)) = at_top_n(rows, Some(HEADLINE)) else {
        return no_data(area, "Latency percentiles", "no /parallel rows", th);
    };
    let peak =
        hl.iter().map(|r| r.p99_ms.max(r.p95_ms)).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let (unit, div) = if peak >= 2000.0 { ("s", 1000.0) } else { ("ms", 1.0) };
    let title =
        format!("{HEADLINE}, N = {n}: latency percentiles (late requests waited for a slot)");
    let legend: Vec<Entry> = hl.iter().map(|r| Entry::variant(&r.variant)).collect();
    let body = frame(area, &title, &legend, th)?;
    let percentiles: [Percentile; 3] =
        [("p50", |r| r.p50_ms), ("p95", |r| r.p95_ms), ("p99", |r| r.p99_ms)];
    let mut bars = Vec::new();
    for (g, (_, get)) in percentiles.iter().enumerate() {
        for (s, r) in hl.iter().enumerate() {
            let value = finite(get(r) / div);
            // Labelled as the table prints a percentile (13.01 s, 503 ms).
            bars.push(Bar::grouped(g, s, hl.len(), &r.variant, value, |v| {
                kit_measure::table::ms_as_text(v * div)
            }));
        }
    }
    let spec = BarChart {
        x_desc: "percentile (p95: 95% of the requests finished within that time)".into(),
        y_desc: format!("latency ({unit})"),
        groups: percentiles.iter().map(|(name, _)| name.to_string()).collect(),
        bars,
        reference: None,
        log: false,
    };
    draw_bars(&body, &spec, th)
}

/// A percentile's name and how to read it from a row.
pub(super) type Percentile = (&'static str, fn(&Row) -> f64);

pub(super) fn draw_speedup<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Row],
    th: Theme,
) -> Result<(), ChartError> {
    let fallback = "Speedup over sync-blocking";
    let Some((n, hl)) = at_top_n(rows, Some(HEADLINE)) else {
        return no_data(area, fallback, "no /parallel rows", th);
    };
    if hl.iter().all(|r| r.speedup.and_then(finite).is_none()) {
        return no_data(area, fallback, "no speedups (is there a sync-blocking row?)", th);
    }
    let title = format!("{HEADLINE}, N = {n}: speedup over {BASELINE} (more slots, fewer rounds)");
    let legend = [Entry::new(&format!("1× = {BASELINE}"), BLACK, Mark::Dashed)];
    let body = frame(area, &title, &legend, th)?;
    let bars = hl
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Bar::single(i, &r.variant, r.speedup.and_then(finite), |v| {
                // As the table's speedup column: one decimal.
                format!("{v:.1}×")
            })
        })
        .collect();
    let spec = BarChart {
        x_desc: "variant, s = its slots".into(),
        y_desc: format!("speedup (× faster than {BASELINE})"),
        groups: hl.iter().map(|r| variant_with_slots(r)).collect(),
        bars,
        reference: Some(1.0),
        log: false,
    };
    draw_bars(&body, &spec, th)
}

pub(super) fn draw_endpoints<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Row],
    th: Theme,
) -> Result<(), ChartError> {
    let Some((n, top)) = at_top_n(rows, None) else {
        return no_data(area, "Total time per endpoint", "no rows", th);
    };
    let endpoints = ordered(&KNOWN_ENDPOINTS, top.iter().map(|r| r.endpoint.as_str()));
    let variants = ordered(&VARIANTS, top.iter().map(|r| r.variant.as_str()));
    let mut bars = Vec::new();
    for (g, endpoint) in endpoints.iter().enumerate() {
        for (s, variant) in variants.iter().enumerate() {
            let row = top.iter().find(|r| r.endpoint == *endpoint && r.variant == *variant);
            let value = row.and_then(|r| finite(r.total_s));
            bars.push(Bar::grouped(g, s, variants.len(), variant, value, fmt_value));
        }
    }
    let log = wide_range(bars.iter().filter_map(|b| b.value));
    let title = format!("N = {n}: total time per endpoint (fewer rounds of t, shorter bars)");
    let legend: Vec<Entry> = variants.iter().map(|v| Entry::variant(v)).collect();
    let body = frame(area, &title, &legend, th)?;
    let spec = BarChart {
        x_desc: "endpoint".into(),
        y_desc: if log { "total time (s, log scale)".into() } else { "total time (s)".into() },
        groups: endpoints.iter().map(|e| e.to_string()).collect(),
        bars,
        reference: None,
        log,
    };
    draw_bars(&body, &spec, th)
}

pub(super) fn draw_scalability<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Row],
    th: Theme,
) -> Result<(), ChartError> {
    let par: Vec<&Row> = rows.iter().filter(|r| r.endpoint == HEADLINE).collect();
    if par.is_empty() {
        return no_data(area, "Total time vs concurrency", "no /parallel rows", th);
    }
    let variants = ordered(&VARIANTS, par.iter().map(|r| r.variant.as_str()));
    let mut legend: Vec<Entry> =
        variants.iter().map(|v| Entry { mark: Mark::Line, ..Entry::variant(v) }).collect();
    legend.push(Entry::new("slot model (dashed)", GREY, Mark::Dashed));
    let title = format!("{HEADLINE}: total time vs concurrency N (ceil(N/s) rounds of t)");
    let body = frame(area, &title, &legend, th)?;
    let mut ns: Vec<u64> = par.iter().map(|r| r.concurrency).collect();
    ns.sort_unstable();
    ns.dedup();
    let x_max = ns.last().copied().unwrap_or(1).max(1) as f64 * 1.05;
    let y_max =
        par.iter().flat_map(|r| [r.total_s, r.model_s]).filter_map(finite).fold(0.0, f64::max);
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let ticks: Vec<f64> = ns.iter().map(|&n| n as f64).collect();
    let mut chart = ChartBuilder::on(&body)
        .margin(th.px(12.0))
        .margin_right(th.px(30.0))
        .x_label_area_size(th.px(70.0))
        .y_label_area_size(th.px(100.0))
        .build_cartesian_2d(TickedAxis::new(0.0..x_max, ticks), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| fmt_num(*v))
        .x_desc("concurrent requests N")
        .y_desc("total time for all N requests (s)")
        .axis_desc_style(th.axis())
        .label_style(th.tick())
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    for (i, variant) in variants.iter().enumerate() {
        // Earlier variants are drawn wider, so identical lines still show every colour.
        let widen = (variants.len() - 1 - i) as f64;
        draw_variant_lines(&mut chart, &par, variant, th, widen)?;
    }
    Ok(())
}

pub(super) type LineChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickedAxis, RangedCoordf64>>;

pub(super) fn draw_variant_lines<DB: DrawingBackend>(
    chart: &mut LineChart<'_, DB>,
    par: &[&Row],
    variant: &str,
    th: Theme,
    widen: f64,
) -> Result<(), ChartError> {
    let mut mine: Vec<&Row> = par.iter().copied().filter(|r| r.variant == variant).collect();
    mine.sort_by_key(|r| r.concurrency);
    mine.dedup_by_key(|r| r.concurrency);
    let color = variant_color(variant);
    let measured: Vec<(f64, f64)> =
        mine.iter().filter_map(|r| Some((r.concurrency as f64, finite(r.total_s)?))).collect();
    let model: Vec<(f64, f64)> =
        mine.iter().filter_map(|r| Some((r.concurrency as f64, finite(r.model_s)?))).collect();
    let dash = th.px(12.0).max(2);
    chart.draw_series(DashedLineSeries::new(
        model,
        dash,
        dash * 2 / 3,
        color.stroke_width(th.px(3.0).max(1) as u32),
    ))?;
    let width = th.px(3.0 + 3.0 * widen).max(1) as u32;
    let point = th.px(6.0 + 3.0 * widen).max(2) as u32;
    chart.draw_series(
        LineSeries::new(measured, color.stroke_width(width).filled()).point_size(point),
    )?;
    Ok(())
}

pub(super) fn draw_summary<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Row],
) -> Result<(), ChartError> {
    let th = Theme::PANEL;
    let (head, body) = area.split_vertically(th.px(70.0));
    let title =
        "The slot model in one picture: N requests of t seconds on s slots take ceil(N/s)·t";
    draw_title(&head, title, th.title_size() * 1.2)?;
    // Up to four panels the rows fill, in this order of preference: a race
    // (one N, one endpoint) shows latency where a report shows scalability.
    // With three, the third takes the whole bottom row: no panel is left empty.
    let charts: Vec<Chart> =
        [Chart::Concurrency, Chart::Speedup, Chart::Scalability, Chart::Endpoints, Chart::Latency]
            .into_iter()
            .filter(|c| c.filled(rows))
            .take(4)
            .collect();
    let panels = if charts.len() == 3 {
        let (top, bottom) = body.split_vertically(body.dim_in_pixel().1 as i32 / 2);
        let mut panels = top.split_evenly((1, 2));
        panels.push(bottom);
        panels
    } else {
        body.split_evenly((2, 2))
    };
    for (panel, chart) in panels.iter().zip(charts) {
        let panel = panel.margin(th.px(6.0), th.px(6.0), th.px(6.0), th.px(6.0));
        chart.draw(&panel, rows, th)?;
    }
    Ok(())
}

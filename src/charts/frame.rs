//! What frames every chart: the title, the legend, and "no data".

use super::*;

#[derive(Clone, Copy, Debug)]
pub(super) enum Mark {
    Box,
    Line,
    Dashed,
}

pub(super) struct Entry {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) mark: Mark,
}

impl Entry {
    pub(super) fn new(label: &str, color: RGBColor, mark: Mark) -> Entry {
        Entry { label: label.to_string(), color, mark }
    }

    pub(super) fn variant(variant: &str) -> Entry {
        Entry::new(variant, variant_color(variant), Mark::Box)
    }
}

/// Draws the title and a legend row (wrapped if long) above the chart, so the
/// legend never hides a bar or a line, and returns the area left for the plot.
pub(super) fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[Entry],
    th: Theme,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    let (head, body) = area.split_vertically(th.px(58.0));
    draw_title(&head, title, th.title_size())?;
    if legend.is_empty() {
        return Ok(body);
    }
    let style = th.legend();
    let (width, _) = body.dim_in_pixel();
    let swatch = th.px(34.0);
    let mut lines: Vec<Vec<(i32, &Entry)>> = vec![Vec::new()];
    let mut used = 0;
    for entry in legend {
        let (text_w, _) = body.estimate_text_size(&entry.label, &style)?;
        let w = swatch + th.px(8.0) + text_w as i32 + th.px(30.0);
        if used + w > width as i32 && used > 0 {
            lines.push(Vec::new());
            used = 0;
        }
        lines.last_mut().expect("starts with one line").push((w, entry));
        used += w;
    }
    let line_h = th.px(34.0);
    let (legend_area, body) = body.split_vertically(line_h * lines.len() as i32 + th.px(6.0));
    for (i, line) in lines.iter().enumerate() {
        let total: i32 = line.iter().map(|(w, _)| w).sum();
        let mut x = (width as i32 - total) / 2;
        let y = line_h * i as i32 + line_h / 2;
        for (w, entry) in line {
            draw_entry(&legend_area, entry, (x, y), swatch, th)?;
            x += w;
        }
    }
    Ok(body)
}

pub(super) fn draw_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entry: &Entry,
    (x, y): (i32, i32),
    swatch: i32,
    th: Theme,
) -> Result<(), ChartError> {
    let half = th.px(9.0);
    let line = vec![(x, y), (x + swatch, y)];
    match entry.mark {
        Mark::Box => area
            .draw(&Rectangle::new([(x, y - half), (x + swatch, y + half)], entry.color.filled()))?,
        Mark::Line => {
            area.draw(&PathElement::new(line, entry.color.stroke_width(th.px(5.0) as u32)))?
        }
        Mark::Dashed => area.draw(&DashedPathElement::new(
            line,
            th.px(9.0),
            th.px(5.0),
            entry.color.stroke_width(th.px(3.0) as u32),
        ))?,
    }
    let style = th.legend().pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new(entry.label.clone(), (x + swatch + th.px(8.0), y), style))?;
    Ok(())
}

/// Centred text, shrunk to fit the width: long titles must not run off a slide.
pub(super) fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    size: f64,
) -> Result<(), ChartError> {
    let (w, h) = area.dim_in_pixel();
    let room = w as f64 * 0.96;
    let (text_w, _) = area.estimate_text_size(title, &TextStyle::from((FAMILY, size)))?;
    let size = if text_w as f64 > room { size * room / text_w as f64 } else { size };
    let style = TextStyle::from((FAMILY, size)).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(title.to_string(), (w as i32 / 2, h as i32 / 2), style))?;
    Ok(())
}

pub(super) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    why: &str,
    th: Theme,
) -> Result<(), ChartError> {
    let body = frame(area, title, &[], th)?;
    let (w, h) = body.dim_in_pixel();
    let style = th.axis().color(&GREY).pos(Pos::new(HPos::Center, VPos::Center));
    body.draw(&Text::new(format!("no data: {why}"), (w as i32 / 2, h as i32 / 2), style))?;
    Ok(())
}

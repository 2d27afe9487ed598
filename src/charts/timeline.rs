//! The timeline: the seed's slot diagram, drawn from data. One horizontal
//! bar per request, from sent to answered, coloured by the round it waited
//! for; one panel per variant, all on the same clock. On s slots the answers
//! come back in ceil(N / s) rounds, a staircase; on unbounded slots every
//! bar ends in the first round, on top of each other.

use std::time::Duration;

use super::*;
use kit_measure::burst::{Span, Timeline};

/// More bars than this per panel are thinned to every k-th (in answer
/// order), and the panel says so: a bar must stay at least a pixel high.
const MAX_BARS: usize = 1000;
pub(super) const TIMELINE_SIZE: (u32, u32) = (1600, 1000);

/// Writes `timeline.png` and `timeline.svg` into `dir`.
pub fn write_timeline(timelines: &[Timeline], dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    write_picture(dir, "timeline", TIMELINE_SIZE, &TimelineChart(timelines))
}

struct TimelineChart<'a>(&'a [Timeline]);

impl Picture for TimelineChart<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let th = Theme::PANEL;
        let title = "Every request from sent to answered, coloured by the round it waited for: ceil(N/s) rounds of t";
        if self.0.iter().all(|t| t.spans.is_empty()) {
            return no_data(area, title, "no requests recorded", th);
        }
        // One colour per round in every panel, so the legend reads for all.
        let rounds =
            self.0.iter().flat_map(|t| t.spans.iter().map(|s| t.round_of(s))).max().unwrap_or(1);
        let failed = self.0.iter().flat_map(|t| &t.spans).any(|s| !s.ok);
        let body = frame(area, title, &legend(rounds, failed), th)?;
        // One clock for every panel, so a round of 1 s and one of 0.5 s compare.
        let end = self
            .0
            .iter()
            .flat_map(|t| &t.spans)
            .map(|s| s.answered_s)
            .fold(0.0, f64::max)
            .max(1e-3)
            * 1.03;
        let panels = body.split_evenly((self.0.len(), 1));
        for (panel, timeline) in panels.iter().zip(self.0) {
            draw_panel(panel, timeline, end, rounds, th)?;
        }
        Ok(())
    }
}

/// The colours of the rounds: round 1, the last, and up to three between,
/// each named by what it means on the clock; black for a failed request.
fn legend(rounds: u64, failed: bool) -> Vec<Entry> {
    let mut picked: Vec<u64> = (0..5u64).map(|i| 1 + i * (rounds - 1) / 4).collect();
    picked.dedup();
    let mut entries: Vec<Entry> = picked
        .into_iter()
        .map(|r| {
            let label = match r {
                1 => "round 1: answered at about 1 × t".to_string(),
                r => format!("round {r}: at about {r} × t"),
            };
            Entry::new(&label, hsl_to_rgb(round_color(r, rounds)), Mark::Box)
        })
        .collect();
    if failed {
        entries.push(Entry::new("failed (no answer)", BLACK, Mark::Box));
    }
    entries
}

/// The legend's swatches take an RGB colour; the bars are drawn in HSL.
fn hsl_to_rgb(c: HSLColor) -> RGBColor {
    let (r, g, b) = c.rgb();
    RGBColor(r, g, b)
}

/// "sync-blocking, 4 slots: 100 requests came back in 25 rounds of 1.00 s (the model: 25)".
fn panel_title(t: &Timeline, shown: usize) -> String {
    let n = t.spans.len() as u64;
    let slots = t.slots.map_or("unbounded slots".into(), |s| format!("{s} slots"));
    let model =
        kit_measure::slots::SlotModel::new(n, Duration::from_secs_f64(t.t_s), t.slots).rounds();
    let rounds = t.rounds();
    let thinned = if shown < t.spans.len() {
        format!(", every {}th bar shown", t.spans.len().div_ceil(shown))
    } else {
        String::new()
    };
    let failed = t.spans.iter().filter(|s| !s.ok).count();
    let failed = if failed > 0 { format!(", {failed} FAILED") } else { String::new() };
    format!(
        "{v} {e}, {slots}: {n} requests came back in {rounds} round{s} of {t:.2} s (the model: {model}){thinned}{failed}",
        v = t.variant,
        e = t.endpoint,
        s = if rounds == 1 { "" } else { "s" },
        t = t.t_s,
    )
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Timeline,
    end: f64,
    rounds: u64,
    th: Theme,
) -> Result<(), ChartError> {
    let mut spans: Vec<&Span> = t.spans.iter().collect();
    // In answer order, so the rounds stack into a staircase.
    spans.sort_by(|a, b| a.answered_s.total_cmp(&b.answered_s).then(a.sent_s.total_cmp(&b.sent_s)));
    let stride = spans.len().div_ceil(MAX_BARS).max(1);
    let shown: Vec<&Span> = spans.into_iter().step_by(stride).collect();
    let (head, body) = area.split_vertically(th.px(40.0));
    draw_title(&head, &panel_title(t, shown.len()), th.title_size() * 0.75)?;
    let n = shown.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&body)
        .margin(th.px(6.0))
        .margin_right(th.px(30.0))
        .x_label_area_size(th.px(50.0))
        .y_label_area_size(th.px(100.0))
        .build_cartesian_2d(0.0..end, 0.0..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("seconds since the burst was sent")
        .y_desc("requests, in answer order")
        .axis_desc_style(th.axis())
        .label_style(th.tick())
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    chart.draw_series(shown.iter().enumerate().map(|(i, s)| {
        // A failed request is black: it waited, and got no answer.
        let style = if s.ok { round_color(t.round_of(s), rounds).filled() } else { BLACK.filled() };
        let y = i as f64;
        Rectangle::new(
            [(s.sent_s, y + 0.1), (s.answered_s.max(s.sent_s + end * 1e-3), y + 0.9)],
            style,
        )
    }))?;
    Ok(())
}

/// Round 1 to `rounds` along the hue circle (red, then through yellow and
/// green to blue), so neighbouring rounds differ and the staircase reads.
/// `rounds` is the most of any panel: a round has one colour in all of them.
pub(super) fn round_color(round: u64, rounds: u64) -> HSLColor {
    let at = if rounds > 1 { (round - 1) as f64 / (rounds - 1) as f64 } else { 0.0 };
    HSLColor(0.70 * at, 0.75, 0.45)
}

//! Charts of measured rows, in slot language: PNG for slides, SVG for the web.
//!
//! [`write_all`] draws up to six charts of rows (total-vs-model, latency,
//! speedup, endpoints, scalability and a 2x2 summary), those the rows fill;
//! [`write_timeline`] draws a burst's requests as bars on a clock,
//! [`write_capacity`] the hockey stick of `kit capacity`, and [`write_attack`]
//! `kit attack`'s four over time (latency points, throughput, in flight,
//! heatmap). The drawing code is generic over the
//! plotters backend, so a chart's PNG and SVG are the same picture. Text uses
//! the DejaVu Sans font embedded in the binary, so no system font library is
//! needed. Missing data never panics: a chart draws what exists, or says
//! "no data".

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kit_serve::contract::Endpoint;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use kit_measure::slots::{Row, BASELINE, VARIANTS};

mod bars;
mod capacity;
mod data;
mod draw;
mod frame;
#[cfg(test)]
mod tests;
pub(super) mod timeline;
mod timeseries;

use bars::*;
pub use capacity::write_capacity;
use data::*;
use draw::*;
use frame::*;
pub use timeline::write_timeline;
pub use timeseries::write_attack;

pub(super) const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub(super) const FAMILY: &str = "sans-serif";
pub(super) const HEADLINE: &str = Endpoint::Parallel.path();
/// The endpoints the charts draw, in the contract's order.
pub(super) const KNOWN_ENDPOINTS: [&str; 4] = [
    Endpoint::Parallel.path(),
    Endpoint::MultiIo.path(),
    Endpoint::DbSimulation.path(),
    Endpoint::CpuIntensive.path(),
];
pub(super) const SIZE: (u32, u32) = (1280, 720);
pub(super) const SUMMARY_SIZE: (u32, u32) = (1920, 1080);
pub(super) const GREY: RGBColor = RGBColor(150, 150, 150);
/// Above this max/min ratio a bar chart switches to a log scale, or the small
/// bars would be invisible.
pub(super) const LOG_RATIO: f64 = 30.0;

/// Drawing or writing a chart failed; plotters' errors are kept as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError(e.to_string())
    }
}

/// Writes every chart the rows fill as `<name>.png` and `<name>.svg` into
/// `dir` (created if missing) and returns the paths written. A chart whose
/// axis the rows do not span is left out (see [`Chart::filled`]).
pub fn write_all(rows: &[Row], dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    let mut written = Vec::new();
    for chart in CHARTS.into_iter().filter(|c| c.filled(rows)) {
        written.extend(write_picture(dir, chart.name(), chart.size(), &RowChart(chart, rows))?);
    }
    Ok(written)
}

/// A picture drawn the same way on any plotters backend, so that its PNG
/// and its SVG are the same picture.
pub(super) trait Picture {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), ChartError>;
}

/// One of the six charts of measured rows.
struct RowChart<'a>(Chart, &'a [Row]);

impl Picture for RowChart<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        self.0.draw(area, self.1, Theme::FULL)
    }
}

/// A chart area whose coordinates `x` and `y` make (linear or log).
pub(super) type Panel<'a, DB, X, Y> = ChartContext<
    'a,
    DB,
    Cartesian2d<<X as AsRangedCoord>::CoordDescType, <Y as AsRangedCoord>::CoordDescType>,
>;

/// A panel in the kit's style: margins, label areas, a light mesh, the axes
/// named by `desc` (x, y) and their ticks written by `tick`. Linear or log
/// scale, whichever coordinates `x` and `y` make.
pub(super) fn panel<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    x: X,
    y: Y,
    desc: (&str, &str),
    tick: fn(f64) -> String,
    th: Theme,
) -> Result<Panel<'a, DB, X, Y>, ChartError>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .margin(th.px(12.0))
        .margin_right(th.px(30.0))
        .x_label_area_size(th.px(70.0))
        .y_label_area_size(th.px(100.0))
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(desc.0)
        .y_desc(desc.1)
        .axis_desc_style(th.axis())
        .label_style(th.tick())
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
}

/// Writes `picture` as `<name>.png` and `<name>.svg` into `dir` (created if missing).
pub(super) fn write_picture(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    picture: &impl Picture,
) -> Result<Vec<PathBuf>, ChartError> {
    register_font()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| ChartError(format!("cannot create {}: {e}", dir.display())))?;
    let png = dir.join(format!("{name}.png"));
    render(BitMapBackend::new(&png, size).into_drawing_area(), picture, &png)?;
    let svg = dir.join(format!("{name}.svg"));
    render(SVGBackend::new(&svg, size).into_drawing_area(), picture, &svg)?;
    Ok(vec![png, svg])
}

/// plotters' ab_glyph text looks fonts up by family name in a global table.
pub(super) fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // Only the regular face is embedded; plotters falls back to it for
            // every other style.
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the embedded DejaVu Sans is not a valid font".to_string())
        })
        .clone()
        .map_err(ChartError)
}

pub(super) fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    picture: &impl Picture,
    path: &Path,
) -> Result<(), ChartError> {
    present(root, path, |area| picture.draw(area))
}

/// Fills `root` white, draws on it and writes it out, naming `path` in any error.
pub(super) fn present<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    path: &Path,
    draw: impl FnOnce(&DrawingArea<DB, Shift>) -> Result<(), ChartError>,
) -> Result<(), ChartError> {
    let with_path = |e: ChartError| ChartError(format!("{}: {}", path.display(), e.0));
    root.fill(&WHITE).map_err(|e| with_path(e.into()))?;
    draw(&root).map_err(with_path)?;
    // Presenting writes the file; dropping would too, but would swallow errors.
    root.present().map_err(|e| with_path(e.into()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chart {
    Concurrency,
    Latency,
    Speedup,
    Endpoints,
    Scalability,
    Summary,
}

pub(super) const CHARTS: [Chart; 6] = [
    Chart::Concurrency,
    Chart::Latency,
    Chart::Speedup,
    Chart::Endpoints,
    Chart::Scalability,
    Chart::Summary,
];

impl Chart {
    /// Does this chart say something about `rows`? Scalability is a line
    /// over N: with one N it is one point. Endpoints compares endpoints:
    /// with one it repeats the concurrency chart. The others draw what
    /// exists, or "no data".
    pub(super) fn filled(self, rows: &[Row]) -> bool {
        let distinct = |key: fn(&Row) -> String, rows: &mut dyn Iterator<Item = &Row>| {
            let mut keys: Vec<String> = rows.map(key).collect();
            keys.sort();
            keys.dedup();
            keys.len()
        };
        match self {
            Chart::Scalability => {
                distinct(
                    |r| r.concurrency.to_string(),
                    &mut rows.iter().filter(|r| r.endpoint == HEADLINE),
                ) >= 2
            }
            Chart::Endpoints => distinct(|r| r.endpoint.clone(), &mut rows.iter()) >= 2,
            _ => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            // What it shows: each total against its slot model (not a sweep over N).
            Chart::Concurrency => "total-vs-model",
            Chart::Latency => "latency",
            Chart::Speedup => "speedup",
            Chart::Endpoints => "endpoints",
            Chart::Scalability => "scalability",
            Chart::Summary => "summary",
        }
    }

    fn size(self) -> (u32, u32) {
        match self {
            Chart::Summary => SUMMARY_SIZE,
            _ => SIZE,
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        area: &DrawingArea<DB, Shift>,
        rows: &[Row],
        th: Theme,
    ) -> Result<(), ChartError> {
        match self {
            Chart::Concurrency => draw_concurrency(area, rows, th),
            Chart::Latency => draw_latency(area, rows, th),
            Chart::Speedup => draw_speedup(area, rows, th),
            Chart::Endpoints => draw_endpoints(area, rows, th),
            Chart::Scalability => draw_scalability(area, rows, th),
            Chart::Summary => draw_summary(area, rows),
        }
    }
}

/// Sizes for a projector at full size; summary panels use the same layout scaled down.
#[derive(Clone, Copy, Debug)]
pub(super) struct Theme {
    scale: f64,
}

impl Theme {
    const FULL: Theme = Theme { scale: 1.0 };
    const PANEL: Theme = Theme { scale: 0.8 };

    fn px(self, base: f64) -> i32 {
        (base * self.scale).round() as i32
    }

    fn text(self, base: f64) -> TextStyle<'static> {
        TextStyle::from((FAMILY, base * self.scale))
    }

    fn title_size(self) -> f64 {
        34.0 * self.scale
    }

    fn axis(self) -> TextStyle<'static> {
        self.text(26.0)
    }

    fn tick(self) -> TextStyle<'static> {
        self.text(22.0)
    }

    fn legend(self) -> TextStyle<'static> {
        self.text(22.0)
    }

    fn value(self) -> TextStyle<'static> {
        self.text(21.0)
    }
}

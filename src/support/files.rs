//! The files a run leaves behind, in `--out DIR`: report.md (the table, the
//! conclusion and links to the charts), report.html (the same, the charts
//! inlined: one page that opens offline), report.json (the rows and how
//! they were measured) and the charts as PNG and SVG; and the `--out` flag
//! that says where.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use kit_measure::burst::Timeline;
use kit_measure::slots::Row;
use kit_measure::table;
use kit_serve::config::cores;

use crate::charts;
use crate::error::{CliError, Result};
use crate::support::html;

/// Where reports go unless `--out` says otherwise (relative to the current
/// directory, which is the project root under `cargo run`).
pub const DEFAULT_OUT: &str = "target/kit-report";

/// The `--out` flag every reporting subcommand shares.
#[derive(clap::Args, Debug, Clone)]
pub struct OutArgs {
    /// Folder for report.md, report.html, report.json and the charts (created if missing).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
    pub out: PathBuf,
}

/// What report.json holds.
#[derive(Serialize)]
pub struct ReportJson<'a> {
    /// "race" or "report".
    pub kind: &'a str,
    /// When the run finished, UTC, ISO 8601.
    pub date: String,
    pub machine: Machine,
    /// The knobs and load the run used.
    pub settings: serde_json::Value,
    pub rows: &'a [Row],
    /// Every request of the race from sent to answered (the timeline chart's data).
    #[serde(skip_serializing_if = "<[Timeline]>::is_empty")]
    pub timelines: &'a [Timeline],
}

#[derive(Serialize)]
pub struct Machine {
    pub cores: usize,
    pub os: &'static str,
    pub arch: &'static str,
}

impl Machine {
    /// The machine this runs on.
    pub fn here() -> Machine {
        Machine { cores: cores(), os: std::env::consts::OS, arch: std::env::consts::ARCH }
    }
}

/// Writes report.md, report.html, report.json and the charts into `dir`;
/// returns every path written. `timelines` (one per burst, may be empty) adds the
/// timeline chart.
pub fn write(
    dir: &Path,
    kind: &str,
    settings: serde_json::Value,
    rows: &[Row],
    timelines: &[Timeline],
    conclusion: &str,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    let mut charts = charts::write_all(rows, dir)?;
    if !timelines.is_empty() {
        charts.extend(charts::write_timeline(timelines, dir)?);
    }
    let title = format!("async-await-kit: {kind}");
    let body = body(rows, conclusion);
    let md = dir.join("report.md");
    write_file(&md, &markdown(&title, &body, &charts))?;
    let html = html::write(dir, &title, &body, &charts)?;
    let json = dir.join("report.json");
    let report =
        ReportJson { kind, date: utc_now(), machine: Machine::here(), settings, rows, timelines };
    // Rows and plain values always serialize.
    write_file(&json, &serde_json::to_string_pretty(&report).expect("serializable report"))?;
    Ok([md, html, json].into_iter().chain(charts).collect())
}

pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
}

/// The table and what it means: report.md's text and report.html's.
fn body(rows: &[Row], conclusion: &str) -> String {
    format!("{}\n## What it means\n\n{conclusion}\n", table::to_string(rows))
}

/// `title`, `body` and a link to each chart's PNG.
pub fn markdown(title: &str, body: &str, charts: &[PathBuf]) -> String {
    let mut md = format!("# {title}\n\n{body}## Charts\n\n");
    // Link the PNGs (the SVGs sit next to them, same names).
    for name in charts
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter_map(|p| p.file_name())
    {
        let name = name.to_string_lossy();
        let title = name.trim_end_matches(".png");
        md.push_str(&format!("![{title}]({name})\n\n"));
    }
    md
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`, without a date crate.
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}

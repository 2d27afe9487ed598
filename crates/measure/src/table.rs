//! Rendering measured rows as an aligned Markdown table: readable in a
//! terminal, in report.md, and as a reviewed snapshot. Rendering only: no
//! measuring, no I/O beyond the writer it is given.

use std::io::{self, Write};

use crate::slots::Row;

/// A total within this fraction of the model reads "as the model says".
pub const VERDICT_TOLERANCE: f64 = 0.30;

const HEADERS: [&str; 13] = [
    "variant",
    "endpoint",
    "N",
    "total",
    "rps",
    "p50",
    "p95",
    "p99",
    "errors",
    "slot model",
    "measured slots",
    "peak in flight",
    "speedup",
];

/// Writes `rows` as a Markdown table with a verdict column.
pub fn render(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    let headers: Vec<&str> = HEADERS.iter().copied().chain(["verdict"]).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(cells_of).collect();
    write_grid(&headers, &cells, out)
}

/// The table as a String (for stdout and report.md).
pub fn to_string(rows: &[Row]) -> String {
    grid_of(|out| render(rows, out))
}

/// Any cells under any headers as an aligned Markdown table: the one
/// renderer behind every table the kit prints (the race's, the narrow
/// terminal one, capacity's).
pub fn write_grid(headers: &[&str], rows: &[Vec<String>], out: &mut impl Write) -> io::Result<()> {
    let mut cells: Vec<Vec<String>> = vec![headers.iter().map(|h| h.to_string()).collect()];
    cells.extend(rows.iter().cloned());
    let widths: Vec<usize> = (0..cells[0].len())
        .map(|c| cells.iter().map(|r| r.get(c).map_or(0, |x| x.chars().count())).max().unwrap_or(0))
        .collect();
    for (i, row) in cells.iter().enumerate() {
        write_line(out, row, &widths)?;
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            write_line(out, &rule, &widths)?;
        }
    }
    Ok(())
}

/// [`write_grid`] into a String.
pub fn grid(headers: &[&str], rows: &[Vec<String>]) -> String {
    grid_of(|out| write_grid(headers, rows, out))
}

fn grid_of(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail.
    write(&mut buf).expect("writing to memory");
    String::from_utf8_lossy(&buf).into_owned()
}

fn write_line(out: &mut impl Write, cells: &[String], widths: &[usize]) -> io::Result<()> {
    let padded: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{:<w$}", cells.get(i).map_or("", String::as_str)))
        .collect();
    writeln!(out, "| {} |", padded.join(" | "))
}

/// What a terminal can show without wrapping: a projector's terminal is
/// often about 100 columns.
pub const SCREEN_WIDTH: usize = 100;

const NARROW_HEADERS: [&str; 7] =
    ["variant", "slots", "rounds x t", "model", "measured", "peak", "verdict"];

/// The race's table for a terminal: the slot model's prediction next to
/// the measured total and the exact count, in at most [`SCREEN_WIDTH`]
/// columns for the four variants at any N up to 10,000. The full table
/// (percentiles, rps, speedup) stays in report.md.
pub fn to_narrow_string(rows: &[Row]) -> String {
    let mut text = to_narrow_grid(rows);
    text.push_str("(peak: the server's own count of requests in its handlers at once; the full table is in report.md)\n");
    text
}

/// [`to_narrow_string`] without its footnote, for a screen that writes no
/// report.md (`kit demo`).
pub fn to_narrow_grid(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.variant.clone(),
                r.slots.map_or("∞".into(), |s| s.to_string()),
                format!("{} x {}", r.rounds, short_seconds(r.t_s)),
                short_seconds(r.model_s),
                short_seconds(r.total_s),
                r.peak_in_flight.to_string(),
                r.verdict(VERDICT_TOLERANCE).to_string(),
            ]
        })
        .collect();
    grid(&NARROW_HEADERS, &cells)
}

fn cells_of(r: &Row) -> Vec<String> {
    vec![
        r.variant.clone(),
        r.endpoint.clone(),
        r.concurrency.to_string(),
        seconds(r.total_s),
        format!("{:.1}", r.rps),
        ms_as_text(r.p50_ms),
        ms_as_text(r.p95_ms),
        ms_as_text(r.p99_ms),
        r.errors.to_string(),
        format!("{} ({} x {} on {})", seconds(r.model_s), r.rounds, seconds(r.t_s), slots(r.slots)),
        format!("{:.1}", r.measured_slots),
        r.peak_in_flight.to_string(),
        r.speedup.map_or("-".into(), |s| format!("{s:.1}x")),
        r.verdict(VERDICT_TOLERANCE).to_string(),
    ]
}

/// Whole seconds from 100 s up: two decimals of a minutes-long run are noise
/// and cost the narrow table its width. Every screen that shows a total
/// beside the narrow table (the race's bars and conclusion, the demo) prints
/// it with this, so one total reads as one figure.
pub fn short_seconds(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0} s")
    } else {
        seconds(s)
    }
}

pub fn seconds(s: f64) -> String {
    format!("{s:.2} s")
}

/// A time given in milliseconds, as text: whole ms below a second, seconds
/// with two decimals from one up (the table's p50, p95 and p99 cells).
pub fn ms_as_text(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn slots(s: Option<u64>) -> String {
    s.map_or("unbounded slots".into(), |s| format!("{s} slots"))
}

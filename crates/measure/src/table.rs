//! Rendering measured rows as an aligned Markdown table: readable in a
//! terminal, in report.md, and as a reviewed snapshot. Rendering only: no
//! measuring, no I/O beyond the writer it is given.

use std::io::{self, Write};

use crate::slots::Row;

/// A total within this fraction of the model reads "as the model says".
pub const VERDICT_TOLERANCE: f64 = 0.30;

const HEADERS: [&str; 13] = [
    "variant", "endpoint", "N", "total", "rps", "p50", "p95", "p99", "errors", "slot model", "measured slots",
    "peak in flight", "speedup",
];

/// Writes `rows` as a Markdown table with a verdict column.
pub fn render(rows: &[Row], out: &mut impl Write) -> io::Result<()> {
    let mut cells: Vec<Vec<String>> = vec![HEADERS.iter().map(|h| h.to_string()).chain(["verdict".into()]).collect()];
    cells.extend(rows.iter().map(cells_of));
    let widths: Vec<usize> =
        (0..cells[0].len()).map(|c| cells.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for (i, row) in cells.iter().enumerate() {
        write_line(out, row, &widths)?;
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            write_line(out, &rule, &widths)?;
        }
    }
    Ok(())
}

/// The table as a String (for stdout and report.md).
pub fn to_string(rows: &[Row]) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail.
    render(rows, &mut buf).expect("writing to memory");
    String::from_utf8_lossy(&buf).into_owned()
}

fn write_line(out: &mut impl Write, cells: &[String], widths: &[usize]) -> io::Result<()> {
    let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
    writeln!(out, "| {} |", padded.join(" | "))
}

fn cells_of(r: &Row) -> Vec<String> {
    vec![
        r.variant.clone(),
        r.endpoint.clone(),
        r.concurrency.to_string(),
        seconds(r.total_s),
        format!("{:.1}", r.rps),
        millis(r.p50_ms),
        millis(r.p95_ms),
        millis(r.p99_ms),
        r.errors.to_string(),
        format!("{} ({} x {} on {})", seconds(r.model_s), r.rounds, seconds(r.t_s), slots(r.slots)),
        format!("{:.1}", r.measured_slots),
        r.peak_in_flight.to_string(),
        r.speedup.map_or("-".into(), |s| format!("{s:.1}x")),
        r.verdict(VERDICT_TOLERANCE).to_string(),
    ]
}

fn seconds(s: f64) -> String {
    format!("{s:.2} s")
}

fn millis(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn slots(s: Option<u64>) -> String {
    s.map_or("unbounded slots".into(), |s| format!("{s} slots"))
}

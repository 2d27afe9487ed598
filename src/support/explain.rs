//! The measured rows explained in plain language, in slots and rounds: the
//! conclusion a workshop audience reads under the table of `kit race` and
//! `kit report` (and in report.md).

use std::fmt::Write;

use kit_measure::slots::{Row, BASELINE};
use kit_measure::table::short_seconds;
use kit_serve::contract::Endpoint;

use crate::walkthrough::wrap;

/// The one endpoint bound by cores rather than by waits.
const CPU: &str = Endpoint::CpuIntensive.path();

/// What the conclusion is wrapped to: a projector's terminal, less a margin.
/// It is Markdown too (report.md): a bullet goes on under two spaces.
const WIDTH: usize = kit_measure::table::SCREEN_WIDTH - 4;

/// One bullet per row, then what the fastest and the slowest say together,
/// wrapped at word boundaries.
pub fn in_slots(rows: &[Row]) -> String {
    let mut text = String::new();
    for row in rows {
        for (i, part) in wrap(&line(row), WIDTH - 2).iter().enumerate() {
            // Writing into a String cannot fail.
            let _ = writeln!(text, "{}{part}", if i == 0 { "- " } else { "  " });
        }
    }
    if let Some(moral) = moral(rows) {
        text.push('\n');
        for part in wrap(&moral, WIDTH) {
            let _ = writeln!(text, "{part}");
        }
    }
    text
}

/// "sync-blocking /parallel x100: 25 rounds of 1.00 s on 4 slots = 25.00 s
/// predicted; ...", every time as the table prints it.
fn line(r: &Row) -> String {
    let slots = r.slots.map_or("unbounded slots".to_string(), |s| format!("{s} slots"));
    let rounds = if r.rounds == 1 { "1 round".to_string() } else { format!("{} rounds", r.rounds) };
    let errors =
        if r.errors > 0 { format!(", {} requests FAILED", r.errors) } else { String::new() };
    format!(
        "{v} {e} x{n}: {rounds} of {t} on {slots} = {p} predicted; measured {m}, \
         so about {ms:.1} requests waited at once (the server's own count: {peak}){errors}.",
        v = r.variant,
        e = r.endpoint,
        n = r.concurrency,
        t = short_seconds(r.t_s),
        p = short_seconds(r.model_s),
        m = short_seconds(r.total_s),
        ms = r.measured_slots,
        peak = r.peak_in_flight,
    )
}

/// The fastest against the slowest of one endpoint and concurrency.
fn moral(rows: &[Row]) -> Option<String> {
    let by_total = |a: &&Row, b: &&Row| a.total_s.total_cmp(&b.total_s);
    let fastest = rows.iter().min_by(by_total)?;
    // Against the baseline when it is there, as the speedup column does.
    let slowest =
        rows.iter().find(|r| r.variant == BASELINE).or_else(|| rows.iter().max_by(by_total))?;
    if fastest.variant == slowest.variant || fastest.total_s <= 0.0 {
        return None;
    }
    if fastest.endpoint == CPU {
        return Some(format!(
            "CPU work cannot be waited out: it needs a core, so every variant is bounded by the \
             {cores} cores ({fast} {x:.1}x sooner than {slow}). What async-native keeps is a free \
             runtime: its CPU work runs on spawn_blocking, so /health stays fast meanwhile.",
            cores = kit_serve::config::cores(),
            fast = fastest.variant,
            slow = slowest.variant,
            x = slowest.total_s / fastest.total_s,
        ));
    }
    Some(format!(
        "{fast} finished {x:.1}x sooner than {slow}. A server can only wait on as many requests at \
         once as it has slots: a wait that blocks holds its thread, whether the code around it says \
         `async` or hands it to a blocking app. Only waits that really yield, as in async-native, let \
         every request wait at the same time.",
        fast = fastest.variant,
        slow = slowest.variant,
        x = slowest.total_s / fastest.total_s,
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use kit_measure::slots::{fill_speedups, SlotModel};

    fn row(variant: &str, slots: Option<u64>, t_s: f64, total_s: f64, peak: u64) -> Row {
        Row::fixed(
            variant,
            "/parallel",
            SlotModel::new(100, Duration::from_secs_f64(t_s), slots),
            total_s,
            peak,
        )
    }

    #[test]
    fn the_race_conclusion_fits_100_columns_and_keeps_words_whole() {
        let mut rows = vec![
            row("sync-blocking", Some(4), 1.0, 25.07, 4),
            row("async-trap", Some(4), 1.0, 25.09, 4),
            row("blocking-wrapper", Some(4), 1.0, 25.08, 4),
            row("async-native", None, 0.5, 0.514, 100),
        ];
        fill_speedups(&mut rows);
        let text = in_slots(&rows);
        for line in text.lines() {
            assert!(
                line.chars().count() <= kit_measure::table::SCREEN_WIDTH,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        // Wrapping moved words, it did not cut or lose one.
        let words: Vec<&str> = text.split_whitespace().filter(|w| *w != "-").collect();
        let unwrapped: Vec<String> = rows.iter().map(line).chain(moral(&rows)).collect();
        let expected: Vec<&str> = unwrapped.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(words, expected);
        // The totals as the narrow table prints them, and no other figure for them.
        let flat = words.join(" ");
        assert!(flat.contains("measured 25.07 s") && flat.contains("measured 0.51 s"), "{text}");
        assert!(!text.contains("0.514"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("- ")).count(),
            4,
            "one bullet per row:\n{text}"
        );
    }
}

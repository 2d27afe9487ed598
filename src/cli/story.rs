//! The measured rows retold in plain language, in slots and rounds: what a
//! workshop audience reads under the table.

use std::fmt::Write;

use crate::slots::{Row, BASELINE};

/// The one endpoint bound by cores rather than by waits.
const CPU: &str = "/cpu-intensive";
/// The variant every speedup is measured against.

/// One line per row, then what the fastest and the slowest say together.
pub fn conclusion(rows: &[Row]) -> String {
    let mut text = String::new();
    for row in rows {
        // Writing into a String cannot fail.
        let _ = writeln!(text, "- {}", line(row));
    }
    if let Some(moral) = moral(rows) {
        let _ = writeln!(text, "\n{moral}");
    }
    text
}

/// "sync-blocking: 25 rounds of 1.00 s on 4 slots = 25.00 s predicted; ..."
fn line(r: &Row) -> String {
    let slots = r.slots.map_or("unbounded slots".to_string(), |s| format!("{s} slots"));
    let rounds = if r.rounds == 1 { "1 round".to_string() } else { format!("{} rounds", r.rounds) };
    let errors = if r.errors > 0 { format!(", {} requests FAILED", r.errors) } else { String::new() };
    format!(
        "{v} {e} x{n}: {rounds} of {t:.2} s on {slots} = {p:.2} s predicted; measured {m:.2} s, \
         so about {ms:.1} requests waited at once (the server's own count: {peak}){errors}.",
        v = r.variant,
        e = r.endpoint,
        n = r.concurrency,
        t = r.t_s,
        p = r.model_s,
        m = r.total_s,
        ms = r.measured_slots,
        peak = r.peak_in_flight,
    )
}

/// The fastest against the slowest of one endpoint and concurrency.
fn moral(rows: &[Row]) -> Option<String> {
    let by_total = |a: &&Row, b: &&Row| a.total_s.total_cmp(&b.total_s);
    let fastest = rows.iter().min_by(by_total)?;
    // Against the baseline when it is there, as the speedup column does.
    let slowest = rows.iter().find(|r| r.variant == BASELINE).or_else(|| rows.iter().max_by(by_total))?;
    if fastest.variant == slowest.variant || fastest.total_s <= 0.0 {
        return None;
    }
    if fastest.endpoint == CPU {
        return Some(format!(
            "CPU work cannot be waited out: it needs a core, so every variant is bounded by the \
             {cores} cores ({fast} {x:.1}x sooner than {slow}). What async-native keeps is a free \
             runtime: its CPU work runs on spawn_blocking, so /health stays fast meanwhile.",
            cores = crate::config::cores(),
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

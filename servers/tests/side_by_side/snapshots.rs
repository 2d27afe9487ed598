//! Benchmark tables under review: the renderer on fixed rows (exact), and a
//! live run of the four servers in *shape* only. The live numbers are
//! checked for their invariants first, then redacted, so a snapshot diff
//! is always a change in behaviour, never noise.

use crate::common;

use std::time::Duration;

use common::{slots, start, VARIANTS};
use kit_measure::burst::burst;
use kit_measure::slots::{fill_speedups, Row};
use kit_measure::table::VERDICT_TOLERANCE;

fn fixed_row(variant: &str, total_s: f64, slots: Option<u64>, t_s: f64, peak: u64) -> Row {
    let model = kit_measure::slots::SlotModel::new(100, Duration::from_secs_f64(t_s), slots);
    Row::fixed(variant, "/parallel", model, total_s, peak)
}

#[test]
fn table_renderer_on_fixed_rows() {
    let mut rows = vec![
        fixed_row("sync-blocking", 25.03, Some(4), 1.0, 4),
        fixed_row("async-trap", 25.04, Some(4), 1.0, 4),
        fixed_row("blocking-wrapper", 25.05, Some(4), 1.0, 4),
        fixed_row("async-native", 0.512, None, 0.5, 100),
    ];
    fill_speedups(&mut rows);
    insta::assert_snapshot!(kit_measure::table::to_string(&rows));
}

/// 20 x /parallel at io = 100 ms: 5 rounds of 0.2 s on 4 slots, 1 round of
/// 0.1 s native. Small, so it costs about a second.
#[test]
fn live_run_shape() {
    let handles: Vec<_> = VARIANTS
        .iter()
        .map(|v| {
            std::thread::spawn(move || {
                let server = start(v, &["--io-ms", "100"]);
                let b = burst(&server, "/parallel", 20, Duration::from_secs(30))
                    .unwrap_or_else(|e| panic!("{e}"));
                let t = Duration::from_millis(if *v == "async-native" { 100 } else { 200 });
                let row = b.row(t);
                assert_eq!(row.slots, slots(v));
                row
            })
        })
        .collect();
    let mut rows: Vec<Row> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    fill_speedups(&mut rows);
    for r in &rows {
        assert_eq!(r.errors, 0, "{r:?}");
        assert!(r.p50_ms <= r.p95_ms && r.p95_ms <= r.p99_ms && r.p99_ms <= r.max_ms, "{r:?}");
        assert!(r.total_s > 0.0 && r.rps > 0.0 && r.measured_slots > 0.0, "{r:?}");
    }
    let shape: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "variant": r.variant,
                "endpoint": r.endpoint,
                "n": r.concurrency,
                "slots": r.slots,
                "rounds": r.rounds,
                "peak_in_flight": r.peak_in_flight,
                "verdict": r.verdict(VERDICT_TOLERANCE),
                "total_s": r.total_s,
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "measured_slots": r.measured_slots,
            })
        })
        .collect();
    insta::assert_json_snapshot!(shape, {
        "[].total_s" => "[seconds]",
        "[].p50_ms" => "[ms]",
        "[].p99_ms" => "[ms]",
        "[].measured_slots" => "[slots]",
    });
}

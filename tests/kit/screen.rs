//! The race's terminal table fits a projector's 100 columns, whatever N,
//! t and verdict; the full table is wider, and stays in report.md.

use std::time::Duration;

use kit_measure::slots::{fill_speedups, Row, SlotModel};
use kit_measure::table::{self, SCREEN_WIDTH};

fn row(variant: &str, slots: Option<u64>, n: u64, t_s: f64, total_s: f64) -> Row {
    let model = SlotModel::new(n, Duration::from_secs_f64(t_s), slots);
    Row::fixed(variant, "/parallel", model, total_s, slots.unwrap_or(n))
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn the_race_table_fits_100_columns() {
    let mut headline = vec![
        row("sync-blocking", Some(4), 100, 1.0, 25.03),
        row("async-trap", Some(4), 100, 1.0, 26.02),
        row("blocking-wrapper", Some(4), 100, 1.0, 25.05),
        row("async-native", None, 100, 0.5, 0.512),
    ];
    fill_speedups(&mut headline);
    // The widest a race can get: N = 10,000 (the flag's bound), io 10 s.
    let mut extreme = vec![
        row("blocking-wrapper", Some(4), 10_000, 20.0, 50_000.0 * 1.5),
        row("async-native", None, 10_000, 10.0, 1.3),
    ];
    fill_speedups(&mut extreme);
    for rows in [&headline, &extreme] {
        let narrow = table::to_narrow_string(rows);
        assert!(widest(&narrow) <= SCREEN_WIDTH, "{} columns:\n{narrow}", widest(&narrow));
        // Every variant, the model and the measured total are still there.
        for r in rows.iter() {
            assert!(narrow.contains(&r.variant), "{narrow}");
            assert!(narrow.contains(&format!("{} x ", r.rounds)), "{narrow}");
        }
    }
    let narrow = table::to_narrow_string(&headline);
    assert!(
        narrow.contains("| 25 x 1.00 s ")
            && narrow.contains("| 26.02 s ")
            && narrow.contains("| 0.51 s "),
        "{narrow}"
    );
    // The full table does not fit: that is why the narrow one exists.
    assert!(widest(&table::to_string(&headline)) > SCREEN_WIDTH);
    insta::assert_snapshot!(table::to_narrow_string(&headline));
}

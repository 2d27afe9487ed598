//! The grade: `cargo test --release` in this folder runs the fan-out
//! exercise's three checks (kit_measure::fanout_grade) against this crate's
//! server and its own build of the pricing service; it passes.

kit_measure::fanout_grade_tests!(
    env!("CARGO_BIN_EXE_fanout-solution"),
    env!("CARGO_BIN_EXE_fanout-solution-upstream")
);

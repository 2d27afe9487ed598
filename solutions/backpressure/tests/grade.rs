//! The grade: `cargo test --release` in this folder runs the backpressure
//! exercise's four checks (kit_load::backpressure_grade) against this
//! crate's server and the gateway built beside it. Part of the root
//! `cargo test --release`: it needs nothing but loopback.

kit_load::backpressure_grade_tests!(
    env!("CARGO_BIN_EXE_backpressure-solution"),
    env!("CARGO_BIN_EXE_backpressure-solution-upstream")
);

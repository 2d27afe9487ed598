//! The grade: `cargo test --release` in this folder runs the lock exercise's
//! four checks (kit_measure::lock_grade) against this crate's server and the
//! pricing service built beside it (`lock-solution-upstream`), and passes:
//!   1. 100 misses for 100 products take about one call's time, with all
//!      100 calls at the pricing service at once (it counts them itself).
//!   2. The cache still saves calls: the same products again make no call.
//!   3. /health stays fast during a burst of misses.
//!   4. The answers keep the contract: the pricing service's prices.

kit_measure::lock_grade_tests!(
    env!("CARGO_BIN_EXE_lock-solution"),
    env!("CARGO_BIN_EXE_lock-solution-upstream")
);

//! The grade: `cargo test --release` in this folder. The four checks (one #[test]
//! each, so the output reads as a checklist) live once, in kit_measure::lock_grade,
//! and run against this crate's own server, which calls the pricing service
//! built beside it (`lock-upstream`, the kit's upstream):
//!   1. 100 misses for 100 products take about one call's time, with all
//!      100 calls at the pricing service at once (it counts them itself).
//!   2. The cache still saves calls: the same products again make no call.
//!   3. /health stays fast during a burst of misses.
//!   4. The answers keep the contract: the pricing service's prices.
//!
//! A failure says what was measured, what the slot model makes of it, and
//! which hint in HINTS.md to read next.

kit_measure::lock_grade_tests!(env!("CARGO_BIN_EXE_lock"), env!("CARGO_BIN_EXE_lock-upstream"));

//! The grade: `cargo test --release` in this folder. The four checks (one #[test]
//! each, so the output reads as a checklist) live once, in
//! kit_measure::timeout_grade, and run against this crate's own server
//! binary and the pricing service built beside it (timeout-upstream), made
//! to hang:
//!   1. 100 requests at once all get a JSON 504 within 1.5 s (the deadline,
//!      1 s, plus 0.5 s of slack), and the service was asked.
//!   2. The service sees every call the server abandons hang up.
//!   3. Once the service recovers, the next 100 requests get its prices.
//!   4. /health stays fast while the service hangs.
//!
//! A failure says what was measured, what the slot model makes of it (20
//! permits are 20 slots), and which hint in HINTS.md to read next.

kit_measure::timeout_grade_tests!(
    env!("CARGO_BIN_EXE_timeout"),
    env!("CARGO_BIN_EXE_timeout-upstream")
);

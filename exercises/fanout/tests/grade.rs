//! The grade: `cargo test --release` in this folder. It starts the pricing
//! service (the kit's upstream, built here as `fanout-upstream`, holding at
//! most 5 calls at once and answering 429 past that), then this crate's
//! server pointed at it. The three checks (one #[test] each) live once, in
//! kit_measure::fanout_grade:
//!   1. one basket of 20 takes ceil(20 / 5) = 4 rounds, the service holding
//!      exactly 5 calls at once and refusing none;
//!   2. four baskets at once take 16 rounds: the limit is the server's, shared;
//!   3. the answer keeps the contract: every item priced by one call, the
//!      total right, errors as JSON.
//!
//! The service counts the calls it receives itself: that count is the exact
//! partner of every timing. A failure says what was measured, what the slot
//! model makes of it with the service's limit as the slots, and which hint
//! in HINTS.md to read next.

kit_measure::fanout_grade_tests!(
    env!("CARGO_BIN_EXE_fanout"),
    env!("CARGO_BIN_EXE_fanout-upstream")
);

//! The grade: `cargo test --release` in this folder, against a real PostgreSQL
//! (KIT_DATABASE_URL; without one every check fails and says how to get
//! one). The three checks (one #[test] each) live once, in
//! kit_measure::pool_grade, and run against this crate's own server:
//!   1. 100 concurrent queries take the rounds of the database's capacity.
//!   2. The pool never holds more than the database gives this app.
//!   3. A burst the pool cannot serve in time gets quick 503s, not a hang.
//!
//! A failure says what was measured, what the slot model makes of it with
//! the pool as the slots, and which hint in HINTS.md to read next.

/// Connections the database gives this app: src/main.rs's DB_CAPACITY.
const DB_CAPACITY: u64 = 20;

kit_measure::pool_grade_tests!(env!("CARGO_BIN_EXE_pool"), DB_CAPACITY);

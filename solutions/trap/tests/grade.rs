//! The grade: `cargo test --release` in this folder. The five checks (one #[test]
//! each, so the output reads as a checklist) live once, in kit_measure::grade, and
//! run against this crate's own server binary:
//!   1. 100 concurrent /parallel overlap, and so do the two waits inside one.
//!   2. /multi-io and /db-simulation scale the same way.
//!   3. CPU work does not stall the runtime.
//!   4. It cannot be gamed with threads (1000 requests, few OS threads).
//!   5. The responses keep the contract.
//!
//! A failure says what was measured, what the slot model makes of it, and
//! which hint in HINTS.md to read next.

kit_measure::grade_tests!(env!("CARGO_BIN_EXE_trap-solution"));

//! The grade: `cargo test --release` in this folder. It starts the pricing
//! gateway (the kit's upstream, built here as `backpressure-upstream`, each
//! call 250 ms) and this crate's server pointed at it, then attacks
//! /quote in the open loop: 40 requests a second for 5 s, each client
//! giving up after 1 s, and 8 a second for 3 s. The four checks (one
//! #[test] each) live once, in kit_load::backpressure_grade:
//!   1. the goodput holds at 90 % of s / t = 16/s, the accepted p99 within 3 calls;
//!   2. every request is answered in time: the rest with a quick 503 and Retry-After;
//!   3. the gateway's own count of calls at once stays at 4, and the server's
//!      in_flight within 16, as Little's law says;
//!   4. at half the capacity nothing is shed.
//!
//! A failure says what was offered, what was achieved, how many requests
//! were inside, what Little's law makes of them, and which hint in HINTS.md
//! to read next.

kit_load::backpressure_grade_tests!(
    env!("CARGO_BIN_EXE_backpressure"),
    env!("CARGO_BIN_EXE_backpressure-upstream")
);

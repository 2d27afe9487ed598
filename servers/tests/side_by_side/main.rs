//! The servers' tests that share the machine: they mostly wait on timers, so
//! they run side by side (`.cargo/config.toml` sets RUST_TEST_THREADS) and
//! the binary takes about as long as its slowest test.
//!
//! They are one binary on purpose: cargo runs test binaries one after
//! another, so every binary of sleep-bound tests would add its own wait.
//! Tests that need the machine to themselves (CPU saturation, 1000
//! connections at once) are in tests/alone and never run beside these.

#[path = "../common/mod.rs"]
mod common;

mod backpressure_hints;
mod bad_input;
mod concurrency;
mod contract;
mod drain;
mod exercises;
mod fanout_grade;
mod faults;
mod grade;
mod help;
mod http_backend;
mod http_rules;
mod lock_grade;
mod no_orphans;
mod postgres;
mod slowloris;
mod snapshots;
mod timeout_grade;
mod upstream;
mod wrapper_hints;

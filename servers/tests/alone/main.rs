//! The servers' tests that need the machine to themselves: CPU work against
//! the slots, the load generator's own speed, and the grade's checks 3 and 4
//! (CPU saturation, 1000 connections at once), the upstream's 10,000
//! waits at once, and the 20 s soak of the four servers (eight processes
//! that would otherwise run beside the timing tests). Each takes the grade's
//! machine lock for writing, so they run one at a time, and in their own
//! binary, so no timing test of tests/side_by_side runs beside them.

#[path = "../common/mod.rs"]
mod common;

mod backpressure;
mod cpu;
mod grade;
mod soak;
mod upstream;
mod wrapper_hints;

//! The grade: `cargo test --release` in this folder runs the pool exercise's three
//! checks (kit_measure::pool_grade) against this crate's server. It is part
//! of the root `cargo test --release`, on laptops without PostgreSQL too: without
//! KIT_DATABASE_URL each check prints that it was skipped and passes.

/// Connections the database gives this app: src/main.rs's DB_CAPACITY.
const DB_CAPACITY: u64 = 20;

kit_measure::pool_grade_tests!(
    env!("CARGO_BIN_EXE_pool-solution"),
    DB_CAPACITY,
    skip_without_database
);

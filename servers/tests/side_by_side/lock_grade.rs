//! The lock exercise's grade (kit_measure::lock_grade) on the fixes
//! learners write, honest and not (servers/examples/lock-variants.rs): every
//! honest fix passes all four checks; every wrong one fails the check whose
//! lesson it misses, and the hint that failure names says what it needs
//! (exercises/lock/HINTS.md). The upstream is this package's own.
//! Cheap: every burst but the given lock's (3 s, the lesson itself) takes
//! one round of 100 ms.

use std::path::{Path, PathBuf};

use crate::common::grading::{assert_mentions, failure, variant_of};
use crate::common::hints::assert_names_hint_with;
use kit_measure::harness::sibling_binary;
use kit_measure::lock_grade::{
    health_stays_fast, keeps_the_contract, misses_take_one_round, the_cache_still_saves_calls,
};

const HINTS: &str = include_str!("../../../exercises/lock/HINTS.md");

fn upstream() -> PathBuf {
    sibling_binary("upstream").unwrap_or_else(|e| panic!("{e}"))
}

/// lock-variants with `--fix fix` and more flags.
fn lock(fix: &str, more: &[&str]) -> PathBuf {
    let flags: Vec<&str> = ["--fix", fix].into_iter().chain(more.iter().copied()).collect();
    variant_of("lock-variants", &flags)
}

type Check = fn(PathBuf, PathBuf);

const CHECKS: [(u32, Check); 4] = [
    (1, |b, u| misses_take_one_round(b, u)),
    (2, |b, u| the_cache_still_saves_calls(b, u)),
    (3, |b, u| health_stays_fast(b, u)),
    (4, |b, u| keeps_the_contract(b, u)),
];

/// The failure of check `n` on `bin`, which must fail it.
fn fails(n: u32, bin: &Path, why: &str) -> String {
    let (_, check) = CHECKS[n as usize - 1];
    let (bin, up) = (bin.to_path_buf(), upstream());
    failure(move || check(bin, up)).unwrap_or_else(|| panic!("{why}: check {n} must fail"))
}

/// Checks `ns` pass on `bin`.
fn passes(ns: &[u32], bin: &Path, who: &str) {
    for &n in ns {
        let (_, check) = CHECKS[n as usize - 1];
        let (b, up) = (bin.to_path_buf(), upstream());
        if let Some(message) = failure(move || check(b, up)) {
            panic!("{who} must pass check {n}:{message}");
        }
    }
}

#[test]
fn the_given_lock_fails_check_1_only_on_the_calls_at_once() {
    let given = lock("given", &[]);
    let message = fails(1, &given, "the lock held across the fetch");
    assert_mentions(&message, &["calls at once 1 (exact", "100 rounds", "peak_in_flight 100"]);
    assert_names_hint_with(HINTS, &message, 1, &["guard", ".await", "1 slot", "100 rounds"]);
    passes(&[2, 3, 4], &given, "the given lock");
}

#[test]
fn the_honest_fixes_pass_every_check() {
    for fix in ["scoped", "std-mutex", "rwlock"] {
        passes(&[1, 2, 3, 4], &lock(fix, &[]), fix);
    }
}

#[test]
fn more_worker_threads_are_told_that_the_lock_is_the_slot() {
    let message = fails(1, &lock("given", &["--worker-threads", "100"]), "100 worker threads");
    assert_mentions(&message, &["calls at once 1 (exact"]);
    assert_names_hint_with(HINTS, &message, 1, &["worker", "threads change nothing"]);
}

#[test]
fn a_write_guard_held_across_the_fetch_is_the_same_slot() {
    let message = fails(1, &lock("rwlock-write", &[]), "an RwLock write guard across the fetch");
    assert_mentions(&message, &["calls at once 1 (exact"]);
    assert_names_hint_with(HINTS, &message, 1, &["RwLock", "write guard", "held across"]);
}

#[test]
fn block_on_inside_a_std_mutex_is_told_why_it_stalls() {
    let bin = lock("block-on", &[]);
    let needs = ["std::sync::Mutex", "block_on", "Send", "every worker thread"];
    let message = fails(1, &bin, "block_on inside a std::sync::Mutex");
    assert_names_hint_with(HINTS, &message, 3, &needs);
    let message = fails(3, &bin, "block_on inside a std::sync::Mutex");
    assert_mentions(&message, &["/health"]);
    assert_names_hint_with(HINTS, &message, 3, &needs);
}

#[test]
fn a_deleted_cache_fails_the_cache_check_only() {
    let bin = lock("no-cache", &[]);
    let message = fails(2, &bin, "no cache");
    assert_mentions(&message, &["100 calls", "0 calls for products already in the cache"]);
    assert_names_hint_with(HINTS, &message, 4, &["same products", "cache"]);
    passes(&[1, 3, 4], &bin, "a server without a cache");
}

#[test]
fn an_invented_price_fails_on_the_calls_and_the_contract() {
    let bin = lock("invented", &[]);
    let message = fails(1, &bin, "an invented price");
    assert_mentions(&message, &["100 prices answered with 0 calls"]);
    assert_names_hint_with(HINTS, &message, 5, &["made up", "counts the calls"]);
    let message = fails(4, &bin, "an invented price");
    assert_mentions(&message, &["a price the pricing service did not give"]);
    assert_names_hint_with(HINTS, &message, 5, &["{\"product\": ID, \"cents\": C}"]);
}

#[test]
fn locking_again_under_the_first_guard_is_told_to_end_it() {
    let message = fails(1, &lock("relock", &[]), "the lock taken twice by one request");
    assert_mentions(&message, &["never answered", "/health answered", "1 call for it"]);
    assert_names_hint_with(HINTS, &message, 2, &["waits for itself", "reentrant", "scope"]);
}

//! The fan-out grade, held to its lesson: the learners' fixes of
//! exercises/fanout, honest and not, written as variants of one example
//! server (`servers/examples/fanout-variants.rs`), each against the
//! kit's upstream as the pricing service (`--limit 5`, 100 ms per call).
//! Every wrong fix fails the check of its lesson, naming the hint of
//! exercises/fanout/HINTS.md that says what it needs; every honest fix
//! passes. The pristine exercise and the solution themselves are held to
//! the registry by `kit dev check`. Cheap: a basket takes 0.4 to 2 s.

use std::path::PathBuf;

use crate::common::grading::{assert_mentions, assert_multiplies_out, failure, variant_of};
use crate::common::hints::assert_names_hint_with;
use kit_measure::fanout_grade::{
    baskets_at_once_share_the_limit as check_2,
    one_basket_takes_the_rounds_of_the_limit as check_1, the_answer_keeps_the_contract as check_3,
};

const HINTS: &str = include_str!("../../../exercises/fanout/HINTS.md");

/// The pricing service: the kit's upstream, built beside the tests.
fn upstream() -> PathBuf {
    kit_measure::harness::sibling_binary("upstream").unwrap_or_else(|e| panic!("{e}"))
}

fn fanout(flags: &[&str]) -> PathBuf {
    variant_of("fanout-variants", flags)
}

#[test]
fn calls_one_after_another_are_told_to_overlap_them() {
    // The exercise as given.
    let bin = fanout(&["--calls", "sequential", "--limit", "none"]);
    let one = failure(|| check_1(&bin, upstream())).expect("sequential calls fail check 1");
    assert_names_hint_with(HINTS, &one, 1, &["join_all", "asyncio.gather", "4 rounds"]);
    assert_mentions(&one, &["at most 1 call at once", "20 calls received", "4 rounds x"]);
    assert_multiplies_out(&one);
    let four = failure(|| check_2(&bin, upstream())).expect("sequential calls fail check 2");
    assert_names_hint_with(HINTS, &four, 1, &["join_all"]);
    // The time is close to the model's; the count is not.
    assert_mentions(&four, &["at most 4 calls at once", "80 calls received", "16 rounds x"]);
    assert_mentions(&four, &["alone: one basket of 20 items", "at most 1 call at once"]);
    assert_multiplies_out(&four);
}

#[test]
fn all_calls_at_once_are_told_about_the_service_limit() {
    let bin = fanout(&["--calls", "join-all", "--limit", "none"]);
    let one = failure(|| check_1(&bin, upstream())).expect("unbounded join_all fails check 1");
    assert_names_hint_with(HINTS, &one, 2, &["429", "Semaphore", "PRICING_LIMIT", "acquire"]);
    assert_mentions(&one, &["refused", "with 429", "502"]);
    let answer = failure(|| check_3(&bin, upstream())).expect("unbounded join_all fails check 3");
    assert_names_hint_with(HINTS, &answer, 2, &["429"]);
}

#[test]
fn retrying_the_429s_is_told_that_each_one_breaks_the_contract() {
    let bin = fanout(&["--calls", "join-all", "--limit", "none", "--retry"]);
    let one = failure(|| check_1(&bin, upstream())).expect("retrying 429s fails check 1");
    assert_names_hint_with(HINTS, &one, 2, &["Retrying a 429", "Semaphore"]);
    assert_mentions(&one, &["tried them again", "answers: 1 x 200"]);
    // And a service that is down is never answered.
    let answer = failure(|| check_3(&bin, upstream())).expect("retrying forever fails check 3");
    assert_names_hint_with(HINTS, &answer, 5, &["502", "retry loop"]);
    assert_mentions(&answer, &["unreachable", "got no answer"]);
}

#[test]
fn a_shared_limit_past_the_service_limit_is_told_about_the_429s() {
    let bin = fanout(&["--calls", "join-all", "--limit", "shared", "--permits", "6"]);
    let one = failure(|| check_1(&bin, upstream())).expect("a limit of 6 fails check 1");
    assert_names_hint_with(HINTS, &one, 2, &["PRICING_LIMIT"]);
    assert_mentions(&one, &["at most 5 calls at once (its limit: 5)", "refused"]);
}

#[test]
fn a_limit_per_basket_passes_alone_and_is_told_to_share_it() {
    for flags in [
        // A Semaphore made in the handler.
        &["--calls", "join-all", "--limit", "per-basket"][..],
        // buffer_unordered(5) alone: a bound per basket too.
        &["--calls", "buffered", "--buffer", "5", "--limit", "none"][..],
    ] {
        let bin = fanout(flags);
        if let Some(message) = failure(|| check_1(&bin, upstream())) {
            panic!("a limit per basket keeps one basket right ({flags:?}):{message}");
        }
        let four = failure(|| check_2(&bin, upstream())).expect("a limit per basket fails check 2");
        assert_names_hint_with(
            HINTS,
            &four,
            3,
            &["Arc<Semaphore>", "in `run`", "buffer_unordered"],
        );
        assert_mentions(&four, &["4 x 5 = 20 at once", "refused", "alone, a basket kept to 5"]);
    }
}

#[test]
fn a_shared_limit_below_the_service_limit_is_told_to_use_it_all() {
    let bin = fanout(&["--calls", "join-all", "--limit", "shared", "--permits", "4"]);
    let one = failure(|| check_1(&bin, upstream())).expect("a limit of 4 fails check 1");
    assert_names_hint_with(HINTS, &one, 4, &["PRICING_LIMIT", "5 rounds"]);
    assert_mentions(&one, &["at most 4 calls at once", "20 calls on 4 slots take 5 rounds"]);
    let four = failure(|| check_2(&bin, upstream())).expect("a limit of 4 fails check 2");
    assert_names_hint_with(HINTS, &four, 4, &["PRICING_LIMIT"]);
}

#[test]
fn prices_not_asked_for_are_told_that_every_item_is_a_call() {
    let bin = fanout(&["--calls", "join-all", "--limit", "shared", "--local-prices"]);
    let one = failure(|| check_1(&bin, upstream())).expect("skipped calls fail check 1");
    assert_names_hint_with(HINTS, &one, 5, &["one call", "counts the calls"]);
    assert_mentions(&one, &["received 0 calls"]);
    // The total is right; the count is not.
    let answer = failure(|| check_3(&bin, upstream())).expect("skipped calls fail check 3");
    assert_names_hint_with(HINTS, &answer, 5, &["one call"]);
    assert_mentions(&answer, &["(right)", "received 0 calls for 20 items"]);
}

#[test]
fn the_honest_fixes_pass() {
    for flags in [
        // Shared Semaphore + join_all: the solution's shape.
        &["--calls", "join-all", "--limit", "shared"][..],
        // Shared Semaphore + buffer_unordered over every item.
        &["--calls", "buffered", "--limit", "shared"][..],
        // buffer_unordered(5) and the shared Semaphore both.
        &["--calls", "buffered", "--buffer", "5", "--limit", "shared"][..],
    ] {
        let bin = fanout(flags);
        if let Some(message) = failure(|| check_1(&bin, upstream())) {
            panic!("an honest fix ({flags:?}) must pass check 1:{message}");
        }
        if let Some(message) = failure(|| check_2(&bin, upstream())) {
            panic!("an honest fix ({flags:?}) must pass check 2:{message}");
        }
    }
    let bin = fanout(&["--calls", "join-all", "--limit", "shared"]);
    if let Some(message) = failure(|| check_3(&bin, upstream())) {
        panic!("the honest fix must pass check 3:{message}");
    }
}

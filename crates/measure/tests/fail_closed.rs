//! A reading the system cannot give fails its check closed (DESIGN.md,
//! "Platforms"): the grade's thread limit on a system without a thread
//! count must fail with a message, never pass on a silent 0.

use std::panic::catch_unwind;

use kit_measure::grade::known_threads;

#[test]
fn a_thread_reading_passes_through() {
    assert_eq!(known_threads(Some(7), 4, 5), 7);
}

#[test]
fn no_thread_reading_fails_the_check_with_a_message() {
    let failed = catch_unwind(|| known_threads(None, 4, 5))
        .expect_err("a missing reading must fail the check");
    let message = kit_measure::grade::failure::failure_message(failed.as_ref())
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains(
            "OS thread count unavailable on this system: check 4 cannot verify the thread limit"
        ),
        "{message}"
    );
    assert!(message.contains("hint 5"), "{message}");
}

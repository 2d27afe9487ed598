//! The wrapper's hint for check 3 (the others: tests/side_by_side/wrapper_hints.rs):
//! a wrapper whose waits yield but whose bridge keeps more app threads than
//! cores for the CPU work is told where CPU work belongs, and how many
//! threads it needs.

use crate::common::grading::{failure, variant_of};
use crate::common::hints::assert_names_hint_with;
use kit_measure::grade;
use kit_serve::config::cores;

const HINTS: &str = include_str!("../../../exercises/wrapper/HINTS.md");

#[test]
fn more_app_threads_than_cores_for_cpu_work_are_told_to_keep_one_per_core() {
    let workers = (cores() + 1).to_string();
    let bin = variant_of("wrapper-variants", &["--workers", &workers]);
    let message = failure(|| grade::cpu_does_not_stall(bin))
        .expect("more CPU threads than cores fail check 3");
    assert_names_hint_with(
        HINTS,
        &message,
        4,
        &["/cpu-intensive", "to_app", "kit_serve::config::cores()"],
    );
}

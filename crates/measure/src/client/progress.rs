//! The progress hook every generator accepts (bench, attack and the burst),
//! and the plumbing that calls it from the coordinating task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The progress hook every generator accepts (bench, attack and the burst):
/// called with a running count of finished requests, from the coordinating
/// task only (never from a worker), at most [`PROGRESS_EVERY`] apart, and
/// once at the end. `Sync` so the generator's future stays `Send`.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// How often the progress hook runs: ten times a second is smooth for a
/// person and invisible in the measurement.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Awaits `work` while calling the progress hook with `done` every
/// [`PROGRESS_EVERY`], and once more at the end. The hook thus runs on the
/// coordinating task only, never inside a worker's measurement loop.
pub async fn with_progress<F: std::future::Future>(
    work: F,
    done: &AtomicU64,
    progress: Option<Progress<'_>>,
) -> F::Output {
    let report = || {
        if let Some(p) = progress {
            p(done.load(Ordering::Relaxed));
        }
    };
    tokio::pin!(work);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let output = loop {
        tokio::select! {
            output = &mut work => break output,
            _ = tick.tick() => report(),
        }
    };
    report();
    output
}

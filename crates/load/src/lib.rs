//! # kit-load: the load generators
//!
//! Closed-loop and open-loop load against any http:// URL, and what the
//! kit's commands (`kit bench`, `kit attack`, `kit capacity`, `kit seed`)
//! build on them. Nothing a learner builds depends on this crate: an
//! exercise's `cargo test --release` (the grade) needs only kit-measure,
//! whose client ([`kit_measure::client`]: URL parser, failure names, the
//! hyper connection, the progress hook) these generators send through.
//!
//! ## Layout
//! - [`bench`]: the closed loop: N connections, each sending its next
//!   request when the last one is answered (`kit bench`, `kit selfcheck`).
//! - [`attack`]: the open loop: requests due on a schedule whatever the
//!   server does, corrected for coordinated omission (`kit attack`).
//!   - [`intervals`]: an attack interval by interval, and its points.
//!   - [`sampler`]: the server's own /metrics, sampled alongside.
//!   - [`live`]: a running attack as the live dashboard sees it.
//! - [`capacity`]: attacks at rising rates, to the rate a server sustains.
//! - [`littles_law`]: Little's law (L = λW) measured on the server's own
//!   /metrics while an attack runs.
//! - [`counts`]: what bench and attack count for every request.
//! - [`backpressure_grade`]: the backpressure exercise's grade, graded in
//!   the open loop (here, not in kit-measure, because it runs [`attack`]).
//!
//! Test support: `testing` (compiled for this crate's unit tests only) is a
//! real HTTP server with fast, slow, gated and failing routes that bench's
//! and attack's tests load. It lives here, behind `#[cfg(test)]`, rather
//! than in a `tests/` folder, because the tests that use it are unit tests
//! of private pieces (the scheduler, the worker loop).

use std::sync::{Mutex, MutexGuard};

pub mod attack;
pub mod backpressure_grade;
pub mod bench;
pub mod capacity;
pub mod counts;
pub mod intervals;
pub mod littles_law;
pub mod live;
pub mod sampler;
#[cfg(test)]
mod testing;

/// Nothing panics while holding these locks; if something did, the counts are still whole.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

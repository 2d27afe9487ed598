//! Assertions in slot language, shared by the test suite and the grade.
//!
//! Every timing check compares a measured total with the slot model inside a
//! tolerance band, and is paired with a check that counts instead of timing
//! (`peak_in_flight`, the OS thread count): machine noise stretches times,
//! but it cannot add a request inside a handler or a thread to the process. A failure says
//! what was measured, what the model predicts, and what that means.

use std::time::Duration;

use crate::burst::Burst;
use crate::slots::{db_binding, SlotModel};

/// How far a measured total may stray from the slot model's prediction.
/// Generous on purpose: the machines are shared and noisy, and the lessons
/// differ by factors of 25, not by percents.
#[derive(Clone, Copy, Debug)]
pub struct Band {
    /// The total may be this fraction below the prediction (timers never
    /// fire early, so this only absorbs rounding).
    pub below: f64,
    /// The total may be this fraction above the prediction...
    pub above: f64,
    /// ...plus this much, for connection setup on a loaded machine.
    pub slack: Duration,
}

impl Band {
    pub const DEFAULT: Band = Band { below: 0.05, above: 0.30, slack: Duration::from_millis(300) };

    pub fn contains(&self, predicted: Duration, measured: Duration) -> bool {
        let p = predicted.as_secs_f64();
        let m = measured.as_secs_f64();
        m >= p * (1.0 - self.below) && m <= p * (1.0 + self.above) + self.slack.as_secs_f64()
    }

    pub fn describe(&self, predicted: Duration) -> String {
        let p = predicted.as_secs_f64();
        format!(
            "{:.2} s to {:.2} s",
            p * (1.0 - self.below),
            p * (1.0 + self.above) + self.slack.as_secs_f64()
        )
    }
}

/// What a burst should look like: `slots` (None = unbounded) and the time
/// `t` one request takes alone.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub slots: Option<u64>,
    pub t: Duration,
    pub band: Band,
}

impl Expect {
    pub fn new(slots: Option<u64>, t: Duration) -> Expect {
        Expect { slots, t, band: Band::DEFAULT }
    }

    pub fn band(mut self, band: Band) -> Expect {
        self.band = band;
        self
    }

    /// Every request answered 2xx, and the latency percentiles are ordered.
    pub fn no_errors(&self, burst: &Burst) -> Result<(), String> {
        if burst.errors > 0 {
            return Err(format!(
                "{} x {}: {} of {} requests failed (statuses {:?}, errors {:?}). \
                 A request that fails never held a slot, so no timing below means anything.",
                burst.n, burst.path, burst.errors, burst.n, burst.status_counts, burst.error_kinds
            ));
        }
        if !burst.latency.is_ordered() || burst.latency.count != burst.n {
            return Err(format!("latency summary is inconsistent: {:?}", burst.latency));
        }
        Ok(())
    }

    /// The total falls inside the band around ceil(N / s) * t.
    pub fn total(&self, burst: &Burst) -> Result<(), String> {
        let model = SlotModel::new(burst.n, self.t, self.slots);
        if self.band.contains(model.predicted(), burst.total) {
            return Ok(());
        }
        // Queries wait for a pool connection first: a smaller pool binds.
        let pool = match burst.path.starts_with("/db-simulation") {
            true => db_binding(burst.n, self.t, self.slots, burst.after.pool.as_ref()).1,
            false => None,
        };
        let pool = pool.map(|why| format!("\n  {why}.")).unwrap_or_default();
        Err(format!(
            "{variant}, {n} x {path}: total out of band ({band}).\n  {explain}.{pool}\n  {meaning}",
            variant = burst.after.variant,
            n = burst.n,
            path = burst.path,
            band = self.band.describe(model.predicted()),
            explain = model.explain(burst.total, burst.handler_time()),
            meaning = meaning(&model, burst.total, burst.handler_time()),
        ))
    }

    /// The server's own exact high-water mark equals the slots.
    pub fn peak(&self, burst: &Burst) -> Result<(), String> {
        let expected = self.slots.unwrap_or(burst.n).min(burst.n);
        let peak = burst.peak_in_flight();
        if peak == expected {
            return Ok(());
        }
        Err(format!(
            "{variant}, {n} x {path}: peak_in_flight is {peak}, expected {expected}. \
             At most {peak} requests were ever inside handlers at the same moment, so the server \
             had {peak} slots where the lesson says {slots}.",
            variant = burst.after.variant,
            n = burst.n,
            path = burst.path,
            slots = self.slots.map_or("unbounded (all N at once)".to_string(), |s| s.to_string()),
        ))
    }

    /// `no_errors`, `total` and `peak`, with every failure in one message.
    pub fn all(&self, burst: &Burst) -> Result<(), String> {
        self.no_errors(burst)?;
        let failures: Vec<String> =
            [self.total(burst), self.peak(burst)].into_iter().filter_map(Result::err).collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("\n"))
        }
    }
}

/// What a total far from the model says, in slot language. The requests
/// that waited at once come from the server's own time per request inside
/// its handler (`handler`), so this sentence and `peak_in_flight` speak of
/// the same thing.
pub fn meaning(model: &SlotModel, total: Duration, handler: Option<Duration>) -> String {
    let seen = SlotModel { t: handler.unwrap_or(model.t), ..*model };
    let rounds = seen.measured_rounds(total);
    let slots = seen.measured_slots(total);
    if total > model.predicted().mul_f64(1.3) + Duration::from_millis(500) {
        format!(
            "It took {rounds:.1} rounds of one request's own time where the model predicts {}: only about \
             {slots:.1} requests waited at once. Something holds a thread while it waits, so the threads \
             are the slots.",
            crate::slots::rounds(model.rounds())
        )
    } else {
        format!(
            "It finished in {rounds:.1} rounds of one request's own time where the model predicts {}: about \
             {slots:.1} requests waited at once, more slots than this variant should have.",
            crate::slots::rounds(model.rounds())
        )
    }
}

/// Panics with the message when a check failed: the form tests want.
pub fn assert_ok(result: Result<(), String>) {
    if let Err(message) = result {
        panic!("\n{message}\n");
    }
}

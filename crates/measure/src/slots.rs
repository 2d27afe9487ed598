//! The slot model, and the measured row every table, chart and test speaks in.
//!
//! N concurrent requests, each waiting t seconds, on a server with s slots,
//! finish in about ceil(N / s) * t. Turned around, a measured total gives
//! the slots a server really had: N * t / total ("measured slots").

use std::time::Duration;

use kit_serve::contract::PoolStats;
use serde::{Deserialize, Serialize};

/// The four servers, in the order every table, chart and demo lists them.
pub const VARIANTS: [&str; 4] = ["sync-blocking", "async-trap", "blocking-wrapper", "async-native"];
/// The variant every speedup is measured against.
pub const BASELINE: &str = "sync-blocking";

/// A prediction: `n` requests of `t` on `slots` slots (`None`: unbounded).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlotModel {
    pub n: u64,
    pub t: Duration,
    pub slots: Option<u64>,
}

impl SlotModel {
    pub fn new(n: u64, t: Duration, slots: Option<u64>) -> SlotModel {
        SlotModel { n, t, slots }
    }

    /// ceil(n / s): how many times the slots must fill up and drain.
    pub fn rounds(&self) -> u64 {
        match self.slots {
            Some(s) if s > 0 => self.n.div_ceil(s),
            _ => u64::from(self.n > 0),
        }
    }

    /// rounds * t.
    pub fn predicted(&self) -> Duration {
        self.t * self.rounds() as u32
    }

    /// The slots a measured total implies: n * t / total.
    pub fn measured_slots(&self, total: Duration) -> f64 {
        if total.is_zero() {
            return 0.0;
        }
        self.n as f64 * self.t.as_secs_f64() / total.as_secs_f64()
    }

    /// How many rounds a measured total amounts to: total / t.
    pub fn measured_rounds(&self, total: Duration) -> f64 {
        if self.t.is_zero() {
            return 0.0;
        }
        total.as_secs_f64() / self.t.as_secs_f64()
    }

    /// One sentence in slot language, for failure messages and reports.
    /// `handler` is the time one request spent inside its handler as the
    /// server measured it (its /metrics p50): the measured slots are
    /// computed from it, not from the time the lesson expects, so the
    /// sentence agrees with `peak_in_flight`. Every figure is printed so
    /// that it multiplies out: times in whole milliseconds, products from
    /// the printed factors.
    pub fn explain(&self, total: Duration, handler: Option<Duration>) -> String {
        let slots = match self.slots {
            Some(s) => format!("{s} slots"),
            None => "unbounded slots".to_string(),
        };
        let t = whole_ms(self.t);
        let (ht, whose) = match handler {
            Some(h) => (whole_ms(h), "the server's own time per request inside its handler"),
            None => (t, "the lesson's time per request (the server reported none)"),
        };
        let total_s = round3(total.as_secs_f64());
        let seen = if total_s > 0.0 { self.n as f64 * ht as f64 / 1000.0 / total_s } else { 0.0 };
        format!(
            "{n} requests of {t} ms on {slots}: the model predicts {r} x {t} ms = {p:.3} s; \
             measured {total_s:.3} s; with {ht} ms per request ({whose}), \
             {n} x {ht} ms / {total_s:.3} s = about {seen:.1} requests waited at once",
            n = self.n,
            r = rounds(self.rounds()),
            p = self.rounds() as f64 * t as f64 / 1000.0,
        )
    }
}

/// The slot limit that binds /db-simulation: the server's own slots, or its
/// database pool when that is smaller (a pool is a slot limit too). With
/// the pool binding, the sentence that says so: "pool of 10 connections:
/// 100 x 300 ms / 10 = 10 rounds". `server`: None is unbounded.
pub fn db_binding(
    n: u64,
    t: Duration,
    server: Option<u64>,
    pool: Option<&PoolStats>,
) -> (SlotModel, Option<String>) {
    match pool {
        Some(pool) if server.is_none_or(|s| pool.size < s) => {
            let model = SlotModel::new(n, t, Some(pool.size));
            let why = format!(
                "the binding limit is the pool of {size} connections: {n} x {t} ms / {size} = {r}",
                size = pool.size,
                t = whole_ms(t),
                r = rounds(model.rounds())
            );
            (model, Some(why))
        }
        _ => (SlotModel::new(n, t, server), None),
    }
}

/// "1 round", "25 rounds": a count of rounds as a sentence says it.
pub fn rounds(n: u64) -> String {
    if n == 1 {
        "1 round".into()
    } else {
        format!("{n} rounds")
    }
}

/// A duration in whole milliseconds, the unit every printed model uses.
pub fn whole_ms(d: Duration) -> u64 {
    (d.as_secs_f64() * 1000.0).round() as u64
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One measured cell: a variant, an endpoint, a concurrency. Tables, charts
/// and report.json are all made of these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub variant: String,
    pub endpoint: String,
    pub concurrency: u64,
    /// Wall time from the first request sent to the last answer, seconds.
    pub total_s: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    /// The variant's slot limit (`None`: unbounded).
    pub slots: Option<u64>,
    /// The time one request needs on an idle server, seconds (the model's t).
    pub t_s: f64,
    /// ceil(N / s).
    pub rounds: u64,
    /// The slot model's prediction, seconds.
    pub model_s: f64,
    /// N * t / total: how many requests really waited at once.
    pub measured_slots: f64,
    /// The server's own exact high-water mark of requests in handlers.
    pub peak_in_flight: u64,
    /// total(sync-blocking) / total(this), same endpoint and concurrency.
    pub speedup: Option<f64>,
}

impl Row {
    /// "as the model says" when the total is within `tolerance` (a fraction)
    /// of the prediction, else how it differs.
    pub fn verdict(&self, tolerance: f64) -> &'static str {
        let ratio = self.total_s / self.model_s.max(1e-9);
        if self.errors > 0 {
            "errors"
        } else if ratio <= 1.0 + tolerance && ratio >= 1.0 - tolerance {
            "as the model says"
        } else if ratio > 1.0 {
            "slower than the model"
        } else {
            "faster than the model"
        }
    }
}

impl Row {
    /// A row for fixed-row tests and fixtures: `model`'s prediction next to
    /// a given total, the percentiles spread under it (p50 at half the
    /// total, p95, p99 and max at 95, 99 and 100 %), no errors.
    pub fn fixed(
        variant: &str,
        endpoint: &str,
        model: SlotModel,
        total_s: f64,
        peak_in_flight: u64,
    ) -> Row {
        Row {
            variant: variant.into(),
            endpoint: endpoint.into(),
            concurrency: model.n,
            total_s,
            rps: model.n as f64 / total_s,
            p50_ms: total_s * 500.0,
            p95_ms: total_s * 950.0,
            p99_ms: total_s * 990.0,
            max_ms: total_s * 1000.0,
            errors: 0,
            slots: model.slots,
            t_s: model.t.as_secs_f64(),
            rounds: model.rounds(),
            model_s: model.predicted().as_secs_f64(),
            measured_slots: model.measured_slots(Duration::from_secs_f64(total_s)),
            peak_in_flight,
            speedup: None,
        }
    }
}

/// Fills in `speedup` for every row from the sync-blocking row with the same
/// endpoint and concurrency.
pub fn fill_speedups(rows: &mut [Row]) {
    let baselines: Vec<(String, u64, f64)> = rows
        .iter()
        .filter(|r| r.variant == BASELINE)
        .map(|r| (r.endpoint.clone(), r.concurrency, r.total_s))
        .collect();
    for row in rows.iter_mut() {
        row.speedup = baselines
            .iter()
            .find(|(e, c, _)| *e == row.endpoint && *c == row.concurrency)
            .filter(|_| row.total_s > 0.0)
            .map(|(_, _, base)| base / row.total_s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_smaller_than_the_slots_binds_and_is_named() {
        let t = Duration::from_millis(300);
        let pool = |size| PoolStats { size, in_use: 0, peak_in_use: 0, timeouts: 0 };
        let (model, why) = db_binding(100, t, None, Some(&pool(10)));
        assert_eq!(model.rounds(), 10);
        assert_eq!(
            why.as_deref(),
            Some("the binding limit is the pool of 10 connections: 100 x 300 ms / 10 = 10 rounds")
        );
        // Four threads bind before a pool of 10 does: the pool is not named.
        let (model, why) = db_binding(100, t, Some(4), Some(&pool(10)));
        assert_eq!((model.rounds(), why), (25, None));
        // No pool: the server's own slots.
        assert_eq!(db_binding(100, t, None, None), (SlotModel::new(100, t, None), None));
    }

    #[test]
    fn rounds_are_ceil_n_over_s() {
        let t = Duration::from_millis(1000);
        assert_eq!(SlotModel::new(100, t, Some(4)).rounds(), 25);
        assert_eq!(SlotModel::new(101, t, Some(4)).rounds(), 26);
        assert_eq!(SlotModel::new(100, t, None).rounds(), 1);
        assert_eq!(SlotModel::new(100, t, Some(4)).predicted(), Duration::from_secs(25));
    }

    #[test]
    fn one_round_is_singular() {
        assert_eq!(
            (rounds(1), rounds(25), rounds(0)),
            ("1 round".to_string(), "25 rounds".to_string(), "0 rounds".to_string())
        );
    }

    #[test]
    fn measured_slots_invert_the_model() {
        let m = SlotModel::new(100, Duration::from_millis(1000), Some(4));
        assert!((m.measured_slots(Duration::from_secs(25)) - 4.0).abs() < 1e-9);
        assert!((m.measured_rounds(Duration::from_secs(25)) - 25.0).abs() < 1e-9);
        let sentence = m.explain(Duration::from_secs(25), None);
        assert!(sentence.contains("25 rounds x 1000 ms = 25.000 s"), "{sentence}");
        assert!(sentence.contains("about 4.0 requests"), "{sentence}");
    }

    #[test]
    fn the_explanation_uses_the_measured_handler_time_and_multiplies_out() {
        // The lesson expected 0.5 s and unbounded slots; the server spent
        // 1.0 s per request in its handler and took 25.02 s.
        let m = SlotModel::new(100, Duration::from_millis(500), None);
        let sentence =
            m.explain(Duration::from_millis(25_020), Some(Duration::from_micros(1_000_400)));
        assert!(sentence.contains("1 round x 500 ms = 0.500 s"), "{sentence}");
        assert!(sentence.contains("100 x 1000 ms / 25.020 s = about 4.0 requests"), "{sentence}");
    }
}

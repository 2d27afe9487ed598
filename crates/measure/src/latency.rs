//! Latency recording: one hdrhistogram per measurement, summarised once at
//! the end. Workers record raw durations; nothing here prints.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency recorded: 10 minutes, in microseconds. Longer values are
/// clamped to it (and show up as the max).
const MAX_US: u64 = 600_000_000;

/// A latency histogram in microseconds, 3 significant digits.
#[derive(Clone, Debug)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Latencies {
        // Cannot fail: constant bounds that hdrhistogram accepts.
        Latencies(Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"))
    }
}

impl Latencies {
    /// Two significant digits (1 % resolution) instead of three: about a
    /// seventh of the memory (24 kB instead of 172 kB), for the many small
    /// histograms of a time series, where a percent is finer than any chart.
    pub fn coarse() -> Latencies {
        // Cannot fail: constant bounds that hdrhistogram accepts.
        Latencies(Histogram::new_with_bounds(1, MAX_US, 2).expect("valid histogram bounds"))
    }

    /// Counts per bucket: bucket i holds the values below `upper_edges[i]`
    /// (and at or above the edge before it); one more bucket at the end holds
    /// the values at or above the last edge. Edges ascending.
    pub fn bucket_counts(&self, upper_edges: &[Duration]) -> Vec<u64> {
        let mut counts = vec![0; upper_edges.len() + 1];
        for v in self.0.iter_recorded() {
            // The bucket's highest equivalent value: a recorded value stands
            // for its whole 1 % bin, whose top decides the side of an edge.
            let us = self.0.highest_equivalent(v.value_iterated_to());
            let i = upper_edges.partition_point(|edge| (edge.as_micros() as u64) <= us);
            counts[i] += v.count_at_value();
        }
        counts
    }

    pub fn record(&mut self, d: Duration) {
        self.0.saturating_record((d.as_micros() as u64).clamp(1, MAX_US));
    }

    pub fn merge(&mut self, other: &Latencies) {
        // Cannot fail: both histograms have the same bounds.
        self.0.add(&other.0).expect("same histogram bounds");
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        if self.0.is_empty() {
            return Summary::default();
        }
        Summary {
            count: self.0.len(),
            min_ms: ms(self.0.min()),
            mean_ms: self.0.mean() / 1000.0,
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p90_ms: ms(self.0.value_at_quantile(0.90)),
            p95_ms: ms(self.0.value_at_quantile(0.95)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            max_ms: ms(self.0.max()),
        }
    }
}

/// Samples a [`Batch`] holds before it moves them into the shared histogram.
/// 4 bytes each: at most 4 KB per worker, and one brief lock per 1,024
/// requests (nothing next to the requests themselves).
pub const FLUSH_EVERY: usize = 1024;

/// One worker's latencies when there may be thousands of workers. A
/// [`Latencies`] of 3 significant digits up to 10 minutes is about 170 KB,
/// so one per worker, as `kit bench` used to keep, cost 1.7 GB at
/// `-c 10000` (the client's RSS was measured at 1.8 GB). A batch keeps raw
/// samples instead, in microseconds, and moves them into one shared
/// histogram every [`FLUSH_EVERY`] samples and when it is dropped.
pub struct Batch {
    samples: Vec<u32>,
    into: Arc<Mutex<Latencies>>,
}

impl Batch {
    pub fn new(into: Arc<Mutex<Latencies>>) -> Batch {
        Batch { samples: Vec::new(), into }
    }

    pub fn record(&mut self, d: Duration) {
        // MAX_US (600 s in µs) fits a u32 (up to 4,294 s).
        self.samples.push((d.as_micros() as u64).clamp(1, MAX_US) as u32);
        if self.samples.len() >= FLUSH_EVERY {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        if self.samples.is_empty() {
            return;
        }
        // A poisoned lock means another worker panicked: its panic is
        // reported by the join; these samples are still good.
        let mut all = self.into.lock().unwrap_or_else(|p| p.into_inner());
        for us in self.samples.drain(..) {
            all.0.saturating_record(u64::from(us));
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Percentiles of one histogram, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// p50 <= p90 <= p95 <= p99 <= max: true of any real histogram.
    pub fn is_ordered(&self) -> bool {
        self.min_ms <= self.p50_ms
            && self.p50_ms <= self.p90_ms
            && self.p90_ms <= self.p95_ms
            && self.p95_ms <= self.p99_ms
            && self.p99_ms <= self.max_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_orders_percentiles() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert!(s.is_ordered());
        assert!((s.p50_ms - 50.0).abs() < 0.5, "{s:?}");
        assert!((s.max_ms - 100.0).abs() < 0.5, "{s:?}");
    }

    #[test]
    fn batches_land_in_the_shared_histogram_in_full() {
        let all = Arc::new(Mutex::new(Latencies::default()));
        let mut a = Batch::new(all.clone());
        let mut b = Batch::new(all.clone());
        for ms in 1..=(FLUSH_EVERY as u64 + 10) {
            a.record(Duration::from_millis(ms));
        }
        b.record(Duration::from_secs(3));
        // `a` flushed once on its own; the rest arrives on drop.
        assert_eq!(all.lock().unwrap().len(), FLUSH_EVERY as u64);
        drop((a, b));
        let s = all.lock().unwrap().summary();
        assert_eq!(s.count, FLUSH_EVERY as u64 + 11);
        assert!((s.max_ms - 3000.0).abs() < 3.0, "{s:?}");
    }

    #[test]
    fn bucket_counts_split_at_the_edges() {
        let mut l = Latencies::coarse();
        for ms in [1, 2, 5, 9, 10, 11, 50, 1000] {
            l.record(Duration::from_millis(ms));
        }
        let edges =
            [Duration::from_millis(3), Duration::from_millis(10), Duration::from_millis(100)];
        // [<3 ms, 3-10 ms, 10-100 ms, >= 100 ms]; 9.9-ish bins stay below 10.
        assert_eq!(l.bucket_counts(&edges), vec![2, 2, 3, 1]);
        assert_eq!(l.bucket_counts(&edges).iter().sum::<u64>(), l.len());
        assert!(l.summary().is_ordered());
    }
}

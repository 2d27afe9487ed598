//! What bench and attack count for every request, whatever their loop, and
//! the joins of their tasks.

use std::collections::BTreeMap;

use kit_measure::client::outcome::is_server_error;

/// Adds `from` into `into`: merging per-worker counters at the end.
pub fn merge_counts<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

/// A load task does not panic; if one ever does, the panic is the bug to
/// see, not a result with one task's counts silently missing.
pub fn unwrap_join<T>(joined: Result<T, tokio::task::JoinError>) -> T {
    match joined {
        Ok(t) => t,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("load task cancelled: {e}"),
    }
}

/// What bench and attack count for every request, whatever their loop: one
/// instance per worker (bench) or in the one aggregator (attack), merged at
/// the end, never shared while the load runs.
#[derive(Default)]
pub(crate) struct Counts {
    /// Requests that got a response, whatever its status.
    pub responses: u64,
    /// Transport failures + responses that are [`is_server_error`].
    pub errors: u64,
    pub status_counts: BTreeMap<u16, u64>,
    pub error_kinds: BTreeMap<&'static str, u64>,
}

impl Counts {
    /// Counts one request's outcome (a status, or a transport failure's
    /// kind). Returns whether a response came, i.e. whether the caller has
    /// a latency to record: a transport failure has none.
    pub fn record(&mut self, outcome: Result<u16, &'static str>) -> bool {
        match outcome {
            Ok(status) => {
                self.responses += 1;
                *self.status_counts.entry(status).or_default() += 1;
                self.errors += u64::from(is_server_error(status));
                true
            }
            Err(kind) => {
                self.errors += 1;
                *self.error_kinds.entry(kind).or_default() += 1;
                false
            }
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.responses += other.responses;
        self.errors += other.errors;
        merge_counts(&mut self.status_counts, &other.status_counts);
        merge_counts(&mut self.error_kinds, &other.error_kinds);
    }

    /// The failure kinds as a result carries them.
    pub fn error_kinds(&self) -> BTreeMap<String, u64> {
        self.error_kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit_measure::client::outcome::TIMEOUT_KIND;

    #[test]
    fn counts_record_statuses_and_failures_by_the_load_rule() {
        let mut c = Counts::default();
        assert!(c.record(Ok(200)));
        assert!(c.record(Ok(404)));
        assert!(c.record(Ok(503)));
        assert!(!c.record(Err(TIMEOUT_KIND)));
        let mut all = Counts::default();
        all.merge(&c);
        all.merge(&c);
        assert_eq!((all.responses, all.errors), (6, 4));
        assert_eq!(all.status_counts, BTreeMap::from([(200, 2), (404, 2), (503, 2)]));
        assert_eq!(all.error_kinds(), BTreeMap::from([(TIMEOUT_KIND.to_string(), 2)]));
    }
}

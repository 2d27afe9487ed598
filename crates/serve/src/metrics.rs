//! What a server knows about itself, served as `GET /metrics`.
//!
//! The number that matters most is `peak_in_flight`: the exact high-water
//! mark of requests inside handlers at the same moment. It is counted, not
//! timed, so the tests can assert it exactly on a noisy machine. What it is
//! exact about: requests *inside handlers* at once. When all N requests
//! arrive together, that equals the server's slots; when arrivals spread out
//! (a slow client), early answers leave before late requests arrive and the
//! peak is lower; and a request inside a handler is not always one that is
//! waiting (it may itself queue for a thread, as with `spawn_blocking`).
//! `cpu_jobs_peak` is its twin for CPU work. Everything else (latency,
//! executor lag, threads, RSS, open descriptors) is there to explain them. The JSON types are
//! the contract's (`contract::MetricsSnapshot`); this module counts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::contract::{as_ms_f64, CallStats, EndpointStats, LagStats, MetricsSnapshot};
use crate::io::PoolGauge;
use crate::os;

/// Highest latency the per-endpoint histograms track: one hour, in microseconds.
const MAX_TRACKED_US: u64 = 3_600_000_000;
/// How many heartbeats make up "recent" executor lag.
const RECENT_BEATS: usize = 100;

/// CPU jobs (`handler::cpu_work` calls) running right now in this process,
/// and the most that ever ran at once. Counted around the CPU work itself, so
/// however a server schedules it (inline, `spawn_blocking`, app threads),
/// the count is the truth: more at once than cores means the cap is missing.
/// Process-wide statics, because `cpu_work` is a plain function that any
/// thread may call.
static CPU_JOBS: AtomicU64 = AtomicU64::new(0);
static CPU_JOBS_PEAK: AtomicU64 = AtomicU64::new(0);

/// Marks one CPU job as running until the guard drops: whoever runs the
/// contract's CPU work counts it (`handler::cpu_work` does).
pub fn cpu_job() -> CpuJob {
    let now = CPU_JOBS.fetch_add(1, Ordering::SeqCst) + 1;
    CPU_JOBS_PEAK.fetch_max(now, Ordering::SeqCst);
    CpuJob
}

/// One CPU job running (see [`cpu_job`]).
pub struct CpuJob;

impl Drop for CpuJob {
    fn drop(&mut self) {
        CPU_JOBS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The slots a server declares: how many requests it can hold waiting at
/// once. /metrics reports it as `slots`, and the kit's tables and the grade
/// predict from it (the slot model: N requests of t on s slots take
/// ceil(N/s) x t).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slots {
    /// Each waiting request holds one of `n` threads (handler threads,
    /// tokio workers stuck in a blocking wait, app threads behind a
    /// bridge): `slots` n in /metrics.
    Threads(u64),
    /// A waiting request holds no thread, only a parked task: as many as
    /// memory allows. `slots` null in /metrics.
    Unbounded,
    /// Requests hold no thread (as `Unbounded`, `slots` null), but their
    /// queries wait for a connection of the backend's pool: the pool is the
    /// slot limit for queries, and /metrics reports it as `pool`.
    Pool,
}

impl Slots {
    /// `slots` as /metrics reports it: `None` is unbounded.
    pub fn declared(self) -> Option<u64> {
        match self {
            Slots::Threads(n) => Some(n),
            Slots::Unbounded | Slots::Pool => None,
        }
    }

    /// Whether requests wait on threads of their own. A server whose slots
    /// are threads holds one backend connection per thread (the blocking
    /// driver), so a backend's pool is not its limit and is not reported.
    pub fn are_threads(self) -> bool {
        matches!(self, Slots::Threads(_))
    }
}

/// What runs the server's handlers, for the executor lag in /metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// A tokio runtime: its heartbeat task measures `executor_lag_ms`.
    Tokio,
    /// Plain threads, no runtime to stall: `executor_lag_ms` is null.
    Threads,
}

pub struct Metrics {
    variant: &'static str,
    knobs: BTreeMap<String, serde_json::Value>,
    slots: Slots,
    started: Instant,
    requests_total: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    endpoints: Mutex<BTreeMap<&'static str, Histogram<u64>>>,
    /// `None` on servers without an async runtime to watch.
    lag: Option<Mutex<Lag>>,
    /// Where waits go (`--io-backend`), set once the backend is open; unset
    /// means the timer.
    io_backend: OnceLock<&'static str>,
    /// The database pool, once a backend with one is opened.
    pool: OnceLock<Arc<PoolGauge>>,
    /// The calls an upstream received (the upstream only).
    calls: OnceLock<Arc<CallGauge>>,
}

#[derive(Default)]
struct Lag {
    max_us: u64,
    recent_us: VecDeque<u64>,
}

impl Metrics {
    /// `slots`: what the variant declares; `runtime`: whether there is an
    /// executor whose lag to report.
    pub fn new(
        variant: &'static str,
        knobs: impl IntoIterator<Item = (&'static str, u64)>,
        slots: Slots,
        runtime: Runtime,
    ) -> Arc<Metrics> {
        Arc::new(Metrics {
            variant,
            knobs: knobs.into_iter().map(|(k, v)| (k.to_string(), v.into())).collect(),
            slots,
            started: Instant::now(),
            requests_total: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            endpoints: Mutex::new(BTreeMap::new()),
            lag: (runtime == Runtime::Tokio).then(|| Mutex::new(Lag::default())),
            io_backend: OnceLock::new(),
            pool: OnceLock::new(),
            calls: OnceLock::new(),
        })
    }

    /// Names the backend /metrics reports (`IoBackend::name`); the first call wins.
    pub fn set_io_backend(&self, name: &'static str) {
        let _ = self.io_backend.set(name);
    }

    pub fn variant(&self) -> &'static str {
        self.variant
    }

    /// The slots this server declared.
    pub fn slots(&self) -> Slots {
        self.slots
    }

    /// Marks a request as inside its handler until the guard drops.
    pub fn enter(self: &Arc<Self>, label: &'static str) -> InFlight {
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight { metrics: Arc::clone(self), label, started: Instant::now() }
    }

    /// Reports `pool` in /metrics from now on (a backend with a pool).
    pub fn watch_pool(&self, pool: Arc<PoolGauge>) {
        let _ = self.pool.set(pool);
    }

    /// Reports `calls` in /metrics from now on (the upstream).
    pub fn watch_calls(&self, calls: Arc<CallGauge>) {
        let _ = self.calls.set(calls);
    }

    /// Records one heartbeat's lateness (tokio variants).
    pub fn record_lag(&self, late: Duration) {
        if let Some(lag) = &self.lag {
            let us = late.as_micros() as u64;
            let mut lag = lock(lag);
            lag.max_us = lag.max_us.max(us);
            if lag.recent_us.len() == RECENT_BEATS {
                lag.recent_us.pop_front();
            }
            lag.recent_us.push_back(us);
        }
    }

    /// Zeroes the counters and peaks. The peak restarts at what is in
    /// flight right now, so it stays a true high-water mark.
    pub fn reset(&self) {
        self.requests_total.store(0, Ordering::SeqCst);
        self.peak_in_flight.store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        CPU_JOBS_PEAK.store(CPU_JOBS.load(Ordering::SeqCst), Ordering::SeqCst);
        lock(&self.endpoints).clear();
        if let Some(pool) = self.pool.get() {
            pool.reset();
        }
        if let Some(calls) = self.calls.get() {
            calls.reset();
        }
        if let Some(lag) = &self.lag {
            *lock(lag) = Lag::default();
        }
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let process = ProcessStats::read();
        MetricsSnapshot {
            variant: self.variant.to_string(),
            knobs: self.knobs.clone(),
            io_backend: self.io_backend.get().copied().unwrap_or("timer").to_string(),
            slots: self.slots.declared(),
            requests_total: self.requests_total.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            peak_in_flight: self.peak_in_flight.load(Ordering::SeqCst),
            cpu_jobs: CPU_JOBS.load(Ordering::SeqCst),
            cpu_jobs_peak: CPU_JOBS_PEAK.load(Ordering::SeqCst),
            endpoints: lock(&self.endpoints)
                .iter()
                .map(|(label, h)| (label.to_string(), endpoint_stats(h)))
                .collect(),
            executor_lag_ms: self.lag.as_ref().map(|lag| {
                let lag = lock(lag);
                LagStats {
                    max: round3(lag.max_us as f64 / 1000.0),
                    recent: round3(
                        lag.recent_us.iter().copied().max().unwrap_or(0) as f64 / 1000.0,
                    ),
                }
            }),
            os_threads: process.threads,
            rss_bytes: process.rss_bytes,
            peak_rss_bytes: process.peak_rss_bytes,
            open_fds: process.open_fds,
            uptime_s: self.started.elapsed().as_secs_f64(),
            pool: self.pool.get().map(|p| p.stats()),
            calls: self.calls.get().map(|c| c.stats()),
        }
    }
}

/// A poisoned lock here only means another request panicked while
/// recording a number; the numbers are still usable, so keep serving.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A request inside its handler. Dropping it records the latency.
pub struct InFlight {
    metrics: Arc<Metrics>,
    label: &'static str,
    started: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let us = (self.started.elapsed().as_micros() as u64).clamp(1, MAX_TRACKED_US);
        let mut endpoints = lock(&self.metrics.endpoints);
        let h = endpoints.entry(self.label).or_insert_with(|| {
            // Cannot fail: the bounds are constants that hdrhistogram accepts.
            Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("valid histogram bounds")
        });
        h.saturating_record(us);
        drop(endpoints);
        self.metrics.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One endpoint's latency histogram as /metrics reports it.
fn endpoint_stats(h: &Histogram<u64>) -> EndpointStats {
    let ms = |us: u64| round3(as_ms_f64(Duration::from_micros(us)));
    EndpointStats {
        count: h.len(),
        mean_ms: round3(h.mean() / 1000.0),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
    }
}

/// Milliseconds to the microsecond, so the JSON stays readable.
fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Thread count, memory and open descriptors as the OS sees them (read through [`crate::os`]),
/// not as our own code counts them. A field is `None` where this system
/// gives no reading: `null` in the JSON, never a 0 that looks measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub threads: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub open_fds: Option<u64>,
}

impl ProcessStats {
    /// This process, with its peak RSS and open descriptors.
    pub fn read() -> ProcessStats {
        let me = ProcessStats::of_pid(std::process::id());
        ProcessStats {
            peak_rss_bytes: os::peak_rss_bytes_self(),
            open_fds: os::open_fds_self(),
            ..me
        }
    }

    /// Another process (the harness watches servers from outside). The OS
    /// tells only a process's own peak RSS, so `peak_rss_bytes` is `None`
    /// here: kit-measure's `ProcessWatcher` samples it instead. Open
    /// descriptors are read from inside (/dev/fd), so they are `None` too.
    pub fn of_pid(pid: u32) -> ProcessStats {
        ProcessStats {
            threads: os::threads(pid),
            rss_bytes: os::rss_bytes(pid),
            peak_rss_bytes: None,
            open_fds: None,
        }
    }
}

/// The calls a service received, counted by the service itself (the
/// upstream's `calls` in /metrics): how many it holds at once (exact, with
/// its peak), the ones refused past its limit, and the ones whose client
/// went away before the answer.
pub struct CallGauge {
    limit: Option<u64>,
    total: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    rejected: AtomicU64,
    hung_up: AtomicU64,
    hanging: std::sync::atomic::AtomicBool,
}

/// A call refused because `limit` calls were already held.
#[derive(Debug, PartialEq, Eq)]
pub struct OverLimit(pub u64);

impl CallGauge {
    /// `limit`: the most calls held at once; `None` holds every call.
    pub fn new(limit: Option<u64>) -> Arc<CallGauge> {
        Arc::new(CallGauge {
            limit,
            total: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            hung_up: AtomicU64::new(0),
            hanging: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Counts a call, and holds it until the guard drops, unless `limit`
    /// calls are held already. The check and the increment are one atomic
    /// step, so no burst ever gets past the limit, and the peak is exact.
    pub fn enter(self: &Arc<Self>) -> Result<Call, OverLimit> {
        self.total.fetch_add(1, Ordering::SeqCst);
        let limit = self.limit.unwrap_or(u64::MAX);
        let admitted = self.in_flight.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
            (held < limit).then_some(held + 1)
        });
        match admitted {
            Ok(held) => {
                self.peak_in_flight.fetch_max(held + 1, Ordering::SeqCst);
                Ok(Call { gauge: Arc::clone(self), answered: false })
            }
            Err(_) => {
                self.rejected.fetch_add(1, Ordering::SeqCst);
                Err(OverLimit(limit))
            }
        }
    }

    /// Whether calls hang (no answer until their client goes away).
    pub fn hanging(&self) -> bool {
        self.hanging.load(Ordering::SeqCst)
    }

    pub fn set_hanging(&self, on: bool) {
        self.hanging.store(on, Ordering::SeqCst);
    }

    /// Zeroes the counts; the peak restarts at what is held now
    /// (`POST /metrics/reset`). The limit and the hanging switch stay.
    pub fn reset(&self) {
        self.total.store(0, Ordering::SeqCst);
        self.rejected.store(0, Ordering::SeqCst);
        self.hung_up.store(0, Ordering::SeqCst);
        self.peak_in_flight.store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    pub fn stats(&self) -> CallStats {
        CallStats {
            limit: self.limit,
            total: self.total.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            peak_in_flight: self.peak_in_flight.load(Ordering::SeqCst),
            rejected: self.rejected.load(Ordering::SeqCst),
            hung_up: self.hung_up.load(Ordering::SeqCst),
            hanging: self.hanging(),
        }
    }
}

/// A call held by the service. Dropped before [`Call::answered`], it hung
/// up: hyper drops a handler's future when its client closes the
/// connection, so the drop is where a service learns that nobody waits.
pub struct Call {
    gauge: Arc<CallGauge>,
    answered: bool,
}

impl Call {
    /// The answer is ready: from here on, the client did not hang up on it.
    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.answered {
            self.gauge.hung_up.fetch_add(1, Ordering::SeqCst);
        }
        self.gauge.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_is_the_exact_high_water_mark() {
        let m = Metrics::new("test", [("threads", 4)], Slots::Threads(4), Runtime::Threads);
        let a = m.enter("/a");
        let b = m.enter("/a");
        let c = m.enter("/b");
        drop(a);
        let d = m.enter("/b");
        let snap = m.snapshot();
        assert_eq!((snap.in_flight, snap.peak_in_flight, snap.requests_total), (3, 3, 4));
        drop((b, c, d));
        let snap = m.snapshot();
        assert_eq!((snap.in_flight, snap.peak_in_flight), (0, 3));
        assert_eq!(snap.endpoints["/a"].count, 2);
        assert!(snap.endpoints["/a"].mean_ms > 0.0, "{:?}", snap.endpoints["/a"]);
        m.reset();
        assert_eq!(m.snapshot().peak_in_flight, 0);
        assert!(snap.executor_lag_ms.is_none());
        if cfg!(target_os = "linux") {
            assert!(snap.open_fds.is_some_and(|n| n >= 3), "{snap:?}");
        }
    }

    #[test]
    fn a_missing_reading_is_null_in_the_json() {
        let m = Metrics::new("test", [], Slots::Unbounded, Runtime::Threads);
        let mut snap = m.snapshot();
        snap.os_threads = None;
        snap.open_fds = None;
        let json = serde_json::to_value(&snap).expect("serializes");
        assert!(json["os_threads"].is_null() && json["open_fds"].is_null(), "{json}");
        // And an older server's JSON, without the field, still reads (as missing).
        let mut old = json.clone();
        old.as_object_mut().expect("an object").remove("open_fds");
        let read: MetricsSnapshot = serde_json::from_value(old).expect("older JSON reads");
        assert_eq!(read.open_fds, None);
    }

    #[test]
    fn calls_past_the_limit_are_refused_and_the_peak_is_exact() {
        let gauge = CallGauge::new(Some(2));
        let first = gauge.enter().expect("1 of 2");
        let second = gauge.enter().expect("2 of 2");
        assert_eq!(gauge.enter().err(), Some(OverLimit(2)));
        first.answered();
        let third = gauge.enter().expect("a slot came back");
        drop(second);
        let stats = gauge.stats();
        assert_eq!(
            (stats.total, stats.in_flight, stats.peak_in_flight, stats.rejected, stats.hung_up),
            (4, 1, 2, 1, 1)
        );
        drop(third);
        gauge.reset();
        let stats = gauge.stats();
        assert_eq!(
            (stats.total, stats.peak_in_flight, stats.rejected, stats.hung_up),
            (0, 0, 0, 0)
        );
        assert_eq!(stats.hung_up, 0);
    }
}

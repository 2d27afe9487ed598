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
//! executor lag, threads, RSS) is there to explain them, and
//! [`ProcessWatcher`] samples threads and RSS of another process from outside.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::contract::millis;
use crate::os;

/// Highest latency the per-endpoint histograms track: one hour, in microseconds.
const MAX_TRACKED_US: u64 = 3_600_000_000;
/// How many heartbeats make up "recent" executor lag.
const RECENT_BEATS: usize = 100;

/// CPU jobs (`contract::cpu_work` calls) running right now in this process,
/// and the most that ever ran at once. Counted inside the CPU work itself, so
/// however a server schedules it (inline, `spawn_blocking`, app threads),
/// the count is the truth: more at once than cores means the cap is missing.
/// Process-wide statics, because `cpu_work` is a plain function that any
/// thread may call.
static CPU_JOBS: AtomicU64 = AtomicU64::new(0);
static CPU_JOBS_PEAK: AtomicU64 = AtomicU64::new(0);

/// Marks one CPU job as running until the guard drops.
pub(crate) fn cpu_job() -> CpuJob {
    let now = CPU_JOBS.fetch_add(1, Ordering::SeqCst) + 1;
    CPU_JOBS_PEAK.fetch_max(now, Ordering::SeqCst);
    CpuJob
}

pub(crate) struct CpuJob;

impl Drop for CpuJob {
    fn drop(&mut self) {
        CPU_JOBS.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Metrics {
    variant: &'static str,
    knobs: BTreeMap<String, serde_json::Value>,
    slots: Option<u64>,
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
}

#[derive(Default)]
struct Lag {
    max_us: u64,
    recent_us: VecDeque<u64>,
}

impl Metrics {
    /// `slots` is the variant's own slot limit (`None`: unbounded);
    /// `has_runtime` turns on executor-lag reporting.
    pub fn new(
        variant: &'static str,
        knobs: impl IntoIterator<Item = (&'static str, u64)>,
        slots: Option<u64>,
        has_runtime: bool,
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
            lag: has_runtime.then(|| Mutex::new(Lag::default())),
            io_backend: OnceLock::new(),
            pool: OnceLock::new(),
        })
    }

    /// Names the backend /metrics reports (`Io::name`); the first call wins.
    pub fn set_io_backend(&self, name: &'static str) {
        let _ = self.io_backend.set(name);
    }

    pub fn variant(&self) -> &'static str {
        self.variant
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
            slots: self.slots,
            requests_total: self.requests_total.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            peak_in_flight: self.peak_in_flight.load(Ordering::SeqCst),
            cpu_jobs: CPU_JOBS.load(Ordering::SeqCst),
            cpu_jobs_peak: CPU_JOBS_PEAK.load(Ordering::SeqCst),
            endpoints: lock(&self.endpoints)
                .iter()
                .map(|(label, h)| (label.to_string(), EndpointStats::from(h)))
                .collect(),
            executor_lag_ms: self.lag.as_ref().map(|lag| {
                let lag = lock(lag);
                LagStats {
                    max: round3(lag.max_us as f64 / 1000.0),
                    recent: round3(lag.recent_us.iter().copied().max().unwrap_or(0) as f64 / 1000.0),
                }
            }),
            os_threads: process.threads,
            rss_bytes: process.rss_bytes,
            peak_rss_bytes: process.peak_rss_bytes,
            uptime_s: self.started.elapsed().as_secs_f64(),
            pool: self.pool.get().map(|p| p.stats()),
        }
    }
}

/// A connection pool's own counters, kept by the backend that owns the pool
/// and read by /metrics. Counted around each checkout, like `in_flight`
/// around each handler: `peak_in_use` is exact, so a test can assert that a
/// pool of 10 never lent out an 11th connection.
#[derive(Debug)]
pub struct PoolGauge {
    size: u64,
    in_use: AtomicU64,
    peak_in_use: AtomicU64,
    timeouts: AtomicU64,
}

impl PoolGauge {
    pub fn new(size: u64) -> Arc<PoolGauge> {
        Arc::new(PoolGauge { size, in_use: AtomicU64::new(0), peak_in_use: AtomicU64::new(0), timeouts: AtomicU64::new(0) })
    }

    /// Marks one connection as lent out until the guard drops.
    pub fn checkout(self: &Arc<Self>) -> PoolCheckout {
        let now = self.in_use.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_use.fetch_max(now, Ordering::SeqCst);
        PoolCheckout(Arc::clone(self))
    }

    /// A request gave up waiting for a connection.
    pub fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::SeqCst);
    }

    fn reset(&self) {
        self.peak_in_use.store(self.in_use.load(Ordering::SeqCst), Ordering::SeqCst);
        self.timeouts.store(0, Ordering::SeqCst);
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            size: self.size,
            in_use: self.in_use.load(Ordering::SeqCst),
            peak_in_use: self.peak_in_use.load(Ordering::SeqCst),
            timeouts: self.timeouts.load(Ordering::SeqCst),
        }
    }
}

/// One connection lent out by a pool.
pub struct PoolCheckout(Arc<PoolGauge>);

impl Drop for PoolCheckout {
    fn drop(&mut self) {
        self.0.in_use.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `pool` in /metrics: a slot limit of its own for the queries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    /// Connections the pool may hold.
    pub size: u64,
    pub in_use: u64,
    /// The most connections lent out at the same moment: exact.
    pub peak_in_use: u64,
    /// Requests that gave up waiting for a connection (503s).
    pub timeouts: u64,
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

fn timer() -> String {
    "timer".into()
}

/// The JSON of `GET /metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    pub variant: String,
    pub knobs: BTreeMap<String, serde_json::Value>,
    /// Where the server's waits go: `timer`, `http`, `postgres`. Absent from
    /// older servers' JSON, which all waited on timers.
    #[serde(default = "timer")]
    pub io_backend: String,
    /// The variant's slot limit; `null` means "as many as memory allows".
    pub slots: Option<u64>,
    pub requests_total: u64,
    pub in_flight: u64,
    pub peak_in_flight: u64,
    /// CPU jobs (/cpu-intensive computations) running right now.
    pub cpu_jobs: u64,
    /// The most CPU jobs (/cpu-intensive computations) that ran at the same
    /// moment: at most one per core when the CPU work is capped.
    pub cpu_jobs_peak: u64,
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// `null` on servers without an async runtime.
    pub executor_lag_ms: Option<LagStats>,
    /// The OS's own readings; `null` where this system gives none.
    pub os_threads: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub uptime_s: f64,
    /// The database pool (`--io-backend postgres=URL` on a pooled server);
    /// `null` when there is none. Absent from older servers' JSON.
    #[serde(default)]
    pub pool: Option<PoolStats>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub count: u64,
    /// The mean time inside the handler: Little's law's W (see
    /// `kit_load::littles_law`). Percentiles cannot stand in for it: L = λW
    /// holds for the mean only. Absent from older servers' JSON, hence the default.
    #[serde(default)]
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl From<&Histogram<u64>> for EndpointStats {
    fn from(h: &Histogram<u64>) -> EndpointStats {
        let ms = |us: u64| round3(millis(Duration::from_micros(us)));
        EndpointStats {
            count: h.len(),
            mean_ms: round3(h.mean() / 1000.0),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// How late the runtime's heartbeat task woke up: the time during which no
/// worker thread was free to poll it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LagStats {
    pub max: f64,
    pub recent: f64,
}

/// Milliseconds to the microsecond, so the JSON stays readable.
fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Thread count and memory as the OS sees them (read through [`crate::os`]),
/// not as our own code counts them. A field is `None` where this system
/// gives no reading: `null` in the JSON, never a 0 that looks measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub threads: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
}

impl ProcessStats {
    /// This process, with its peak RSS.
    pub fn read() -> ProcessStats {
        let me = ProcessStats::of_pid(std::process::id());
        ProcessStats { peak_rss_bytes: os::peak_rss_bytes_self(), ..me }
    }

    /// Another process (the harness watches servers from outside). The OS
    /// tells only a process's own peak RSS, so `peak_rss_bytes` is `None`
    /// here: a [`ProcessWatcher`] samples it instead.
    pub fn of_pid(pid: u32) -> ProcessStats {
        ProcessStats { threads: os::threads(pid), rss_bytes: os::rss_bytes(pid), peak_rss_bytes: None }
    }
}

/// How often a [`ProcessWatcher`] samples: often enough to catch a burst's
/// peak, which lasts as long as one wait (tens of ms at the least).
const WATCH_EVERY: Duration = Duration::from_millis(5);

/// The highest readings a [`ProcessWatcher`] saw; `None` where no sample
/// had a reading.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Peaks {
    pub threads: Option<u64>,
    pub rss_bytes: Option<u64>,
}

/// Samples a process's thread count and RSS from outside while it works, so
/// the server's own code cannot under-report them.
pub struct ProcessWatcher {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Peaks>,
}

impl ProcessWatcher {
    pub fn start(pid: u32) -> ProcessWatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut peaks = Peaks::default();
            loop {
                let now = ProcessStats::of_pid(pid);
                // Option's order puts None below any Some: a missing sample
                // never hides a reading, and no readings stay None.
                peaks.threads = peaks.threads.max(now.threads);
                peaks.rss_bytes = peaks.rss_bytes.max(now.rss_bytes);
                if flag.load(Ordering::Relaxed) {
                    return peaks;
                }
                std::thread::sleep(WATCH_EVERY);
            }
        });
        ProcessWatcher { stop, handle }
    }

    /// Takes one last sample and returns the peaks.
    pub fn stop(self) -> Peaks {
        self.stop.store(true, Ordering::Relaxed);
        // The sampling loop cannot panic; if it did, nothing was measured.
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_is_the_exact_high_water_mark() {
        let m = Metrics::new("test", [("threads", 4)], Some(4), false);
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
    }

    #[test]
    fn a_missing_reading_is_null_in_the_json() {
        let m = Metrics::new("test", [], None, false);
        let mut snap = m.snapshot();
        snap.os_threads = None;
        let json = serde_json::to_value(&snap).expect("serializes");
        assert!(json["os_threads"].is_null(), "{json}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_watcher_sees_threads_that_came_and_went() {
        const EXTRA: u64 = 8;
        let watcher = ProcessWatcher::start(std::process::id());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(Mutex::new(rx));
        let extra: Vec<_> = (0..EXTRA)
            .map(|_| {
                let rx = Arc::clone(&rx);
                std::thread::spawn(move || lock(&rx).recv())
            })
            .collect();
        // A hundred samples' time: plenty even on a loaded machine.
        std::thread::sleep(WATCH_EVERY * 100);
        drop(tx);
        for t in extra {
            let _ = t.join();
        }
        let peaks = watcher.stop();
        // The extra threads, this test's thread and the watcher's own, at
        // once (other tests' threads can only add to that).
        assert!(peaks.threads.expect("threads on linux") >= EXTRA + 2, "{peaks:?}");
        assert!(peaks.rss_bytes.is_some_and(|r| r > 0), "{peaks:?}");
    }
}

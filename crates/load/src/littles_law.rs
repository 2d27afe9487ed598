//! Little's law, measured: the open-loop twin of `peak_in_flight`.
//!
//! For any system in a steady state, the mean number inside it equals the
//! throughput times the mean time each one spends inside:
//! L = λ x W. Here the system is "inside a handler", the boundary the
//! server's own /metrics counts at: `in_flight` is L at one instant, and the
//! per-endpoint `mean_ms` is W. Both are counted at the same boundary (one
//! guard increments `in_flight` and times the request), so the law holds
//! whatever queues lie inside the handler (a blocking server's thread pool,
//! the wrapper's app threads).
//!
//! How one window is measured while an attack runs ([`WindowSampler`]):
//! - wait until the server has filled up (the window starts halfway through
//!   the send, so the first requests' ramp is not in it);
//! - `POST /metrics/reset`, so the handler histogram holds only requests
//!   that finished inside the window;
//! - sample `GET /metrics` every [`SAMPLE_EVERY`] until the send ends: the
//!   time average of `in_flight` is L;
//! - read /metrics once more: the path's `mean_ms` is W, its `count` is how
//!   many finished inside the window.
//!
//! λ is the server's own completions per second inside the same window
//! (`handler_count / window_s`): all three quantities of the law measured
//! over one window at one boundary. The client's achieved rate is not the
//! same thing when clients give up: a blocking server keeps working through
//! a queue of requests whose clients timed out (measured in `kit seed`: the
//! wrapper finished 4/s while its clients got 2.1/s over the run). With few
//! completions in a window (slow requests at low rates) λ is coarse: one
//! request more or less is 1/count of it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kit_serve::contract::MetricsSnapshot;
use serde::{Deserialize, Serialize};

use kit_measure::harness;

/// How often `in_flight` is sampled: fifty times a second is enough for a
/// time average (requests last milliseconds to seconds) and costs the
/// server one tiny JSON answer per sample.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// One sample may take this long. Short on purpose: on a saturated
/// blocking server a /metrics request queues behind the work, and a late
/// sample would describe a later moment than the one it stands for.
const SAMPLE_TIMEOUT: Duration = Duration::from_millis(500);
/// A window needs at least this many samples to give a mean.
const MIN_SAMPLES: u64 = 5;
/// A window needs at least this many requests finished inside it before
/// the two sides are judged: λ is counted in whole requests, so with n of
/// them one more or less moves it by 1/n (5 % at 20; at 5, 20 %, as wide as
/// the band itself).
pub const MIN_REQUESTS_TO_JUDGE: u64 = 20;
/// Nor are they judged when the law says fewer than this are inside on
/// average: a count that is 0 in almost every sample has a sampled mean of
/// noise (/health: 0.00 vs 0.003, a ratio of nothing).
pub const MIN_IN_FLIGHT_TO_JUDGE: f64 = 0.5;
/// The two sides agree when they are within this share of each other.
pub const AGREEMENT_BAND: f64 = 0.25;

/// What the server said about one steady window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub window_s: f64,
    /// `GET /metrics` answers taken inside the window.
    pub samples: u64,
    /// Samples that timed out or failed (not in the mean).
    pub missed: u64,
    /// L: the time average of the server's `in_flight`.
    pub mean_in_flight: f64,
    pub max_in_flight: u64,
    /// W: the server's mean time inside the handler of this path, ms.
    pub handler_mean_ms: f64,
    /// Requests of this path that finished inside the window.
    pub handler_count: u64,
}

/// Little's law for one window: both sides of L = λ x W, each measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Little {
    /// λ, requests per second: the server's completions inside the window.
    pub throughput: f64,
    /// W, seconds.
    pub handler_mean_s: f64,
    /// λ x W: what the law says the server held on average.
    pub predicted_in_flight: f64,
    /// L, as sampled.
    pub measured_in_flight: f64,
    pub window: Window,
}

impl Little {
    /// The law over one window, λ from the window's own count.
    pub fn of(window: Window) -> Little {
        let throughput =
            if window.window_s > 0.0 { window.handler_count as f64 / window.window_s } else { 0.0 };
        Little::new(throughput, window)
    }

    pub fn new(throughput: f64, window: Window) -> Little {
        let handler_mean_s = window.handler_mean_ms / 1000.0;
        Little {
            throughput,
            handler_mean_s,
            predicted_in_flight: throughput * handler_mean_s,
            measured_in_flight: window.mean_in_flight,
            window,
        }
    }

    /// measured / predicted: 1.0 when the law's two sides agree.
    pub fn ratio(&self) -> f64 {
        if self.predicted_in_flight > 0.0 {
            self.measured_in_flight / self.predicted_in_flight
        } else {
            f64::NAN
        }
    }

    /// Do the two sides agree within `band` (a fraction, 0.25 = 25 %)?
    pub fn agrees(&self, band: f64) -> bool {
        (self.ratio() - 1.0).abs() <= band
    }

    /// Why the two sides differ, when the samples themselves say so: on a
    /// server that answers /metrics from the same threads that do the work
    /// (sync-blocking's handler pool, async-trap's blocked workers), a sample
    /// is only answered while a slot is free, so no sample sees all `slots`
    /// busy and the sampled mean reads low near capacity.
    pub fn observer_note(&self, slots: Option<u64>) -> Option<String> {
        let s = slots?;
        (self.ratio() < 0.8 && self.window.max_in_flight < s && self.predicted_in_flight > (s - 1) as f64).then(|| {
            format!(
                "no sample saw more than {} of {s} slots busy while λ x W says {:.2}: this server answers /metrics \
                 only from a free slot, so the observer cannot see it full",
                self.window.max_in_flight, self.predicted_in_flight
            )
        })
    }

    /// Whether the window held enough requests to judge the two sides
    /// ([`MIN_REQUESTS_TO_JUDGE`]), and enough of them at once ([`MIN_IN_FLIGHT_TO_JUDGE`]).
    pub fn judgeable(&self) -> bool {
        self.window.handler_count >= MIN_REQUESTS_TO_JUDGE
            && self.predicted_in_flight >= MIN_IN_FLIGHT_TO_JUDGE
    }

    /// What the two sides say, judged only where the window held enough
    /// requests: "they agree within 25 % (ratio 0.95)", "they differ...",
    /// or why it cannot say.
    pub fn verdict(&self) -> String {
        let n = self.window.handler_count;
        if n >= MIN_REQUESTS_TO_JUDGE && self.predicted_in_flight < MIN_IN_FLIGHT_TO_JUDGE {
            return format!(
                "too little inside to judge: λ x W = {:.3}, so nearly every sample sees none in a handler; \
                 the law is judged from {MIN_IN_FLIGHT_TO_JUDGE} on average",
                self.predicted_in_flight
            );
        }
        if !self.judgeable() {
            return format!(
                "too few requests to judge: {n} finished in the window, so one more or less moves λ by {:.0} %; \
                 it takes at least {MIN_REQUESTS_TO_JUDGE} (a longer step, or a higher rate)",
                100.0 / n.max(1) as f64
            );
        }
        let band = AGREEMENT_BAND * 100.0;
        if self.agrees(AGREEMENT_BAND) {
            format!(
                "the two sides agree within {band:.0} % (measured / law = {:.2}, {n} requests)",
                self.ratio()
            )
        } else {
            format!("the two sides differ by more than {band:.0} % (measured / law = {:.2}, {n} requests)", self.ratio())
        }
    }

    /// One sentence whose figures multiply out as printed.
    pub fn explain(&self) -> String {
        format!(
            "Little's law: {l:.2} requests in handlers on average (sampled {n} times from /metrics) \
             vs {x:.2}/s x {w:.1} ms = {p:.2} (the server's completions per second x its mean time in the handler, \
             {c} requests in {s:.2} s)",
            l = self.measured_in_flight,
            n = self.window.samples,
            x = self.throughput,
            w = self.handler_mean_s * 1000.0,
            p = self.predicted_in_flight,
            c = self.window.handler_count,
            s = self.window.window_s,
        )
    }
}

/// Samples one window of a server's /metrics on a thread of its own
/// (`harness::request` blocks), while the caller runs the load.
pub struct WindowSampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Result<Window, String>>,
}

impl WindowSampler {
    /// Starts a window `from` after now, ending `until` after now (or at
    /// [`WindowSampler::finish`], whichever comes first), for requests of `path`.
    pub fn start(addr: SocketAddr, path: &str, from: Duration, until: Duration) -> WindowSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let label = path.split('?').next().unwrap_or_default().to_string();
        let t0 = Instant::now();
        let handle =
            std::thread::spawn(move || sample_window(addr, &label, t0 + from, t0 + until, &flag));
        WindowSampler { stop, handle }
    }

    /// Ends the window now if it has not ended, and returns it.
    pub fn finish(self) -> Result<Window, String> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_else(|_| Err("the /metrics sampler panicked".into()))
    }
}

fn sample_window(
    addr: SocketAddr,
    label: &str,
    from: Instant,
    until: Instant,
    stop: &AtomicBool,
) -> Result<Window, String> {
    while Instant::now() < from {
        if stop.load(Ordering::Relaxed) {
            return Err("the load ended before the window began".into());
        }
        std::thread::sleep((from - Instant::now()).min(SAMPLE_EVERY));
    }
    control(addr, "POST", "/metrics/reset")?;
    let started = Instant::now();
    let (mut sum, mut samples, mut missed, mut max) = (0u64, 0u64, 0u64, 0u64);
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let asked = Instant::now();
        match control(addr, "GET", "/metrics") {
            Ok(m) => {
                sum += m.in_flight;
                samples += 1;
                max = max.max(m.in_flight);
            }
            Err(_) => missed += 1,
        }
        // Evenly spaced in time, so the mean of the samples is a time average.
        std::thread::sleep(SAMPLE_EVERY.saturating_sub(asked.elapsed()));
    }
    let window = started.elapsed();
    let last = control(addr, "GET", "/metrics")?;
    if samples < MIN_SAMPLES {
        return Err(format!(
            "only {samples} /metrics samples in the window ({missed} missed): too few for a mean"
        ));
    }
    let stats = last.endpoints.get(label);
    Ok(Window {
        window_s: window.as_secs_f64(),
        samples,
        missed,
        mean_in_flight: sum as f64 / samples as f64,
        max_in_flight: max,
        handler_mean_ms: stats.map_or(0.0, |s| s.mean_ms),
        handler_count: stats.map_or(0, |s| s.count),
    })
}

/// One control request with a short timeout, parsed.
fn control(addr: SocketAddr, method: &str, path: &str) -> Result<MetricsSnapshot, String> {
    let (status, body) = harness::request(addr, method, path, SAMPLE_TIMEOUT)
        .map_err(|e| format!("{method} {path}: {e}"))?;
    if status != 200 {
        return Err(format!("{method} {path} answered {status} (is this a kit server?)"));
    }
    serde_json::from_str(&body)
        .map_err(|e| format!("{path} is not a kit server's metrics JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(l: f64, w_ms: f64) -> Window {
        Window {
            window_s: 1.0,
            samples: 50,
            missed: 0,
            mean_in_flight: l,
            max_in_flight: 4,
            handler_mean_ms: w_ms,
            handler_count: 20,
        }
    }

    #[test]
    fn both_sides_multiply_out() {
        // 20/s x 100 ms = 2 in flight.
        let little = Little::new(20.0, window(2.1, 100.0));
        assert!((little.predicted_in_flight - 2.0).abs() < 1e-9);
        assert!((little.ratio() - 1.05).abs() < 1e-9);
        assert!(little.agrees(0.10) && !little.agrees(0.01));
        let text = little.explain();
        assert!(
            text.contains("2.10 requests") && text.contains("20.00/s x 100.0 ms = 2.00"),
            "{text}"
        );
        // λ from the window's own count: 20 requests in 1 s.
        assert!((Little::of(window(2.1, 100.0)).throughput - 20.0).abs() < 1e-9);
    }

    /// 5 requests in a window: 3.00 vs 3.33 is not offered as agreement,
    /// and the count is said.
    #[test]
    fn a_window_of_few_requests_is_not_judged() {
        let mut w = window(3.0, 500.0);
        w.handler_count = 5;
        w.window_s = 0.75;
        let little = Little::of(w);
        assert!(!little.judgeable());
        let verdict = little.verdict();
        assert!(
            verdict.contains("too few requests to judge")
                && verdict.contains("5 finished")
                && !verdict.contains("agree"),
            "{verdict}"
        );
        assert!(little.explain().contains("5 requests in 0.75 s"), "{}", little.explain());
        // 20 requests: judged, either way.
        assert!(Little::new(20.0, window(2.1, 100.0)).verdict().contains("agree within 25 %"));
        assert!(Little::new(20.0, window(3.0, 100.0))
            .verdict()
            .contains("differ by more than 25 %"));
        // /health: 400/s x 0.003 ms is 0.0012 inside on average; the samples read 0.
        let health = Little::new(400.0, Window { handler_count: 1000, ..window(0.0, 0.003) });
        assert!(
            !health.judgeable() && health.verdict().contains("too little inside to judge"),
            "{}",
            health.verdict()
        );
    }

    #[test]
    fn no_handler_time_never_agrees() {
        let little = Little::new(20.0, window(2.0, 0.0));
        assert!(little.ratio().is_nan() && !little.agrees(0.5));
    }

    #[test]
    fn an_observer_that_needs_a_slot_is_named() {
        // 40/s x 100 ms = 4 on 4 slots, but the samples never saw more than 3.
        let mut w = window(3.0, 100.0);
        w.max_in_flight = 3;
        let little = Little::new(40.0, w);
        let note = little.observer_note(Some(4)).expect("a note");
        assert!(note.contains("more than 3 of 4 slots"), "{note}");
        assert!(little.observer_note(None).is_none());
        assert!(Little::new(20.0, window(2.0, 100.0)).observer_note(Some(4)).is_none());
    }
}

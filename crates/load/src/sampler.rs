//! The server's own view during an attack: where the target is a kit server
//! (it answers `GET /metrics` with the kit's JSON), a sampler thread reads
//! its `in_flight`, executor lag, RSS and open descriptors a few times per
//! interval, next to the client's counts in [`crate::intervals`]. Any other
//! server gets no samples, and [`ServerWatch`] says why.
//!
//! RSS and descriptors answer "does it creep?": [`Resources`] takes them at
//! the start, after the warm-up ([`warm_up_s`]) and at the end, and
//! [`flat_after_warm_up`] is the check the soak test makes of them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kit_measure::harness;
use kit_serve::contract::Endpoint;
use kit_serve::contract::MetricsSnapshot;
use serde::{Deserialize, Serialize};

use crate::lock;

/// How often the server's /metrics is read: five samples in a 1 s interval
/// is enough for a mean, and 5 requests/s do not load any server.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// The samples of /metrics that fell inside one interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerInterval {
    pub samples: u64,
    pub mean_in_flight: f64,
    pub max_in_flight: u64,
    /// The mean of the server's recent executor lag (the most its runtime's
    /// heartbeat was late lately); `None` on servers without a runtime.
    pub mean_executor_lag_ms: Option<f64>,
    /// The server's RSS and open descriptors at its last sample in the
    /// interval; `None` where the server gave no reading (absent from
    /// series written before they were sampled).
    #[serde(default)]
    pub rss_bytes: Option<u64>,
    #[serde(default)]
    pub open_fds: Option<u64>,
}

/// One reading of the server's /metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSample {
    /// Seconds after the first due time, halfway through the request.
    pub t_s: f64,
    pub in_flight: u64,
    pub executor_lag_ms: Option<f64>,
    /// `None` where the server's OS gave no reading, never a 0.
    #[serde(default)]
    pub rss_bytes: Option<u64>,
    /// Counted by the server, so the sampler's own connection is one of them.
    #[serde(default)]
    pub open_fds: Option<u64>,
}

/// The warm-up of a run of `run_s` seconds: its first 20 %, or its first
/// 10 s, whichever is shorter. Connections are opened, pools and buffers
/// grow to the load, and the allocator takes what it keeps: none of that
/// is creep. A 5-minute soak warms up for 10 s, a 20 s test for 4 s.
pub fn warm_up_s(run_s: f64) -> f64 {
    (run_s * 0.2).min(10.0)
}

/// The words the summaries and docs use for [`warm_up_s`].
pub const WARM_UP_RULE: &str = "the shorter of the run's first 20 % and its first 10 s";

/// The server's RSS and open descriptors at one moment of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub t_s: f64,
    pub rss_bytes: Option<u64>,
    pub open_fds: Option<u64>,
}

impl Reading {
    fn of(s: &ServerSample) -> Reading {
        Reading { t_s: s.t_s, rss_bytes: s.rss_bytes, open_fds: s.open_fds }
    }

    /// "14.2 MiB, 12 descriptors at 0.2 s"; a missing reading says so.
    pub fn describe(&self) -> String {
        let rss = self.rss_bytes.map_or("RSS not read".into(), mib_text);
        let fds =
            self.open_fds.map_or("descriptors not read".into(), |n| format!("{n} descriptors"));
        format!("{rss}, {fds} at {:.1} s", self.t_s)
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// "14.2 MiB": how the summaries and the dashboard show an RSS.
pub fn mib_text(bytes: u64) -> String {
    format!("{:.1} MiB", mib(bytes))
}

/// The server's RSS and open descriptors at the start of the run, after
/// its warm-up, and at the end: flat from the second to the third, or
/// something grows with the requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// The warm-up's length, [`warm_up_s`] of the run.
    pub warm_up_s: f64,
    /// The first sample.
    pub start: Reading,
    /// The first sample at or after the warm-up's end.
    pub after_warm_up: Reading,
    /// The last sample.
    pub end: Reading,
}

impl Resources {
    /// From the samples of a run of `run_s` seconds; `None` with no samples
    /// (not a kit server, or not sampled): no readings, not zeros.
    pub fn of(samples: &[ServerSample], run_s: f64) -> Option<Resources> {
        let (first, last) = (samples.first()?, samples.last()?);
        let warm_up_s = warm_up_s(run_s);
        let warm = samples.iter().find(|s| s.t_s >= warm_up_s).unwrap_or(last);
        Some(Resources {
            warm_up_s,
            start: Reading::of(first),
            after_warm_up: Reading::of(warm),
            end: Reading::of(last),
        })
    }

    /// What changed from after the warm-up to the end: "+0.3 MiB RSS, +0
    /// descriptors"; a missing reading says so.
    pub fn growth(&self) -> String {
        let (w, e) = (&self.after_warm_up, &self.end);
        let rss = match (w.rss_bytes, e.rss_bytes) {
            (Some(w), Some(e)) => format!("{:+.1} MiB RSS", mib(e) - mib(w)),
            _ => "RSS not read".into(),
        };
        let fds = match (w.open_fds, e.open_fds) {
            (Some(w), Some(e)) => format!("{:+} descriptors", e as i64 - w as i64),
            _ => "descriptors not read".into(),
        };
        format!("{rss}, {fds}")
    }
}

/// How far a reading after the warm-up may stray from the reading taken
/// when it ended, and still count as flat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    /// Descriptors, either way: connections come and go with the load.
    pub fds: u64,
    /// Bytes of RSS above the post-warm-up reading (falling is never creep).
    pub rss_bytes: u64,
}

/// Whether RSS and open descriptors stayed within `band` of the reading
/// after the warm-up ([`Resources::after_warm_up`]) in every later sample.
/// Fails closed: no samples, or a sample without a reading, is an error, not
/// a pass. The error names the first sample out of the band.
pub fn flat_after_warm_up(
    samples: &[ServerSample],
    run_s: f64,
    band: Band,
) -> Result<Resources, String> {
    let resources = Resources::of(samples, run_s).ok_or("no samples of the server's /metrics")?;
    let base = &resources.after_warm_up;
    let (Some(base_rss), Some(base_fds)) = (base.rss_bytes, base.open_fds) else {
        return Err(format!("no reading after the warm-up: {}", base.describe()));
    };
    for s in samples.iter().filter(|s| s.t_s > base.t_s) {
        let (Some(rss), Some(fds)) = (s.rss_bytes, s.open_fds) else {
            return Err(format!("a sample without a reading: {}", Reading::of(s).describe()));
        };
        if fds.abs_diff(base_fds) > band.fds {
            return Err(format!(
                "descriptors went from {base_fds} after the warm-up ({:.1} s) to {fds} at {:.1} s, \
                 more than {} either way",
                base.t_s, s.t_s, band.fds
            ));
        }
        if rss > base_rss + band.rss_bytes {
            return Err(format!(
                "RSS went from {:.1} MiB after the warm-up ({:.1} s) to {:.1} MiB at {:.1} s, \
                 more than {:.1} MiB up",
                mib(base_rss),
                base.t_s,
                mib(rss),
                s.t_s,
                mib(band.rss_bytes)
            ));
        }
    }
    Ok(resources)
}

/// Whether the server's own view was sampled, and if not why not.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ServerWatch {
    /// Not asked for (an API caller turned it off), or the attack ended first.
    #[default]
    Off,
    /// A kit server: its /metrics was read every `every_ms`.
    Sampled { variant: String, every_ms: u64, samples: u64, failed: u64 },
    /// Its /metrics did not answer with the kit's JSON: no samples.
    NotAKitServer { why: String },
}

impl ServerWatch {
    /// One line for a person.
    pub fn describe(&self) -> String {
        match self {
            ServerWatch::Off => "not sampled".into(),
            ServerWatch::Sampled { variant, every_ms, samples, failed } => {
                let failed = if *failed > 0 { format!(", {failed} failed") } else { String::new() };
                format!("{variant}: /metrics read every {every_ms} ms ({samples} samples{failed})")
            }
            ServerWatch::NotAKitServer { why } => {
                format!("not a kit server ({why}): no server-side samples")
            }
        }
    }
}

/// The samples that fell inside `start_s..end_s`, summed up; `None` when none did.
pub(crate) fn server_interval(
    samples: &[ServerSample],
    start_s: f64,
    end_s: f64,
) -> Option<ServerInterval> {
    let mine: Vec<&ServerSample> =
        samples.iter().filter(|s| s.t_s >= start_s && s.t_s < end_s).collect();
    if mine.is_empty() {
        return None;
    }
    let n = mine.len() as f64;
    let lags: Vec<f64> = mine.iter().filter_map(|s| s.executor_lag_ms).collect();
    Some(ServerInterval {
        samples: mine.len() as u64,
        mean_in_flight: mine.iter().map(|s| s.in_flight as f64).sum::<f64>() / n,
        max_in_flight: mine.iter().map(|s| s.in_flight).max().unwrap_or(0),
        mean_executor_lag_ms: (!lags.is_empty())
            .then(|| lags.iter().sum::<f64>() / lags.len() as f64),
        rss_bytes: mine.last().and_then(|s| s.rss_bytes),
        open_fds: mine.last().and_then(|s| s.open_fds),
    })
}

/// Reads the server's /metrics every [`SAMPLE_EVERY`] on a thread of its
/// own (a blocking client: the samples never wait for the attack's runtime,
/// and the attack's runtime never waits for them).
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<ServerSample>>>,
    /// What the thread has found so far: a live view shows it as it goes.
    watch: Arc<Mutex<ServerWatch>>,
    /// Taken by `finish`.
    handle: Option<std::thread::JoinHandle<()>>,
}

/// An attack dropped midway (Ctrl-C) must not leave the thread sampling.
impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Sampler {
    pub fn start(addr: SocketAddr, t0: Instant) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let watch = Arc::new(Mutex::new(ServerWatch::Off));
        let (flag, into, found) = (stop.clone(), samples.clone(), watch.clone());
        let handle = std::thread::spawn(move || sample(addr, t0, &flag, &into, &found));
        Sampler { stop, samples, watch, handle: Some(handle) }
    }

    /// What sampling has found so far, for a person.
    pub fn describe(&self) -> String {
        match &*lock(&self.watch) {
            ServerWatch::Off => "waiting for the first /metrics sample".into(),
            watch => watch.describe(),
        }
    }

    /// The samples so far.
    pub fn samples(&self) -> Vec<ServerSample> {
        lock(&self.samples).clone()
    }

    pub fn finish(mut self) -> (ServerWatch, Vec<ServerSample>) {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().expect("finished once");
        handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let samples = std::mem::take(&mut *lock(&self.samples));
        (lock(&self.watch).clone(), samples)
    }
}

/// The sampler thread. The first answer decides whether this is a kit
/// server at all (a 404 or other JSON: it is not, and sampling ends). A
/// request that gets no answer in time decides nothing (a blocking server
/// whose every slot is taken queues /metrics too): counted as failed once
/// sampling has begun, and if no sample ever came, the last such failure is
/// the reason given.
fn sample(
    addr: SocketAddr,
    t0: Instant,
    stop: &AtomicBool,
    into: &Mutex<Vec<ServerSample>>,
    found: &Mutex<ServerWatch>,
) {
    let path = Endpoint::Metrics.path();
    // Err((why, whether the server answered at all)).
    let read = || -> Result<(f64, MetricsSnapshot), (String, bool)> {
        let asked = Instant::now();
        let (status, body) = harness::get(addr, path, SAMPLE_EVERY * 5)
            .map_err(|e| (format!("GET {path}: {e}"), false))?;
        let at = asked + (Instant::now() - asked) / 2;
        if status != 200 {
            return Err((format!("GET {path} answered {status}"), true));
        }
        let snap = serde_json::from_str(&body)
            .map_err(|_| (format!("GET {path} is not the kit's metrics JSON"), true))?;
        Ok((at.saturating_duration_since(t0).as_secs_f64(), snap))
    };
    let mut unanswered = None;
    let every_ms = SAMPLE_EVERY.as_millis() as u64;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let result = read();
        let mut watch = lock(found);
        match (result, &mut *watch) {
            (Ok((t_s, snap)), watch) => {
                let lag = snap.executor_lag_ms.map(|l| l.recent);
                lock(into).push(ServerSample {
                    t_s,
                    in_flight: snap.in_flight,
                    executor_lag_ms: lag,
                    rss_bytes: snap.rss_bytes,
                    open_fds: snap.open_fds,
                });
                match watch {
                    ServerWatch::Sampled { samples, .. } => *samples += 1,
                    other => {
                        *other = ServerWatch::Sampled {
                            variant: snap.variant,
                            every_ms,
                            samples: 1,
                            failed: 0,
                        }
                    }
                }
            }
            (Err(_), ServerWatch::Sampled { failed, .. }) => *failed += 1,
            (Err((why, true)), watch) => {
                *watch = ServerWatch::NotAKitServer { why };
                return;
            }
            (Err((why, false)), _) => unanswered = Some(why),
        }
        drop(watch);
        next += SAMPLE_EVERY;
        // Short sleeps, so that the end of the attack is not held up.
        while !stop.load(Ordering::Relaxed) && Instant::now() < next {
            std::thread::sleep((next - Instant::now()).min(Duration::from_millis(20)));
        }
    }
    let mut watch = lock(found);
    if let (ServerWatch::Off, Some(why)) = (&*watch, unanswered) {
        *watch = ServerWatch::NotAKitServer { why };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    /// The soak test's band (servers/tests/alone/soak.rs says why).
    const BAND: Band = Band { fds: 8, rss_bytes: 4 * MIB };

    /// Five samples a second ([`SAMPLE_EVERY`]) for `seconds`, with
    /// descriptors and RSS as functions of the time.
    fn series(
        seconds: f64,
        fds: impl Fn(f64) -> u64,
        rss: impl Fn(f64) -> u64,
    ) -> Vec<ServerSample> {
        assert_eq!(SAMPLE_EVERY, Duration::from_millis(200));
        (0..=(seconds * 5.0) as u64)
            .map(|i| {
                // Divided, not multiplied by 0.2: whole seconds stay exact.
                let t_s = i as f64 / 5.0;
                ServerSample {
                    t_s,
                    rss_bytes: Some(rss(t_s)),
                    open_fds: Some(fds(t_s)),
                    ..Default::default()
                }
            })
            .collect()
    }

    #[test]
    fn the_warm_up_is_a_fifth_of_the_run_up_to_10_s() {
        assert_eq!((warm_up_s(20.0), warm_up_s(50.0), warm_up_s(300.0)), (4.0, 10.0, 10.0));
    }

    /// What a healthy server does: a climb while connections open and the
    /// allocator grows, then flat with a little noise either way.
    #[test]
    fn a_warm_up_climb_then_noise_is_flat() {
        let s = series(
            20.0,
            |t| if t < 3.0 { 10 + (t * 10.0) as u64 } else { 40 + (t * 5.0) as u64 % 3 },
            |t| {
                if t < 3.0 {
                    (10.0 + t * 10.0) as u64 * MIB
                } else {
                    40 * MIB + (t as u64 % 2) * MIB
                }
            },
        );
        let r = flat_after_warm_up(&s, 20.0, BAND).expect("flat");
        assert_eq!((r.warm_up_s, r.start.open_fds, r.after_warm_up.t_s), (4.0, Some(10), 4.0));
        assert_eq!(
            r.growth(),
            format!(
                "+0.0 MiB RSS, {:+} descriptors",
                r.end.open_fds.unwrap() as i64 - r.after_warm_up.open_fds.unwrap() as i64
            )
        );
    }

    /// The band must catch the leaks it is there for, within a 20 s run:
    /// one descriptor a second (one per 50 requests at the soak test's
    /// 100/s is two a second, caught sooner).
    #[test]
    fn a_leak_of_one_descriptor_a_second_is_caught() {
        let leak = series(20.0, |t| 40 + t as u64, |_| 40 * MIB);
        let err = flat_after_warm_up(&leak, 20.0, BAND).expect_err("a leak");
        assert!(
            err.starts_with("descriptors went from 44 after the warm-up (4.0 s) to 53 at 13.0 s"),
            "{err}"
        );
        // Just inside the band is still flat: the check is the band, not any change.
        let within = series(20.0, |t| 40 + (t as u64).min(12), |_| 40 * MIB);
        assert!(flat_after_warm_up(&within, 20.0, BAND).is_ok());
    }

    /// 4 KiB kept per request at the soak test's 100/s is 400 KiB a second:
    /// past 4 MiB about 10 s after the warm-up.
    #[test]
    fn rss_that_grows_with_the_requests_is_caught() {
        let leak = series(20.0, |_| 40, |t| 40 * MIB + (t * 400.0) as u64 * 1024);
        let err = flat_after_warm_up(&leak, 20.0, BAND).expect_err("a leak");
        assert!(
            err.starts_with(
                "RSS went from 41.6 MiB after the warm-up (4.0 s) to 45.6 MiB at 14.4 s"
            ),
            "{err}"
        );
    }

    /// No samples, or a sample without a reading, fails: never a pass by default.
    #[test]
    fn a_missing_reading_fails_closed() {
        assert!(flat_after_warm_up(&[], 20.0, BAND).unwrap_err().contains("no samples"));
        let mut s = series(20.0, |_| 40, |_| 40 * MIB);
        s[60].open_fds = None;
        let err = flat_after_warm_up(&s, 20.0, BAND).unwrap_err();
        assert!(err.contains("descriptors not read at 12.0 s"), "{err}");
        assert_eq!(Resources::of(&[], 20.0), None);
    }
}

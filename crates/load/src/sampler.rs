//! The server's own view during an attack: where the target is a kit server
//! (it answers `GET /metrics` with the kit's JSON), a sampler thread reads
//! its `in_flight` and executor lag a few times per interval, next to the
//! client's counts in [`crate::intervals`]. Any other server gets no
//! samples, and [`ServerWatch`] says why.

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
}

/// One reading of the server's /metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerSample {
    /// Seconds after the first due time, halfway through the request.
    pub t_s: f64,
    pub in_flight: u64,
    pub executor_lag_ms: Option<f64>,
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

//! The burst: N requests fired at once, one connection each, the way the
//! original demo measures a server. The harness resets the server's metrics,
//! fires, and reads them again, so one `Burst` holds the client's view
//! (total time, latency percentiles, errors) next to the server's own
//! (`peak_in_flight`), plus the OS thread count watched from outside
//! (`crate::process_watch::ProcessWatcher`).
//!
//! All N connections are opened before the first request is written, so the
//! N requests reach the server within milliseconds of each other; the time
//! that took is kept apart (`connect`) and is not part of `total`. The
//! client closes its sockets only after the last answer (see [`crate::client::raw`]).
//!
//! What counts as an error is stricter here than in the load generators:
//! anything but a 2xx ([`outcome::is_contract_answer`]), because a burst asks
//! for the contract's endpoints, which must answer 2xx.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Barrier;

use crate::client::progress::{with_progress, Progress};
use crate::client::url::validate_url;
use crate::client::{hyper_conn, outcome, raw};
use crate::harness::{HarnessError, Result, Target};
use crate::latency::{Latencies, Summary};
use crate::process_watch::{Peaks, ProcessWatcher};
use crate::slots::{Row, SlotModel};
use kit_serve::contract::MetricsSnapshot;
use kit_serve::net;

/// What happened to one burst.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Burst {
    pub path: String,
    pub n: u64,
    /// Opening the n connections, before the first request was sent.
    pub connect: Duration,
    /// From the moment all requests were sent to the last answer (or the deadline).
    pub total: Duration,
    /// 2xx answers.
    pub ok: u64,
    /// Transport failures, timeouts and non-2xx answers: `n - ok`. Stricter
    /// than bench's and attack's rule on purpose, see the module docs.
    pub errors: u64,
    pub timed_out: u64,
    pub status_counts: BTreeMap<u16, u64>,
    pub error_kinds: BTreeMap<String, u64>,
    pub latency: Summary,
    pub rps: f64,
    /// The most OS threads the server had at once, watched from outside
    /// (`None`: this system gives no reading, and checks on it fail closed).
    pub peak_threads: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub before: MetricsSnapshot,
    pub after: MetricsSnapshot,
    /// Every request from sent to answered (or failed), in the order they
    /// were fired: the timeline chart's bars.
    #[serde(default)]
    pub spans: Vec<Span>,
}

/// One request of a burst on the burst's own clock: seconds from the first
/// send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub sent_s: f64,
    /// When the answer (or the failure) came.
    pub answered_s: f64,
    /// A 2xx answer.
    pub ok: bool,
}

/// A burst's spans with what the slot model says about them: one panel of
/// the timeline chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub variant: String,
    pub endpoint: String,
    pub slots: Option<u64>,
    /// The model's t, seconds.
    pub t_s: f64,
    pub spans: Vec<Span>,
}

impl Timeline {
    /// The round a request waited for, counted from its answer time: the
    /// k-th multiple of t it came back at (at least 1). On s slots the
    /// requests come back in ceil(N / s) such rounds; on unbounded slots,
    /// all in round 1.
    pub fn round_of(&self, span: &Span) -> u64 {
        if self.t_s <= 0.0 {
            return 1;
        }
        (span.answered_s / self.t_s).round().max(1.0) as u64
    }

    /// How many distinct rounds the answers came back in.
    pub fn rounds(&self) -> u64 {
        let mut rounds: Vec<u64> = self.spans.iter().map(|s| self.round_of(s)).collect();
        rounds.sort_unstable();
        rounds.dedup();
        rounds.len() as u64
    }
}

impl Burst {
    /// The slot model for this burst, given how long one request needs alone.
    pub fn model(&self, t: Duration) -> SlotModel {
        SlotModel::new(self.n, t, self.after.slots)
    }

    pub fn peak_in_flight(&self) -> u64 {
        self.after.peak_in_flight
    }

    /// The time one request spent inside its handler, as the server itself
    /// measured it (the p50 of this path in its /metrics). `None` when the
    /// server recorded no request on this path.
    pub fn handler_time(&self) -> Option<Duration> {
        let label = self.path.split('?').next().unwrap_or_default();
        self.after
            .endpoints
            .get(label)
            .filter(|e| e.count > 0)
            .map(|e| Duration::from_secs_f64(e.p50_ms / 1000.0))
    }

    /// The requests as bars on a clock, judged by `model`'s t.
    pub fn timeline(&self, model: SlotModel) -> Timeline {
        Timeline {
            variant: self.after.variant.clone(),
            endpoint: self.path.split('?').next().unwrap_or_default().to_string(),
            slots: model.slots,
            t_s: model.t.as_secs_f64(),
            spans: self.spans.clone(),
        }
    }

    /// This burst as a table row, under the server's own slots.
    pub fn row(&self, t: Duration) -> Row {
        self.row_under(self.model(t))
    }

    /// This burst as a table row, judged by `model` (for work whose slots
    /// are not the server's own, such as CPU work bounded by the cores).
    pub fn row_under(&self, model: SlotModel) -> Row {
        Row {
            variant: self.after.variant.clone(),
            endpoint: self.path.split('?').next().unwrap_or_default().to_string(),
            concurrency: self.n,
            total_s: self.total.as_secs_f64(),
            rps: self.rps,
            p50_ms: self.latency.p50_ms,
            p95_ms: self.latency.p95_ms,
            p99_ms: self.latency.p99_ms,
            max_ms: self.latency.max_ms,
            errors: self.errors,
            slots: model.slots,
            t_s: model.t.as_secs_f64(),
            rounds: model.rounds(),
            model_s: model.predicted().as_secs_f64(),
            // Requests that waited at once, from the server's own time per
            // request where it has one. CPU cells keep the model's t: their
            // handler time includes the queue for a core.
            measured_slots: SlotModel { t: self.measured_t(&model), ..model }
                .measured_slots(self.total),
            peak_in_flight: self.peak_in_flight(),
            speedup: None,
        }
    }
}

impl Burst {
    fn measured_t(&self, model: &SlotModel) -> Duration {
        match self.handler_time() {
            Some(t) if !self.path.starts_with("/cpu-intensive") => t,
            _ => model.t,
        }
    }
}

/// Fires `n` concurrent `GET path` at `server`, each on its own connection,
/// and gives up on whatever is unanswered `deadline` after it began.
pub fn burst(server: &impl Target, path: &str, n: u64, deadline: Duration) -> Result<Burst> {
    burst_with_progress(server, path, n, deadline, None)
}

/// `burst`, with the load generators' progress hook for a live view: called
/// with the number of requests finished so far, about ten times a second and
/// once at the end, on the calling thread.
pub fn burst_with_progress(
    server: &impl Target,
    path: &str,
    n: u64,
    deadline: Duration,
    progress: Option<Progress<'_>>,
) -> Result<Burst> {
    burst_with(server, path, n, deadline, false, progress)
}

/// `burst_with_progress`, saying whether each request keeps its
/// connection alive. Without (every burst but `kit stress`'s), each request
/// says `Connection: close` and the server closes its end after answering,
/// inside the measured time: on a 4-slot blocking server an idle kept-alive
/// connection would hold a slot. With `keep_alive`, no side closes until
/// the clock has stopped (see [`raw`]).
pub fn burst_with(
    server: &impl Target,
    path: &str,
    n: u64,
    deadline: Duration,
    keep_alive: bool,
    progress: Option<Progress<'_>>,
) -> Result<Burst> {
    let paths = vec![path.to_string(); n as usize];
    measure(server, path, &paths, deadline, keep_alive, progress)
}

/// A burst of one request per path, all at once, each on its own
/// connection: 100 requests for 100 different products. `label` names the
/// burst in its `path` (`/price?product=0..99`).
pub fn burst_each(
    server: &impl Target,
    label: &str,
    paths: &[String],
    deadline: Duration,
) -> Result<Burst> {
    measure(server, label, paths, deadline, false, None)
}

fn measure(
    server: &impl Target,
    label: &str,
    paths: &[String],
    deadline: Duration,
    keep_alive: bool,
    progress: Option<Progress<'_>>,
) -> Result<Burst> {
    net::raise_open_files_limit();
    let before = server.reset_metrics()?;
    let watcher = server.pid().map(ProcessWatcher::start);
    let outcome = runtime()?.block_on(fire(server.url(), paths, deadline, keep_alive, progress))?;
    let watched = watcher.map(ProcessWatcher::stop);
    let after = server.metrics().map_err(|e| {
        HarnessError(format!(
            "{e}\n(the server stopped answering during the burst: {})",
            outcome.summary()
        ))
    })?;
    // A server that is not ours reports its own threads and memory.
    let peaks = watched.unwrap_or(Peaks { threads: after.os_threads, rss_bytes: after.rss_bytes });
    Ok(outcome.into_burst(label, before, after, peaks))
}

/// A burst as the client saw it: every burst's first half (a [`Burst`] adds
/// the server's own metrics to it), and all there is of one at a server
/// with no `/metrics` (`kit slots` on any URL).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outside {
    pub n: u64,
    /// Opening the n connections, before the first request was sent.
    pub connect: Duration,
    /// From the first send to the last answer (or the deadline).
    pub total: Duration,
    pub status_counts: BTreeMap<u16, u64>,
    pub error_kinds: BTreeMap<String, u64>,
    pub timed_out: u64,
    pub latency: Summary,
    /// Every request, on the burst's own clock.
    pub spans: Vec<Span>,
}

impl Outside {
    /// 2xx answers: the answers a burst of the contract's endpoints asks for.
    pub fn ok(&self) -> u64 {
        self.status_counts
            .iter()
            .filter(|(s, _)| outcome::is_contract_answer(**s))
            .map(|(_, c)| c)
            .sum()
    }

    /// Requests without a 2xx answer.
    pub fn errors(&self) -> u64 {
        self.n - self.ok()
    }
}

/// Fires `n` concurrent `GET url`, each on its own connection, all
/// connections open before the first request is sent, and reads nothing
/// from the server but its answers. Any http:// server.
pub fn burst_outside(url: &str, n: u64, deadline: Duration) -> Result<Outside> {
    let url = validate_url(url).map_err(|e| HarnessError(e.to_string()))?;
    net::raise_open_files_limit();
    let paths = vec![url.target().to_string(); n as usize];
    runtime()?.block_on(fire(&url.origin(), &paths, deadline, false, None))
}

/// A runtime for the client side. Two workers: enough to keep 10,000
/// connections moving, few enough to leave the server its cores.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| HarnessError(format!("cannot start the client runtime: {e}")))
}

/// One request: when it was sent, when it came back, its status or failure
/// kind, and its socket, still open (closed after the last answer).
type Answer =
    (Instant, Instant, std::result::Result<u16, &'static str>, Option<tokio::net::TcpStream>);

/// Opens all `n` connections, then sends all `n` requests at once. Opening
/// a connection costs the client more than writing a request (1000 connects
/// take a few hundred ms on 2 cores): connecting first keeps that ramp out of
/// the burst, so every request is in flight within a few ms and
/// `peak_in_flight` measures the server's slots, not the client's pace.
/// One task per request (connection, request and answer), through the
/// lean client of [`raw`].
async fn fire(
    base: &str,
    paths: &[String],
    deadline: Duration,
    keep_alive: bool,
    progress: Option<Progress<'_>>,
) -> Result<Outside> {
    let first = paths.first().map_or("/", String::as_str);
    let get = hyper_conn::resolve(&format!("{base}{first}"), keep_alive, deadline)
        .await
        .map_err(|e| HarnessError(e.to_string()))?;
    let addr = get.addr;
    // One request per path, all to the address the first one found; the
    // same path shares one buffer.
    let mut requests: Vec<Arc<[u8]>> = Vec::with_capacity(paths.len());
    let mut previous: Option<(&str, Arc<[u8]>)> = None;
    for path in paths {
        let request = match &previous {
            Some((same, request)) if same == path => request.clone(),
            _ => {
                let url = validate_url(&format!("{base}{path}"))
                    .map_err(|e| HarnessError(e.to_string()))?;
                hyper_conn::Get::new(&url, addr, keep_alive).raw_request().into()
            }
        };
        previous = Some((path, request.clone()));
        requests.push(request);
    }
    let until = tokio::time::Instant::now() + deadline;
    let go = Arc::new(Barrier::new(requests.len() + 1));
    let done = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (go, done) = (go.clone(), done.clone());
            tokio::spawn(async move {
                let connected = tokio::time::timeout_at(until, raw::connect(addr)).await;
                go.wait().await;
                let sent = Instant::now();
                let (result, socket) = match connected {
                    Ok(Ok(mut socket)) => {
                        let exchange = raw::exchange(&mut socket, &request);
                        let result = tokio::time::timeout_at(until, exchange)
                            .await
                            .unwrap_or(Err(outcome::TIMEOUT_KIND));
                        (result, Some(socket))
                    }
                    Ok(Err(kind)) => (Err(kind), None),
                    Err(_) => (Err(outcome::TIMEOUT_KIND), None),
                };
                done.fetch_add(1, Ordering::Relaxed);
                (sent, Instant::now(), result, socket)
            })
        })
        .collect();
    with_progress(collect(tasks, &go), &done, progress).await
}

/// Releases the requests once every connection is open, then waits for
/// each of them: the coordinator's half of [`fire`]. The sockets are
/// closed after the clock stops: closing 10,000 of them is the client's
/// work, and on shared cores it would slow the server it measures.
async fn collect(tasks: Vec<tokio::task::JoinHandle<Answer>>, go: &Barrier) -> Result<Outside> {
    let connecting = Instant::now();
    go.wait().await;
    let connect = connecting.elapsed();
    let started = Instant::now();
    let mut outcome = Outside {
        n: tasks.len() as u64,
        connect,
        total: Duration::ZERO,
        latency: Summary::default(),
        status_counts: BTreeMap::new(),
        error_kinds: BTreeMap::new(),
        timed_out: 0,
        spans: Vec::with_capacity(tasks.len()),
    };
    let mut latencies = Latencies::default();
    let mut answers = Vec::with_capacity(tasks.len());
    let mut sockets = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (sent, back, result, socket) =
            task.await.map_err(|e| HarnessError(format!("request task failed: {e}")))?;
        answers.push((sent, back, result));
        sockets.extend(socket);
    }
    outcome.total = started.elapsed();
    drop(sockets);
    // The burst's clock starts at its first send (every task sends right
    // after the same barrier, within a few ms of each other).
    let first = answers.iter().map(|(sent, _, _)| *sent).min().unwrap_or(started);
    for (sent, back, result) in answers {
        let ok = matches!(result, Ok(status) if outcome::is_contract_answer(status));
        let since = |at: Instant| at.saturating_duration_since(first).as_secs_f64();
        outcome.spans.push(Span { sent_s: since(sent), answered_s: since(back), ok });
        match result {
            Ok(status) => {
                latencies.record(back - sent);
                *outcome.status_counts.entry(status).or_default() += 1;
            }
            Err(kind) => {
                outcome.timed_out += u64::from(kind == outcome::TIMEOUT_KIND);
                *outcome.error_kinds.entry(kind.to_string()).or_default() += 1;
            }
        }
    }
    outcome.latency = latencies.summary();
    Ok(outcome)
}

impl Outside {
    fn summary(&self) -> String {
        format!(
            "{} answered, errors {:?}, after {:.2} s",
            self.latency.count,
            self.error_kinds,
            self.total.as_secs_f64()
        )
    }

    fn into_burst(
        self,
        path: &str,
        before: MetricsSnapshot,
        after: MetricsSnapshot,
        peaks: Peaks,
    ) -> Burst {
        let (ok, n) = (self.ok(), self.n);
        let secs = self.total.as_secs_f64().max(1e-9);
        Burst {
            path: path.to_string(),
            n,
            connect: self.connect,
            total: self.total,
            ok,
            errors: n - ok,
            timed_out: self.timed_out,
            status_counts: self.status_counts,
            error_kinds: self.error_kinds,
            latency: self.latency,
            rps: ok as f64 / secs,
            peak_threads: peaks.threads,
            peak_rss_bytes: peaks.rss_bytes,
            before,
            after,
            spans: self.spans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(slots: Option<u64>, answers: &[f64]) -> Timeline {
        let spans =
            answers.iter().map(|&a| Span { sent_s: 0.0, answered_s: a, ok: true }).collect();
        Timeline { variant: "v".into(), endpoint: "/parallel".into(), slots, t_s: 1.0, spans }
    }

    #[test]
    fn rounds_are_counted_from_the_answers() {
        // 8 requests on 4 slots of 1 s: two rounds, a little late each.
        let two = timeline(Some(4), &[1.01, 1.02, 1.02, 1.03, 2.02, 2.03, 2.03, 2.04]);
        assert_eq!(two.rounds(), 2);
        assert_eq!(two.round_of(&two.spans[4]), 2);
        // Unbounded: everything in the first round, even a fast answer.
        let one = timeline(None, &[0.2, 1.0, 1.01]);
        assert_eq!(one.rounds(), 1);
        assert_eq!(one.round_of(&one.spans[0]), 1);
    }
}

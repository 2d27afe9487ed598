//! `kit bench URL`: the closed-loop load generator.
//!
//! N workers, one connection each, each in a loop: send a request, read the
//! whole response body, record the latency, send the next. The server's speed
//! sets the pace, so this measures *throughput at a concurrency of N*, like
//! `wrk` or `ab`. (It cannot show queueing delay the server causes for
//! requests it has not been sent yet: that is what `kit attack`, the open
//! loop in [`crate::attack`], is for.)
//!
//! Honesty rules kept here:
//! - Workers never print. Each keeps its own counters, merged once at the
//!   end, and its latencies in a small [`Batch`] that moves them into the
//!   one shared histogram every 1,024 samples (a histogram per worker cost
//!   170 KB each: 1.7 GB at `-c 10000`). The other shared writes are two
//!   relaxed atomic counters (request tickets for `-n`, and requests done,
//!   read by the coordinator for the progress hook).
//! - `connections` means TCP connections: each worker owns exactly one
//!   (hyper's HTTP/1.1 connection API, no pool that could open more), and
//!   reopens it only if the server closes it or a request on it fails.
//! - `errors` = transport failures (no response at all) + responses with
//!   status >= 500, the load generators' rule ([`is_server_error`],
//!   shared with `kit attack`). A 4xx is an answer, not a failure: it is
//!   listed in `status_counts` with every other status but is not an error.
//! - `latency` holds one sample per response received, whatever its status;
//!   transport failures have no latency to record and are counted in
//!   `error_kinds` instead (as `wrk` does with its socket errors).
//! - `rps` = responses received / elapsed, where elapsed runs from the first
//!   request to the last response (requests in flight at the deadline are
//!   waited for, bounded by the timeout, and counted).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use kit_measure::client::hyper_conn::{self, Get, Sender};
use kit_measure::client::progress::{with_progress, Progress};
use kit_measure::client::url::{validate_url, HttpUrl};
use kit_measure::client::LoadError;
use kit_measure::latency::{Batch, Latencies, Summary};

use crate::counts::{unwrap_join, Counts};

/// What to run. Stops at `total` requests or after `duration`, whichever
/// comes first; at least one of the two must be given.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub url: String,
    /// Concurrent connections (`-c`), one worker each.
    pub connections: usize,
    /// Requests to send in all (`-n`).
    pub total: Option<u64>,
    pub duration: Option<Duration>,
    /// Reuse each worker's connection (default). `false` opens a new TCP
    /// connection for every request.
    pub keep_alive: bool,
    /// Per request, connect + response + body.
    pub timeout: Duration,
}

impl BenchOptions {
    /// Keep-alive on, 10 s timeout: the defaults of `kit bench`.
    pub fn new(url: impl Into<String>, connections: usize) -> BenchOptions {
        BenchOptions {
            url: url.into(),
            connections,
            total: None,
            duration: None,
            keep_alive: true,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a run measured. See the module docs for what counts as an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub url: String,
    /// Connections used: `min(connections, total)`.
    pub connections: usize,
    /// Requests finished: with a response or with a transport failure.
    pub requests: u64,
    /// Transport failures + responses with status >= 500.
    pub errors: u64,
    /// Every response by status, 2xx included.
    pub status_counts: BTreeMap<u16, u64>,
    /// Transport failures by kind ("connect refused", "timeout", ...).
    pub error_kinds: BTreeMap<String, u64>,
    pub elapsed_s: f64,
    /// Responses received per second.
    pub rps: f64,
    /// One sample per response received.
    pub latency: Summary,
}

/// Runs the closed loop. `progress`, if given, is called with the number of
/// requests finished so far, about ten times a second and once at the end.
///
/// Fails before sending anything if the URL or options are invalid, or if
/// nothing accepts a connection at the URL's host and port.
pub async fn run(
    opts: &BenchOptions,
    progress: Option<Progress<'_>>,
) -> Result<BenchResult, LoadError> {
    let target = Arc::new(hyper_conn::locate(&check(opts)?, opts.keep_alive, opts.timeout).await?);
    let workers = opts.total.map_or(opts.connections, |n| opts.connections.min(n as usize));

    let t0 = Instant::now();
    let stop = Arc::new(Stop {
        total: opts.total,
        deadline: opts.duration.map(|d| t0 + d),
        issued: AtomicU64::new(0),
        done: AtomicU64::new(0),
    });
    let latencies = Arc::new(Mutex::new(Latencies::default()));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            tokio::spawn(worker(
                target.clone(),
                opts.timeout,
                stop.clone(),
                Batch::new(latencies.clone()),
            ))
        })
        .collect();
    let joined = with_progress(futures::future::join_all(handles), &stop.done, progress).await;
    let tallies: Vec<WorkerCounts> = joined.into_iter().map(unwrap_join).collect();
    let elapsed = t0.elapsed();
    // Every worker has returned, so every batch has been flushed.
    let latencies = latencies.lock().unwrap_or_else(|p| p.into_inner()).clone();

    Ok(summarise(opts, workers, tallies, latencies, elapsed))
}

/// Validates the options and the URL: every mistake a person can make on the
/// command line is reported here, before any traffic.
fn check(opts: &BenchOptions) -> Result<HttpUrl, LoadError> {
    let url = validate_url(&opts.url)?;
    let invalid = |why: &str| Err(LoadError::InvalidOptions(why.to_string()));
    if opts.connections == 0 {
        return invalid("connections must be at least 1");
    }
    match (opts.total, opts.duration) {
        (None, None) => return invalid("give a number of requests or a duration (or both)"),
        (Some(0), _) => return invalid("the number of requests must be at least 1"),
        (_, Some(d)) if d.is_zero() => return invalid("the duration must be more than 0"),
        _ => {}
    }
    if opts.timeout.is_zero() {
        return invalid("the timeout must be more than 0");
    }
    Ok(url)
}

/// When workers stop. `issued` hands out request tickets so that exactly
/// `total` requests are sent however many workers race for them; `done`
/// counts finished requests for the progress hook. Two relaxed atomics per
/// request are the only shared writes in the loop.
struct Stop {
    total: Option<u64>,
    deadline: Option<Instant>,
    issued: AtomicU64,
    done: AtomicU64,
}

impl Stop {
    fn may_send(&self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        match self.total {
            Some(n) => self.issued.fetch_add(1, Ordering::Relaxed) < n,
            None => true,
        }
    }
}

/// One worker's private counts, merged with the others' at the end.
#[derive(Default)]
struct WorkerCounts {
    requests: u64,
    counts: Counts,
}

/// After a refused connection, wait this long before the next try: a server
/// that died mid-run would otherwise turn the worker into a busy loop that
/// takes a core from everything else on the machine.
const REFUSED_BACKOFF: Duration = Duration::from_millis(10);

/// The closed loop of one connection.
async fn worker(
    target: Arc<Get>,
    timeout: Duration,
    stop: Arc<Stop>,
    mut latency: Batch,
) -> WorkerCounts {
    let mut tally = WorkerCounts::default();
    let mut conn = None;
    while stop.may_send() {
        let start = Instant::now();
        let outcome = hyper_conn::within(timeout, exchange(&mut conn, &target)).await;
        let took = start.elapsed();
        tally.requests += 1;
        if tally.counts.record(outcome) {
            latency.record(took);
        } else {
            // Whatever state the connection is in, it is not to be trusted.
            conn = None;
            if outcome == Err("connect refused") {
                tokio::time::sleep(REFUSED_BACKOFF).await;
            }
        }
        stop.done.fetch_add(1, Ordering::Relaxed);
    }
    latency.flush();
    tally
}

/// One request on the worker's connection, (re)connecting first if there is
/// none or the server closed it. The latency includes the TCP handshake
/// whenever one was needed: on every request without keep-alive (that cost
/// is the point of that mode), and on the first request of each connection
/// with it (one sample per worker, lost in the thousands).
async fn exchange(conn: &mut Option<Sender>, target: &Get) -> Result<u16, &'static str> {
    let sender = match conn {
        Some(s) if !s.is_closed() => s,
        _ => conn.insert(hyper_conn::connect(target.addr).await?),
    };
    let status = hyper_conn::exchange(sender, target).await?;
    if !target.keep_alive() {
        *conn = None;
    }
    Ok(status)
}

/// Merges the workers' tallies into the result.
fn summarise(
    opts: &BenchOptions,
    workers: usize,
    tallies: Vec<WorkerCounts>,
    latency: Latencies,
    elapsed: Duration,
) -> BenchResult {
    let mut all = WorkerCounts::default();
    for t in &tallies {
        all.requests += t.requests;
        all.counts.merge(&t.counts);
    }
    let elapsed_s = elapsed.as_secs_f64();
    BenchResult {
        url: opts.url.clone(),
        // What was used: fewer than asked when -n is smaller than -c.
        connections: workers,
        requests: all.requests,
        errors: all.counts.errors,
        error_kinds: all.counts.error_kinds(),
        status_counts: all.counts.status_counts,
        elapsed_s,
        rps: if elapsed_s > 0.0 { all.counts.responses as f64 / elapsed_s } else { 0.0 },
        latency: latency.summary(),
    }
}

/// Runs our closed loop, then `wrk` against the same URL with the same
/// connections and duration, and returns both requests/s figures:
/// `(ours, Some(wrk))`, or `(ours, None)` when `wrk` is not installed.
///
/// Ours runs first and alone, so the two never compete for the CPU. On a
/// small machine the server shares the cores with the client, so a leaner
/// client leaves the server more CPU: the comparison measures exactly that.
/// The two runs are sequential, so anything else busy on the machine can
/// favour either one: on a shared machine, run it more than once.
pub async fn self_check_vs_wrk(
    url: &str,
    connections: usize,
    duration: Duration,
) -> Result<(f64, Option<f64>), LoadError> {
    let opts = BenchOptions { duration: Some(duration), ..BenchOptions::new(url, connections) };
    let ours = run(&opts, None).await?.rps;
    let wrk = run_wrk(url, connections, duration).await?;
    Ok((ours, wrk))
}

/// `wrk -t2 -c{connections} -d{secs}s --latency URL`; `None` if wrk is missing.
async fn run_wrk(
    url: &str,
    connections: usize,
    duration: Duration,
) -> Result<Option<f64>, LoadError> {
    // wrk needs at least one connection per thread.
    let threads = connections.clamp(1, 2);
    let secs = duration.as_secs().max(1);
    let output = tokio::process::Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{secs}s"),
            "--latency".into(),
            url.into(),
        ])
        .kill_on_drop(true)
        .output()
        .await;
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LoadError::Wrk(format!("cannot run wrk: {e}"))),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(LoadError::Wrk(format!(
            "wrk exited with {}: {}{}",
            output.status,
            stdout.trim(),
            stderr.trim()
        )));
    }
    parse_wrk_rps(&stdout).map(Some).ok_or_else(|| {
        LoadError::Wrk(format!("no 'Requests/sec:' line in wrk's output:\n{stdout}"))
    })
}

/// The number on wrk's `Requests/sec:  12345.67` line.
fn parse_wrk_rps(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rest| rest.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing as test_server;

    fn opts(url: String, connections: usize) -> BenchOptions {
        BenchOptions { timeout: Duration::from_secs(2), ..BenchOptions::new(url, connections) }
    }

    #[tokio::test]
    async fn bench_sends_exactly_n_requests_on_n_connections() {
        let base = test_server::start();
        let o = BenchOptions { total: Some(300), ..opts(format!("{base}/fast"), 4) };
        let r = run(&o, None).await.unwrap();
        assert_eq!(r.requests, 300, "{r:?}");
        assert_eq!(r.errors, 0, "{r:?}");
        assert_eq!(r.status_counts, BTreeMap::from([(200, 300)]));
        assert_eq!(r.latency.count, 300);
        assert!(r.latency.is_ordered(), "{:?}", r.latency);
        assert!(r.rps > 0.0 && r.elapsed_s > 0.0);
        // Keep-alive: four workers, four TCP connections, however many requests.
        assert_eq!(base.peers(), 4);
    }

    #[tokio::test]
    async fn bench_without_keep_alive_opens_a_connection_per_request() {
        let base = test_server::start();
        let o =
            BenchOptions { total: Some(20), keep_alive: false, ..opts(format!("{base}/fast"), 2) };
        let r = run(&o, None).await.unwrap();
        assert_eq!((r.requests, r.errors), (20, 0), "{r:?}");
        assert_eq!(base.peers(), 20);
    }

    #[tokio::test]
    async fn bench_stops_at_the_duration_and_reports_progress() {
        let base = test_server::start();
        let o = BenchOptions {
            duration: Some(Duration::from_millis(500)),
            ..opts(format!("{base}/slow"), 4)
        };
        let calls = Mutex::new(Vec::new());
        let hook = |n: u64| calls.lock().unwrap().push(n);
        let started = Instant::now();
        let r = run(&o, Some(&hook)).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        // 4 connections x 500 ms / 50 ms = about 40 requests; no more than
        // 48 can fit, and a stalled machine may manage far fewer.
        assert!((12..=48).contains(&r.requests), "{r:?}");
        assert!(r.latency.p50_ms >= 50.0, "{:?}", r.latency);
        let calls = calls.into_inner().unwrap();
        assert!((2..=10).contains(&calls.len()), "{calls:?}");
        assert_eq!(calls.last(), Some(&r.requests));
        assert!(calls.windows(2).all(|w| w[0] <= w[1]), "{calls:?}");
    }

    #[tokio::test]
    async fn bench_counts_5xx_as_errors_and_lists_every_status() {
        let base = test_server::start();
        let o = BenchOptions { total: Some(10), ..opts(format!("{base}/error"), 2) };
        let r = run(&o, None).await.unwrap();
        assert_eq!((r.requests, r.errors), (10, 10), "{r:?}");
        assert_eq!(r.status_counts, BTreeMap::from([(500, 10)]));
        assert!(r.error_kinds.is_empty(), "{r:?}");
        // A 404 is an answer, not an error.
        let o = BenchOptions { total: Some(5), ..opts(format!("{base}/missing"), 1) };
        let r = run(&o, None).await.unwrap();
        assert_eq!((r.requests, r.errors), (5, 0), "{r:?}");
        assert_eq!(r.status_counts, BTreeMap::from([(404, 5)]));
    }

    #[tokio::test]
    async fn bench_rejects_bad_urls_and_options_before_sending() {
        for url in ["notaurl", "ftp://x", "http://"] {
            let o = BenchOptions { total: Some(1), ..opts(url.into(), 1) };
            let err = run(&o, None).await.unwrap_err();
            assert!(matches!(err, LoadError::InvalidUrl { .. }), "{url}: {err}");
        }
        let o = BenchOptions { total: Some(1), ..opts("http://127.0.0.1:1/".into(), 0) };
        assert!(matches!(run(&o, None).await, Err(LoadError::InvalidOptions(_))));
        let o = opts("http://127.0.0.1:1/".into(), 1);
        let err = run(&o, None).await.unwrap_err().to_string();
        assert!(err.contains("number of requests or a duration"), "{err}");
    }

    #[tokio::test]
    async fn bench_against_a_closed_port_fails_fast_and_says_why() {
        let url = test_server::closed_port_url();
        let o = BenchOptions { duration: Some(Duration::from_secs(30)), ..opts(url.clone(), 8) };
        let started = Instant::now();
        let err = run(&o, None).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        let text = err.to_string();
        assert!(matches!(err, LoadError::Connect { .. }), "{text}");
        assert!(
            text.contains(&url)
                && text.contains("connect refused")
                && text.contains("is the server running?"),
            "{text}"
        );
    }

    #[test]
    fn parses_wrk_requests_per_second() {
        let out = "Running 1s test @ http://127.0.0.1:3000/\n  2 threads and 50 connections\n\
                   24000 requests in 1.00s, 2.9MB read\nRequests/sec:  23987.45\nTransfer/sec:      2.93MB\n";
        assert_eq!(parse_wrk_rps(out), Some(23987.45));
        assert_eq!(parse_wrk_rps("nothing here"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn self_check_runs_ours_and_wrk_if_installed() {
        let base = test_server::start();
        let (ours, wrk) =
            self_check_vs_wrk(&format!("{base}/fast"), 4, Duration::from_secs(1)).await.unwrap();
        assert!(ours > 0.0);
        let installed = std::process::Command::new("wrk").arg("--version").output().is_ok();
        assert_eq!(wrk.is_some(), installed, "{wrk:?}");
        if let Some(w) = wrk {
            assert!(w > 0.0);
        }
    }
}

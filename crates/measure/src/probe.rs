//! The CPU probe: saturate a server with /cpu-intensive and meanwhile ask
//! /health at a steady pace. A server whose CPU work holds the threads that
//! serve requests answers /health late; one that moves CPU work aside keeps
//! /health fast.
//!
//! Errors follow the burst's rule ([`is_contract_answer`]): both
//! endpoints belong to the contract and must answer 2xx.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::burst::runtime;
use crate::client::hyper_conn::{self, Get};
use crate::client::outcome::is_contract_answer;
use crate::client::url::validate_url;
use crate::client::LoadError;
use crate::harness::{HarnessError, Result, Target};
use crate::latency::{Latencies, Summary};
use crate::process_watch::ProcessWatcher;
use kit_serve::contract::MetricsSnapshot;

/// The pace of the /health probe.
const PROBE_EVERY: Duration = Duration::from_millis(25);
/// One request may take this long before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CpuProbe {
    /// /health latency while the cores were saturated.
    pub health: Summary,
    pub health_errors: u64,
    /// /cpu-intensive requests completed during the probe.
    pub cpu_done: u64,
    pub cpu_errors: u64,
    /// `None` where the system gives no thread reading (checks fail closed).
    pub peak_threads: Option<u64>,
    pub after: MetricsSnapshot,
}

/// Runs `clients` closed-loop /cpu-intensive clients for `duration` while
/// probing /health every `PROBE_EVERY`.
pub fn health_under_cpu_load(
    server: &impl Target,
    clients: usize,
    duration: Duration,
) -> Result<CpuProbe> {
    server.reset_metrics()?;
    let watcher = server.pid().map(ProcessWatcher::start);
    let base = server.url().to_string();
    let (health, health_errors, cpu_done, cpu_errors) = runtime()?.block_on(async move {
        let harness = |e: LoadError| HarnessError(e.to_string());
        // One probe settles the address; both paths go to it.
        let health = hyper_conn::resolve(&format!("{base}/health"), false, REQUEST_TIMEOUT)
            .await
            .map_err(harness)?;
        let cpu_url = validate_url(&format!("{base}/cpu-intensive")).map_err(harness)?;
        let cpu = Arc::new(Get::new(&cpu_url, health.addr, false));
        let stop_at = Instant::now() + duration;
        let load: Vec<_> =
            (0..clients).map(|_| tokio::spawn(cpu_loop(cpu.clone(), stop_at))).collect();
        let (health, health_errors) = health_loop(&health, stop_at).await;
        let (mut done, mut errors) = (0, 0);
        for task in load {
            let (d, e) =
                task.await.map_err(|e| HarnessError(format!("cpu load task failed: {e}")))?;
            done += d;
            errors += e;
        }
        Ok::<_, HarnessError>((health, health_errors, done, errors))
    })?;
    let watched = watcher.map(ProcessWatcher::stop);
    let after = server.metrics()?;
    // A server that is not ours reports its own threads.
    let peak_threads = watched.map_or(after.os_threads, |peaks| peaks.threads);
    Ok(CpuProbe {
        health: health.summary(),
        health_errors,
        cpu_done,
        cpu_errors,
        peak_threads,
        after,
    })
}

async fn cpu_loop(cpu: Arc<Get>, stop_at: Instant) -> (u64, u64) {
    let (mut done, mut errors) = (0, 0);
    while Instant::now() < stop_at {
        match hyper_conn::once(&cpu, REQUEST_TIMEOUT).await {
            Ok(status) if is_contract_answer(status) => done += 1,
            _ => errors += 1,
        }
    }
    (done, errors)
}

async fn health_loop(health: &Get, stop_at: Instant) -> (Latencies, u64) {
    let (mut latencies, mut errors) = (Latencies::default(), 0);
    // Let the CPU clients fill the slots first.
    tokio::time::sleep(PROBE_EVERY * 4).await;
    while Instant::now() < stop_at {
        let sent = Instant::now();
        match hyper_conn::once(health, REQUEST_TIMEOUT).await {
            Ok(status) if is_contract_answer(status) => latencies.record(sent.elapsed()),
            _ => errors += 1,
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    (latencies, errors)
}

/// What happened when CPU clients gave up early.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cancelled {
    /// Clients in each of the two waves.
    pub clients: usize,
    /// How long each client of the first wave waited before hanging up.
    pub gave_up_after: Duration,
    /// The most CPU jobs the server ran at once meanwhile (its /metrics).
    pub cpu_jobs_peak: u64,
}

/// CPU rounds of one job in the cancellation check: long enough (several
/// times the default ~50 ms) that the first wave's jobs still run when the
/// second wave arrives, even on a fast laptop.
const CANCEL_ROUNDS_FACTOR: u64 = 4;
/// When the first wave hangs up, and when the second arrives.
const GIVE_UP_AFTER: Duration = Duration::from_millis(30);
const SECOND_WAVE_AFTER: Duration = Duration::from_millis(80);
/// How long the server may take to finish the orphaned jobs.
const DRAIN: Duration = Duration::from_secs(30);

/// Does the CPU cap survive clients that give up? A first wave of `clients`
/// (one per core is enough: they take every permit)
/// /cpu-intensive requests hangs up after `GIVE_UP_AFTER`; a second wave
/// arrives while the first wave's jobs still compute. A server whose permit
/// lives in the request's future frees it when the client hangs up, so the
/// second wave starts computing beside the orphaned jobs: more CPU jobs at
/// once than cores. The count comes from the server's `cpu_jobs_peak`.
pub fn cancelled_cpu_jobs(server: &impl Target, clients: usize) -> Result<Cancelled> {
    server.reset_metrics()?;
    let rounds = kit_serve::contract::DEFAULT_CPU_ROUNDS * CANCEL_ROUNDS_FACTOR;
    let request = format!(
        "GET /cpu-intensive?cpu_rounds={rounds} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    let addr = server.addr();
    runtime()?.block_on(async move {
        let send = |hang_up: Option<Duration>| {
            let request = request.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
                    return;
                };
                if stream.write_all(request.as_bytes()).await.is_err() {
                    return;
                }
                let mut sink = Vec::new();
                match hang_up {
                    // Dropping the stream closes the connection: the client is gone.
                    Some(after) => tokio::time::sleep(after).await,
                    None => {
                        let _ = tokio::time::timeout(DRAIN, stream.read_to_end(&mut sink)).await;
                    }
                }
            })
        };
        let first: Vec<_> = (0..clients).map(|_| send(Some(GIVE_UP_AFTER))).collect();
        tokio::time::sleep(SECOND_WAVE_AFTER).await;
        let second: Vec<_> = (0..clients).map(|_| send(None)).collect();
        for task in first.into_iter().chain(second) {
            let _ = task.await;
        }
    });
    // The orphaned jobs of the first wave may still compute: wait for them.
    let started = Instant::now();
    let after = loop {
        let m = server.metrics()?;
        if m.cpu_jobs == 0 || started.elapsed() > DRAIN {
            break m;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Cancelled { clients, gave_up_after: GIVE_UP_AFTER, cpu_jobs_peak: after.cpu_jobs_peak })
}

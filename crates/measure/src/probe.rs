//! The CPU probe: saturate a server with /cpu-intensive and meanwhile ask
//! /health at a steady pace. A server whose CPU work holds the threads that
//! serve requests answers /health late; one that moves CPU work aside keeps
//! /health fast.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::burst::runtime;
use crate::harness::{HarnessError, Result, Target};
use crate::http1::{self, Get};
use crate::latency::{Latencies, Summary};
use crate::loadgen::{self, LoadError};
use kit_serve::metrics::{MetricsSnapshot, ProcessWatcher};

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
pub fn health_under_cpu_load(server: &impl Target, clients: usize, duration: Duration) -> Result<CpuProbe> {
    server.reset_metrics()?;
    let watcher = server.pid().map(ProcessWatcher::start);
    let base = server.url().to_string();
    let (health, health_errors, cpu_done, cpu_errors) = runtime()?.block_on(async move {
        let harness = |e: LoadError| HarnessError(e.to_string());
        // One probe settles the address; both paths go to it.
        let health = http1::resolve(&format!("{base}/health"), false, REQUEST_TIMEOUT).await.map_err(harness)?;
        let cpu_url = loadgen::validate_url(&format!("{base}/cpu-intensive")).map_err(harness)?;
        let cpu = Arc::new(Get::new(&cpu_url, health.addr, false).map_err(harness)?);
        let stop_at = Instant::now() + duration;
        let load: Vec<_> = (0..clients).map(|_| tokio::spawn(cpu_loop(cpu.clone(), stop_at))).collect();
        let (health, health_errors) = health_loop(&health, stop_at).await;
        let (mut done, mut errors) = (0, 0);
        for task in load {
            let (d, e) = task.await.map_err(|e| HarnessError(format!("cpu load task failed: {e}")))?;
            done += d;
            errors += e;
        }
        Ok::<_, HarnessError>((health, health_errors, done, errors))
    })?;
    let watched = watcher.map(ProcessWatcher::stop);
    let after = server.metrics()?;
    // A server that is not ours reports its own threads.
    let peak_threads = watched.map_or(after.os_threads, |peaks| peaks.threads);
    Ok(CpuProbe { health: health.summary(), health_errors, cpu_done, cpu_errors, peak_threads, after })
}

async fn cpu_loop(cpu: Arc<Get>, stop_at: Instant) -> (u64, u64) {
    let (mut done, mut errors) = (0, 0);
    while Instant::now() < stop_at {
        match http1::once(&cpu, REQUEST_TIMEOUT).await {
            Ok(200) => done += 1,
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
        match http1::once(health, REQUEST_TIMEOUT).await {
            Ok(200) => latencies.record(sent.elapsed()),
            _ => errors += 1,
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    (latencies, errors)
}

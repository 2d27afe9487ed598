//! One attack of the backpressure grade, measured: the pair started
//! ([`kit_measure::calls::start_pair`]), the open loop at a rate with the
//! client's patience as its timeout, Little's law over the steady window,
//! the gateway's own counts, and the probe for Retry-After; and whether
//! the run describes the load it was meant to ([`Run::void`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kit_measure::calls::{start_pair, Pair};
use kit_measure::grade::failure::{diagnose, fail, Next};
use kit_measure::harness::Target;
use kit_serve::contract::CallStats;

use super::{
    CALL_MS, LABEL, LAG_LIMIT_MS, LATE_SHARE, MIN_SENT_SHARE, OVERLOAD_FOR, OVERLOAD_RATE,
    PATIENCE, PROBE, QUIET_FOR, QUIET_RATE, STEADY_FROM,
};
use crate::attack::{self, AttackOptions, AttackResult, LATE_THRESHOLD};
use crate::intervals::Outcome;
use crate::littles_law::{Little, WindowSampler};

/// One attack on a fresh pair, and what the gateway and the server said.
#[derive(Clone, Debug)]
pub struct Run {
    pub rate: f64,
    pub duration: Duration,
    pub attack: AttackResult,
    /// The steady window's Little's law, or why there is none.
    pub little: Result<Little, String>,
    /// The gateway's own count of the calls, after the attack.
    pub calls: CallStats,
    /// The most the gateway's runtime was late during the attack, ms.
    pub gateway_lag_ms: Option<f64>,
    /// The gateway's own mean time per call, ms (its /metrics), hung-up
    /// calls included.
    pub gateway_call_ms: Option<f64>,
    /// The statuses of [`PROBE`] requests sent at once after the attack,
    /// and how many of the 503s carried Retry-After (overload only).
    pub probe: Option<Probe>,
}

#[derive(Clone, Debug, Default)]
pub struct Probe {
    pub statuses: BTreeMap<u16, u64>,
    pub with_retry_after: u64,
}

impl Probe {
    pub fn shed(&self) -> u64 {
        self.statuses.get(&503).copied().unwrap_or(0)
    }
}

/// The requests due in the steady window, by how they ended.
#[derive(Clone, Debug, Default)]
pub struct Steady {
    pub window_s: f64,
    pub due: u64,
    pub ok: u64,
    pub server_errors: u64,
    pub timeouts: u64,
    pub other: u64,
    /// p99 of the 2xx answers' times, and of the 5xx answers', ms.
    pub ok_p99_ms: f64,
    pub shed_p99_ms: f64,
}

impl Steady {
    /// 2xx answered within the patience, per second of the window.
    pub fn goodput(&self) -> f64 {
        self.ok as f64 / self.window_s
    }

    pub fn in_time(&self) -> u64 {
        self.ok + self.server_errors
    }
}

pub(super) fn p99(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let at = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
    v[at]
}

impl Run {
    /// The requests due from [`STEADY_FROM`] to the end of the sending
    /// (for the quiet day, from the start).
    pub fn steady(&self, from: Duration) -> Steady {
        let (from, to) = (from.as_secs_f64(), self.duration.as_secs_f64());
        let mine: Vec<_> = self
            .attack
            .series
            .points
            .points
            .iter()
            .filter(|p| (from..to).contains(&f64::from(p.due_s)))
            .collect();
        let times = |o: Outcome| -> Vec<f64> {
            mine.iter().filter(|p| p.outcome == o).map(|p| f64::from(p.ms)).collect()
        };
        let count = |o: Outcome| mine.iter().filter(|p| p.outcome == o).count() as u64;
        Steady {
            window_s: to - from,
            due: mine.len() as u64,
            ok: count(Outcome::Ok),
            server_errors: count(Outcome::ServerError),
            timeouts: count(Outcome::Timeout),
            other: count(Outcome::Other) + count(Outcome::Failed),
            ok_p99_ms: p99(times(Outcome::Ok)),
            shed_p99_ms: p99(times(Outcome::ServerError)),
        }
    }

    /// Why this run offered less than the load asked for, if it did: then
    /// no verdict holds, a pass no more than a failure.
    pub fn lighter(&self) -> Option<String> {
        let a = &self.attack;
        let mut why = Vec::new();
        if a.dropped > 0 {
            why.push(format!(
                "the client dropped {} due requests it had no room to send",
                a.dropped
            ));
        }
        if a.sent_rate < MIN_SENT_SHARE * self.rate {
            why.push(format!(
                "the client sent {:.1}/s where {:.0}/s was asked: it could not keep the schedule",
                a.sent_rate, self.rate
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Why a failure of this run may be the machine's, if it may: the client
    /// sent late (its requests bunched up: the same load, burstier), or the
    /// gateway, the kit's own, was starved. Both make the load harder, never
    /// lighter, so a pass still holds; a failure is void.
    pub fn void(&self) -> Option<String> {
        let a = &self.attack;
        let mut why: Vec<String> = self.lighter().into_iter().collect();
        if a.late >= 3 && a.late as f64 > LATE_SHARE * a.requests.max(1) as f64 {
            why.push(format!(
                "the grade's client sent {} of its {} requests more than {} ms after they were due: it fell \
                 behind (the machine's CPUs were busy elsewhere), so the load offered was not {:.0}/s on schedule",
                a.late,
                a.requests,
                LATE_THRESHOLD.as_millis(),
                self.rate
            ));
        }
        if let Some(lag) = self.gateway_lag_ms.filter(|l| *l > LAG_LIMIT_MS) {
            why.push(format!(
                "the gateway (the kit's own upstream, not your code) was starved: its runtime was {lag:.0} ms \
                 late, so its calls took longer than {CALL_MS} ms"
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// The overload run of each server binary: measured once, read by checks 1
/// to 3. The lock also keeps the two attacks of a grade apart.
static RUNS: Mutex<BTreeMap<PathBuf, Arc<Run>>> = Mutex::new(BTreeMap::new());

pub(super) fn overload(bin: &Path, upstream_bin: &Path) -> Arc<Run> {
    let mut runs = RUNS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(run) = runs.get(bin) {
        return run.clone();
    }
    let run = Arc::new(measure(bin, upstream_bin, OVERLOAD_RATE, OVERLOAD_FOR, true));
    runs.insert(bin.to_path_buf(), run.clone());
    run
}

pub(super) fn quiet(bin: &Path, upstream_bin: &Path) -> Run {
    let _one_at_a_time = RUNS.lock().unwrap_or_else(|p| p.into_inner());
    measure(bin, upstream_bin, QUIET_RATE, QUIET_FOR, false)
}

/// Starts the pair, attacks `/quote` at `rate` for `duration` with the
/// client's patience as the timeout, Little's law sampled over the steady
/// window, then (`probe`) sends [`PROBE`] requests at once.
fn measure(bin: &Path, upstream_bin: &Path, rate: f64, duration: Duration, probe: bool) -> Run {
    let mut pair = start_pair(bin, upstream_bin, CALL_MS, &[]);
    let url = format!("{}/quote?product=7", pair.server.url);
    let opts = AttackOptions {
        timeout: PATIENCE,
        interval: Duration::from_millis(500),
        sample_server: false,
        ..AttackOptions::new(url, rate, duration)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            fail("the grade could not start its client", &format!("  {e}"), Next::Crash)
        });
    let window = WindowSampler::start(pair.server.addr, LABEL, STEADY_FROM, duration);
    let attack = runtime.block_on(attack::run(&opts, None));
    let window = window.finish();
    let attack =
        attack.unwrap_or_else(|e| crashed(&mut pair, &format!("the attack could not run: {e}")));
    if pair.server.exited().is_some() {
        crashed(&mut pair, &format!("the server died during the attack at {rate:.0}/s"));
    }
    let little = window.and_then(|w| {
        if w.handler_count > 0 {
            Ok(Little::of(w))
        } else {
            Err("no request finished inside the window".into())
        }
    });
    let probe = probe.then(|| retry_after_probe(pair.server.addr));
    let calls = pair.calls();
    let gateway = pair.upstream.metrics().ok();
    let gateway_lag_ms = gateway.as_ref().and_then(|m| m.executor_lag_ms.as_ref()).map(|l| l.max);
    // The gateway's /price is no endpoint of the shared contract either.
    let gateway_call_ms = gateway.as_ref().and_then(|m| m.endpoints.get(LABEL)).map(|e| e.mean_ms);
    Run { rate, duration, attack, little, calls, gateway_lag_ms, gateway_call_ms, probe }
}

fn crashed(pair: &mut Pair, what: &str) -> ! {
    let diagnosis = diagnose(&mut pair.server);
    fail(what, &diagnosis, Next::Crash)
}

/// [`PROBE`] requests at once, one connection each: their statuses, and
/// whether each 503 says when to come back.
fn retry_after_probe(addr: SocketAddr) -> Probe {
    let heads: Vec<Option<String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..PROBE).map(|_| scope.spawn(move || head_of(addr))).collect();
        threads.into_iter().map(|t| t.join().ok().flatten()).collect()
    });
    let mut probe = Probe::default();
    for head in heads.into_iter().flatten() {
        let status = head.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        *probe.statuses.entry(status).or_default() += 1;
        let retry = head.lines().any(|l| l.to_ascii_lowercase().starts_with("retry-after:"));
        if status == 503 && retry {
            probe.with_retry_after += 1;
        }
    }
    probe
}

/// The status line and headers of one GET /quote, or `None` if none came
/// within the patience.
fn head_of(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE).ok()?;
    stream.set_read_timeout(Some(PATIENCE * 2)).ok()?;
    stream
        .write_all(b"GET /quote?product=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).to_string();
    text.split("\r\n\r\n").next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_value_below_which_99_percent_lie() {
        assert_eq!(p99(vec![]), 0.0);
        assert_eq!(p99((1..=100).map(f64::from).collect()), 99.0);
        assert_eq!(p99(vec![5.0]), 5.0);
    }

    /// An overload run of 200 requests with `late` of them sent late.
    fn run(late: u64, sent_rate: f64, dropped: u64, gateway_lag_ms: f64) -> Run {
        let attack = AttackResult {
            url: "http://x/quote".into(),
            target_rate: OVERLOAD_RATE,
            ramp: None,
            achieved_rate: 16.0,
            sent_rate,
            requests: 200,
            completed: 200,
            ok: 80,
            errors: 120,
            late,
            dropped,
            status_counts: BTreeMap::from([(200, 80), (503, 120)]),
            error_kinds: BTreeMap::new(),
            elapsed_s: 5.3,
            service_time: Default::default(),
            response_time: Default::default(),
            ok_response_time: Default::default(),
            first_ok_s: Some(0.25),
            last_ok_s: Some(5.25),
            first_ok_round: 4,
            stopped: false,
            series: Default::default(),
        };
        Run {
            rate: OVERLOAD_RATE,
            duration: OVERLOAD_FOR,
            attack,
            little: Err("not sampled".into()),
            calls: CallStats {
                limit: None,
                total: 80,
                in_flight: 0,
                peak_in_flight: 4,
                rejected: 0,
                hung_up: 0,
                hanging: false,
            },
            gateway_lag_ms: Some(gateway_lag_ms),
            gateway_call_ms: Some(250.5),
            probe: None,
        }
    }

    /// A late client or a starved gateway voids a failure (a pass holds);
    /// a client that sent less than asked voids both; a few late sends, a
    /// timer's hiccups, void nothing.
    #[test]
    fn a_client_that_fell_behind_voids_the_measurement_and_says_why() {
        assert_eq!((run(2, 40.0, 0, 1.0).void(), run(20, 40.0, 0, 1.0).void()), (None, None));
        let late = run(21, 40.0, 0, 1.0);
        let why = late.void().expect("21 of 200 late is void");
        assert!(why.contains("sent 21 of its 200 requests more than 10 ms after"), "{why}");
        assert!(late.lighter().is_none());
        let starved = run(0, 40.0, 0, 250.0).void().expect("a starved gateway is void");
        assert!(starved.contains("its runtime was 250 ms late"), "{starved}");
        let light = run(0, 30.0, 3, 1.0);
        let why = light.lighter().expect("30/s sent for 40/s asked");
        assert!(why.contains("dropped 3") && why.contains("sent 30.0/s where 40/s"), "{why}");
        assert!(light.void().is_some());
    }
}

//! `kit attack URL --rate R --duration D`: the open-loop load generator, in
//! the manner of vegeta and wrk2, corrected for coordinated omission.
//!
//! Request i is due at `t0 + i/R`, whatever happened to requests 0..i: a slow
//! server does not slow the schedule, it collects a queue, as it would with
//! real users. The rate may also ramp linearly over the duration
//! (`--rate 100..5000`, [`Rate`]): request i is then due when the ramp's
//! cumulative count reaches i ([`Schedule::due_s`]), and still measured from
//! that due time. Each request runs on its own task and borrows a keep-alive
//! connection from a pool of idle ones (or opens one): the hyper HTTP/1.1
//! client of [`kit_measure::client::hyper_conn`], the same as `kit bench`'s,
//! so the two loops cost the server's CPU the same.
//!
//! What each count of the result includes, and how the counts add up, is
//! documented on the fields of [`AttackResult`]. The same counts interval by
//! interval are in [`crate::intervals`]. A watcher (the live dashboard)
//! passes a [`Live`] to [`run_with`]: it reads the intervals as they end, and
//! can stop the sending early without losing the result.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use kit_measure::client::hyper_conn::{self, Get, Sender};
use kit_measure::client::outcome::{is_server_error, TIMEOUT_KIND};
use kit_measure::client::progress::{with_progress, Progress};
use kit_measure::client::url::{validate_url, HttpUrl};
use kit_measure::client::LoadError;
use kit_measure::latency::{Latencies, Summary};

use crate::counts::{unwrap_join, Counts};
use crate::intervals::{self, Finished, Recorder, SentLog, Series};
use crate::live::{Live, LiveView};
use crate::lock;
use crate::sampler::{Sampler, ServerWatch};

mod rate;
pub use rate::{Rate, Schedule};

/// A send that starts more than this after its due time counts as `late`.
/// 10 ms is well above timer jitter (about 1 ms) and well below anything a
/// person would call prompt.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(10);

/// What to run.
#[derive(Clone, Debug)]
pub struct AttackOptions {
    pub url: String,
    /// Requests per second to send, on schedule: constant, or a linear
    /// ramp from one rate to another over the duration.
    pub rate: Rate,
    /// How long to send for; in-flight requests are then waited for (up to `timeout`).
    pub duration: Duration,
    /// Per request, connect + response + body.
    pub timeout: Duration,
    /// Safety cap on outstanding requests (tasks, sockets): past it, due
    /// requests are dropped and counted, so a dead server cannot make the
    /// generator exhaust the machine.
    pub max_in_flight: usize,
    /// The time series' interval: at least [`intervals::MIN_INTERVAL`], and at
    /// most [`intervals::MAX_INTERVALS`] of them in the duration.
    pub interval: Duration,
    /// Read the server's /metrics alongside (kit servers only; any other
    /// server is noted as such and not sampled).
    pub sample_server: bool,
}

impl AttackOptions {
    /// 10 s timeout, a cap of 10,000 in flight, 1 s intervals and the
    /// server sampled: the defaults of `kit attack`.
    pub fn new(url: impl Into<String>, rate: impl Into<Rate>, duration: Duration) -> AttackOptions {
        AttackOptions {
            url: url.into(),
            rate: rate.into(),
            duration,
            timeout: Duration::from_secs(10),
            max_in_flight: 10_000,
            interval: intervals::DEFAULT_INTERVAL,
            sample_server: true,
        }
    }
}

/// What a run measured. Every request sent ends exactly one way, so
/// `ok + other_answers + server_errors + failed == requests`
/// ([`AttackResult::outcomes_add_up`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackResult {
    pub url: String,
    /// Requests per second asked for; for a ramp, its mean, (from + to) / 2:
    /// the planned requests over the duration.
    pub target_rate: f64,
    /// For a ramp, its two ends (`None` for a constant rate, as before
    /// ramps): the target per interval is in the series' `target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<Rate>,
    /// 2xx answers / elapsed_s: what was achieved. A 5xx or a timeout is not.
    pub achieved_rate: f64,
    /// Requests sent / the send window (the duration, or longer if sending overran it).
    pub sent_rate: f64,
    /// Requests sent.
    pub requests: u64,
    /// Requests that got a response, whatever its status.
    pub completed: u64,
    /// Of `completed`, the 2xx: *achieved*. A fast 503 from a full queue is
    /// an answer, and an error, but nothing achieved.
    #[serde(default)]
    pub ok: u64,
    /// Transport failures (a timeout among them) + responses with a status
    /// of 500 or more: the load generators' rule ([`is_server_error`], as in
    /// [`crate::bench`]). A 4xx is an answer, listed in `status_counts`.
    pub errors: u64,
    /// Sent more than [`LATE_THRESHOLD`] after they were due: the sender
    /// fell behind (a stalled client, a starved CPU).
    pub late: u64,
    /// Due but not sent, because `max_in_flight` requests were already
    /// outstanding; in neither `requests` nor `errors`. A non-zero `dropped`
    /// means the numbers describe a lower rate than the one asked for.
    pub dropped: u64,
    pub status_counts: BTreeMap<u16, u64>,
    /// Transport failures by kind ("connect refused", "timeout", ...).
    pub error_kinds: BTreeMap<String, u64>,
    /// From the first due time to the last response (or failure).
    pub elapsed_s: f64,
    /// From the moment the request was actually sent to the end of the
    /// body; one sample per response received, whatever its status. A tool
    /// that measures only this "coordinates" with a stall of the sender and
    /// omits the waiting the users of a real system would have done.
    pub service_time: Summary,
    /// From the moment the request was *due* (`t0 + i/R`, or its time on
    /// the ramp) to the end of the body: corrected for coordinated
    /// omission, the honest one. One sample
    /// per response received, whatever its status; it differs from
    /// `service_time` when the sender falls behind (see `late`).
    pub response_time: Summary,
    /// The same, of the 2xx answers alone: the one the charts and tables
    /// show, as a full queue's fast 503 would pull `response_time`'s
    /// percentiles down.
    #[serde(default)]
    pub ok_response_time: Summary,
    /// When the first and the last 2xx answer came, seconds after the first
    /// due time (`None`: there was none).
    #[serde(default)]
    pub first_ok_s: Option<f64>,
    #[serde(default)]
    pub last_ok_s: Option<f64>,
    /// How many 2xx came together with the first one: within half the mean
    /// gap between 2xx answers of it. A server whose s slots were all
    /// taken at once answers in rounds of s, and the rate from the first
    /// answer to the last must not count the first round's own answers
    /// (see `capacity::steady_rate`). 1 when answers came one by one.
    #[serde(default)]
    pub first_ok_round: u64,
    /// The sending was stopped before the duration was up (the dashboard's
    /// `q`): every number covers the time until then.
    #[serde(default)]
    pub stopped: bool,
    /// The same counts interval by interval ([`crate::intervals`]), with
    /// the server's own in_flight and executor lag sampled from its /metrics
    /// where it is a kit server ([`crate::sampler`]).
    #[serde(default)]
    pub series: Series,
}

impl AttackResult {
    /// Answers with a status of 500 or more (a full queue's 503 among them).
    pub fn server_errors(&self) -> u64 {
        self.status_counts.iter().filter(|(s, _)| is_server_error(**s)).map(|(_, n)| n).sum()
    }

    /// Requests that ended without an answer (timeouts, refused or reset connections).
    pub fn failed(&self) -> u64 {
        self.error_kinds.values().sum()
    }

    /// Of [`AttackResult::failed`], those that ran into the timeout.
    pub fn timeouts(&self) -> u64 {
        self.error_kinds.get(TIMEOUT_KIND).copied().unwrap_or(0)
    }

    /// Answers that were neither 2xx nor 5xx (a 404, a 429...).
    pub fn other_answers(&self) -> u64 {
        self.completed.saturating_sub(self.ok + self.server_errors())
    }

    /// Every request sent ended exactly one way: 2xx, another answer, a
    /// 5xx, or no answer. True of every finished attack; a check for the
    /// tests and for anyone who prints the four side by side.
    pub fn outcomes_add_up(&self) -> bool {
        self.ok + self.other_answers() + self.server_errors() + self.failed() == self.requests
            && self.ok + self.other_answers() + self.server_errors() == self.completed
            && self.server_errors() + self.failed() == self.errors
    }
}

/// Runs the open loop. `progress`, if given, is called with the number of
/// requests finished so far, about ten times a second and once at the end.
///
/// Fails before sending anything if the URL or options are invalid, or if
/// nothing accepts a connection at the URL's host and port.
pub async fn run(
    opts: &AttackOptions,
    progress: Option<Progress<'_>>,
) -> Result<AttackResult, LoadError> {
    run_with(opts, progress, None).await
}

/// [`run`], watched: `live` is updated at every progress tick (ten times a
/// second) with the intervals that have ended, and [`Live::stop`] ends the
/// sending early; the requests in flight then finish and the result covers
/// the time until the stop.
pub async fn run_with(
    opts: &AttackOptions,
    progress: Option<Progress<'_>>,
    live: Option<&Live>,
) -> Result<AttackResult, LoadError> {
    let target = hyper_conn::locate(&check(opts)?, true, opts.timeout).await?;
    let addr = target.addr;
    let pool = Arc::new(Pool { target, timeout: opts.timeout, idle: Mutex::default() });

    // Each request task sends its outcome here; one aggregator task records
    // them, so the totals' histograms are never shared or locked (the
    // series' recorder is locked once per batch, and by the live view).
    let (tx, rx) = mpsc::unbounded_channel();
    let finished = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let planned = opts.rate.over(opts.duration);
    let recorder = Arc::new(Mutex::new(Recorder::new(t0, opts.interval, planned)));
    let aggregator = tokio::spawn(aggregate(rx, finished.clone(), recorder.clone()));
    let sent_log = Arc::new(SentLog::new(t0, opts.interval));

    let plan =
        Plan { schedule: planned, count: planned.count(), max_in_flight: opts.max_in_flight };
    let runtime = tokio::runtime::Handle::current();
    // One flag for both ways to stop: the watcher's stop, and dropping this future.
    let cancel = CancelOnDrop(live.map(|l| l.stop.clone()).unwrap_or_default());
    let cancelled = cancel.0.clone();
    let log = sent_log.clone();
    let scheduler = tokio::task::spawn_blocking(move || {
        schedule(plan, t0, &runtime, &pool, tx, &cancelled, &log)
    });
    // After the scheduler: starting a thread must not delay the first send.
    let sampler = opts.sample_server.then(|| Sampler::start(addr, t0));

    let sending_over = AtomicBool::new(false);
    let watcher = Watcher {
        opts,
        t0,
        live,
        recorder: &recorder,
        sent_log: &sent_log,
        sampler: sampler.as_ref(),
        sending_over: &sending_over,
    };
    let hook = |n: u64| {
        if let Some(p) = progress {
            p(n);
        }
        watcher.publish();
    };
    let sent = unwrap_join(with_progress(scheduler, &finished, Some(&hook)).await);
    sending_over.store(true, Ordering::Relaxed);
    // The scheduler has dropped its sender: the aggregator ends with the last request.
    let tally = unwrap_join(with_progress(aggregator, &finished, Some(&hook)).await);
    let elapsed = t0.elapsed();
    let stopped = sent.stopped && live.is_some_and(Live::stopped);
    drop(cancel);

    let (watch, samples) = sampler.map_or((ServerWatch::Off, Vec::new()), Sampler::finish);
    let recorder =
        std::mem::replace(&mut *lock(&recorder), Recorder::new(t0, opts.interval, planned));
    let series = recorder.finish(&sent_log.counts(), samples, watch, elapsed);
    Ok(summarise(opts, sent, tally, (t0, elapsed), stopped, series))
}

/// How many of the latest intervals a live view gets: a dashboard shows a
/// window, and the percentiles of a long run's every interval, recomputed
/// ten times a second, would cost the aggregator its lock for long.
const LIVE_WINDOW: usize = 120;

/// What the progress hook needs to publish a [`LiveView`].
struct Watcher<'a> {
    opts: &'a AttackOptions,
    t0: Instant,
    live: Option<&'a Live>,
    recorder: &'a Mutex<Recorder>,
    sent_log: &'a SentLog,
    sampler: Option<&'a Sampler>,
    sending_over: &'a AtomicBool,
}

impl Watcher<'_> {
    fn publish(&self) {
        let Some(live) = self.live else { return };
        let now = self.t0.elapsed();
        let sent = self.sent_log.counts();
        let samples = self.sampler.map(Sampler::samples).unwrap_or_default();
        let rec = lock(self.recorder);
        let intervals = rec.intervals(&sent, &samples, now, false, LIVE_WINDOW);
        let totals = rec.totals();
        drop(rec);
        let sent: u64 = sent.iter().sum();
        live.publish(LiveView {
            url: self.opts.url.clone(),
            target_rate: self.opts.rate.mean(),
            ramp: ramp(self.opts.rate),
            duration_s: self.opts.duration.as_secs_f64(),
            elapsed_s: now.as_secs_f64(),
            sent,
            answered: totals.answered,
            ok: totals.ok,
            errors: totals.errors,
            late: totals.late,
            in_flight: sent.saturating_sub(totals.finished),
            intervals,
            server: self.sampler.map_or_else(|| ServerWatch::Off.describe(), Sampler::describe),
            server_now: samples.last().cloned(),
            stopping: self.sending_over.load(Ordering::Relaxed) || live.stopped(),
        });
    }
}

/// Checks the options (URL, rate, duration, interval...) without sending
/// anything or connecting: for a caller that must know before it sets up a
/// screen.
pub fn validate(opts: &AttackOptions) -> Result<(), LoadError> {
    check(opts).map(|_| ())
}

/// Rejects what cannot be run, before any traffic.
fn check(opts: &AttackOptions) -> Result<HttpUrl, LoadError> {
    let url = validate_url(&opts.url)?;
    let invalid = |why: &str| Err(LoadError::InvalidOptions(why.to_string()));
    if let Some(why) = opts.rate.problem() {
        return invalid(&why);
    }
    if opts.duration.is_zero() {
        return invalid("the duration must be more than 0");
    }
    if opts.timeout.is_zero() {
        return invalid("the timeout must be more than 0");
    }
    if opts.max_in_flight == 0 {
        return invalid("max_in_flight must be at least 1");
    }
    if opts.interval < intervals::MIN_INTERVAL {
        return invalid(&format!(
            "the interval must be at least {} ms",
            intervals::MIN_INTERVAL.as_millis()
        ));
    }
    if opts.duration.as_secs_f64() / opts.interval.as_secs_f64() > intervals::MAX_INTERVALS as f64 {
        return invalid(&format!(
            "at most {} intervals per attack: for a duration of {:.0} s, make the interval at least {:.1} s",
            intervals::MAX_INTERVALS,
            opts.duration.as_secs_f64(),
            opts.duration.as_secs_f64() / intervals::MAX_INTERVALS as f64
        ));
    }
    Ok(url)
}

/// A ramp's ends, for the result and the live view; `None` for a constant
/// rate, whose JSON stays as it was.
fn ramp(rate: Rate) -> Option<Rate> {
    (!rate.is_constant()).then_some(rate)
}

/// The due time of request i. Computed from t0 each time, never by adding a
/// period to the previous deadline, so rounding and late wake-ups never
/// accumulate into drift.
fn due(t0: Instant, i: u64, schedule: &Schedule) -> Instant {
    t0 + Duration::from_secs_f64(schedule.due_s(i))
}

/// What the scheduler is to do.
struct Plan {
    schedule: Schedule,
    /// [`Schedule::count`]: every request due within the duration.
    count: u64,
    max_in_flight: usize,
}

/// What the scheduler counted itself.
struct Sent {
    requests: u64,
    dropped: u64,
    /// From t0 to the last send (or drop).
    window: Duration,
    /// Stopped before the last request was due.
    stopped: bool,
}

/// Set when `run`'s future is dropped (a caller's Ctrl-C handler, a
/// `select!` with a deadline), so the scheduler thread stops too instead of
/// sending for the rest of the duration.
#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The longest the scheduler sleeps at once, so that cancelling is prompt
/// even at low rates.
const CANCEL_CHECK: Duration = Duration::from_millis(50);

/// Sends request i at its due time, each on its own task of `runtime`.
///
/// Runs on a thread of its own and sleeps with `std::thread::sleep`: tokio's
/// timer wheel rounds every wake-up to the next millisecond, which would
/// make every send up to 1 ms late and put that lag into `response_time`,
/// blaming the server for the generator's clock. The OS timer is good to
/// about 0.1 ms, and a sleeping thread costs no CPU.
///
/// Overdue requests (after a stall) go out at once: their due times do not
/// move, so the stall shows in `response_time`.
fn schedule(
    plan: Plan,
    t0: Instant,
    runtime: &tokio::runtime::Handle,
    pool: &Arc<Pool>,
    tx: mpsc::UnboundedSender<Outcome>,
    cancelled: &AtomicBool,
    log: &SentLog,
) -> Sent {
    let slots = Arc::new(Semaphore::new(plan.max_in_flight));
    let mut sent = Sent { requests: 0, dropped: 0, window: Duration::ZERO, stopped: false };
    for i in 0..plan.count {
        let due_at = due(t0, i, &plan.schedule);
        loop {
            if cancelled.load(Ordering::Relaxed) {
                sent.window = t0.elapsed();
                sent.stopped = true;
                return sent;
            }
            let now = Instant::now();
            if now >= due_at {
                break;
            }
            std::thread::sleep((due_at - now).min(CANCEL_CHECK));
        }
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                runtime.spawn(one_request(pool.clone(), due_at, slot, tx.clone()));
                log.record(Instant::now());
                sent.requests += 1;
            }
            Err(_) => sent.dropped += 1,
        }
    }
    sent.window = t0.elapsed();
    sent
}

/// What one request task reports.
struct Outcome {
    due_at: Instant,
    sent_at: Instant,
    done: Instant,
    result: Result<u16, &'static str>,
}

/// One request: send, read the body to the end, report. `_slot` is held
/// until the task ends, so it counts against `max_in_flight` the whole time.
async fn one_request(
    pool: Arc<Pool>,
    due_at: Instant,
    _slot: OwnedSemaphorePermit,
    tx: mpsc::UnboundedSender<Outcome>,
) {
    let sent_at = Instant::now();
    let result = pool.send().await;
    let outcome = Outcome { due_at, sent_at, done: Instant::now(), result };
    // The aggregator outlives every task (it ends when the last sender drops).
    let _ = tx.send(outcome);
}

/// The open loop's keep-alive connections: the idle ones wait here between
/// requests. A request takes the most recently returned idle connection
/// (so a steady rate keeps reusing a few hot ones) or, if none is idle,
/// opens a new one; after the whole response it gives the connection back
/// if the server left it open. So the pool holds as many connections as
/// were ever in flight at once, at most `max_in_flight`.
///
/// A std `Mutex` around a `Vec`: it is held for a push or a pop, never
/// across an await, so it is never contended for long.
struct Pool {
    target: Get,
    /// Per request, connect + response + body.
    timeout: Duration,
    idle: Mutex<Vec<Sender>>,
}

impl Pool {
    /// One GET, bounded by the timeout: the status, or a transport
    /// failure's kind. A connection that failed or timed out is dropped
    /// with the future, never given back.
    async fn send(&self) -> Result<u16, &'static str> {
        hyper_conn::within(self.timeout, async {
            let mut sender = self.checkout().await?;
            let status = hyper_conn::exchange(&mut sender, &self.target).await?;
            if !sender.is_closed() {
                self.idle().push(sender);
            }
            Ok(status)
        })
        .await
    }

    /// An idle connection that is still usable, or a new one. `ready()`
    /// fails on a connection the server closed while it sat idle, before
    /// anything is sent on it: that one is dropped and the next tried, so a
    /// server's idle timeout does not turn into a failed request. (A close
    /// that crosses the request on the wire still fails it, and is counted.)
    async fn checkout(&self) -> Result<Sender, &'static str> {
        loop {
            // The guard is a temporary of this statement: never held across the await.
            let Some(mut sender) = self.idle().pop() else {
                break;
            };
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        hyper_conn::connect(self.target.addr).await
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Sender>> {
        // Nothing panics while holding it; if something did, the Vec is still whole.
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The aggregator's counts: every finished request of the attack.
#[derive(Default)]
struct AggregatorCounts {
    service: Latencies,
    response: Latencies,
    late: u64,
    counts: Counts,
    /// The 2xx answers alone.
    ok: u64,
    ok_response: Latencies,
    first_ok: Option<Instant>,
    last_ok: Option<Instant>,
    /// The earliest 2xx answers' times (at most [`EARLIEST_KEPT`] once trimmed).
    earliest_ok: Vec<Instant>,
}

/// The earliest 2xx answer times kept to find the first round: more than
/// any slot count a lesson has (the largest round of the kit's servers is 4).
const EARLIEST_KEPT: usize = 64;

impl AggregatorCounts {
    /// See [`AttackResult::first_ok_round`].
    fn first_ok_round(&self) -> u64 {
        let (Some(first), Some(last)) = (self.first_ok, self.last_ok) else {
            return 0;
        };
        if self.ok < 2 {
            return self.ok;
        }
        let gap = (last - first).as_secs_f64() / (self.ok - 1) as f64;
        self.earliest_ok.iter().filter(|t| (**t - first).as_secs_f64() < gap / 2.0).count().max(1)
            as u64
    }
}

/// Records every outcome until all senders (the scheduler's and every
/// task's) are gone, i.e. until the last request has finished. Takes them
/// in batches, so the series' recorder is locked once per batch.
async fn aggregate(
    mut rx: mpsc::UnboundedReceiver<Outcome>,
    finished: Arc<AtomicU64>,
    recorder: Arc<Mutex<Recorder>>,
) -> AggregatorCounts {
    const BATCH: usize = 256;
    let mut t = AggregatorCounts::default();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut rec = lock(&recorder);
        for o in batch.drain(..) {
            let late = o.sent_at - o.due_at > LATE_THRESHOLD;
            t.late += u64::from(late);
            let answered = t.counts.record(o.result);
            if answered {
                t.service.record(o.done - o.sent_at);
                t.response.record(o.done - o.due_at);
            }
            let outcome = intervals::Outcome::of(o.result);
            if outcome == intervals::Outcome::Ok {
                t.ok += 1;
                t.ok_response.record(o.done - o.due_at);
                t.first_ok = Some(t.first_ok.map_or(o.done, |f| f.min(o.done)));
                t.last_ok = Some(t.last_ok.map_or(o.done, |l| l.max(o.done)));
                t.earliest_ok.push(o.done);
                if t.earliest_ok.len() >= 2 * EARLIEST_KEPT {
                    t.earliest_ok.sort_unstable();
                    t.earliest_ok.truncate(EARLIEST_KEPT);
                }
            }
            rec.record(&Finished { due: o.due_at, sent: o.sent_at, done: o.done, late, outcome });
            finished.fetch_add(1, Ordering::Relaxed);
        }
    }
    t
}

fn summarise(
    opts: &AttackOptions,
    sent: Sent,
    t: AggregatorCounts,
    (t0, elapsed): (Instant, Duration),
    stopped: bool,
    series: Series,
) -> AttackResult {
    let per_s = |n: u64, d: Duration| {
        if d.is_zero() {
            0.0
        } else {
            n as f64 / d.as_secs_f64()
        }
    };
    let since = |at: Instant| at.saturating_duration_since(t0).as_secs_f64();
    let first_ok_round = t.first_ok_round();
    AttackResult {
        url: opts.url.clone(),
        target_rate: opts.rate.mean(),
        ramp: ramp(opts.rate),
        achieved_rate: per_s(t.ok, elapsed),
        // Stopped early, the window is the time until the stop.
        sent_rate: per_s(
            sent.requests,
            if stopped { sent.window } else { sent.window.max(opts.duration) },
        ),
        requests: sent.requests,
        completed: t.counts.responses,
        ok: t.ok,
        errors: t.counts.errors,
        late: t.late,
        dropped: sent.dropped,
        error_kinds: t.counts.error_kinds(),
        status_counts: t.counts.status_counts,
        elapsed_s: elapsed.as_secs_f64(),
        service_time: t.service.summary(),
        response_time: t.response.summary(),
        ok_response_time: t.ok_response.summary(),
        first_ok_s: t.first_ok.map(since),
        last_ok_s: t.last_ok.map(since),
        first_ok_round,
        stopped,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing as test_server;

    fn opts(url: String, rate: f64, duration_ms: u64) -> AttackOptions {
        AttackOptions {
            timeout: Duration::from_secs(3),
            ..AttackOptions::new(url, rate, Duration::from_millis(duration_ms))
        }
    }

    #[test]
    fn plans_one_request_per_due_time_inside_the_duration() {
        let planned = |rate: f64, d: Duration| Rate::constant(rate).over(d).count();
        assert_eq!(planned(200.0, Duration::from_secs(1)), 200);
        assert_eq!(planned(30.0, Duration::from_millis(100)), 3);
        assert_eq!(planned(0.5, Duration::from_secs(1)), 1);
        let t0 = Instant::now();
        let s = Rate::constant(200.0).over(Duration::from_secs(1));
        assert_eq!(due(t0, 150, &s) - t0, Duration::from_millis(750));
        // 10..30 over 2 s: N(t) = 10t + 5t², so request 15 is due at 1 s.
        let s = Rate::ramp(10.0, 30.0).over(Duration::from_secs(2));
        assert_eq!((s.count(), due(t0, 15, &s) - t0), (40, Duration::from_secs(1)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attack_at_200_per_second_for_1_s_sends_200_on_time() {
        let base = test_server::start();
        let r = run(&opts(format!("{base}/fast"), 200.0, 1000), None).await.unwrap();
        assert_eq!((r.requests, r.dropped), (200, 0), "{r:?}");
        assert_eq!((r.completed, r.errors), (200, 0), "{r:?}");
        // Rates are time: generous bands (shared, noisy machines); the
        // exact partner is the count above, 200 sent and none dropped.
        assert!((r.achieved_rate - 200.0).abs() < 50.0, "{r:?}");
        assert!((r.sent_rate - 200.0).abs() < 25.0, "{r:?}");
        assert!(r.elapsed_s < 1.5, "{r:?}");
        assert!(r.service_time.is_ordered() && r.response_time.is_ordered(), "{r:?}");
        // Late sends measure the client's timer on a busy machine (50 of
        // 200 seen during a parallel build): bounded, not tight.
        assert!(r.late < r.requests / 2, "{r:?}");
    }

    /// A ramp from 20/s to 100/s over 2 s: N(t) = 20t + 20t², so 120
    /// requests, due at (-20 + √(400 + 80i)) / 40 s, and 15, 25, 35 and 45
    /// of them in the four half seconds. Every request is scheduled at its
    /// time on the ramp (its point's due time), and sent then: a send can
    /// only move a request across an interval's edge if it was due within
    /// a few ms of it (at most 100/s: one request) or went out late.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ramp_sends_each_request_at_its_time_on_the_ramp() {
        let base = test_server::start();
        let o = AttackOptions {
            interval: Duration::from_millis(500),
            ..opts(format!("{base}/fast"), 0.0, 2000)
        };
        let o = AttackOptions { rate: Rate::ramp(20.0, 100.0), ..o };
        let r = run(&o, None).await.unwrap();
        assert_eq!((r.requests, r.dropped, r.completed, r.errors), (120, 0, 120, 0), "{r:?}");
        assert_eq!((r.ramp, r.target_rate), (Some(Rate::ramp(20.0, 100.0)), 60.0), "{r:?}");
        // The schedule: every request's due time is the closed form's, to the f32 of a point.
        let mut due: Vec<f64> = r.series.points.points.iter().map(|p| f64::from(p.due_s)).collect();
        due.sort_by(f64::total_cmp);
        assert_eq!(due.len(), 120);
        for (i, d) in due.iter().enumerate() {
            let closed = (-20.0 + (400.0 + 80.0 * i as f64).sqrt()) / 40.0;
            assert!((d - closed).abs() < 1e-5, "request {i} due at {d}, not {closed}");
        }
        // The series: the plan per interval follows the ramp, and the sends follow the plan.
        let s = &r.series;
        let target: Vec<u64> = s.intervals.iter().map(|i| i.target).collect();
        assert_eq!(&target[..4], [15, 25, 35, 45], "{s:?}");
        assert_eq!(target.iter().sum::<u64>(), 120, "{s:?}");
        let slack = 1 + r.late;
        for i in &s.intervals {
            assert!(i.sent.abs_diff(i.target) <= slack, "{i:?}, {} late", r.late);
        }
        // 35 due in the third half second: 70/s offered. (The fourth ends
        // with the last answer, just before 2 s, so it is cut short.)
        assert!((s.intervals[2].target_rate() - 70.0).abs() < 1e-9, "{:?}", s.intervals[2]);
        // Sent on time: few late (a busy machine makes some), and the
        // response time, from the due time, never below the service time.
        assert!(r.late < r.requests / 2, "{r:?}");
        assert!(r.response_time.min_ms >= r.service_time.min_ms, "{r:?}");
        assert!((r.sent_rate - 60.0).abs() < 15.0 && r.elapsed_s < 3.0, "{r:?}");
    }

    /// The slot model's server: 2 slots of 200 ms = 10 req/s. Sent 20/s, it
    /// queues; the open loop keeps sending on time, so the queue shows in the
    /// latencies (a closed loop would politely wait and report 200 ms).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attack_over_capacity_shows_the_queue() {
        let base = test_server::start();
        let r = run(&opts(format!("{base}/gated"), 20.0, 1000), None).await.unwrap();
        assert_eq!((r.requests, r.completed, r.errors), (20, 20, 0), "{r:?}");
        assert!(r.response_time.p99_ms >= r.service_time.p99_ms, "{r:?}");
        // The last of 20 requests in 2 slots waits ~9 x 200 ms; due at 0.95 s, done at ~2 s.
        assert!(r.response_time.p99_ms > 800.0, "{r:?}");
        assert!(r.achieved_rate < 0.8 * r.target_rate, "{r:?}");
    }

    /// Coordinated omission made visible: the sender itself stalls 300 ms
    /// (as a GC pause or a starved CPU would). Requests due during the stall
    /// go out late; the fast server answers them at once, so service time
    /// stays small while response time, measured from the due time, shows
    /// the wait. (A request already in flight when the stall begins pays it
    /// in its service time too: one of 80, so the service-time checks look
    /// at p95, not at the maximum.)
    #[tokio::test(flavor = "current_thread")]
    async fn a_stalled_sender_shows_in_response_time_not_service_time() {
        let base = test_server::start();
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // Blocks the only runtime thread, the scheduler's too: on purpose.
            std::thread::sleep(Duration::from_millis(300));
        });
        let r = run(&opts(format!("{base}/fast"), 100.0, 800), None).await.unwrap();
        assert_eq!((r.requests, r.completed), (80, 80), "{r:?}");
        assert!(r.late >= 20, "{r:?}");
        assert!(r.response_time.max_ms >= 250.0, "{r:?}");
        assert!(r.service_time.p95_ms < 150.0, "{r:?}");
        assert!(r.response_time.p90_ms >= r.service_time.p90_ms + 100.0, "{r:?}");
    }

    /// Keep-alive: at 100/s to a fast server, about one request is in
    /// flight at a time, so a few connections carry all 200 requests. A
    /// connection per request would be 200; the bound of 50 leaves room for
    /// a stalled machine sending a backlog at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attack_reuses_idle_connections() {
        let base = test_server::start();
        let r = run(&opts(format!("{base}/fast"), 100.0, 2000), None).await.unwrap();
        assert_eq!((r.requests, r.completed, r.errors), (200, 200, 0), "{r:?}");
        let connections = base.peers();
        assert!((1..=50).contains(&connections), "{connections} connections for 200 requests");
    }

    /// A 5xx and a 404 are answers, and a timeout is none: none of them is
    /// achieved. Each request is counted once, as what it was.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn achieved_counts_only_2xx_and_the_outcomes_add_up() {
        let base = test_server::start();
        let r = run(&opts(format!("{base}/error"), 50.0, 200), None).await.unwrap();
        assert_eq!(
            (r.requests, r.completed, r.ok, r.server_errors(), r.failed()),
            (10, 10, 0, 10, 0),
            "{r:?}"
        );
        assert_eq!(
            (r.achieved_rate, r.ok_response_time.count, r.response_time.count),
            (0.0, 0, 10),
            "{r:?}"
        );
        assert!(r.outcomes_add_up(), "{r:?}");
        let r = run(&opts(format!("{base}/missing"), 50.0, 200), None).await.unwrap();
        assert_eq!((r.ok, r.other_answers(), r.achieved_rate), (0, 10, 0.0), "{r:?}");
        assert!(r.outcomes_add_up(), "{r:?}");
        // A timeout of 100 ms on a 200 ms endpoint: no answer at all.
        let o = AttackOptions {
            timeout: Duration::from_millis(100),
            ..opts(format!("{base}/sleep200"), 50.0, 200)
        };
        let r = run(&o, None).await.unwrap();
        assert_eq!(
            (r.requests, r.completed, r.timeouts(), r.errors, r.achieved_rate),
            (10, 0, 10, 10, 0.0),
            "{r:?}"
        );
        assert!(r.outcomes_add_up() && r.first_ok_s.is_none(), "{r:?}");
        let s = &r.series;
        let sum = |f: fn(&intervals::Interval) -> u64| s.intervals.iter().map(f).sum::<u64>();
        assert_eq!((sum(|i| i.ok), sum(|i| i.failed), sum(|i| i.timeouts)), (0, 10, 10), "{s:?}");
        // And the 2xx: achieved, with their times.
        let r = run(&opts(format!("{base}/fast"), 50.0, 200), None).await.unwrap();
        assert_eq!((r.ok, r.ok_response_time.count), (10, 10), "{r:?}");
        assert!(r.achieved_rate > 0.0 && r.outcomes_add_up(), "{r:?}");
        assert!(
            r.first_ok_s.unwrap() <= r.last_ok_s.unwrap()
                && r.last_ok_s.unwrap() <= r.elapsed_s + 1e-9,
            "{r:?}"
        );
    }

    /// Ten requests due within 90 ms on 2 slots of 200 ms: answered in
    /// rounds of 2, from 0.2 s to 1 s. The first round is both of the first
    /// two, so the rate from the first answer to the last is 8 in 0.8 s,
    /// s / t = 10/s, not 9 in 0.8 s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flooded_server_answers_in_rounds_and_the_first_is_not_counted_twice() {
        let base = test_server::start();
        let r = run(&opts(format!("{base}/gated"), 100.0, 100), None).await.unwrap();
        assert_eq!((r.requests, r.ok), (10, 10), "{r:?}");
        assert_eq!(r.first_ok_round, 2, "{r:?}");
        let rate = crate::capacity::steady_rate(&r);
        assert!((7.0..13.0).contains(&rate), "{rate} from {r:?}");
    }

    /// Same rule as `is_server_error`: 5xx are errors, a 404 is an answer.
    #[tokio::test]
    async fn attack_counts_5xx_as_errors_and_4xx_as_answers() {
        let base = test_server::start();
        let r = run(&opts(format!("{base}/error"), 50.0, 200), None).await.unwrap();
        assert_eq!((r.completed, r.errors), (10, 10), "{r:?}");
        assert_eq!(r.status_counts, BTreeMap::from([(500, 10)]));
        let r = run(&opts(format!("{base}/missing"), 50.0, 200), None).await.unwrap();
        assert_eq!((r.completed, r.errors), (10, 0), "{r:?}");
        assert_eq!(r.status_counts, BTreeMap::from([(404, 10)]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attack_counts_what_max_in_flight_drops() {
        let base = test_server::start();
        // 100/s x 200 ms = 20 in flight wanted; 5 allowed.
        let o = AttackOptions { max_in_flight: 5, ..opts(format!("{base}/sleep200"), 100.0, 500) };
        let r = run(&o, None).await.unwrap();
        assert_eq!(r.requests + r.dropped, 50, "{r:?}");
        assert!(r.dropped >= 20, "{r:?}");
        assert_eq!(r.completed, r.requests, "{r:?}");
    }

    #[tokio::test]
    async fn attack_reports_progress_from_the_coordinator() {
        let base = test_server::start();
        let calls = Mutex::new(Vec::new());
        let hook = |n: u64| calls.lock().unwrap().push(n);
        let r = run(&opts(format!("{base}/fast"), 50.0, 500), Some(&hook)).await.unwrap();
        let calls = calls.into_inner().unwrap();
        assert!((3..=10).contains(&calls.len()), "{calls:?}");
        assert_eq!(calls.last(), Some(&r.completed));
    }

    /// The series adds up to the totals, exactly, and its intervals tile
    /// the run from the first due time to the last response. The test
    /// server is not a kit server: no samples, and the series says why.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attack_series_adds_up_to_the_totals_and_covers_the_run() {
        let base = test_server::start();
        let o = AttackOptions {
            interval: Duration::from_millis(200),
            ..opts(format!("{base}/slow"), 100.0, 1000)
        };
        let r = run(&o, None).await.unwrap();
        let s = &r.series;
        let sum = |f: fn(&intervals::Interval) -> u64| s.intervals.iter().map(f).sum::<u64>();
        assert_eq!((sum(|i| i.sent), r.requests), (100, 100), "{r:?}");
        assert_eq!(sum(|i| i.answered), r.completed, "{r:?}");
        assert_eq!((sum(|i| i.ok), r.ok), (r.completed, r.completed), "{r:?}");
        assert_eq!((sum(|i| i.errors), sum(|i| i.late)), (r.errors, r.late), "{r:?}");
        assert_eq!(sum(|i| i.response_time.count), r.completed);
        assert_eq!(s.points.points.len() as u64, r.completed);
        // Tiled: from 0, each interval where the last ended, to the end of the run.
        assert_eq!(s.intervals[0].start_s, 0.0);
        for pair in s.intervals.windows(2) {
            assert!(
                (pair[0].end_s - pair[1].start_s).abs() < 1e-9
                    && (pair[0].seconds() - 0.2).abs() < 1e-9,
                "{pair:?}"
            );
        }
        let last = s.intervals.last().unwrap();
        assert!((last.end_s - r.elapsed_s).abs() < 1e-9, "{last:?} vs {}", r.elapsed_s);
        assert_eq!(s.intervals.len(), (r.elapsed_s / 0.2 - 1e-9).ceil() as usize);
        // 100/s for 1 s: every 200 ms interval of the duration sent some, and nothing is left in flight.
        assert!(r.elapsed_s >= 1.0 && s.intervals[..5].iter().all(|i| i.sent > 0), "{s:?}");
        assert_eq!(last.in_flight, 0);
        // A 50 ms server: the requests in flight at an interval's end are about 100/s x 50 ms = 5.
        assert!(s.intervals[..4].iter().all(|i| (1..=40).contains(&i.in_flight)), "{s:?}");
        match &s.server {
            ServerWatch::NotAKitServer { why } => assert!(why.contains("404"), "{why}"),
            other => panic!("not a kit server, yet {other:?}"),
        }
        assert!(s.server_samples.is_empty() && s.intervals.iter().all(|i| i.server.is_none()));
        // Not a kit server: no RSS or descriptors, rather than zeros.
        assert_eq!(s.resources, None);
    }

    /// A watcher sees intervals as they end, and its stop ends the sending
    /// early with a whole result: what was sent is answered and counted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_attack_publishes_intervals_and_stops_on_request() {
        let base = test_server::start();
        let live = Live::new();
        let o = AttackOptions {
            interval: Duration::from_millis(100),
            ..opts(format!("{base}/fast"), 100.0, 10_000)
        };
        let watcher = {
            let live = live.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(700)).await;
                let seen = live.view();
                live.stop();
                seen
            })
        };
        let r = run_with(&o, None, Some(&live)).await.unwrap();
        let seen = watcher.await.unwrap();
        assert!(r.stopped && (20..1000).contains(&r.requests), "{r:?}");
        assert_eq!((r.completed, r.errors), (r.requests, 0), "{r:?}");
        assert!(r.elapsed_s < 5.0, "{r:?}");
        assert_eq!(r.series.intervals.iter().map(|i| i.sent).sum::<u64>(), r.requests);
        assert_eq!(seen.url, o.url);
        assert!(!seen.intervals.is_empty() && seen.sent > 0 && seen.sent <= r.requests, "{seen:?}");
        assert!(seen.intervals.iter().all(|i| i.end_s <= seen.elapsed_s + 1e-9), "{seen:?}");
    }

    #[tokio::test]
    async fn attack_rejects_intervals_too_short_or_too_many() {
        let url = "http://127.0.0.1:1/".to_string();
        let short =
            AttackOptions { interval: Duration::from_millis(50), ..opts(url.clone(), 10.0, 1000) };
        let err = run(&short, None).await.unwrap_err();
        assert!(
            matches!(err, LoadError::InvalidOptions(_))
                && err.to_string().contains("at least 100 ms"),
            "{err}"
        );
        let many =
            AttackOptions { interval: Duration::from_millis(100), ..opts(url, 10.0, 3_600_000) };
        let err = validate(&many).unwrap_err();
        assert!(
            err.to_string().contains("at most 3600 intervals")
                && err.to_string().contains("at least 1.0 s"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn attack_rejects_bad_urls_and_rates_before_sending() {
        for url in ["notaurl", "ftp://x", "http://"] {
            let err = run(&opts(url.into(), 10.0, 100), None).await.unwrap_err();
            assert!(matches!(err, LoadError::InvalidUrl { .. }), "{url}: {err}");
        }
        // The two a person most often types: https, and a URL with no host.
        for (url, needle) in
            [("https://127.0.0.1:1/", "https is not supported"), ("http:///health", "missing host")]
        {
            let err = run(&opts(url.into(), 10.0, 100), None).await.unwrap_err();
            assert!(matches!(err, LoadError::InvalidUrl { .. }), "{url}: {err}");
            let text = err.to_string();
            assert!(
                text.contains(url)
                    && text.contains(needle)
                    && text.contains("http://127.0.0.1:3000/health"),
                "{text}"
            );
        }
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = run(&opts("http://127.0.0.1:1/".into(), rate, 100), None).await.unwrap_err();
            assert!(matches!(err, LoadError::InvalidOptions(_)), "{rate}: {err}");
        }
        // A ramp is checked end by end, before anything is sent.
        let o = AttackOptions {
            rate: Rate::ramp(0.0, 5.0),
            ..opts("http://127.0.0.1:1/".into(), 1.0, 100)
        };
        let err = run(&o, None).await.unwrap_err();
        assert!(matches!(err, LoadError::InvalidOptions(_)) && err.to_string().contains("0..5"));
    }

    #[tokio::test]
    async fn attack_against_a_closed_port_fails_fast_and_says_why() {
        let url = test_server::closed_port_url();
        let started = Instant::now();
        let err = run(&opts(url.clone(), 100.0, 30_000), None).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        let text = err.to_string();
        assert!(
            text.contains(&url)
                && text.contains("connect refused")
                && text.contains("is the server running?"),
            "{text}"
        );
    }
}

//! The open loop over time: what [`crate::attack`] saw, interval by
//! interval. (The server's own view, sampled alongside, is
//! [`crate::sampler`]; the running attack as a watcher sees it is
//! [`crate::live`].)
//!
//! Every request lands in the interval of each of its moments:
//! - `sent` and `late` by the moment the scheduler sent it;
//! - `answered` (any status), `ok` (2xx), `server_errors` (5xx), `failed`
//!   (no response: a timeout, a reset...), `errors` (5xx + failed) and the
//!   response-time histograms (every answer's, and the 2xx answers' alone),
//!   by the moment it finished.
//!   `ok` per second is the achieved throughput: a fast 503 or a timeout is
//!   not something achieved, and it is shown as what it is;
//! - `in_flight` at an interval's end is every request sent up to then minus
//!   every one finished up to then: exact, not sampled;
//! - `target` is the plan, not a measurement: the requests *due* in the
//!   interval ([`Schedule::due_before`] at its two ends), so per second it
//!   is the offered rate, and it follows a ramp. Sent on time, `sent` is
//!   `target` give or take a request crossing an interval's edge.
//!
//! So the intervals add up: their `sent` sum to the attack's `requests`,
//! their `answered` to its `completed`, their `ok` to its `ok` and their
//! `errors` to its `errors`; in each, `answered + failed` is what finished
//! and `errors = server_errors + failed`.
//!
//! Each interval also carries what the server said about itself meanwhile
//! ([`crate::sampler`]), where the target is a kit server.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use kit_measure::client::outcome::TIMEOUT_KIND;
use kit_measure::latency::{Latencies, Summary};
use serde::{Deserialize, Serialize};

use crate::attack::Schedule;
use crate::lock;
use crate::sampler::{server_interval, Resources, ServerInterval, ServerSample, ServerWatch};

/// One second per interval, as vegeta's reports and jaggr's default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Shorter intervals hold too few responses for a p99 at low rates, and
/// their ends blur into the timer's jitter.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// At most this many intervals per attack: one histogram each (24 kB), so
/// a long attack at a short interval stays within tens of megabytes.
pub const MAX_INTERVALS: u64 = 3600;
/// The latency-over-time chart's points are kept up to this many; past it,
/// every other one is dropped and the stride doubles, so the points stay an
/// even sample of the whole run (`Points::every` says 1 in how many).
pub const MAX_POINTS: usize = 200_000;

/// Upper edges of the heatmap's latency buckets: five per decade from
/// 0.1 ms to 100 s (0.1, 0.16, 0.25, 0.4, 0.63, 1, ...), so each bucket is
/// the same height on a log axis.
pub fn bucket_edges() -> Vec<Duration> {
    (0..=30).map(|k| Duration::from_secs_f64(1e-4 * 10f64.powf(f64::from(k) / 5.0))).collect()
}

/// One interval of the attack. See the module docs for which moment of a
/// request puts it in which count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Seconds after the first due time.
    pub start_s: f64,
    /// `start_s` + the interval, or the end of the attack for the last one.
    pub end_s: f64,
    /// Requests sent during the interval.
    pub sent: u64,
    /// Requests due during the interval: the offered load, which follows
    /// a ramp (0 in a series from before ramps).
    #[serde(default)]
    pub target: u64,
    /// Responses received during the interval, whatever their status.
    pub answered: u64,
    /// Of `answered`, the 2xx: what the interval achieved.
    #[serde(default)]
    pub ok: u64,
    /// Of `answered`, the 5xx (a full queue's 503 among them).
    #[serde(default)]
    pub server_errors: u64,
    /// Requests that ended without a response (a timeout, a refused or
    /// reset connection) during the interval.
    #[serde(default)]
    pub failed: u64,
    /// Of `failed`, those that ran into the attack's timeout.
    #[serde(default)]
    pub timeouts: u64,
    /// Transport failures and 5xx responses during the interval:
    /// `server_errors + failed`.
    pub errors: u64,
    /// Of `sent`, those that went out more than `attack::LATE_THRESHOLD` after they were due.
    pub late: u64,
    /// The client's requests in flight at the interval's end.
    pub in_flight: u64,
    /// From the due time to the end of the body, of every answer received
    /// in this interval, whatever its status (one histogram per interval).
    pub response_time: Summary,
    /// The same of the 2xx answers alone: what the charts and tables call
    /// the response time, as a fast 503 is not a fast answer (and a timeout
    /// has no response time at all).
    #[serde(default)]
    pub ok_response_time: Summary,
    /// Every answer per latency bucket (see [`Series::bucket_edges_ms`]).
    pub buckets: Vec<u64>,
    /// The 2xx answers per latency bucket.
    #[serde(default)]
    pub ok_buckets: Vec<u64>,
    /// The server's own view during the interval; `None` when it was not
    /// sampled (not a kit server, or no sample fell inside).
    pub server: Option<ServerInterval>,
}

impl Interval {
    pub fn seconds(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// Requests sent per second in this interval.
    pub fn sent_rate(&self) -> f64 {
        per_s(self.sent, self.seconds())
    }

    /// Requests due per second in this interval: the offered rate.
    pub fn target_rate(&self) -> f64 {
        per_s(self.target, self.seconds())
    }

    /// Responses per second in this interval, whatever their status.
    pub fn answered_rate(&self) -> f64 {
        per_s(self.answered, self.seconds())
    }

    /// 2xx answers per second in this interval: the achieved throughput.
    pub fn ok_rate(&self) -> f64 {
        per_s(self.ok, self.seconds())
    }

    /// 5xx answers per second in this interval.
    pub fn server_error_rate(&self) -> f64 {
        per_s(self.server_errors, self.seconds())
    }

    /// Requests that ended without a response, per second.
    pub fn failed_rate(&self) -> f64 {
        per_s(self.failed, self.seconds())
    }
}

fn per_s(n: u64, s: f64) -> f64 {
    if s > 0.0 {
        n as f64 / s
    } else {
        0.0
    }
}

/// How a request ended, as the series sorts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer: achieved.
    Ok,
    /// Any other status below 500 (a 404, a 429...): an answer, not achieved.
    Other,
    /// A 5xx answer (a full queue's 503 among them).
    ServerError,
    /// No answer: the attack's timeout ran out.
    Timeout,
    /// No answer for another reason (refused, reset...).
    Failed,
}

impl Outcome {
    /// What a request's result says: its status, or a transport failure's kind.
    pub fn of(result: Result<u16, &str>) -> Outcome {
        match result {
            Ok(status) if (200..300).contains(&status) => Outcome::Ok,
            Ok(status) if status >= 500 => Outcome::ServerError,
            Ok(_) => Outcome::Other,
            Err(kind) if kind == TIMEOUT_KIND => Outcome::Timeout,
            Err(_) => Outcome::Failed,
        }
    }

    /// A response came (whatever its status).
    pub fn answered(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Other | Outcome::ServerError)
    }
}

/// Each request that ended as a point: when it was due, and how long after
/// that it ended (its response time, or for a failure the time until it
/// failed: a timeout's point lies at the timeout).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Seconds after the first due time.
    pub due_s: f32,
    pub ms: f32,
    pub outcome: Outcome,
}

/// The points of the latency-over-time chart: every request that ended, or
/// 1 in `every` once there were more than [`MAX_POINTS`].
#[derive(Clone, PartialEq)]
pub struct Points {
    pub every: u64,
    pub points: Vec<Point>,
    seen: u64,
}

impl Default for Points {
    fn default() -> Points {
        Points { every: 1, points: Vec::new(), seen: 0 }
    }
}

/// Their count, not thousands of them in every failed assertion's message.
impl std::fmt::Debug for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Points {{ every: {}, kept: {} }}", self.every, self.points.len())
    }
}

impl Points {
    fn push(&mut self, p: Point) {
        self.seen += 1;
        if !self.seen.is_multiple_of(self.every) {
            return;
        }
        self.points.push(p);
        if self.points.len() > MAX_POINTS {
            // Kept: the multiples of `every`; keeping every other one leaves
            // the multiples of 2 x `every`, still spread over the whole run.
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 0
            });
            self.every *= 2;
        }
    }
}

/// The attack's time series: `--json` prints it, `--out` writes it to
/// series.json and draws it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub interval_s: f64,
    /// Upper edges of the latency buckets of every interval's `buckets`; the
    /// last bucket holds what is at or above the last edge.
    pub bucket_edges_ms: Vec<f64>,
    pub intervals: Vec<Interval>,
    pub server: ServerWatch,
    pub server_samples: Vec<ServerSample>,
    /// The server's RSS and open descriptors at the start, after the
    /// warm-up and at the end; `None` when it was not sampled (not a kit
    /// server): not available, never zeros.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Every request that ended (up to [`MAX_POINTS`]) for the latency
    /// chart: in memory only, too many for the JSON.
    #[serde(skip)]
    pub points: Points,
}

/// A request as the recorder sees it once it has finished.
pub(crate) struct Finished {
    pub due: Instant,
    pub sent: Instant,
    pub done: Instant,
    pub late: bool,
    pub outcome: Outcome,
}

/// One interval's counts as the attack runs, before they become an [`Interval`].
#[derive(Default)]
struct IntervalCounts {
    answered: u64,
    ok: u64,
    server_errors: u64,
    failed: u64,
    timeouts: u64,
    errors: u64,
    late: u64,
    /// Answered or failed: what leaves the client's in-flight count.
    finished: u64,
    /// The 2xx answers' response times.
    ok_latencies: Option<Latencies>,
    /// The other answers' (4xx, 5xx).
    other_latencies: Option<Latencies>,
}

impl IntervalCounts {
    /// Every answer's response times: the two histograms together.
    fn all_latencies(&self) -> Option<Latencies> {
        match (&self.ok_latencies, &self.other_latencies) {
            (Some(a), Some(b)) => {
                let mut all = a.clone();
                all.merge(b);
                Some(all)
            }
            (a, b) => a.clone().or_else(|| b.clone()),
        }
    }
}

/// Builds the series from finished requests. The scheduler counts the sends
/// itself ([`SentLog`]); everything else arrives here.
pub(crate) struct Recorder {
    t0: Instant,
    interval: Duration,
    /// When each request is due: each interval's `target`.
    schedule: Schedule,
    acc: Vec<IntervalCounts>,
    points: Points,
}

impl Recorder {
    pub fn new(t0: Instant, interval: Duration, schedule: Schedule) -> Recorder {
        Recorder { t0, interval, schedule, acc: Vec::new(), points: Points::default() }
    }

    pub fn record(&mut self, r: &Finished) {
        let response_time = r.done.saturating_duration_since(r.due);
        let late = slot(&mut self.acc, index(self.t0, self.interval, r.sent));
        late.late += u64::from(r.late);
        let acc = slot(&mut self.acc, index(self.t0, self.interval, r.done));
        acc.finished += 1;
        let o = r.outcome;
        acc.answered += u64::from(o.answered());
        acc.ok += u64::from(o == Outcome::Ok);
        acc.server_errors += u64::from(o == Outcome::ServerError);
        acc.failed += u64::from(!o.answered());
        acc.timeouts += u64::from(o == Outcome::Timeout);
        acc.errors +=
            u64::from(matches!(o, Outcome::ServerError | Outcome::Timeout | Outcome::Failed));
        match o {
            Outcome::Ok => {
                acc.ok_latencies.get_or_insert_with(Latencies::coarse).record(response_time)
            }
            Outcome::Other | Outcome::ServerError => {
                acc.other_latencies.get_or_insert_with(Latencies::coarse).record(response_time)
            }
            Outcome::Timeout | Outcome::Failed => {}
        }
        let due_s = r.due.saturating_duration_since(self.t0).as_secs_f32();
        self.points.push(Point { due_s, ms: response_time.as_secs_f32() * 1000.0, outcome: o });
    }

    /// The intervals that end by `until` (after the first due time), and
    /// the one `until` falls in, cut there if `partial`; only the `last` so
    /// many of them (the counts before still add up into `in_flight`).
    pub fn intervals(
        &self,
        sent: &[u64],
        samples: &[ServerSample],
        until: Duration,
        partial: bool,
        last: usize,
    ) -> Vec<Interval> {
        let edges = bucket_edges();
        let step = self.interval.as_secs_f64();
        let until_s = until.as_secs_f64();
        let whole = (until_s / step + 1e-9).floor() as usize;
        let count = if partial { (until_s / step - 1e-9).ceil().max(1.0) as usize } else { whole };
        let (mut sent_so_far, mut finished_so_far) = (0, 0);
        let first = count.saturating_sub(last);
        let mut out = Vec::with_capacity(count - first);
        for i in 0..count {
            let empty = IntervalCounts::default();
            let acc = self.acc.get(i).unwrap_or(&empty);
            let sent_here = sent.get(i).copied().unwrap_or(0);
            sent_so_far += sent_here;
            finished_so_far += acc.finished;
            if i < first {
                continue;
            }
            let start_s = i as f64 * step;
            let end_s = ((i + 1) as f64 * step).min(until_s.max(start_s));
            let all = acc.all_latencies();
            let (latencies, ok) = (all.as_ref(), acc.ok_latencies.as_ref());
            let buckets = |l: Option<&Latencies>| {
                l.map_or_else(|| vec![0; edges.len() + 1], |l| l.bucket_counts(&edges))
            };
            out.push(Interval {
                start_s,
                end_s,
                sent: sent_here,
                target: self.schedule.due_before(end_s) - self.schedule.due_before(start_s),
                answered: acc.answered,
                ok: acc.ok,
                server_errors: acc.server_errors,
                failed: acc.failed,
                timeouts: acc.timeouts,
                errors: acc.errors,
                late: acc.late,
                in_flight: sent_so_far.saturating_sub(finished_so_far),
                response_time: latencies.map(Latencies::summary).unwrap_or_default(),
                ok_response_time: ok.map(Latencies::summary).unwrap_or_default(),
                buckets: buckets(latencies),
                ok_buckets: buckets(ok),
                server: server_interval(samples, start_s, end_s),
            });
        }
        out
    }

    /// The counts of every interval so far, added up.
    pub fn totals(&self) -> Totals {
        self.acc.iter().fold(Totals::default(), |t, a| Totals {
            answered: t.answered + a.answered,
            ok: t.ok + a.ok,
            errors: t.errors + a.errors,
            late: t.late + a.late,
            finished: t.finished + a.finished,
        })
    }

    /// The whole series, once the last request has finished at `elapsed`.
    pub fn finish(
        self,
        sent: &[u64],
        samples: Vec<ServerSample>,
        server: ServerWatch,
        elapsed: Duration,
    ) -> Series {
        let intervals = self.intervals(sent, &samples, elapsed, true, usize::MAX);
        Series {
            interval_s: self.interval.as_secs_f64(),
            bucket_edges_ms: bucket_edges()
                .iter()
                .map(|e| round3(e.as_secs_f64() * 1000.0))
                .collect(),
            intervals,
            server,
            resources: Resources::of(&samples, elapsed.as_secs_f64()),
            server_samples: samples,
            points: self.points,
        }
    }
}

#[derive(Default)]
pub(crate) struct Totals {
    pub answered: u64,
    pub ok: u64,
    pub errors: u64,
    pub late: u64,
    pub finished: u64,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The interval `at` falls in. Before t0 (cannot happen, as every send is
/// at or after its due time) counts as the first.
fn index(t0: Instant, interval: Duration, at: Instant) -> usize {
    (at.saturating_duration_since(t0).as_nanos() / interval.as_nanos().max(1)) as usize
}

fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

/// The scheduler's count of sends per interval, by the moment of the send.
/// Locked once per send by the scheduler thread and a few times a second by
/// a watcher: never contended for long.
pub(crate) struct SentLog {
    t0: Instant,
    interval: Duration,
    sent: Mutex<Vec<u64>>,
}

impl SentLog {
    pub fn new(t0: Instant, interval: Duration) -> SentLog {
        SentLog { t0, interval, sent: Mutex::default() }
    }

    pub fn record(&self, at: Instant) {
        *slot(&mut lock(&self.sent), index(self.t0, self.interval, at)) += 1;
    }

    pub fn counts(&self) -> Vec<u64> {
        lock(&self.sent).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// 30/s for 0.2 s: due at 0, 33, 67 ... 167 ms, three per 100 ms.
    fn constant() -> Schedule {
        crate::attack::Rate::constant(30.0).over(Duration::from_millis(200))
    }

    /// Fixed requests, counted by hand: each lands in the interval of each moment.
    #[test]
    fn intervals_count_each_moment_where_it_happened() {
        let t0 = Instant::now();
        let step = Duration::from_millis(100);
        let mut r = Recorder::new(t0, step, constant());
        let log = SentLog::new(t0, step);
        // (due, sent, done, late, response: Some(is a 5xx), None for a failure)
        let reqs = [
            (0, 0, 50, false, Some(false)),
            (20, 20, 150, false, Some(false)),
            (40, 60, 160, true, Some(true)),
            (150, 150, 250, false, None),
            (180, 180, 290, false, Some(false)),
        ];
        for (due, sent, done, late, response) in reqs {
            log.record(at(t0, sent));
            let outcome = match response {
                Some(false) => Outcome::Ok,
                Some(true) => Outcome::ServerError,
                None => Outcome::Failed,
            };
            r.record(&Finished {
                due: at(t0, due),
                sent: at(t0, sent),
                done: at(t0, done),
                late,
                outcome,
            });
        }
        let samples = [
            ServerSample {
                t_s: 0.05,
                in_flight: 2,
                executor_lag_ms: Some(1.0),
                rss_bytes: Some(9 << 20),
                open_fds: Some(12),
            },
            ServerSample {
                t_s: 0.08,
                in_flight: 4,
                executor_lag_ms: Some(3.0),
                rss_bytes: Some(10 << 20),
                open_fds: None,
            },
        ];
        let iv = r.intervals(&log.counts(), &samples, Duration::from_millis(290), true, usize::MAX);
        let col = |f: fn(&Interval) -> u64| iv.iter().map(f).collect::<Vec<_>>();
        assert_eq!(col(|i| i.sent), [3, 2, 0]);
        assert_eq!(col(|i| i.target), [3, 3, 0]);
        assert_eq!(col(|i| i.answered), [1, 2, 1]);
        assert_eq!(col(|i| i.errors), [0, 1, 1]);
        assert_eq!(col(|i| i.late), [1, 0, 0]);
        assert_eq!(col(|i| i.in_flight), [2, 2, 0]);
        assert_eq!(col(|i| i.response_time.count), [1, 2, 1]);
        assert_eq!(col(|i| i.buckets.iter().sum()), [1, 2, 1]);
        assert!((iv[2].end_s - 0.29).abs() < 1e-9 && iv[1].end_s == iv[2].start_s, "{iv:?}");
        let s = iv[0].server.as_ref().unwrap();
        assert_eq!(
            (s.samples, s.max_in_flight, s.mean_in_flight, s.mean_executor_lag_ms),
            (2, 4, 3.0, Some(2.0))
        );
        // The interval's last reading, as it was: a missing one stays missing.
        assert_eq!((s.rss_bytes, s.open_fds), (Some(10 << 20), None));
        assert!(iv[1].server.is_none());
        // Response time counts from the due time: the second request, due at 20 ms, done at 150 ms.
        assert!((iv[1].response_time.max_ms - 130.0).abs() < 2.0, "{:?}", iv[1].response_time);
        // Only the intervals that have ended, when the run is still going.
        assert_eq!(
            r.intervals(&log.counts(), &[], Duration::from_millis(250), false, usize::MAX).len(),
            2
        );
        // A window of the last one still counts what came before into in_flight.
        let last = r.intervals(&log.counts(), &[], Duration::from_millis(250), false, 1);
        assert_eq!((last.len(), last[0].start_s, last[0].in_flight), (1, 0.1, 2));
        let t = r.totals();
        assert_eq!((t.answered, t.errors, t.late, t.finished), (4, 2, 1, 5));
    }

    /// Achieved is the 2xx alone: a fast 503, a 404, a timeout and a reset
    /// are each counted once, as what they are, and the 2xx response time
    /// leaves out the fast 503s that would pull its p50 down.
    #[test]
    fn achieved_counts_only_2xx_and_every_request_once() {
        use Outcome::*;
        let t0 = Instant::now();
        let step = Duration::from_millis(100);
        let mut r = Recorder::new(t0, step, constant());
        let log = SentLog::new(t0, step);
        // (due = sent, done, outcome)
        let reqs = [
            (0, 80, Ok),
            (10, 11, ServerError),
            (20, 21, ServerError),
            (30, 95, Ok),
            (40, 90, Other),
            (50, 99, Timeout),
            (60, 70, Failed),
        ];
        for (due, done, outcome) in reqs {
            log.record(at(t0, due));
            r.record(&Finished {
                due: at(t0, due),
                sent: at(t0, due),
                done: at(t0, done),
                late: false,
                outcome,
            });
        }
        let iv = r.intervals(&log.counts(), &[], Duration::from_millis(100), true, usize::MAX);
        assert_eq!(iv.len(), 1, "{iv:?}");
        let i = &iv[0];
        assert_eq!(
            (i.sent, i.answered, i.ok, i.server_errors, i.failed, i.timeouts, i.errors),
            (7, 5, 2, 2, 2, 1, 4)
        );
        // Every request sent ended exactly one way.
        assert_eq!(i.answered + i.failed, i.sent);
        assert_eq!(i.errors, i.server_errors + i.failed);
        assert_eq!((i.in_flight, i.response_time.count, i.ok_response_time.count), (0, 5, 2));
        assert_eq!((i.buckets.iter().sum::<u64>(), i.ok_buckets.iter().sum::<u64>()), (5, 2));
        // The 2xx took 65 and 80 ms; the two 503s took 1 ms each.
        assert!(i.ok_response_time.min_ms >= 60.0 && i.response_time.min_ms < 5.0, "{i:?}");
        assert!(
            (i.ok_rate() - 20.0).abs() < 1e-9 && (i.answered_rate() - 50.0).abs() < 1e-9,
            "{i:?}"
        );
        assert_eq!(r.totals().ok, 2);
        // Every request is a point, the timeout at the time it gave up.
        let outcomes: Vec<Outcome> = r.points.points.iter().map(|p| p.outcome).collect();
        assert_eq!(outcomes, reqs.map(|r| r.2));
        assert!((r.points.points[5].ms - 49.0).abs() < 1.0, "{:?}", r.points.points[5]);
    }

    /// The target is the plan: a ramp's due requests per interval, whatever
    /// was sent. 10..30 over 2 s is due 7, 8, 12, 13 per half second.
    #[test]
    fn each_intervals_target_is_what_the_ramp_made_due_in_it() {
        let t0 = Instant::now();
        let ramp = crate::attack::Rate::ramp(10.0, 30.0).over(Duration::from_secs(2));
        let r = Recorder::new(t0, Duration::from_millis(500), ramp);
        let iv = r.intervals(&[], &[], Duration::from_millis(2300), true, usize::MAX);
        let col = |f: fn(&Interval) -> u64| iv.iter().map(f).collect::<Vec<_>>();
        assert_eq!(col(|i| i.target), [7, 8, 12, 13, 0]);
        assert_eq!(col(|i| i.sent), [0; 5]);
        let rates: Vec<f64> = iv.iter().map(Interval::target_rate).collect();
        assert_eq!(rates, [14.0, 16.0, 24.0, 26.0, 0.0]);
        // A window of the last two still counts from the first due time.
        let last = r.intervals(&[], &[], Duration::from_millis(2000), false, 2);
        assert_eq!((last[0].target, last[1].target), (12, 13));
    }

    #[test]
    fn outcomes_are_read_from_status_and_failure_kind() {
        assert_eq!(Outcome::of(Ok(200)), Outcome::Ok);
        assert_eq!(Outcome::of(Ok(204)), Outcome::Ok);
        assert_eq!(Outcome::of(Ok(404)), Outcome::Other);
        assert_eq!(Outcome::of(Ok(503)), Outcome::ServerError);
        assert_eq!(Outcome::of(Err(TIMEOUT_KIND)), Outcome::Timeout);
        assert_eq!(Outcome::of(Err("connect refused")), Outcome::Failed);
        assert!(Outcome::Other.answered() && !Outcome::Timeout.answered());
    }

    #[test]
    fn points_thin_out_evenly_past_the_cap() {
        let mut p = Points::default();
        let n = MAX_POINTS as u64 * 3;
        for i in 0..n {
            p.push(Point { due_s: i as f32, ms: 1.0, outcome: Outcome::Ok });
        }
        assert_eq!(p.every, 4);
        assert!(
            p.points.len() <= MAX_POINTS && p.points.len() as u64 >= n / 4 - 1,
            "{}",
            p.points.len()
        );
        // An even sample of the whole run: the last kept point is near the end.
        assert!(p.points.last().unwrap().due_s as u64 >= n - 4 - 1);
    }

    #[test]
    fn bucket_edges_are_five_per_decade() {
        let e = bucket_edges();
        assert_eq!(e.len(), 31);
        assert!(
            (e[5].as_secs_f64() - 1e-3).abs() < 1e-9 && (e[30].as_secs_f64() - 100.0).abs() < 1e-6
        );
    }
}

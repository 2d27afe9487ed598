//! Capacity: open-loop attacks at rising rates until the server stops keeping
//! up, next to the slot model's prediction by Little's law.
//!
//! A server with s slots whose requests take t seconds holds at most s
//! requests at once, so by L = λ x W it finishes at most s / t per second.
//! Offered more, it queues: achieved stays at s / t and latency climbs with
//! every second of the attack (the hockey stick). Unbounded slots have no
//! waiting limit; what stops them is the CPU (and on one machine the client
//! shares it).
//!
//! Each step is one [`attack::run`] at a constant rate, with the server's
//! /metrics sampled over its steady half
//! ([`crate::littles_law::WindowSampler`]). The ladder ends at the first
//! step that does not keep up (or a few steps past it,
//! [`LadderOptions::past_knee`], to draw the flat part of the stick), or
//! after a bounded number of steps. With
//! [`LadderOptions::near_model`], once the first step has measured t, the
//! rates near s / t are offered in finer steps ([`NEAR_MODEL`]), so the
//! knee of a 4-slot server gets more than two points.
//!
//! Achieved is the 2xx answers alone, from the first to the last
//! ([`steady_rate`]); a full queue's fast 503s and the timeouts are errors,
//! and the p50 and p99 are the 2xx answers' response times.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use kit_measure::client::outcome::{is_server_error, TIMEOUT_KIND};
use kit_measure::client::url::validate_url;
use kit_measure::client::LoadError;
use kit_measure::harness;

use crate::attack::{self, AttackOptions, AttackResult};
use crate::littles_law::{Little, WindowSampler};
use kit_serve::contract::MetricsSnapshot;

/// A step keeps up when it achieves at least this share of its target.
pub const KEEP_UP: f64 = 0.95;
/// The p99 limit, unless given: this many times the first step's p50
/// (a request that waited four service times in a queue)...
const P99_LIMIT_FACTOR: f64 = 5.0;
/// ...but never below this, so sub-millisecond endpoints are not judged by
/// scheduler jitter.
const P99_LIMIT_FLOOR: Duration = Duration::from_millis(50);
/// Late sends above this share are named next to a step that fell behind:
/// the client shares the machine, and may be what gave out. They do not
/// stop the ladder by themselves: response times count from when each
/// request was due, so a late client that the server still keeps up with
/// shows in neither achieved nor p99. (Measured on the shared 2-core
/// machine: 8 of 144 sends late at 48/s while async-native kept up.)
const LATE_SHARE: f64 = 0.05;
/// The rates offered near the slot model's s / t, as multiples of it.
pub const NEAR_MODEL: [f64; 8] = [0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 2.0, 3.0];
/// Below this handler time the slot model predicts nothing in reach: 4
/// slots of 0.002 ms would be 2,000,000/s, far past what a client and a
/// server sharing a machine's cores can send and answer (about 90,000/s of
/// /health on the 2-core reference machine). There the CPU is the limit,
/// and the kit says so instead of printing s / t.
pub const MIN_MODEL_T: Duration = Duration::from_millis(1);

/// How to climb.
#[derive(Clone, Debug)]
pub struct LadderOptions {
    /// The URL to attack, e.g. `http://127.0.0.1:5004/parallel`.
    pub url: String,
    /// The first rate, requests per second.
    pub start: f64,
    /// Each step's rate is the last one's times this.
    pub factor: f64,
    /// At most this many steps.
    pub max_steps: usize,
    /// How long each step sends.
    pub step: Duration,
    /// Per request; bounds the drain of a queue after an over-capacity step.
    pub timeout: Duration,
    /// `None`: [`P99_LIMIT_FACTOR`] x the first step's p50 (at least [`P99_LIMIT_FLOOR`]).
    pub p99_limit: Option<Duration>,
    /// Once the first step has measured t on a server with slots, offer
    /// the rates of [`NEAR_MODEL`] x s / t that lie between the geometric
    /// ones, so the knee is measured in fine steps.
    pub near_model: bool,
    /// Steps still offered after the first that did not keep up (0: the
    /// ladder ends there), so the chart shows the flat part of the stick.
    pub past_knee: usize,
}

impl LadderOptions {
    /// The rates the ladder will offer, lowest first, before the first
    /// step has measured anything ([`LadderOptions::near_model`] may put
    /// finer ones in between, [`LadderOptions::past_knee`] end it early).
    pub fn rates(&self) -> Vec<f64> {
        (0..self.max_steps).map(|i| self.start * self.factor.powi(i as i32)).collect()
    }

    /// The rate after `last`: `factor` times it, or with
    /// [`LadderOptions::near_model`] and a prediction, the next multiple of
    /// s / t from [`NEAR_MODEL`] if that comes first.
    pub fn next_rate(&self, last: f64, predicted: Option<f64>) -> f64 {
        let geometric = last * self.factor;
        let near = predicted
            .filter(|_| self.near_model)
            .and_then(|p| NEAR_MODEL.iter().map(|m| m * p).find(|r| *r > last * 1.02));
        near.map_or(geometric, |n| n.min(geometric))
    }

    fn check(&self) -> Result<(), LoadError> {
        let bad = |why: &str| Err(LoadError::InvalidOptions(why.to_string()));
        if !(self.start.is_finite() && self.start > 0.0) {
            return bad("the start rate must be above 0");
        }
        if !(self.factor.is_finite() && self.factor > 1.0) {
            return bad("the factor must be above 1 (each step offers more)");
        }
        if self.max_steps == 0 {
            return bad("at least one step");
        }
        if self.step < Duration::from_millis(200) {
            return bad(
                "a step must last at least 200 ms (its second half is the measured window)",
            );
        }
        Ok(())
    }
}

/// One rate, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub target_rate: f64,
    /// 2xx answers per second from the first to the last: see [`steady_rate`].
    pub achieved_rate: f64,
    /// Response time (from when each request was due) p50 and p99 of the
    /// 2xx answers, ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Both sides of Little's law over the step's steady half, when the
    /// target is a kit server.
    pub little: Option<Little>,
    /// Why there is no `little`.
    pub little_missing: Option<String>,
    /// `None` when the step kept up; else why not.
    pub saturated: Option<String>,
    pub attack: AttackResult,
}

impl Step {
    pub fn kept_up(&self) -> bool {
        self.saturated.is_none()
    }

    /// The server's mean in_flight over the window, when sampled.
    pub fn mean_in_flight(&self) -> Option<f64> {
        self.little.as_ref().map(|l| l.measured_in_flight)
    }
}

/// A whole ladder and what the slot model made of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub url: String,
    pub path: String,
    /// From the server's /metrics, when it is a kit server.
    pub variant: Option<String>,
    /// The server's slots (`None`: unbounded, or not a kit server).
    pub slots: Option<u64>,
    /// How many requests may wait for a slot before the server answers
    /// 503 at once (the wrapper's `queue` knob); `None`: no such bound.
    #[serde(default)]
    pub queue: Option<u64>,
    /// The model's t: the server's own mean time in the handler at the first
    /// (lowest) step, or the client's p50 service time if it has no /metrics.
    pub t_s: f64,
    /// s / t, requests per second (`None`: unbounded slots, or t below
    /// [`MIN_MODEL_T`], where the CPU limits long before the slots would).
    pub predicted_rate: Option<f64>,
    pub p99_limit_ms: f64,
    pub steps: Vec<Step>,
}

impl Capacity {
    /// The highest offered rate that was kept up.
    pub fn last_held(&self) -> Option<f64> {
        self.steps.iter().filter(|s| s.kept_up()).map(|s| s.target_rate).reduce(f64::max)
    }

    /// The first offered rate that was not.
    pub fn saturated_at(&self) -> Option<&Step> {
        self.steps.iter().find(|s| !s.kept_up())
    }

    /// The most answers per second any step achieved: the measured capacity
    /// when the ladder saturated, a lower bound when it did not.
    pub fn best_achieved(&self) -> f64 {
        self.steps.iter().map(|s| s.achieved_rate).fold(0.0, f64::max)
    }

    /// One paragraph in slot language: the prediction next to the knee.
    pub fn explain(&self, cores: usize) -> String {
        let who = self.variant.as_deref().unwrap_or(&self.url);
        let knee = match (self.last_held(), self.saturated_at()) {
            (_, Some(sat)) if self.steps.len() == 1 => format!(
                "at the one rate offered, {:.1}/s, it fell behind ({}), achieving {:.1}/s",
                sat.target_rate,
                sat.saturated.as_deref().unwrap_or_default(),
                sat.achieved_rate,
            ),
            (Some(held), None) if self.steps.len() == 1 => {
                format!("it kept up at the one rate offered, {held:.1}/s (one rate says nothing of where it would stop)")
            }
            (held, Some(sat)) => format!(
                "{held} fell behind at {sat:.1}/s offered ({why}), achieving {a:.1}/s",
                held = held.map_or("it".into(), |h| format!("it kept up to {h:.1}/s and")),
                sat = sat.target_rate,
                why = sat.saturated.as_deref().unwrap_or_default(),
                a = sat.achieved_rate,
            ),
            (Some(held), None) => format!("it kept up at every step, up to {held:.1}/s (the ladder ended before the server did)"),
            (None, None) => "no step was measured".into(),
        };
        let model = match (self.slots, self.predicted_rate) {
            (Some(s), Some(p)) => format!(
                "{s} slots of {ms} (its own mean handler time at the lowest rate) sustain at most {s} / {ms} = {p:.1}/s",
                ms = ms_text(self.t_s),
            ),
            (Some(s), None) => format!(
                "{s} slots, but each request holds one for only {ms} (its own mean handler time): {s} / {ms} would be \
                 {x}/s, far past what {cores} cores shared by the client and the server can send and answer, so the CPU \
                 is the limit, not the slots",
                ms = ms_text(self.t_s),
                x = if self.t_s > 0.0 { format!("{:.0}", s as f64 / self.t_s) } else { "unbounded".into() },
            ),
            _ if self.variant.is_some() => format!(
                "unbounded slots: waiting sets no limit ({t} per request, as many at once as arrive), \
                 so what stops it is the CPU, here {cores} cores shared by the client and the server",
                t = ms_text(self.t_s),
            ),
            _ => "not a kit server: no slots to predict from".into(),
        };
        format!("{who} {path}: {model}; {knee}.", path = self.path)
    }
}

/// A time in ms, with the decimals a sub-millisecond handler needs.
pub fn ms_text(s: f64) -> String {
    let ms = s * 1000.0;
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// 2xx answers per second between the first 2xx answer and the last:
/// `(ok - first round) / (last ok - first ok)`, the first round being the
/// answers that came together with the first ([`AttackResult::first_ok_round`]:
/// 1 when they come one by one).
///
/// `ok / elapsed` would count the last request's own time as if no
/// answer could come during it: at 3/s for 2 s with 1 s requests it says
/// 2/s for a server that kept up perfectly; and after an overloaded step it
/// would count the timeouts' tail too. From the first 2xx answer on,
/// answers come at the rate the server sustains, the offered rate if it
/// keeps up, s / t if it does not. Only 2xx count: a full queue's 503s come
/// back at once, and counting them would make a drowning server look fast.
/// A server flooded at once answers in rounds of s: 20 answers in 5 rounds
/// of 4, from 1 s to 5 s, are 16 in 4 s (4/s, its s / t), not 19 in 4 s.
pub fn steady_rate(r: &AttackResult) -> f64 {
    let round = r.first_ok_round.max(1);
    match (r.first_ok_s, r.last_ok_s) {
        (Some(first), Some(last)) if r.ok > round && last > first => {
            (r.ok - round) as f64 / (last - first)
        }
        _ => r.achieved_rate,
    }
}

/// The server behind `url`'s host and port, if it speaks the kit's /metrics.
pub fn kit_server(url: &str) -> Result<(SocketAddr, Option<MetricsSnapshot>), LoadError> {
    let parsed = validate_url(url)?;
    let addr = (parsed.host(), parsed.port())
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| LoadError::Connect {
            url: url.to_string(),
            reason: "cannot resolve the host".into(),
        })?;
    let metrics = harness::request(addr, "GET", "/metrics", Duration::from_secs(5))
        .ok()
        .filter(|(status, _)| *status == 200)
        .and_then(|(_, body)| serde_json::from_str::<MetricsSnapshot>(&body).ok());
    Ok((addr, metrics))
}

/// One step: `rate` requests per second for `step`, with the server's
/// in_flight sampled over the second half when `metrics_at` is given.
pub async fn step(
    url: &str,
    metrics_at: Option<SocketAddr>,
    rate: f64,
    step: Duration,
    timeout: Duration,
) -> Result<Step, LoadError> {
    let path = validate_url(url)?.target().to_string();
    let sampler = metrics_at.map(|addr| WindowSampler::start(addr, &path, step / 2, step));
    let opts = AttackOptions { timeout, ..AttackOptions::new(url, rate, step) };
    let attack = attack::run(&opts, None).await;
    // The window ended with the send, before the last answers came in: this
    // join waits for one final /metrics read at most.
    let window = sampler.map(WindowSampler::finish);
    let attack = attack?;
    // Never above the rate the requests went out at: when the first answers
    // come late (the client opening its connections at thousands per
    // second), the span from the first 2xx to the last is short, and the
    // ratio alone said 6598/s for 6144/s sent.
    let achieved = if attack.sent_rate > 0.0 {
        steady_rate(&attack).min(attack.sent_rate)
    } else {
        steady_rate(&attack)
    };
    let (little, little_missing) = match window {
        None => (None, Some("not a kit server (no /metrics)".to_string())),
        Some(Ok(w)) if w.handler_count > 0 => (Some(Little::of(w)), None),
        Some(Ok(_)) => (None, Some("no request finished inside the window".into())),
        Some(Err(why)) => (None, Some(why)),
    };
    Ok(Step {
        target_rate: rate,
        achieved_rate: achieved,
        p50_ms: attack.ok_response_time.p50_ms,
        p99_ms: attack.ok_response_time.p99_ms,
        little,
        little_missing,
        saturated: None,
        attack,
    })
}

/// Why a step did not keep up, if it did not.
fn judge(s: &Step, p99_limit_ms: f64) -> Option<String> {
    let a = &s.attack;
    let why = if a.errors > 0 || a.dropped > 0 {
        failures(a)
    } else if a.ok < a.completed {
        format!("{} of {} answers were not 2xx", a.completed - a.ok, a.completed)
    } else if s.achieved_rate < KEEP_UP * s.target_rate {
        format!("achieved {:.0} % of the target", 100.0 * s.achieved_rate / s.target_rate)
    } else if s.p99_ms > p99_limit_ms {
        format!("p99 {:.0} ms past the limit of {:.0} ms", s.p99_ms, p99_limit_ms)
    } else {
        return None;
    };
    // At least three: one late send in a short step is a timer's hiccup.
    if a.late >= 3 && a.late as f64 > LATE_SHARE * a.requests.max(1) as f64 {
        Some(format!(
            "{why}; the client itself sent {} of {} late, so it may be what gave out",
            a.late, a.requests
        ))
    } else {
        Some(why)
    }
}

/// What went wrong in a step, each kind by its name, so that the counts add
/// up to what failed: "164 x 503, 1024 timeouts, 3 dropped".
pub fn failures(a: &AttackResult) -> String {
    let mut parts: Vec<String> = a
        .status_counts
        .iter()
        .filter(|(s, _)| is_server_error(**s))
        .map(|(s, n)| format!("{n} x {s}"))
        .collect();
    for (kind, n) in &a.error_kinds {
        parts.push(if kind == TIMEOUT_KIND {
            format!("{n} timeouts")
        } else {
            format!("{n} {kind}")
        });
    }
    if a.dropped > 0 {
        parts.push(format!("{} dropped", a.dropped));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The model's t from the first step: the server's own mean handler time,
/// or the client's p50 service time where there is no /metrics.
fn model_t(first: &Step) -> f64 {
    first
        .little
        .as_ref()
        .map(|l| l.handler_mean_s)
        .filter(|t| *t > 0.0)
        .unwrap_or(first.attack.service_time.p50_ms / 1000.0)
}

/// s / t, where the slots are what limits: `None` without slots, or with
/// a t under [`MIN_MODEL_T`].
fn model_rate(slots: Option<u64>, t_s: f64) -> Option<f64> {
    slots.filter(|_| t_s >= MIN_MODEL_T.as_secs_f64()).map(|s| s as f64 / t_s)
}

/// Climbs the ladder; `on_step` sees each step as soon as it is judged.
pub async fn ladder(
    opts: &LadderOptions,
    on_step: &(dyn Fn(&Step) + Sync),
) -> Result<Capacity, LoadError> {
    opts.check()?;
    let (addr, metrics) = kit_server(&opts.url)?;
    let path = validate_url(&opts.url)?.target().to_string();
    let metrics_at = metrics.as_ref().map(|_| addr);
    let slots = metrics.as_ref().and_then(|m| m.slots);
    let mut steps: Vec<Step> = Vec::new();
    let mut limit_ms = opts.p99_limit.map(|d| d.as_secs_f64() * 1000.0);
    let (mut rate, mut behind) = (opts.start, 0);
    while steps.len() < opts.max_steps {
        let mut s = step(&opts.url, metrics_at, rate, opts.step, opts.timeout).await?;
        let limit = *limit_ms.get_or_insert_with(|| {
            (s.p50_ms * P99_LIMIT_FACTOR).max(P99_LIMIT_FLOOR.as_secs_f64() * 1000.0)
        });
        s.saturated = judge(&s, limit);
        on_step(&s);
        behind += usize::from(!s.kept_up() || behind > 0);
        steps.push(s);
        if behind > opts.past_knee {
            break;
        }
        rate = opts.next_rate(rate, model_rate(slots, model_t(&steps[0])));
    }
    let t_s = model_t(&steps[0]);
    let queue =
        metrics.as_ref().and_then(|m| m.knobs.get("queue")).and_then(serde_json::Value::as_u64);
    Ok(Capacity {
        url: opts.url.clone(),
        path,
        variant: metrics.map(|m| m.variant),
        slots,
        queue,
        t_s,
        predicted_rate: model_rate(slots, t_s),
        p99_limit_ms: limit_ms.unwrap_or(0.0),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit_measure::latency::Summary;

    /// `completed` 2xx answers, the first after `min_ms`, the last at `elapsed_s`.
    fn result(completed: u64, elapsed_s: f64, min_ms: f64) -> AttackResult {
        AttackResult {
            ok: completed,
            ok_response_time: Summary { min_ms, ..Summary::default() },
            first_ok_s: Some(min_ms / 1000.0),
            last_ok_s: Some(elapsed_s),
            first_ok_round: 1,
            url: "http://x/".into(),
            target_rate: 3.0,
            ramp: None,
            achieved_rate: completed as f64 / elapsed_s,
            sent_rate: 3.0,
            requests: completed,
            completed,
            errors: 0,
            late: 0,
            dropped: 0,
            status_counts: Default::default(),
            error_kinds: Default::default(),
            elapsed_s,
            service_time: Summary::default(),
            response_time: Summary { min_ms, ..Summary::default() },
            stopped: false,
            series: Default::default(),
        }
    }

    #[test]
    fn the_steady_rate_leaves_out_the_last_requests_own_time() {
        // 3/s for 2 s, 1 s each, kept up: due at 0, 1/3, ..., 5/3; last answer at 8/3 s.
        let kept = result(6, 5.0 / 3.0 + 1.0, 1000.0);
        assert!((steady_rate(&kept) - 3.0).abs() < 1e-9, "{}", steady_rate(&kept));
        assert!(kept.achieved_rate < 2.5);
        // The formula itself: 12 answers, the first after 1 s, the last at 3 s: 11 in 2 s.
        let queued = result(12, 3.0, 1000.0);
        assert!((steady_rate(&queued) - 5.5).abs() < 1e-9, "{}", steady_rate(&queued));
    }

    #[test]
    fn rates_climb_geometrically_and_bad_ladders_are_refused() {
        let o = LadderOptions {
            url: "http://127.0.0.1:1/".into(),
            start: 3.0,
            factor: 2.0,
            max_steps: 4,
            step: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            p99_limit: None,
            near_model: false,
            past_knee: 0,
        };
        assert_eq!(o.rates(), vec![3.0, 6.0, 12.0, 24.0]);
        assert!(o.check().is_ok());
        assert!(LadderOptions { factor: 1.0, ..o.clone() }.check().is_err());
        assert!(LadderOptions { max_steps: 0, ..o.clone() }.check().is_err());
        assert!(LadderOptions { step: Duration::from_millis(10), ..o }.check().is_err());
    }

    /// The wrapper's seed run: 12 answers of 2xx over 3 s, 164 fast 503s
    /// and 1024 timeouts. Achieved is the 2xx alone: about 4/s, not the
    /// 58/s that counting the 503s as answers would make of it.
    #[test]
    fn fast_503s_and_timeouts_are_not_achieved() {
        let mut r = result(12, 3.75, 1000.0);
        r.completed = 176;
        r.requests = 1200;
        r.status_counts = [(200, 12), (503, 164)].into();
        r.error_kinds = [(TIMEOUT_KIND.to_string(), 1024)].into();
        r.errors = 1188;
        r.elapsed_s = 10.0;
        assert!(r.outcomes_add_up(), "{r:?}");
        assert_eq!((r.server_errors(), r.timeouts(), r.other_answers()), (164, 1024, 0));
        assert!((steady_rate(&r) - 4.0).abs() < 1e-9, "{}", steady_rate(&r));
        assert_eq!(failures(&r), "164 x 503, 1024 timeouts");
        // Flooded at once, it answers in rounds of its 4 slots: 20 answers from 1 s to 5 s
        // are 16 after the first round, in 4 s: 4/s, not the 4.75/s of 19 in 4 s.
        let rounds = AttackResult {
            ok: 20,
            first_ok_s: Some(1.0),
            last_ok_s: Some(5.0),
            first_ok_round: 4,
            ..r.clone()
        };
        assert!((steady_rate(&rounds) - 4.0).abs() < 1e-9, "{}", steady_rate(&rounds));
        // A step with no 2xx at all achieved nothing.
        let none =
            AttackResult { ok: 0, first_ok_s: None, last_ok_s: None, achieved_rate: 0.0, ..r };
        assert_eq!(steady_rate(&none), 0.0);
    }

    #[test]
    fn the_ladder_steps_finer_near_the_model() {
        let o = LadderOptions {
            url: "http://127.0.0.1:1/".into(),
            start: 3.0,
            factor: 2.0,
            max_steps: 12,
            step: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            p99_limit: None,
            near_model: true,
            past_knee: 2,
        };
        let climb = |model: Option<f64>| {
            let mut rates = vec![o.start];
            while rates.len() < 9 {
                rates.push(o.next_rate(*rates.last().unwrap(), model));
            }
            rates.iter().map(|r| (r * 100.0).round() / 100.0).collect::<Vec<_>>()
        };
        // 4 slots of 1 s: around 4/s in steps of 10 to 25 %, then doubling again.
        assert_eq!(climb(Some(4.0)), [3.0, 3.6, 4.4, 5.0, 6.0, 8.0, 12.0, 24.0, 48.0]);
        // s/t far above the start: doubling until the model is near.
        assert_eq!(climb(Some(40.0)), [3.0, 6.0, 12.0, 20.0, 30.0, 36.0, 44.0, 50.0, 60.0]);
        assert_eq!(climb(None), [3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 192.0, 384.0, 768.0]);
        let plain = LadderOptions { near_model: false, ..o };
        assert_eq!(plain.next_rate(3.0, Some(4.0)), 6.0);
    }

    /// /health's handler takes microseconds: 4 slots of 0.002 ms "predict"
    /// 2,000,000/s, which no client on the same cores comes near. No model
    /// rate then, and the text says the CPU is the limit.
    #[test]
    fn no_slot_model_for_a_handler_that_takes_microseconds() {
        assert_eq!(model_rate(Some(4), 0.000_002), None);
        assert_eq!(model_rate(Some(4), 1.0), Some(4.0));
        assert_eq!(model_rate(None, 1.0), None);
        let step = Step {
            target_rate: 400.0,
            achieved_rate: 400.0,
            p50_ms: 0.3,
            p99_ms: 0.9,
            little: None,
            little_missing: None,
            saturated: None,
            attack: result(2000, 5.0, 0.3),
        };
        let c = Capacity {
            url: "http://x/health".into(),
            path: "/health".into(),
            variant: Some("blocking-wrapper".into()),
            slots: Some(4),
            queue: Some(1024),
            t_s: 0.000_002,
            predicted_rate: None,
            p99_limit_ms: 50.0,
            steps: vec![step],
        };
        let text = c.explain(2);
        assert!(text.contains("CPU is the limit") && !text.contains("= 2000000"), "{text}");
        // One rate is not a ladder.
        assert!(
            text.contains("the one rate offered, 400.0/s") && !text.contains("ladder"),
            "{text}"
        );
    }
}

//! The fan-out exercise's grade (exercises/fanout): a server that prices a
//! basket through a pricing service, one call per item. One implementation,
//! called by the exercise and its solution with their own two binaries: the
//! server, and their build of the kit's upstream (the pricing service).
//!
//! The service is a slot limit for the calls: it holds [`LIMIT`] calls at
//! once and answers 429 at once past that. N calls of t on its LIMIT slots
//! take ceil(N / LIMIT) x t when the server keeps LIMIT calls in flight, and
//! not one more. The checks, each timed against that model and paired with
//! the service's own count of the calls (`calls` in its /metrics: held at
//! once, received, refused), which the server under grade cannot fake:
//!   1. one basket of [`ITEMS`] takes ceil(ITEMS / LIMIT) rounds: the
//!      service received exactly ITEMS calls, held exactly LIMIT at once at
//!      its peak, and refused none;
//!   2. [`BASKETS`] baskets at once take ceil(BASKETS x ITEMS / LIMIT)
//!      rounds, with the same counts: the limit is the server's, shared by
//!      every request, not one per basket (one basket alone is measured
//!      first, so that a failure can tell the two apart);
//!   3. the answer keeps the contract: the total of the items' prices
//!      ([`kit_serve::upstream::price_cents`]), one call per item, a JSON
//!      400 for a bad query, and a JSON 502 at once when the service cannot
//!      be reached.
//!
//! The hint a failure names follows from the exact counts, never from the
//! time alone: a call refused in one basket alone is hint 2 (bound the
//! calls), only in baskets at once hint 3 (one limit, shared); calls one at
//! a time hint 1 (overlap them), fewer than LIMIT at once hint 4 (use the
//! whole limit); calls skipped or an answer changed hint 5.

use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use kit_serve::contract::CallStats;
use kit_serve::upstream::price_cents;
use serde_json::{json, Value};

use crate::burst::Burst;
use crate::calls::{start_pair, Pair};
use crate::expect::Band;
use crate::grade::failure::{diagnose, fail, indent, Next};
use crate::grade::start;
use crate::harness::{get, Target};
use crate::slots::{rounds, SlotModel};

/// The calls the pricing service holds at once (its `--limit`): the
/// exercise's PRICING_LIMIT.
pub const LIMIT: u64 = 5;
/// The items of a basket: one call each.
pub const ITEMS: u64 = 20;
/// Check 2: baskets priced at the same moment.
pub const BASKETS: u64 = 4;
/// One call's wait inside the pricing service (its `--io-ms`).
pub const UPSTREAM_MS: u64 = 100;
/// The grade gives up on a burst of baskets after this: calls one after
/// another need 2 s here, every basket a round of 20 calls.
const DEADLINE: Duration = Duration::from_secs(6);
/// A few rounds of 100 ms: the reading and the connections on a shared
/// machine can add a few hundred ms. The counts carry the precision: a
/// limit of 4 is 25 % slower, which no band on a noisy machine could tell.
const BAND: Band = Band { below: 0.05, above: 0.5, slack: Duration::from_millis(400) };
/// Check 3: the longest a basket of the contract checks may take (20 calls
/// one after another need 2 s), and a 502 from an unreachable service.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(6);
const UNREACHABLE_TIMEOUT: Duration = Duration::from_secs(3);

/// `/basket?items=N`.
pub fn basket(items: u64) -> String {
    format!("/basket?items={items}")
}

/// What `/basket?items=N` must total: the prices of products 0 to N-1.
pub fn total_cents(items: u64) -> u64 {
    (0..items).map(price_cents).sum()
}

/// "1 call", "4 calls".
fn n_calls(n: u64) -> String {
    if n == 1 {
        "1 call".into()
    } else {
        format!("{n} calls")
    }
}

/// Calls the service held (received and not refused).
fn held(c: &CallStats) -> u64 {
    c.total - c.rejected
}

/// Baskets at once, as the client saw them and as the service counted
/// their calls.
struct Measured {
    baskets: Burst,
    calls: CallStats,
    /// One call's own time inside the service, in whole ms.
    t_ms: u64,
    /// Where `t_ms` comes from, for the sentence that uses it.
    t_from: &'static str,
}

impl Measured {
    fn n(&self) -> u64 {
        self.baskets.n
    }

    /// The calls the model expects: one per item of every basket.
    fn expected_calls(&self) -> u64 {
        self.n() * ITEMS
    }

    fn model(&self) -> SlotModel {
        SlotModel::new(self.expected_calls(), Duration::from_millis(self.t_ms), Some(LIMIT))
    }

    fn measured_rounds(&self) -> f64 {
        self.baskets.total.as_secs_f64() * 1000.0 / self.t_ms.max(1) as f64
    }

    /// "one basket of 20 items took 20.1 rounds of 101 ms; the slot model predicts 4"
    fn took_rounds(&self) -> String {
        format!(
            "{} took {:.1} rounds of {} ms; the slot model predicts {}",
            self.what_baskets(),
            self.measured_rounds(),
            self.t_ms,
            self.model().rounds()
        )
    }

    fn what_baskets(&self) -> String {
        match self.n() {
            1 => format!("one basket of {ITEMS} items"),
            n => format!("{n} baskets of {ITEMS} items at once"),
        }
    }

    /// The answers the client got: "1 x 200", "3 x 502, 1 x 200", and the
    /// baskets left unanswered or failed without an answer.
    fn answers(&self) -> String {
        let b = &self.baskets;
        let mut parts: Vec<String> =
            b.status_counts.iter().map(|(status, n)| format!("{n} x {status}")).collect();
        if b.timed_out > 0 {
            parts.push(format!("{} unanswered after {:.0} s", b.timed_out, DEADLINE.as_secs_f64()));
        }
        let answered: u64 = b.status_counts.values().sum();
        let broken = b.n.saturating_sub(answered + b.timed_out);
        if broken > 0 {
            parts.push(format!("{broken} without an answer ({:?})", b.error_kinds));
        }
        parts.join(", ")
    }

    /// What was measured, what the service counted, what the model
    /// predicts: every figure measured or derived from the measurements.
    fn report(&self) -> String {
        let c = &self.calls;
        let model = self.model();
        format!(
            "  measured: {total:.3} s for {n} x {path} = {r:.1} rounds of {t} ms ({t_from}); \
             answers: {answers}\n  \
             the pricing service's own count (exact): {received} received, at most {peak} at once \
             (its limit: {LIMIT}), {rejected} refused with 429\n  \
             slot model: {expected} of {t} ms on the service's {LIMIT} slots take \
             ceil({e} / {LIMIT}) = {rounds} x {t} ms = {pred:.3} s",
            total = self.baskets.total.as_secs_f64(),
            n = self.n(),
            path = self.baskets.path,
            r = self.measured_rounds(),
            t = self.t_ms,
            t_from = self.t_from,
            answers = self.answers(),
            received = n_calls(c.total),
            peak = n_calls(c.peak_in_flight),
            rejected = c.rejected,
            expected = n_calls(self.expected_calls()),
            e = self.expected_calls(),
            rounds = rounds(model.rounds()),
            pred = model.rounds() as f64 * self.t_ms as f64 / 1000.0,
        )
    }

    /// One line for a measurement that is not the failure's subject.
    fn summary(&self) -> String {
        format!(
            "{}: {:.3} s, answers {}; the service received {}, at most {} at once, {} refused with 429",
            self.what_baskets(),
            self.baskets.total.as_secs_f64(),
            self.answers(),
            n_calls(self.calls.total),
            n_calls(self.calls.peak_in_flight),
            self.calls.rejected
        )
    }
}

/// Zeroes the service's count, so that the next measurement is its own.
fn reset_calls(pair: &Pair) {
    if let Err(e) = pair.upstream.reset_metrics() {
        fail(
            "the pricing service's /metrics/reset did not answer",
            &format!(
                "  {}\n  the pricing service is the kit's upstream, not yours: run the grade again.",
                indent(&e.to_string())
            ),
            Next::Crash,
        )
    }
}

/// `n` baskets of [`ITEMS`] at once, and the service's count of their calls.
fn measure(pair: &mut Pair, n: u64) -> Measured {
    reset_calls(pair);
    let baskets = pair.fire(&basket(ITEMS), n, DEADLINE);
    let calls = pair.calls();
    // One call's own time inside the service: its p50, when every call was
    // held (a refused call is answered at once, and would pull it down).
    let own = pair
        .upstream
        .metrics()
        .ok()
        .and_then(|m| m.endpoints.get("other").map(|e| e.p50_ms))
        .filter(|_| calls.rejected == 0 && calls.total > 0);
    let (t_ms, t_from) = match own {
        Some(p50) => (
            (p50.round() as u64).max(1),
            "one call's own time inside the pricing service, its p50 from its /metrics",
        ),
        None => (UPSTREAM_MS, "the pricing service's wait per call, its --io-ms"),
    };
    Measured { baskets, calls, t_ms, t_from }
}

/// What the counts of a measurement show, when they break the contract
/// with the service: the failure's title, what it means, and its hint.
struct Finding {
    what: String,
    meaning: String,
    hint: u32,
}

/// The finding of the counts of `m`, or `None` when its baskets kept the
/// contract with the service: every basket answered, one call per item,
/// exactly LIMIT at once at the peak, none refused.
fn judge_counts(m: &Measured) -> Option<Finding> {
    let (c, b) = (&m.calls, &m.baskets);
    let what = m.what_baskets();
    if c.rejected > 0 {
        let meaning = if b.ok == b.n {
            format!(
                "  meaning: {what} sent more than {LIMIT} calls at once, and the service refused {r} \
                 with 429. Your server tried them again until they went through, so the answers \
                 came, but the pricing team's contract is {LIMIT} at once: each of the {r} refused \
                 calls broke it, and a partner that counts them blocks a client that keeps it up.",
                r = c.rejected
            )
        } else {
            format!(
                "  meaning: {what} sent more than {LIMIT} calls at once: the service held {} and \
                 refused {} with 429 at once, and a refused call fails its basket (a 502). Bound the \
                 calls to the service's limit: at most {LIMIT} in flight, the others waiting their turn.",
                c.peak_in_flight, c.rejected
            )
        };
        let what = format!("{what}: the pricing service refused {} with 429", n_calls(c.rejected));
        return Some(Finding { what, meaning, hint: 2 });
    }
    if b.ok != b.n {
        return Some(Finding {
            what: format!("{what}: {} of {} got no price ({})", b.n - b.ok, b.n, m.answers()),
            meaning: format!(
                "  meaning: the service refused no call, yet not every basket was answered 200 in \
                 time. A basket is priced by its {ITEMS} calls, and answered with its total."
            ),
            // Unanswered: calls too slow; an error answer: the answer changed.
            hint: if b.timed_out > 0 { 1 } else { 5 },
        });
    }
    if held(c) != m.expected_calls() {
        return Some(Finding {
            what: format!(
                "{what}: the pricing service received {} for {} items",
                n_calls(held(c)),
                m.expected_calls()
            ),
            meaning: "  meaning: every item is priced by one call to the pricing service, every \
                      time (the grade counts them at the service): a price that is not asked for \
                      may be stale or made up, and one asked for twice costs the service a call \
                      for nothing."
                .into(),
            hint: 5,
        });
    }
    if c.peak_in_flight <= 1 {
        return Some(Finding {
            what: m.took_rounds(),
            meaning: format!(
                "  meaning: the service held at most 1 call at once: the calls went one after \
                 another, each `.await` waiting for its answer before the next call started, though \
                 no call needs another's answer. {} one after another are {} rounds; on the \
                 service's {LIMIT} slots, {}.",
                n_calls(m.expected_calls()),
                m.expected_calls(),
                rounds(m.model().rounds())
            ),
            hint: 1,
        });
    }
    if c.peak_in_flight < LIMIT {
        let peak = c.peak_in_flight;
        return Some(Finding {
            what: format!(
                "{what}: the pricing service held at most {} at once, where it allows {LIMIT}",
                n_calls(peak)
            ),
            meaning: format!(
                "  meaning: the calls overlap (good), but never more than {peak} at once: {} of the \
                 service's {LIMIT} slots stayed idle. {} on {peak} slots take {}, on {LIMIT} slots {}.",
                LIMIT - peak,
                n_calls(m.expected_calls()),
                rounds(m.expected_calls().div_ceil(peak)),
                rounds(m.model().rounds())
            ),
            hint: 4,
        });
    }
    None
}

/// Fails unless the baskets took the model's rounds (within the band):
/// the counts were right, so only the time is left to judge.
fn expect_rounds(m: &Measured, context: &str) {
    let model = m.model();
    if BAND.contains(model.predicted(), m.baskets.total) || m.baskets.total < model.predicted() {
        return;
    }
    fail(
        &m.took_rounds(),
        &format!(
            "{}{context}\n  meaning: the service held exactly {LIMIT} at once at its peak and \
             refused none (good), yet the calls took more than the {} that {LIMIT} slots need: \
             they did not keep the service's slots busy all the time (a batch that waits for its \
             slowest call, a pause between calls), or the machine was busy: run the grade again.\n  \
             goal: {}, within {}",
            m.report(),
            rounds(model.rounds()),
            rounds(model.rounds()),
            BAND.describe(model.predicted())
        ),
        Next::Hint(1),
    );
}

/// Fails with a finding, its measurement and the goal.
fn fail_on(finding: Finding, measured: String, goal_of: &Measured) -> ! {
    let detail = format!("{measured}\n{}\n{}", finding.meaning, goal(goal_of));
    fail(&finding.what, &detail, Next::Hint(finding.hint))
}

/// The pricing service (`upstream`, with the grade's limit), then the
/// server under grade pointed at it.
fn pair(bin: &Path, upstream: &Path) -> Pair {
    start_pair(bin, upstream, UPSTREAM_MS, &["--limit", &LIMIT.to_string()])
}

/// Check 1: one basket of [`ITEMS`] takes ceil(ITEMS / LIMIT) rounds, the
/// service holding exactly LIMIT calls at once and refusing none.
pub fn one_basket_takes_the_rounds_of_the_limit(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = pair(bin.as_ref(), upstream.as_ref());
    let one = measure(&mut pair, 1);
    if let Some(finding) = judge_counts(&one) {
        fail_on(finding, one.report(), &one);
    }
    expect_rounds(&one, "");
}

/// Check 2: [`BASKETS`] baskets at once take ceil(BASKETS x ITEMS / LIMIT)
/// rounds: the limit is the server's, shared by every request. One basket
/// alone is measured first: a limit per basket passes it and fails here.
pub fn baskets_at_once_share_the_limit(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = pair(bin.as_ref(), upstream.as_ref());
    let one = measure(&mut pair, 1);
    let four = measure(&mut pair, BASKETS);
    let alone = format!("\n  just before, alone: {}", one.summary());
    // What one basket alone does wrong is the cause of what the baskets at
    // once measured: it is named first.
    if let Some(finding) = judge_counts(&one) {
        if finding.hint != 1 {
            fail_on(finding, format!("{}\n  then, {}", one.report(), four.summary()), &one);
        }
        let meaning = format!(
            "  meaning: each basket made its calls one after another (alone, at most 1 call at \
             once), so {BASKETS} baskets at once were at most {} at once, one per basket, on a \
             service that holds {LIMIT}. The time is not far from the model's only because \
             {BASKETS} baskets came together; the count says that each one waits for every call \
             in turn.",
            n_calls(four.calls.peak_in_flight)
        );
        fail_on(
            Finding { what: four.took_rounds(), meaning, hint: 1 },
            four.report() + &alone,
            &four,
        );
    }
    if four.calls.rejected > 0 {
        // Alone, a basket held exactly LIMIT at once (judged above).
        let alone_peak = one.calls.peak_in_flight;
        let meaning = format!(
            "  meaning: alone, a basket kept to {alone_peak} calls at once; {BASKETS} baskets at once \
             sent up to {BASKETS} x {alone_peak} = {} at once, and the service refused {} with 429. \
             Each request keeps a limit of its own: {BASKETS} requests, {BASKETS} limits. The \
             service's limit is for the whole server: one limit, made once, that every request's \
             calls share.",
            BASKETS * alone_peak,
            four.calls.rejected
        );
        let what = format!(
            "{}: the pricing service refused {} with 429",
            four.what_baskets(),
            n_calls(four.calls.rejected)
        );
        fail_on(Finding { what, meaning, hint: 3 }, four.report() + &alone, &four);
    }
    if let Some(finding) = judge_counts(&four) {
        fail_on(finding, four.report() + &alone, &four);
    }
    expect_rounds(&four, &alone);
}

/// Check 3: the answer keeps the contract: the total of the items' prices,
/// one call per item, JSON 400 for a bad query, and a JSON 502 at once
/// when the pricing service cannot be reached.
pub fn the_answer_keeps_the_contract(bin: impl AsRef<Path>, upstream: impl AsRef<Path>) {
    let mut pair = pair(bin.as_ref(), upstream.as_ref());
    for items in [ITEMS, 7, 0] {
        reset_calls(&pair);
        let path = basket(items);
        let (status, body) = ask(&mut pair, &path, ANSWER_TIMEOUT);
        let c = pair.calls();
        let expected = json!({ "items": items, "total_cents": total_cents(items) });
        if status != 200 && c.rejected > 0 {
            fail(
                &format!(
                    "GET {path}: {status}, and the pricing service refused {} with 429",
                    n_calls(c.rejected)
                ),
                &format!(
                    "  answer: {body}\n  the service's own count (exact): {} received, at most {} \
                     at once (its limit: {LIMIT}), {} refused\n  meaning: the basket sent more calls \
                     at once than the service holds, and a refused call fails the basket.",
                    n_calls(c.total),
                    n_calls(c.peak_in_flight),
                    c.rejected
                ),
                Next::Hint(2),
            );
        }
        let answer: Option<Value> = serde_json::from_str(&body).ok();
        if status != 200 || answer.as_ref() != Some(&expected) {
            fail(
                &format!("GET {path} does not answer the basket's total"),
                &format!(
                    "  answer: {status} {body}\n  expected: 200 {expected} (the prices of products \
                     0 to {}, as the pricing service gives them)\n  meaning: the answer must stay as \
                     it was: the items, and the sum of their prices in cents.",
                    items.saturating_sub(1)
                ),
                Next::Hint(5),
            );
        }
        if held(&c) != items {
            fail(
                &format!(
                    "GET {path}: the pricing service received {} for {items} items",
                    n_calls(held(&c))
                ),
                &format!(
                    "  answer: {body} (right)\n  meaning: every item is priced by one call to the \
                     pricing service, every time: the grade counts the calls at the service (exactly \
                     {items}), and a price that is not asked for may be stale or made up."
                ),
                Next::Hint(5),
            );
        }
    }
    for path in ["/basket?items=abc", "/basket", "/basket?items=101"] {
        let (status, body) = ask(&mut pair, path, ANSWER_TIMEOUT);
        if status != 400 || !is_error_json(&body) {
            fail(
                &format!("GET {path} answered {status}, not a JSON 400"),
                &format!(
                    "  answer: {body}\n  meaning: a bad or missing ?items is the client's mistake: a \
                     400 with the contract's JSON error ({{\"error\": \"...\"}}), as the given code \
                     answers it."
                ),
                Next::Hint(5),
            );
        }
    }
    drop(pair);
    an_unreachable_service_is_a_502(bin.as_ref());
}

/// Part of check 3: the server pointed at a port where nothing listens
/// answers a basket with a JSON 502, at once.
fn an_unreachable_service_is_a_502(bin: &Path) {
    let nobody = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| format!("http://{a}"))
        .unwrap_or_else(|e| {
            fail("the grade could not find a free port", &format!("  {e}"), Next::Crash)
        });
    let mut server = start(bin, 0, &[("KIT_UPSTREAM_URL", nobody.as_str())]);
    let path = basket(3);
    let started = std::time::Instant::now();
    let answer = get(server.addr(), &path, UNREACHABLE_TIMEOUT);
    let took = started.elapsed();
    match answer {
        Ok((502, body)) if is_error_json(&body) => {}
        Ok((status, body)) => fail(
            &format!(
                "with the pricing service unreachable, GET {path} answered {status}, not a JSON 502"
            ),
            &format!(
                "  answer: {body}\n  meaning: a call that fails fails the basket: answer at once with \
                 a 502 and the contract's JSON error naming what failed, as the given code does."
            ),
            Next::Hint(5),
        ),
        Err(e) if server.exited().is_some() => {
            let diagnosis = diagnose(&mut server);
            fail(
                &format!("the server died on GET {path} with the pricing service unreachable ({e})"),
                &diagnosis,
                Next::Crash,
            )
        }
        Err(e) => {
            let timed_out = matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut);
            let how = if timed_out { String::new() } else { format!(" ({e})") };
            fail(
                &format!(
                    "with the pricing service unreachable, GET {path} got no answer in {:.1} s{how}",
                    took.as_secs_f64()
                ),
                &format!(
                    "  meaning: the service at {nobody} refuses every connection, so no call can succeed, \
                     however often it is tried. A call that fails fails the basket: answer at once with a \
                     502 and the contract's JSON error, and never retry in a loop.\n  goal: a JSON 502 \
                     within {:.0} s",
                    UNREACHABLE_TIMEOUT.as_secs_f64()
                ),
                Next::Hint(5),
            )
        }
    }
}

/// `GET path` on the server under grade: (status, body). A server that
/// died or stopped answering is reported as such.
fn ask(pair: &mut Pair, path: &str, timeout: Duration) -> (u16, String) {
    get(pair.server.addr(), path, timeout).unwrap_or_else(|e| {
        let diagnosis = diagnose(&mut pair.server);
        let next = if pair.server.exited().is_some() { Next::Crash } else { Next::Hint(5) };
        fail(
            &format!("GET {path} got no answer within {:.0} s: {e}", timeout.as_secs_f64()),
            &diagnosis,
            next,
        )
    })
}

fn is_error_json(body: &str) -> bool {
    serde_json::from_str::<Value>(body).is_ok_and(|v| v.get("error").is_some_and(Value::is_string))
}

/// The goal line: the model's rounds and the counts that go with them.
fn goal(m: &Measured) -> String {
    format!(
        "  goal: {} ({:.3} s), the service holding exactly {} at once at its peak, {} received, none refused",
        rounds(m.model().rounds()),
        m.model().rounds() as f64 * m.t_ms as f64 / 1000.0,
        n_calls(LIMIT),
        n_calls(m.expected_calls())
    )
}

/// The fan-out grade's checks as `#[test]`s, against the crate's server and
/// its build of the pricing service:
/// `fanout_grade_tests!(env!("CARGO_BIN_EXE_fanout"), env!("CARGO_BIN_EXE_fanout-upstream"))`.
#[macro_export]
macro_rules! fanout_grade_tests {
    ($server:expr, $upstream:expr) => {
        #[test]
        fn check_1_one_basket_takes_the_rounds_of_the_pricing_limit() {
            $crate::fanout_grade::one_basket_takes_the_rounds_of_the_limit($server, $upstream);
        }

        #[test]
        fn check_2_baskets_at_once_share_one_limit() {
            $crate::fanout_grade::baskets_at_once_share_the_limit($server, $upstream);
        }

        #[test]
        fn check_3_the_answer_keeps_the_contract() {
            $crate::fanout_grade::the_answer_keeps_the_contract($server, $upstream);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basket_costs_the_sum_of_its_prices() {
        assert_eq!(total_cents(0), 0);
        assert_eq!(total_cents(1), price_cents(0));
        assert_eq!(total_cents(3), price_cents(0) + price_cents(1) + price_cents(2));
    }

    #[test]
    fn the_model_of_the_checks() {
        let model =
            |n: u64| SlotModel::new(n * ITEMS, Duration::from_millis(UPSTREAM_MS), Some(LIMIT));
        assert_eq!(model(1).rounds(), 4);
        assert_eq!(model(BASKETS).rounds(), 16);
        // Calls one after another, even 4 baskets at once, stay past the band.
        assert!(!BAND.contains(model(1).predicted(), Duration::from_millis(ITEMS * UPSTREAM_MS)));
        assert_eq!(n_calls(1), "1 call");
        assert_eq!(n_calls(20), "20 calls");
    }
}

//! The rate of an attack: constant (`--rate 200`) or a linear ramp
//! (`--rate 100..5000`), and the schedule it makes over a duration: when
//! each request is due, and how many are due in any stretch of time.
//!
//! A ramp from `from` to `to` over D offers r(t) = from + (to - from) t / D
//! requests per second at t, so by t it has offered the area under r:
//! N(t) = from t + (to - from) t² / (2D). Request i is due when N(t) reaches
//! i, at the positive root of that quadratic; the planned count is N(D), the
//! mean rate times D. A constant rate is the ramp with from == to, and its
//! due times are i / R exactly, as they always were.
//!
//! A falling ramp (`5000..100`) is allowed: both ends are above 0, so r(t)
//! stays above 0 and N(t) keeps rising, and each request still has one due
//! time. It shows a server draining the queue an overload left behind.
//! A ramp that starts or ends at 0 is refused: the rule for every rate is
//! "above 0", and a ramp from nearly nothing is `1..5000`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Requests per second: from `from` at the start to `to` at the end of
/// the duration, linearly; `from == to` is a constant rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub from: f64,
    pub to: f64,
}

impl Rate {
    pub fn constant(rate: f64) -> Rate {
        Rate { from: rate, to: rate }
    }

    pub fn ramp(from: f64, to: f64) -> Rate {
        Rate { from, to }
    }

    pub fn is_constant(&self) -> bool {
        self.from == self.to
    }

    /// The mean over the duration, (from + to) / 2: the planned count over
    /// the duration. A constant rate's is that rate, exactly.
    pub fn mean(&self) -> f64 {
        if self.is_constant() {
            self.from
        } else {
            (self.from + self.to) / 2.0
        }
    }

    /// Why this cannot be run, if it cannot: each end must be a finite
    /// number of requests per second above 0.
    pub fn problem(&self) -> Option<String> {
        let ok = |r: f64| r.is_finite() && r > 0.0;
        if ok(self.from) && ok(self.to) {
            None
        } else if self.is_constant() || self.from.is_nan() {
            Some("the rate must be a number of requests per second above 0".into())
        } else {
            Some(format!(
                "a ramp's two ends must each be a number of requests per second above 0, not {self}"
            ))
        }
    }

    /// This rate over `duration`.
    pub fn over(self, duration: Duration) -> Schedule {
        Schedule { rate: self, duration }
    }
}

/// A plain number is a constant rate.
impl From<f64> for Rate {
    fn from(rate: f64) -> Rate {
        Rate::constant(rate)
    }
}

/// "200", "0.5", "100..5000": what `--rate` takes.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_constant() {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}..{}", self.from, self.to)
        }
    }
}

/// `200` or `FROM..TO`; every error names what was typed and the form
/// that works.
impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let text = text.trim();
        let number = |part: &str, what: &str| -> Result<f64, String> {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "'{text}' has no {what}: a ramp is FROM..TO in requests per second, e.g. 100..5000"
                ));
            }
            match part.parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
                Ok(_) => Err(format!(
                    "'{text}': {what} {part} is not a rate above 0 (a ramp is FROM..TO, each end above 0, e.g. 100..5000; from nearly nothing, 1..5000)"
                )),
                Err(_) => Err(format!(
                    "'{text}': {what} '{part}' is not a number (requests per second: 200, or a ramp, 100..5000)"
                )),
            }
        };
        match text.split_once("..") {
            None => match text.parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Ok(Rate::constant(r)),
                _ => Err(format!(
                    "'{text}' is not a rate above 0 (requests per second: 200, or a ramp, 100..5000)"
                )),
            },
            Some((from, to)) => Ok(Rate::ramp(number(from, "start")?, number(to, "end")?)),
        }
    }
}

/// A rate over a duration: request i is due [`Schedule::due_s`] after the
/// first, whatever happened to the requests before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    pub rate: Rate,
    pub duration: Duration,
}

/// Keeps 0.1 s x 30/s from rounding up to a fourth request.
const EPSILON: f64 = 1e-9;

impl Schedule {
    /// Requests due within the duration: every i >= 0 with a due time
    /// before D, i.e. i < N(D); at least one.
    pub fn count(&self) -> u64 {
        (self.cumulative(self.duration.as_secs_f64()) - EPSILON).ceil().max(1.0) as u64
    }

    /// N(t): the requests offered by `t_s` seconds after the first due
    /// time, fractions included (the duration's N(D) past it).
    pub fn cumulative(&self, t_s: f64) -> f64 {
        let d = self.duration.as_secs_f64();
        let t = t_s.clamp(0.0, d);
        let Rate { from, to } = self.rate;
        if self.rate.is_constant() {
            from * t
        } else {
            from * t + (to - from) * t * t / (2.0 * d)
        }
    }

    /// r(t): the offered rate `t_s` seconds in (the ends outside the duration).
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let d = self.duration.as_secs_f64();
        let Rate { from, to } = self.rate;
        from + (to - from) * (t_s / d).clamp(0.0, 1.0)
    }

    /// Seconds after the first due time at which request i is due: the
    /// root of N(t) = i. Written as 2i / (b + √(b² + 4ai)) with a = (to -
    /// from) / 2D, b = from, which loses no precision when a is small and
    /// holds for a falling ramp (a < 0) too: its discriminant is r(t)² > 0.
    /// A constant rate: i / R, exactly as before ramps.
    pub fn due_s(&self, i: u64) -> f64 {
        let Rate { from, to } = self.rate;
        let i = i as f64;
        if self.rate.is_constant() {
            return i / from;
        }
        let a = (to - from) / (2.0 * self.duration.as_secs_f64());
        // Past N(D) (never scheduled) the root may not exist: clamp at 0.
        let disc = (from * from + 4.0 * a * i).max(0.0);
        2.0 * i / (from + disc.sqrt())
    }

    /// How many of the planned requests are due before `t_s`: the i with
    /// i < N(t_s), as N rises. The planned sends of an interval are the
    /// difference at its two ends.
    pub fn due_before(&self, t_s: f64) -> u64 {
        if t_s <= 0.0 {
            return 0;
        }
        ((self.cumulative(t_s) - EPSILON).ceil().max(0.0) as u64).min(self.count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over(rate: Rate, ms: u64) -> Schedule {
        rate.over(Duration::from_millis(ms))
    }

    /// 10..30 over 2 s: N(t) = 10t + 5t², so N(2) = 40 requests, each due
    /// at the root (-10 + √(100 + 20i)) / 10; the first at 0, the last
    /// (i = 39) at 1.9665 s; every one after the one before.
    #[test]
    fn a_ramp_is_due_at_the_roots_of_its_cumulative_count() {
        let s = over(Rate::ramp(10.0, 30.0), 2000);
        assert_eq!(s.count(), 40);
        let closed = |i: u64| (-10.0 + (100.0 + 20.0 * i as f64).sqrt()) / 10.0;
        for i in 0..s.count() {
            assert!((s.due_s(i) - closed(i)).abs() < 1e-6, "{i}: {} vs {}", s.due_s(i), closed(i));
            // The count of requests due by then is i: the inverse, both ways.
            assert!((s.cumulative(s.due_s(i)) - i as f64).abs() < 1e-9, "{i}");
        }
        assert_eq!(s.due_s(0), 0.0);
        assert!((s.due_s(39) - 1.966_479_39).abs() < 1e-6, "{}", s.due_s(39));
        assert!(s.due_s(39) < 2.0 && s.due_s(40) >= 2.0 - 1e-12, "{}", s.due_s(40));
        assert!((1..40).all(|i| s.due_s(i) > s.due_s(i - 1)));
        // The gaps shrink as the rate rises: 1/10 s at first, about 1/30 s at the end.
        let gap = |i: u64| s.due_s(i + 1) - s.due_s(i);
        assert!((gap(0) - 0.0954).abs() < 1e-3 && (gap(38) - 0.0339).abs() < 1e-3, "{}", gap(38));
        assert_eq!((s.rate_at(0.0), s.rate_at(1.0), s.rate_at(2.0)), (10.0, 20.0, 30.0));
    }

    /// Per half second: N(0.5) = 6.25, N(1) = 15, N(1.5) = 26.25, N(2) = 40,
    /// so 7, 8, 12 and 13 are due; request 15 falls at 1 s exactly and is
    /// the next interval's, as a send at 1 s would be.
    #[test]
    fn the_planned_sends_of_each_stretch_follow_the_ramp() {
        let s = over(Rate::ramp(10.0, 30.0), 2000);
        let edges = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5];
        let planned: Vec<u64> =
            edges.windows(2).map(|w| s.due_before(w[1]) - s.due_before(w[0])).collect();
        assert_eq!(planned, [7, 8, 12, 13, 0]);
        assert_eq!(s.due_s(15), 1.0);
        // Counted one by one from the due times, the same.
        let by_due = |lo: f64, hi: f64| (0..40).filter(|i| (lo..hi).contains(&s.due_s(*i))).count();
        assert_eq!(
            edges.windows(2).map(|w| by_due(w[0], w[1]) as u64).collect::<Vec<_>>(),
            planned
        );
    }

    /// A falling ramp is the rising one backwards: same count, the gaps
    /// growing instead of shrinking.
    #[test]
    fn a_falling_ramp_has_one_due_time_per_request_too() {
        let s = over(Rate::ramp(30.0, 10.0), 2000);
        assert_eq!(s.count(), 40);
        assert!((1..40).all(|i| s.due_s(i) > s.due_s(i - 1)));
        assert!(s.due_s(39) < 2.0 && (s.due_s(1) - 1.0 / 30.0).abs() < 1e-3, "{}", s.due_s(1));
        let edges = [0.0, 0.5, 1.0, 1.5, 2.0];
        let planned: Vec<u64> =
            edges.windows(2).map(|w| s.due_before(w[1]) - s.due_before(w[0])).collect();
        assert_eq!(planned.iter().sum::<u64>(), 40);
        assert!(planned.windows(2).all(|w| w[0] >= w[1]), "{planned:?}");
    }

    /// The constant rate keeps its old arithmetic to the bit: i / R, and
    /// the count of every i with i / R < D.
    #[test]
    fn a_constant_rate_is_scheduled_exactly_as_before() {
        for (rate, ms, count) in
            [(200.0, 1000, 200), (30.0, 100, 3), (0.5, 1000, 1), (7.0, 3000, 21)]
        {
            let s = over(Rate::constant(rate), ms);
            assert_eq!(s.count(), count, "{rate}/s for {ms} ms");
            for i in 0..count {
                assert_eq!(s.due_s(i).to_bits(), (i as f64 / rate).to_bits(), "{i}");
            }
        }
        assert_eq!(Rate::from(200.0).mean(), 200.0);
        assert_eq!(over(Rate::constant(100.0), 1000).due_before(0.5), 50);
    }

    #[test]
    fn rates_parse_and_say_what_is_wrong() {
        assert_eq!("200".parse::<Rate>(), Ok(Rate::constant(200.0)));
        assert_eq!(" 100..5000 ".parse::<Rate>(), Ok(Rate::ramp(100.0, 5000.0)));
        assert_eq!("5000..100".parse::<Rate>(), Ok(Rate::ramp(5000.0, 100.0)));
        assert_eq!("0.5..2".parse::<Rate>(), Ok(Rate::ramp(0.5, 2.0)));
        assert!("7..7".parse::<Rate>().unwrap().is_constant());
        for (text, needle) in [
            ("0..5", "start 0 is not a rate above 0"),
            ("5..0", "end 0 is not a rate above 0"),
            ("5..", "has no end"),
            ("..5", "has no start"),
            ("a..b", "start 'a' is not a number"),
            ("5..x", "end 'x' is not a number"),
            ("-5", "'-5' is not a rate above 0"),
            ("-5..10", "start -5 is not a rate above 0"),
            ("1..2..3", "end '2..3' is not a number"),
            ("inf", "not a rate above 0"),
            ("", "not a rate above 0"),
        ] {
            let err = text.parse::<Rate>().unwrap_err();
            assert!(err.contains(needle) && err.contains("100..5000"), "{text}: {err}");
        }
        assert_eq!(Rate::ramp(100.0, 5000.0).to_string(), "100..5000");
        assert_eq!(Rate::constant(0.5).to_string(), "0.5");
        assert!(Rate::ramp(0.0, 5.0).problem().unwrap().contains("0..5"));
        assert!(
            Rate::constant(f64::NAN).problem().is_some()
                && Rate::ramp(1.0, 2.0).problem().is_none()
        );
    }
}

//! `--expect`: a measurement as an exit code, in the manner of k6's
//! thresholds. `kit bench`, `attack` and `slots` take any number of
//! `--expect 'p99<200ms'`, `--expect 'errors=0'`, `--expect 'slots>=100'`;
//! after the run each prints what it measured against what it expected,
//! and the command exits 1 when one failed. A malformed expectation, or
//! one the command does not measure, is refused before anything is sent
//! (clap's exit 2).

use std::fmt;
use std::time::Duration;

use kit_measure::latency::Summary;

use crate::error::{CliError, Result};

/// What an expectation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P95,
    P99,
    Max,
    Mean,
    Errors,
    Rps,
    Slots,
}

impl Metric {
    const ALL: [(&'static str, Metric); 9] = [
        ("p50", Metric::P50),
        ("p90", Metric::P90),
        ("p95", Metric::P95),
        ("p99", Metric::P99),
        ("max", Metric::Max),
        ("mean", Metric::Mean),
        ("errors", Metric::Errors),
        ("rps", Metric::Rps),
        ("slots", Metric::Slots),
    ];

    fn name(self) -> &'static str {
        Metric::ALL.iter().find(|(_, m)| *m == self).map_or("?", |(n, _)| n)
    }

    /// A latency: its value is a time, written with its unit.
    fn is_time(self) -> bool {
        matches!(
            self,
            Metric::P50 | Metric::P90 | Metric::P95 | Metric::P99 | Metric::Max | Metric::Mean
        )
    }
}

/// What `kit bench` measures (its latencies are from the send).
pub const BENCH: &[Metric] = &[
    Metric::P50,
    Metric::P90,
    Metric::P95,
    Metric::P99,
    Metric::Max,
    Metric::Mean,
    Metric::Errors,
    Metric::Rps,
];
/// What `kit attack` measures (its latencies are response times, from when
/// each request was due; rps is the achieved rate of 2xx answers).
pub const ATTACK: &[Metric] = BENCH;
/// What `kit slots` measures.
pub const SLOTS: &[Metric] = &[Metric::Slots, Metric::Errors];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Op {
    fn holds(self, measured: f64, expected: f64) -> bool {
        match self {
            Op::Lt => measured < expected,
            Op::Le => measured <= expected,
            Op::Gt => measured > expected,
            Op::Ge => measured >= expected,
            Op::Eq => (measured - expected).abs() < 1e-9,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "=",
        }
    }
}

/// One `--expect`, parsed. Times are kept in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    pub metric: Metric,
    op: Op,
    value: f64,
    text: String,
}

/// A measured value: `at_least` when the run can only say "this many or
/// more" (a burst served all at once: the slots are at least N).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub value: f64,
    pub at_least: bool,
}

impl Measured {
    pub fn exactly(value: f64) -> Measured {
        Measured { value, at_least: false }
    }
}

impl Expectation {
    /// Parses `METRIC OP VALUE` for a command that measures `allowed`.
    pub fn parse(text: &str, allowed: &[Metric]) -> std::result::Result<Expectation, String> {
        let spaced: String = text.split_whitespace().collect();
        let at = spaced.find(['<', '>', '=']).ok_or_else(|| {
            format!("'{text}': an expectation is METRIC OP VALUE, e.g. 'p99<200ms', 'errors=0', 'slots>=100'")
        })?;
        let (name, rest) = spaced.split_at(at);
        let (op, value) = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("=", Op::Eq),
        ]
        .iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|v| (*op, v)))
        .ok_or_else(|| format!("'{text}': no comparison (<, <=, >, >=, =)"))?;
        let names: Vec<&str> = allowed.iter().map(|m| m.name()).collect();
        let metric = Metric::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, m)| *m)
            .filter(|m| allowed.contains(m))
            .ok_or_else(|| {
                format!("'{text}': this command measures {}, not '{name}'", names.join(", "))
            })?;
        let value = if metric.is_time() {
            parse_ms(value).ok_or_else(|| {
                format!(
                    "'{text}': {} is a time: write its unit, e.g. 200ms, 1.5s, 500us",
                    metric.name()
                )
            })?
        } else {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("'{text}': '{value}' is not a number of 0 or more"))?
        };
        Ok(Expectation { metric, op, value, text: text.trim().to_string() })
    }

    /// Whether `measured` meets it. A lower bound meets only "more than" kinds.
    pub fn holds(&self, measured: Measured) -> bool {
        match (measured.at_least, self.op) {
            (true, Op::Gt | Op::Ge) => self.op.holds(measured.value, self.value),
            (true, _) => false,
            (false, op) => op.holds(measured.value, self.value),
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.metric.name(),
            self.op.text(),
            show(self.metric, self.value, false)
        )
    }
}

fn parse_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok().filter(|v: &f64| v.is_finite())?;
    let per_ms = match unit {
        "us" | "µs" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        _ => return None,
    };
    Some(number * per_ms)
}

fn show(metric: Metric, value: f64, at_least: bool) -> String {
    let more = if at_least { "at least " } else { "" };
    if value.is_nan() {
        "nothing (not measured)".into()
    } else if metric.is_time() {
        let d = Duration::from_secs_f64(value / 1000.0);
        if d >= Duration::from_secs(1) {
            format!("{more}{:.3} s", d.as_secs_f64())
        } else {
            format!("{more}{value:.2} ms")
        }
    } else if value.fract() == 0.0 {
        format!("{more}{value:.0}")
    } else {
        format!("{more}{value:.1}")
    }
}

/// Checks every expectation against `measure`, prints one line each (to
/// stderr when stdout carries JSON), and fails when one did not hold.
pub fn check(
    expectations: &[Expectation],
    json: bool,
    measure: impl Fn(Metric) -> Measured,
) -> Result<()> {
    let mut failed = 0;
    for e in expectations {
        let m = measure(e.metric);
        let ok = e.holds(m);
        failed += usize::from(!ok);
        let line = format!(
            "  expect {:<16} measured {:<18} {}",
            e.text,
            show(e.metric, m.value, m.at_least),
            if ok { "pass" } else { "FAIL" }
        );
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(CliError::Failed(format!(
            "{n} of {} expectations failed (--expect)",
            expectations.len()
        ))),
    }
}

/// What a load generator (`kit bench`, `kit attack`) measured, as
/// `--expect` reads it: its latencies, its errors and its rate. It counts
/// no slots: an expectation on them finds nothing measured.
pub fn of_load(metric: Metric, latency: &Summary, errors: u64, rps: f64) -> Measured {
    Measured::exactly(match metric {
        Metric::P50 => latency.p50_ms,
        Metric::P90 => latency.p90_ms,
        Metric::P95 => latency.p95_ms,
        Metric::P99 => latency.p99_ms,
        Metric::Max => latency.max_ms,
        Metric::Mean => latency.mean_ms,
        Metric::Errors => errors as f64,
        Metric::Rps => rps,
        Metric::Slots => f64::NAN,
    })
}

/// clap's value parsers, one per command.
pub fn for_bench(text: &str) -> std::result::Result<Expectation, String> {
    Expectation::parse(text, BENCH)
}

pub fn for_attack(text: &str) -> std::result::Result<Expectation, String> {
    Expectation::parse(text, ATTACK)
}

pub fn for_slots(text: &str) -> std::result::Result<Expectation, String> {
    Expectation::parse(text, SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_parse_with_their_units() {
        let e = for_bench("p99<200ms").unwrap();
        assert_eq!((e.metric, e.op, e.value), (Metric::P99, Op::Lt, 200.0));
        assert_eq!(for_bench("p50 <= 1.5s").unwrap().value, 1500.0);
        assert_eq!(for_bench("max<500us").unwrap().value, 0.5);
        assert_eq!(for_bench("errors=0").unwrap().op, Op::Eq);
        assert_eq!(for_slots("slots>=100").unwrap().to_string(), "slots>=100");
        for (bad, says) in [
            ("p99", "METRIC OP VALUE"),
            ("p99<200", "write its unit"),
            ("p99<fast", "write its unit"),
            ("errors=-1", "not a number of 0 or more"),
            ("latency<2ms", "not 'latency'"),
            ("p99!200ms", "METRIC OP VALUE"),
        ] {
            let e = for_bench(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        // A metric the command does not measure is refused with the list.
        let e = for_slots("p99<1s").unwrap_err();
        assert!(e.contains("measures slots, errors"), "{e}");
    }

    #[test]
    fn a_lower_bound_meets_only_a_lower_bound() {
        let at_least_100 = Measured { value: 100.0, at_least: true };
        assert!(for_slots("slots>=100").unwrap().holds(at_least_100));
        assert!(!for_slots("slots<=4").unwrap().holds(at_least_100));
        assert!(!for_slots("slots=100").unwrap().holds(at_least_100));
        assert!(for_slots("slots=4").unwrap().holds(Measured::exactly(4.0)));
        assert!(!for_bench("p99<200ms").unwrap().holds(Measured::exactly(200.0)));
        assert!(for_bench("p99<=200ms").unwrap().holds(Measured::exactly(200.0)));
    }

    #[test]
    fn a_failed_expectation_is_an_error() {
        let es = [for_bench("errors=0").unwrap(), for_bench("p99<10ms").unwrap()];
        let measure = |m: Metric| Measured::exactly(if m == Metric::Errors { 0.0 } else { 12.0 });
        match check(&es, true, measure) {
            Err(CliError::Failed(msg)) => assert_eq!(msg, "1 of 2 expectations failed (--expect)"),
            other => panic!("{other:?}"),
        }
        assert!(check(&es[..1], true, measure).is_ok());
    }
}

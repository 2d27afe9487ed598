//! Slots from outside: N requests that arrive together, on a server with s
//! slots, come back in rounds of s, one round every t. [`read`] finds those
//! rounds in the answers' times alone (no `/metrics`), so `kit slots` can
//! count the slots of any server, in any language.
//!
//! A round is a run of answers with no gap longer than a third of t
//! between them; the answers count as rounds when those runs come one
//! about every t. Then the most answers any round held is the server's
//! slots, and a change of count between rounds (an uneven split between
//! worker processes, a pool that grows) is reported where it happens.

use serde::{Deserialize, Serialize};

/// One round: how many answers, and when the round's last one came.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub count: u64,
    pub end_s: f64,
}

/// Consecutive rounds of the same size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stretch {
    /// Answers per round.
    pub per_round: u64,
    pub rounds: u64,
}

/// What the answers' times say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    /// Rounds of up to `slots` (the most any round held), one about every `spacing_s`.
    Rounds {
        slots: u64,
        spacing_s: f64,
        rounds: Vec<Round>,
        /// The counts per round, run-length: more than one when the slots
        /// changed between rounds (the last, partial round is not a change).
        stretches: Vec<Stretch>,
    },
    /// Every answer in one round: more slots than requests.
    AllAtOnce { n: u64, end_s: f64 },
    /// No rounds: the answers came back spread out (CPU work, queues that
    /// are not slots). `why` says what was seen instead.
    NoRounds { why: String },
}

/// Reads `answers` (seconds from the first send, one per answered request)
/// given `t_s`, one request's own time alone.
pub fn read(answers: &[f64], t_s: f64) -> Reading {
    let mut times: Vec<f64> = answers.iter().copied().filter(|a| a.is_finite()).collect();
    times.sort_by(f64::total_cmp);
    if times.is_empty() || t_s <= 0.0 {
        return Reading::NoRounds { why: "no answer to read".into() };
    }
    let gap = t_s / 3.0;
    let mut rounds: Vec<Round> = Vec::new();
    let mut widest: f64 = 0.0;
    let mut started = times[0];
    for &at in &times {
        match rounds.last_mut() {
            Some(r) if at - r.end_s <= gap => {
                r.count += 1;
                r.end_s = at;
            }
            _ => {
                rounds.push(Round { count: 1, end_s: at });
                started = at;
            }
        }
        widest = widest.max(at - started);
    }
    // A round is a moment: answers that kept coming for half of t are a stream.
    if widest > t_s / 2.0 {
        return Reading::NoRounds {
            why: format!(
                "the answers kept coming, {} of them over {:.2} s, rather than in groups one {:.3} s apart",
                times.len(),
                times[times.len() - 1] - times[0],
                t_s
            ),
        };
    }
    if rounds.len() == 1 {
        return Reading::AllAtOnce { n: rounds[0].count, end_s: rounds[0].end_s };
    }
    let spacings: Vec<f64> = rounds.windows(2).map(|w| w[1].end_s - w[0].end_s).collect();
    let regular = spacings.iter().filter(|s| (0.6 * t_s..=1.6 * t_s).contains(*s)).count();
    if (regular as f64) < 0.8 * spacings.len() as f64 {
        let spread = times[times.len() - 1] - times[0];
        return Reading::NoRounds {
            why: format!(
                "the answers came back over {spread:.2} s in {} groups, not one group every {:.3} s",
                rounds.len(),
                t_s
            ),
        };
    }
    let mut sorted = spacings.clone();
    sorted.sort_by(f64::total_cmp);
    let spacing_s = sorted[sorted.len() / 2];
    let mut stretches: Vec<Stretch> = Vec::new();
    for r in &rounds {
        match stretches.last_mut() {
            Some(s) if s.per_round == r.count => s.rounds += 1,
            _ => stretches.push(Stretch { per_round: r.count, rounds: 1 }),
        }
    }
    // A last round with fewer answers is the remainder of N / s, not a change.
    if stretches.len() > 1 {
        let last = stretches[stretches.len() - 1];
        let before = stretches[stretches.len() - 2];
        if last.rounds == 1 && last.per_round < before.per_round {
            stretches.pop();
        }
    }
    // The slots: the most any round held, what the server showed it can do
    // at once (rounds that held fewer are where it did not).
    let slots = stretches.iter().map(|s| s.per_round).max().unwrap_or(1);
    Reading::Rounds { slots, spacing_s, rounds, stretches }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per_round[i]` answers at (i + 1) x t, each a few ms apart.
    fn answers(per_round: &[u64], t: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for (i, &count) in per_round.iter().enumerate() {
            for j in 0..count {
                out.push((i + 1) as f64 * t + 0.002 * j as f64);
            }
        }
        out
    }

    #[test]
    fn four_slots_come_back_in_rounds_of_four() {
        let reading = read(&answers(&[4; 25], 1.0), 1.0);
        match reading {
            Reading::Rounds { slots, spacing_s, rounds, stretches } => {
                assert_eq!((slots, rounds.len()), (4, 25));
                assert!((spacing_s - 1.0).abs() < 0.01);
                assert_eq!(stretches, vec![Stretch { per_round: 4, rounds: 25 }]);
            }
            other => panic!("{other:?}"),
        }
        // 10 on 4 slots: 4, 4 and a remainder of 2, which is no change.
        match read(&answers(&[4, 4, 2], 0.1), 0.1) {
            Reading::Rounds { slots: 4, stretches, .. } => {
                assert_eq!(stretches, vec![Stretch { per_round: 4, rounds: 2 }])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_change_between_rounds_is_where_it_happens() {
        let mut per_round = vec![4; 6];
        per_round.extend([2; 38]);
        match read(&answers(&per_round, 1.0), 1.0) {
            Reading::Rounds { slots, stretches, .. } => {
                assert_eq!(slots, 4, "the most any round held");
                assert_eq!(
                    stretches,
                    vec![Stretch { per_round: 4, rounds: 6 }, Stretch { per_round: 2, rounds: 38 }]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn everything_at_once_is_one_round() {
        let reading = read(&answers(&[100], 0.5), 0.5);
        assert_eq!(reading, Reading::AllAtOnce { n: 100, end_s: 0.5 + 0.002 * 99.0 });
    }

    #[test]
    fn answers_spread_out_are_no_rounds() {
        // CPU work on 2 cores: one answer every 37 ms, for a t of 100 ms.
        let spread: Vec<f64> = (0..50).map(|i| 0.1 + 0.037 * i as f64).collect();
        match read(&spread, 0.1) {
            Reading::NoRounds { why } => {
                assert!(why.contains("not one group every 0.100 s"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        // A stream closer together than a third of t is not one round either.
        let stream: Vec<f64> = (0..50).map(|i| 0.1 + 0.02 * i as f64).collect();
        match read(&stream, 0.1) {
            Reading::NoRounds { why } => assert!(why.contains("kept coming, 50 of them"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(read(&[], 0.1), Reading::NoRounds { .. }));
    }
}

//! Live progress: one bar per server, on stderr, drawn only when stderr is
//! a terminal. The bars are updated from the main thread, which reads the
//! counters the bursts increment: the measuring threads never draw.
//!
//! When stderr is not a terminal (a pipe, a CI log, a test), the bars are
//! hidden and one plain line per finished server is printed instead.
//!
//! While a bar runs it shows a clock; when it is done it shows the burst's
//! measured total, formatted as the table below it prints it, so the screen
//! holds one figure for that total.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use kit_measure::table::short_seconds;

/// Redraws per second: smooth enough to watch, too few to cost the bursts CPU.
const REDRAW_HZ: u8 = 10;
/// What a bar's line may take: a projector's terminal, less a margin.
const LINE: usize = kit_measure::table::SCREEN_WIDTH - 4;
/// The widest message: "  25.1 s  100 x /db-simulation".
const MESSAGE: usize = 32;

/// One bar per job.
pub struct Bars {
    // Kept so the bars stay attached to one draw target.
    _multi: MultiProgress,
    bars: Vec<ProgressBar>,
    started: Instant,
    visible: bool,
}

impl Bars {
    /// `labels[i]` names bar i, which counts to `lens[i]`.
    pub fn new(labels: &[String], lens: &[u64]) -> Bars {
        let visible = std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr_with_hz(REDRAW_HZ)
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        // The template is built to a shape known to parse (see the test).
        let style = ProgressStyle::with_template(&template(labels))
            .expect("valid template")
            .progress_chars("=> ");
        let bars = labels
            .iter()
            .zip(lens)
            .map(|(label, len)| {
                let bar = multi.add(ProgressBar::new(*len).with_style(style.clone()));
                bar.set_prefix(label.clone());
                bar
            })
            .collect();
        Bars { _multi: multi, bars, started: Instant::now(), visible }
    }

    /// Moves bar `i` to `done`, with the elapsed time and `what` it is doing.
    pub fn tick(&self, i: usize, done: u64, what: &str) {
        self.bars[i].set_position(done);
        self.bars[i].set_message(format!("{:>6.1} s  {what}", self.elapsed()));
    }

    /// Bar `i` is done. It stops at what the table will say, not at this
    /// clock (which started before the connections were opened and is read
    /// a little after the last answer): the burst's measured total when the
    /// bar is one burst, else how many bursts it made, whose totals are in
    /// the table.
    pub fn finish(&self, i: usize, done: u64, totals: &[Duration]) {
        let bar = &self.bars[i];
        bar.set_position(done);
        let what = match totals {
            [one] => format!("total {}", short_seconds(one.as_secs_f64())),
            many => format!("{} bursts", many.len()),
        };
        bar.finish_with_message(format!("{what}, done"));
        self.plain(i, &format!("done, {done}/{}, {what}", bar.length().unwrap_or(0)));
    }

    /// Bar `i` failed: it stops with `why`.
    pub fn fail(&self, i: usize, why: &str) {
        self.bars[i].abandon_with_message(format!("{:>6.1} s  {why}", self.elapsed()));
        self.plain(i, why);
    }

    fn plain(&self, i: usize, text: &str) {
        if !self.visible {
            eprintln!("{}: {text}", self.bars[i].prefix());
        }
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// The bars' template: labels as wide as the widest, and a bar as long as
/// the line leaves room for (at least 10 columns, at most 32).
fn template(labels: &[String]) -> String {
    let prefix = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    // " [" + "] " + "1000/1000" + " " around the bar.
    let bar = LINE.saturating_sub(prefix + 4 + 9 + 1 + MESSAGE).clamp(10, 32);
    format!("{{prefix:<{prefix}}} [{{bar:{bar}}}] {{pos:>4}}/{{len:<4}} {{msg}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_line_fits_the_projector() {
        for labels in [
            vec!["blocking-wrapper".to_string()],
            vec!["blocking-wrapper /db-simulation".to_string()],
        ] {
            let t = template(&labels);
            let bar: usize = t
                .split("{bar:")
                .nth(1)
                .and_then(|r| r.split('}').next())
                .and_then(|w| w.parse().ok())
                .expect("a bar width");
            let width = labels[0].chars().count() + 4 + bar + 9 + 1 + MESSAGE;
            assert!(width <= kit_measure::table::SCREEN_WIDTH, "{t}: {width} columns");
            assert!(ProgressStyle::with_template(&t).is_ok(), "{t}");
        }
    }
}

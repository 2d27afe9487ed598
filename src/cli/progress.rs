//! Live progress: one bar per server, on stderr, drawn only when stderr is
//! a terminal. The bars are updated from the main thread, which reads the
//! counters the bursts increment: the measuring threads never draw.
//!
//! When stderr is not a terminal (a pipe, a CI log, a test), the bars are
//! hidden and one plain line per finished server is printed instead.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Redraws per second: smooth enough to watch, too few to cost the bursts CPU.
const REDRAW_HZ: u8 = 10;
const TEMPLATE: &str = "{prefix:<28} [{bar:32}] {pos:>4}/{len:<4} {msg}";

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
        let target = if visible { ProgressDrawTarget::stderr_with_hz(REDRAW_HZ) } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        // The template is a constant known to parse.
        let style = ProgressStyle::with_template(TEMPLATE).expect("valid template").progress_chars("=> ");
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

    /// Bar `i` is done: it stops at its final time.
    pub fn finish(&self, i: usize, done: u64) {
        let bar = &self.bars[i];
        bar.set_position(done);
        bar.finish_with_message(format!("{:>6.2} s  done", self.elapsed()));
        self.plain(i, &format!("done, {done}/{} in {:.2} s", bar.length().unwrap_or(0), self.elapsed()));
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

//! `kit demo`: a guided walk through the four servers for a workshop screen.
//!
//! Seven steps. Each one says what is about to happen and what the slot
//! model predicts, shows the server's own lines that decide it, waits for
//! Enter (unless `--yes`), measures live, and prints the measurement next to
//! the prediction, in slot language, with a one-line takeaway.
//!
//! Plain text on purpose: a projector, a plain terminal, no raw mode, so the
//! presenter can scroll back and copy. Everything is written to a `dyn Write`
//! and read from a `dyn BufRead`, so the tests drive the whole demo with a
//! byte buffer.
//!
//! - [`snippets`]: the server lines on screen, cut from the embedded sources.
//! - [`steps`]: the eight steps, one function each.
//! - this file: options, the error type, and the screen (prompts, styling,
//!   live progress).

pub mod snippets;
mod steps;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::harness::{HarnessError, Server};
use crate::slots::VARIANTS;


/// The most often a progress line is printed while a burst runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often the screen looks at a running measurement (not a print rate).
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Prose is wrapped to this many columns: a projector at a large font.
const WIDTH: usize = 88;

/// What `kit demo` was asked for.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// `--yes`: never wait for Enter.
    pub yes: bool,
    /// The I/O unit every server waits, in ms (`--io-ms`).
    pub io_ms: u64,
    /// Concurrent requests per burst (`--n`).
    pub n: u64,
    /// Where the four server binaries are.
    pub bin_dir: PathBuf,
    /// ANSI bold and colour. Default it from `std::io::stdout().is_terminal()`.
    pub color: bool,
    /// How long step 6 saturates each server's cores, in ms.
    pub cpu_probe_ms: u64,
    /// Step 7's header-read timeout, in ms: how long an idle client may hold
    /// a connection before the server closes it.
    pub idle_timeout_ms: u64,
}

impl DemoOptions {
    /// The workshop defaults: 100 x /parallel at io = 500 ms, pausing for Enter.
    pub fn new(bin_dir: impl Into<PathBuf>) -> DemoOptions {
        DemoOptions {
            yes: false,
            io_ms: 500,
            n: 100,
            bin_dir: bin_dir.into(),
            color: false,
            cpu_probe_ms: 2000,
            idle_timeout_ms: 2000,
        }
    }

    fn io(&self) -> Duration {
        Duration::from_millis(self.io_ms)
    }

    fn binary(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// Why the demo stopped early.
#[derive(Debug)]
pub enum DemoError {
    /// Server binaries that are not in `bin_dir`.
    MissingBinaries { dir: PathBuf, names: Vec<&'static str> },
    /// A server that would not start, with what it printed.
    ServerStart { server: &'static str, detail: String },
    /// A measurement that could not be taken (not one that came out badly).
    Measure { server: &'static str, detail: String },
    /// Writing to the screen or reading the presenter's input failed.
    Io(std::io::Error),
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::MissingBinaries { dir, names } => write!(
                f,
                "server binaries not found in {}: {}; build them first: cargo build --release -p kit-servers",
                dir.display(),
                names.join(", ")
            ),
            DemoError::ServerStart { server, detail } => write!(f, "{server} failed to start: {detail}"),
            DemoError::Measure { server, detail } => write!(f, "measuring {server} failed: {detail}"),
            DemoError::Io(e) => write!(f, "demo output or input failed: {e}"),
        }
    }
}

impl std::error::Error for DemoError {}

impl From<std::io::Error> for DemoError {
    fn from(e: std::io::Error) -> DemoError {
        DemoError::Io(e)
    }
}

/// Runs the demo: every step in order, or until the input ends.
pub fn run(opts: &DemoOptions, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<(), DemoError> {
    check_binaries(opts)?;
    let mut screen = Screen { input, out, yes: opts.yes, color: opts.color };
    steps::all(opts, &mut screen)
}

/// Fails before step 1, not halfway through a workshop, when a server is missing.
fn check_binaries(opts: &DemoOptions) -> Result<(), DemoError> {
    let names: Vec<&'static str> = VARIANTS.into_iter().filter(|name| !opts.binary(name).is_file()).collect();
    if names.is_empty() {
        Ok(())
    } else {
        Err(DemoError::MissingBinaries { dir: opts.bin_dir.clone(), names })
    }
}

/// Starts one server with the demo's io. The caller keeps the guard in the
/// scope of its step, so the server dies when the step ends, however it ends.
fn start(opts: &DemoOptions, server: &'static str) -> Result<Server, DemoError> {
    start_with(opts, server, &[])
}

/// `start` with more flags for the server.
fn start_with(opts: &DemoOptions, server: &'static str, more: &[String]) -> Result<Server, DemoError> {
    let mut args = vec!["--io-ms".to_string(), opts.io_ms.to_string()];
    args.extend_from_slice(more);
    Server::start(opts.binary(server), &args).map_err(|HarnessError(detail)| DemoError::ServerStart { server, detail })
}

/// Whether the presenter said go, or the input ended.
#[derive(Debug, PartialEq)]
enum Go {
    Run,
    Stop,
}

/// The presenter's side: what is written, and the Enter key.
struct Screen<'a> {
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
    yes: bool,
    color: bool,
}

impl Screen<'_> {
    fn line(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "{text}")
    }

    /// `text` indented and wrapped to `WIDTH` columns, for the projector.
    fn paragraph(&mut self, text: &str) -> std::io::Result<()> {
        for line in wrap(text, WIDTH) {
            writeln!(self.out, "  {line}")?;
        }
        Ok(())
    }

    fn title(&mut self, number: usize, title: &str) -> std::io::Result<()> {
        let text = format!("== Step {number} of {}: {title} ==", steps::COUNT);
        let text = self.style("1;36", &text);
        write!(self.out, "\n{text}\n\n")
    }

    fn takeaway(&mut self, text: &str) -> std::io::Result<()> {
        let text = self.style("1", &format!("Takeaway: {text}"));
        writeln!(self.out, "\n{text}")
    }

    fn style(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// "press Enter to ...", then one line of input. End of input stops the
    /// demo cleanly: a closed stdin must never hang a workshop machine.
    fn wait_for_enter(&mut self, what: &str) -> Result<Go, DemoError> {
        if self.yes {
            return Ok(Go::Run);
        }
        write!(self.out, "\npress Enter to {what} ")?;
        self.out.flush()?;
        let mut answer = String::new();
        if self.input.read_line(&mut answer)? == 0 {
            writeln!(self.out, "\n\nNo more input: the demo stops here. (kit demo --yes runs it without pauses.)")?;
            return Ok(Go::Stop);
        }
        Ok(Go::Run)
    }

    /// Runs `measure` on its own thread and, meanwhile, prints how many of
    /// `n` requests `done` has counted, at most once per `PROGRESS_EVERY`.
    /// The printing stays out here, away from the measurement.
    fn with_progress<T: Send>(
        &mut self,
        n: u64,
        done: &std::sync::atomic::AtomicU64,
        measure: impl FnOnce() -> T + Send,
    ) -> std::io::Result<T> {
        let started = Instant::now();
        std::thread::scope(|scope| {
            let task = scope.spawn(measure);
            let mut printed = Instant::now();
            let mut any = false;
            while !task.is_finished() {
                std::thread::sleep(POLL_EVERY);
                if printed.elapsed() >= PROGRESS_EVERY && !task.is_finished() {
                    printed = Instant::now();
                    any = true;
                    let count = done.load(std::sync::atomic::Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64();
                    self.progress(&format!("  ... {count:>5} of {n} answered, {secs:4.0} s"))?;
                }
            }
            if any && self.color {
                writeln!(self.out)?;
            }
            // A panic in the measurement is a bug: pass it on, not a half result.
            Ok(task.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        })
    }

    /// On a terminal the line overwrites itself; in a log, one line each.
    fn progress(&mut self, text: &str) -> std::io::Result<()> {
        if self.color {
            write!(self.out, "\r{text}")?;
        } else {
            writeln!(self.out, "{text}")?;
        }
        self.out.flush()
    }
}

/// Greedy word wrap; a word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("starts with one line");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_words_whole_and_lines_short() {
        let lines = wrap("aaa bbb ccc dddddddddd e", 7);
        assert_eq!(lines, ["aaa bbb", "ccc", "dddddddddd", "e"]);
    }
}

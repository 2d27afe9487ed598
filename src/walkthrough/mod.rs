//! `kit demo`: a guided walk through the four servers for a workshop screen.
//!
//! Eight steps. Each one says what is about to happen and what the slot
//! model predicts, shows the server's own lines that decide it, waits for
//! Enter (unless `--yes`), measures live, and prints the measurement next to
//! the prediction, in slot language, with a one-line takeaway.
//!
//! Plain text on purpose: a projector, a plain terminal, no raw mode, so the
//! presenter can scroll back and copy. Everything is written to a `dyn Write`
//! and read from a `dyn BufRead`, so the tests drive the whole demo with a
//! byte buffer.
//!
//! The screen is a projector's terminal of [`COLUMNS`] x [`ROWS`]: no line is
//! wider, prose wraps at word boundaries, and the demo waits for Enter before
//! anything would scroll a step's result (or the top of a listing) away.
//! After each step's takeaway it waits again, so the result stays up while
//! the room talks about it.
//!
//! - [`snippets`]: the server lines on screen, cut from the embedded sources.
//! - [`steps`]: the eight steps, one function each.
//! - this file: options, the error type, and the screen (prompts, styling,
//!   live progress, the row count).
//!
//! The subcommand's flags, and where the server binaries are, are
//! [`crate::commands::demo`]'s.

pub mod snippets;
mod steps;
#[cfg(test)]
mod tests;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kit_measure::harness::{HarnessError, Server};
use kit_measure::slots::VARIANTS;

/// How often a progress line is rewritten on a terminal while a burst runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often a progress line is added to a log (not a terminal): a log has
/// no line to rewrite, and a 25 s burst should not take 25 of its lines.
const LOG_PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// How often the screen looks at a running measurement (not a print rate).
const POLL_EVERY: Duration = Duration::from_millis(50);

/// The projector's terminal is this wide: no line of the demo is wider.
pub const COLUMNS: usize = kit_measure::table::SCREEN_WIDTH;
/// ...and this high: the demo waits for Enter before output would scroll
/// more than this many rows past the last time the presenter pressed it.
pub const ROWS: usize = 30;
/// Prose is wrapped to this many columns, after its two columns of indent.
const WIDTH: usize = COLUMNS - 4;
/// The rows a prompt takes: a blank line and the prompt.
const PROMPT_ROWS: usize = 2;

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
    /// ANSI bold and colour, and a progress line that rewrites itself.
    /// Default it from `std::io::stdout().is_terminal()`.
    pub color: bool,
    /// Whether the input echoes the presenter's Enter (a terminal does).
    /// When it does not (a pipe, a test), the demo writes the newline
    /// itself, so that a log reads like the screen. Default it from
    /// `std::io::stdin().is_terminal()`.
    pub echo: bool,
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
            echo: false,
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
pub fn run(
    opts: &DemoOptions,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), DemoError> {
    check_binaries(opts)?;
    let mut screen = Screen::new(input, out, opts);
    steps::all(opts, &mut screen, &mut steps::LiveLab(opts))
}

/// Fails before step 1, not halfway through a workshop, when a server is missing.
fn check_binaries(opts: &DemoOptions) -> Result<(), DemoError> {
    let names: Vec<&'static str> =
        VARIANTS.into_iter().filter(|name| !opts.binary(name).is_file()).collect();
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
fn start_with(
    opts: &DemoOptions,
    server: &'static str,
    more: &[String],
) -> Result<Server, DemoError> {
    let mut args = vec!["--io-ms".to_string(), opts.io_ms.to_string()];
    args.extend_from_slice(more);
    Server::start(opts.binary(server), &args)
        .map_err(|HarnessError(detail)| DemoError::ServerStart { server, detail })
}

/// Whether the presenter said go, or the input ended.
#[derive(Debug, PartialEq)]
enum Go {
    Run,
    Stop,
}

/// The presenter's side: what is written, the Enter key, and how many rows
/// have gone by since the presenter last pressed it.
struct Screen<'a> {
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
    yes: bool,
    color: bool,
    echo: bool,
    /// Rows written since the last Enter (or since the start).
    rows: usize,
}

impl<'a> Screen<'a> {
    fn new(input: &'a mut dyn BufRead, out: &'a mut dyn Write, opts: &DemoOptions) -> Screen<'a> {
        Screen { input, out, yes: opts.yes, color: opts.color, echo: opts.echo, rows: 0 }
    }

    /// One or more whole lines (`text` may hold newlines; none may be wider
    /// than [`COLUMNS`]: the steps wrap or cut their own).
    fn line(&mut self, text: &str) -> std::io::Result<()> {
        self.rows += text.split('\n').count();
        writeln!(self.out, "{text}")
    }

    /// `text` indented and wrapped at word boundaries, for the projector.
    fn paragraph(&mut self, text: &str) -> std::io::Result<()> {
        for line in indented(text).lines() {
            self.line(line)?;
        }
        Ok(())
    }

    fn title(&mut self, number: usize, title: &str) -> std::io::Result<()> {
        let text = format!("== Step {number} of {}: {title} ==", steps::COUNT);
        let text = self.style("1;36", &text);
        self.line(&format!("\n{text}\n"))
    }

    /// The step's last words, as a block: should they not fit under the
    /// result, the demo waits before them rather than scroll it away.
    fn takeaway(&mut self, text: &str) -> Result<Go, DemoError> {
        let lines: Vec<String> = wrap(&format!("Takeaway: {text}"), COLUMNS - 2)
            .iter()
            .map(|l| self.style("1", l))
            .collect();
        self.block(&format!("\n{}", lines.join("\n")))
    }

    fn style(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Makes room for `rows` more rows: when they would push what the
    /// presenter has not yet read off the top of the screen (with a prompt
    /// still to come under them), waits for Enter first.
    fn room(&mut self, rows: usize) -> Result<Go, DemoError> {
        if self.yes || self.rows + rows + PROMPT_ROWS <= ROWS {
            return Ok(Go::Run);
        }
        self.wait_for_enter("see the rest")
    }

    /// A block of lines that must be seen whole: [`Screen::room`] for it,
    /// then the lines.
    fn block(&mut self, text: &str) -> Result<Go, DemoError> {
        let text = text.trim_end_matches('\n');
        if self.room(text.split('\n').count())? == Go::Stop {
            return Ok(Go::Stop);
        }
        self.line(text)?;
        Ok(Go::Run)
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
            writeln!(
                self.out,
                "\n\nNo more input: the demo stops here. (kit demo --yes runs it without pauses.)"
            )?;
            return Ok(Go::Stop);
        }
        if !self.echo {
            // What the terminal's echo of Enter would have written.
            writeln!(self.out)?;
        }
        self.rows = 0;
        Ok(Go::Run)
    }

    /// Runs `measure` on its own thread and, meanwhile, shows how many of
    /// `n` requests `done` has counted. The printing stays out here, away
    /// from the measurement. It ends with the final count and no clock: the
    /// time the burst took is the table's, printed once, under it.
    fn with_progress<T: Send>(
        &mut self,
        n: u64,
        done: &std::sync::atomic::AtomicU64,
        measure: impl FnOnce() -> T + Send,
    ) -> std::io::Result<T> {
        let started = Instant::now();
        let every = if self.color { PROGRESS_EVERY } else { LOG_PROGRESS_EVERY };
        let result = std::thread::scope(|scope| {
            let task = scope.spawn(measure);
            let mut printed = Instant::now();
            while !task.is_finished() {
                std::thread::sleep(POLL_EVERY);
                if printed.elapsed() >= every && !task.is_finished() {
                    printed = Instant::now();
                    let count = done.load(std::sync::atomic::Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64();
                    self.progress(&format!("  ... {count:>5} of {n} finished, {secs:4.0} s"))?;
                }
            }
            // A panic in the measurement is a bug: pass it on, not a half result.
            Ok::<_, std::io::Error>(
                task.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            )
        })?;
        let count = done.load(std::sync::atomic::Ordering::Relaxed);
        self.finished(count, n)?;
        Ok(result)
    }

    /// On a terminal the line rewrites itself; in a log, one line each.
    fn progress(&mut self, text: &str) -> std::io::Result<()> {
        if self.color {
            write!(self.out, "\r{text}\x1b[K")?;
            self.out.flush()
        } else {
            self.line(text)
        }
    }

    /// The progress line's last state: every request accounted for.
    fn finished(&mut self, count: u64, n: u64) -> std::io::Result<()> {
        let text = format!("  ... {count:>5} of {n} finished");
        if self.color {
            write!(self.out, "\r{text}\x1b[K\n")?;
            self.rows += 1;
            Ok(())
        } else {
            self.line(&text)
        }
    }
}

/// Units that stay on the line of the number before them: "25.07 s" is
/// one figure, never "25.07" at the end of one line and "s" on the next.
const UNITS: [&str; 4] = ["s", "ms", "%", "x"];

/// `text` wrapped at word boundaries to [`WIDTH`], each line indented by two
/// spaces and ended by a newline: a note under a table or a paragraph.
pub(crate) fn indented(text: &str) -> String {
    wrap(text, WIDTH).iter().map(|line| format!("  {line}\n")).collect()
}

/// Greedy word wrap; a word longer than `width` gets a line of its own. A
/// unit is glued to the word before it (see [`UNITS`]).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let unit = UNITS.iter().any(|u| word.trim_end_matches(['.', ',', ';', ':', ')']) == *u);
        match words.last_mut() {
            Some(last) if unit => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    let mut lines = vec![String::new()];
    for word in &words {
        let last = lines.last_mut().expect("starts with one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
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

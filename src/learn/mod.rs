//! `kit learn`: the course in one terminal, graded on every save.
//!
//! The runner walks the registry's exercises in course order
//! ([`course`]). It shows the current one: its story, the file to edit and
//! its checks as a checklist. On every save of the exercise's sources
//! ([`watch`]) it runs the exercise's grade, the same `cargo test --release`
//! a learner runs by hand, and reads each check's verdict as it ends
//! ([`grading`]). Under the checklist: the first failure's message, or the
//! compiler's error. Keys: `h` the hint that failure named, `n` the next
//! exercise once all checks pass, `l` the list, `x` reset to the pristine
//! file, `s` the solution's diff once passing, `r` grade now, `q` quit.
//! Progress is kept in `.kit-learn.json` ([`progress`]), trusted only for
//! the contents it was measured on.
//!
//! [`app`] is the state and the keys, [`screen`] draws it; this file is the
//! terminal loop. The terminal is restored on every way out: `q`, Ctrl-C
//! (a key in raw mode), SIGINT or SIGTERM from outside, and a panic
//! (ratatui's panic hook); the grade, and every server it started, is
//! stopped first.

pub mod app;
pub mod course;
pub mod grading;
pub mod progress;
pub mod screen;
pub mod timing;
pub mod watch;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};
use ratatui::DefaultTerminal;

use app::App;
use course::Course;
use progress::Progress;

use crate::error::{CliError, Result};

/// How often the loop looks for keys, saves and the grade's lines.
const TICK: Duration = Duration::from_millis(50);

/// Where the state file is, when not at the repository root (tests, or a
/// teacher who keeps the room's state elsewhere).
pub const STATE_ENV: &str = "KIT_LEARN_STATE";

/// For the terminal test only: panic after the first draw.
pub const PANIC_ENV: &str = "KIT_LEARN_TEST_PANIC";

pub struct Options {
    pub root: PathBuf,
    pub start: Option<String>,
    pub manual: bool,
    pub status: bool,
}

pub fn run(opts: Options) -> Result<()> {
    let course = Course::from_registry(&opts.root);
    let progress = match std::env::var_os(STATE_ENV) {
        Some(path) => Progress::load_file(Path::new(&path)),
        None => Progress::load(&opts.root),
    };
    if opts.status {
        for line in progress.status_lines(&course) {
            println!("{line}");
        }
        return Ok(());
    }
    let start = match opts.start.as_deref() {
        Some(name) => Some(course.position(name).ok_or_else(|| {
            let names: Vec<&str> = course.lessons.iter().map(|l| l.name.as_str()).collect();
            CliError::Failed(format!(
                "'{name}' is not an exercise of the course: {}",
                names.join(", ")
            ))
        })?),
        None => None,
    };
    let scratch = opts.root.join("target").join("learn");
    let mut terminal = ratatui::try_init().map_err(|e| {
        ratatui::restore();
        CliError::Failed(format!(
            "kit learn needs a terminal ({e}); without one, run `cargo test --release` in the exercise's folder"
        ))
    })?;
    let mut app = App::new(course, progress, start, opts.manual, scratch);
    let result = drive(&mut terminal, &mut app);
    app.shutdown();
    ratatui::restore();
    if let Some(path) = app.progress.path().to_str() {
        println!("kit learn: your progress is in {path}; `kit learn --status` prints it");
    }
    result.map_err(|e| CliError::Failed(format!("the runner's screen failed: {e}")))
}

/// Draws, reads keys and ticks the app until it quits or a signal asks.
fn drive(terminal: &mut DefaultTerminal, app: &mut App) -> std::io::Result<()> {
    let stop = kit_serve::net::stop_flag();
    let panic_for_test = std::env::var_os(PANIC_ENV).is_some();
    loop {
        app.tick();
        let mut link = ratatui::layout::Rect::default();
        terminal.draw(|frame| link = screen::draw(frame, app))?;
        let lesson = app.lesson();
        let shown = lesson.shown_path(&app.course.root);
        let mut out = std::io::stdout();
        write!(out, "{}", screen::link(link, &shown, &lesson.file))?;
        out.flush()?;
        if panic_for_test {
            panic!("{PANIC_ENV} is set: the runner panics here, for the terminal test");
        }
        if app.quit || stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if event::poll(TICK)? {
            if let Event::Key(key) = event::read()? {
                app.on_key(key);
            }
        }
    }
}

//! The runner's state and what each key, save and grade line does to it.
//! No terminal here: [`super::screen`] draws an [`App`], and the loop in
//! [`super::run`] (or a test) feeds it keys and time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use kit_measure::database;
use kit_measure::pool_grade::GET_A_DATABASE;

use super::course::{Course, Lesson};
use super::grading::{Finish, GradeEvent, Grading};
use super::progress::{Progress, Record};
use super::watch::Watch;
use crate::support::grade_log::{hint_named, Outcome};

/// One check on the checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    NotRun,
    Running,
    Passed,
    Failed,
    Ignored,
}

/// What the screen shows besides the exercise.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Main,
    /// `h`: the hint the first failure named.
    Hint {
        n: u32,
        text: String,
    },
    /// `l`: every exercise, the cursor on one.
    List {
        selected: usize,
    },
    /// `x`: asks before the learner's file is replaced.
    ConfirmReset,
    /// `s`: the solution against the learner's file, as a unified diff.
    Solution {
        diff: String,
    },
}

/// The last grade's times, for the header.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastRun {
    pub took: Duration,
    pub first_verdict: Option<Duration>,
    pub passed: bool,
}

pub struct App {
    pub course: Course,
    pub current: usize,
    pub progress: Progress,
    pub checks: Vec<Check>,
    /// The failures' messages, by check number.
    pub reports: BTreeMap<u32, String>,
    pub build_error: Option<String>,
    pub grading: Option<Grading>,
    pub last: Option<LastRun>,
    pub mode: Mode,
    /// One line under the keys: what the last key did, or why it did nothing.
    pub note: Option<String>,
    /// How far the message (or hint, or diff) is scrolled down.
    pub scroll: u16,
    /// No file events: `r` grades.
    pub manual: bool,
    pub quit: bool,
    scratch: PathBuf,
    watch: Option<Watch>,
}

impl App {
    /// The runner at `start` (or where the learner left off, or at the
    /// first exercise not done). Logs go under `scratch`.
    pub fn new(
        course: Course,
        progress: Progress,
        start: Option<usize>,
        manual: bool,
        scratch: PathBuf,
    ) -> App {
        let current = start
            .or_else(|| progress.current.as_deref().and_then(|n| course.position(n)))
            .or_else(|| {
                course
                    .lessons
                    .iter()
                    .position(|l| progress.current_record(l).is_none_or(|r| !r.passed(l)))
            })
            .unwrap_or(0);
        let mut app = App {
            course,
            current,
            progress,
            checks: Vec::new(),
            reports: BTreeMap::new(),
            build_error: None,
            grading: None,
            last: None,
            mode: Mode::Main,
            note: None,
            scroll: 0,
            manual,
            quit: false,
            scratch,
            watch: None,
        };
        app.enter(current);
        app
    }

    pub fn lesson(&self) -> &Lesson {
        &self.course.lessons[self.current]
    }

    /// Shows exercise `index`: its last grade if that grade is for the file
    /// as it is now, and otherwise a fresh grade (not in manual mode, where
    /// `r` starts it).
    pub fn enter(&mut self, index: usize) {
        self.stop_grade();
        self.current = index;
        self.mode = Mode::Main;
        self.scroll = 0;
        self.last = None;
        self.build_error = None;
        self.reports.clear();
        let lesson = self.lesson().clone();
        self.checks = vec![Check::NotRun; lesson.checks.len()];
        self.progress.current = Some(lesson.name.clone());
        let _ = self.progress.save();
        self.watch = None;
        if !self.manual {
            match Watch::start(&lesson.folder) {
                Ok(w) => self.watch = Some(w),
                Err(e) => {
                    self.manual = true;
                    self.note =
                        Some(format!("saves cannot be watched here ({e}): press r to grade"));
                }
            }
        }
        let record = self.progress.current_record(&lesson).cloned();
        match record {
            Some(record) => self.show_record(&record),
            None if !self.manual => self.start_grade(),
            None => {
                self.note.get_or_insert_with(|| "press r to grade your file".into());
            }
        }
    }

    fn show_record(&mut self, record: &Record) {
        for (n, outcome) in &record.outcomes {
            if let Some(c) = self.checks.get_mut(*n as usize - 1) {
                *c = check_of(*outcome);
            }
        }
        if let Some(message) = &record.message {
            match (record.build_failed, record.first_failure()) {
                (true, _) => self.build_error = Some(message.clone()),
                (false, Some(n)) => {
                    self.reports.insert(n, message.clone());
                }
                _ => {}
            }
        }
        self.note = Some("graded before, on the file as it is now".into());
    }

    /// Whether the grade can measure at all: the database, where it needs one.
    pub fn missing_database(&self) -> bool {
        self.lesson().needs_database && database::url().is_none()
    }

    /// Starts the grade on the file as it is now (stopping one that runs).
    pub fn start_grade(&mut self) {
        self.stop_grade();
        if self.missing_database() {
            self.note =
                Some(format!("{} is not set: nothing to measure (see above)", database::ENV));
            return;
        }
        self.reports.clear();
        self.build_error = None;
        self.scroll = 0;
        self.checks.iter_mut().for_each(|c| *c = Check::Running);
        let _ = std::fs::create_dir_all(&self.scratch);
        match Grading::start(self.lesson(), &self.scratch) {
            Ok(g) => {
                self.grading = Some(g);
                self.note = None;
            }
            Err(e) => {
                self.checks.iter_mut().for_each(|c| *c = Check::NotRun);
                self.note = Some(format!("cannot start the grade: {e}"));
            }
        }
    }

    fn stop_grade(&mut self) {
        if let Some(mut g) = self.grading.take() {
            g.stop();
        }
    }

    /// Leaves: the grade (and the servers it started) stopped, the state saved.
    pub fn shutdown(&mut self) {
        self.stop_grade();
        let _ = self.progress.save();
    }

    /// One turn of the loop: a save starts a grade (ignored while one runs;
    /// the end of that grade looks again), and the running grade's news.
    pub fn tick(&mut self) {
        let saved = self.watch.as_ref().is_some_and(Watch::changed);
        if saved && self.grading.is_none() {
            // The last grade (the checklist's) is for these very contents:
            // nothing to learn from grading them again.
            if self.progress.current_record(self.lesson()).is_some() {
                self.note = Some("saved with no change: the checklist is for this file already (r grades it again)".into());
            } else {
                self.start_grade();
            }
        }
        let events = match self.grading.as_mut() {
            Some(g) => g.poll(),
            None => return,
        };
        for event in events {
            match event {
                GradeEvent::Verdict { n, outcome } => {
                    if let Some(c) = self.checks.get_mut(n as usize - 1) {
                        *c = check_of(outcome);
                    }
                }
                GradeEvent::Report { n, text } => {
                    self.reports.insert(n, text.trim_matches('\n').to_string());
                }
                GradeEvent::Finished(finish) => self.finished(finish),
            }
        }
    }

    fn finished(&mut self, finish: Finish) {
        let Some(grading) = self.grading.take() else { return };
        // Checks that printed no verdict (the build failed, or the grade
        // was stopped) were not run.
        for c in &mut self.checks {
            if *c == Check::Running {
                *c = Check::NotRun;
            }
        }
        self.build_error = finish.build_error.clone();
        let outcomes: BTreeMap<u32, Outcome> = self
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i as u32 + 1, outcome_of(*c)?)))
            .collect();
        let record = Record {
            fingerprint: grading.fingerprint.clone(),
            outcomes,
            build_failed: finish.build_error.is_some(),
            message: finish
                .build_error
                .clone()
                .or_else(|| self.first_report().map(|(_, m)| m.to_string())),
        };
        let passed = record.passed(self.lesson());
        self.last =
            Some(LastRun { took: finish.took, first_verdict: grading.first_verdict, passed });
        self.progress.records.insert(self.lesson().name.clone(), record);
        let _ = self.progress.save();
        self.note = Some(if finish.timed_out {
            format!(
                "the grade did not finish in {} s and was stopped",
                super::grading::TIMEOUT.as_secs()
            )
        } else if passed && self.current + 1 < self.course.lessons.len() {
            "every check passes: n for the next exercise, s for the solution's diff".into()
        } else if passed {
            "every check passes, and that was the last exercise: the course is done (s shows the solution's diff)".into()
        } else if finish.build_error.is_some() {
            "it does not build: the compiler's words are above".into()
        } else if !finish.passed && self.first_report().is_none() {
            "the grade failed outside its checks: its log is in target/learn/".into()
        } else {
            "save the file to grade it again".into()
        });
        // Saved during the grade: this result is for older contents.
        if grading.fingerprint != self.lesson().fingerprint() && !self.manual {
            self.start_grade();
            self.note = Some("the file changed during the grade: grading it again".into());
        }
    }

    /// The lowest-numbered failure with a message.
    pub fn first_report(&self) -> Option<(u32, &str)> {
        self.checks
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == Check::Failed)
            .find_map(|(i, _)| Some((i as u32 + 1, self.reports.get(&(i as u32 + 1))?.as_str())))
            .or_else(|| self.reports.iter().next().map(|(n, m)| (*n, m.as_str())))
    }

    /// Every check passed on the file as it is.
    pub fn passed(&self) -> bool {
        self.grading.is_none()
            && !self.checks.is_empty()
            && self.checks.iter().all(|c| *c == Check::Passed)
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        match self.mode.clone() {
            Mode::Main => self.main_key(key.code),
            Mode::List { selected } => self.list_key(key.code, selected),
            Mode::ConfirmReset => self.confirm_key(key.code),
            Mode::Hint { .. } | Mode::Solution { .. } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => self.scroll = self.scroll.saturating_add(1),
                KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
                KeyCode::PageDown | KeyCode::Char(' ') => {
                    self.scroll = self.scroll.saturating_add(10)
                }
                KeyCode::Char('q') => self.quit = true,
                _ => {
                    self.mode = Mode::Main;
                    self.scroll = 0;
                }
            },
        }
    }

    fn main_key(&mut self, code: KeyCode) {
        self.note = None;
        match code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('h') => self.show_hint(),
            KeyCode::Char('n') => self.next(),
            KeyCode::Char('l') => self.mode = Mode::List { selected: self.current },
            KeyCode::Char('x') => self.mode = Mode::ConfirmReset,
            KeyCode::Char('s') => self.show_solution(),
            KeyCode::Char('r') => self.start_grade(),
            KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll = self.scroll.saturating_add(1),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = self.scroll.saturating_add(10),
            _ => {}
        }
    }

    fn show_hint(&mut self) {
        let Some((check, message)) = self.first_report() else {
            self.note = Some("no failure has named a hint yet".into());
            return;
        };
        let Some(n) = hint_named(message) else {
            self.note =
                Some(format!("check {check}'s failure names no hint: its message says what to do"));
            return;
        };
        match self.lesson().hint(n) {
            Some(text) => {
                self.mode = Mode::Hint { n, text };
                self.scroll = 0;
            }
            None => self.note = Some(format!("{} has no hint {n}", self.lesson().hints.display())),
        }
    }

    fn next(&mut self) {
        let last = self.current + 1 >= self.course.lessons.len();
        if !(self.passed() || self.missing_database()) {
            self.note = Some(
                "n is offered once every check passes (l lists every exercise and jumps to one)"
                    .into(),
            );
        } else if last {
            self.note = Some("that was the last exercise".into());
        } else {
            self.enter(self.current + 1);
        }
    }

    fn show_solution(&mut self) {
        if !self.passed() {
            self.note = Some("s is offered once every check passes: until then, the hints".into());
            return;
        }
        let lesson = self.lesson();
        let (Some(solution), Ok(mine)) =
            (lesson.solution.as_ref(), std::fs::read_to_string(&lesson.file))
        else {
            self.note = Some("this exercise has no solution to compare with".into());
            return;
        };
        let Ok(theirs) = std::fs::read_to_string(solution) else {
            self.note = Some(format!("cannot read {}", solution.display()));
            return;
        };
        let diff = similar::TextDiff::from_lines(&mine, &theirs)
            .unified_diff()
            .context_radius(3)
            .header("your file", "the solution")
            .to_string();
        let diff = if diff.is_empty() {
            "Your file is the solution, to the byte.".to_string()
        } else {
            diff
        };
        self.mode = Mode::Solution { diff };
        self.scroll = 0;
    }

    fn list_key(&mut self, code: KeyCode, selected: usize) {
        let last = self.course.lessons.len() - 1;
        match code {
            KeyCode::Up | KeyCode::Char('k') => {
                self.mode = Mode::List { selected: selected.saturating_sub(1) }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.mode = Mode::List { selected: (selected + 1).min(last) }
            }
            KeyCode::Enter => self.enter(selected),
            KeyCode::Char('q') => self.quit = true,
            _ => self.mode = Mode::Main,
        }
    }

    fn confirm_key(&mut self, code: KeyCode) {
        self.mode = Mode::Main;
        if code != KeyCode::Char('y') {
            self.note = Some("reset cancelled: your file is as it was".into());
            return;
        }
        let lesson = self.lesson().clone();
        match lesson.pristine_text() {
            Ok(text) => match std::fs::write(&lesson.file, text) {
                Ok(()) => {
                    self.note =
                        Some(format!("{} is as given again", lesson.shown_path(&self.course.root)));
                    // The watcher sees the write; in manual mode nothing would.
                    if self.manual || self.grading.is_some() {
                        self.start_grade();
                    }
                }
                Err(e) => self.note = Some(format!("cannot write {}: {e}", lesson.file.display())),
            },
            Err(e) => self.note = Some(format!("cannot reset: {e}; your file is as it was")),
        }
    }

    /// What the runner says where the grade cannot measure: the grade's own words.
    pub fn database_words(&self) -> String {
        format!(
            "This exercise's grade measures a real PostgreSQL, and {} is not set: a grade that passed \
             without measuring would lie. To get one: {GET_A_DATABASE} Start `kit learn` again in that \
             shell. n skips to the next exercise.",
            database::ENV
        )
    }
}

fn check_of(outcome: Outcome) -> Check {
    match outcome {
        Outcome::Ok => Check::Passed,
        Outcome::Failed => Check::Failed,
        Outcome::Ignored => Check::Ignored,
    }
}

fn outcome_of(check: Check) -> Option<Outcome> {
    match check {
        Check::Passed => Some(Outcome::Ok),
        Check::Failed => Some(Outcome::Failed),
        Check::Ignored => Some(Outcome::Ignored),
        Check::NotRun | Check::Running => None,
    }
}

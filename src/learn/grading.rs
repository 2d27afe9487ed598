//! One run of an exercise's grade, read as it goes: each check's verdict
//! as libtest prints its line, each failure's message as the check writes
//! it (`KIT_GRADE_REPORTS`), and at the end what the whole log says (the
//! reports of checks that failed some other way, or the compiler's error).
//!
//! The grade runs in a process group of its own, with its output in a log
//! file; dropping a [`Grading`] that has not finished kills the group, so
//! no grade and no server it started outlive the runner.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use kit_measure::grade::failure::REPORTS_ENV;
use kit_measure::harness;

use super::course::Lesson;
use crate::support::grade_log::{self, Outcome};

/// A grade that has not finished after this long is stopped (the build included).
pub const TIMEOUT: Duration = Duration::from_secs(600);

/// What a running grade has said since the last look.
#[derive(Clone, Debug, PartialEq)]
pub enum GradeEvent {
    Verdict { n: u32, outcome: Outcome },
    Report { n: u32, text: String },
    Finished(Finish),
}

/// How a grade ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Finish {
    pub passed: bool,
    /// The compiler's (or cargo's) error, where the grade did not build.
    pub build_error: Option<String>,
    pub timed_out: bool,
    pub took: Duration,
}

pub struct Grading {
    child: Option<Child>,
    log: PathBuf,
    reports: PathBuf,
    read: u64,
    partial: Vec<u8>,
    reported: BTreeSet<u32>,
    failed: BTreeSet<u32>,
    started: Instant,
    /// The fingerprint of the sources this grade runs on.
    pub fingerprint: String,
    /// When the first verdict came, from the start.
    pub first_verdict: Option<Duration>,
}

impl Grading {
    /// Starts `lesson`'s grade; its log and reports go under `scratch`.
    pub fn start(lesson: &Lesson, scratch: &Path) -> std::io::Result<Grading> {
        let log = scratch.join(format!("{}.log", lesson.name));
        let reports = scratch.join(format!("{}-reports", lesson.name));
        let _ = std::fs::remove_dir_all(&reports);
        std::fs::create_dir_all(&reports)?;
        let fingerprint = lesson.fingerprint();
        let (program, args) = lesson.grade.split_first().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no grade command")
        })?;
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(&lesson.folder).env(REPORTS_ENV, &reports);
        let child = grade_log::spawn_logged(cmd, &log)?;
        Ok(Grading {
            child: Some(child),
            log,
            reports,
            read: 0,
            partial: Vec::new(),
            reported: BTreeSet::new(),
            failed: BTreeSet::new(),
            started: Instant::now(),
            fingerprint,
            first_verdict: None,
        })
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The grade's whole log so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// What the grade said since the last call; [`GradeEvent::Finished`] once, last.
    pub fn poll(&mut self) -> Vec<GradeEvent> {
        let Some(child) = self.child.as_mut() else {
            return Vec::new();
        };
        // Whether it ended is asked before the log is read, so that the
        // last read holds everything it printed.
        let ended = child.try_wait().ok().flatten();
        let timed_out = ended.is_none() && self.started.elapsed() > TIMEOUT;
        let mut events = Vec::new();
        for line in self.new_lines() {
            if let Some(check) = grade_log::check_line(&line) {
                if check.outcome == Outcome::Failed {
                    self.failed.insert(check.n);
                }
                self.first_verdict.get_or_insert(self.started.elapsed());
                events.push(GradeEvent::Verdict { n: check.n, outcome: check.outcome });
            }
        }
        events.extend(self.new_reports());
        if ended.is_none() && !timed_out {
            return events;
        }
        if timed_out {
            self.stop();
        }
        let log = self.log_text();
        // Failures that did not write a report (a panic elsewhere than the
        // grade's own `fail`): libtest's report from the log.
        if let Some(section) = grade_log::grade_section(&log) {
            for &n in self.failed.difference(&self.reported.clone()) {
                if let Some(text) = grade_log::failure_report(section, n) {
                    self.reported.insert(n);
                    events.push(GradeEvent::Report { n, text: text.to_string() });
                }
            }
        }
        self.child = None;
        events.push(GradeEvent::Finished(Finish {
            passed: ended.is_some_and(|s| s.success()),
            build_error: grade_log::build_error(&log),
            timed_out,
            took: self.started.elapsed(),
        }));
        events
    }

    /// Complete lines appended to the log since the last read.
    fn new_lines(&mut self) -> Vec<String> {
        let Ok(mut file) = std::fs::File::open(&self.log) else {
            return Vec::new();
        };
        let mut fresh = Vec::new();
        if file.seek(SeekFrom::Start(self.read)).is_err() || file.read_to_end(&mut fresh).is_err() {
            return Vec::new();
        }
        self.read += fresh.len() as u64;
        self.partial.extend_from_slice(&fresh);
        let Some(last) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=last).collect();
        String::from_utf8_lossy(&complete).lines().map(str::to_owned).collect()
    }

    /// Reports the checks wrote since the last look, by check number.
    fn new_reports(&mut self) -> Vec<GradeEvent> {
        let mut events = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.reports) else {
            return events;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(n) = name
                .strip_prefix("check_")
                .and_then(|rest| rest.split('_').next())
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if self.reported.contains(&n) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                self.reported.insert(n);
                events.push(GradeEvent::Report { n, text });
            }
        }
        events.sort_by_key(|e| match e {
            GradeEvent::Report { n, .. } => *n,
            _ => 0,
        });
        events
    }

    /// Stops the grade and whatever it started.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            harness::signal_group(child.id(), libc::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Grading {
    fn drop(&mut self) {
        self.stop();
    }
}

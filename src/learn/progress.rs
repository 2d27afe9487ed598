//! Where a learner stands, kept between runs of `kit learn` in a state file
//! that git ignores (`.kit-learn.json` at the repository root).
//!
//! A result is only trusted for the contents it was measured on: each
//! exercise's record holds the fingerprint of its sources when it was
//! graded, and a record whose fingerprint is no longer the file's says
//! "edited since its last grade", never "done".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::course::{Course, Lesson};
use crate::support::grade_log::Outcome;

/// The state file's name, at the repository root (listed in .gitignore).
pub const STATE_FILE: &str = ".kit-learn.json";

/// The last grade of one exercise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`Lesson::fingerprint`] of the sources the grade ran on.
    pub fingerprint: String,
    /// Each check's outcome, by number.
    pub outcomes: BTreeMap<u32, Outcome>,
    /// The grade did not build.
    pub build_failed: bool,
    /// The first failure's message (or the compiler's error), to show again.
    #[serde(default)]
    pub message: Option<String>,
}

impl Record {
    /// Every check of `lesson` passed.
    pub fn passed(&self, lesson: &Lesson) -> bool {
        !self.build_failed
            && (1..=lesson.checks.len() as u32).all(|n| self.outcomes.get(&n) == Some(&Outcome::Ok))
    }

    /// The lowest-numbered check that failed.
    pub fn first_failure(&self) -> Option<u32> {
        self.outcomes.iter().find(|(_, o)| **o == Outcome::Failed).map(|(n, _)| *n)
    }
}

/// Where one exercise stands, as `kit learn --status` says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    NotStarted,
    Done,
    FailingOn(u32),
    DoesNotBuild,
    /// Graded, but not to the end (the runner was left mid-grade).
    Unfinished,
    /// The file changed since its last grade: that grade says nothing now.
    Edited,
}

impl Standing {
    pub fn words(&self) -> String {
        match self {
            Standing::NotStarted => "not started".into(),
            Standing::Done => "done".into(),
            Standing::FailingOn(n) => format!("failing on check {n}"),
            Standing::DoesNotBuild => "does not build".into(),
            Standing::Unfinished => "graded in part".into(),
            Standing::Edited => "edited since its last grade".into(),
        }
    }
}

/// The whole state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    /// The exercise the runner shows when it starts.
    pub current: Option<String>,
    pub records: BTreeMap<String, Record>,
    #[serde(skip)]
    path: PathBuf,
}

impl Progress {
    /// The state under `root`, or a fresh one where there is none. A state
    /// file that cannot be read is set aside (renamed `.bad`), never lost.
    pub fn load(root: &Path) -> Progress {
        Progress::load_file(&root.join(STATE_FILE))
    }

    /// The state in the file at `path` (see [`Progress::load`]).
    pub fn load_file(path: &Path) -> Progress {
        let path = path.to_path_buf();
        let loaded = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str::<Progress>(&text).ok().or_else(|| {
                let _ = std::fs::rename(&path, path.with_extension("json.bad"));
                None
            }),
            Err(_) => None,
        };
        Progress { path, ..loaded.unwrap_or_default() }
    }

    /// Writes the state file whole (to a temporary name, then renamed).
    pub fn save(&self) -> std::io::Result<()> {
        let partial = self.path.with_extension("json.partial");
        std::fs::write(&partial, serde_json::to_string_pretty(self).unwrap_or_default())?;
        std::fs::rename(partial, &self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `lesson` stands, trusting a record only for the current contents.
    pub fn standing(&self, lesson: &Lesson) -> Standing {
        let Some(record) = self.records.get(&lesson.name) else {
            return Standing::NotStarted;
        };
        if record.fingerprint != lesson.fingerprint() {
            Standing::Edited
        } else if record.build_failed {
            Standing::DoesNotBuild
        } else if let Some(n) = record.first_failure() {
            Standing::FailingOn(n)
        } else if record.passed(lesson) {
            Standing::Done
        } else {
            Standing::Unfinished
        }
    }

    /// The record of `lesson`, if it is for the current contents.
    pub fn current_record(&self, lesson: &Lesson) -> Option<&Record> {
        self.records.get(&lesson.name).filter(|r| r.fingerprint == lesson.fingerprint())
    }

    /// The lines of `kit learn --status`: one per exercise.
    pub fn status_lines(&self, course: &Course) -> Vec<String> {
        let width = course.lessons.iter().map(|l| l.name.len()).max().unwrap_or(0);
        course
            .lessons
            .iter()
            .map(|l| format!("{:width$}  {}", l.name, self.standing(l).words()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// git ignores the state file: a learner's progress is never committed
    /// by accident, and `x` (which reads git) never sees it.
    #[test]
    fn git_ignores_the_state_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in [STATE_FILE.to_string(), format!("{STATE_FILE}.partial")] {
            let status = std::process::Command::new("git")
                .arg("-C")
                .arg(root)
                .args(["check-ignore", "--no-index", "-q", &file])
                .status()
                .expect("git runs (it is needed to check .gitignore)");
            assert!(status.success(), "git does not ignore {file}: add it to .gitignore");
        }
    }

    #[test]
    fn a_state_file_that_cannot_be_read_is_set_aside_not_lost() {
        let dir = std::env::temp_dir().join(format!("kit-learn-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(&path, "{ not json").unwrap();
        let progress = Progress::load_file(&path);
        assert!(progress.records.is_empty() && progress.current.is_none());
        assert_eq!(std::fs::read_to_string(path.with_extension("json.bad")).unwrap(), "{ not json");
        progress.save().unwrap();
        assert!(Progress::load_file(&path).records.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

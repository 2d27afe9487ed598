//! The course `kit learn` walks: the registry's exercises, in course order,
//! with the paths the runner needs (the learner's file, its hints, the
//! solution, how to grade it and where its pristine state comes from).
//!
//! A test builds a course of its own (a temporary copy of an exercise and a
//! grade command of its choosing); the runner does not care which.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use kit_measure::exercises::{Exercise, Needs, EXERCISES};

/// The root of the repository: where `cargo run` was started from (its
/// CARGO_MANIFEST_DIR), where the kit was built, or the current folder.
/// `command` names what needs it, for the error.
pub fn repository_root(command: &str) -> Result<PathBuf, String> {
    let candidates = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        std::env::current_dir().ok(),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("exercises").is_dir() && dir.join("solutions").is_dir())
        .ok_or_else(|| {
            format!("run `{command}` from the repository root (no exercises/ and solutions/ here)")
        })
}

/// One exercise as the runner sees it.
#[derive(Clone, Debug)]
pub struct Lesson {
    pub name: String,
    /// One sentence: what is wrong with the server, as the learner meets it.
    pub story: String,
    /// The exercise's folder.
    pub folder: PathBuf,
    /// The file to edit.
    pub file: PathBuf,
    /// The solution's copy of that file, shown by `s` once the exercise passes.
    pub solution: Option<PathBuf>,
    pub hints: PathBuf,
    /// The checks' titles, in order (check n is `checks[n - 1]`).
    pub checks: Vec<String>,
    /// Set when the grade measures a real PostgreSQL.
    pub needs_database: bool,
    /// The command that grades it, run in `folder`.
    pub grade: Vec<OsString>,
    /// Where `x` takes the pristine file from.
    pub pristine: Pristine,
}

/// The exercise as given, before the learner's changes.
#[derive(Clone, Debug)]
pub enum Pristine {
    /// The file as git holds it: at the branch's upstream (`origin/main` in a
    /// clone), so that a learner who commits their work can still reset;
    /// at HEAD where the branch tracks nothing.
    Git { repo: PathBuf },
}

/// The course: every lesson, in order.
#[derive(Clone, Debug)]
pub struct Course {
    /// Where the state file lives (the repository root).
    pub root: PathBuf,
    pub lessons: Vec<Lesson>,
}

impl Course {
    /// The registry's exercises under the repository at `root`.
    pub fn from_registry(root: &Path) -> Course {
        Course {
            root: root.to_path_buf(),
            lessons: EXERCISES.iter().map(|e| lesson(root, e)).collect(),
        }
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.lessons.iter().position(|l| l.name == name)
    }
}

fn lesson(root: &Path, e: &Exercise) -> Lesson {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Lesson {
        name: e.name.to_string(),
        story: e.story.to_string(),
        folder: root.join(e.folder),
        file: root.join(e.folder).join(e.file()),
        solution: Some(root.join(e.solution).join(e.file())),
        hints: root.join(e.folder).join("HINTS.md"),
        checks: (1..=e.check_count()).filter_map(|n| e.check_title(n)).collect(),
        needs_database: e.needs == Needs::Database,
        // Every check starts at once, as libtest does by itself on a laptop
        // with as many cores: the first verdict is the quickest check's, not
        // the second of two slow ones. The grade's own lock still runs the
        // CPU-heavy checks alone.
        grade: vec![
            cargo,
            "test".into(),
            "--release".into(),
            "--".into(),
            format!("--test-threads={}", e.check_count()).into(),
        ],
        pristine: Pristine::Git { repo: root.to_path_buf() },
    }
}

impl Lesson {
    /// What the grade's result depends on: the learner's file and the
    /// manifest (a learner may add a dependency). A result is trusted only
    /// for the contents it was measured on.
    pub fn sources(&self) -> Vec<PathBuf> {
        vec![self.file.clone(), self.folder.join("Cargo.toml")]
    }

    /// A fingerprint of [`Lesson::sources`] as they are now (FNV-1a: stable
    /// across builds of the kit, unlike std's hasher).
    pub fn fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for path in self.sources() {
            let bytes = std::fs::read(&path).unwrap_or_default();
            for b in bytes.iter().chain(path.as_os_str().as_encoded_bytes()).chain([&0u8]) {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }

    /// The file as given. An error says why it cannot be had.
    pub fn pristine_text(&self) -> Result<String, String> {
        match &self.pristine {
            Pristine::Git { repo } => {
                let relative = self.file.strip_prefix(repo).map_err(|_| {
                    format!("{} is not inside {}", self.file.display(), repo.display())
                })?;
                let relative = relative.to_string_lossy().replace('\\', "/");
                let git = |args: &[&str]| {
                    Command::new("git")
                        .arg("-C")
                        .arg(repo)
                        .args(args)
                        .output()
                        .ok()
                        .filter(|o| o.status.success())
                };
                let base = if git(&["rev-parse", "--verify", "--quiet", "@{upstream}"]).is_some() {
                    "@{upstream}"
                } else {
                    "HEAD"
                };
                let shown = git(&["show", &format!("{base}:{relative}")]).ok_or_else(|| {
                    format!("git has no {relative} at {base} (is this a git clone of the kit?)")
                })?;
                String::from_utf8(shown.stdout)
                    .map_err(|_| format!("{relative} at {base} is not text"))
            }
        }
    }

    /// Hint `n` from HINTS.md: its `## Hint n` section, heading included.
    pub fn hint(&self, n: u32) -> Option<String> {
        let text = std::fs::read_to_string(&self.hints).ok()?;
        hint_in(&text, n)
    }

    /// The file as the learner can click it: relative to `root` where it can be.
    pub fn shown_path(&self, root: &Path) -> String {
        self.file.strip_prefix(root).unwrap_or(&self.file).display().to_string()
    }
}

/// The `## Hint n` section of a HINTS.md text, up to the next `## ` heading.
pub fn hint_in(text: &str, n: u32) -> Option<String> {
    let heading = format!("## Hint {n}:");
    let start = text
        .lines()
        .position(|l| l.starts_with(&heading) || l.trim_end() == format!("## Hint {n}"))?;
    let lines: Vec<&str> = text.lines().skip(start).collect();
    let end =
        lines.iter().skip(1).position(|l| l.starts_with("## ")).map_or(lines.len(), |i| i + 1);
    Some(lines[..end].join("\n").trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_is_its_section_and_nothing_else() {
        let text = "# Hints\n\nintro\n\n## Hint 1: one\nfirst\n\n## Hint 2: two\nsecond\nmore\n\n## Hint 12: twelve\nlast\n";
        assert_eq!(hint_in(text, 1).unwrap(), "## Hint 1: one\nfirst");
        assert_eq!(hint_in(text, 2).unwrap(), "## Hint 2: two\nsecond\nmore");
        assert_eq!(hint_in(text, 12).unwrap(), "## Hint 12: twelve\nlast");
        assert_eq!(hint_in(text, 3), None);
    }

    #[test]
    fn the_registry_course_has_every_exercise_and_its_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let course = Course::from_registry(root);
        assert_eq!(course.lessons.len(), EXERCISES.len());
        for lesson in &course.lessons {
            assert!(lesson.file.is_file(), "{}", lesson.file.display());
            assert!(lesson.solution.as_ref().is_some_and(|s| s.is_file()), "{}", lesson.name);
            // Every hint a grade can name is there: hint 1 at least.
            assert!(lesson.hint(1).is_some(), "{} has no hint 1", lesson.name);
            assert!(!lesson.checks.is_empty() && !lesson.story.is_empty());
        }
        assert_eq!(course.position("pool"), Some(EXERCISES.len() - 1));
        assert!(course.lessons[course.position("pool").unwrap()].needs_database);
    }

    #[test]
    fn the_fingerprint_follows_the_contents() {
        let dir = std::env::temp_dir().join(format!("kit-learn-fp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]").unwrap();
        std::fs::write(dir.join("src/main.rs"), "fn main() {}").unwrap();
        let mut lesson =
            Course::from_registry(Path::new(env!("CARGO_MANIFEST_DIR"))).lessons[0].clone();
        lesson.folder = dir.clone();
        lesson.file = dir.join("src/main.rs");
        let before = lesson.fingerprint();
        assert_eq!(lesson.fingerprint(), before, "the same contents, the same fingerprint");
        std::fs::write(dir.join("src/main.rs"), "fn main() { }").unwrap();
        assert_ne!(lesson.fingerprint(), before);
        std::fs::write(dir.join("src/main.rs"), "fn main() {}").unwrap();
        assert_eq!(lesson.fingerprint(), before, "a change undone is the graded contents again");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

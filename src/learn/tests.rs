//! The runner driven without a terminal: the loop on a temporary copy of an
//! exercise (a save, the grade rerun, the checklist changing, `x` putting
//! the pristine file back), and the screen's snapshots on ratatui's test
//! backend for a failing, a passing and a compile-error state.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;

use super::app::{App, Check, LastRun, Mode};
use super::course::{Course, Lesson, Pristine};
use super::progress::{Progress, Standing};

/// The repository this crate is in.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("kit-learn-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir.canonicalize().unwrap())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A stand-in for the trap's grade, speaking the real one's protocol: libtest's
/// lines as each check ends, and the failing check's report written into
/// KIT_GRADE_REPORTS before its line. It passes on the solution's file only,
/// and does not build on a file that says so.
const GRADE: &str = r#"#!/bin/sh
echo "   Compiling trap-exercise v0.1.0"
if grep -q "DOES NOT BUILD" src/main.rs; then
  printf 'error[E0425]: cannot find value `x` in this scope\n --> src/main.rs:1:1\n\nerror: could not compile `trap-exercise` (bin "trap") due to 1 previous error\n'
  exit 101
fi
echo "     Running tests/grade.rs (target/release/deps/grade-0)"
echo ""
echo "running 5 tests"
echo "test check_5_responses_keep_the_contract ... ok"
if cmp -s src/main.rs ../../solutions/trap/src/main.rs; then
  for check in 1_parallel_requests_and_their_waits_overlap 2_multi_io_and_db_scale_the_same_way \
               3_cpu_work_does_not_stall_the_runtime 4_it_cannot_be_gamed_with_threads; do
    echo "test check_$check ... ok"
  done
  exit 0
fi
printf '\n\n✗ 100 x /parallel did not overlap\n  measured: peak_in_flight 4 (exact)\n  next: read HINTS.md, hint 1 (and the ones before it).\n\n' \
  > "$KIT_GRADE_REPORTS/check_1_parallel_requests_and_their_waits_overlap"
echo "test check_1_parallel_requests_and_their_waits_overlap ... FAILED"
for check in 2_multi_io_and_db_scale_the_same_way 3_cpu_work_does_not_stall_the_runtime \
             4_it_cannot_be_gamed_with_threads; do
  echo "test check_$check ... ok"
done
exit 101
"#;

/// A git repository holding a copy of the trap and its solution, and the course of it.
fn copy_of_the_trap(scratch: &Path) -> Course {
    let from = repo();
    for file in [
        "exercises/trap/src/main.rs",
        "exercises/trap/Cargo.toml",
        "exercises/trap/HINTS.md",
        "solutions/trap/src/main.rs",
    ] {
        let to = scratch.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from.join(file), &to).unwrap();
    }
    std::fs::write(scratch.join("grade.sh"), GRADE).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(scratch)
            .args([
                "-c",
                "user.name=kit",
                "-c",
                "user.email=kit@localhost",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "the exercise as given"]);
    let real = Course::from_registry(&from);
    let trap = &real.lessons[real.position("trap").unwrap()];
    let folder = scratch.join("exercises/trap");
    Course {
        root: scratch.to_path_buf(),
        lessons: vec![Lesson {
            folder: folder.clone(),
            file: folder.join("src/main.rs"),
            solution: Some(scratch.join("solutions/trap/src/main.rs")),
            hints: folder.join("HINTS.md"),
            grade: vec!["sh".into(), scratch.join("grade.sh").into()],
            pristine: Pristine::Git { repo: scratch.to_path_buf() },
            ..trap.clone()
        }],
    }
}

/// Ticks the app until `done` holds, or fails after `limit` saying what it waited for.
fn tick_until(app: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let started = Instant::now();
    while !done(app) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}; checks {:?}, note {:?}",
            app.checks,
            app.note
        );
        app.tick();
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn key(app: &mut App, c: char) {
    app.on_key(KeyEvent::from(KeyCode::Char(c)));
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| {
            super::screen::draw(f, app);
        })
        .unwrap();
    terminal.backend().to_string()
}

const FAILING: [Check; 5] =
    [Check::Failed, Check::Passed, Check::Passed, Check::Passed, Check::Passed];

#[test]
fn a_save_regrades_and_x_puts_the_pristine_file_back() {
    let scratch = Scratch::new("loop");
    let course = copy_of_the_trap(&scratch.0);
    let file = course.lessons[0].file.clone();
    let pristine = std::fs::read_to_string(&file).unwrap();
    let solution = std::fs::read_to_string(scratch.0.join("solutions/trap/src/main.rs")).unwrap();
    let progress = Progress::load_file(&scratch.0.join("state.json"));
    let mut app = App::new(course, progress, None, false, scratch.0.join("logs"));

    // Entering an exercise with no grade for its contents grades it.
    assert!(app.grading.is_some(), "no grade started on entering the exercise");
    tick_until(&mut app, "the pristine file's grade", |a| a.grading.is_none());
    assert_eq!(app.checks, FAILING);
    let (n, message) = app.first_report().expect("check 1's message");
    assert_eq!(n, 1);
    assert!(message.contains("peak_in_flight 4 (exact)"), "{message}");
    assert!(!app.passed());
    let shown = screen(&app);
    assert!(
        shown.contains("✗ 1 parallel requests and their waits overlap")
            && shown.contains("peak_in_flight 4"),
        "{shown}"
    );
    assert!(
        !shown.contains("n next exercise") && !shown.contains("s the solution"),
        "n and s are offered only once every check passes:\n{shown}"
    );

    // h: the hint that failure named, and only that one.
    key(&mut app, 'h');
    match &app.mode {
        Mode::Hint { n: 1, text } => {
            assert!(text.starts_with("## Hint 1:") && !text.contains("## Hint 2"), "{text}")
        }
        other => panic!("h showed {other:?}"),
    }
    key(&mut app, 'h');
    assert_eq!(app.mode, Mode::Main, "any key goes back");

    // n and s before the exercise passes: refused, with the reason.
    for refused in ['s', 'n'] {
        key(&mut app, refused);
        assert_eq!((app.mode.clone(), app.current), (Mode::Main, 0));
        assert!(
            app.note.as_deref().unwrap_or_default().contains("once every check passes"),
            "{:?}",
            app.note
        );
    }

    // A save of the fixed file: the grade reruns and the checklist turns.
    std::fs::write(&file, &solution).unwrap();
    tick_until(&mut app, "the grade of the save", |a| a.grading.is_some());
    tick_until(&mut app, "every check to pass", |a| a.passed());
    assert_eq!(app.checks, [Check::Passed; 5]);
    assert!(app.first_report().is_none());
    let shown = screen(&app);
    assert!(
        shown.contains("n next exercise") && shown.contains("s the solution's diff"),
        "{shown}"
    );
    assert_eq!(app.progress.standing(app.lesson()), Standing::Done);
    key(&mut app, 's');
    assert_eq!(app.mode, Mode::Solution { diff: "Your file is the solution, to the byte.".into() });
    key(&mut app, 'q');
    assert!(app.quit, "q quits from any page");
    app.quit = false;
    app.mode = Mode::Main;

    // x asks first; anything but y keeps the file.
    key(&mut app, 'x');
    assert_eq!(app.mode, Mode::ConfirmReset);
    key(&mut app, 'n');
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        solution,
        "x then n must not touch the file"
    );
    key(&mut app, 'x');
    key(&mut app, 'y');
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        pristine,
        "x then y puts the file as given back"
    );
    tick_until(&mut app, "the grade of the reset file", |a| {
        a.grading.is_none() && a.checks == FAILING
    });
    assert_eq!(app.progress.standing(app.lesson()), Standing::FailingOn(1));

    // The state file holds it, trusted only for these contents.
    let reloaded = Progress::load_file(&scratch.0.join("state.json"));
    assert_eq!(reloaded.standing(app.lesson()), Standing::FailingOn(1));
    std::fs::write(&file, format!("{pristine}\n// an edit\n")).unwrap();
    assert_eq!(reloaded.standing(app.lesson()), Standing::Edited);
    app.shutdown();
}

#[test]
fn a_file_that_does_not_build_shows_the_compiler_and_no_checks() {
    let scratch = Scratch::new("build");
    let course = copy_of_the_trap(&scratch.0);
    let file = course.lessons[0].file.clone();
    std::fs::write(&file, "DOES NOT BUILD").unwrap();
    let progress = Progress::load_file(&scratch.0.join("state.json"));
    let mut app = App::new(course, progress, None, true, scratch.0.join("logs"));
    assert!(app.grading.is_none(), "--manual-run grades on r only");
    key(&mut app, 'r');
    tick_until(&mut app, "the grade", |a| a.grading.is_none());
    assert_eq!(app.checks, [Check::NotRun; 5]);
    let error = app.build_error.clone().expect("the compiler's error");
    assert!(error.starts_with("error[E0425]") && !error.contains("Compiling"), "{error}");
    assert_eq!(app.progress.standing(app.lesson()), Standing::DoesNotBuild);
}

/// The registry's course, with a state file of the test's own.
fn registry_app(scratch: &Scratch) -> App {
    let course = Course::from_registry(&repo());
    let progress = Progress::load_file(&scratch.0.join("state.json"));
    App::new(course, progress, Some(0), true, scratch.0.join("logs"))
}

/// Check 1's message as the grade wrote it on the pristine trap (a real run
/// on this machine): its lines are wider than the screen, and none is cut.
const REPORT: &str = "✗ 100 concurrent /parallel did not finish in one round of one io wait
  measured: 5.212 s for 100 x /parallel; 200 ms per request inside its handler (the server's own p50, from /metrics); peak_in_flight 4 (exact: the most requests inside handlers at the same moment)
  slot model: 100 requests of 200 ms on 4 slots = 25 rounds x 200 ms = 5.000 s; measured 100 x 200 ms / 5.212 s = about 3.8 requests waiting at once
  meaning: only 4 requests were ever inside handlers at once: 4 slots. Something holds a thread while it waits: a blocking sleep or call inside an async fn, or a handful of threads that every request is handed to.
  goal: 1 round of 100 ms, peak_in_flight 100
  next: read HINTS.md, hint 1 (and the ones before it).";

#[test]
fn the_screen_of_a_failing_grade() {
    let scratch = Scratch::new("snap-failing");
    let mut app = registry_app(&scratch);
    app.checks = FAILING.to_vec();
    app.checks[1] = Check::Failed;
    app.reports.insert(1, REPORT.into());
    app.reports.insert(2, "✗ the second failure".into());
    app.last = Some(LastRun {
        took: Duration::from_millis(30_400),
        first_verdict: Some(Duration::from_millis(3_600)),
        passed: false,
    });
    app.note = Some("save the file to grade it again".into());
    let shown = screen(&app);
    assert!(!shown.contains("the second failure"), "the first failure only:\n{shown}");
    // Every word of the message is on the screen, in order, the last one included.
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let rows: Vec<&str> = shown.lines().map(|l| l.trim_matches('"')).collect();
    let body = rows.iter().position(|r| r.starts_with(" check 1 fails")).expect("the rule") + 1;
    assert!(words(&rows[body..].join("\n")).contains(&words(REPORT)), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn the_screen_of_a_passing_grade() {
    let scratch = Scratch::new("snap-passing");
    let mut app = registry_app(&scratch);
    app.checks = vec![Check::Passed; 5];
    app.last = Some(LastRun {
        took: Duration::from_millis(7_700),
        first_verdict: Some(Duration::from_millis(3_100)),
        passed: true,
    });
    app.note =
        Some("every check passes: n for the next exercise, s for the solution's diff".into());
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_screen_of_a_file_that_does_not_build() {
    let scratch = Scratch::new("snap-build");
    let mut app = registry_app(&scratch);
    app.build_error = Some(
        "error[E0425]: cannot find value `wait` in this scope\n  --> src/main.rs:48:24\n   |\n48 |     tokio::time::sleep(wait).await;\n   |                        ^^^^ not found in this scope\n\nerror: could not compile `trap-exercise` (bin \"trap\") due to 1 previous error".into(),
    );
    app.last =
        Some(LastRun { took: Duration::from_millis(2_100), first_verdict: None, passed: false });
    app.note = Some("it does not build: the compiler's words are above".into());
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_list_marks_each_exercise_and_jumps() {
    let scratch = Scratch::new("list");
    let mut app = registry_app(&scratch);
    key(&mut app, 'l');
    assert_eq!(app.mode, Mode::List { selected: 0 });
    let shown = screen(&app);
    for lesson in &app.course.lessons {
        assert!(shown.contains(&lesson.name), "{} missing:\n{shown}", lesson.name);
    }
    assert!(shown.contains("not started"), "{shown}");
    app.on_key(KeyEvent::from(KeyCode::Down));
    app.on_key(KeyEvent::from(KeyCode::Enter));
    assert_eq!((app.current, &app.mode), (1, &Mode::Main));
    assert_eq!(app.lesson().name, "wrapper");
}

//! `kit demo` end to end: the whole guided walk on the real server binaries,
//! with a small burst (N = 8, io = 50 ms) so a run takes a few seconds, the
//! presenter's Enter key played from a byte buffer, and the screen captured
//! in a Vec<u8>.
//!
//! The live runs take turns (the lock below): two demos bursting and
//! burning CPU side by side on 2 cores would blur each other's figures.
//! Every test is bounded in time, so a demo that waits for input it will
//! never get fails instead of hanging.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kit::walkthrough::{run, DemoError, DemoOptions, COLUMNS, ROWS};

const LIMIT: Duration = Duration::from_secs(20);
/// Step 7's header-read timeout in these tests.
const IDLE_TIMEOUT_MS: u64 = 600;
const TITLES: [&str; 8] = [
    "Step 1 of 8: The slot model",
    "Step 2 of 8: sync-blocking",
    "Step 3 of 8: async-trap",
    "Step 4 of 8: blocking-wrapper",
    "Step 5 of 8: async-native",
    "Step 6 of 8: CPU work",
    "Step 7 of 8: Idle clients",
    "Step 8 of 8: Summary",
];

/// The folder cargo built the servers into (`cargo test --release` at the root builds
/// the kit-servers package beside this one).
fn bin_dir() -> PathBuf {
    let native =
        kit_measure::harness::sibling_binary("async-native").unwrap_or_else(|e| panic!("{e}"));
    native.parent().expect("a binary has a folder").to_path_buf()
}

fn small(yes: bool, bin_dir: PathBuf) -> DemoOptions {
    DemoOptions {
        yes,
        io_ms: 50,
        n: 8,
        cpu_probe_ms: 1000,
        idle_timeout_ms: IDLE_TIMEOUT_MS,
        ..DemoOptions::new(bin_dir)
    }
}

/// Runs the demo on its own thread; fails the test past `LIMIT`.
fn demo(opts: DemoOptions, input: &'static str) -> (Result<(), DemoError>, String) {
    let _turn = crate::common::measuring_alone();
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let mut screen = Vec::new();
        let result = run(&opts, &mut Cursor::new(input.as_bytes()), &mut screen);
        let _ = tx.send((result, String::from_utf8_lossy(&screen).into_owned()));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(done) => {
            eprintln!("demo took {:.2?}", started.elapsed());
            done
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the demo did not finish within {LIMIT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the demo panicked (see its message above)")
        }
    }
}

/// The text of step `number`, up to the next step's title.
fn step(screen: &str, number: usize) -> &str {
    let from =
        screen.find(TITLES[number - 1]).unwrap_or_else(|| panic!("no step {number} in:\n{screen}"));
    let rest = &screen[from..];
    let to = TITLES.get(number).and_then(|next| rest.find(next)).unwrap_or(rest.len());
    &rest[..to]
}

/// The measured figure on a step's `peak_in_flight` line (the last column).
fn measured_peak(screen: &str, number: usize) -> String {
    let text = step(screen, number);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("peak_in_flight"))
        .unwrap_or_else(|| panic!("step {number} shows no peak_in_flight line:\n{text}"));
    line.split_whitespace().last().unwrap_or_default().to_string()
}

/// Every line fits the projector's width, and no more than its height goes
/// by between two presses of Enter (a prompt ends a screen).
fn assert_fits(screen: &str) {
    let mut rows = 0;
    for line in screen.lines() {
        assert!(
            line.chars().count() <= COLUMNS,
            "{} columns: `{line}` in:\n{screen}",
            line.chars().count()
        );
        rows += 1;
        if line.starts_with("press Enter") {
            assert!(rows <= ROWS, "{rows} rows up to `{line}` in:\n{screen}");
            rows = 0;
        }
    }
    assert!(rows <= ROWS, "{rows} rows after the last prompt in:\n{screen}");
}

fn assert_complete(screen: &str) {
    for title in TITLES {
        assert!(screen.contains(title), "missing `{title}` in:\n{screen}");
    }
    assert!(screen.contains("| variant"), "no summary table in:\n{screen}");
    for server in ["sync-blocking", "async-trap", "blocking-wrapper", "async-native"] {
        assert!(
            step(screen, 8).contains(&format!("| {server}")),
            "the table has no {server} row:\n{screen}"
        );
    }
    assert!(
        screen.contains("cd exercises/trap && cargo test --release"),
        "no next step in:\n{screen}"
    );
}

#[test]
fn demo_with_yes_runs_all_eight_steps_and_shows_4_slots_then_8_in_flight() {
    let (result, screen) = demo(small(true, bin_dir()), "");
    result.unwrap_or_else(|e| panic!("{e}\n{screen}"));
    assert_complete(&screen);
    assert!(!screen.contains("press Enter"), "--yes must never wait:\n{screen}");
    for (number, peak) in [(2, "4"), (3, "4"), (4, "4"), (5, "8")] {
        assert_eq!(
            measured_peak(&screen, number),
            peak,
            "peak_in_flight of step {number}:\n{screen}"
        );
    }
    // The source is on screen, numbered, with the lesson lines marked.
    assert!(step(&screen, 3).contains("p.backend.wait_blocking(p.io_wait)?;"), "{screen}");
    assert!(
        step(&screen, 5).contains("tokio::join!(p.backend.wait(p.io_wait), p.backend.wait("),
        "{screen}"
    );
    assert!(step(&screen, 6).contains("spawn_blocking"), "{screen}");
    // Idle clients: sync-blocking's /health waits for the timeout to free a
    // slot (never sooner: its 4 slots are held), async-native answers at once.
    let (blocking, native) =
        (idle_wait(&screen, "sync-blocking"), idle_wait(&screen, "async-native"));
    let freed = (IDLE_TIMEOUT_MS - 100) as f64 / 1000.0;
    assert!(blocking >= freed - 0.02, "sync-blocking answered after {blocking} s, before its slots were freed at {freed} s:\n{screen}");
    assert!(
        native < freed / 2.0,
        "async-native answered after {native} s beside idle clients:\n{screen}"
    );
    assert!(!screen.contains('\x1b'), "no ANSI codes unless color is on:\n{screen}");
    for line in screen.lines() {
        assert!(line.chars().count() <= COLUMNS, "{} columns: `{line}`", line.chars().count());
    }
}

/// Step 7's "/health answered after" for `server`, in seconds.
fn idle_wait(screen: &str, server: &str) -> f64 {
    step(screen, 7)
        .lines()
        .filter(|l| l.trim_start().starts_with(server))
        .find_map(|l| {
            let mut words = l.split_whitespace().skip(1);
            let value: f64 = words.next()?.parse().ok()?;
            match words.next()? {
                "s" => Some(value),
                "ms" => Some(value / 1000.0),
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("no {server} row with a time in step 7:\n{screen}"))
}

#[test]
fn demo_pauses_between_steps_and_before_each_run_and_fits_the_screen() {
    let (result, screen) = demo(small(false, bin_dir()), "\n".repeat(40).leak());
    result.unwrap_or_else(|e| panic!("{e}\n{screen}"));
    assert_complete(&screen);
    assert!(!screen.contains("No more input"), "{screen}");
    for number in 2..=8 {
        assert_eq!(
            screen.matches(&format!("press Enter to go on to step {number} of 8")).count(),
            1,
            "{screen}"
        );
    }
    assert_eq!(
        screen.matches("press Enter to run ").count(),
        4,
        "one run per burst step:\n{screen}"
    );
    assert_fits(&screen);
}

#[test]
fn demo_stops_cleanly_when_the_input_ends() {
    let (result, screen) = demo(small(false, bin_dir()), "");
    result.unwrap_or_else(|e| panic!("{e}\n{screen}"));
    assert!(screen.contains(TITLES[0]) && screen.contains("No more input"), "{screen}");
    assert!(!screen.contains(TITLES[1]), "went on past the end of input:\n{screen}");

    // Input that ends mid-way stops at the next prompt, and nothing runs after it.
    let (result, screen) = demo(small(false, bin_dir()), "\n\n\n");
    result.unwrap_or_else(|e| panic!("{e}\n{screen}"));
    assert_eq!(
        screen.matches("press Enter").count(),
        4,
        "three answered prompts and one unanswered:\n{screen}"
    );
    let after = &screen[screen.rfind("press Enter").expect("a prompt")..];
    assert!(after.contains("No more input") && !after.contains("This takes about"), "{screen}");
    assert!(!screen.contains(TITLES[3]), "{screen}");
}

#[test]
fn demo_without_binaries_names_them_and_the_build_command() {
    let empty = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-no-binaries");
    std::fs::create_dir_all(&empty).expect("create an empty folder");
    let (result, screen) = demo(small(true, empty), "");
    let err = result.expect_err("no servers, no demo").to_string();
    assert!(screen.is_empty(), "nothing should be shown before the check: {screen}");
    for needed in ["sync-blocking", "async-native", "cargo build --release -p kit-servers"] {
        assert!(err.contains(needed), "`{needed}` missing from: {err}");
    }
}

#[test]
fn demo_reports_a_server_that_fails_to_start_with_its_output() {
    use std::os::unix::fs::PermissionsExt;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-broken-servers");
    std::fs::create_dir_all(&dir).expect("create a folder");
    for name in ["sync-blocking", "async-trap", "blocking-wrapper", "async-native"] {
        let path = dir.join(name);
        std::fs::write(
            &path,
            "#!/bin/sh\necho 'error: unexpected argument' >&2\nsleep 0.2\nexit 2\n",
        )
        .expect("write a script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make it executable");
    }
    let (result, screen) = demo(small(true, dir), "");
    let err = result.expect_err("a broken server stops the demo");
    assert!(matches!(err, DemoError::ServerStart { server: "sync-blocking", .. }), "{err:?}");
    assert!(
        err.to_string().contains("unexpected argument"),
        "the server's own output is missing: {err}"
    );
    assert!(screen.contains(TITLES[1]), "{screen}");
}

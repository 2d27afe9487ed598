//! `kit learn` under a pseudo-terminal, as a learner's terminal runs it:
//! after `q`, Ctrl-C, a SIGINT from outside and a panic in the runner, the
//! terminal is as it was (the same termios modes, the alternate screen left,
//! the cursor shown). `--manual-run`, so no grade starts, and a state file
//! of the test's own.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

fn openpty() -> Pty {
    let (mut master, mut slave) = (-1, -1);
    let mut size = libc::winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty writes two descriptors it opened into the two ints.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            // *mut: macOS takes one, Linux a *const (a *mut coerces).
            &raw mut size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: fcntl on a descriptor we own; reads from the master never block.
    unsafe {
        let flags = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    Pty { master, slave }
}

/// The modes a learner's shell relies on: line editing, echo, signals, CR/NL.
fn modes(fd: &OwnedFd) -> (u64, u64, u64) {
    // SAFETY: tcgetattr fills the struct from a terminal descriptor we own.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }, 0);
    (t.c_iflag as u64, t.c_oflag as u64, t.c_lflag as u64)
}

impl Pty {
    /// What the program wrote since the last call.
    fn read(&self, into: &mut Vec<u8>) {
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into a buffer of the length given.
            let n =
                unsafe { libc::read(self.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return;
            }
            into.extend_from_slice(&buf[..n as usize]);
        }
    }

    fn write(&self, bytes: &[u8]) {
        // SAFETY: writes a buffer of the length given.
        let n = unsafe { libc::write(self.master.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        assert_eq!(n, bytes.len() as isize);
    }

    fn stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().expect("dup the pty"))
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Starts `kit learn --manual-run` on a fresh pty, waits for its first
/// screen, does `act`, and returns how it exited, what it wrote, and the
/// terminal's modes before and after.
fn learn_then(
    env: &[(&str, &str)],
    act: impl FnOnce(&Pty, &Child),
) -> (std::process::ExitStatus, Vec<u8>, bool) {
    let pty = openpty();
    let before = modes(&pty.slave);
    let state = std::env::temp_dir().join(format!(
        "kit-learn-pty-{}-{:?}.json",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(["learn", "--manual-run"])
        .env("KIT_LEARN_STATE", &state)
        .env("TERM", "xterm-256color")
        .envs(env.iter().copied())
        .stdin(pty.stdio())
        .stdout(pty.stdio())
        .stderr(pty.stdio())
        .spawn()
        .expect("kit starts");
    let mut out = Vec::new();
    let started = Instant::now();
    while !contains(&out, "kit learn · exercise") && child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no first screen in 30 s:\n{}",
            String::from_utf8_lossy(&out)
        );
        pty.read(&mut out);
        std::thread::sleep(Duration::from_millis(20));
    }
    act(&pty, &child);
    let status = loop {
        pty.read(&mut out);
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("kit learn did not exit:\n{}", String::from_utf8_lossy(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    pty.read(&mut out);
    let _ = std::fs::remove_file(&state);
    (status, out.clone(), modes(&pty.slave) == before)
}

/// The screen was the alternate one, and was left with the cursor shown.
fn left_sane(out: &[u8], sane_modes: bool) {
    let text = String::from_utf8_lossy(out);
    let entered = text.find("\x1b[?1049h").expect("the runner entered the alternate screen");
    let left = text.rfind("\x1b[?1049l").expect("the runner left the alternate screen");
    assert!(left > entered, "left before it entered");
    assert!(
        text[left..].contains("\x1b[?25h")
            || text[..left].rfind("\x1b[?25h") > text[..left].rfind("\x1b[?25l"),
        "the cursor was not shown again"
    );
    assert!(
        sane_modes,
        "the terminal's modes (echo, line editing, signals) differ from before the runner"
    );
}

#[test]
fn q_leaves_the_terminal_as_it_was() {
    let (status, out, sane) = learn_then(&[], |pty, _| pty.write(b"q"));
    assert!(status.success(), "{status:?}: {}", String::from_utf8_lossy(&out));
    left_sane(&out, sane);
    assert!(contains(&out, "kit learn --status"), "the parting line says where the progress is");
}

#[test]
fn ctrl_c_leaves_the_terminal_as_it_was() {
    // In raw mode Ctrl-C is a key, not a signal.
    let (status, out, sane) = learn_then(&[], |pty, _| pty.write(b"\x03"));
    assert!(status.success(), "{status:?}");
    left_sane(&out, sane);
}

#[test]
fn a_sigint_from_outside_leaves_the_terminal_as_it_was() {
    let (status, out, sane) = learn_then(&[], |_, child| {
        // SAFETY: kill(2) only sends a signal to the child we started.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    });
    assert!(status.success(), "{status:?}");
    left_sane(&out, sane);
}

#[test]
fn a_panic_in_the_runner_leaves_the_terminal_as_it_was() {
    let (status, out, sane) = learn_then(&[("KIT_LEARN_TEST_PANIC", "1")], |_, _| {});
    assert_eq!(status.code(), Some(101), "a panic exits 101");
    left_sane(&out, sane);
    let text = String::from_utf8_lossy(&out);
    let left = text.rfind("\x1b[?1049l").unwrap();
    assert!(
        text[left..].contains("the runner panics here"),
        "the panic's message is printed on the restored screen:\n{text}"
    );
}

#[test]
fn status_prints_one_line_per_exercise() {
    let state = std::env::temp_dir().join(format!("kit-learn-status-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state);
    let out = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(["learn", "--status"])
        .env("KIT_LEARN_STATE", &state)
        .output()
        .expect("kit runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), kit_measure::exercises::EXERCISES.len(), "{text}");
    for (line, e) in lines.iter().zip(kit_measure::exercises::EXERCISES) {
        assert!(line.starts_with(e.name) && line.ends_with("not started"), "{line}");
    }
    // A state file that says more: a done exercise is done only for the file as it is.
    let record = |fingerprint: &str| serde_json::json!({ "fingerprint": fingerprint, "outcomes": { "1": "Failed", "2": "Ok" }, "build_failed": false });
    std::fs::write(
        &state,
        serde_json::json!({ "current": "lock", "records": { "lock": record("stale") } })
            .to_string(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(["learn", "--status"])
        .env("KIT_LEARN_STATE", &state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("lock") && l.ends_with("edited since its last grade")),
        "{text}"
    );
    let _ = std::fs::remove_file(&state);
}

#[test]
fn an_unknown_exercise_is_refused_with_the_names() {
    let out = Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(["learn", "--exercise", "queue"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'queue' is not an exercise of the course") && err.contains("trap"),
        "{err}"
    );
}

//! No server outlives the test (or the kit) that started it: not when the
//! guard drops, not when the test panics, not when the parent is SIGKILLed.
//!
//! The mechanism is portable: the harness gives each server a pipe as stdin
//! and `KIT_EXIT_WITH_PARENT=1`; the server exits when the pipe reads
//! end-of-file, which the kernel causes when the parent exits in any way.
//! The SIGKILL test is the one only that pipe can pass: no destructor runs.

use crate::common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kit_measure::harness::{is_alive, signal, Server};
use kit_serve::net::{EXIT_PARENT_GONE, EXIT_WITH_PARENT_ENV};

const NATIVE: &str = env!("CARGO_BIN_EXE_async-native");
/// Generous: exiting takes a server milliseconds; this is for a loaded machine.
const EXIT_WITHIN: Duration = Duration::from_secs(5);
/// How long a server run by hand must survive its closed stdin to show that
/// it ignores it.
const IGNORES_FOR: Duration = Duration::from_millis(500);

fn gone_within(pid: u32, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn dropping_the_guard_kills_the_server() {
    let server = Server::start(NATIVE, &[]).unwrap();
    let pid = server.pid();
    assert!(is_alive(pid));
    drop(server);
    assert!(gone_within(pid, EXIT_WITHIN), "server {pid} survived its guard");
}

#[test]
fn a_panicking_test_kills_its_server() {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let server = Server::start(NATIVE, &[]).unwrap();
        tx.send(server.pid()).unwrap();
        panic!("a test failed while its server ran");
    })
    .join();
    assert!(result.is_err());
    let pid = rx.recv().unwrap();
    assert!(gone_within(pid, EXIT_WITHIN), "server {pid} survived a panic");
}

/// Runs only as the child of the test below: starts a server, says its
/// pid, and waits to be killed.
#[test]
#[ignore = "helper process for a_killed_parent_takes_its_server_along"]
fn helper_start_server_and_wait() {
    if std::env::var("KIT_ORPHAN_HELPER").is_err() {
        return;
    }
    let server = Server::start(NATIVE, &[]).unwrap();
    println!("server pid {}", server.pid());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_parent_takes_its_server_along() {
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "helper_start_server_and_wait", "--nocapture", "--test-threads", "1"])
        .env("KIT_ORPHAN_HELPER", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(parent.stdout.take().unwrap());
    let pid: u32 = stdout
        .lines()
        .map_while(Result::ok)
        // libtest prints "test NAME ... " on the same line first.
        .find_map(|l| l.split_once("server pid ").and_then(|(_, p)| p.trim().parse().ok()))
        .expect("the helper reports its server's pid");
    assert!(is_alive(pid));
    signal(parent.id(), libc::SIGKILL);
    parent.wait().unwrap();
    let gone = gone_within(pid, EXIT_WITHIN);
    if !gone {
        signal(pid, libc::SIGKILL);
    }
    assert!(gone, "server {pid} outlived its SIGKILLed parent");
}

/// Starts `bin` by hand on port 0 with a piped stdin, and waits for its
/// listening line. `watch` sets the harness's opt-in variable.
fn start_by_hand(bin: &str, watch: bool) -> Child {
    let mut cmd = Command::new(bin);
    cmd.args(["--port", "0"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove(EXIT_WITH_PARENT_ENV);
    if watch {
        cmd.env(EXIT_WITH_PARENT_ENV, "1");
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{bin}: {e}"));
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on "), "{bin}: {first}");
    child
}

/// Every server's start path watches stdin, the blocking one included.
#[test]
fn each_server_exits_when_its_stdin_closes() {
    for variant in common::VARIANTS {
        let mut server = start_by_hand(common::bin(variant), true);
        drop(server.stdin.take());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = server.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > EXIT_WITHIN {
                let _ = server.kill();
                let _ = server.wait();
                panic!("{variant} ignored its closed stdin for {EXIT_WITHIN:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        server.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert_eq!(status.code(), Some(EXIT_PARENT_GONE), "{variant}: {stderr}");
        assert!(stderr.contains("stdin closed"), "{variant} said: {stderr}");
    }
}

/// Opt-in: a server run by hand in a terminal lives on when stdin ends.
#[test]
fn a_server_run_by_hand_ignores_its_stdin() {
    let mut server = start_by_hand(NATIVE, false);
    drop(server.stdin.take());
    std::thread::sleep(IGNORES_FOR);
    let running = server.try_wait().unwrap().is_none();
    let _ = server.kill();
    let _ = server.wait();
    assert!(running, "async-native exited when its stdin closed, without {EXIT_WITH_PARENT_ENV}");
}

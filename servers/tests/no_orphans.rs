//! No server outlives the test (or the kit) that started it: not when the
//! guard drops, not when the test panics, not when the parent is SIGKILLed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kit_measure::harness::{is_alive, signal, Server};

const NATIVE: &str = env!("CARGO_BIN_EXE_async-native");

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
    assert!(gone_within(pid, Duration::from_secs(5)), "server {pid} survived its guard");
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
    assert!(gone_within(pid, Duration::from_secs(5)), "server {pid} survived a panic");
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
        .args(["--ignored", "--exact", "helper_start_server_and_wait", "--nocapture", "--test-threads", "1"])
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
    assert!(gone_within(pid, Duration::from_secs(5)), "server {pid} outlived its SIGKILLed parent");
}

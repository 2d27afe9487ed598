//! Slow clients (slowloris): connections that connect and send nothing.
//! Each one is closed after --header-read-timeout-ms on every server. Until
//! then, on the async servers it costs a parked task and nothing else; on
//! the blocking server it holds a thread, so four of them take all four
//! slots. That last test is the lesson, not a bug.

use crate::common;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kit_measure::harness::get;

/// The header-read timeout the tests set.
const TIMEOUT: Duration = Duration::from_millis(500);
/// Silent connections held open at once.
const IDLE: usize = 20;

/// Opens `n` connections that send nothing.
fn silent(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| TcpStream::connect(addr).unwrap_or_else(|e| panic!("silent connection {i}: {e}")))
        .collect()
}

/// When (since `opened`) the server closed a connection that sends nothing.
fn closed_after(mut stream: TcpStream, opened: Instant) -> Duration {
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        // End of file or a reset: closed by the server.
        Ok(0) | Err(_) => opened.elapsed(),
        Ok(_) => panic!("a server sent data to a client that asked nothing"),
    }
}

fn idle_connections_are_closed_and_do_not_starve(variant: &str) {
    let server = common::start(variant, &["--header-read-timeout-ms", "500"]);
    let idle = silent(server.addr, IDLE);
    let opened = Instant::now();
    // 20 silent clients, and a real one is served at once (no slot is held).
    let (status, body) =
        get(server.addr, "/health", Duration::from_secs(5)).expect("/health answers");
    let waited = opened.elapsed();
    assert_eq!(status, 200, "{variant}: {body}");
    assert!(
        waited < TIMEOUT,
        "{variant}: /health took {waited:?} beside {IDLE} silent connections"
    );
    // Each silent one is closed after the timeout: not before, not much after.
    let took: Vec<Duration> = idle.into_iter().map(|s| closed_after(s, opened)).collect();
    assert!(
        took.iter().all(|t| *t >= TIMEOUT - Duration::from_millis(50) && *t < TIMEOUT * 6),
        "{variant}: silent connections closed after {took:?} with a {TIMEOUT:?} header-read timeout"
    );
}

#[test]
fn async_trap_closes_silent_connections_and_they_do_not_starve_it() {
    idle_connections_are_closed_and_do_not_starve("async-trap");
}

#[test]
fn blocking_wrapper_closes_silent_connections_and_they_do_not_starve_it() {
    idle_connections_are_closed_and_do_not_starve("blocking-wrapper");
}

#[test]
fn async_native_closes_silent_connections_and_they_do_not_starve_it() {
    idle_connections_are_closed_and_do_not_starve("async-native");
}

/// The lesson: on a blocking server a connection is a slot, whether it
/// sends anything or not. Four silent clients hold all four threads, and a
/// real client waits until the header-read timeout frees them.
#[test]
fn four_silent_clients_take_all_four_slots_of_sync_blocking() {
    let timeout = Duration::from_secs(2);
    let server =
        common::start("sync-blocking", &["--threads", "4", "--header-read-timeout-ms", "2000"]);
    let idle = silent(server.addr, 4);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let (status, body) =
        get(server.addr, "/health", Duration::from_secs(10)).expect("/health answers in the end");
    let waited = started.elapsed();
    assert_eq!(status, 200, "{body}");
    // /health needs no time of its own: the wait is the four silent
    // clients' hold on the slots, until the timeout closed them.
    assert!(
        waited >= timeout - Duration::from_millis(400) && waited < timeout * 3,
        "sync-blocking answered /health after {waited:?} beside 4 silent clients on 4 threads; the slots were theirs until the {timeout:?} timeout"
    );
    // With three silent clients, one slot is left: served at once.
    drop(idle);
    let idle = silent(server.addr, 3);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let (status, _) =
        get(server.addr, "/health", Duration::from_secs(10)).expect("/health answers");
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "one free slot of four, yet /health took {:?}",
        started.elapsed()
    );
    drop(idle);
}

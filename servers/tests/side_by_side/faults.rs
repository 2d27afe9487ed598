//! Faults survived: running out of file descriptors does not stop a server
//! from accepting once they are free again (all four), and the wrapper's
//! bridge is bounded (a full queue answers 503 at once) and skips the jobs
//! of clients that have gone.

use crate::common;

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::raw::{client, Answer};
use kit_measure::harness::{get, Server, Target};

/// The open-file limit the servers run under in the EMFILE test: room for
/// their own few descriptors and some connections, far fewer than the test opens.
const FD_LIMIT: u32 = 64;
/// Connections the test holds open at once: more than FD_LIMIT.
const HOLD: usize = 150;

/// Starts `variant` under a hard open-file limit of `FD_LIMIT`. The servers
/// raise their soft limit to the hard one at start, so the hard one is what
/// must be low; `ulimit -n` in sh sets both, then execs the server.
fn start_with_fd_limit(variant: &str) -> Server {
    let script = format!("ulimit -n {FD_LIMIT} && exec \"$0\" \"$@\"");
    let args: Vec<String> = ["-c", &script, common::bin(variant), "--port", "0", "--io-ms", "50"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    Server::start("/bin/sh", &args)
        .unwrap_or_else(|e| panic!("{variant} under ulimit -n {FD_LIMIT}: {e}"))
}

/// Waits until the server's output contains `text`, at most `limit`.
fn said_within(server: &Server, text: &str, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if server.output().contains(text) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn survives_running_out_of_file_descriptors(variant: &str) {
    let server = start_with_fd_limit(variant);
    // HOLD idle connections: the server accepts until it has no descriptor
    // left; the rest wait in the kernel's backlog (their connect succeeded).
    let held: Vec<TcpStream> = (0..HOLD)
        .map(|i| {
            TcpStream::connect(server.addr)
                .unwrap_or_else(|e| panic!("{variant}: connection {i}: {e}"))
        })
        .collect();
    assert!(
        said_within(&server, "accept failed", Duration::from_secs(10)),
        "{variant}: {HOLD} connections under an fd limit of {FD_LIMIT}, and no accept error was logged; it said:\n{}",
        server.output_tail(20)
    );
    assert!(server.exited().is_none(), "{variant} died of EMFILE: {}", server.output_tail(20));
    drop(held);
    // With the descriptors free again, a new client is served.
    let started = Instant::now();
    let answer = loop {
        match get(server.addr, "/health", Duration::from_secs(10)) {
            Ok(answer) => break answer,
            Err(e) if started.elapsed() > Duration::from_secs(20) => {
                panic!(
                    "{variant} never answered again after EMFILE: {e}; it said:\n{}",
                    server.output_tail(20)
                )
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert_eq!(answer.0, 200, "{variant}: {}", answer.1);
    assert!(
        said_within(&server, "accepting again after", Duration::from_secs(5)),
        "{variant} did not say it recovered; it said:\n{}",
        server.output_tail(20)
    );
}

#[test]
fn sync_blocking_accepts_again_after_running_out_of_file_descriptors() {
    survives_running_out_of_file_descriptors("sync-blocking");
}

#[test]
fn async_trap_accepts_again_after_running_out_of_file_descriptors() {
    survives_running_out_of_file_descriptors("async-trap");
}

#[test]
fn blocking_wrapper_accepts_again_after_running_out_of_file_descriptors() {
    survives_running_out_of_file_descriptors("blocking-wrapper");
}

#[test]
fn async_native_accepts_again_after_running_out_of_file_descriptors() {
    survives_running_out_of_file_descriptors("async-native");
}

/// `n` clients of `path` at once; returns once every one has connected
/// and sent its request, with their answers to come.
fn burst(server: &Server, path: &str, n: usize) -> Vec<std::thread::JoinHandle<Answer>> {
    let (connected, connects) = mpsc::channel();
    let clients = (0..n).map(|_| client(server.addr, path, connected.clone())).collect();
    for _ in 0..n {
        connects.recv_timeout(Duration::from_secs(30)).expect("every client connects");
    }
    clients
}

/// 2 app threads and a queue of 3: 5 requests fit in the bridge. A burst of
/// 12 one-second requests gets exactly 7 answers of 503, at once, with a
/// JSON error and Retry-After; the other 5 are served.
#[test]
fn a_full_wrapper_queue_answers_503_with_retry_after() {
    let (workers, queue, n) = (2, 3, 12);
    let server =
        common::start("blocking-wrapper", &["--workers", "2", "--queue", "3", "--io-ms", "500"]);
    let knobs = server.metrics().unwrap().knobs;
    assert_eq!(
        knobs.get("queue").and_then(|v| v.as_u64()),
        Some(queue),
        "/metrics knobs: {knobs:?}"
    );
    let started = Instant::now();
    let answers: Vec<_> =
        burst(&server, "/parallel", n).into_iter().map(|c| c.join().expect("client")).collect();
    let replies: Vec<_> = answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|e| panic!("a client got no answer: {e}")))
        .collect();
    let full: Vec<_> = replies.iter().filter(|r| r.status == 503).collect();
    let served = replies.iter().filter(|r| r.status == 200).count();
    let predicted = n - (workers + queue) as usize;
    assert_eq!(full.len(), predicted, "{n} requests on {workers} app threads + a queue of {queue}: expected {predicted} x 503, got {}; statuses: {:?}", full.len(), replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(served, n - predicted);
    for reply in full {
        assert_eq!(reply.header("retry-after"), Some("1"), "{reply:?}");
        let body: serde_json::Value = serde_json::from_str(&reply.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body));
        assert!(body["error"].as_str().is_some_and(|e| e.contains("full")), "{}", reply.body);
    }
    // The five admitted: 2 app threads, 3 rounds of 1 s (ceil(5 / 2)).
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_secs(8),
        "the admitted 5 took {took:?}; the slot model says 3 s"
    );
    let m = server.metrics().unwrap();
    let parallel = m.endpoints.get("/parallel").map_or(0, |e| e.count);
    assert_eq!(parallel, (n - predicted) as u64, "only admitted requests reach the app: {m:?}");
}

/// One app thread, busy for 1 s. Meanwhile 5 clients ask for
/// /db-simulation and hang up after 200 ms. Their jobs are skipped: the app
/// never counts a /db-simulation request, and the thread is free at once
/// for the next client.
#[test]
fn the_wrapper_skips_jobs_whose_client_has_gone() {
    let server =
        common::start("blocking-wrapper", &["--workers", "1", "--io-ms", "500", "--db-ms", "300"]);
    let busy = burst(&server, "/parallel", 1);
    std::thread::sleep(Duration::from_millis(100));
    let quitters: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).expect("connect");
            std::io::Write::write_all(&mut s, b"GET /db-simulation HTTP/1.1\r\nHost: kit\r\n\r\n")
                .expect("send");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    drop(quitters);
    let answer = busy
        .into_iter()
        .next()
        .expect("one")
        .join()
        .expect("client")
        .expect("the busy request is answered");
    assert_eq!(answer.status, 200);
    // If the 5 jobs ran, they would hold the only app thread for 5 x 300 ms.
    let started = Instant::now();
    let (status, body) = get(server.addr, "/db-simulation", Duration::from_secs(10))
        .expect("a new client is served");
    let waited = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(
        waited < Duration::from_millis(1200),
        "a new /db-simulation waited {waited:?}: did the app serve the 5 gone clients first?"
    );
    let m = server.metrics().unwrap();
    let db = m.endpoints.get("/db-simulation").map_or(0, |e| e.count);
    assert_eq!(
        db, 1,
        "the app served {db} /db-simulation requests; only the last client was still there: {m:?}"
    );
}

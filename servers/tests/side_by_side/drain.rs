//! Graceful shutdown under load, the same on all four servers (see the
//! promise in kit_serve::net): SIGTERM while 100 requests are in flight.
//! Every client that connected before the signal gets its full answer,
//! queued ones included; connecting after it is refused; the process exits
//! 0, as late as the slot model says the work takes, or at --drain-timeout
//! with a final line that counts the clients left unanswered.
//!
//! Real processes, real HTTP, one plain blocking client thread per request
//! so that "connected" is known exactly: each thread reports once its
//! connect() has returned and its request is sent.

use crate::common;

use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::raw::{client, exchange, Answer};

use kit_measure::harness::{signal, Server};
use kit_serve::contract::Work;
use kit_serve::net::EXIT_WITH_PARENT_ENV;

const N: usize = 100;
/// How long after the last client connected the signal is sent.
const SIGNAL_AFTER: Duration = Duration::from_millis(100);
/// A server that has not exited this long after SIGTERM has failed.
const EXIT_LIMIT: Duration = Duration::from_secs(60);
/// No client waits longer than this for its answer (a hung test fails).
const CLIENT_TIMEOUT: Duration = common::raw::CLIENT_TIMEOUT;

/// What happened around one SIGTERM.
struct Drain {
    answers: Vec<Answer>,
    /// From the first client's start to the signal.
    signal_at: Duration,
    /// From the signal to the process's exit.
    exit_after: Duration,
    code: Option<i32>,
    /// From the signal to the first refused connect, and whether the
    /// server was still running then.
    refused_after: Option<(Duration, bool)>,
    /// Clients whose connect succeeded after the signal (before the
    /// listener closed): they count as accepted, and were answered so.
    late: Vec<Answer>,
    output: String,
}

/// `N` clients of `path` connect to `server`; `SIGNAL_AFTER` after the last
/// one is connected, SIGTERM. Then connect again and again until refused,
/// and wait for the process to exit.
fn sigterm_under_load(server: &Server, path: &str) -> Drain {
    let (connected, connects) = mpsc::channel();
    let started = Instant::now();
    let clients: Vec<_> = (0..N).map(|_| client(server.addr, path, connected.clone())).collect();
    for _ in 0..N {
        connects.recv_timeout(CLIENT_TIMEOUT).expect("every client connects before the signal");
    }
    std::thread::sleep(SIGNAL_AFTER);
    let signal_at = started.elapsed();
    signal(server.pid(), libc::SIGTERM);
    let signalled = Instant::now();

    let mut refused_after = None;
    let mut late = Vec::new();
    while refused_after.is_none() && signalled.elapsed() < Duration::from_secs(5) {
        match TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)) {
            // A handshake reset by the listener as it closes is a refusal too.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                ) =>
            {
                refused_after = Some((signalled.elapsed(), server.exited().is_none()));
            }
            Err(e) => panic!("connecting after SIGTERM failed otherwise than refused: {e}"),
            Ok(stream) => {
                late.push(std::thread::spawn(move || exchange(stream, "/health", None)));
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    let status = loop {
        if let Some(status) = server.exited() {
            break status;
        }
        assert!(
            signalled.elapsed() < EXIT_LIMIT,
            "{} still runs {EXIT_LIMIT:?} after SIGTERM",
            server.url
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let exit_after = signalled.elapsed();
    let answers = clients.into_iter().map(|c| c.join().expect("client thread")).collect();
    let late = late.into_iter().map(|c| c.join().expect("client thread")).collect();
    Drain {
        answers,
        signal_at,
        exit_after,
        code: status.code(),
        refused_after,
        late,
        output: final_output(server),
    }
}

/// The server's output once its last line has arrived (the threads that
/// copy its pipes may lag its exit by a moment).
fn final_output(server: &Server) -> String {
    let started = Instant::now();
    loop {
        let output = server.output();
        if output.contains("drain") || started.elapsed() > Duration::from_secs(3) {
            return output;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A request of /parallel alone: two waits of `io` in sequence on a slot,
/// overlapped natively.
fn parallel_t(variant: &str, io: Duration) -> Duration {
    if variant == "async-native" {
        io
    } else {
        io * 2
    }
}

/// The slot model: N requests of t on s slots take ceil(N / s) * t.
fn model(variant: &str, t: Duration) -> Duration {
    match common::slots(variant) {
        Some(s) => t * N.div_ceil(s as usize) as u32,
        None => t,
    }
}

fn drains_100_in_flight(variant: &str) {
    let io = Duration::from_millis(50);
    let server = common::start(variant, &["--io-ms", "50"]);
    let d = sigterm_under_load(&server, "/parallel");
    let said = || format!("{variant} said:\n{}", d.output);

    assert_eq!(d.code, Some(0), "{variant} did not exit 0 after SIGTERM; {}", said());
    // Exact: every client that connected before the signal got a full answer.
    for (i, answer) in d.answers.iter().enumerate() {
        let reply = answer.as_ref().unwrap_or_else(|e| {
            panic!("{variant}: client {i} of {N} got no answer: {e}; {}", said())
        });
        let body = &reply.body;
        assert_eq!(reply.status, 200, "{variant}: client {i}: {body}");
        let work: Work = serde_json::from_str(body).unwrap_or_else(|e| {
            panic!("{variant}: client {i}: not a full /parallel body ({e}): {body}")
        });
        assert_eq!((work.variant.as_str(), work.endpoint.as_str()), (variant, "/parallel"));
    }
    // Every late client is owed an answer, but the last one may lose a race
    // no server can win (net::HANDSHAKE_SETTLE): its connect() returned just
    // before the last sweep of the backlog, and the server's kernel queued it
    // only after, as the listener closed. A server that reset queued clients
    // would reset the earlier ones too.
    for (i, answer) in d.late.iter().enumerate() {
        let last_lost_the_race =
            i + 1 == d.late.len() && matches!(answer, Err(e) if e.contains("reset"));
        assert!(
            matches!(answer, Ok(r) if r.status == 200) || last_lost_the_race,
            "{variant}: late client {} of {}, connected after SIGTERM before the listener closed, got {answer:?}",
            i + 1,
            d.late.len()
        );
    }
    assert!(d.output.contains("drained: every accepted client was answered"), "{}", said());

    // Refused after the signal; on the 4-slot servers while they still drain.
    let (refused_after, running) = d
        .refused_after
        .unwrap_or_else(|| panic!("{variant}: connecting still worked 5 s after SIGTERM"));
    if common::slots(variant).is_some() {
        assert!(running, "{variant}: connections were refused only after the process exited ({refused_after:?} after SIGTERM)");
    }

    // Time: the drain lasts as long as the slot model says the rest of the
    // burst takes. Generous band, for a shared 2-core machine.
    let left = model(variant, parallel_t(variant, io)).saturating_sub(d.signal_at);
    assert!(
        d.exit_after <= left * 2 + Duration::from_secs(1),
        "{variant} exited {:?} after SIGTERM; the slot model leaves {left:?} of work then ({N} x /parallel began {:?} before the signal)",
        d.exit_after,
        d.signal_at
    );
    assert!(
        d.exit_after >= left / 2,
        "{variant} exited {:?} after SIGTERM, before the {left:?} of work the slot model says was left: were requests dropped?",
        d.exit_after
    );
}

#[test]
fn sync_blocking_answers_all_100_in_flight_then_exits_0() {
    drains_100_in_flight("sync-blocking");
}

#[test]
fn async_trap_answers_all_100_in_flight_then_exits_0() {
    drains_100_in_flight("async-trap");
}

#[test]
fn blocking_wrapper_answers_all_100_in_flight_then_exits_0() {
    drains_100_in_flight("blocking-wrapper");
}

#[test]
fn async_native_answers_all_100_in_flight_then_exits_0() {
    drains_100_in_flight("async-native");
}

/// The unanswered count on the final line: "drain timeout: N accepted ...".
fn unanswered(output: &str) -> Option<usize> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("drain timeout: ")?.split_whitespace().next()?.parse().ok())
}

fn a_short_drain_timeout_counts_the_unanswered(
    variant: &str,
    io_ms: &str,
    path: &str,
    t: Duration,
) {
    let timeout = Duration::from_secs(1);
    let server = common::start(variant, &["--io-ms", io_ms, "--drain-timeout", "1"]);
    let d = sigterm_under_load(&server, path);
    let said = || format!("{variant} said:\n{}", d.output);

    assert_eq!(d.code, Some(0), "{variant} did not exit 0 at its drain timeout; {}", said());
    // Prompt: the deadline, plus at most one request's wait to notice it.
    assert!(
        d.exit_after <= timeout + t + Duration::from_secs(1),
        "{variant} exited {:?} after SIGTERM with --drain-timeout 1 (one request takes {t:?}); {}",
        d.exit_after,
        said()
    );
    let failed = d.answers.iter().filter(|a| a.is_err()).count();
    let answered = d.answers.iter().filter(|a| matches!(a, Ok(r) if r.status == 200)).count();
    assert_eq!(answered + failed, N, "{variant}: every answer is a 200 or none at all");
    // Probes that connected after the signal, before the listener closed,
    // were accepted too: they count.
    let late_failed = d.late.iter().filter(|a| a.is_err()).count();
    let counted = unanswered(&d.output)
        .unwrap_or_else(|| panic!("{variant}: no 'drain timeout: N ...' line; {}", said()));
    // Exact for the N clients, which all connected before the signal: the
    // server counts each of them it left unanswered. A late probe can lose a
    // race the server never sees (its handshake completes just after the last
    // accept, and the closing listener resets it), so the probes only bound
    // the count from above.
    assert!(
        counted >= failed && counted <= failed + late_failed,
        "{variant} counted {counted} unanswered; {failed} of the {N} clients and {late_failed} of {} later probes got no answer; {}",
        d.late.len(),
        said()
    );
    // And the slot model says roughly how many fit before the deadline.
    let served_by_then = match common::slots(variant) {
        Some(s) => s as f64 * ((d.signal_at + timeout).as_secs_f64() / t.as_secs_f64()).floor(),
        None => 0.0,
    };
    assert!(
        (answered as f64) <= served_by_then * 1.5 + 8.0 && (answered as f64) >= served_by_then * 0.5 - 4.0,
        "{variant} answered {answered} of {N} before its 1 s drain deadline; the slot model says about {served_by_then}"
    );
}

#[test]
fn sync_blocking_at_its_drain_timeout_counts_the_unanswered() {
    a_short_drain_timeout_counts_the_unanswered(
        "sync-blocking",
        "100",
        "/parallel",
        Duration::from_millis(200),
    );
}

#[test]
fn async_trap_at_its_drain_timeout_counts_the_unanswered() {
    a_short_drain_timeout_counts_the_unanswered(
        "async-trap",
        "100",
        "/parallel",
        Duration::from_millis(200),
    );
}

#[test]
fn blocking_wrapper_at_its_drain_timeout_counts_the_unanswered() {
    a_short_drain_timeout_counts_the_unanswered(
        "blocking-wrapper",
        "100",
        "/parallel",
        Duration::from_millis(200),
    );
}

#[test]
fn async_native_at_its_drain_timeout_counts_the_unanswered() {
    // Native has no slots to queue on: make each request outlast the deadline.
    a_short_drain_timeout_counts_the_unanswered(
        "async-native",
        "1000",
        "/multi-io",
        Duration::from_secs(3),
    );
}

/// The signal handler exists before the listening line: a SIGTERM sent the
/// moment the line is read drains (exit 0), it does not kill (no exit code).
#[test]
fn a_sigterm_right_after_the_listening_line_drains_and_exits_0() {
    for variant in common::VARIANTS {
        let mut child = Command::new(common::bin(variant))
            .args(["--port", "0"])
            .env(EXIT_WITH_PARENT_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{variant}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped"))
            .read_line(&mut line)
            .expect("a first line");
        signal(child.id(), libc::SIGTERM);
        assert!(line.starts_with("listening on "), "{variant}: {line}");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{variant} ignored a SIGTERM sent right after its listening line");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut stderr = String::new();
        let _ = child.stderr.take().expect("piped").read_to_string(&mut stderr);
        assert_eq!(
            status.code(),
            Some(0),
            "{variant} did not drain and exit 0 ({status}); it said: {stderr}"
        );
        assert!(stderr.contains("drained:"), "{variant} said: {stderr}");
    }
}

//! The four servers on `--io-backend http=URL`: every wait is a real request
//! to the `upstream` binary, which the harness starts. The lesson holds
//! unchanged (same rounds as on timers, same peak_in_flight), and the
//! upstream's own /metrics shows the waits it received. A failing upstream is
//! an answer, never a hang: down is a fast 502, too slow a 504.

use crate::common;

use std::time::{Duration, Instant};

use common::{slots, start, VARIANTS};
use kit_measure::burst::burst;
use kit_measure::expect::{assert_ok, Expect};
use kit_measure::harness::{get, Server, Target, Upstream};

/// As in concurrency.rs: the claim is the rounds, not the length of a wait.
const IO: Duration = Duration::from_millis(200);
const DEADLINE: Duration = Duration::from_secs(60);
const N: u64 = 100;

fn on_upstream(variant: &str, upstream: &Upstream, extra: &[&str]) -> Server {
    let [flag, value] = upstream.backend_args();
    let mut args = vec![flag.as_str(), value.as_str()];
    args.extend_from_slice(extra);
    start(variant, &args)
}

/// 100 x /parallel through the upstream: 25 rounds of 2 waits on 4 slots,
/// one round natively, exactly as on timers (concurrency.rs), with the
/// server's peak_in_flight as the exact check. The upstream received every
/// wait (200) and held as many at once as the server had waits in the air:
/// one per slot on the blocking servers, both waits of all 100 natively.
fn parallel_on_http(variant: &str) {
    let upstream = Upstream::start().unwrap_or_else(|e| panic!("{e}"));
    let server = on_upstream(variant, &upstream, &["--io-ms", &IO.as_millis().to_string()]);
    upstream.reset_metrics().unwrap_or_else(|e| panic!("{e}"));
    let b = burst(&server, "/parallel", N, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    let t = if variant == "async-native" { IO } else { IO * 2 };
    assert_ok(Expect::new(slots(variant), t).all(&b));
    assert_eq!(b.after.io_backend, "http", "{variant}: /metrics names the backend");
    assert!(
        b.after.knobs.contains_key("io_timeout_ms"),
        "{variant}: the backend's knobs: {:?}",
        b.after.knobs
    );
    let up = upstream.metrics().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        up.requests_total,
        2 * N,
        "{variant}: the upstream should have served 2 waits per request: {up:?}"
    );
    match slots(variant) {
        // Exact: one wait in the air per slot.
        Some(s) => assert_eq!(
            up.peak_in_flight, s,
            "{variant}: one upstream wait per slot at once: {up:?}"
        ),
        // A lower bound: all 100 requests were inside at once (the server's
        // exact peak, checked above), but their 200 calls open 200 upstream
        // connections, and on a loaded machine the first waits can end
        // before the last arrive (190 of 200 seen).
        None => assert!(
            up.peak_in_flight >= N,
            "{variant}: at least one upstream wait per request at once: {up:?}"
        ),
    }
    eprintln!(
        "{variant} on http: {N} x /parallel in {:.2} s, peak_in_flight {}, upstream peak {}",
        b.total.as_secs_f64(),
        b.peak_in_flight(),
        up.peak_in_flight
    );
}

#[test]
fn http_parallel_sync_blocking_takes_25_rounds() {
    parallel_on_http("sync-blocking");
}

#[test]
fn http_parallel_async_trap_takes_25_rounds() {
    parallel_on_http("async-trap");
}

#[test]
fn http_parallel_blocking_wrapper_takes_25_rounds() {
    parallel_on_http("blocking-wrapper");
}

#[test]
fn http_parallel_async_native_takes_one_round() {
    parallel_on_http("async-native");
}

/// The JSON error of an answer, or a panic that shows the answer.
fn error_of(variant: &str, answer: &(u16, String)) -> String {
    let body: serde_json::Value = serde_json::from_str(&answer.1)
        .unwrap_or_else(|e| panic!("{variant}: the error is not JSON ({e}): {}", answer.1));
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{variant}: no error field: {}", answer.1))
        .to_string()
}

/// An upstream nobody listens on: each /parallel is a 502 at once (the
/// connection is refused), naming the upstream; the next request too.
#[test]
fn upstream_down_is_a_fast_502_on_all_four() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    for variant in VARIANTS {
        let server = start(variant, &["--io-backend", &format!("http={url}")]);
        for attempt in 1..=2 {
            let started = Instant::now();
            let answer = get(server.addr, "/parallel", Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("{variant}: {e}"));
            let took = started.elapsed();
            assert_eq!(answer.0, 502, "{variant}, request {attempt}: {answer:?}");
            let error = error_of(variant, &answer);
            assert!(error.contains(&url) && error.contains("connect"), "{variant}: {error}");
            assert!(
                took < Duration::from_secs(2),
                "{variant}, request {attempt}: a refused connection took {took:?} to report"
            );
        }
    }
}

/// An upstream slower than --io-timeout-ms 300: a 504 after the timeout
/// (not before, not after the 2 s wait it was asked for), on all four.
#[test]
fn upstream_too_slow_is_a_504_after_the_io_timeout_on_all_four() {
    let upstream = Upstream::start().unwrap_or_else(|e| panic!("{e}"));
    let timeout = Duration::from_millis(300);
    for variant in VARIANTS {
        let server =
            on_upstream(variant, &upstream, &["--io-timeout-ms", &timeout.as_millis().to_string()]);
        let started = Instant::now();
        let answer = get(server.addr, "/parallel?io_ms=2000", Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{variant}: {e}"));
        let took = started.elapsed();
        assert_eq!(answer.0, 504, "{variant}: {answer:?}");
        let error = error_of(variant, &answer);
        assert!(error.contains(&upstream.url) && error.contains("300"), "{variant}: {error}");
        // The first wait times out; the second is never made.
        assert!(
            took >= timeout && took < Duration::from_millis(1500),
            "{variant}: the 504 came after {took:?}; the timeout is {timeout:?}"
        );
    }
}

/// Bad backend flags stop each server before it listens, saying what a
/// good value looks like: an unknown backend and a URL that is not one.
#[test]
fn bad_backend_flags_are_refused_at_start_on_all_four() {
    for variant in VARIANTS {
        for (value, says) in [
            ("ftp=x", "timer, http=URL"),
            ("http=notaurl", "http://HOST:PORT"),
            ("http=http://h:1/api", "no path"),
        ] {
            let out = std::process::Command::new(common::bin(variant))
                .args(["--port", "0", "--io-backend", value])
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run the server");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{variant} --io-backend {value}: {:?}, said: {stderr}",
                out.status
            );
            assert!(
                stderr.contains(value.trim_start_matches("http=")) && stderr.contains(says),
                "{variant} --io-backend {value} said: {stderr}"
            );
            assert!(
                out.stdout.is_empty(),
                "{variant} --io-backend {value} printed a listening line: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

//! The burst's client, the harness's control requests and the grade's
//! first step, each pointed at every misbehaving server of
//! `kit_measure::client::hostile`: each ends within its deadline, names
//! what happened, keeps its memory bounded, and nothing panics.
//!
//! Run: `cargo test --release -p kit-measure --test hostile`

use std::time::{Duration, Instant};

use kit_measure::burst::{burst, burst_outside};
use kit_measure::client::hostile::{Behaviour, Hostile};
use kit_measure::client::outcome::{BODY_TOO_LONG, CLOSED_MID_ANSWER, NOT_HTTP, TIMEOUT_KIND};
use kit_measure::harness::{self, Remote};

/// What the burst's client (one GET per connection, `Connection: close`)
/// must name each server's answer: `None` is a 200.
fn burst_kind(b: Behaviour) -> Option<&'static str> {
    match b {
        Behaviour::NeverAnswers | Behaviour::StallsBody => Some(TIMEOUT_KIND),
        Behaviour::EndlessChunked | Behaviour::EndlessLength => Some(BODY_TOO_LONG),
        Behaviour::Garbage => Some(NOT_HTTP),
        Behaviour::StatusLineOnly | Behaviour::ClosesMidBody => Some(CLOSED_MID_ANSWER),
        // One request per connection: the first answer is all it sees.
        Behaviour::ClosesAfterFirst => None,
    }
}

/// Every behaviour at once, each in its own thread: the slowest sets the
/// test's time (the 1 s deadline, not the sum of them).
fn each_behaviour<T: Send>(check: impl Fn(&Hostile) -> T + Sync) -> Vec<(Behaviour, T)> {
    std::thread::scope(|s| {
        let runs: Vec<_> = Behaviour::ALL
            .iter()
            .map(|&b| {
                let check = &check;
                s.spawn(move || (b, check(&Hostile::start(b))))
            })
            .collect();
        runs.into_iter().map(|r| r.join().expect("no panic")).collect()
    })
}

/// 4 requests at each server, a deadline of 1 s: each request ends with a
/// named error (or a 200 where the server gave one) within the deadline,
/// and an endless body costs no memory (this process's RSS, sampled while
/// the bursts run, stays within a bound that one buffered endless body
/// would pass in a fraction of a second on loopback).
#[test]
fn the_burst_names_every_hostile_answer_within_its_deadline() {
    const N: u64 = 4;
    let deadline = Duration::from_secs(1);
    let me = std::process::id();
    let rss_before = kit_serve::os::rss_bytes(me);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (results, peak_rss) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(kit_serve::os::rss_bytes(me).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        let results = each_behaviour(|server| {
            let started = Instant::now();
            let outside = burst_outside(&server.url("/parallel"), N, deadline);
            (started.elapsed(), outside, server.body_bytes())
        });
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (results, watcher.join().unwrap())
    });
    for (behaviour, (took, outside, _)) in &results {
        let outside = outside.as_ref().unwrap_or_else(|e| panic!("{behaviour:?}: {e}"));
        // The deadline, plus connecting and the sockets' close: 3 s is a
        // generous band on a busy machine; the exact check is the kinds.
        assert!(*took < Duration::from_secs(4), "{behaviour:?} took {took:?}");
        match burst_kind(*behaviour) {
            Some(kind) => {
                assert_eq!(
                    outside.error_kinds,
                    [(kind.to_string(), N)].into(),
                    "{behaviour:?}: {outside:?}"
                );
                assert_eq!(outside.errors(), N, "{behaviour:?}");
            }
            None => assert_eq!(outside.status_counts, [(200, N)].into(), "{behaviour:?}"),
        }
        assert_eq!(
            outside.timed_out,
            if burst_kind(*behaviour) == Some(TIMEOUT_KIND) { N } else { 0 }
        );
    }
    // The endless bodies were read to the cap and no further: the server
    // wrote at most the cap per connection plus what the sockets buffer.
    for (behaviour, (_, _, written)) in &results {
        assert!(
            *written <= N * (kit_measure::client::raw::MAX_BODY + (32 << 20)),
            "{behaviour:?} wrote {written}"
        );
    }
    if let (Some(before), peak) = (rss_before, peak_rss) {
        // 2 x 4 endless bodies, each read at loopback speed for up to 1 s:
        // buffered, they would be gigabytes.
        assert!(peak < before + (256 << 20), "RSS went from {before} to {peak} bytes");
    }
}

/// The harness's control request, with a 1 s timeout: what the grade and
/// `kit slots` read /metrics with. Each server gets an error that names
/// what it did, within the timeout, and the one whole answer is read.
#[test]
fn control_requests_end_in_time_and_say_why() {
    let timeout = Duration::from_secs(1);
    let results = each_behaviour(|server| {
        let started = Instant::now();
        let answer = harness::request(server.addr(), "GET", "/metrics", timeout);
        (started.elapsed(), answer.map_err(|e| e.to_string()))
    });
    for (behaviour, (took, answer)) in results {
        assert!(took < Duration::from_secs(3), "{behaviour:?} took {took:?}");
        let expected = match behaviour {
            Behaviour::NeverAnswers | Behaviour::StallsBody => TIMEOUT_KIND,
            Behaviour::EndlessChunked | Behaviour::EndlessLength => BODY_TOO_LONG,
            Behaviour::Garbage => NOT_HTTP,
            Behaviour::StatusLineOnly | Behaviour::ClosesMidBody => CLOSED_MID_ANSWER,
            Behaviour::ClosesAfterFirst => {
                assert_eq!(answer, Ok((200, "ok".to_string())));
                continue;
            }
        };
        let error = answer.expect_err("no answer to read");
        assert!(error.starts_with(expected), "{behaviour:?}: {error}");
        if expected == TIMEOUT_KIND {
            assert!(took >= timeout, "{behaviour:?} gave up early, after {took:?}");
        }
    }
}

/// The grade pointed at a URL (a `Remote`): its first step resets the
/// server's /metrics, and a hostile server fails it with the reason, within
/// the remote's control timeout (1 s here), not a hang or a panic.
#[test]
fn the_grade_at_a_hostile_url_fails_with_the_reason() {
    let control = Duration::from_secs(1);
    let results = each_behaviour(|server| {
        let remote =
            Remote::new(&server.url("")).expect("a loopback URL").with_control_timeout(control);
        let started = Instant::now();
        let outcome = burst(&remote, "/parallel", 4, Duration::from_secs(1));
        (started.elapsed(), outcome.map(|b| b.ok).map_err(|e| e.0))
    });
    for (behaviour, (took, outcome)) in results {
        assert!(took < Duration::from_secs(4), "{behaviour:?} took {took:?}");
        let error = outcome.expect_err("no metrics to read");
        assert!(error.contains("/metrics/reset"), "{behaviour:?}: {error}");
        let why = match behaviour {
            Behaviour::EndlessChunked | Behaviour::EndlessLength => BODY_TOO_LONG,
            Behaviour::Garbage => NOT_HTTP,
            Behaviour::StatusLineOnly | Behaviour::ClosesMidBody => CLOSED_MID_ANSWER,
            Behaviour::ClosesAfterFirst => "is not the metrics JSON",
            Behaviour::NeverAnswers | Behaviour::StallsBody => TIMEOUT_KIND,
        };
        assert!(error.contains(why), "{behaviour:?}: {error}");
        if why == TIMEOUT_KIND {
            assert!(took >= control, "{behaviour:?} gave up early, after {took:?}");
        }
    }
}

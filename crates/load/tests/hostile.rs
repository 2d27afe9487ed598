//! `kit bench`'s and `kit attack`'s engines pointed at every misbehaving
//! server of `kit_measure::client::hostile`: each run ends within its
//! timeout, counts every request once, names each failure, and still
//! returns its summary. All servers are loaded at once, so the test takes
//! about as long as its slowest case (the 1 s timeout).
//!
//! Run: `cargo test --release -p kit-load --test hostile`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kit_load::attack::{self, AttackOptions};
use kit_load::bench::{self, BenchOptions};
use kit_measure::client::hostile::{Behaviour, Hostile};
use kit_measure::client::outcome::{BODY_TOO_LONG, CLOSED_MID_ANSWER, NOT_HTTP, TIMEOUT_KIND};

const TIMEOUT: Duration = Duration::from_secs(1);

/// What the hyper client (bench's and attack's) must name each server's
/// answer; `ClosesAfterFirst` answers the first request of each
/// connection and is checked apart.
fn kind(b: Behaviour) -> &'static str {
    match b {
        Behaviour::NeverAnswers | Behaviour::StallsBody => TIMEOUT_KIND,
        Behaviour::EndlessChunked | Behaviour::EndlessLength => BODY_TOO_LONG,
        Behaviour::Garbage => NOT_HTTP,
        Behaviour::StatusLineOnly | Behaviour::ClosesMidBody | Behaviour::ClosesAfterFirst => {
            CLOSED_MID_ANSWER
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_names_every_hostile_answer_and_ends_in_time() {
    let servers: Vec<Hostile> = Behaviour::ALL.iter().map(|&b| Hostile::start(b)).collect();
    let runs = servers.iter().map(|server| async move {
        // Six requests. On one connection, a server that closes each
        // kept-alive connection after its first answer gets exactly three;
        // the others get six connections, so a timeout is waited for once.
        let connections = if server.behaviour() == Behaviour::ClosesAfterFirst { 1 } else { 6 };
        let opts = BenchOptions {
            total: Some(6),
            timeout: TIMEOUT,
            ..BenchOptions::new(server.url("/health"), connections)
        };
        let started = Instant::now();
        let result = bench::run(&opts, None).await;
        (server.behaviour(), started.elapsed(), result)
    });
    for (behaviour, took, result) in futures::future::join_all(runs).await {
        let r = result.unwrap_or_else(|e| panic!("{behaviour:?}: {e}"));
        // One timeout at most (six in parallel, or three answers and three
        // closes): 1 s on an idle machine, 4 s with a generous band.
        assert!(took < TIMEOUT + Duration::from_secs(3), "{behaviour:?} took {took:?}");
        assert_eq!(r.requests, 6, "{behaviour:?}: {r:?}");
        if behaviour == Behaviour::ClosesAfterFirst {
            assert_eq!(r.status_counts, BTreeMap::from([(200, 3)]), "{behaviour:?}: {r:?}");
            assert_eq!(r.error_kinds, BTreeMap::from([(kind(behaviour).into(), 3)]), "{r:?}");
            assert_eq!(r.errors, 3);
        } else {
            assert_eq!(
                r.error_kinds,
                BTreeMap::from([(kind(behaviour).into(), 6)]),
                "{behaviour:?}: {r:?}"
            );
            assert_eq!((r.errors, r.latency.count), (6, 0), "{behaviour:?}: {r:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_names_every_hostile_answer_and_ends_in_time() {
    let servers: Vec<Hostile> = Behaviour::ALL.iter().map(|&b| Hostile::start(b)).collect();
    let runs = servers.iter().map(|server| async move {
        // 10 requests due over 0.5 s; the server's /metrics is sampled too
        // (none of them has one: the sampler must give up, not hang).
        let opts = AttackOptions {
            timeout: TIMEOUT,
            ..AttackOptions::new(server.url("/health"), 20.0, Duration::from_millis(500))
        };
        let started = Instant::now();
        let result = attack::run(&opts, None).await;
        (server.behaviour(), started.elapsed(), result)
    });
    for (behaviour, took, result) in futures::future::join_all(runs).await {
        let r = result.unwrap_or_else(|e| panic!("{behaviour:?}: {e}"));
        // The duration, then the last request's timeout, then the
        // sampler's last read (its own timeout, 1 s): 2.5 s at most on an
        // idle machine, 6 s with a generous band.
        assert!(took < Duration::from_secs(6), "{behaviour:?} took {took:?}");
        assert_eq!((r.requests, r.dropped), (10, 0), "{behaviour:?}: {r:?}");
        assert!(r.outcomes_add_up(), "{behaviour:?}: {r:?}");
        let named: u64 = r.error_kinds.get(kind(behaviour)).copied().unwrap_or(0);
        if behaviour == Behaviour::ClosesAfterFirst {
            // A connection's second request finds it closing; which
            // requests reuse a connection depends on their timing, so
            // only the sum is exact.
            assert_eq!(r.ok + named, 10, "{behaviour:?}: {r:?}");
            assert!(r.ok >= 1, "{r:?}");
            assert_eq!(r.error_kinds.len(), usize::from(named > 0), "{r:?}");
        } else {
            assert_eq!(
                r.error_kinds,
                BTreeMap::from([(kind(behaviour).into(), 10)]),
                "{behaviour:?}: {r:?}"
            );
            assert_eq!(r.ok, 0, "{behaviour:?}: {r:?}");
        }
    }
}

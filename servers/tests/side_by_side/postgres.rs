//! The four servers on a real PostgreSQL (`--io-backend postgres=URL`):
//! /db-simulation runs `SELECT pg_sleep(s)`. Each test skips, saying so,
//! when KIT_DATABASE_URL is not set; CI starts a throwaway server.
//!
//! Timing against the slot model, paired with exact counts: the pool's own
//! `peak_in_use` and `timeouts`, and `peak_in_flight`.

use std::time::{Duration, Instant};

use kit_measure::burst::burst;
use kit_measure::expect::{assert_ok, Band, Expect};
use kit_measure::harness::{get, Server, Target};
use kit_measure::slots::db_binding;
use kit_measure::{database, pool_grade};

use crate::common::grading::{assert_mentions, failure};
use crate::common::{slots, start, VARIANTS};

const DEADLINE: Duration = Duration::from_secs(60);
/// Real queries add a connection and a round trip to each timer: a wider
/// band than the timer tests', still far narrower than the factor a wrong
/// slot count makes (10 rounds against 1 or 100).
const BAND: Band = Band { below: 0.05, above: 0.5, slack: Duration::from_millis(800) };

fn on_postgres(variant: &str, url: &str, extra: &[&str]) -> Server {
    let backend = format!("postgres={url}");
    let mut args = vec!["--io-backend", backend.as_str()];
    args.extend_from_slice(extra);
    start(variant, &args)
}

#[test]
fn postgres_a_pool_of_10_serves_100_queries_in_10_rounds() {
    let Some(url) = database::url_or_skip("postgres_a_pool_of_10_serves_100_queries_in_10_rounds")
    else {
        return;
    };
    let db = Duration::from_millis(200);
    let server = on_postgres("async-native", &url, &["--pool-size", "10", "--db-ms", "200"]);
    let b = burst(&server, "/db-simulation", 100, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
    let pool = b.after.pool.clone().expect("async-native on postgres reports its pool");
    // The slot model names the pool: async-native's own slots are unbounded.
    let (model, why) = db_binding(100, db, None, Some(&pool));
    assert_eq!(model.rounds(), 10, "{why:?}");
    assert!(why.is_some_and(|w| w.contains("pool of 10 connections")));
    let expect = Expect::new(Some(10), db).band(BAND);
    assert_ok(expect.no_errors(&b));
    assert_ok(expect.total(&b));
    // Exact: never an 11th connection lent out, and every request was
    // inside its handler at once (waiting for the pool, not for a thread).
    assert_eq!(pool.peak_in_use, 10, "pool peak_in_use: {pool:?}");
    assert_eq!(pool.timeouts, 0, "no request waited past --io-timeout-ms: {pool:?}");
    assert_eq!(b.peak_in_flight(), 100);
}

#[test]
fn postgres_the_four_servers_wait_on_real_queries() {
    let Some(url) = database::url_or_skip("postgres_the_four_servers_wait_on_real_queries") else {
        return;
    };
    let db = Duration::from_millis(150);
    for variant in VARIANTS {
        let server = on_postgres(variant, &url, &["--db-ms", "150"]);
        // 8 at once: two rounds on the blocking servers' 4 threads (one
        // connection each), one round through async-native's pool of 10.
        let b = burst(&server, "/db-simulation", 8, DEADLINE).unwrap_or_else(|e| panic!("{e}"));
        assert_ok(Expect::new(slots(variant), db).band(BAND).all(&b));
        let handler = b.handler_time().expect("the handler reports its time");
        assert!(
            handler >= db.mul_f64(0.95),
            "{variant}: {handler:?} inside the handler for a {db:?} query"
        );
        match (variant, &b.after.pool) {
            ("async-native", Some(pool)) => assert_eq!(pool.peak_in_use, 8, "{pool:?}"),
            ("async-native", None) => panic!("async-native on postgres must report its pool"),
            (_, pool) => assert_eq!(*pool, None, "{variant}: one connection per thread, no pool"),
        }
        let (status, body) =
            get(server.addr, "/db-simulation?db_ms=100", DEADLINE).expect("one more query");
        assert_eq!(status, 200, "{variant}: {body}");
        assert!(body.contains("\"waits_ms\":[100]"), "{variant}: {body}");
    }
}

#[test]
fn postgres_a_database_that_is_down_is_a_fast_503_on_all_four() {
    let url = database::url_nobody_listens_on();
    for variant in VARIANTS {
        let server = on_postgres(variant, &url, &[]);
        // Twice: the second request neither hangs on a broken connection
        // nor finds the server changed.
        for attempt in 1..=2 {
            let started = Instant::now();
            let (status, body) =
                get(server.addr, "/db-simulation?db_ms=100", DEADLINE).expect("an answer");
            let took = started.elapsed();
            assert_eq!(status, 503, "{variant}, request {attempt}: {body}");
            let json: serde_json::Value =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("{variant}: {e}: {body}"));
            let error = json["error"].as_str().unwrap_or_default();
            assert!(error.starts_with("database unavailable"), "{variant}: {body}");
            assert!(
                took < Duration::from_secs(2),
                "{variant}, request {attempt}: {took:?} for a refused connection"
            );
        }
    }
}

#[test]
fn postgres_a_pool_exhausted_past_its_timeout_answers_503_quickly() {
    let Some(url) =
        database::url_or_skip("postgres_a_pool_exhausted_past_its_timeout_answers_503_quickly")
    else {
        return;
    };
    let server = on_postgres("async-native", &url, &["--pool-size", "1", "--io-timeout-ms", "200"]);
    // Connect the pool's one connection first, so that the race below is
    // only about who gets it.
    // Opening it counts against the 200 ms too, and on a loaded machine it
    // can take longer (a 503 on the first try was seen in CI): try again.
    let warmed = Instant::now();
    let mut warm = get(server.addr, "/db-simulation?db_ms=1", DEADLINE).expect("warm-up");
    while warm.0 == 503 && warmed.elapsed() < Duration::from_secs(10) {
        warm = get(server.addr, "/db-simulation?db_ms=1", DEADLINE).expect("warm-up");
    }
    assert_eq!(warm.0, 200, "warm-up: {}", warm.1);
    let addr = server.addr;
    let one = || {
        std::thread::spawn(move || {
            let started = Instant::now();
            let (status, body) =
                get(addr, "/db-simulation?db_ms=1000", DEADLINE).expect("an answer");
            (status, body, started.elapsed())
        })
    };
    let (a, b) = (one(), one());
    let mut answers = [a.join().unwrap(), b.join().unwrap()];
    answers.sort_by_key(|(status, _, _)| *status);
    let [(ok, _, ok_took), (busy, body, busy_took)] = answers;
    assert_eq!(
        (ok, busy),
        (200, 503),
        "one query gets the connection, the other times out: {body}"
    );
    assert!(body.contains("pool exhausted"), "{body}");
    assert!(
        busy_took < Duration::from_millis(700),
        "the 503 took {busy_took:?}: it should come at the 200 ms timeout"
    );
    assert!(ok_took >= Duration::from_millis(950), "the query itself ran {ok_took:?}");
    let pool = server.metrics().expect("metrics").pool.expect("a pool");
    assert_eq!((pool.size, pool.peak_in_use, pool.timeouts), (1, 1, 1), "{pool:?}");
}

#[test]
fn postgres_a_large_pool_does_not_hide_an_unbounded_wait_from_pool_check_3() {
    let Some(url) = database::url_or_skip(
        "postgres_a_large_pool_does_not_hide_an_unbounded_wait_from_pool_check_3",
    ) else {
        return;
    };
    // A pool of 100 and a 60 s wait for a connection: 100 queries of 1 s
    // would all be served in one round, inside check 3's 3 s. Sized from
    // the pool, the burst is 500: 5 rounds, and the wait shows.
    let backend = format!("postgres={url}");
    let env = [
        ("KIT_IO_BACKEND", backend.as_str()),
        ("KIT_POOL_SIZE", "100"),
        ("KIT_IO_TIMEOUT_MS", "60000"),
    ];
    let message = failure(|| {
        pool_grade::a_burst_past_the_pool_gets_quick_503s_in_env(
            env!("CARGO_BIN_EXE_async-native"),
            20,
            pool_grade::NoDatabase::Fail,
            &env,
        )
    })
    .expect("an unbounded wait must fail check 3 whatever the pool's size");
    assert_mentions(
        &message,
        &["500 concurrent 1000 ms queries", "were left waiting", "pool size 100", "hint 2"],
    );
}

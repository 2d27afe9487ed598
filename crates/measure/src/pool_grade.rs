//! The pool exercise's grade: an async server whose queries go through a
//! database pool (exercises/pool). One implementation, called by the
//! exercise and its solution with their own binary and the capacity the
//! database gives the app.
//!
//! A pool is a slot limit too: N queries of t on a pool of p connections
//! take ceil(N / p) x t, however many requests the server holds at once.
//! The checks, each timed against that model and paired with an exact count
//! from the pool's own /metrics (`peak_in_use`, `timeouts`):
//!   1. a burst takes the rounds of the database's capacity, not of a
//!      smaller pool;
//!   2. the pool never holds more connections than the database gives;
//!   3. a burst the pool cannot serve in time gets quick 503s, not a hang
//!      (sized from the pool the server reports, so that no pool is large
//!      enough to hide a wait with no bound).
//!
//! It needs a real PostgreSQL (`KIT_DATABASE_URL`). Without one the
//! exercise's grade fails and says how to get one; the solution's tests,
//! which run in the root `cargo test --release` on any laptop, skip and say so.

use std::path::Path;
use std::time::Duration;

use crate::burst::{burst, Burst};
use crate::database;
use crate::expect::Band;
use crate::grade::failure::{diagnose, fail, Next};
use crate::grade::{start, IO_MS};
use crate::harness::{Server, Target};
use crate::slots::{db_binding, rounds, SlotModel};

/// The burst, and each query's own time (asked for with ?db_ms).
pub const N: u64 = 100;
pub const DB_MS: u64 = 100;
/// Check 3: queries long enough that the pool cannot serve the burst
/// within the deadline, and the deadline a bounded wait must meet.
pub const LONG_DB_MS: u64 = 1000;
const LONG_DEADLINE: Duration = Duration::from_secs(3);
/// Checks 1 and 2 give up after this: a pool of 2 needs 5 s.
const DEADLINE: Duration = Duration::from_secs(15);
/// Real queries: a connection and a round trip on top of each timer.
const BAND: Band = Band { below: 0.05, above: 0.5, slack: Duration::from_millis(800) };

/// What a check does when no database is set (`KIT_DATABASE_URL`): fail
/// (the exercise) or skip (the solution, whose grade runs in every
/// `cargo test --release`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoDatabase {
    Fail,
    Skip,
}

/// How to get the database the grade needs (`kit learn` says the same).
pub const GET_A_DATABASE: &str = "set KIT_DATABASE_URL to a PostgreSQL you may use, e.g. \
    `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16` and \
    KIT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres; or, where PostgreSQL is installed, from the \
    repository root: `source .ci/postgres.sh && start_throwaway_postgres && (cd exercises/pool && cargo test --release)` \
    (a throwaway server, removed when that shell exits). Then run the grade again.";

/// The server under grade on the database, or `None` when the check skips.
fn server(bin: &Path, check: &str, without: NoDatabase, env: &[(&str, &str)]) -> Option<Server> {
    if database::url().is_none() {
        match without {
            NoDatabase::Skip => {
                database::url_or_skip(check);
                return None;
            }
            NoDatabase::Fail => fail(
                &format!("{check}: no database to measure"),
                &format!(
                    "  this exercise's server queries a real PostgreSQL, and {} is not set. A grade that passed \
                     without measuring would lie.",
                    database::ENV
                ),
                Next::Setup(GET_A_DATABASE),
            ),
        }
    }
    Some(start(bin, IO_MS, env))
}

fn fire(server: &mut Server, path: &str, n: u64, deadline: Duration) -> Burst {
    burst(server, path, n, deadline).unwrap_or_else(|e| {
        let diagnosis = diagnose(server);
        fail(&format!("{n} x {path} could not be measured: {e}"), &diagnosis, Next::Crash)
    })
}

/// The pool from /metrics; a server without one cannot be graded on it.
fn pool_of(b: &Burst) -> kit_serve::contract::PoolStats {
    pool_in(&b.after)
}

/// The pool a /metrics snapshot reports, or a failure that says where it went.
fn pool_in(m: &kit_serve::contract::MetricsSnapshot) -> kit_serve::contract::PoolStats {
    m.pool.clone().unwrap_or_else(|| {
        fail(
            "the server's /metrics reports no pool",
            "  the grade reads the pool's size and peak_in_use there: keep `.slots(Slots::Pool)` in main.",
            Next::Hint(1),
        )
    })
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// What a burst measured, and what the slot model makes of it with the pool
/// as the slot count. Every figure is measured or the model's product.
fn report(b: &Burst, t: Duration) -> String {
    let pool = pool_of(b);
    let (model, _) = db_binding(b.n, t, None, Some(&pool));
    format!(
        "  measured: {total:.3} s for {n} x {path} of {t} ms each; pool size {size}, peak_in_use {peak} (exact, \
         from /metrics), {timeouts} requests gave up waiting for a connection; peak_in_flight {inflight} \
         (requests inside handlers at once)\n  \
         slot model, with the pool as the slots: {n} x {t} ms / {size} = {rounds} = {pred:.3} s",
        total = b.total.as_secs_f64(),
        n = b.n,
        path = b.path,
        t = t.as_millis(),
        size = pool.size,
        peak = pool.peak_in_use,
        timeouts = pool.timeouts,
        inflight = b.peak_in_flight(),
        rounds = rounds(model.rounds()),
        pred = model.predicted().as_secs_f64(),
    )
}

/// Check 1: N queries take the rounds of the database's capacity.
pub fn takes_the_rounds_of_the_capacity(bin: impl AsRef<Path>, capacity: u64, without: NoDatabase) {
    let Some(mut server) = server(bin.as_ref(), "check 1", without, &[]) else {
        return;
    };
    let t = ms(DB_MS);
    let b = fire(&mut server, &format!("/db-simulation?db_ms={DB_MS}"), N, DEADLINE);
    let pool = pool_of(&b);
    let goal = SlotModel::new(N, t, Some(capacity));
    let detail = |meaning: String| {
        format!(
            "{}\n{meaning}\n  goal: the database gives this app {capacity} connections: {N} x {DB_MS} ms / {capacity} \
             = {} = {:.3} s, peak_in_use {}",
            report(&b, t),
            rounds(goal.rounds()),
            goal.predicted().as_secs_f64(),
            capacity.min(N)
        )
    };
    if b.ok != b.n {
        fail(
            &format!("{} of {N} queries failed (statuses {:?})", b.n - b.ok, b.status_counts),
            &detail(
                "  meaning: a query that fails never waited its turn: nothing below is measured."
                    .into(),
            ),
            Next::Hint(2),
        );
    }
    if pool.peak_in_use < capacity.min(N)
        || !BAND.contains(goal.predicted(), b.total) && b.total > goal.predicted()
    {
        fail(
            &format!("{N} concurrent queries took {:.1} rounds of {DB_MS} ms", b.total.as_secs_f64() / t.as_secs_f64()),
            &detail(format!(
                "  meaning: all {} requests were inside handlers at once, but only {} could query at a time: the \
                 rest waited for a connection. The pool is the binding slot limit, smaller than what the \
                 database gives.",
                b.peak_in_flight(),
                pool.peak_in_use
            )),
            Next::Hint(1),
        );
    }
}

/// Check 2: the pool never lends more connections than the database gives.
pub fn stays_within_the_capacity(bin: impl AsRef<Path>, capacity: u64, without: NoDatabase) {
    let Some(mut server) = server(bin.as_ref(), "check 2", without, &[]) else {
        return;
    };
    let t = ms(DB_MS);
    let b = fire(&mut server, &format!("/db-simulation?db_ms={DB_MS}"), N, DEADLINE);
    let pool = pool_of(&b);
    if pool.size > capacity || pool.peak_in_use > capacity {
        fail(
            &format!("the pool holds up to {} connections; the database gives this app {capacity}", pool.size),
            &format!(
                "{}\n  meaning: a pool larger than the database's capacity does not add slots: past {capacity} \
                 connections the database refuses new ones (max_connections), or every other app on it \
                 loses its share. The fast time is borrowed.\n  goal: pool size <= {capacity}, peak_in_use <= {capacity}",
                report(&b, t)
            ),
            Next::Hint(3),
        );
    }
}

/// Check 3's burst for a pool of `size`: at least `N`, and always more
/// queries than the pool can serve before the deadline (two rounds past
/// it), so that a wait with no bound shows as clients left waiting however
/// large the pool is. A pool too large for the database is check 2's
/// finding; this check is about the wait.
pub fn past_the_pool(size: u64) -> u64 {
    let rounds_in_time = LONG_DEADLINE.as_millis() as u64 / LONG_DB_MS;
    (size * (rounds_in_time + 2)).clamp(N, MAX_BURST)
}

/// The largest burst check 3 sends (a pool of 400 connections): far past
/// any database's capacity, and still bounded in count and time.
const MAX_BURST: u64 = 2000;

/// Check 3: a burst the pool cannot serve within the deadline gets every
/// answer in time: the queries that get a connection, and quick 503s.
pub fn a_burst_past_the_pool_gets_quick_503s(
    bin: impl AsRef<Path>,
    capacity: u64,
    without: NoDatabase,
) {
    a_burst_past_the_pool_gets_quick_503s_in_env(bin, capacity, without, &[]);
}

/// Check 3 with extra environment variables for the server (the kit's own
/// tests use it on async-native with a pool of 100).
pub fn a_burst_past_the_pool_gets_quick_503s_in_env(
    bin: impl AsRef<Path>,
    _capacity: u64,
    without: NoDatabase,
    env: &[(&str, &str)],
) {
    let Some(mut server) = server(bin.as_ref(), "check 3", without, env) else {
        return;
    };
    let t = ms(LONG_DB_MS);
    // The burst is sized from the pool the server reports, before any load.
    let before = server.metrics().unwrap_or_else(|e| {
        let diagnosis = diagnose(&mut server);
        fail(&format!("the server's /metrics did not answer: {e}"), &diagnosis, Next::Crash)
    });
    let n = past_the_pool(pool_in(&before).size);
    let b = fire(&mut server, &format!("/db-simulation?db_ms={LONG_DB_MS}"), n, LONG_DEADLINE);
    let pool = pool_of(&b);
    let unavailable = b.status_counts.get(&503).copied().unwrap_or(0);
    let other = b.errors - b.timed_out - unavailable;
    let (model, _) = db_binding(n, t, None, Some(&pool));
    let counts = format!(
        "  answered within {:.0} s: {} queries (200), {unavailable} x 503; {} still waiting when the grade gave up",
        LONG_DEADLINE.as_secs_f64(),
        b.ok,
        b.timed_out
    );
    if b.timed_out > 0 || other > 0 {
        fail(
            &format!("{n} concurrent {LONG_DB_MS} ms queries: {} clients were left waiting", b.timed_out + other),
            &format!(
                "{}\n{counts} (statuses {:?})\n  meaning: the last of {n} clients would wait {} = {:.0} s for a \
                 connection. A wait with no bound is a hang to the client, and the requests pile up inside the \
                 server. Bound the wait for a connection (sqlx: acquire_timeout, then PoolTimedOut) and answer \
                 503 when it runs out.\n  goal: every request answered within {:.0} s: a query, or a quick 503",
                report(&b, t),
                b.status_counts,
                rounds(model.rounds()),
                model.predicted().as_secs_f64(),
                LONG_DEADLINE.as_secs_f64()
            ),
            Next::Hint(2),
        );
    }
    if pool.timeouts != unavailable {
        fail(
            "the 503s are not the pool's timeouts",
            &format!("{}\n{counts}; the pool counted {} timeouts", report(&b, t), pool.timeouts),
            Next::Hint(2),
        );
    }
}

/// The pool grade's checks as `#[test]`s: `pool_grade_tests!(bin, capacity)`
/// fails without a database (the exercise); add `, skip_without_database`
/// to skip instead (the solution, part of every `cargo test --release`).
#[macro_export]
macro_rules! pool_grade_tests {
    ($server:expr, $capacity:expr) => {
        $crate::pool_grade_tests!(@checks $server, $capacity, $crate::pool_grade::NoDatabase::Fail);
    };
    ($server:expr, $capacity:expr, skip_without_database) => {
        $crate::pool_grade_tests!(@checks $server, $capacity, $crate::pool_grade::NoDatabase::Skip);
    };
    (@checks $server:expr, $capacity:expr, $without:expr) => {
        #[test]
        fn check_1_a_burst_takes_the_rounds_of_the_database_capacity() {
            $crate::pool_grade::takes_the_rounds_of_the_capacity($server, $capacity, $without);
        }

        #[test]
        fn check_2_the_pool_stays_within_the_database_capacity() {
            $crate::pool_grade::stays_within_the_capacity($server, $capacity, $without);
        }

        #[test]
        fn check_3_a_burst_past_the_pool_gets_quick_503s() {
            $crate::pool_grade::a_burst_past_the_pool_gets_quick_503s($server, $capacity, $without);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_3_sends_more_than_any_pool_serves_in_time() {
        // 3 s of 1 s queries is 3 rounds: two more make the wait show.
        assert_eq!([2, 20, 100, 1000].map(past_the_pool), [N, N, 500, MAX_BURST]);
    }
}

//! The grade: one implementation, called by every exercise and solution crate
//! with its own binary (`tests/grade.rs` there is five one-line tests).
//!
//! A passing server behaves like a native async server on the shared
//! contract. Each check measures twice: time against the slot model, and a
//! count that no noise can stretch (`peak_in_flight`, the CPU jobs running
//! at once, the OS thread count). The time per request in every sentence is
//! the server's own time inside its handler, from its /metrics, so a
//! sentence never contradicts the count printed beside it. A failure names
//! the hint whose lesson the measurement missed; a server that crashed is
//! reported as crashed, in its own words, with no hint.
//!
//! A tick is earned only by a server that has the property it names: every
//! burst (checks 1, 2 and 4) also counts the OS threads, before the load and
//! during it, so a time bought with threads fails where it was bought; and
//! the slots a server declares in /metrics must not be contradicted by the
//! `peak_in_flight` it measured.
//!
//! The checks are here; what a failure says (shared with
//! [`crate::pool_grade`]) is in [`failure`].
//!
//! The grade runs with short waits (io 100 ms, db 60 ms) so a learner gets an
//! answer in seconds; the lesson is the same at any scale. Check 4 waits
//! 300 ms, so that 1000 requests can all arrive inside one wait.

use std::path::Path;
use std::sync::RwLock;
use std::time::Duration;

use kit_serve::config::cores;
use kit_serve::contract::MetricsSnapshot;

use crate::burst::{burst, Burst};
use crate::expect::Band;
use crate::harness::{Server, Target};
use crate::probe::{cancelled_cpu_jobs, health_under_cpu_load};
use crate::slots::{rounds, whole_ms, SlotModel};

pub mod failure;
use failure::{crash_lines, diagnose, fail, indent, Next};

/// The grade's I/O unit and database wait.
pub const IO_MS: u64 = 100;
pub const DB_MS: u64 = 60;
/// Check 4's io wait. Even with every connection open before the first
/// request is sent, a passing server needs about 60 ms on 2 cores to read
/// 1000 requests; with a 100 ms wait and a noisy machine the first answers
/// could leave before the last requests arrive, and peak_in_flight would
/// measure that ramp instead of the server's slots. 300 ms leaves 5x room,
/// and a blocked server still drains its queue in seconds afterwards.
pub const IO_LARGE_MS: u64 = 300;
/// The grade's burst size, and the burst that thread-per-request cannot survive.
pub const N: u64 = 100;
pub const N_LARGE: u64 = 1000;
/// A passing server keeps at most this many OS threads at 1000 requests.
/// A native server needs a handful; thread-per-request needs hundreds.
pub const MAX_THREADS: u64 = 64;
/// /health p99 and executor lag under CPU load must stay below this.
pub const FAST_MS: f64 = 50.0;
/// How long check 3 keeps the CPU busy.
const CPU_DURATION: Duration = Duration::from_secs(2);
/// The grade gives up on a burst after this long, so a blocked server fails
/// instead of hanging the grade. A server with 4 slots needs 5 s for
/// check 1 and 7.5 s for check 2; a native one needs well under a second.
const DEADLINE: Duration = Duration::from_secs(15);
/// Check 4's deadline: a blocked server would need 150 s for 1000 requests,
/// and the first few rounds already tell. A passing server needs one round
/// of 0.3 s.
const DEADLINE_LARGE: Duration = Duration::from_secs(3);
/// A band for one round of a short wait: reading 100 to 1000 requests that
/// arrive at once takes a passing server tens of ms on 2 cores, and a noisy
/// neighbour can add a few hundred; the counts carry the precision.
const ONE_ROUND: Band = Band { below: 0.05, above: 0.5, slack: Duration::from_millis(400) };
/// A request's own time inside its handler, as a multiple of the waits it
/// must make: timers never fire early (so at least 0.95 of the waits), and
/// overlapping waits stay well under the 2 x io that sequential ones take.
const OWN_TIME: (f64, f64) = (0.95, 1.5);

/// Timing checks (1 and 2) share the machine; CPU-heavy checks (3 and 4)
/// run alone; check 5 times nothing and takes no part.
static MACHINE: RwLock<()> = RwLock::new(());

/// The machine to oneself, as checks 3 and 4 take it: for the kit's own
/// tests that must not run beside them (CPU saturation, its own timings).
pub fn alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    // Where libtest starts every check at once (as many threads as checks,
    // as on a laptop with that many cores, or `kit learn`), the timing
    // checks started beside this one take their share first: std's RwLock
    // lets a waiting writer hold back new readers, and checks 1 and 2 would
    // otherwise run one after the other, after checks 3 and 4.
    std::thread::sleep(Duration::from_millis(100));
    MACHINE.write().unwrap_or_else(|p| p.into_inner())
}

/// More CPU clients than cores, so that a missing cap shows as more CPU
/// jobs at once than cores, on any laptop.
fn cpu_clients() -> usize {
    (2 * cores()).max(8)
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Starts the server under grade with the grade's short waits; a server that
/// does not start fails the check as a crash, in its own words.
pub(crate) fn start(bin: &Path, io_ms: u64, env: &[(&str, &str)]) -> Server {
    let args = ["--io-ms".to_string(), io_ms.to_string(), "--db-ms".into(), DB_MS.to_string()];
    // A crash is quoted by its message and location; a backtrace of the
    // server would bury them, whatever the learner's RUST_BACKTRACE says.
    let env: Vec<(&str, &str)> = env.iter().copied().chain([("RUST_BACKTRACE", "0")]).collect();
    Server::start_with_env(bin, &args, &env).unwrap_or_else(|e| {
        let e = e.to_string();
        fail(
            "the server did not start",
            &format!("{}\n  {}", crash_lines(&e), indent(&e)),
            Next::Crash,
        )
    })
}

/// The peak OS thread count that `check` compares with its limit; where this
/// system gives no reading, the check fails: a limit nobody can see must not pass.
pub fn known_threads(peak: Option<u64>, check: u32, hint: u32) -> u64 {
    peak.unwrap_or_else(|| {
        fail(
            &format!("OS thread count unavailable on this system: check {check} cannot verify the thread limit"),
            &format!("  the kit reads OS threads on Linux and macOS; on {} it has no reading.", kit_serve::os::NAME),
            Next::Hint(hint),
        )
    })
}

/// Fires a burst; a server that died is diagnosed from its own output.
/// Requests still unanswered at the deadline are a finding about slots,
/// not an error: the burst goes on to the checks.
fn fire(server: &mut Server, path: &str, n: u64, deadline: Duration) -> Burst {
    let died = |server: &mut Server, what: String| -> ! {
        let diagnosis = diagnose(server);
        let next = if server.exited().is_some() { Next::Crash } else { Next::Hint(2) };
        fail(&what, &diagnosis, next)
    };
    match burst(server, path, n, deadline) {
        Ok(b) if b.errors == b.timed_out && server.exited().is_none() => b,
        Ok(b) => died(
            server,
            format!(
                "{n} x {path}: {} requests failed (statuses {:?}, errors {:?})",
                b.errors, b.status_counts, b.error_kinds
            ),
        ),
        Err(e) => died(server, format!("{n} x {path} could not be measured: {e}")),
    }
}

/// What a burst says in slot language: what was measured, and how the slot
/// model explains it. Times are whole milliseconds, so that the printed
/// figures multiply out.
fn report(b: &Burst) -> String {
    let t = b.handler_time().map_or(0, whole_ms);
    let peak = b.peak_in_flight();
    let total = b.total.as_secs_f64();
    let answered = if b.timed_out > 0 {
        format!(" (only {} of {} answered before the grade gave up)", b.ok, b.n)
    } else {
        String::new()
    };
    let model = SlotModel::new(b.n, ms(t), Some(peak.max(1)));
    // Requests that waited at once: the answered ones' handler time over the
    // total (unanswered requests have not spent theirs yet).
    let done = if b.timed_out > 0 { format!("{} answered", b.ok) } else { b.n.to_string() };
    let seen = if total > 0.0 { b.ok as f64 * t as f64 / 1000.0 / total } else { 0.0 };
    format!(
        "  measured: {total:.3} s for {n} x {path}{answered}; {t} ms per request inside its handler (the \
         server's own p50, from /metrics); peak_in_flight {peak} (exact: the most requests inside handlers \
         at the same moment)\n  \
         slot model: {n} requests of {t} ms on {peak} slots = {rounds} x {t} ms = {pred:.3} s; \
         measured {done} x {t} ms / {total:.3} s = about {seen:.1} requests waiting at once",
        n = b.n,
        path = b.path,
        rounds = rounds(model.rounds()),
        pred = model.rounds() as f64 * t as f64 / 1000.0,
    )
}

/// The slot knob of the binary under grade, as its flag: `--worker-threads`
/// on the trap, `--workers` on the wrapper, from the knobs in its /metrics.
fn knob(m: &MetricsSnapshot) -> (String, String) {
    ["worker_threads", "workers", "threads"]
        .iter()
        .find_map(|k| {
            m.knobs.get(*k).map(|v| (format!("--{}", k.replace('_', "-")), v.to_string()))
        })
        .unwrap_or_else(|| ("its thread knob".into(), "?".into()))
}

/// Fails unless `b` took one round of `waits` x `unit`, with every request
/// inside a handler at once and each spending about `waits` x `unit` there.
/// `overlap`: the waits may run together (then 1 x unit is the goal).
struct Round<'a> {
    what: &'a str,
    unit: Duration,
    /// Waits one request must spend inside its handler, in units.
    own: f64,
    slots_hint: u32,
    own_time_hint: u32,
}

fn expect_one_round(b: &Burst, r: &Round) {
    let peak = b.peak_in_flight();
    let goal = format!(
        "  goal: 1 round of {} ms, peak_in_flight {}",
        whole_ms(r.unit.mul_f64(r.own)),
        b.n
    );
    let failed = |meaning: String, hint: u32| -> ! {
        fail(r.what, &format!("{}\n{meaning}\n{goal}", report(b)), Next::Hint(hint))
    };
    let Some(own) = b.handler_time() else {
        fail(
            r.what,
            &format!(
                "  the server's /metrics has no {} latency: did the requests reach a handler?",
                b.path
            ),
            Next::Hint(6),
        )
    };
    let (low, high) = (r.unit.mul_f64(r.own * OWN_TIME.0), r.unit.mul_f64(r.own * OWN_TIME.1));
    let units = own.as_secs_f64() / r.unit.as_secs_f64();
    // Skipped waits first: without the waits, no other number means anything.
    if own < low {
        failed(
            format!(
                "  meaning: one request spent {} ms inside its handler, {units:.1} x the {} ms wait, where the \
                 contract asks for {} x: the waits were skipped or shortened. The responses must stay the same, \
                 and so must the waiting.",
                whole_ms(own),
                whole_ms(r.unit),
                r.own
            ),
            6,
        );
    }
    if peak < b.n {
        failed(
            format!(
                "  meaning: only {peak} requests were ever inside handlers at once: {peak} slots. Something holds \
                 a thread while it waits: a blocking sleep or call inside an async fn, or a handful of threads \
                 that every request is handed to."
            ),
            r.slots_hint,
        );
    }
    if own > high {
        failed(
            format!(
                "  meaning: all {peak} requests were inside handlers at once (good), but each spent {} ms there: \
                 {units:.1} x the {} ms wait where {} x is possible. The waits inside one request did not \
                 overlap: they ran one after the other.",
                whole_ms(own),
                whole_ms(r.unit),
                r.own
            ),
            r.own_time_hint,
        );
    }
    if !ONE_ROUND.contains(own, b.total) {
        failed(
            "  meaning: every request was inside a handler at once and spent the right time there, yet the \
             burst took longer than one round: the time went outside the handlers (the runtime could not poll \
             them, or the machine was overloaded: run the grade again on a quiet machine)."
                .into(),
            r.slots_hint,
        );
    }
    expect_declared_slots_hold(b);
}

/// The slots a server declares in /metrics are what the kit's tables and
/// predictions use for it: a declaration the exact count contradicts fails,
/// even when every time is right.
fn expect_declared_slots_hold(b: &Burst) {
    let peak = b.peak_in_flight();
    let Some(declared) = b.after.slots.filter(|&s| peak > s) else {
        return;
    };
    fail(
        &format!("the server declares {declared} slots in /metrics, and {peak} requests waited at once"),
        &format!(
            "{}\n  meaning: the waits yield now (good), so threads no longer bound the slots, yet /metrics still \
             says slots {declared}. Every table and prediction the kit makes for this server starts from that \
             declaration: with {declared} slots the model predicts {} for this burst, where it took one. \
             Declare what the server now has: unbounded slots.\n  goal: /metrics slots null (unbounded), or at \
             least the {peak} measured",
            report(b),
            rounds(SlotModel::new(b.n, ms(1), Some(declared)).rounds())
        ),
        Next::Hint(5),
    )
}

/// Check 1: 100 concurrent /parallel overlap, and so do its two waits.
pub fn parallel_overlaps(bin: impl AsRef<Path>) {
    parallel_overlaps_in_env(bin, &[]);
}

/// Check 1 with extra environment variables for the server (the kit's own
/// tests use it to prove that `KIT_WORKER_THREADS=100` fails).
pub fn parallel_overlaps_in_env(bin: impl AsRef<Path>, env: &[(&str, &str)]) {
    let _shared = MACHINE.read().unwrap_or_else(|p| p.into_inner());
    let (mut server, at_rest) = start_on_few_threads(bin.as_ref(), IO_MS, env, 1);
    let b = fire(&mut server, "/parallel", N, DEADLINE);
    expect_no_thread_per_request(&b, at_rest, 1);
    expect_one_round(
        &b,
        &Round {
            what: "100 concurrent /parallel did not finish in one round of one io wait",
            unit: ms(IO_MS),
            own: 1.0,
            slots_hint: 1,
            own_time_hint: 3,
        },
    );
}

/// Check 2: /multi-io (three dependent waits) and /db-simulation scale the same way.
pub fn multi_io_and_db_scale(bin: impl AsRef<Path>) {
    multi_io_and_db_scale_in_env(bin, &[]);
}

/// Check 2 with extra environment variables for the server.
pub fn multi_io_and_db_scale_in_env(bin: impl AsRef<Path>, env: &[(&str, &str)]) {
    let _shared = MACHINE.read().unwrap_or_else(|p| p.into_inner());
    let (mut server, at_rest) = start_on_few_threads(bin.as_ref(), IO_MS, env, 2);
    let b = fire(&mut server, "/multi-io", N, DEADLINE);
    expect_no_thread_per_request(&b, at_rest, 2);
    expect_one_round(
        &b,
        &Round {
            what:
                "100 concurrent /multi-io did not finish in one round of three dependent io waits",
            unit: ms(IO_MS),
            own: 3.0,
            slots_hint: 2,
            own_time_hint: 2,
        },
    );
    let b = fire(&mut server, "/db-simulation", N, DEADLINE);
    expect_no_thread_per_request(&b, at_rest, 2);
    expect_one_round(
        &b,
        &Round {
            what: "100 concurrent /db-simulation did not finish in one round of one query",
            unit: ms(DB_MS),
            own: 1.0,
            slots_hint: 2,
            own_time_hint: 2,
        },
    );
}

/// The OS threads of a server before any load: what its knobs alone cost.
fn threads_at_rest(server: &Server, check: u32) -> u64 {
    known_threads(kit_serve::os::threads(server.pid()), check, 5)
}

/// Fails when the server had more than `MAX_THREADS` OS threads before any
/// load: those threads come from its slot knob, not from the work.
fn expect_few_threads_at_rest(server: &Server, at_rest: u64, check: u32) {
    if at_rest <= MAX_THREADS {
        return;
    }
    let metrics = server.metrics().unwrap_or_else(|e| {
        fail("the server's /metrics did not answer", &format!("  {e}"), Next::Hint(6))
    });
    let (flag, value) = knob(&metrics);
    fail(
        &format!("the server started with {at_rest} OS threads, before any request"),
        &format!(
            "  measured: {at_rest} OS threads (read from outside the process) right after it started, with \
             {flag} {value}; check {check} allows {MAX_THREADS}\n  \
             meaning: these threads exist before any load, so they come from {flag}, not from the work. More \
             threads buy slots one stack at a time; a wait that yields needs no thread at all."
        ),
        Next::Hint(5),
    )
}

/// Starts the server for a burst check and fails it before any load when its
/// knob alone costs more than `MAX_THREADS` threads: a burst's time is only
/// earned with few threads, so every burst check has this exact partner.
fn start_on_few_threads(bin: &Path, io_ms: u64, env: &[(&str, &str)], check: u32) -> (Server, u64) {
    let server = start(bin, io_ms, env);
    let at_rest = threads_at_rest(&server, check);
    expect_few_threads_at_rest(&server, at_rest, check);
    (server, at_rest)
}

/// Fails when the OS threads grew past `MAX_THREADS` during the burst: the
/// time was bought with a thread per waiting request, not earned by waits
/// that yield. Read from outside the process, so no noise can fake it.
fn expect_no_thread_per_request(b: &Burst, at_rest: u64, check: u32) {
    // A missing thread reading fails closed: a limit nobody can see must not pass.
    let peak_threads = known_threads(b.peak_threads, check, 5);
    if peak_threads <= MAX_THREADS {
        return;
    }
    fail(
        &format!("{} concurrent {} ran on {peak_threads} OS threads", b.n, b.path),
        &format!(
            "{}\n  threads: {at_rest} before the burst, {peak_threads} during it (read from outside the process)\n  \
             meaning: the threads grew with the requests: each waiting request took a thread of its own \
             (spawn_blocking around a wait, or a pool that grows). peak_in_flight counts requests inside \
             handlers, not slots: some of those requests were queued inside their handlers for a thread \
             (tokio's blocking pool stops at 512). A wait that yields costs a parked task, not a thread: \
             goal <= {MAX_THREADS} threads.",
            report(b)
        ),
        Next::Hint(5),
    )
}

/// Check 3: CPU work does not stall the server, runs at most one job per
/// core, keeps that cap when clients give up, and adds no thread per request.
pub fn cpu_does_not_stall(bin: impl AsRef<Path>) {
    let _alone = alone();
    let (mut server, at_rest) = start_on_few_threads(bin.as_ref(), IO_MS, &[], 3);
    let (clients, cores) = (cpu_clients(), cores() as u64);
    let p = match health_under_cpu_load(&server, clients, CPU_DURATION) {
        Ok(p) if p.cpu_errors == 0 && p.health_errors == 0 => p,
        Ok(p) => fail(
            "requests failed under CPU load",
            &format!("  {p:?}\n{}", diagnose(&mut server)),
            Next::Hint(4),
        ),
        Err(e) => fail(
            "the CPU check could not be measured",
            &format!("  {e}\n{}", diagnose(&mut server)),
            Next::Hint(4),
        ),
    };
    let lag = p.after.executor_lag_ms.as_ref().map_or(0.0, |l| l.max);
    let jobs = p.after.cpu_jobs_peak;
    // A missing thread reading fails closed: a limit nobody can see must not pass.
    let peak_threads = known_threads(p.peak_threads, 3, 4);
    let measured = format!(
        "  measured, while {clients} clients kept /cpu-intensive busy on {cores} cores: /health p99 {:.1} ms, \
         executor lag max {lag:.1} ms, {jobs} CPU jobs at once at most (counted inside the CPU work), \
         {peak_threads} OS threads at most ({at_rest} before the load)",
        p.health.p99_ms
    );
    // More jobs than cores is named even when the stall is what failed: it
    // oversubscribes the cores, and /health takes turns with the CPU work.
    let too_many_jobs = (jobs > cores).then(|| {
        format!(
            "\n  also: {jobs} CPU jobs ran at once on {cores} cores: they only take turns, and everything else \
             waits for a core too. Cap them at one per core."
        )
    });
    if p.health.p99_ms >= FAST_MS || lag >= FAST_MS {
        fail(
            "CPU work stalls the server",
            &format!(
                "{measured}\n  goal: /health p99 and executor lag both < {FAST_MS} ms\n  \
                 meaning: CPU work cannot yield: it holds its thread until it finishes. /health needs the same \
                 threads (the runtime's workers, or the app threads every request is handed to), so it waits \
                 behind the CPU work. Give CPU work threads of its own.{}",
                too_many_jobs.unwrap_or_default()
            ),
            Next::Hint(4),
        );
    }
    if jobs > cores {
        fail(
            &format!("{jobs} CPU jobs ran at once on {cores} cores"),
            &format!(
                "{measured}\n  goal: at most {cores} CPU jobs at once, one per core\n  \
                 meaning: CPU work is bound by the cores, not by threads: {jobs} jobs on {cores} cores only \
                 take turns, each one slower, with more threads and context switches. Cap them at one per core."
            ),
            Next::Hint(4),
        );
    }
    let cancelled = cancelled_cpu_jobs(&server, cores as usize).unwrap_or_else(|e| {
        fail(
            "the cancellation check could not be measured",
            &format!("  {e}\n{}", diagnose(&mut server)),
            Next::Hint(4),
        )
    });
    if cancelled.cpu_jobs_peak > cores {
        fail(
            "the CPU cap did not survive clients that gave up",
            &format!(
                "  measured: {} /cpu-intensive clients gave up after {} ms each; {} CPU jobs then ran at once on \
                 {cores} cores (counted inside the CPU work)\n  \
                 meaning: a client that gives up drops its request's future, and with it whatever the future \
                 held, such as a semaphore permit. A thread that is already computing cannot be cancelled and \
                 runs on, without its permit, and the next request takes the freed core. Move the permit into \
                 the blocking job, so it is released when the computation ends.",
                cancelled.clients,
                cancelled.gave_up_after.as_millis(),
                cancelled.cpu_jobs_peak
            ),
            Next::Hint(4),
        );
    }
    if peak_threads > MAX_THREADS {
        fail(
            &format!("CPU work ran on {peak_threads} OS threads"),
            &format!(
                "{measured}\n  goal: <= {MAX_THREADS} OS threads\n  \
                 meaning: the threads grew under CPU load from {at_rest}: more threads than cores only take \
                 turns on the same cores."
            ),
            Next::Hint(4),
        );
    }
}

/// Check 4: 1000 concurrent /parallel in about one round, on a small,
/// bounded number of OS threads. Thread-per-request fails here.
pub fn cannot_be_gamed_with_threads(bin: impl AsRef<Path>) {
    cannot_be_gamed_with_threads_in_env(bin, &[]);
}

/// Check 4 with extra environment variables for the server (the kit's own
/// tests use it to prove that `KIT_WORKER_THREADS=1000` fails).
pub fn cannot_be_gamed_with_threads_in_env(bin: impl AsRef<Path>, env: &[(&str, &str)]) {
    let _alone = alone();
    let (mut server, at_rest) = start_on_few_threads(bin.as_ref(), IO_LARGE_MS, env, 4);
    let b = fire(&mut server, "/parallel", N_LARGE, DEADLINE_LARGE);
    expect_no_thread_per_request(&b, at_rest, 4);
    expect_one_round(
        &b,
        &Round {
            what: "1000 concurrent /parallel did not finish in about one round",
            unit: ms(IO_LARGE_MS),
            own: 1.0,
            slots_hint: 1,
            own_time_hint: 3,
        },
    );
}

/// Check 5: the responses keep the contract: the same JSON as async-native.
pub fn keeps_the_contract(bin: impl AsRef<Path>) {
    // No share of the machine taken: this check times nothing (its waits are
    // the ones the answers declare), and its few requests one after another
    // cost no check a measurable CPU. So it need not wait for the others,
    // and `kit learn` shows its verdict within a second of the build.
    let server = start(bin.as_ref(), IO_MS, &[]);
    if let Err(broken) = crate::conformance::check(&server) {
        fail("the responses break the contract", &format!("  {broken}"), Next::Hint(6));
    }
}

/// The five checks as `#[test]` functions against `$server`, the path of the
/// crate's binary: `kit_measure::grade_tests!(env!("CARGO_BIN_EXE_trap"));`
#[macro_export]
macro_rules! grade_tests {
    ($server:expr) => {
        #[test]
        fn check_1_parallel_requests_and_their_waits_overlap() {
            $crate::grade::parallel_overlaps($server);
        }

        #[test]
        fn check_2_multi_io_and_db_scale_the_same_way() {
            $crate::grade::multi_io_and_db_scale($server);
        }

        #[test]
        fn check_3_cpu_work_does_not_stall_the_runtime() {
            $crate::grade::cpu_does_not_stall($server);
        }

        #[test]
        fn check_4_it_cannot_be_gamed_with_threads() {
            $crate::grade::cannot_be_gamed_with_threads($server);
        }

        #[test]
        fn check_5_responses_keep_the_contract() {
            $crate::grade::keeps_the_contract($server);
        }
    };
}

//! fix-variants: the trap, fixed in the ways learners fix it, honest and not.
//!
//! The kit's own tests grade this one binary with different flags, to prove
//! that the grade passes every honest fix and fails every partial one on
//! the check whose lesson it misses (servers/tests/*/grade.rs):
//! - `--waits`: how /parallel's two independent waits are awaited.
//!   `join` (tokio::join!), `spawn` (tokio::spawn both, then await both) and
//!   `futures-join` (futures::join!) overlap them: 1 x io. `sequential`
//!   awaits one after the other: 2 x io, and check 1 must say so.
//!   `skipped` does not wait at all, and says it did: check 1 must notice.
//! - `--cpu`: how /cpu-intensive is taken off the workers. `capped` holds
//!   a per-core permit inside the blocking job; `uncapped` has no cap;
//!   `permit-in-future` holds the permit in the handler's future, which a
//!   client that gives up drops while the job computes on.
//! - `--declare-slots N`: the fix is complete, but /metrics still declares
//!   N slots (the trap's `Slots::Threads(n)` left in place): the grade
//!   must not tick a server whose declaration its own count contradicts.
//!
//! Run: `cargo run -p kit-servers --example fix-variants -- --waits sequential`

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use axum::{routing::get, Json};
use clap::{Parser, ValueEnum};
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{Endpoint, Health, Work};
use kit_serve::handler::{cpu_work, Params};
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use tokio::sync::Semaphore;
use tokio::time::sleep;

const VARIANT: &str = "fix-variants";

static CPU_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(cores())));

#[derive(Clone, Copy, ValueEnum)]
enum Waits {
    Join,
    Spawn,
    FuturesJoin,
    Sequential,
    Skipped,
}

#[derive(Clone, Copy, ValueEnum)]
enum Cpu {
    Capped,
    Uncapped,
    PermitInFuture,
}

#[derive(Parser)]
#[command(about = "The trap fixed in several ways, for the grade's own tests")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, value_enum, default_value = "join")]
    waits: Waits,
    #[arg(long, value_enum, default_value = "capped")]
    cpu: Cpu,
    /// The slots /metrics declares (none: unbounded, as a fixed server says).
    #[arg(long)]
    declare_slots: Option<u64>,
    /// Tokio worker threads.
    #[arg(long, env = "KIT_WORKER_THREADS", default_value_t = 4)]
    worker_threads: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn two_waits(style: Waits, io: Duration) {
    match style {
        Waits::Join => {
            tokio::join!(sleep(io), sleep(io));
        }
        Waits::Spawn => {
            let (a, b) = (tokio::spawn(sleep(io)), tokio::spawn(sleep(io)));
            let _ = (a.await, b.await);
        }
        Waits::FuturesJoin => {
            futures::join!(sleep(io), sleep(io));
        }
        Waits::Sequential => {
            sleep(io).await;
            sleep(io).await;
        }
        Waits::Skipped => {}
    }
}

async fn multi_io(p: Params) -> Json<Work> {
    let started = Instant::now();
    sleep(p.io_wait).await;
    sleep(p.io_wait).await;
    sleep(p.io_wait).await;
    Json(Work::waited(&p, Endpoint::MultiIo, &[p.io_wait, p.io_wait, p.io_wait], started))
}

async fn db_simulation(p: Params) -> Json<Work> {
    let started = Instant::now();
    sleep(p.db_wait).await;
    Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db_wait], started))
}

async fn compute(style: Cpu, rounds: u64) -> u64 {
    let job = |core| {
        move || {
            let _core = core;
            cpu_work(rounds)
        }
    };
    let joined = match style {
        Cpu::Capped => {
            let core = CPU_SLOTS.clone().acquire_owned().await.expect("never closed");
            tokio::task::spawn_blocking(job(Some(core))).await
        }
        Cpu::Uncapped => tokio::task::spawn_blocking(job(None)).await,
        Cpu::PermitInFuture => {
            let _core = CPU_SLOTS.acquire().await.expect("never closed");
            tokio::task::spawn_blocking(job(None)).await
        }
    };
    joined.expect("cpu_work does not panic")
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let (waits, cpu) = (args.waits, args.cpu);
    let parallel = move |p: Params| async move {
        let started = Instant::now();
        two_waits(waits, p.io_wait).await;
        Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started))
    };
    let cpu_intensive = move |p: Params| async move {
        let started = Instant::now();
        let checksum = compute(cpu, p.cpu_rounds).await;
        Json(Work::computed(&p, p.cpu_rounds, checksum, started))
    };
    let server = Server::new(VARIANT, &args.common)
        .knob("worker_threads", args.worker_threads)
        .slots(args.declare_slots.map_or(Slots::Unbounded, Slots::Threads))
        .listen()?;
    let routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .route(Endpoint::Parallel, get(parallel))
        .route(Endpoint::MultiIo, get(multi_io))
        .route(Endpoint::DbSimulation, get(db_simulation))
        .route(Endpoint::CpuIntensive, get(cpu_intensive));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.worker_threads as usize)
        .enable_all()
        .build()?;
    runtime.block_on(server.serve(routes))
}

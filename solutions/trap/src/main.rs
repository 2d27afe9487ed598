//! Solution: the trap, fixed. (`cd solutions/trap && cargo test --release` passes the grade.)
//!
//! Compare with exercises/trap/src/main.rs: the handlers keep their
//! signatures and their responses; only the way they wait changed.
//! - `std::thread::sleep(d)` became `tokio::time::sleep(d).await`: the task
//!   parks and the worker thread goes on polling other requests.
//! - The two independent waits of /parallel run together with `tokio::join!`:
//!   one request takes 1 x io instead of 2.
//! - CPU work, which cannot yield, runs on the blocking pool with
//!   `spawn_blocking`, at most one job per core (a semaphore), so the workers
//!   stay free and the thread count stays small. The permit travels into the
//!   blocking job: a client that gives up drops its handler future, but not
//!   the thread that already computes, so the permit must stay with the thread.
//! - The declared slots in /metrics changed from `Slots::Threads(n)` to
//!   `Slots::Unbounded`: that is the point of the fix, not a detail.
//!
//! The worker threads did not change: 4 was never the problem.
//!
//! Run it by hand: `cargo run -- --port 5002`, then `curl localhost:5002/parallel`.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::{routing::get, Json};
use clap::Parser;
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{ApiError, Endpoint, Health, Work};
use kit_serve::handler::{cpu_work, Params};
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use tokio::sync::Semaphore;
use tokio::time::sleep;

const VARIANT: &str = "solution-trap";

/// CPU jobs running at once: one per core. More only adds threads.
static CPU_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(cores())));

#[derive(Parser)]
#[command(about = "The trap, fixed: async fn handlers whose waits yield; slots are unbounded")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Tokio worker threads. Not a slot limit any more: a waiting task holds none.
    #[arg(long, env = "KIT_WORKER_THREADS", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    worker_threads: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn parallel(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // FIXED: two yielding waits, polled together: 1 x io, no thread held.
    tokio::join!(sleep(p.io_wait), sleep(p.io_wait));
    Ok(Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started)))
}

async fn multi_io(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // FIXED: dependent waits stay in sequence, but each one yields.
    sleep(p.io_wait).await;
    sleep(p.io_wait).await;
    sleep(p.io_wait).await;
    Ok(Json(Work::waited(&p, Endpoint::MultiIo, &[p.io_wait, p.io_wait, p.io_wait], started)))
}

async fn db_simulation(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // FIXED: the "query" yields while it waits.
    sleep(p.db_wait).await;
    Ok(Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db_wait], started)))
}

async fn cpu_intensive(p: Params) -> Json<Work> {
    let started = Instant::now();
    // FIXED: wait (yielding) for a core, then compute on the blocking pool.
    // The permit moves into the job: it is released when the computation
    // ends, not when a client that gave up drops this future.
    let core = CPU_SLOTS.clone().acquire_owned().await.expect("the semaphore is never closed");
    let rounds = p.cpu_rounds;
    let checksum = tokio::task::spawn_blocking(move || {
        let _core = core;
        cpu_work(rounds)
    })
    .await
    .expect("cpu_work does not panic");
    Json(Work::computed(&p, p.cpu_rounds, checksum, started))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new(VARIANT, &args.common)
        .knob("worker_threads", args.worker_threads)
        // FIXED: the declared slots are now unbounded: waits yield.
        .slots(Slots::Unbounded)
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

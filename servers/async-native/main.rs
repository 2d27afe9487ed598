//! async-native: waits that really yield, on one shared runtime.
//!
//! The Python twin is Quart. Every wait is an `.await` (on a timer, an upstream or a database), so while a
//! request waits it holds no thread: its task is parked and the worker polls
//! something else. The two independent waits of /parallel overlap with
//! `tokio::join!`, so it takes 1 x io, not 2. CPU work, which cannot yield,
//! goes to `spawn_blocking`, capped at one job per core, so the workers stay
//! free for everything else. The cap is held by the blocking job itself, not
//! by the handler: when a client gives up, its handler future is dropped,
//! but a thread that is already computing cannot be cancelled and runs on. Slots: as many as memory allows (a parked task
//! and its connection cost kilobytes, not a thread and its stack), so
//! 100 x /parallel takes one round: ~0.5 s.
//!
//! Only this server can afford the long-lived endpoints: /slow, /sse and
//! /ws, in extras.rs beside this file.
//!
//! Run: `cargo run --release --bin async-native -- --port 5004`

mod extras;

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::{routing::get, Json};
use clap::Parser;
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{ApiError, Endpoint, Health, Work};
use kit_serve::handler::{cpu_work, Params};
use kit_serve::io::IoArgs;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use tokio::sync::Semaphore;

const VARIANT: &str = "async-native";

/// CPU jobs running at once. More than one per core only adds threads and
/// context switches: the cores are the real limit for CPU work.
static CPU_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(cores())));

#[derive(Parser)]
#[command(about = "Native async server: waits yield, slots are unbounded")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    io: IoArgs,
    /// Tokio worker threads. Not a slot limit here: waiting tasks hold none.
    #[arg(long, env = "KIT_WORKER_THREADS", default_value_t = cores() as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    worker_threads: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn parallel(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // Two independent waits, polled together: 1 x io, and no thread is held.
    let (first, second) = tokio::join!(p.backend.wait(p.io_wait), p.backend.wait(p.io_wait));
    first.and(second)?;
    Ok(Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started)))
}

async fn multi_io(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // Dependent waits stay sequential (3 x io), but each one yields.
    p.backend.wait(p.io_wait).await?;
    p.backend.wait(p.io_wait).await?;
    p.backend.wait(p.io_wait).await?;
    Ok(Json(Work::waited(&p, Endpoint::MultiIo, &[p.io_wait, p.io_wait, p.io_wait], started)))
}

async fn db_simulation(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    p.backend.query(p.db_wait).await?;
    Ok(Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db_wait], started)))
}

async fn cpu_intensive(p: Params) -> Json<Work> {
    let started = Instant::now();
    // Wait (yielding) for a core, then compute on the blocking pool: the
    // worker threads keep serving /health meanwhile. The permit moves into
    // the blocking job, so the core is given back when the computation ends,
    // even if the client gave up and this future was dropped long before.
    let core = CPU_SLOTS.clone().acquire_owned().await.expect("the semaphore is never closed");
    let rounds = p.cpu_rounds;
    let checksum = tokio::task::spawn_blocking(move || {
        let _core = core;
        cpu_work(rounds)
    })
    .await
    .expect("cpu_work does not panic");
    Json(Work::computed(&p, rounds, checksum, started))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    // Unbounded: a waiting request holds no thread. Queries go through a
    // pool here (on PostgreSQL): /metrics reports it as `pool`.
    let server = Server::new(VARIANT, &args.common)
        .knob("worker_threads", args.worker_threads)
        .slots(Slots::Unbounded)
        .io_backend(&args.io)
        .listen()?;
    let routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .route(Endpoint::Parallel, get(parallel))
        .route(Endpoint::MultiIo, get(multi_io))
        .route(Endpoint::DbSimulation, get(db_simulation))
        .route(Endpoint::CpuIntensive, get(cpu_intensive))
        .merge(extras::routes());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.worker_threads as usize)
        .enable_all()
        .build()?;
    runtime.block_on(server.serve(routes))
}

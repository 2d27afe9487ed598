//! async-trap: `async fn` handlers that block inside. Looks async, is not.
//!
//! The Python twin is Flask with `async def` views on WSGI. Every handler
//! here is an `async fn` on a tokio runtime, but it waits with
//! `std::thread::sleep` (or a blocking client) and computes inline. A blocking call inside an
//! `async fn` never yields: it holds the worker thread that polls it, and
//! every other task queued on that worker (other requests, the accept loop,
//! timers) waits too. So this server has `--worker-threads` slots, exactly
//! like sync-blocking, and on top of that the runtime itself stalls:
//! /metrics shows `executor_lag_ms` as large as one whole wait.
//!
//! Run: `cargo run --release --bin async-trap -- --port 5002`
//! Diff it against async-native. The fix is in the four handlers: each
//! blocking wait becomes an `.await` (the two of /parallel joined with
//! `tokio::join!`), and the CPU work moves to `spawn_blocking`, one job per
//! core: about 25 changed lines of code. The whole diff is about 90 lines:
//! the rest is the header comments, names and defaults, the slots each
//! declares to /metrics, and async-native's /slow, /sse and /ws.

use std::time::Instant;

use axum::{routing::get, Json, Router};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{cpu_work, ApiError, Endpoint, Health, Params, Work};
use kit_serve::io::IoArgs;
use kit_serve::{net, serve};

const VARIANT: &str = "async-trap";

#[derive(Parser)]
#[command(about = "async fn handlers that block: N worker threads = N slots")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    io: IoArgs,
    /// Tokio worker threads: this server's slot count, because handlers block them.
    #[arg(long, env = "KIT_WORKER_THREADS", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    worker_threads: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn parallel(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TRAP: a blocking wait in an async fn (a sleep, or a blocking client's
    // call) holds this worker thread for the whole wait, and the two waits
    // cannot overlap.
    p.backend.wait_blocking(p.io)?;
    p.backend.wait_blocking(p.io)?;
    Ok(Json(Work::waited(&p, Endpoint::Parallel, &[p.io, p.io], started)))
}

async fn multi_io(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TRAP: three blocking waits, each holding the worker thread.
    p.backend.wait_blocking(p.io)?;
    p.backend.wait_blocking(p.io)?;
    p.backend.wait_blocking(p.io)?;
    Ok(Json(Work::waited(&p, Endpoint::MultiIo, &[p.io, p.io, p.io], started)))
}

async fn db_simulation(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TRAP: a blocking query on the worker thread.
    p.backend.query_blocking(p.db)?;
    Ok(Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db], started)))
}

async fn cpu_intensive(p: Params) -> Json<Work> {
    let started = Instant::now();
    // TRAP: CPU work inline on a worker thread: nothing else runs on it meanwhile.
    let checksum = cpu_work(p.cpu_rounds);
    Json(Work::computed(&p, p.cpu_rounds, checksum, started))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let (listener, ctx) = serve::listen_io(&args.common, &args.io, VARIANT, ("worker_threads", args.worker_threads), Some(args.worker_threads))?;
    let work = Router::new()
        .route(Endpoint::Health.path(), get(health))
        .route(Endpoint::Parallel.path(), get(parallel))
        .route(Endpoint::MultiIo.path(), get(multi_io))
        .route(Endpoint::DbSimulation.path(), get(db_simulation))
        .route(Endpoint::CpuIntensive.path(), get(cpu_intensive));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.worker_threads as usize)
        .enable_all()
        .build()?;
    runtime.block_on(serve::serve(listener, serve::app(work, ctx.clone()), ctx.metrics.clone()))
}

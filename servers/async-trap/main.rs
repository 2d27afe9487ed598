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
//! core: about 25 changed lines of code. The rest of the diff is the header
//! comments, names and defaults, the slots each declares to /metrics
//! (`Slots::Threads(n)` here, `Slots::Unbounded` there), and async-native's
//! /slow, /sse and /ws.

use std::time::Instant;

use axum::{routing::get, Json};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health, Work};
use kit_serve::handler::{cpu_work, Params};
use kit_serve::io::IoArgs;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

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
    p.backend.wait_blocking(p.io_wait)?;
    p.backend.wait_blocking(p.io_wait)?;
    Ok(Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started)))
}

async fn multi_io(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TRAP: three blocking waits, each holding the worker thread.
    p.backend.wait_blocking(p.io_wait)?;
    p.backend.wait_blocking(p.io_wait)?;
    p.backend.wait_blocking(p.io_wait)?;
    Ok(Json(Work::waited(&p, Endpoint::MultiIo, &[p.io_wait, p.io_wait, p.io_wait], started)))
}

async fn db_simulation(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TRAP: a blocking query on the worker thread.
    p.backend.query_blocking(p.db_wait)?;
    Ok(Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db_wait], started)))
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
    let server = Server::new(VARIANT, &args.common)
        .knob("worker_threads", args.worker_threads)
        .slots(Slots::Threads(args.worker_threads))
        .io_backend(&args.io)
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

//! Exercise: the trap. (`cd exercises/trap && cargo test --release` is your grade.)
//!
//! Story: your team moved the shop's API from Flask to "async". Every
//! handler below is an `async fn` on a tokio runtime, and yet 100 people
//! loading the product page at once wait 25 seconds. The dashboard says the
//! server has 4 worker threads and they are all "busy" doing nothing.
//!
//! Your task: make this server behave like a native async server while
//! keeping every response exactly as it is. Work at the `// TODO` markers.
//! Run `cargo test --release` here after each change: the failure tells you what was
//! measured, what the slot model makes of it, and which hint to read next
//! (HINTS.md). Done means all five checks pass.
//!
//! Run it by hand: `cargo run -- --port 5002`, then `curl localhost:5002/parallel`.

use std::time::Instant;

use axum::{routing::get, Json};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health, Work};
use kit_serve::handler::{cpu_work, Params};
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

const VARIANT: &str = "exercise-trap";

#[derive(Parser)]
#[command(about = "async fn handlers that block: N worker threads = N slots")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
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
    // TODO: a blocking sleep in an async fn holds this worker thread for the
    // whole wait, and the two waits cannot overlap.
    std::thread::sleep(p.io_wait);
    std::thread::sleep(p.io_wait);
    Ok(Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started)))
}

async fn multi_io(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TODO: three blocking waits, each holding the worker thread.
    std::thread::sleep(p.io_wait);
    std::thread::sleep(p.io_wait);
    std::thread::sleep(p.io_wait);
    Ok(Json(Work::waited(&p, Endpoint::MultiIo, &[p.io_wait, p.io_wait, p.io_wait], started)))
}

async fn db_simulation(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // TODO: a blocking "query" on the worker thread.
    std::thread::sleep(p.db_wait);
    Ok(Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db_wait], started)))
}

async fn cpu_intensive(p: Params) -> Json<Work> {
    let started = Instant::now();
    // TODO: CPU work inline on a worker thread: nothing else runs on it meanwhile.
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
        // TODO: this declares the server's slots in /metrics: `Slots::Threads(n)`
        // while every wait holds one of n threads. Once the waits yield, the
        // slots are no longer bounded by threads: declare `Slots::Unbounded`.
        .slots(Slots::Threads(args.worker_threads))
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

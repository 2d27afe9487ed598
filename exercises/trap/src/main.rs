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

use axum::{routing::get, Json, Router};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{cpu_work, Endpoint, Health, Params, Work};
use kit_serve::{net, serve};

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

async fn parallel(p: Params) -> Json<Work> {
    let started = Instant::now();
    // TODO: a blocking sleep in an async fn holds this worker thread for the
    // whole wait, and the two waits cannot overlap.
    std::thread::sleep(p.io);
    std::thread::sleep(p.io);
    Json(Work::waited(&p, Endpoint::Parallel, &[p.io, p.io], started))
}

async fn multi_io(p: Params) -> Json<Work> {
    let started = Instant::now();
    // TODO: three blocking waits, each holding the worker thread.
    std::thread::sleep(p.io);
    std::thread::sleep(p.io);
    std::thread::sleep(p.io);
    Json(Work::waited(&p, Endpoint::MultiIo, &[p.io, p.io, p.io], started))
}

async fn db_simulation(p: Params) -> Json<Work> {
    let started = Instant::now();
    // TODO: a blocking "query" on the worker thread.
    std::thread::sleep(p.db);
    Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db], started))
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
    // TODO: the last argument declares this server's slots in /metrics:
    // Some(n) while every wait holds one of n threads. Once the waits yield,
    // the slots are no longer bounded by threads: declare None.
    let (listener, ctx) = serve::listen(&args.common, VARIANT, ("worker_threads", args.worker_threads), Some(args.worker_threads))?;
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

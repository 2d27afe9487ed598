//! Solution: the wrapper, fixed. (`cd solutions/wrapper && cargo test --release` passes the grade.)
//!
//! Compare with exercises/wrapper/src/main.rs. Wrapping did not add slots
//! because the waits still happened on app threads. The fix moves the waits,
//! not the wrapper:
//! - /health, /parallel, /multi-io and /db-simulation are now async handlers
//!   in this file, whose waits are `.await`s (and /parallel's two independent
//!   waits run together with `tokio::join!`). They never touch an app thread.
//! - /cpu-intensive still crosses the bridge to the unchanged blocking app
//!   (the only route left for it: `Routes::to_app`).
//!   CPU work cannot yield, so a small pool of dedicated threads is exactly
//!   the right place for it, and the front end stays free meanwhile. The
//!   pool now has one thread per core: more CPU threads than cores only adds
//!   context switches.
//! - The declared slots in /metrics changed from `Slots::Threads(n)` to
//!   `Slots::Unbounded`: the app threads only compute now.
//!
//! Run it by hand: `cargo run -- --port 5003`, then `curl localhost:5003/parallel`.

use std::time::Instant;

use axum::{routing::get, Json};
use clap::Parser;
use kit_blocking::app::App;
use kit_blocking::bridge;
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{Endpoint, Health, Work};
use kit_serve::handler::Params;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use tokio::time::sleep;

const VARIANT: &str = "solution-wrapper";

#[derive(Parser)]
#[command(
    about = "The wrapper, fixed: async handlers wait; the blocking app only computes, one thread per core"
)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Dedicated app threads for CPU work (default: one per core).
    #[arg(long, env = "KIT_WORKERS", default_value_t = cores() as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    workers: u64,
    /// Requests that may wait for a free app thread; beyond that the front
    /// end answers 503 at once. A queue is not a slot: see bridge.rs.
    #[arg(long, env = "KIT_QUEUE", default_value_t = bridge::DEFAULT_QUEUE,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    queue: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn parallel(p: Params) -> Json<Work> {
    let started = Instant::now();
    // FIXED: the waits yield and overlap; no app thread is involved.
    tokio::join!(sleep(p.io_wait), sleep(p.io_wait));
    Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started))
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

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new(VARIANT, &args.common)
        .knob("workers", args.workers)
        .knob("queue", args.queue)
        // FIXED: the declared slots are now unbounded: waits yield, and the
        // app threads only compute.
        .slots(Slots::Unbounded)
        .listen()?;
    let (jobs, app_threads) = bridge::start(App::new(server.ctx()), args.workers, args.queue);
    // FIXED: the waits are handlers of the front end; only the CPU work
    // crosses the bridge (the app counts its own requests in flight, so
    // `to_app` does not count them twice).
    let routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .route(Endpoint::Parallel, get(parallel))
        .route(Endpoint::MultiIo, get(multi_io))
        .route(Endpoint::DbSimulation, get(db_simulation))
        .to_app(Endpoint::CpuIntensive, bridge::route(jobs));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let served = runtime.block_on(server.serve(routes));
    // Dropping the runtime drops the last job sender, so the app threads
    // finish: each ends its job in progress and skips the queued ones, whose
    // clients are gone with the runtime (after a drain timeout).
    drop(runtime);
    for thread in app_threads {
        let _ = thread.join();
    }
    served
}

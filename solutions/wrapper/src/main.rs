//! Solution: the wrapper, fixed. (`cd solutions/wrapper && cargo test --release` passes the grade.)
//!
//! Compare with exercises/wrapper/src/main.rs. Wrapping did not add slots
//! because the waits still happened on app threads. The fix moves the waits,
//! not the wrapper:
//! - /health, /parallel, /multi-io and /db-simulation are now async handlers
//!   in this file, whose waits are `.await`s (and /parallel's two independent
//!   waits run together with `tokio::join!`). They never touch an app thread.
//! - /cpu-intensive still crosses the bridge to the unchanged blocking app.
//!   CPU work cannot yield, so a small pool of dedicated threads is exactly
//!   the right place for it, and the front end stays free meanwhile. The
//!   pool now has one thread per core: more CPU threads than cores only adds
//!   context switches.
//!
//! Run it by hand: `cargo run -- --port 5003`, then `curl localhost:5003/parallel`.

#[path = "../../../servers/sync-blocking/app.rs"]
mod app;
#[path = "../../../servers/blocking-wrapper/bridge.rs"]
mod bridge;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::{routing::get, Json, Router};
use clap::Parser;
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{Endpoint, Health, Params, Work};
use kit_serve::{net, serve};
use tokio::time::sleep;

const VARIANT: &str = "solution-wrapper";

#[derive(Parser)]
#[command(about = "The wrapper, fixed: async handlers wait; the blocking app only computes, one thread per core")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Dedicated app threads for CPU work (default: one per core).
    #[arg(long, env = "KIT_WORKERS", default_value_t = cores() as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    workers: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn parallel(p: Params) -> Json<Work> {
    let started = Instant::now();
    // FIXED: the waits yield and overlap; no app thread is involved.
    tokio::join!(sleep(p.io), sleep(p.io));
    Json(Work::waited(&p, Endpoint::Parallel, &[p.io, p.io], started))
}

async fn multi_io(p: Params) -> Json<Work> {
    let started = Instant::now();
    sleep(p.io).await;
    sleep(p.io).await;
    sleep(p.io).await;
    Json(Work::waited(&p, Endpoint::MultiIo, &[p.io, p.io, p.io], started))
}

async fn db_simulation(p: Params) -> Json<Work> {
    let started = Instant::now();
    sleep(p.db).await;
    Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db], started))
}

/// The bridge, now only for CPU work (bridge.rs): convert, hand over, await.
async fn bridge(State(jobs): State<bridge::Jobs>, method: Method, uri: Uri) -> Response {
    bridge::forward(&jobs, method, uri).await
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    // FIXED: the declared slots are now unbounded (None): waits yield, and
    // the app threads only compute.
    let (listener, ctx) = serve::listen(&args.common, VARIANT, ("workers", args.workers), None)?;
    let app = app::App { settings: ctx.settings.clone(), metrics: ctx.metrics.clone() };
    let (jobs, app_threads) = bridge::start(Arc::new(app), args.workers);
    let metrics = ctx.metrics.clone();
    let waits = Router::new()
        .route(Endpoint::Health.path(), get(health))
        .route(Endpoint::Parallel.path(), get(parallel))
        .route(Endpoint::MultiIo.path(), get(multi_io))
        .route(Endpoint::DbSimulation.path(), get(db_simulation));
    // The app counts its own requests in flight, so the CPU route goes in
    // as a route that counts itself: not tracked twice, and still under the
    // same JSON 404/405 as every other route.
    let cpu = Router::new().route(Endpoint::CpuIntensive.path(), get(bridge)).with_state(jobs);
    let front = serve::app_with(waits, cpu, ctx);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let served = runtime.block_on(serve::serve(listener, front, metrics));
    // Dropping the runtime drops the last job sender, so the app threads finish.
    drop(runtime);
    for thread in app_threads {
        let _ = thread.join();
    }
    served
}

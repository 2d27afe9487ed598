//! wrapper-variants: the wrapper exercise, fixed in the ways learners fix it,
//! honest and not, for the tests of the wrapper's hints
//! (servers/tests/*/wrapper_hints.rs): each failure must name a hint of
//! exercises/wrapper/HINTS.md that says what that failure needs.
//! - `--parallel`: where /parallel waits. `join` (a handler of the front
//!   end, tokio::join!), `sequential` (a handler, `a.await; b.await;`), or
//!   `bridge` (left on the bridge, where app.rs sleeps twice).
//! - `--declare-threads`: keeps the exercise's `Slots::Threads(workers)`
//!   after the waits yield.
//!
//! /health, /multi-io and /db-simulation are handlers of the front end; the
//! rest crosses the bridge (`rest_to_app`), /cpu-intensive included, on
//! `--workers` app threads (default: one per core).
//!
//! Run: `cargo run -p kit-servers --example wrapper-variants -- --parallel sequential`

use std::time::Instant;

use axum::{routing::get, Json};
use clap::{Parser, ValueEnum};
use kit_blocking::app::App;
use kit_blocking::bridge;
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{Endpoint, Health, Work};
use kit_serve::handler::Params;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use tokio::time::sleep;

const VARIANT: &str = "wrapper-variants";

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Parallel {
    Join,
    Sequential,
    Bridge,
}

#[derive(Parser)]
#[command(about = "The wrapper fixed in several ways, for the tests of its hints")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, value_enum, default_value = "join")]
    parallel: Parallel,
    /// Keep declaring the app threads as the slots.
    #[arg(long)]
    declare_threads: bool,
    /// App threads behind the bridge.
    #[arg(long, env = "KIT_WORKERS", default_value_t = cores() as u64)]
    workers: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn joined(p: Params) -> Json<Work> {
    let started = Instant::now();
    tokio::join!(sleep(p.io_wait), sleep(p.io_wait));
    Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started))
}

async fn sequential(p: Params) -> Json<Work> {
    let started = Instant::now();
    sleep(p.io_wait).await;
    sleep(p.io_wait).await;
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
    let slots = if args.declare_threads { Slots::Threads(args.workers) } else { Slots::Unbounded };
    let server =
        Server::new(VARIANT, &args.common).knob("workers", args.workers).slots(slots).listen()?;
    let (jobs, app_threads) =
        bridge::start(App::new(server.ctx()), args.workers, bridge::DEFAULT_QUEUE);
    let mut routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .route(Endpoint::MultiIo, get(multi_io))
        .route(Endpoint::DbSimulation, get(db_simulation));
    match args.parallel {
        Parallel::Join => routes = routes.route(Endpoint::Parallel, get(joined)),
        Parallel::Sequential => routes = routes.route(Endpoint::Parallel, get(sequential)),
        Parallel::Bridge => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let served = runtime.block_on(server.serve(routes.rest_to_app(bridge::route(jobs))));
    drop(runtime);
    for thread in app_threads {
        let _ = thread.join();
    }
    served
}

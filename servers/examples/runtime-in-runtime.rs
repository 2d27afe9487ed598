//! runtime-in-runtime: a mistake learners make while fixing the trap, kept
//! here so the grade can prove it recognises it.
//!
//! The handler wants the result of a future and reaches for `block_on` on
//! a new runtime. Inside an `async fn` that panics ("Cannot start a runtime
//! from within a runtime"): the request dies, the server lives on, and the
//! grade explains the panic from the server's output (tests/side_by_side/grade.rs).
//!
//! Run: `cargo run --example runtime-in-runtime -- --port 5006`

use std::time::Instant;

use axum::{routing::get, Json};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{Endpoint, Health, Work};
use kit_serve::handler::Params;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

const VARIANT: &str = "runtime-in-runtime";

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn parallel(p: Params) -> Json<Work> {
    let started = Instant::now();
    // Wrong: the handler already runs on a runtime; `.await` the future instead.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        tokio::join!(tokio::time::sleep(p.io_wait), tokio::time::sleep(p.io_wait))
    });
    Json(Work::waited(&p, Endpoint::Parallel, &[p.io_wait, p.io_wait], started))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new(VARIANT, &args.common).knob("worker_threads", 2).listen()?;
    let routes =
        Routes::new().route(Endpoint::Health, get(health)).route(Endpoint::Parallel, get(parallel));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

//! crash: a server that dies, for the grade's own tests.
//!
//! `--when router` merges two axum routers that both have a fallback (the
//! mistake the wrapper exercise once invited, before `serve::Routes`), which
//! axum refuses with a panic while the router is built. The kit prints the
//! listening line only once the router is built, so this server dies
//! without announcing itself. `--when after-listening` announces itself
//! first and then panics, like a server that dies right after it started.
//! Either way the grade must report a dead server, quoting its panic, and
//! point to no hint (servers/tests/side_by_side/grade.rs).
//!
//! Run: `cargo run -p kit-servers --example crash -- --when router`

use axum::{routing::get, Json, Router};
use clap::{Parser, ValueEnum};
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health};
use kit_serve::handler::Params;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

#[derive(Clone, Copy, ValueEnum)]
enum When {
    Router,
    AfterListening,
}

#[derive(Parser)]
#[command(about = "A server that dies while starting, for the grade's own tests")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, value_enum, default_value = "router")]
    when: When,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn nothing_here() -> ApiError {
    ApiError::not_found("/")
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new("crash", &args.common).knob("worker_threads", 1).listen()?;
    if let When::AfterListening = args.when {
        net::announce(&server.local_addr()?)?;
        panic!("the server died right after it announced itself");
    }
    // Wrong: both routers have a fallback; axum panics while merging.
    let merged = Router::new().fallback(nothing_here).merge(Router::new().fallback(nothing_here));
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(merged);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

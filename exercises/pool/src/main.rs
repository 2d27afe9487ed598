//! Exercise: the pool. (`cd exercises/pool && cargo test --release` is your grade; it
//! needs a PostgreSQL: set KIT_DATABASE_URL, see HINTS.md.)
//!
//! Story: the shop's API is native async now: no handler holds a thread, and
//! 100 people at once are 100 parked tasks. Yet the product page, one query
//! each, takes 5 seconds under that load, and on a busy day some clients
//! wait a minute and give up without an answer. The database is fine: the
//! DBA gives this app 20 connections and sees 2 in use.
//!
//! Your task: size the pool to what the database gives, and bound the wait
//! for a connection so a burst it cannot serve gets a quick 503 instead of a
//! hang. Work at the `// TODO` markers; the responses must stay as they are.
//! Run `cargo test --release` here after each change: the failure says what was
//! measured, what the slot model makes of it (the pool is the slot count),
//! and which hint to read next (HINTS.md). Done means all three checks pass.
//!
//! Run it by hand: `KIT_DATABASE_URL=postgres://... cargo run -- --port 5005`,
//! then `curl localhost:5005/db-simulation` and `curl localhost:5005/metrics`.

use std::time::{Duration, Instant};

use axum::{routing::get, Json};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health, Work};
use kit_serve::handler::Params;
use kit_serve::io::{IoBackend, PoolOptions};
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};

const VARIANT: &str = "exercise-pool";

/// Connections the database gives this app (its DBA says so; the grade
/// holds you to it). Not a knob of yours.
const DB_CAPACITY: u64 = 20;

// TODO: a pool of 2 connections is 2 slots for queries, whatever the server
// could hold: 100 queries of 100 ms take 50 rounds.
const POOL_SIZE: u64 = 2;
// TODO: `None` waits for a connection forever: a burst the pool cannot
// serve becomes clients left hanging.
const ACQUIRE_TIMEOUT: Option<Duration> = None;

#[derive(Parser)]
#[command(about = "An async server whose queries go through a database pool")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// The PostgreSQL that /db-simulation queries (`SELECT pg_sleep(s)`).
    #[arg(long, env = "KIT_DATABASE_URL")]
    database_url: String,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn db_simulation(p: Params) -> Result<Json<Work>, ApiError> {
    let started = Instant::now();
    // Waits (yielding) for a pool connection, then for the query.
    p.backend.query(p.db_wait).await?;
    Ok(Json(Work::waited(&p, Endpoint::DbSimulation, &[p.db_wait], started)))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let pool = PoolOptions { size: POOL_SIZE, acquire_timeout: ACQUIRE_TIMEOUT };
    let backend = IoBackend::postgres(&args.database_url, pool)?;
    // The queries' slots are the pool's: /metrics reports it (size, in_use,
    // peak_in_use, timeouts).
    let server = Server::new(VARIANT, &args.common)
        .knob("pool_size", POOL_SIZE)
        .knob("db_capacity", DB_CAPACITY)
        .slots(Slots::Pool)
        .backend(backend)
        .listen()?;
    let routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .route(Endpoint::DbSimulation, get(db_simulation));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

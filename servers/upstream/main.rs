//! upstream: the slow service the four servers call on `--io-backend http=URL`.
//!
//! `GET /delay?ms=N` answers `{"waited_ms": N}` after N milliseconds (a
//! tokio sleep; without `ms`, after `--io-ms`). It stands for the API or
//! microservice a real web server waits on, so the servers' waits become real
//! network round trips through a real client. It must never be the
//! bottleneck: every wait is a parked task, so it holds 10,000 at once
//! (tests/alone/upstream.rs measures it), far beyond any server's slots.
//! It shares the servers' plumbing: `--port 0`, the `listening on` line,
//! /health, /metrics (peak_in_flight counts the waits it holds) and the drain
//! on SIGTERM.
//!
//! Run: `cargo run --release --bin upstream -- --port 6000`

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::{routing::get, Json, Router};
use clap::Parser;
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{decode, number, ApiError, Endpoint, Health, MAX_WAIT_MS};
use kit_serve::net;
use kit_serve::serve::{Routes, Server, SharedCtx};
use serde::Serialize;

const VARIANT: &str = "upstream";

#[derive(Parser)]
#[command(about = "The upstream service of the http backend: GET /delay?ms=N answers after N ms")]
struct Args {
    /// (`--io-ms` is the delay when a request gives no `ms`; `--db-ms` and
    /// `--cpu-rounds` mean nothing here.)
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Serialize)]
struct Delayed {
    waited_ms: u64,
}

async fn health() -> Json<Health> {
    Json(Health::ok(VARIANT))
}

/// `?ms=N`, by the contract's number rules; nothing else is accepted, so a
/// typo is a 400, not a silent default.
fn delay_ms(query: Option<&str>, default: Duration) -> Result<u64, ApiError> {
    let mut ms = None;
    for pair in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        if key != "ms" {
            return Err(ApiError::bad_request(
                "unknown query parameter: /delay takes only ms".into(),
            ));
        }
        if ms.replace(number("ms", &value, 0, MAX_WAIT_MS)?).is_some() {
            return Err(ApiError::bad_request("query parameter ms is given more than once".into()));
        }
    }
    Ok(ms.unwrap_or(default.as_millis() as u64))
}

async fn delay(
    State(ctx): State<SharedCtx>,
    RawQuery(query): RawQuery,
) -> Result<Json<Delayed>, ApiError> {
    let ms = delay_ms(query.as_deref(), ctx.settings.defaults.io_wait)?;
    // A parked task, not a thread: this is why it holds 10,000 waits.
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Json(Delayed { waited_ms: ms }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let knobs = vec![
        ("io_ms", args.common.io_ms),
        ("drain_timeout_s", args.common.drain_timeout),
        ("header_read_timeout_ms", args.common.header_read_timeout_ms),
    ];
    let server = Server::new(VARIANT, &args.common).only_knobs(knobs).listen()?;
    let routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .merge(Router::new().route("/delay", get(delay)));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(cores()).enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

//! Solution: backpressure. The fixed exercises/backpressure.
//!
//! The gateway still gives this app 4 connections of 250 ms, 16 quotes a
//! second, and on sale day 40 a second still come. What changed is what the
//! server does with the other 24: it keeps a short line (the 4 calling and
//! at most [`MAX_WAITING`] waiting) and answers everyone past it at once
//! with 503 Service Unavailable and `Retry-After: 1`. A request that gets
//! in waits at most one round behind the 4 calls ahead of it, so it is
//! answered within 500 ms, inside its client's patience of 1 s; one that
//! does not get in is told so in microseconds and can come back. The
//! gateway stays busy, 16 a second are served in time, and the server
//! holds 8 requests, not 40.
//!
//! Why count the line, rather than time the wait: the count is decided at
//! the door, before the request costs anything, and the line can never be
//! longer than the bound. `Semaphore::try_acquire` with a waiting room of
//! the same size, or `tokio::time::timeout` of at most one call's time
//! around `acquire`, pass the grade too (HINTS.md, hint 2).
//!
//! `cargo test --release` here runs the same grade as the exercise, and passes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health};
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::Price;
use serde::Deserialize;
use tokio::sync::Semaphore;

const VARIANT: &str = "solution-backpressure";

/// Connections the pricing gateway gives this app at once (its owners say
/// so; the grade counts the calls it receives). Not yours to change.
const GATEWAY_CONNECTIONS: usize = 4;

/// How many may wait for a connection behind the 4 that call: 4 is one
/// round, 250 ms, so the last one in is answered within 500 ms. The
/// client's patience (1 s) allows at most 4 x (1 s - 250 ms) / 250 ms = 12.
const MAX_WAITING: usize = 4;

#[derive(Parser)]
#[command(about = "An async server whose quotes wait for one of 4 gateway connections")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// The pricing gateway (the kit's upstream): `GET {URL}/price?product=ID`.
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
}

#[derive(Clone)]
struct App {
    client: reqwest::Client,
    upstream: String,
    /// The gateway's connections: a request holds one for its call.
    gateway: Arc<Semaphore>,
    /// The requests in line: calling, or waiting for a connection.
    line: Arc<AtomicUsize>,
}

/// A place in the line, given back when the request ends, however it ends
/// (answered, or dropped because its client went away).
struct Place(Arc<AtomicUsize>);

impl Place {
    /// A place if fewer than `most` are in line, else `None`: the check and
    /// the count are one atomic step, so no burst gets past the bound.
    fn take(line: &Arc<AtomicUsize>, most: usize) -> Option<Place> {
        line.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < most).then_some(n + 1))
            .ok()
            .map(|_| Place(Arc::clone(line)))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// 503 at once, and when to come back: a client told "busy" now can retry
/// or go elsewhere while it still waits, instead of timing out in a line.
fn busy() -> Response {
    let error = ApiError::unavailable("too busy: the pricing gateway is at capacity".into());
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], Json(error.body()))
        .into_response()
}

#[derive(Deserialize)]
struct Quote {
    product: u64,
}

async fn health() -> Json<Health> {
    Json(Health::ok(VARIANT))
}

async fn quote(State(app): State<App>, Query(q): Query<Quote>) -> Response {
    // The line is bounded: past the 4 calling and MAX_WAITING waiting, a
    // request would be answered after its client gave up. Shed it now.
    let Some(_place) = Place::take(&app.line, GATEWAY_CONNECTIONS + MAX_WAITING) else {
        return busy();
    };
    let _connection = app.gateway.acquire().await.expect("the semaphore is never closed");
    match call_gateway(&app, q.product).await {
        Ok(price) => Json(price).into_response(),
        Err(e) => e.into_response(),
    }
}

/// One call to the gateway, through the connection the caller holds.
async fn call_gateway(app: &App, product: u64) -> Result<Price, ApiError> {
    let url = format!("{}/price?product={product}", app.upstream);
    let failed = |e: reqwest::Error| ApiError::bad_gateway(format!("the pricing gateway: {e}"));
    let answer = app.client.get(url).send().await.map_err(failed)?;
    answer.error_for_status().map_err(failed)?.json::<Price>().await.map_err(failed)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let app = App {
        // The service is named by its URL: never through a proxy from the environment.
        client: reqwest::Client::builder().no_proxy().build()?,
        upstream: args.upstream.trim_end_matches('/').to_string(),
        gateway: Arc::new(Semaphore::new(GATEWAY_CONNECTIONS)),
        line: Arc::new(AtomicUsize::new(0)),
    };
    let server = Server::new(VARIANT, &args.common)
        .knob("gateway_connections", GATEWAY_CONNECTIONS as u64)
        .knob("max_waiting", MAX_WAITING as u64)
        .slots(Slots::Unbounded)
        .listen()?;
    let quotes = Router::new().route("/quote", get(quote)).with_state(app);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(quotes);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

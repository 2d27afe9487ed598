//! backpressure-variants: the backpressure exercise, fixed in the ways
//! learners fix it, honest and not, for the tests of its hints
//! (servers/tests/side_by_side/backpressure_hints.rs): each failure must
//! name the hint of exercises/backpressure/HINTS.md that says what it needs.
//! - `--shed none`: the exercise as given: every request waits for a
//!   connection, however long the line.
//! - `--shed line --waiting N`: at most N wait behind the calls; the rest
//!   get a 503 at once (the solution, with N = 4).
//! - `--shed try-acquire --waiting N`: `Semaphore::try_acquire` first, then
//!   a waiting room of N.
//! - `--shed timeout --wait-ms N`: `tokio::time::timeout` of N ms on
//!   `acquire`, then a 503.
//! - `--shed everyone`: a 503 for every request, whatever the load.
//! - `--connections N`: the gateway connections (the exercise's 4).
//!
//! Every 503 carries `Retry-After: 1` unless `--no-retry-after`.
//!
//! Run: `cargo run -p kit-servers --example backpressure-variants -- --upstream URL --shed timeout --wait-ms 200`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::{Parser, ValueEnum};
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health};
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::Price;
use serde::Deserialize;
use tokio::sync::Semaphore;

const VARIANT: &str = "backpressure-variants";

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Shed {
    None,
    Line,
    TryAcquire,
    Timeout,
    Everyone,
}

#[derive(Parser)]
#[command(about = "The backpressure exercise fixed in several ways, for the tests of its hints")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
    #[arg(long, value_enum, default_value = "none")]
    shed: Shed,
    /// How many may wait for a connection (`line`, `try-acquire`).
    #[arg(long, default_value_t = 4)]
    waiting: usize,
    /// How long one may wait for a connection (`timeout`).
    #[arg(long, default_value_t = 200)]
    wait_ms: u64,
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[arg(long)]
    no_retry_after: bool,
}

#[derive(Clone)]
struct App {
    client: reqwest::Client,
    upstream: String,
    gateway: Arc<Semaphore>,
    line: Arc<AtomicUsize>,
    shed: Shed,
    connections: usize,
    waiting: usize,
    wait: Duration,
    retry_after: bool,
}

#[derive(Deserialize)]
struct Quote {
    product: u64,
}

/// A place in the line (calling or waiting), given back on drop.
struct Place(Arc<AtomicUsize>);

impl Place {
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

async fn health() -> Json<Health> {
    Json(Health::ok(VARIANT))
}

fn busy(app: &App) -> Response {
    let body = Json(ApiError::unavailable("too busy".into()).body());
    if app.retry_after {
        (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], body).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn quote(State(app): State<App>, Query(q): Query<Quote>) -> Response {
    // What the request holds while it calls: a connection, and for `line`
    // its place in the line (given back with the connection).
    let (_place, _connection) = match app.shed {
        Shed::None => (None, app.gateway.acquire().await.expect("never closed")),
        Shed::Everyone => return busy(&app),
        Shed::Line => {
            let Some(place) = Place::take(&app.line, app.connections + app.waiting) else {
                return busy(&app);
            };
            (Some(place), app.gateway.acquire().await.expect("never closed"))
        }
        Shed::TryAcquire => match app.gateway.try_acquire() {
            Ok(connection) => (None, connection),
            Err(_) => {
                let Some(_room) = Place::take(&app.line, app.waiting) else {
                    return busy(&app);
                };
                (None, app.gateway.acquire().await.expect("never closed"))
            }
        },
        Shed::Timeout => match tokio::time::timeout(app.wait, app.gateway.acquire()).await {
            Ok(connection) => (None, connection.expect("never closed")),
            Err(_) => return busy(&app),
        },
    };
    match call(&app, q.product).await {
        Ok(price) => Json(price).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn call(app: &App, product: u64) -> Result<Price, ApiError> {
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
        gateway: Arc::new(Semaphore::new(args.connections)),
        line: Arc::new(AtomicUsize::new(0)),
        shed: args.shed,
        connections: args.connections,
        waiting: args.waiting,
        wait: Duration::from_millis(args.wait_ms),
        retry_after: !args.no_retry_after,
    };
    let server = Server::new(VARIANT, &args.common)
        .knob("gateway_connections", args.connections as u64)
        .slots(Slots::Unbounded)
        .listen()?;
    let quotes = Router::new().route("/quote", get(quote)).with_state(app);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(quotes);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

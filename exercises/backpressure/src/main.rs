//! Exercise: backpressure. (`cd exercises/backpressure && cargo test --release`
//! is your grade.)
//!
//! Story: the shop's quote page asks a pricing gateway for every price.
//! The gateway gives this app 4 connections, and a call holds one for
//! 250 ms: 4 / 0.25 s = 16 quotes a second, and not one more. On a quiet
//! day that is plenty. On sale day 40 people a second open the page, and
//! the server does what it was told: every request waits its turn for a
//! connection, however long the line. The line grows by 24 a second, every
//! quote takes longer than the last, people give up after a second, and at
//! the end of the day the gateway was busy all the time and almost nobody
//! got a price.
//!
//! Your task: keep the line short. When a request cannot get a connection
//! soon enough to be answered while its client still waits, answer at once
//! with 503 Service Unavailable and a `Retry-After` header, so that the
//! ones you do serve are served in time. Work at the `// TODO` marker; the
//! gateway's 4 connections are not yours to change. Run
//! `cargo test --release` here after each change: the failure says what
//! was offered, what was achieved, how many requests were inside the server,
//! what Little's law makes of them, and which hint to read next (HINTS.md).
//! Done means all four checks pass.
//!
//! Run it by hand: `cargo run --release --bin backpressure-upstream -- --port 5006 --io-ms 250`
//! in one terminal, `KIT_UPSTREAM_URL=http://127.0.0.1:5006 cargo run --release -- --port 5005`
//! in another, then `cargo run --release -p kit -- attack 'http://127.0.0.1:5005/quote?product=7' --rate 40 --duration 5s`
//! from the repository root.

use std::sync::Arc;

use axum::extract::{Query, State};
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

const VARIANT: &str = "exercise-backpressure";

/// Connections the pricing gateway gives this app at once (its owners say
/// so; the grade counts the calls it receives). Not yours to change.
const GATEWAY_CONNECTIONS: usize = 4;

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
}

#[derive(Deserialize)]
struct Quote {
    product: u64,
}

async fn health() -> Json<Health> {
    Json(Health::ok(VARIANT))
}

async fn quote(State(app): State<App>, Query(q): Query<Quote>) -> Response {
    // TODO: `acquire` waits for a connection for as long as it takes, behind
    // everyone who came before. Past 16 a second the line only grows: every
    // request waits longer than the last, until its client gives up.
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
    };
    let server = Server::new(VARIANT, &args.common)
        .knob("gateway_connections", GATEWAY_CONNECTIONS as u64)
        .slots(Slots::Unbounded)
        .listen()?;
    let quotes = Router::new().route("/quote", get(quote)).with_state(app);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(quotes);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

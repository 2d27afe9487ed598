//! Exercise: the timeout. (`cd exercises/timeout && cargo test --release` is your grade.)
//!
//! Story: the shop's product page shows a price, and the price comes from a
//! partner's pricing service. This server asks that service once per
//! request, natively async (every wait is an `.await`, as in
//! `servers/async-native`), and keeps to the service's contract: at most 20
//! calls at once, through a semaphore, as a client's connection pool would.
//! One evening the service hangs: it takes every call and never answers.
//! Within a second the shop hangs with it. Every product page spins until
//! the browser gives up, the partner's dashboard shows 20 calls from the
//! shop open for minutes, and the shop's own requests wait behind them for
//! a permit that never comes.
//!
//! Your task: answer every request within 1 s, whatever the service does:
//! its price, or a JSON 504 when it did not answer in time. Keep to its 20
//! calls at once. Work at the `// TODO` markers. Run `cargo test --release`
//! here after each change: the failure says what was measured, what the
//! slot model makes of it (20 permits are 20 slots), and which hint to read
//! next (HINTS.md). Done means all four checks pass.
//!
//! Run it by hand, in two terminals: the service first,
//!   `cargo run --release --bin timeout-upstream -- --port 6000`
//! then this server,
//!   `cargo run --release -- --port 5006 --upstream http://127.0.0.1:6000`
//! and `curl 'localhost:5006/price?product=7'`. `curl -X POST localhost:6000/hang`
//! makes the service hang; `curl -X DELETE localhost:6000/hang` recovers.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::{routing::get, Json, Router};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{number, ApiError, Endpoint, Health};
use kit_serve::handler::Params;
use kit_serve::io::base_url;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::{Price, MAX_PRODUCT};
use tokio::sync::Semaphore;

const VARIANT: &str = "exercise-timeout";

/// Calls to the pricing service at once, at most: the service's contract
/// allows 20. Not yours to change.
const PERMITS: usize = 20;

// TODO: DEADLINE. Nothing here bounds how long a request waits for the
// pricing service: reqwest waits for an answer for ever unless it is told
// otherwise. The shop's front end gives up on a request after 2 s. Give
// every request its answer, a price or a 504, within 1 s of its arrival.

#[derive(Parser)]
#[command(about = "A shop's /price, which asks a pricing service, 20 calls at once")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// The pricing service, `http://HOST:PORT` (the kit's upstream).
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
}

/// What every /price request shares: one client (and its pool of
/// connections), the permits, and where the pricing service is.
#[derive(Clone)]
struct Shop {
    client: reqwest::Client,
    permits: Arc<Semaphore>,
    upstream: String,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

/// `GET /price?product=ID`: the service's price for one product.
async fn price(
    State(shop): State<Shop>,
    RawQuery(query): RawQuery,
) -> Result<Json<Price>, ApiError> {
    let product = product_in(query.as_deref())?;
    // One of the PERMITS calls at once. The permit goes back to the
    // semaphore when `_permit` is dropped, at the end of this function.
    let _permit = shop.permits.acquire().await.expect("the semaphore is never closed");
    // TODO: a call with no deadline. When the service hangs, this waits for
    // ever and holds its permit all along: 20 such calls hold every permit,
    // and every later request waits for a permit for ever too.
    let price = ask(&shop, product).await?;
    Ok(Json(price))
}

/// One call to the pricing service; a failure is a JSON 502.
async fn ask(shop: &Shop, product: u64) -> Result<Price, ApiError> {
    let url = format!("{}/price?product={product}", shop.upstream);
    let failed = |e: reqwest::Error| ApiError::bad_gateway(format!("the pricing service: {e}"));
    let response = shop.client.get(url).send().await.map_err(failed)?;
    response.error_for_status().map_err(failed)?.json().await.map_err(failed)
}

/// The product in `?product=ID`.
fn product_in(query: Option<&str>) -> Result<u64, ApiError> {
    let id = query
        .and_then(|q| q.strip_prefix("product="))
        .ok_or_else(|| ApiError::bad_request("/price needs ?product=ID".into()))?;
    number("product", id, 0, MAX_PRODUCT)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let shop = Shop {
        // The pricing service is named by its address: never through a
        // proxy from the environment.
        client: reqwest::Client::builder().no_proxy().build()?,
        permits: Arc::new(Semaphore::new(PERMITS)),
        upstream: base_url(&args.upstream)?,
    };
    // Waits yield here: the requests are not bounded by threads. The
    // permits bound the calls to the service, and only those.
    let server = Server::new(VARIANT, &args.common)
        .knob("permits", PERMITS as u64)
        .slots(Slots::Unbounded)
        .listen()?;
    let routes = Routes::new()
        .route(Endpoint::Health, get(health))
        .merge(Router::new().route("/price", get(price)).with_state(shop));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

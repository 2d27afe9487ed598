//! Solution: the timeout (exercises/timeout, fixed). `cargo test --release` here runs
//! the same grade, and passes.
//!
//! One change, in /price: the wait for a permit and the call now run
//! together under one deadline, `tokio::time::timeout(DEADLINE, ...)`, and a
//! request whose deadline passes gets a JSON 504. The deadline covers the
//! wait for a permit too: a hung call holds its permit for the whole
//! deadline, so with 20 permits, 100 requests and a deadline on the call
//! alone, the last 20 would wait 4 deadlines for a permit and answer after 5
//! (ceil(100 / 20) rounds); under one deadline every request has its answer
//! after at most 1 deadline. When it passes, `timeout` drops the future it
//! holds, and with it everything the future holds: the call (reqwest closes
//! its connection, so the service sees the client go) and the permit (back
//! to the semaphore at once, for the next request).
//!
//! The permits did not change: 20 is the service's limit, and with no
//! deadline 200 permits would only be 200 calls hanging instead of 20.
//!
//! Run it by hand, in two terminals: the service first,
//!   `cargo run --release --bin timeout-solution-upstream -- --port 6000`
//! then this server,
//!   `cargo run --release --bin timeout-solution -- --port 5006 --upstream http://127.0.0.1:6000`
//! and `curl 'localhost:5006/price?product=7'`. `curl -X POST localhost:6000/hang`
//! makes the service hang; `curl -X DELETE localhost:6000/hang` recovers.

use std::sync::Arc;
use std::time::Duration;

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

const VARIANT: &str = "solution-timeout";

/// Calls to the pricing service at once, at most: the service's contract
/// allows 20.
const PERMITS: usize = 20;

/// How long a request may wait for the pricing service, its turn for a
/// permit included: then it gets a 504. The shop's front end gives up after
/// 2 s; an answer within 1 s leaves it time to show a message or retry.
const DEADLINE: Duration = Duration::from_secs(1);

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
    // One deadline for the whole wait: the turn for a permit, then the call.
    let answer = tokio::time::timeout(DEADLINE, async {
        // One of the PERMITS calls at once, given back when `_permit` is
        // dropped: at the end of this block, or when the deadline drops it.
        let _permit = shop.permits.acquire().await.expect("the semaphore is never closed");
        ask(&shop, product).await
    })
    .await;
    let price = match answer {
        Ok(price) => price?,
        // Past the deadline, `timeout` has dropped the block: the call's
        // connection is closed, and the permit is back.
        Err(_elapsed) => {
            return Err(ApiError::gateway_timeout(format!(
                "the pricing service did not answer within {} ms",
                DEADLINE.as_millis()
            )))
        }
    };
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

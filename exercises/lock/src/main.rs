//! Exercise: the lock. (`cd exercises/lock && cargo test --release` is your grade.)
//!
//! Story: the shop's product pages show prices from the pricing service, a
//! partner API that takes 100 ms to answer. To call it less often, someone
//! put a cache in front of it: a `HashMap` behind a `tokio::sync::Mutex`,
//! the async mutex, "so that it can be held across an `.await`". It can.
//! On a Monday morning 100 people open 100 different products at once, and
//! the last of them waits 10 seconds. The pricing service's dashboard shows
//! one call at a time, and this server's shows 100 requests waiting.
//!
//! Your task: 100 misses for 100 different products must take about one
//! call's time, the cache must keep saving calls, and every price must
//! still come from the pricing service. Work at the `// TODO` markers.
//! Run `cargo test --release` here after each change: the failure says what
//! was measured (the pricing service counts its own calls), what the slot
//! model makes of it, and which hint to read next (HINTS.md). Done means
//! all four checks pass.
//!
//! Run it by hand, in two terminals:
//! `cargo run --release --bin lock-upstream -- --port 6000 --io-ms 100` (the
//! pricing service), then
//! `KIT_UPSTREAM_URL=http://127.0.0.1:6000 cargo run --release -- --port 5006`,
//! and `curl 'localhost:5006/price?product=7'`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{routing::get, Json, Router};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{ApiError, Endpoint, Health};
use kit_serve::handler::Params;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server, SharedCtx};
use kit_serve::upstream::Price;
use serde::Deserialize;
use tokio::sync::Mutex;

const VARIANT: &str = "exercise-lock";

#[derive(Parser)]
#[command(about = "A price cache in front of a slow pricing service")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// The pricing service: `GET {upstream}/price?product=ID` answers
    /// `{"product": ID, "cents": C}`.
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
}

/// What every /price request shares: the client, where the pricing service
/// is, and the prices fetched so far.
#[derive(Clone)]
struct Shop {
    client: reqwest::Client,
    upstream: String,
    cache: Arc<Mutex<HashMap<u64, Price>>>,
}

#[derive(Deserialize)]
struct PriceQuery {
    product: u64,
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn price(
    State(shop): State<Shop>,
    query: Result<Query<PriceQuery>, QueryRejection>,
) -> Result<Json<Price>, ApiError> {
    let Query(PriceQuery { product }) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    // TODO: this guard lives until the end of the function, across the
    // fetch's `.await` below. While one request waits 100 ms for the pricing
    // service, holding the guard, every other request waits here for the
    // lock: one lock, one slot.
    let mut cache = shop.cache.lock().await;
    if let Some(price) = cache.get(&product) {
        return Ok(Json(*price));
    }
    let price = fetch(&shop, product).await?;
    cache.insert(product, price);
    Ok(Json(price))
}

/// One call to the pricing service. The `.await`s park this request's
/// task: no thread is held while it waits.
async fn fetch(shop: &Shop, product: u64) -> Result<Price, ApiError> {
    let url = format!("{}/price?product={product}", shop.upstream);
    let failed = |e: reqwest::Error| ApiError::bad_gateway(format!("pricing service: {e}"));
    let response = shop.client.get(&url).send().await.map_err(failed)?;
    response.error_for_status().map_err(failed)?.json::<Price>().await.map_err(failed)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new(VARIANT, &args.common).slots(Slots::Unbounded).listen()?;
    let shop = Shop {
        // The service is named by its URL: never through a proxy from the environment.
        client: reqwest::Client::builder().no_proxy().build()?,
        upstream: args.upstream.trim_end_matches('/').to_string(),
        cache: Arc::default(),
    };
    let prices = Router::new().route("/price", get(price)).with_state::<SharedCtx>(shop);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(prices);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

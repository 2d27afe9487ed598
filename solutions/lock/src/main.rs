//! Solution: the lock, fixed. (`cd solutions/lock && cargo test --release` passes the grade.)
//!
//! Compare with exercises/lock/src/main.rs: one handler changed, and only
//! in how long it holds the lock.
//! - The guard lived until the end of `price`, across the fetch's `.await`:
//!   every miss waited for the one before it to hear from the pricing
//!   service. Now the lock is taken twice, briefly: once to read, and,
//!   after a miss, once to insert. The fetch runs with no lock held, so 100
//!   misses wait together: one call's time, 100 calls at once.
//! - Two misses for the same product at the same moment now both fetch it
//!   (a stampede): the second insert writes the same price again. That is
//!   harmless here and the grade accepts it; one `tokio::sync::OnceCell`
//!   per entry would make the second request wait for the first one's
//!   fetch instead.
//! - The mutex can stay `tokio::sync::Mutex`. With no `.await` inside the
//!   lock any more, a `std::sync::Mutex` would do as well (cheaper, and the
//!   compiler would stop a guard that is held across an `.await` again).
//!
//! Run it by hand, in two terminals:
//! `cargo run --release --bin lock-solution-upstream -- --port 6000 --io-ms 100`,
//! then `KIT_UPSTREAM_URL=http://127.0.0.1:6000 cargo run --release --bin lock-solution -- --port 5006`,
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

const VARIANT: &str = "solution-lock";

#[derive(Parser)]
#[command(about = "The lock, fixed: a price cache whose lock is never held across a call")]
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
    // FIXED: the guard is a temporary of this statement: the lock is
    // released at its `;`, before anything waits.
    let cached = shop.cache.lock().await.get(&product).copied();
    if let Some(price) = cached {
        return Ok(Json(price));
    }
    // No lock held while the pricing service answers: misses wait together.
    let price = fetch(&shop, product).await?;
    shop.cache.lock().await.insert(product, price);
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

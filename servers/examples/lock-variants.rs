//! lock-variants: the lock exercise (exercises/lock), fixed in the ways
//! learners fix it, honest and not, for the tests of its grade
//! (servers/tests/side_by_side/lock_grade.rs): each wrong fix must fail the
//! check whose lesson it misses, naming the hint of exercises/lock/HINTS.md
//! that says what that failure needs; each honest fix must pass.
//! - `--fix given`: the exercise as given, the `tokio::sync::Mutex` guard
//!   held across the fetch's `.await`.
//! - Honest: `scoped` (the guard scoped in a block to read, the fetch, the
//!   lock again to insert), `std-mutex` (a `std::sync::Mutex` held only to
//!   read and to insert), `rwlock` (a `tokio::sync::RwLock`: read, fetch,
//!   write).
//! - Wrong: `rwlock-write` (the read guard dropped, then a write guard held
//!   across the fetch: the given lock under another name), `relock` (the
//!   lock taken again to insert while the first guard still lives: it
//!   waits for itself), `block-on` (a
//!   `std::sync::Mutex` held across `futures::executor::block_on(fetch)`:
//!   it compiles, and blocks a runtime thread), `no-cache` (the cache
//!   deleted: a call per request), `invented` (no call: a price made up).
//! - `--worker-threads N`: more runtime threads (a learner's "more
//!   threads" on `given`).
//!
//! Run: `cargo run -p kit-servers --example lock-variants -- --fix scoped --upstream http://127.0.0.1:6000`

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{routing::get, Json, Router};
use clap::{Parser, ValueEnum};
use kit_serve::config::{cores, CommonArgs};
use kit_serve::contract::{ApiError, Endpoint, Health};
use kit_serve::handler::Params;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server, SharedCtx};
use kit_serve::upstream::Price;
use serde::Deserialize;

const VARIANT: &str = "lock-variants";

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Fix {
    Given,
    Scoped,
    StdMutex,
    Rwlock,
    RwlockWrite,
    Relock,
    BlockOn,
    NoCache,
    Invented,
}

#[derive(Parser)]
#[command(about = "The lock exercise fixed in several ways, for the tests of its grade")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
    #[arg(long, value_enum, default_value = "given")]
    fix: Fix,
    #[arg(long, env = "KIT_WORKER_THREADS", default_value_t = cores())]
    worker_threads: usize,
}

type Prices = HashMap<u64, Price>;

/// One cache per kind of lock; each fix uses its own.
#[derive(Clone)]
struct Shop {
    fix: Fix,
    client: reqwest::Client,
    upstream: String,
    async_mutex: Arc<tokio::sync::Mutex<Prices>>,
    std_mutex: Arc<std::sync::Mutex<Prices>>,
    rwlock: Arc<tokio::sync::RwLock<Prices>>,
}

#[derive(Deserialize)]
struct PriceQuery {
    product: u64,
}

type Answer = Result<Json<Price>, ApiError>;

/// The exercise's handler: the query as the contract wants it, then the fix.
async fn price(
    State(shop): State<Shop>,
    query: Result<Query<PriceQuery>, QueryRejection>,
) -> Answer {
    let Query(PriceQuery { product }) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    match shop.fix {
        Fix::Given => given(&shop, product).await,
        Fix::Scoped => scoped(&shop, product).await,
        Fix::StdMutex => std_mutex(&shop, product).await,
        Fix::Rwlock => rwlock(&shop, product).await,
        Fix::RwlockWrite => rwlock_write(&shop, product).await,
        Fix::Relock => relock(&shop, product).await,
        Fix::BlockOn => block_on(&shop, product).await,
        Fix::NoCache => no_cache(&shop, product).await,
        Fix::Invented => invented(product).await,
    }
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

async fn fetch(shop: &Shop, product: u64) -> Result<Price, ApiError> {
    let url = format!("{}/price?product={product}", shop.upstream);
    let failed = |e: reqwest::Error| ApiError::bad_gateway(format!("pricing service: {e}"));
    let response = shop.client.get(&url).send().await.map_err(failed)?;
    response.error_for_status().map_err(failed)?.json::<Price>().await.map_err(failed)
}

fn std_lock(shop: &Shop) -> std::sync::MutexGuard<'_, Prices> {
    shop.std_mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn given(shop: &Shop, product: u64) -> Answer {
    let mut cache = shop.async_mutex.lock().await;
    if let Some(price) = cache.get(&product) {
        return Ok(Json(*price));
    }
    let price = fetch(shop, product).await?;
    cache.insert(product, price);
    Ok(Json(price))
}

async fn scoped(shop: &Shop, product: u64) -> Answer {
    {
        let cache = shop.async_mutex.lock().await;
        if let Some(price) = cache.get(&product) {
            return Ok(Json(*price));
        }
    }
    let price = fetch(shop, product).await?;
    shop.async_mutex.lock().await.insert(product, price);
    Ok(Json(price))
}

async fn std_mutex(shop: &Shop, product: u64) -> Answer {
    let cached = std_lock(shop).get(&product).copied();
    if let Some(price) = cached {
        return Ok(Json(price));
    }
    let price = fetch(shop, product).await?;
    std_lock(shop).insert(product, price);
    Ok(Json(price))
}

async fn rwlock(shop: &Shop, product: u64) -> Answer {
    let cached = shop.rwlock.read().await.get(&product).copied();
    if let Some(price) = cached {
        return Ok(Json(price));
    }
    let price = fetch(shop, product).await?;
    shop.rwlock.write().await.insert(product, price);
    Ok(Json(price))
}

async fn rwlock_write(shop: &Shop, product: u64) -> Answer {
    let cached = shop.rwlock.read().await.get(&product).copied();
    if let Some(price) = cached {
        return Ok(Json(price));
    }
    // "Write under the write lock": taken before the fetch, held across it.
    let mut cache = shop.rwlock.write().await;
    let price = fetch(shop, product).await?;
    cache.insert(product, price);
    Ok(Json(price))
}

async fn relock(shop: &Shop, product: u64) -> Answer {
    let cache = shop.async_mutex.lock().await;
    if let Some(price) = cache.get(&product) {
        return Ok(Json(*price));
    }
    let price = fetch(shop, product).await?;
    // Locks again while `cache` still holds the lock: waits for itself.
    shop.async_mutex.lock().await.insert(product, price);
    Ok(Json(price))
}

async fn block_on(shop: &Shop, product: u64) -> Answer {
    // A std guard across an `.await` does not compile in a handler (the
    // future would not be Send); across `block_on` it does, and the worker
    // thread blocks for the whole call.
    let mut cache = std_lock(shop);
    if let Some(price) = cache.get(&product) {
        return Ok(Json(*price));
    }
    let price = futures::executor::block_on(fetch(shop, product))?;
    cache.insert(product, price);
    Ok(Json(price))
}

async fn no_cache(shop: &Shop, product: u64) -> Answer {
    Ok(Json(fetch(shop, product).await?))
}

async fn invented(product: u64) -> Answer {
    Ok(Json(Price { product, cents: 999 }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let server = Server::new(VARIANT, &args.common)
        .knob("worker_threads", args.worker_threads as u64)
        .slots(Slots::Unbounded)
        .listen()?;
    let shop = Shop {
        fix: args.fix,
        // The service is named by its URL: never through a proxy from the environment.
        client: reqwest::Client::builder().no_proxy().build()?,
        upstream: args.upstream.trim_end_matches('/').to_string(),
        async_mutex: Arc::default(),
        std_mutex: Arc::default(),
        rwlock: Arc::default(),
    };
    let prices = Router::new().route("/price", get(price)).with_state::<SharedCtx>(shop);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(prices);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.worker_threads)
        .enable_all()
        .build()?;
    runtime.block_on(server.serve(routes))
}

//! fanout-variants: the fan-out exercise, fixed in the ways learners fix it,
//! honest and not, for the tests of its grade
//! (servers/tests/side_by_side/fanout_grade.rs): each wrong fix must fail
//! the check of its lesson, naming the hint of exercises/fanout/HINTS.md
//! that says what it needs, and each honest fix must pass.
//! - `--calls`: how a basket's calls are made. `sequential` (the exercise as
//!   given: one `.await` after another), `join-all` (all started, then
//!   `join_all`), or `buffered` (`stream::iter(..).buffer_unordered(n)`,
//!   n = `--buffer`, or every item of the basket when it is 0).
//! - `--limit`: the permits a call takes first. `none`, `shared` (one
//!   `Semaphore` made at start-up, in the handlers' state), or `per-basket`
//!   (a `Semaphore` made in the handler, one per request); `--permits` of them.
//! - `--retry`: a call that fails (a 429, a refused connection) is tried
//!   again after 10 ms, until it goes through.
//! - `--local-prices`: no call at all; the price is computed here.
//!
//! Run: `cargo run -p kit-servers --example fanout-variants -- --upstream URL --limit per-basket`

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use clap::{Parser, ValueEnum};
use futures::future::join_all;
use futures::stream::{self, StreamExt};
use kit_serve::config::CommonArgs;
use kit_serve::contract::{number, ApiError, Endpoint, Health};
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::{price_cents, Price};
use serde::Serialize;
use tokio::sync::Semaphore;

const VARIANT: &str = "fanout-variants";
const PRICING_LIMIT: usize = 5;
const MAX_ITEMS: u64 = 100;

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Calls {
    Sequential,
    JoinAll,
    Buffered,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Limit {
    None,
    Shared,
    PerBasket,
}

#[derive(Parser)]
#[command(about = "The fan-out exercise fixed in several ways, for the tests of its grade")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
    #[arg(long, value_enum, default_value = "join-all")]
    calls: Calls,
    /// `buffer_unordered`'s bound; 0: every item of the basket.
    #[arg(long, default_value_t = 0)]
    buffer: usize,
    #[arg(long, value_enum, default_value = "shared")]
    limit: Limit,
    #[arg(long, default_value_t = PRICING_LIMIT)]
    permits: usize,
    #[arg(long)]
    retry: bool,
    #[arg(long)]
    local_prices: bool,
}

#[derive(Clone)]
struct Pricing {
    client: reqwest::Client,
    base: String,
    calls: Calls,
    buffer: usize,
    limit: Limit,
    permits: usize,
    shared: Arc<Semaphore>,
    retry: bool,
    local_prices: bool,
}

#[derive(Serialize)]
struct Basket {
    items: u64,
    total_cents: u64,
}

impl Pricing {
    async fn price(&self, product: u64, limit: Option<Arc<Semaphore>>) -> Result<Price, ApiError> {
        if self.local_prices {
            return Ok(Price { product, cents: price_cents(product) });
        }
        let _permit = match &limit {
            Some(semaphore) => Some(semaphore.acquire().await.expect("never closed")),
            None => None,
        };
        loop {
            match self.call(product).await {
                Err(_) if self.retry => tokio::time::sleep(Duration::from_millis(10)).await,
                answer => return answer,
            }
        }
    }

    async fn call(&self, product: u64) -> Result<Price, ApiError> {
        let failed =
            |e: reqwest::Error| ApiError::bad_gateway(format!("the pricing service failed: {e}"));
        let url = format!("{}/price?product={product}", self.base);
        let answer = self.client.get(url).send().await.map_err(failed)?;
        answer.error_for_status().map_err(failed)?.json::<Price>().await.map_err(failed)
    }
}

async fn health() -> Json<Health> {
    Json(Health::ok(VARIANT))
}

async fn basket(
    State(pricing): State<Pricing>,
    RawQuery(query): RawQuery,
) -> Result<Json<Basket>, ApiError> {
    let items = match query.as_deref().and_then(|q| q.strip_prefix("items=")) {
        Some(value) => number("items", value, 0, MAX_ITEMS)?,
        None => return Err(ApiError::bad_request("/basket takes ?items=N".into())),
    };
    let limit = match pricing.limit {
        Limit::None => None,
        Limit::Shared => Some(pricing.shared.clone()),
        Limit::PerBasket => Some(Arc::new(Semaphore::new(pricing.permits))),
    };
    let price = |product| pricing.price(product, limit.clone());
    let prices = match pricing.calls {
        Calls::Sequential => {
            let mut prices = Vec::new();
            for product in 0..items {
                prices.push(price(product).await?);
            }
            prices.into_iter().map(Ok).collect()
        }
        Calls::JoinAll => join_all((0..items).map(price)).await,
        Calls::Buffered => {
            let n = if pricing.buffer == 0 { items.max(1) as usize } else { pricing.buffer };
            stream::iter(0..items).map(price).buffer_unordered(n).collect::<Vec<_>>().await
        }
    };
    let mut total_cents = 0;
    for price in prices {
        total_cents += price?.cents;
    }
    Ok(Json(Basket { items, total_cents }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let pricing = Pricing {
        client,
        base: args.upstream.trim_end_matches('/').to_string(),
        calls: args.calls,
        buffer: args.buffer,
        limit: args.limit,
        permits: args.permits,
        shared: Arc::new(Semaphore::new(args.permits)),
        retry: args.retry,
        local_prices: args.local_prices,
    };
    let server = Server::new(VARIANT, &args.common).listen()?;
    let baskets = Router::new().route("/basket", get(basket)).with_state(pricing);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(baskets);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

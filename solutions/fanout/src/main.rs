//! Solution: the fan-out (exercises/fanout, fixed). `cargo test --release` here runs the
//! same grade.
//!
//! Two changes, and one limit:
//! - the calls of a basket overlap: `join_all` starts all of them and waits
//!   for all of them, since no call needs another's answer (Python:
//!   `asyncio.gather`). One basket of 20 on the service's 5 slots takes
//!   ceil(20 / 5) = 4 rounds of 100 ms = 0.4 s, not 20 rounds;
//! - every call first takes a permit of one `Semaphore` of PRICING_LIMIT
//!   permits, made once in `run` and shared by every request through the
//!   handlers' state. A permit waits parked, like any `.await`, and is held
//!   until the call's answer is read. So the service never holds more than
//!   5 calls from this server and never answers 429: four baskets at once
//!   are 80 calls on the same 5 slots, 16 rounds. A semaphore made inside
//!   the handler would be a limit per basket: four baskets, 20 at once.
//!
//! `buffer_unordered(PRICING_LIMIT)` on a stream of the calls bounds them
//! too, but per basket: alone, it fixes one basket and fails four at once
//! (20 calls at once). Behind the shared semaphore it does as well as
//! `join_all`.
//!
//! Run it by hand: `cargo run --bin fanout-solution-upstream -- --port 6000 --limit 5`,
//! then `cargo run --bin fanout-solution -- --port 5006 --upstream http://127.0.0.1:6000` and
//! `curl 'localhost:5006/basket?items=20'`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use futures::future::join_all;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{number, ApiError, Endpoint, Health};
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::Price;
use serde::Serialize;
use tokio::sync::Semaphore;

const VARIANT: &str = "solution-fanout";

/// Calls the pricing service holds at once from this server; past that it
/// answers 429. The pricing team's contract.
const PRICING_LIMIT: usize = 5;

/// The largest basket /basket prices.
const MAX_ITEMS: u64 = 100;

#[derive(Parser)]
#[command(
    about = "The fan-out, fixed: a basket's calls overlap, at most 5 at once for the whole server"
)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// The pricing service: `GET {upstream}/price?product=ID`.
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
}

/// What every /basket handler shares: one HTTP client (its connections are
/// reused), where the pricing service is, and the permits for its calls.
#[derive(Clone)]
struct Pricing {
    client: reqwest::Client,
    base: String,
    /// PRICING_LIMIT permits for the whole server: every call of every
    /// basket takes one, so the service never holds more from us.
    limit: Arc<Semaphore>,
}

/// `/basket`'s answer.
#[derive(Serialize)]
struct Basket {
    items: u64,
    total_cents: u64,
}

impl Pricing {
    /// One call to the pricing service. Any failure (a 429 included) is a
    /// 502 that names it: the basket cannot be priced.
    async fn price(&self, product: u64) -> Result<Price, ApiError> {
        // Waits, parked, for one of the PRICING_LIMIT permits, and holds it
        // until the answer is read (the permit drops at the end of the call).
        // `acquire` fails only on a closed semaphore, and nothing closes it.
        let _permit = self.limit.acquire().await.expect("the semaphore is never closed");
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

/// `GET /basket?items=N`: the total price of products 0 to N-1.
async fn basket(
    State(pricing): State<Pricing>,
    RawQuery(query): RawQuery,
) -> Result<Json<Basket>, ApiError> {
    let items = items(query.as_deref())?;
    // Every call at once, each behind its permit: N calls take
    // ceil(N / PRICING_LIMIT) rounds. A call that failed fails the basket.
    let prices = join_all((0..items).map(|product| pricing.price(product))).await;
    let mut total_cents = 0;
    for price in prices {
        total_cents += price?.cents;
    }
    Ok(Json(Basket { items, total_cents }))
}

/// `?items=N`; anything else is a JSON 400, as everywhere in the kit.
fn items(query: Option<&str>) -> Result<u64, ApiError> {
    match query.and_then(|q| q.strip_prefix("items=")) {
        Some(value) => number("items", value, 0, MAX_ITEMS),
        None => {
            Err(ApiError::bad_request(format!("/basket takes ?items=N, N from 0 to {MAX_ITEMS}")))
        }
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let client = reqwest::Client::builder()
        // The pricing service is named by its URL: never through a proxy from the environment.
        .no_proxy()
        .build()?;
    // One semaphore, made once: the limit is the whole server's.
    let limit = Arc::new(Semaphore::new(PRICING_LIMIT));
    let pricing = Pricing { client, base: args.upstream.trim_end_matches('/').to_string(), limit };
    let server =
        Server::new(VARIANT, &args.common).knob("pricing_limit", PRICING_LIMIT as u64).listen()?;
    let baskets = Router::new().route("/basket", get(basket)).with_state(pricing);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(baskets);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

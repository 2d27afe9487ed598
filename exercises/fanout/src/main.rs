//! Exercise: the fan-out. (`cd exercises/fanout && cargo test --release` is your grade.)
//!
//! Story: the shop's basket page shows a total, and every item's price comes
//! from the pricing team's service, one call per item. The server is native
//! async (no handler holds a thread), and yet a basket of 20 items takes 2
//! seconds: 20 calls of 100 ms, one after another. The pricing service
//! would answer 5 of them at once: its team's contract gives this server
//! PRICING_LIMIT calls at once, and past that the service answers 429 Too
//! Many Requests. So "all 20 at once" fails too.
//!
//! Your task: let the calls of a basket overlap, and never hold more than
//! PRICING_LIMIT calls at once from this server, however many baskets are
//! being priced at the same moment. Work at the `// TODO` markers; the
//! answers must stay as they are. Run `cargo test --release` here after each
//! change: the failure says what was measured (the pricing service counts
//! the calls it receives itself), what the slot model makes of it (the
//! service's limit is the slot count), and which hint to read next
//! (HINTS.md). Done means all three checks pass.
//!
//! Run it by hand: `cargo run --bin fanout-upstream -- --port 6000 --limit 5`
//! in one terminal, `cargo run -- --port 5006 --upstream http://127.0.0.1:6000`
//! in another, then `curl 'localhost:5006/basket?items=20'`.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use kit_serve::config::CommonArgs;
use kit_serve::contract::{number, ApiError, Endpoint, Health};
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::Price;
use serde::Serialize;

const VARIANT: &str = "exercise-fanout";

/// Calls the pricing service holds at once from this server; past that it
/// answers 429. The pricing team's contract, not a knob of yours.
const PRICING_LIMIT: usize = 5;

/// The largest basket /basket prices.
const MAX_ITEMS: u64 = 100;

#[derive(Parser)]
#[command(about = "An async server that prices a basket through a pricing service")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// The pricing service: `GET {upstream}/price?product=ID`.
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
}

/// What every /basket handler shares: one HTTP client (its connections are
/// reused) and where the pricing service is.
#[derive(Clone)]
struct Pricing {
    client: reqwest::Client,
    base: String,
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
        // TODO: from here until its answer is read, this call holds one of
        // the PRICING_LIMIT calls the service allows this server.
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
    let mut total_cents = 0;
    // TODO: each `.await` waits for its answer before the next call starts,
    // though no call needs another's answer: N calls take N rounds.
    for product in 0..items {
        total_cents += pricing.price(product).await?.cents;
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
    // TODO: the pricing team's limit is for this whole server, and nothing
    // here knows it yet.
    let pricing = Pricing { client, base: args.upstream.trim_end_matches('/').to_string() };
    let server =
        Server::new(VARIANT, &args.common).knob("pricing_limit", PRICING_LIMIT as u64).listen()?;
    let baskets = Router::new().route("/basket", get(basket)).with_state(pricing);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(baskets);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

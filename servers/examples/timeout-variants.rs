//! timeout-variants: the timeout exercise, fixed in the ways learners fix
//! it, honest and not, for the tests of its grade and hints
//! (servers/tests/side_by_side/timeout_grade.rs): each failure must name
//! the hint of exercises/timeout/HINTS.md that says what it needs.
//! - `--deadline-ms N`: a deadline (none without it: the exercise as given).
//! - `--deadline-over`: what it bounds. `all` (one `tokio::time::timeout`
//!   around the wait for a permit and the call), `call` (a `timeout` around
//!   the call alone), or `client` (reqwest's own `Client::builder().timeout`).
//! - `--call`: `await` (the call in the handler), `spawn` (the call in a
//!   task of its own, the deadline on its `JoinHandle`), or `skip` (a 504
//!   without calling).
//! - `--release-by-hand`: the permit is forgotten (`std::mem::forget`) and
//!   given back after the call with `add_permits(1)`, a line the deadline
//!   never reaches when it drops the call.
//! - `--permits N`: the calls at once (the exercise's 20).
//! - `--deep-health`: /health asks the pricing service too, with no deadline.
//!
//! Run: `cargo run -p kit-servers --example timeout-variants -- --upstream http://127.0.0.1:6000 --deadline-ms 1000`

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::{routing::get, Json, Router};
use clap::{Parser, ValueEnum};
use kit_serve::config::CommonArgs;
use kit_serve::contract::{number, ApiError, Endpoint, Health};
use kit_serve::handler::Params;
use kit_serve::io::base_url;
use kit_serve::metrics::Slots;
use kit_serve::net;
use kit_serve::serve::{Routes, Server};
use kit_serve::upstream::{Price, MAX_PRODUCT};
use tokio::sync::Semaphore;
use tokio::time::timeout;

const VARIANT: &str = "timeout-variants";

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Over {
    All,
    Call,
    Client,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Call {
    Await,
    Spawn,
    Skip,
}

#[derive(Parser)]
#[command(about = "The timeout exercise fixed in several ways, for the tests of its grade")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, env = "KIT_UPSTREAM_URL")]
    upstream: String,
    #[arg(long)]
    deadline_ms: Option<u64>,
    #[arg(long, value_enum, default_value = "all")]
    deadline_over: Over,
    #[arg(long, value_enum, default_value = "await")]
    call: Call,
    #[arg(long)]
    release_by_hand: bool,
    #[arg(long, default_value_t = 20)]
    permits: usize,
    #[arg(long)]
    deep_health: bool,
}

#[derive(Clone)]
struct Shop {
    client: reqwest::Client,
    permits: Arc<Semaphore>,
    upstream: String,
    deadline: Option<Duration>,
    over: Over,
    call: Call,
    release_by_hand: bool,
}

fn too_late(d: Duration) -> ApiError {
    ApiError::gateway_timeout(format!(
        "the pricing service did not answer within {} ms",
        d.as_millis()
    ))
}

async fn health(p: Params) -> Json<Health> {
    Json(Health::ok(p.variant))
}

/// A "deep" health check: asks the pricing service first, with no deadline.
async fn deep_health(State(shop): State<Shop>) -> Result<Json<Health>, ApiError> {
    ask(&shop, 0).await?;
    Ok(Json(Health::ok(VARIANT)))
}

async fn price(
    State(shop): State<Shop>,
    RawQuery(query): RawQuery,
) -> Result<Json<Price>, ApiError> {
    let product = query
        .as_deref()
        .and_then(|q| q.strip_prefix("product="))
        .ok_or_else(|| ApiError::bad_request("/price needs ?product=ID".into()))?;
    let product = number("product", product, 0, MAX_PRODUCT)?;
    if shop.call == Call::Skip {
        return Err(too_late(shop.deadline.unwrap_or_default()));
    }
    let price = match (shop.over, shop.deadline) {
        (Over::All, Some(d)) => {
            timeout(d, permit_and_call(&shop, product)).await.unwrap_or_else(|_| Err(too_late(d)))
        }
        _ => permit_and_call(&shop, product).await,
    };
    price.map(Json)
}

async fn permit_and_call(shop: &Shop, product: u64) -> Result<Price, ApiError> {
    let permit = shop.permits.acquire().await.expect("the semaphore is never closed");
    if shop.release_by_hand {
        std::mem::forget(permit);
    }
    let price = match (shop.over, shop.deadline) {
        (Over::Call, Some(d)) => {
            timeout(d, call(shop, product)).await.unwrap_or_else(|_| Err(too_late(d)))
        }
        _ => call(shop, product).await,
    };
    if shop.release_by_hand {
        shop.permits.add_permits(1);
    }
    price
}

/// The call, awaited here or in a task of its own.
async fn call(shop: &Shop, product: u64) -> Result<Price, ApiError> {
    match shop.call {
        Call::Spawn => {
            let shop = shop.clone();
            tokio::spawn(async move { ask(&shop, product).await })
                .await
                .map_err(|e| ApiError::internal(format!("the call's task: {e}")))?
        }
        _ => ask(shop, product).await,
    }
}

async fn ask(shop: &Shop, product: u64) -> Result<Price, ApiError> {
    let url = format!("{}/price?product={product}", shop.upstream);
    let failed = |e: reqwest::Error| match shop.deadline {
        Some(d) if e.is_timeout() => too_late(d),
        _ => ApiError::bad_gateway(format!("the pricing service: {e}")),
    };
    let response = shop.client.get(url).send().await.map_err(failed)?;
    response.error_for_status().map_err(failed)?.json().await.map_err(failed)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    net::exit(run(args))
}

fn run(args: Args) -> Result<(), net::Error> {
    let deadline = args.deadline_ms.map(Duration::from_millis);
    let mut client = reqwest::Client::builder().no_proxy();
    if let (Over::Client, Some(d)) = (args.deadline_over, deadline) {
        client = client.timeout(d);
    }
    let shop = Shop {
        client: client.build()?,
        permits: Arc::new(Semaphore::new(args.permits)),
        upstream: base_url(&args.upstream)?,
        deadline,
        over: args.deadline_over,
        call: args.call,
        release_by_hand: args.release_by_hand,
    };
    let server = Server::new(VARIANT, &args.common)
        .knob("permits", args.permits as u64)
        .slots(Slots::Unbounded)
        .listen()?;
    let mut handlers = Router::new().route("/price", get(price));
    let mut routes = Routes::new();
    if args.deep_health {
        handlers = handlers.route("/health", get(deep_health));
    } else {
        routes = routes.route(Endpoint::Health, get(health));
    }
    let routes = routes.merge(handlers.with_state(shop));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

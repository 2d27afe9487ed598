//! The upstream: the slow service the servers and the exercises call.
//!
//! It stands for the API, the microservice or the partner a real web server
//! waits on, so that a wait becomes a real network round trip through a
//! real client. Its binary is `servers/upstream/main.rs`; the exercises
//! that call it build the same file under their own name, so that their
//! grade can start it.
//!
//! - `GET /delay?ms=N` answers `{"waited_ms": N}` after N milliseconds
//!   (without `ms`, after `--io-ms`): the servers' `--io-backend http=URL`.
//! - `GET /price?product=ID` answers `{"product": ID, "cents": C}` after
//!   `--io-ms` (or `ms=N`): the pricing service of the exercises. The price
//!   is [`price_cents`], so a grade can check every answer.
//! - `--limit N`: it holds at most N calls at once and answers 429 at once
//!   beyond that, as a rate-limited partner API does.
//! - `POST /hang` makes every call from then on hang: no answer until its
//!   client goes away. `DELETE /hang` recovers. (`--hang` starts hanging.)
//! - `/metrics` reports `calls`: its own count of the calls at once (an
//!   exact peak), the calls in all, the ones refused, and the ones whose
//!   client hung up. A grade's exact partner: the server under grade cannot
//!   fake what the service it calls counted.
//!
//! It must never be the bottleneck: every wait is a parked task, so without
//! a limit it holds 10,000 at once (servers/tests/alone/upstream.rs
//! measures it). It shares the servers' plumbing: `--port 0`, the
//! `listening on` line, /health, /metrics, /metrics/reset and the drain on
//! SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde::Serialize;

use crate::config::{cores, CommonArgs};
use crate::contract::{decode, number, ApiError, CallStats, Endpoint, Health, MAX_WAIT_MS};
use crate::metrics::{Call, CallGauge, OverLimit};
use crate::net;
use crate::serve::{Routes, Server};

pub const VARIANT: &str = "upstream";

/// The highest product id `/price` knows.
pub const MAX_PRODUCT: u64 = 1_000_000;

#[derive(Parser)]
#[command(
    about = "The slow service the servers call: GET /delay?ms=N and GET /price?product=ID answer after a wait"
)]
pub struct Args {
    /// (`--io-ms` is the wait when a call gives no `ms`; `--db-ms` and
    /// `--cpu-rounds` mean nothing here.)
    #[command(flatten)]
    pub common: CommonArgs,
    /// The most calls held at once; past it, a call is answered 429 at once.
    /// Unset: no limit.
    #[arg(long, env = "KIT_UPSTREAM_LIMIT", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Start hanging: calls get no answer until their client goes away
    /// (`DELETE /hang` recovers).
    #[arg(long)]
    pub hang: bool,
}

/// The price of a product, in cents: what `/price` answers, from the id
/// alone, so that a grade can check an answer without asking again.
pub const fn price_cents(product: u64) -> u64 {
    100 + product.wrapping_mul(7919) % 9_900
}

#[derive(Serialize)]
struct Delayed {
    waited_ms: u64,
}

/// `/price`'s answer.
#[derive(Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub product: u64,
    pub cents: u64,
}

#[derive(Clone)]
struct Upstream {
    calls: Arc<CallGauge>,
    default_wait: Duration,
}

async fn health() -> Json<Health> {
    Json(Health::ok(VARIANT))
}

/// The query's `key=value` pairs, by the contract's number rules: only the
/// `allowed` keys, each at most once, so a typo is a 400, not a silent default.
fn numbers(
    query: Option<&str>,
    path: &str,
    allowed: &[(&str, u64)],
) -> Result<Vec<Option<u64>>, ApiError> {
    let mut values = vec![None; allowed.len()];
    for pair in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
        let Some(at) = names.iter().position(|name| *name == key) else {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter: {path} takes only {}",
                names.join(" and ")
            )));
        };
        if values[at].replace(number(&key, &value, 0, allowed[at].1)?).is_some() {
            return Err(ApiError::bad_request(format!(
                "query parameter {key} is given more than once"
            )));
        }
    }
    Ok(values)
}

impl Upstream {
    /// Takes a call in (or refuses it past the limit), then waits `d`, or
    /// hangs until the client goes away. The wait is a parked task, not a
    /// thread: this is why it holds 10,000 at once.
    async fn call(&self, d: Duration) -> Result<Call, ApiError> {
        let call = self.calls.enter().map_err(|OverLimit(limit)| {
            ApiError::too_many_requests(format!("this service holds at most {limit} calls at once"))
        })?;
        if self.calls.hanging() {
            // Never answers: the future ends when hyper drops it, that is,
            // when the client hangs up, and the dropped call counts it.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(d).await;
        Ok(call)
    }
}

async fn delay(
    State(up): State<Upstream>,
    RawQuery(query): RawQuery,
) -> Result<Json<Delayed>, ApiError> {
    let ms = numbers(query.as_deref(), "/delay", &[("ms", MAX_WAIT_MS)])?[0]
        .unwrap_or(up.default_wait.as_millis() as u64);
    up.call(Duration::from_millis(ms)).await?.answered();
    Ok(Json(Delayed { waited_ms: ms }))
}

async fn price(
    State(up): State<Upstream>,
    RawQuery(query): RawQuery,
) -> Result<Json<Price>, ApiError> {
    let values =
        numbers(query.as_deref(), "/price", &[("product", MAX_PRODUCT), ("ms", MAX_WAIT_MS)])?;
    let product =
        values[0].ok_or_else(|| ApiError::bad_request("/price needs ?product=ID".into()))?;
    let wait = values[1].map_or(up.default_wait, Duration::from_millis);
    up.call(wait).await?.answered();
    Ok(Json(Price { product, cents: price_cents(product) }))
}

async fn start_hanging(State(up): State<Upstream>) -> Json<CallStats> {
    up.calls.set_hanging(true);
    Json(up.calls.stats())
}

async fn recover(State(up): State<Upstream>) -> Json<CallStats> {
    up.calls.set_hanging(false);
    Json(up.calls.stats())
}

/// The upstream's `main`: parses its flags, serves until SIGTERM or Ctrl-C.
pub fn main() -> ExitCode {
    net::exit(run(Args::parse()))
}

pub fn run(args: Args) -> Result<(), net::Error> {
    let mut knobs = vec![
        ("io_ms", args.common.io_ms),
        ("drain_timeout_s", args.common.drain_timeout),
        ("header_read_timeout_ms", args.common.header_read_timeout_ms),
    ];
    knobs.extend(args.limit.map(|limit| ("limit", limit)));
    let server = Server::new(VARIANT, &args.common).only_knobs(knobs).listen()?;
    let calls = CallGauge::new(args.limit);
    calls.set_hanging(args.hang);
    server.ctx().metrics.watch_calls(Arc::clone(&calls));
    let up = Upstream { calls, default_wait: server.ctx().settings.defaults.io_wait };
    let handlers = Router::new()
        .route("/delay", get(delay))
        .route("/price", get(price))
        .route("/hang", post(start_hanging).delete(recover))
        .with_state(up);
    let routes = Routes::new().route(Endpoint::Health, get(health)).merge(handlers);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(cores()).enable_all().build()?;
    runtime.block_on(server.serve(routes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_take_only_their_keys_once() {
        let allowed = [("product", MAX_PRODUCT), ("ms", MAX_WAIT_MS)];
        assert_eq!(
            numbers(Some("product=7&ms=5"), "/price", &allowed).unwrap(),
            [Some(7), Some(5)]
        );
        assert_eq!(numbers(None, "/price", &allowed).unwrap(), [None, None]);
        let typo = numbers(Some("prodcut=7"), "/price", &allowed).unwrap_err();
        assert!(typo.message.contains("takes only product and ms"), "{}", typo.message);
        assert_eq!(numbers(Some("ms=1&ms=2"), "/price", &allowed).unwrap_err().status, 400);
        assert_eq!(numbers(Some("product=-1"), "/price", &allowed).unwrap_err().status, 400);
    }

    #[test]
    fn prices_are_a_function_of_the_product() {
        assert_eq!(price_cents(0), 100);
        assert!((0..1000).map(price_cents).all(|c| (100..10_000).contains(&c)));
        assert_ne!(price_cents(1), price_cents(2));
    }
}

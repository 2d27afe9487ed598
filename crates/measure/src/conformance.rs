//! Does a running server keep the endpoint contract? Status codes, JSON keys
//! and values, JSON errors. Used by the grade, so a learner's fix cannot
//! quietly change what clients see.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::harness::{request, Server};
use kit_serve::contract::MetricsSnapshot;
use kit_serve::contract::{checksum as cpu_work, Endpoint, ErrorBody, Health, Work};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Checks every shared endpoint; the first broken promise is the error.
pub fn check(server: &Server) -> Result<(), String> {
    let metrics_path = Endpoint::Metrics.path();
    let metrics: MetricsSnapshot = parse(&call(server, "GET", metrics_path, 200)?, metrics_path)?;
    let knob = |k: &str| metrics.knobs.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (io, db) = (knob("io_ms"), knob("db_ms"));

    let health_path = Endpoint::Health.path();
    let health = call(server, "GET", health_path, 200)?;
    same_keys(&health, &Health::ok("x"), health_path)?;
    for (endpoint, waits) in
        Endpoint::SHARED.into_iter().filter_map(|e| Some((e, waits_of(e, io, db)?)))
    {
        let path = endpoint.path();
        let json = call(server, "GET", path, 200)?;
        let work: Work = parse(&json, path)?;
        same_keys(&json, &work, path)?;
        if work.waits_ms != waits || work.endpoint != path {
            return Err(format!(
                "{path}: expected endpoint {path} and waits_ms {waits:?}, got {json}"
            ));
        }
    }
    let json = call(server, "GET", "/cpu-intensive?cpu_rounds=1000", 200)?;
    let work: Work = parse(&json, "/cpu-intensive")?;
    if work.checksum != cpu_work(1000) || work.cpu_rounds != 1000 {
        return Err(format!(
            "/cpu-intensive?cpu_rounds=1000: checksum should be {}, got {json}",
            cpu_work(1000)
        ));
    }
    expect_error(server, "GET", "/no-such-path", 404)?;
    // Every shared path answers a wrong method with a JSON 405, and every
    // work path a bad or unknown query parameter with a JSON 400: a route
    // added in a new way (merged, bridged) must keep the same errors.
    for e in Endpoint::SHARED {
        let wrong = if e.method() == "GET" { "POST" } else { "GET" };
        expect_error(server, wrong, e.path(), 405)?;
        if !e.is_observer() {
            expect_error(server, "GET", &format!("{}?io_ms=abc", e.path()), 400)?;
            expect_error(server, "GET", &format!("{}?no_such_knob=1", e.path()), 400)?;
        }
    }
    Ok(())
}

/// The waits a waiting endpoint's answer lists (`waits_ms`), from the
/// server's io and db knobs; `None` for the others. A match on every variant,
/// so a new endpoint does not compile until it is placed here.
fn waits_of(e: Endpoint, io: u64, db: u64) -> Option<Vec<u64>> {
    match e {
        Endpoint::Parallel => Some(vec![io, io]),
        Endpoint::MultiIo => Some(vec![io, io, io]),
        Endpoint::DbSimulation => Some(vec![db]),
        Endpoint::Health
        | Endpoint::CpuIntensive
        | Endpoint::Metrics
        | Endpoint::MetricsReset
        | Endpoint::Slow
        | Endpoint::Sse
        | Endpoint::Ws => None,
    }
}

fn expect_error(server: &Server, method: &str, path: &str, status: u16) -> Result<(), String> {
    let json = call(server, method, path, status)?;
    same_keys(&json, &ErrorBody { error: String::new() }, &format!("{method} {path}"))
}

fn call(server: &Server, method: &str, path: &str, want: u16) -> Result<Value, String> {
    let (status, body) = request(server.addr, method, path, TIMEOUT)
        .map_err(|e| format!("{method} {path}: no answer: {e}"))?;
    if status != want {
        return Err(format!("{method} {path}: status {status}, expected {want}: {body}"));
    }
    serde_json::from_str(&body)
        .map_err(|e| format!("{method} {path}: the body is not JSON ({e}): {body}"))
}

fn parse<T: serde::de::DeserializeOwned>(json: &Value, path: &str) -> Result<T, String> {
    serde_json::from_value(json.clone())
        .map_err(|e| format!("{path}: unexpected JSON ({e}): {json}"))
}

fn same_keys(json: &Value, reference: &impl Serialize, path: &str) -> Result<(), String> {
    let keys = |v: &Value| -> Vec<String> {
        v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
    };
    let want = keys(&serde_json::to_value(reference).map_err(|e| e.to_string())?);
    let got = keys(json);
    if got == want {
        Ok(())
    } else {
        Err(format!("{path}: JSON keys {got:?}, the contract says {want:?}"))
    }
}

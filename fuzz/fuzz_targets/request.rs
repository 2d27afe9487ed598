//! Any request target a client can send, through the code every server runs
//! on it before a handler: `split_url`, `route`, `Query::parse`. The
//! promises, as in the property tests: nothing panics, every refusal has
//! the contract's status (400, 404 or 405) and a short JSON body, and what
//! is accepted is inside the contract's bounds.
#![no_main]

use std::time::Duration;

use kit_serve::contract::{self, Endpoint, ErrorBody, Query, MAX_CPU_ROUNDS, MAX_WAIT_MS};
use libfuzzer_sys::fuzz_target;

fn refused(e: &contract::ApiError) {
    assert!(matches!(e.status, 400 | 404 | 405), "{e}");
    let json = serde_json::to_string(&e.body()).expect("an error body serializes");
    let back: ErrorBody = serde_json::from_str(&json).expect("and parses back");
    assert_eq!(back.error, e.message);
    assert!(e.message.len() < 300, "an error of {} bytes", e.message.len());
}

fuzz_target!(|data: &[u8]| {
    // The HTTP layer hands the servers text (hyper and sync-blocking's reader,
    // both on httparse, refuse bytes that are not): the fuzzer's bytes, as text.
    let url = String::from_utf8_lossy(data);
    let defaults = Query { variant: "fuzz", io_wait: Duration::from_millis(500), db_wait: Duration::from_millis(300), cpu_rounds: 10 };
    let (path, query) = contract::split_url(&url);
    if let Err(e) = contract::route("GET", path, &Endpoint::SHARED) {
        refused(&e);
    }
    match Query::parse(query, &defaults) {
        Ok(p) => {
            assert!(p.io_wait <= Duration::from_millis(MAX_WAIT_MS) && p.db_wait <= Duration::from_millis(MAX_WAIT_MS));
            assert!((1..=MAX_CPU_ROUNDS).contains(&p.cpu_rounds));
        }
        Err(e) => {
            assert_eq!(e.status, 400, "{e}");
            refused(&e);
        }
    }
});

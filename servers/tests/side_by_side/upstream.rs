//! The upstream's limit, its hang switch and its own count of calls: what
//! the exercises' grades read as their exact partner (`calls` in /metrics).
//! Cheap: one wait of 1 s, and a few calls that hang for 300 ms.

use std::time::{Duration, Instant};

use kit_measure::burst::burst;
use kit_measure::harness::{get, sibling_binary, Target, Upstream};

fn upstream(args: &[&str]) -> Upstream {
    let bin = sibling_binary("upstream").unwrap_or_else(|e| panic!("{e}"));
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Upstream::start_bin(bin, &args).unwrap_or_else(|e| panic!("{e}"))
}

/// 20 calls at once on a limit of 5: 5 held for the whole second, so every
/// one of the other 15 arrives while they are held and is refused at once.
#[test]
fn past_its_limit_the_upstream_answers_429_at_once_and_counts_exactly() {
    let up = upstream(&["--limit", "5", "--io-ms", "1000"]);
    let b = burst(&*up, "/price?product=7", 20, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((b.ok, b.status_counts.get(&429).copied()), (5, Some(15)), "{:?}", b.status_counts);
    let calls = up.calls().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (calls.limit, calls.total, calls.peak_in_flight, calls.rejected, calls.hung_up),
        (Some(5), 20, 5, 15, 0),
        "{calls:?}"
    );
    assert_eq!(b.after.knobs.get("limit"), Some(&5.into()), "the limit is a knob in /metrics");
    // /metrics/reset zeroes the counts and keeps the limit.
    let reset = up.reset_metrics().unwrap_or_else(|e| panic!("{e}")).calls.expect("calls");
    assert_eq!(
        (reset.limit, reset.total, reset.peak_in_flight, reset.rejected),
        (Some(5), 0, 0, 0)
    );
}

/// While hanging, a call gets no answer at all; each client that gives up
/// is counted as hung up, exactly; after `DELETE /hang` calls answer again.
#[test]
fn a_hanging_upstream_answers_nobody_and_counts_each_client_that_hangs_up() {
    let up = upstream(&["--io-ms", "10"]);
    assert!(up.hang(true).unwrap_or_else(|e| panic!("{e}")).hanging);
    let patience = Duration::from_millis(300);
    let gave_up: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn({
                let addr = up.addr();
                move || get(addr, &format!("/price?product={i}"), patience)
            })
        })
        .collect();
    for client in gave_up {
        let answer = client.join().expect("client thread");
        assert!(answer.is_err(), "a hanging upstream answered: {answer:?}");
    }
    // The clients closed their sockets; hyper drops the calls' futures when it reads the close.
    let waiting = Instant::now();
    let mut calls = up.calls().unwrap_or_else(|e| panic!("{e}"));
    while calls.hung_up < 3 && waiting.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        calls = up.calls().unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!((calls.total, calls.hung_up, calls.in_flight), (3, 3, 0), "{calls:?}");
    assert!(!up.hang(false).unwrap_or_else(|e| panic!("{e}")).hanging);
    let (status, body) = get(up.addr(), "/price?product=3", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!("{{\"product\":3,\"cents\":{}}}", kit_serve::upstream::price_cents(3))
    );
}

/// A burst of distinct paths (`burst_each`): 30 products at once, each one
/// call the upstream holds at the same moment, exactly.
#[test]
fn a_burst_of_distinct_products_is_held_at_once() {
    let up = upstream(&["--io-ms", "500"]);
    let paths = kit_measure::calls::products(0, 30);
    let b = kit_measure::burst::burst_each(
        &*up,
        "/price?product=0..29",
        &paths,
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.ok, 30, "{:?}", b.status_counts);
    let calls = up.calls().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((calls.total, calls.peak_in_flight), (30, 30), "{calls:?}");
}

//! The endpoint contract, on all four binaries: the listening line, status
//! codes, JSON shapes, JSON errors on bad input, flags and env vars, and a
//! clean exit on SIGTERM with a request still in flight.

use crate::common;

use std::time::Duration;

use assert_cmd::Command;
use common::{bin, start, VARIANTS};
use kit_measure::harness::{get, request, Server};
use kit_serve::contract::MetricsSnapshot;
use kit_serve::contract::{checksum, ErrorBody, Health, Work};
use serde_json::Value;

const T: Duration = Duration::from_secs(10);

fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let (status, body) = get(server.addr, path, T).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"));
    (status, json)
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn every_server_serves_the_contract() {
    for variant in VARIANTS {
        let server = start(variant, &["--io-ms", "10", "--db-ms", "5"]);
        let (status, health) = get_json(&server, "/health");
        assert_eq!(status, 200);
        assert_eq!(serde_json::from_value::<Health>(health).unwrap(), Health::ok(variant));

        for (path, waits) in [
            ("/parallel", vec![10, 10]),
            ("/multi-io", vec![10, 10, 10]),
            ("/db-simulation", vec![5]),
        ] {
            let (status, json) = get_json(&server, path);
            let work: Work =
                serde_json::from_value(json).unwrap_or_else(|e| panic!("{variant} {path}: {e}"));
            assert_eq!(
                (status, work.waits_ms, work.endpoint.as_str(), work.variant.as_str()),
                (200, waits, path, variant)
            );
        }
        let (_, json) = get_json(&server, "/parallel?io_ms=30");
        assert_eq!(
            serde_json::from_value::<Work>(json).unwrap().waits_ms,
            vec![30, 30],
            "{variant}: ?io_ms overrides"
        );

        let (status, json) = get_json(&server, "/cpu-intensive?cpu_rounds=1000");
        let work: Work = serde_json::from_value(json).unwrap();
        assert_eq!(
            (status, work.cpu_rounds, work.checksum),
            (200, 1000, checksum(1000)),
            "{variant}"
        );

        let (status, json) = get_json(&server, "/metrics");
        let m: MetricsSnapshot =
            serde_json::from_value(json).unwrap_or_else(|e| panic!("{variant} /metrics: {e}"));
        assert_eq!((status, m.variant.as_str()), (200, variant));
        assert!(m.requests_total >= 6, "{variant}: {m:?}");
        // Linux gives both readings; elsewhere a missing one must be null, never 0.
        if cfg!(target_os = "linux") {
            assert!(
                m.os_threads.is_some_and(|t| t >= 1) && m.rss_bytes.is_some_and(|r| r > 0),
                "{variant}: {m:?}"
            );
        }
        assert!(
            m.os_threads != Some(0) && m.rss_bytes != Some(0),
            "{variant}: a reading of 0 is not a reading: {m:?}"
        );
        assert_eq!(
            m.executor_lag_ms.is_some(),
            variant != "sync-blocking",
            "{variant}: executor lag on tokio variants only"
        );
        assert_eq!(m.knobs["io_ms"], 10);
        assert_eq!(m.io_backend, "timer", "{variant}: the default backend");

        let (status, body) = request(server.addr, "POST", "/metrics/reset", T).unwrap();
        let m: MetricsSnapshot = serde_json::from_str(&body).unwrap();
        assert_eq!((status, m.requests_total, m.peak_in_flight), (200, 0, 0), "{variant}: reset");
    }
}

#[test]
fn every_server_answers_bad_input_with_json_errors_and_keeps_serving() {
    for variant in VARIANTS {
        let server = start(variant, &["--io-ms", "10"]);
        for (method, path, status) in [
            ("GET", "/no-such-path", 404),
            ("POST", "/parallel", 405),
            ("GET", "/metrics/reset", 405),
            ("GET", "/parallel?io_ms=abc", 400),
            ("GET", "/parallel?io_ms=999999", 400),
            ("GET", "/cpu-intensive?cpu_rounds=0", 400),
            ("GET", "/parallel?colour=red", 400),
        ] {
            let (got, body) = request(server.addr, method, path, T).unwrap();
            let error: ErrorBody = serde_json::from_str(&body).unwrap_or_else(|e| {
                panic!("{variant} {method} {path}: error body is not JSON ({e}): {body}")
            });
            assert_eq!(got, status, "{variant} {method} {path}: {}", error.error);
            assert!(!error.error.is_empty());
        }
        let (status, _) = get_json(&server, "/health");
        assert_eq!(status, 200, "{variant} still serves after bad input");
    }
}

#[test]
fn json_shapes_are_the_same_on_every_server() {
    let paths = [
        "/health",
        "/parallel",
        "/multi-io",
        "/db-simulation",
        "/cpu-intensive?cpu_rounds=10",
        "/metrics",
        "/nope",
    ];
    let shapes = |variant: &str| -> Vec<Vec<String>> {
        let server = start(variant, &["--io-ms", "1", "--db-ms", "1"]);
        paths.iter().map(|p| keys(&get_json(&server, p).1)).collect()
    };
    let native = shapes("async-native");
    for variant in ["sync-blocking", "async-trap", "blocking-wrapper"] {
        assert_eq!(
            shapes(variant),
            native,
            "{variant}: JSON keys differ from async-native on {paths:?}"
        );
    }
}

#[test]
fn native_only_endpoints_exist_on_async_native_only() {
    for variant in ["sync-blocking", "async-trap", "blocking-wrapper"] {
        let server = start(variant, &[]);
        for path in ["/slow", "/sse", "/ws"] {
            assert_eq!(get_json(&server, path).0, 404, "{variant} {path}");
        }
    }
    let server = start("async-native", &["--io-ms", "50"]);
    let (status, json) = get_json(&server, "/slow");
    assert_eq!((status, serde_json::from_value::<Work>(json).unwrap().waits_ms), (200, vec![25]));
    let (status, json) = get_json(&server, "/ws");
    assert_eq!(status, 400, "a plain GET on /ws is a JSON 400: {json}");
}

#[test]
fn sse_streams_five_events() {
    let server = start("async-native", &["--io-ms", "50"]);
    let rt = kit_measure::burst::runtime().unwrap();
    let (content_type, body) = rt.block_on(async {
        let response = reqwest::get(format!("{}/sse", server.url)).await.unwrap();
        let ct = response.headers()["content-type"].to_str().unwrap().to_string();
        (ct, response.text().await.unwrap())
    });
    assert_eq!(content_type, "text/event-stream");
    let ticks: Vec<kit_serve::contract::Tick> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5], "{body}");
}

#[test]
fn websocket_echoes() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start("async-native", &[]);
    let url = format!("ws://{}/ws", server.addr);
    kit_measure::burst::runtime().unwrap().block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("WebSocket handshake");
        for text in ["hello", "slots"] {
            ws.send(Message::text(text)).await.unwrap();
            let echo = ws.next().await.expect("an echo").unwrap();
            assert_eq!(echo.into_text().unwrap().as_str(), text);
        }
        ws.close(None).await.unwrap();
    });
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    for variant in VARIANTS {
        let server = start(variant, &[]);
        let addr = server.addr;
        let in_flight = std::thread::spawn(move || get(addr, "/parallel?io_ms=600", T));
        std::thread::sleep(Duration::from_millis(300));
        let status = server.terminate().unwrap_or_else(|e| panic!("{variant}: {e}"));
        assert!(status.success(), "{variant} exited with {status}");
        let (code, body) = in_flight
            .join()
            .unwrap()
            .unwrap_or_else(|e| panic!("{variant}: in-flight request lost: {e}"));
        assert_eq!(code, 200, "{variant}: in-flight request answered: {body}");
    }
}

#[test]
fn flags_also_read_env_vars() {
    for variant in VARIANTS {
        let server = Server::start_with_env(bin(variant), &[], &[("KIT_IO_MS", "20")]).unwrap();
        let (_, json) = get_json(&server, "/parallel");
        assert_eq!(
            serde_json::from_value::<Work>(json).unwrap().waits_ms,
            vec![20, 20],
            "{variant}: KIT_IO_MS"
        );
    }
}

#[test]
fn bad_flags_exit_2_with_a_clear_message() {
    for variant in VARIANTS {
        Command::new(bin(variant))
            .arg("--io-ms")
            .arg("soon")
            .assert()
            .code(2)
            .stderr(predicates::str::contains("invalid value 'soon' for '--io-ms"));
        Command::new(bin(variant)).arg("--no-such-flag").assert().code(2);
        Command::new(bin(variant))
            .arg("--help")
            .assert()
            .success()
            .stdout(predicates::str::contains("--io-ms"));
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for variant in VARIANTS {
        Command::new(bin(variant))
            .args(["--port", &port])
            .timeout(T)
            .assert()
            .code(1)
            .stderr(predicates::str::contains("already in use"));
    }
}

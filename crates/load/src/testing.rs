//! A real HTTP server for the generators' tests, on 127.0.0.1:0, in a thread
//! and runtime of its own so that its work never borrows the test's runtime
//! (the one test that stalls the client on purpose relies on that).
//!
//! Test support, compiled only for kit-load's own unit tests (`#[cfg(test)]`
//! in lib.rs): bench's and attack's tests need a server they control, and no
//! other crate does (the kit's tests measure the real servers).

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio::sync::Semaphore;

/// Distinct client (ip, port) pairs seen: one per TCP connection.
type Peers = Arc<Mutex<HashSet<SocketAddr>>>;

#[derive(Clone)]
struct Shared {
    peers: Peers,
    /// Two slots for /gated: the slot model's capacity, 2 / 0.2 s = 10 req/s.
    slots: Arc<Semaphore>,
}

/// A running test server. Formats as its base URL (no trailing slash),
/// so `format!("{server}/fast")` is a URL of it.
pub(crate) struct TestServer {
    base: String,
    peers: Peers,
}

impl TestServer {
    /// TCP connections that have sent a request so far. Read from the
    /// server's memory, not over HTTP, so asking opens no connection
    /// and needs no client.
    pub(crate) fn peers(&self) -> usize {
        self.peers.lock().unwrap().len()
    }
}

impl fmt::Display for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// Routes: /fast, /slow (50 ms), /sleep200 (200 ms, unlimited slots),
/// /gated (200 ms in one of 2 slots), /error (500); anything else is 404.
pub(crate) fn start() -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("local addr");
    let peers = Peers::default();
    let shared = Shared { peers: peers.clone(), slots: Arc::new(Semaphore::new(2)) };
    std::thread::spawn(move || {
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async move {
            let app = Router::new()
                .route("/fast", get(|| async { "ok" }))
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        "slow"
                    }),
                )
                .route(
                    "/sleep200",
                    get(|| async {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        "slept"
                    }),
                )
                .route(
                    "/gated",
                    get(|State(s): State<Shared>| async move {
                        let _slot = s.slots.acquire().await.expect("open semaphore");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        "gated"
                    }),
                )
                .route("/error", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
                .layer(axum::middleware::from_fn_with_state(shared.clone(), note_peer))
                .with_state(shared);
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .expect("serve");
        });
    });
    TestServer { base: format!("http://{addr}"), peers }
}

/// Remembers each connection's client address.
async fn note_peer(
    State(s): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    s.peers.lock().unwrap().insert(peer);
    next.run(req).await
}

/// A loopback port with nothing listening: bound, then released.
pub(crate) fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}/")
}

//! What the two load generators share: [`LoadError`], URL validation, the
//! connection probe that makes "server not running" fail fast, the names
//! given to transport failures, what counts as an error, and the progress
//! hook's plumbing.
//!
//! [`crate::bench`] (closed loop) and [`crate::attack`] (open loop) differ in
//! *when* they send; the rules for what a result means live here so that
//! both report the same thing the same way. (Their transports differ for
//! speed: bench drives hyper connections of its own through [`crate::http1`],
//! attack a reqwest pool built by [`client`]; see each module.)

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Client, Url};

/// The progress hook both generators accept: called with a running count,
/// from the coordinating task only (never from a worker), at most
/// [`PROGRESS_EVERY`] apart. `Sync` so the generator's future stays `Send`.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// How often the progress hook runs: ten times a second is smooth for a
/// person and invisible in the measurement.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Longest wait for the first TCP connection before giving up, whatever the
/// request timeout is: a server that does not accept within this is not
/// there, and the person at the terminal should hear so promptly.
const PROBE_TIMEOUT_CAP: Duration = Duration::from_secs(3);

/// Why a load run could not start (or, for the wrk comparison, finish).
/// Failures *during* a run are not errors: they are counted in the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The URL cannot be loaded: not a URL, not http://, no host.
    InvalidUrl { url: String, reason: String },
    /// The options contradict themselves (zero connections, no stop condition...).
    InvalidOptions(String),
    /// Nothing answers at the URL's host and port.
    Connect { url: String, reason: String },
    /// The HTTP client could not be built (should not happen for plain http).
    Client(String),
    /// Running or reading `wrk` failed (only [`crate::bench::self_check_vs_wrk`]).
    Wrk(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::InvalidUrl { url, reason } => write!(
                f,
                "invalid URL '{url}': {reason} (expected something like http://127.0.0.1:3000/health)"
            ),
            LoadError::InvalidOptions(why) => write!(f, "invalid options: {why}"),
            LoadError::Connect { url, reason } => {
                write!(f, "cannot connect to {url}: {reason} — is the server running?")
            }
            LoadError::Client(why) => write!(f, "cannot build the HTTP client: {why}"),
            LoadError::Wrk(why) => write!(f, "wrk comparison failed: {why}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Parses and checks `url` before any load is sent, so a typo is reported as
/// a typo rather than as thousands of failed requests.
pub fn validate_url(url: &str) -> Result<Url, LoadError> {
    let bad = |reason: String| LoadError::InvalidUrl { url: url.to_string(), reason };
    let parsed = Url::parse(url).map_err(|e| bad(format!("not a URL ({e})")))?;
    match parsed.scheme() {
        "http" => {}
        // The client is built without TLS (reqwest default-features = false):
        // say so instead of failing on every request.
        "https" => return Err(bad("https is not supported by this load generator; use http://".into())),
        // "localhost:3000/x" parses with scheme "localhost": point at the fix.
        other => return Err(bad(format!("unsupported scheme '{other}:' (only http:// is supported)"))),
    }
    match parsed.host_str() {
        Some(h) if !h.is_empty() => {}
        _ => return Err(bad("missing host".into())),
    }
    Ok(parsed)
}

/// Opens (and closes) one TCP connection to the URL's host and port.
///
/// Without this, a server that is not running turns into a run full of
/// "connect refused" errors (or, for a black-holed address, a hang as long as
/// the timeout times the number of requests). One bounded connect attempt
/// settles it before the clock starts. No HTTP request is sent, so the
/// server's request counts are untouched. Returns the address that
/// answered, so callers that open their own connections need not resolve
/// the name again.
pub async fn probe(url: &Url, timeout: Duration) -> Result<SocketAddr, LoadError> {
    let fail = |reason: String| LoadError::Connect { url: url.to_string(), reason };
    let host = url.host_str().unwrap_or_default();
    // `Url` keeps IPv6 literals bracketed; the resolver wants them bare.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(80);
    let limit = timeout.min(PROBE_TIMEOUT_CAP);
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(limit, connect).await {
        Ok(Ok(stream)) => stream.peer_addr().map_err(|e| fail(io_reason(&e).to_string())),
        Ok(Err(e)) => Err(fail(io_reason(&e).to_string())),
        Err(_) => Err(fail(format!("no answer within {} ms", limit.as_millis()))),
    }
}

/// The pooled keep-alive client of the open loop. One instance is shared by
/// all requests (never one per request: building a client costs far more
/// than a request).
pub fn client(timeout: Duration) -> Result<Client, LoadError> {
    Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        // A load test measures the URL given: a 3xx is a status to count,
        // not a hop to another server.
        .redirect(reqwest::redirect::Policy::none())
        // HTTP(S)_PROXY in the environment must not reroute loopback traffic.
        .no_proxy()
        // Small requests and responses: never wait for Nagle.
        .tcp_nodelay(true)
        .build()
        .map_err(|e| LoadError::Client(e.to_string()))
}

/// The error kind of a request that ran out of time.
pub const TIMEOUT_KIND: &str = "timeout";

/// A short, stable name for a transport failure, used as a key of
/// `error_kinds`. `&'static str` so that counting an error allocates nothing.
/// Takes any error (reqwest's or hyper's) and walks its chain of causes.
pub fn error_kind(e: &(dyn std::error::Error + 'static)) -> &'static str {
    // The io::Error deep in the chain is the most precise cause there is.
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = s.source();
    }
    if let Some(e) = e.downcast_ref::<reqwest::Error>() {
        if e.is_timeout() {
            return TIMEOUT_KIND;
        } else if e.is_connect() {
            return "connect error";
        }
    }
    // hyper's own kinds, innermost first: reqwest wraps them too.
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return hyper_reason(h);
        }
        source = s.source();
    }
    "other error"
}

fn hyper_reason(e: &hyper::Error) -> &'static str {
    if e.is_timeout() {
        TIMEOUT_KIND
    } else if e.is_incomplete_message() {
        "connection closed early"
    } else if e.is_closed() || e.is_canceled() {
        "connection closed"
    } else if e.is_parse() || e.is_parse_status() {
        "bad response"
    } else {
        "http error"
    }
}

/// Names the io errors a load test meets; "connect refused" is the one a
/// person most needs to recognise.
fn io_reason(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connect refused",
        ConnectionReset => "connection reset",
        ConnectionAborted => "connection aborted",
        BrokenPipe => "broken pipe",
        TimedOut => TIMEOUT_KIND,
        UnexpectedEof => "connection closed early",
        AddrNotAvailable => "address not available (out of local ports?)",
        NotFound => "host not found",
        _ => "io error",
    }
}

/// Adds `from` into `into`: merging per-worker counters at the end.
pub fn merge_counts<K: Ord + Clone>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

/// Awaits `work` while calling the progress hook with `done` every
/// [`PROGRESS_EVERY`], and once more at the end. The hook thus runs on the
/// coordinating task only, never inside a worker's measurement loop.
pub async fn with_progress<F: std::future::Future>(work: F, done: &AtomicU64, progress: Option<Progress<'_>>) -> F::Output {
    let report = || {
        if let Some(p) = progress {
            p(done.load(Ordering::Relaxed));
        }
    };
    tokio::pin!(work);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let output = loop {
        tokio::select! {
            output = &mut work => break output,
            _ = tick.tick() => report(),
        }
    };
    report();
    output
}

/// A load task does not panic; if one ever does, the panic is the bug to
/// see, not a result with one task's counts silently missing.
pub fn unwrap_join<T>(joined: Result<T, tokio::task::JoinError>) -> T {
    match joined {
        Ok(t) => t,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("load task cancelled: {e}"),
    }
}

/// Whether a response counts as an error: server failures (5xx) do, client
/// errors (4xx) do not, because a 404 or 429 is an answer the server chose
/// to give, at full speed. Every status is still listed in `status_counts`.
pub fn status_is_error(status: u16) -> bool {
    status >= 500
}

/// A real HTTP server for the generators' tests, on 127.0.0.1:0, in a thread
/// and runtime of its own so that its work never borrows the test's runtime
/// (the one test that stalls the client on purpose relies on that).
#[cfg(test)]
pub(crate) mod test_server {
    use std::collections::HashSet;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::extract::{ConnectInfo, State};
    use axum::http::StatusCode;
    use axum::routing::get;
    use axum::Router;
    use tokio::sync::Semaphore;

    #[derive(Clone)]
    struct Shared {
        /// Distinct client (ip, port) pairs seen: one per TCP connection.
        peers: Arc<Mutex<HashSet<SocketAddr>>>,
        /// Two slots for /gated: the slot model's capacity, 2 / 0.2 s = 10 req/s.
        slots: Arc<Semaphore>,
    }

    /// Routes: /fast, /slow (50 ms), /sleep200 (200 ms, unlimited slots),
    /// /gated (200 ms in one of 2 slots), /error (500), /peers (distinct
    /// connections seen so far, as text). Returns the base URL, no trailing slash.
    pub(crate) fn start() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let shared = Shared { peers: Arc::default(), slots: Arc::new(Semaphore::new(2)) };
                let app = Router::new()
                    .route("/fast", get(|| async { "ok" }))
                    .route("/slow", get(|| async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        "slow"
                    }))
                    .route("/sleep200", get(|| async {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        "slept"
                    }))
                    .route("/gated", get(|State(s): State<Shared>| async move {
                        let _slot = s.slots.acquire().await.expect("open semaphore");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        "gated"
                    }))
                    .route("/error", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
                    .route("/peers", get(|State(s): State<Shared>| async move {
                        s.peers.lock().unwrap().len().to_string()
                    }))
                    .layer(axum::middleware::from_fn_with_state(shared.clone(), note_peer))
                    .with_state(shared);
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                    .expect("serve");
            });
        });
        format!("http://{addr}")
    }

    /// Remembers each connection's client address; /peers itself is not
    /// counted, so asking does not change the answer.
    async fn note_peer(
        State(s): State<Shared>,
        ConnectInfo(peer): ConnectInfo<SocketAddr>,
        req: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        if req.uri().path() != "/peers" {
            s.peers.lock().unwrap().insert(peer);
        }
        next.run(req).await
    }

    /// A loopback port with nothing listening: bound, then released.
    pub(crate) fn closed_port_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        drop(listener);
        format!("http://{addr}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_url_explains_what_is_wrong() {
        for (url, needle) in [
            ("notaurl", "not a URL"),
            ("ftp://x", "unsupported scheme 'ftp:'"),
            ("localhost:3000/health", "unsupported scheme 'localhost:'"),
            ("https://example.org/", "https is not supported"),
            ("http://", "not a URL"),
        ] {
            let err = validate_url(url).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
            assert!(err.contains(url), "{url}: {err}");
        }
        assert!(validate_url("http://127.0.0.1:3000/health").is_ok());
        assert!(validate_url("http://[::1]:3000/").is_ok());
    }

    #[test]
    fn only_5xx_is_an_error_status() {
        assert!(!status_is_error(200));
        assert!(!status_is_error(404));
        assert!(!status_is_error(429));
        assert!(status_is_error(500));
        assert!(status_is_error(503));
    }
}

//! What the load generators share: [`LoadError`], the URL parser, the
//! connection probe that makes "server not running" fail fast, the names
//! given to transport failures, what counts as an error, the counts kept per
//! request, and the progress hook's plumbing.
//!
//! [`crate::bench`] (closed loop) and [`crate::attack`] (open loop) differ in
//! *when* they send; the rules for what a result means live here so that
//! both report the same thing the same way. Both send through the same
//! hyper HTTP/1.1 client, [`crate::http1`], the one `kit selfcheck` compares
//! with wrk. The burst and the CPU probe use the same client, the same
//! failure names and the same progress hook; only their error rule is
//! stricter (see [`is_contract_answer`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::header::HeaderValue;
use hyper::Uri;

/// The progress hook every generator accepts (bench, attack and the burst):
/// called with a running count of finished requests, from the coordinating
/// task only (never from a worker), at most [`PROGRESS_EVERY`] apart, and
/// once at the end. `Sync` so the generator's future stays `Send`.
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
            LoadError::Wrk(why) => write!(f, "wrk comparison failed: {why}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// An http:// URL, checked, in the pieces an HTTP/1.1 GET needs: where to
/// connect (host, port), the Host header, and the request line's target.
///
/// Our own parser rather than a general URL crate: a load generator needs
/// plain `http://host[:port][/path][?query]` and nothing else, and a full
/// URL parser (with IDNA and Unicode tables) was most of what kit-measure
/// compiled for its users' dev-dependencies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// As given (trimmed): what every message quotes.
    text: String,
    /// For the resolver: an IPv6 literal without its brackets.
    host: String,
    port: u16,
    /// The Host header: the host as written, and the port unless it is 80.
    authority: HeaderValue,
    /// Origin form, `/path?query`, fragment dropped: the request line's target.
    target: Uri,
}

impl HttpUrl {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn authority(&self) -> &HeaderValue {
        &self.authority
    }

    pub fn target(&self) -> &Uri {
        &self.target
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses and checks `url` before any load is sent, so a typo is reported as
/// a typo rather than as thousands of failed requests. Accepts
/// `http://host[:port][/path][?query][#fragment]`, where host is a name, an
/// IPv4 address or a bracketed IPv6 address (`http://[::1]:3000/`); the port
/// defaults to 80.
pub fn validate_url(url: &str) -> Result<HttpUrl, LoadError> {
    let text = url.trim();
    let bad = |reason: &str| LoadError::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
    let Some((scheme, rest)) = text.split_once("://").filter(|(s, _)| is_scheme(s)) else {
        // "localhost:3000/x" is a URL of scheme "localhost" to a URL parser:
        // point at the fix rather than at the grammar.
        return match text.split_once(':') {
            Some((scheme, _)) if is_scheme(scheme) => {
                Err(bad(&format!("unsupported scheme '{scheme}:' (only http:// is supported)")))
            }
            _ => Err(bad("not a URL (it does not start with http://)")),
        };
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" => {}
        // The client speaks plain HTTP/1.1, no TLS: say so instead of
        // failing on every request.
        "https" => return Err(bad("https is not supported by this load generator; use http://")),
        _ => return Err(bad(&format!("unsupported scheme '{scheme}:' (only http:// is supported)"))),
    }
    // The fragment never leaves the client.
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let (host, port) = split_authority(authority).map_err(|why| bad(&why))?;
    let target = match target {
        "" => "/".to_string(),
        t if t.starts_with('?') => format!("/{t}"),
        t => t.to_string(),
    };
    let target = Uri::try_from(target).map_err(|e| bad(&format!("bad path or query ({e}); spaces and the like must be percent-encoded")))?;
    let host_header = if port == 80 { host.to_string() } else { format!("{host}:{port}") };
    // Only the characters checked below reach here: always a valid header.
    let authority = HeaderValue::try_from(host_header).map_err(|e| bad(&format!("bad host ({e})")))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
    Ok(HttpUrl { text: text.to_string(), host: bare, port, authority, target })
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// `host[:port]` into the host as written (IPv6 with brackets) and the port.
fn split_authority(authority: &str) -> Result<(&str, u16), String> {
    if authority.is_empty() {
        return Err("not a URL: missing host (nothing between http:// and the path)".into());
    }
    if authority.contains('@') {
        return Err("user names and passwords in the URL are not supported".into());
    }
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or("unclosed '[' in the IPv6 address")?;
        let (host, after) = authority.split_at(close + 1);
        host[1..close].parse::<Ipv6Addr>().map_err(|_| format!("'{host}' is not an IPv6 address"))?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or(format!("unexpected '{after}' after the IPv6 address"))?)),
        }
    } else if authority.matches(':').count() > 1 {
        return Err(format!("bad host '{authority}': an IPv6 address goes in brackets, as in http://[::1]:3000/"));
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    if !host.starts_with('[') && !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
        return Err(format!("bad host '{host}'"));
    }
    let port = match port {
        // "http://host:/" is allowed by RFC 3986 and means the default.
        None | Some("") => 80,
        Some(p) => p.parse().ok().filter(|&p: &u16| p != 0).ok_or(format!("bad port '{p}' (expected 1 to 65535)"))?,
    };
    Ok((host, port))
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
pub async fn probe(url: &HttpUrl, timeout: Duration) -> Result<SocketAddr, LoadError> {
    let fail = |reason: String| LoadError::Connect { url: url.to_string(), reason };
    let limit = timeout.min(PROBE_TIMEOUT_CAP);
    let connect = tokio::net::TcpStream::connect((url.host(), url.port()));
    match tokio::time::timeout(limit, connect).await {
        Ok(Ok(stream)) => stream.peer_addr().map_err(|e| fail(io_reason(&e).to_string())),
        Ok(Err(e)) => Err(fail(io_reason(&e).to_string())),
        Err(_) => Err(fail(format!("no answer within {} ms", limit.as_millis()))),
    }
}

/// The error kind of a request that ran out of time.
pub const TIMEOUT_KIND: &str = "timeout";

/// A short, stable name for a transport failure, used as a key of
/// `error_kinds` by every generator. `&'static str` so that counting an
/// error allocates nothing. Takes any error (an io error, hyper's) and walks
/// its chain of causes.
pub fn error_kind(e: &(dyn std::error::Error + 'static)) -> &'static str {
    // The io::Error deep in the chain is the most precise cause there is.
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = s.source();
    }
    // hyper's own kinds, innermost first.
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

/// The load generators' rule (bench and attack): a response counts as an
/// error when the server failed (5xx). A client error (4xx) does not: a 404
/// or a 429 is an answer the server chose to give, at full speed, and a load
/// test of any URL must be able to measure it. Every status is still listed
/// in `status_counts`, so a run of 404s is plain to see.
pub fn is_server_error(status: u16) -> bool {
    status >= 500
}

/// The burst's and the CPU probe's rule, stricter: only a 2xx is a success,
/// anything else is an error. They ask the kit's own servers for the
/// contract's endpoints, which must answer 2xx; a 404 there means a wrong
/// path or a broken server, and counting it as a fast answer would make the
/// broken server look fast in the slot table.
pub fn is_contract_answer(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What bench and attack count for every request, whatever their loop: one
/// instance per worker (bench) or in the one aggregator (attack), merged at
/// the end, never shared while the load runs.
#[derive(Default)]
pub(crate) struct Counts {
    /// Requests that got a response, whatever its status.
    pub responses: u64,
    /// Transport failures + responses that are [`is_server_error`].
    pub errors: u64,
    pub status_counts: BTreeMap<u16, u64>,
    pub error_kinds: BTreeMap<&'static str, u64>,
}

impl Counts {
    /// Counts one request's outcome (a status, or a transport failure's
    /// kind). Returns whether a response came, i.e. whether the caller has
    /// a latency to record: a transport failure has none.
    pub fn record(&mut self, outcome: Result<u16, &'static str>) -> bool {
        match outcome {
            Ok(status) => {
                self.responses += 1;
                *self.status_counts.entry(status).or_default() += 1;
                self.errors += u64::from(is_server_error(status));
                true
            }
            Err(kind) => {
                self.errors += 1;
                *self.error_kinds.entry(kind).or_default() += 1;
                false
            }
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.responses += other.responses;
        self.errors += other.errors;
        merge_counts(&mut self.status_counts, &other.status_counts);
        merge_counts(&mut self.error_kinds, &other.error_kinds);
    }

    /// The failure kinds as a result carries them.
    pub fn error_kinds(&self) -> BTreeMap<String, u64> {
        self.error_kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }
}

/// A real HTTP server for the generators' tests, on 127.0.0.1:0, in a thread
/// and runtime of its own so that its work never borrows the test's runtime
/// (the one test that stalls the client on purpose relies on that).
#[cfg(test)]
pub(crate) mod test_server {
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
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
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
            ("http://", "missing host"),
            ("http:///health", "missing host"),
            ("http://:3000/health", "missing host"),
            ("http://127.0.0.1:99999/", "bad port '99999'"),
            ("http://127.0.0.1:x/", "bad port 'x'"),
            ("http://::1:3000/", "goes in brackets"),
            ("http://[::1/", "unclosed '['"),
            ("http://[nope]:80/", "not an IPv6 address"),
            ("http://me@example.org/", "user names"),
            ("http://127.0.0.1:3000/a b", "percent-encoded"),
        ] {
            let err = validate_url(url).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
            assert!(err.contains(url), "{url}: {err}");
        }
        assert!(validate_url("http://127.0.0.1:3000/health").is_ok());
        assert!(validate_url("http://[::1]:3000/").is_ok());
    }

    /// The pieces a GET is made of, for the shapes a person types.
    #[test]
    fn validate_url_splits_host_port_and_target() {
        let parts = |url: &str| {
            let u = validate_url(url).unwrap();
            (u.host().to_string(), u.port(), u.authority().to_str().unwrap().to_string(), u.target().to_string())
        };
        let s = String::from;
        assert_eq!(parts("http://127.0.0.1:3000/health"), (s("127.0.0.1"), 3000, s("127.0.0.1:3000"), s("/health")));
        assert_eq!(parts("HTTP://localhost"), (s("localhost"), 80, s("localhost"), s("/")));
        assert_eq!(parts("http://localhost:80/a?b=1#frag"), (s("localhost"), 80, s("localhost"), s("/a?b=1")));
        assert_eq!(parts("http://h:/?q"), (s("h"), 80, s("h"), s("/?q")));
        // The resolver wants an IPv6 literal bare, the Host header bracketed.
        assert_eq!(parts("http://[::1]:3000/x"), (s("::1"), 3000, s("[::1]:3000"), s("/x")));
        assert_eq!(parts("http://[::1]"), (s("::1"), 80, s("[::1]"), s("/")));
        // Messages quote the URL as given.
        assert_eq!(validate_url(" http://h/x ").unwrap().to_string(), "http://h/x");
    }

    #[test]
    fn only_5xx_is_a_load_error_and_only_2xx_keeps_the_contract() {
        assert!(!is_server_error(200));
        assert!(!is_server_error(404));
        assert!(!is_server_error(429));
        assert!(is_server_error(500));
        assert!(is_server_error(503));
        assert!(is_contract_answer(200) && is_contract_answer(204));
        assert!(!is_contract_answer(301) && !is_contract_answer(404) && !is_contract_answer(500));
    }

    #[test]
    fn counts_record_statuses_and_failures_by_the_load_rule() {
        let mut c = Counts::default();
        assert!(c.record(Ok(200)));
        assert!(c.record(Ok(404)));
        assert!(c.record(Ok(503)));
        assert!(!c.record(Err(TIMEOUT_KIND)));
        let mut all = Counts::default();
        all.merge(&c);
        all.merge(&c);
        assert_eq!((all.responses, all.errors), (6, 4));
        assert_eq!(all.status_counts, BTreeMap::from([(200, 2), (404, 2), (503, 2)]));
        assert_eq!(all.error_kinds(), BTreeMap::from([(TIMEOUT_KIND.to_string(), 2)]));
    }
}

//! The http backend: each wait is `GET BASE/delay?ms=N` on an upstream
//! service (the kit's `upstream` binary), through the client a real server of
//! that kind would use.
//!
//! - Waits that yield (`wait`, `query`: async-native) go through reqwest's
//!   async client: the request is a parked future, the worker thread is free.
//! - Waits that block (`wait_blocking`, `query_blocking`: sync-blocking, the
//!   wrapper's app threads, and the trap) go through a small hand-written
//!   HTTP/1.1 client on `std::net::TcpStream`, like Flask with `requests`.
//!   Not reqwest's blocking client: that one panics when called inside a
//!   tokio runtime, so the trap would crash loudly. The trap is a client that
//!   blocks *silently*, inside an `async fn`, and the runtime never knows.
//!
//! Every failure is an answer, never a hang: the upstream down or answering
//! nonsense is a 502, slower than `--io-timeout-ms` a 504, each naming the
//! upstream's URL and what happened.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::contract::ApiError;

/// One upstream, and the two clients that call it.
pub struct Upstream {
    /// `http://HOST:PORT`, no trailing slash.
    base: String,
    /// `HOST:PORT`, what the blocking client connects to.
    authority: String,
    timeout: Duration,
    client: reqwest::Client,
}

impl Upstream {
    /// `base` has passed `base_url`.
    pub fn new(base: &str, timeout: Duration) -> Result<Upstream, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // Every idle connection is kept for reuse: a small idle cap would
            // make async-native reconnect under load, and the async server
            // must have no hidden slot limit (reqwest caps nothing else).
            .pool_max_idle_per_host(usize::MAX)
            // The upstream is ours and local: never through a proxy from the environment.
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let authority = base.trim_start_matches("http://").to_string();
        Ok(Upstream { base: base.to_string(), authority, timeout, client })
    }

    fn path(d: Duration) -> String {
        format!("/delay?ms={}", d.as_millis())
    }

    fn too_slow(&self) -> ApiError {
        ApiError::gateway_timeout(format!(
            "upstream {} did not answer within --io-timeout-ms {}",
            self.base,
            self.timeout.as_millis()
        ))
    }

    fn failed(&self, what: impl std::fmt::Display) -> ApiError {
        ApiError::bad_gateway(format!("upstream {}: {what}", self.base))
    }

    /// One wait through reqwest's async client: the future parks, the thread is free.
    pub async fn call(&self, d: Duration) -> Result<(), ApiError> {
        let url = format!("{}{}", self.base, Upstream::path(d));
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                self.too_slow()
            } else if e.is_connect() {
                self.failed(format!("cannot connect ({})", root_cause(&e)))
            } else {
                self.failed(format!("the request failed ({})", root_cause(&e)))
            }
        };
        let response = self.client.get(&url).send().await.map_err(classify)?;
        let status = response.status().as_u16();
        // Read the whole body: the exchange is over only then, and only then
        // can the connection go back to the pool.
        let body = response.bytes().await.map_err(classify)?;
        self.check(status, &String::from_utf8_lossy(&body))
    }

    /// One wait through the blocking client: the calling thread is held
    /// until the answer (or `--io-timeout-ms`). One connection per call,
    /// `Connection: close`, as a plain `requests.get` does.
    pub fn call_blocking(&self, d: Duration) -> Result<(), ApiError> {
        let deadline = Instant::now() + self.timeout;
        let left =
            || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let addr: SocketAddr = self
            .authority
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| self.failed("the host does not resolve"))?;
        let io = |e: std::io::Error| match e.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => self.too_slow(),
            _ => self.failed(format!("the exchange failed ({e})")),
        };
        let mut stream = TcpStream::connect_timeout(&addr, left()).map_err(|e| match e.kind() {
            ErrorKind::TimedOut => self.too_slow(),
            _ => self.failed(format!("cannot connect ({e})")),
        })?;
        stream.set_write_timeout(Some(left())).map_err(io)?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            Upstream::path(d),
            self.authority
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        // Read to the end (the upstream closes after its answer), each read
        // bounded by what is left of the deadline, not a fresh timeout.
        let mut raw = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if Instant::now() >= deadline {
                return Err(self.too_slow());
            }
            stream.set_read_timeout(Some(left())).map_err(io)?;
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            }
        }
        let text = String::from_utf8_lossy(&raw);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return Err(self.failed(format!(
                "the answer is not HTTP ({} bytes: {:?})",
                raw.len(),
                shorten(&text)
            )));
        };
        let status = head
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| self.failed(format!("the answer is not HTTP: {:?}", shorten(head))))?;
        self.check(status, body)
    }

    /// A 200 whose body is JSON is a finished wait; anything else is a 502.
    fn check(&self, status: u16, body: &str) -> Result<(), ApiError> {
        if status != 200 {
            return Err(self.failed(format!("answered {status}: {:?}", shorten(body))));
        }
        if serde_json::from_str::<serde_json::Value>(body).is_err() {
            return Err(self.failed(format!(
                "answered 200 with a body that is not JSON: {:?}",
                shorten(body)
            )));
        }
        Ok(())
    }
}

/// The first 80 characters of what an upstream sent, for an error message.
fn shorten(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The innermost error: reqwest's own message is "error sending request",
/// the cause (connection refused, ...) is what a person needs.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

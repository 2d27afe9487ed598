//! The http backend: each wait is `GET BASE/delay?ms=N` on an upstream
//! service (the kit's `upstream` binary), through the client a real server of
//! that kind would use.
//!
//! - Waits that yield (`wait`, `query`: async-native) go through reqwest's
//!   async client: the request is a parked future, the worker thread is free.
//! - Waits that block (`wait_blocking`, `query_blocking`: sync-blocking, the
//!   wrapper's app threads, and the trap) go through ureq, a blocking client
//!   on `std::net`, like Flask with `requests`. Not reqwest's blocking
//!   client: that one panics when called inside a tokio runtime, so the trap
//!   would crash loudly. The trap is a client that blocks *silently*, inside
//!   an `async fn`, and the runtime never knows; ureq has no runtime at all.
//!
//! Every failure is an answer, never a hang: the upstream down or answering
//! nonsense is a 502, slower than `--io-timeout-ms` a 504, each naming the
//! upstream's URL and what happened.

use std::io::ErrorKind;
use std::net::ToSocketAddrs;
use std::time::Duration;

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::contract::ApiError;

/// One upstream, and the two clients that call it.
pub struct Upstream {
    /// `http://HOST:PORT`, no trailing slash.
    base: String,
    timeout: Duration,
    client: reqwest::Client,
    blocking: ureq::Agent,
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
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // A status other than 200 is read and named, like any answer.
            .http_status_as_error(false)
            .proxy(None)
            // One connection per call: an idle pooled connection would be
            // a descriptor each blocking thread keeps after its wait.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build();
        let blocking =
            ureq::Agent::with_parts(config, DefaultConnector::default(), OnCallingThread);
        Ok(Upstream { base: base.to_string(), timeout, client, blocking })
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
    /// until the answer (or `--io-timeout-ms`, one deadline for the whole
    /// exchange). One connection per call, as a plain `requests.get` does.
    pub fn call_blocking(&self, d: Duration) -> Result<(), ApiError> {
        let url = format!("{}{}", self.base, Upstream::path(d));
        let classify = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => self.too_slow(),
            ureq::Error::Io(e)
                if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) =>
            {
                self.too_slow()
            }
            ureq::Error::HostNotFound => self.failed("the host does not resolve"),
            ureq::Error::Io(e) if never_opened(&e) => self.failed(format!("cannot connect ({e})")),
            ureq::Error::ConnectionFailed => self.failed("cannot connect"),
            ureq::Error::Protocol(e) => self.failed(format!("the answer is not HTTP ({e})")),
            e => self.failed(format!("the exchange failed ({e})")),
        };
        let mut response = self.blocking.get(&url).call().map_err(classify)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(classify)?;
        self.check(status, &body)
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

/// Whether an I/O error is that of a connection that never opened.
fn never_opened(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::AddrNotAvailable
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
    )
}

/// ureq's own resolver looks each name up on a new thread when a timeout is
/// set. A blocking server's slots are its threads, so a call must use no
/// thread but the caller's: the lookup runs here, on it (for the upstream's
/// usual IP address it is no lookup at all). ureq marks this interface as
/// outside its semver promise; Cargo.lock pins the version it was written for.
#[derive(Debug)]
struct OnCallingThread;

impl Resolver for OnCallingThread {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _: &ureq::config::Config,
        _: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let authority = uri.authority().ok_or(ureq::Error::HostNotFound)?;
        let mut found = self.empty();
        // base_url has made sure of the port.
        let addrs = authority.as_str().to_socket_addrs().map_err(|_| ureq::Error::HostNotFound)?;
        // The first 16 addresses, as ureq's own resolver keeps.
        for addr in addrs {
            if found.try_push(addr).is_err() {
                break;
            }
        }
        if found.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(found)
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

#[cfg(test)]
mod tests {
    //! The blocking client against small upstreams that misbehave, each a
    //! listener on this thread's loopback answering one connection.

    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Instant;

    /// How long an upstream holds its connection open after its answer (or
    /// without one): far past every timeout of these tests.
    const HOLD: Duration = Duration::from_secs(5);

    /// An upstream that answers its first connection with `answer` (after
    /// reading the request), then holds the connection open for `HOLD`
    /// when `hold`, else closes it; `None` answers nothing.
    fn upstream(answer: Option<&'static [u8]>, hold: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.read(&mut [0u8; 4096]);
            if let Some(bytes) = answer {
                let _ = s.write_all(bytes);
            }
            if hold || answer.is_none() {
                std::thread::sleep(HOLD);
            }
        });
        url
    }

    fn call(url: &str, timeout: Duration) -> Result<(), ApiError> {
        Upstream::new(url, timeout).unwrap().call_blocking(Duration::from_millis(1))
    }

    /// The answer is read as HTTP (its length, or its chunks), not to the
    /// end of the connection: an upstream that keeps the connection open
    /// after a whole answer is not a timeout.
    #[test]
    fn an_answer_with_json_is_a_finished_wait_even_on_a_connection_kept_open() {
        for answer in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        ] {
            let url = upstream(Some(answer), true);
            let started = Instant::now();
            assert_eq!(call(&url, Duration::from_secs(30)), Ok(()));
            // HOLD is 5 s and the timeout 30 s: well under either is an answer read by length.
            assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
        }
    }

    #[test]
    fn a_refused_connection_is_a_502_naming_the_upstream() {
        let free = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", free.local_addr().unwrap());
        drop(free);
        let e = call(&url, Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.status, 502, "{e:?}");
        assert!(e.message.contains(&url) && e.message.contains("cannot connect"), "{e:?}");
    }

    #[test]
    fn garbage_and_bad_answers_are_502s_naming_the_upstream() {
        for (answer, says) in [
            (&b"hello there, client\r\n\r\n"[..], "not HTTP"),
            (b"HTTP/1.1 200 OK\r\n", "the exchange failed"),
            (b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nboom", "answered 500"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnot", "not JSON"),
        ] {
            let url = upstream(Some(answer), false);
            let e = call(&url, Duration::from_secs(5)).unwrap_err();
            assert_eq!(e.status, 502, "{e:?}");
            assert!(e.message.contains(&url) && e.message.contains(says), "{says}: {e:?}");
        }
    }

    /// One deadline for the whole exchange: a 504 after it (with a band for a
    /// busy machine), naming the upstream and the timeout; on a tokio worker
    /// too, where the call blocks the thread and does not panic.
    #[test]
    fn a_silent_upstream_is_a_504_after_the_timeout_even_inside_a_runtime() {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let url = upstream(None, true);
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        let e = runtime.block_on(async { call(&url, timeout) }).unwrap_err();
        let took = started.elapsed();
        assert_eq!(e.status, 504, "{e:?}");
        assert!(e.message.contains(&url) && e.message.contains("300"), "{e:?}");
        assert!(took >= timeout && took < Duration::from_millis(1500), "took {took:?}");
    }
}

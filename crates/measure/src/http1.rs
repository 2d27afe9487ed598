//! One HTTP/1.1 connection at a time, straight on hyper: what `kit bench`
//! and the burst send. No pool that could open, reuse or hide a connection:
//! the caller holds each connection and decides when it ends.
//!
//! Why hyper rather than reqwest: no pool, no per-request URL parsing, no
//! headers beyond the ones below. Measured on 2 cores (client and an axum
//! /health server sharing them, 50 connections): through reqwest the closed
//! loop got 0.39-0.44 of wrk's requests/s; through hyper, 0.81-1.04. A load
//! generator that eats the server's CPU under-reports the server.
//!
//! The split matters to the burst: `connect` is the TCP handshake, `exchange`
//! is one request and its whole response, so a burst can open every
//! connection first and then send every request at once.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONNECTION, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use reqwest::Url;

use crate::loadgen::{self, LoadError};

/// A connection's sending half.
pub type Sender = SendRequest<Empty<Bytes>>;

/// A GET of one URL, resolved: where to connect and what to send there.
pub struct Get {
    pub addr: SocketAddr,
    /// Origin form, `/path?query`: what HTTP/1.1 puts on the request line.
    path: Uri,
    host: HeaderValue,
    keep_alive: bool,
}

impl Get {
    pub fn new(url: &Url, addr: SocketAddr, keep_alive: bool) -> Result<Get, LoadError> {
        let bad = |reason: String| LoadError::InvalidUrl { url: url.to_string(), reason };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let path = Uri::try_from(path).map_err(|e| bad(format!("bad path ({e})")))?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let host = HeaderValue::try_from(host).map_err(|e| bad(format!("bad host ({e})")))?;
        Ok(Get { addr, path, host, keep_alive })
    }

    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    pub fn request(&self) -> Request<Empty<Bytes>> {
        let mut req = Request::new(Empty::new());
        *req.uri_mut() = self.path.clone();
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        if !self.keep_alive {
            // Say so when a connection carries one request, so neither side
            // keeps an idle socket. A blocking server that expects more keeps
            // a thread parked on the open connection: tiny_http then serves a
            // burst with its 4 pool threads, whatever --threads says.
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        req
    }
}

/// Opens one HTTP/1.1 connection. hyper splits it into a sender (kept by the
/// caller) and a connection future that does the socket I/O; the latter runs
/// on its own task until the server or the caller drops the connection.
pub async fn connect(addr: SocketAddr) -> Result<Sender, &'static str> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| loadgen::error_kind(&e))?;
    // Small requests and responses: never wait for Nagle.
    let _ = stream.set_nodelay(true);
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| loadgen::error_kind(&e))?;
    tokio::spawn(async move {
        // Its errors surface to the caller through the sender.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends `get` on `sender` and reads the body to the end, frame by frame:
/// the status, or a short error kind.
pub async fn exchange(sender: &mut Sender, get: &Get) -> Result<u16, &'static str> {
    let kind = |e: hyper::Error| loadgen::error_kind(&e);
    sender.ready().await.map_err(kind)?;
    let response = sender.send_request(get.request()).await.map_err(kind)?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        frame.map_err(kind)?;
    }
    Ok(status)
}

/// Resolves `url` (checked as `kit bench` checks it) into a `Get`. One
/// bounded connect settles that something listens there; no request is sent.
pub async fn resolve(url: &str, keep_alive: bool, timeout: Duration) -> Result<Get, LoadError> {
    let url = loadgen::validate_url(url)?;
    let addr = loadgen::probe(&url, timeout).await?;
    Get::new(&url, addr, keep_alive)
}

/// One request on a connection of its own, bounded by `timeout`.
pub async fn once(get: &Get, timeout: Duration) -> Result<u16, &'static str> {
    let attempt = async {
        let mut sender = connect(get.addr).await?;
        exchange(&mut sender, get).await
    };
    tokio::time::timeout(timeout, attempt).await.unwrap_or(Err(loadgen::TIMEOUT_KIND))
}

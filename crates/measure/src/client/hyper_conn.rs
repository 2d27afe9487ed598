//! One HTTP/1.1 connection at a time, straight on hyper: the client of the
//! CPU probe, `kit bench` and `kit attack` (the burst has its own, leaner
//! one: [`super::raw`]). No pool that could open, reuse or hide a
//! connection: the caller holds each connection and decides when it ends
//! (bench keeps one per worker, attack keeps its idle ones in a pool of its
//! own).
//!
//! Why hyper rather than reqwest: no pool, no per-request URL parsing, no
//! headers beyond the ones below. Measured on 2 cores (client and an axum
//! /health server sharing them, 50 connections): through reqwest the closed
//! loop got 0.39-0.44 of wrk's requests/s; through hyper, 0.81-1.04. A load
//! generator that eats the server's CPU under-reports the server.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONNECTION, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;

use super::outcome::{error_kind, BODY_TOO_LONG, TIMEOUT_KIND};
use super::raw::MAX_BODY;
use super::url::{connect_probe, validate_url, HttpUrl};
use super::LoadError;

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
    /// A GET of `url` sent to `addr` (where [`connect_probe`] found it).
    pub fn new(url: &HttpUrl, addr: SocketAddr, keep_alive: bool) -> Get {
        Get { addr, path: url.target().clone(), host: url.authority().clone(), keep_alive }
    }

    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// The same GET as bytes for [`super::raw`].
    pub fn raw_request(&self) -> Vec<u8> {
        let target = self.path.path_and_query().map_or("/", |pq| pq.as_str());
        super::raw::request(target, self.host.to_str().unwrap_or_default(), self.keep_alive)
    }

    pub fn request(&self) -> Request<Empty<Bytes>> {
        let mut req = Request::new(Empty::new());
        *req.uri_mut() = self.path.clone();
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        if !self.keep_alive {
            // Say so when a connection carries one request, so neither side
            // keeps an idle socket. A blocking server that expects more keeps
            // a thread parked on the open connection until the client hangs
            // up: one slot per idle connection.
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        req
    }
}

/// Opens one HTTP/1.1 connection. hyper splits it into a sender (kept by the
/// caller) and a connection future that does the socket I/O; the latter runs
/// on its own task until the server or the caller drops the connection.
pub async fn connect(addr: SocketAddr) -> Result<Sender, &'static str> {
    let stream = super::raw::connect(addr).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| error_kind(&e))?;
    // Its errors surface to the caller through the sender.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends `get` on `sender` and reads the body to the end, frame by frame:
/// the status, or a short error kind. Each frame is dropped once counted,
/// and a body past [`MAX_BODY`] ends the request (as in [`super::raw`]):
/// an endless body costs neither memory nor the whole timeout.
pub async fn exchange(sender: &mut Sender, get: &Get) -> Result<u16, &'static str> {
    let kind = |e: hyper::Error| error_kind(&e);
    sender.ready().await.map_err(kind)?;
    let response = sender.send_request(get.request()).await.map_err(kind)?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    if body.size_hint().lower() > MAX_BODY {
        return Err(BODY_TOO_LONG);
    }
    let mut read = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame.map_err(kind)?.data_ref() {
            read += data.len() as u64;
            if read > MAX_BODY {
                return Err(BODY_TOO_LONG);
            }
        }
    }
    Ok(status)
}

/// Resolves `url` (checked as `kit bench` checks it) into a `Get`. One
/// bounded connect settles that something listens there; no request is sent.
pub async fn resolve(url: &str, keep_alive: bool, timeout: Duration) -> Result<Get, LoadError> {
    locate(&validate_url(url)?, keep_alive, timeout).await
}

/// [`resolve`] for a URL already checked: the probe, then the `Get`.
pub async fn locate(url: &HttpUrl, keep_alive: bool, timeout: Duration) -> Result<Get, LoadError> {
    let addr = connect_probe(url, timeout).await?;
    Ok(Get::new(url, addr, keep_alive))
}

/// `attempt`, or the timeout's error kind if it takes longer than `timeout`:
/// how every generator bounds a request.
pub async fn within(
    timeout: Duration,
    attempt: impl Future<Output = Result<u16, &'static str>>,
) -> Result<u16, &'static str> {
    tokio::time::timeout(timeout, attempt).await.unwrap_or(Err(TIMEOUT_KIND))
}

/// One request on a connection of its own, bounded by `timeout`.
pub async fn once(get: &Get, timeout: Duration) -> Result<u16, &'static str> {
    within(timeout, async {
        let mut sender = connect(get.addr).await?;
        exchange(&mut sender, get).await
    })
    .await
}

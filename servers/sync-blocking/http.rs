//! HTTP/1.1 for a blocking server, on one connection: read a request head
//! and its body, call the app, write its JSON answer, close. The reading
//! itself is `kit_blocking::request` (pure, fuzzed); this file is the socket.
//!
//! The handler thread that runs this is held for as long as the connection
//! is open, waiting included: that is how every thread-per-connection server
//! works, and why idle clients eat a blocking server's slots. So, like
//! gunicorn's sync workers, it answers one request per connection and
//! closes it (`Connection: close`): a kept-alive connection would hold its
//! thread while the client thinks, and the next client would wait in the
//! backlog behind an idle one. Parsing is httparse's, the parser hyper uses,
//! with the rules of `kit_serve::http_rules` that hyper's servers keep too;
//! everything they reject gets a JSON error (docs/http.md).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kit_serve::contract::{self, ApiError};
use kit_serve::http_rules::{self, Framing};

use kit_blocking::app::Reply;
use kit_blocking::request::{self, Head};
/// How often a thread waiting for a request head looks at the clock.
const READ_POLL: Duration = Duration::from_millis(100);

/// Serves the one request on `stream`, then closes it. `handle` is the app:
/// (method, url) to a finished reply. A client that takes longer than
/// `header_timeout` to send its request head is closed: until then it holds
/// this thread, one of the server's slots, whether it sends anything or not
/// (slowloris).
pub fn serve_connection(
    mut stream: TcpStream,
    handle: impl Fn(&str, &str) -> Reply,
    header_timeout: Duration,
) {
    let _ = stream.set_read_timeout(Some(READ_POLL));
    let _ = stream.set_nodelay(true);
    match read_request(&mut stream, header_timeout) {
        // A client that hung up is its own problem, not the server's.
        Incoming::Request(head) => {
            let reply = handle(&head.method, &head.target);
            let (path, _) = contract::split_url(&head.target);
            drop(write_reply(&mut stream, &reply, path, head.method == "HEAD"))
        }
        Incoming::Closed => {}
        Incoming::Bad(e) => {
            let _ = write_reply(&mut stream, &Reply::error(e), "", false);
            linger(&mut stream);
        }
    }
}

/// Closes gently after a bad request. Input the server did not read (the
/// rest of the garbage) would make the close a reset, and a reset can destroy
/// the answer before the client has read it. So: stop writing, then read and
/// drop what is left, for a moment at most (it holds a slot meanwhile).
fn linger(stream: &mut TcpStream) {
    const LINGER: Duration = Duration::from_millis(200);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 4096];
    while Instant::now() < until {
        match read_some(stream, &mut sink) {
            Ok(Some(0)) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// One read, waiting at most the socket's read timeout (`READ_POLL`):
/// `Some(n)` bytes (0: the client closed), `None` when nothing came in time,
/// so the caller can look at its clock and read again.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
    match stream.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// What the next read of a connection brought.
enum Incoming {
    Request(Head),
    Closed,
    Bad(ApiError),
}

/// Reads one request head from the socket, then reads its body to the end
/// (no endpoint uses it, but what follows the head must be read, or the
/// close resets the connection and can destroy the answer).
fn read_request(stream: &mut TcpStream, header_timeout: Duration) -> Incoming {
    let waiting = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head, len) = loop {
        if !buf.is_empty() {
            match request::parse_head(&buf) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) => {}
                Err(e) => return Incoming::Bad(e),
            }
        }
        match read_some(stream, &mut chunk) {
            Ok(Some(0)) | Err(_) => return Incoming::Closed,
            Ok(Some(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(None) if waiting.elapsed() >= header_timeout => return Incoming::Closed,
            Ok(None) => {}
        }
    };
    buf.drain(..len);
    // The client waits for this before it sends the body (RFC 9110 §10.1.1).
    if head.expect_continue && head.framing != Framing::Empty {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    // A body sent a byte at a time must not hold the thread for ever either.
    let deadline = waiting + header_timeout;
    let mut body = request::Body::new(head.framing);
    loop {
        match body.feed(&buf) {
            Ok((_, true)) => return Incoming::Request(head),
            Ok((used, false)) => drop(buf.drain(..used)),
            Err(e) => return Incoming::Bad(e),
        }
        match read_some(stream, &mut chunk) {
            Ok(Some(0)) | Err(_) => return Incoming::Closed,
            Ok(Some(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(None) if Instant::now() >= deadline => {
                return Incoming::Bad(http_rules::body_too_slow(header_timeout))
            }
            Ok(None) => {}
        }
    }
}

/// The answer, with the headers every origin server sends: `Date` (RFC
/// 9110 §6.6.1), `Allow` on a 405 (§15.5.6); no body after a HEAD (§9.3.2),
/// with the length the GET's body would have.
fn write_reply(
    stream: &mut TcpStream,
    reply: &Reply,
    path: &str,
    head_only: bool,
) -> std::io::Result<()> {
    let allow = match http_rules::allow(path) {
        Some(methods) if reply.status == 405 => format!("Allow: {methods}\r\n"),
        _ => String::new(),
    };
    let head = format!(
        "HTTP/1.1 {} {}\r\nDate: {}\r\n{allow}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reason(reply.status),
        httpdate::fmt_http_date(std::time::SystemTime::now()),
        reply.body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(reply.body.as_bytes())?;
    }
    stream.flush()
}

/// The status line's reason phrase (hyper writes the same ones).
fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
}

//! Just enough HTTP/1.1 for a blocking server, on one connection: read a
//! request head, skip its body, call the app, write its JSON answer, close.
//!
//! The handler thread that runs this is held for as long as the connection
//! is open, waiting included: that is how every thread-per-connection server
//! works, and why idle clients eat a blocking server's slots. So, like
//! gunicorn's sync workers, it answers one request per connection and
//! closes it (`Connection: close`): a kept-alive connection would hold its
//! thread while the client thinks, and the next client would wait in the
//! backlog behind an idle one. Parsing is httparse's, the parser hyper uses;
//! everything it rejects gets a JSON error.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kit_serve::contract::ApiError;

use kit_blocking::app::Reply;

/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 16 * 1024;
/// The most headers one request may have.
const MAX_HEADERS: usize = 64;
/// The largest request body skipped (no endpoint reads one).
const MAX_BODY: u64 = 1 << 20;
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
        Incoming::Request(request) => {
            drop(write_reply(&mut stream, &handle(&request.method, &request.url)))
        }
        Incoming::Closed => {}
        Incoming::Bad(e) => {
            let _ = write_reply(&mut stream, &Reply::error(e));
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

struct Request {
    method: String,
    url: String,
}

/// What the next read of a connection brought.
enum Incoming {
    Request(Request),
    Closed,
    Bad(ApiError),
}

/// Reads one request head from the socket, and skips the body that follows.
fn read_request(stream: &mut TcpStream, header_timeout: Duration) -> Incoming {
    let waiting = Instant::now();
    let mut buf = Vec::new();
    let buf = &mut buf;
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut head = httparse::Request::new(&mut headers);
            match head.parse(buf) {
                Ok(httparse::Status::Complete(len)) if len > MAX_HEAD => return too_long(),
                Ok(httparse::Status::Complete(len)) => {
                    let parsed = parse_head(&head);
                    return match parsed {
                        Ok((request, body)) => {
                            match skip_body(stream, buf, len, body, waiting + header_timeout) {
                                Ok(()) => Incoming::Request(request),
                                Err(_) => Incoming::Closed,
                            }
                        }
                        Err(e) => Incoming::Bad(e),
                    };
                }
                Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return too_long(),
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => {
                    return Incoming::Bad(error(
                        431,
                        format!("more than {MAX_HEADERS} request headers"),
                    ))
                }
                Err(e) => {
                    return Incoming::Bad(error(400, format!("not an HTTP/1.1 request: {e}")))
                }
            }
        }
        let mut chunk = [0u8; 4096];
        match read_some(stream, &mut chunk) {
            Ok(Some(0)) | Err(_) => return Incoming::Closed,
            Ok(Some(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(None) if waiting.elapsed() >= header_timeout => return Incoming::Closed,
            Ok(None) => {}
        }
    }
}

/// The request, and the length of its body.
fn parse_head(head: &httparse::Request) -> Result<(Request, u64), ApiError> {
    let (Some(method), Some(url), Some(_)) = (head.method, head.path, head.version) else {
        return Err(error(400, "incomplete request line".into()));
    };
    let mut body = 0;
    for header in head.headers.iter() {
        let value = String::from_utf8_lossy(header.value);
        if header.name.eq_ignore_ascii_case("content-length") {
            body = value
                .trim()
                .parse()
                .map_err(|_| error(400, format!("bad Content-Length: {value}")))?;
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(error(
                501,
                "chunked request bodies are not supported here: send a Content-Length".into(),
            ));
        }
    }
    if body > MAX_BODY {
        return Err(error(
            413,
            format!("a request body of {body} bytes: at most {MAX_BODY} are accepted"),
        ));
    }
    Ok((Request { method: method.to_string(), url: url.to_string() }, body))
}

/// Drops the head (`head_len` bytes) and a body of `body` bytes from the
/// front of `buf`, reading what is not there yet, until `deadline` (a body
/// sent a byte at a time must not hold the thread for ever either).
fn skip_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head_len: usize,
    body: u64,
    deadline: Instant,
) -> std::io::Result<()> {
    let in_buf = (buf.len() - head_len).min(body as usize);
    buf.drain(..head_len + in_buf);
    let mut left = body - in_buf as u64;
    let mut chunk = [0u8; 4096];
    while left > 0 {
        match read_some(stream, &mut chunk[..left.min(4096) as usize])? {
            Some(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Some(n) => left -= n as u64,
            None if Instant::now() >= deadline => return Err(ErrorKind::TimedOut.into()),
            None => {}
        }
    }
    Ok(())
}

fn write_reply(stream: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(reply.body.as_bytes())?;
    stream.flush()
}

fn too_long() -> Incoming {
    Incoming::Bad(error(431, format!("the request head is longer than {MAX_HEAD} bytes")))
}

fn error(status: u16, message: String) -> ApiError {
    ApiError { status, message }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

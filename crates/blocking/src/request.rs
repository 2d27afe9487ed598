//! One HTTP/1.1 request read from bytes: the head, then its body, for a
//! server that reads its own sockets (sync-blocking's `http.rs`).
//!
//! Pure functions over the bytes received so far, so the same code is
//! fuzzed (`fuzz/fuzz_targets/server_request.rs`) and tested without a
//! socket. The head is httparse's, the parser hyper uses; the body's
//! chunk sizes too. What httparse leaves to the server (Host, the body's
//! framing, `Expect`) is `kit_serve::http_rules`, the very functions the
//! hyper servers call: the four servers answer alike.

use kit_serve::contract::ApiError;
use kit_serve::http_rules::{self, Framing, MAX_BODY};

/// The largest request head (request line and headers) read.
pub const MAX_HEAD: usize = 16 * 1024;
/// The most headers one request may have.
pub const MAX_HEADERS: usize = 64;
/// The longest chunk-size line (size and extensions) accepted.
const MAX_CHUNK_LINE: usize = 1024;

/// A request head that passed every rule.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The target in origin form, `/path?query`, whatever form it came in
    /// (absolute-form `http://host/path` must be accepted: RFC 9112 §3.2.2).
    pub target: String,
    pub http11: bool,
    pub framing: Framing,
    /// `Expect: 100-continue`: the client waits for a `100 Continue`
    /// before it sends the body.
    pub expect_continue: bool,
}

/// Parses the request head at the start of `buf`: `Ok(None)` while it is
/// incomplete, the head and its length in bytes once it is complete, and
/// the error to answer with when it breaks a rule.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, ApiError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    // Only the first MAX_HEAD bytes are parsed: the answer is the same
    // however the bytes arrived, in one read or in many.
    let len = match request.parse(&buf[..buf.len().min(MAX_HEAD)]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return Err(too_long(buf)),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(error(431, format!("more than {MAX_HEADERS} request headers")))
        }
        Err(e) => return Err(error(400, format!("not an HTTP/1.1 request: {e}"))),
    };
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(error(400, "incomplete request line".into()));
    };
    let http11 = version == 1;
    let values = |name: &str| {
        request
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
            .collect::<Vec<_>>()
    };
    http_rules::host(http11, &values("host"))?;
    let framing =
        http_rules::framing(http11, &values("content-length"), &values("transfer-encoding"))?;
    let head = Head {
        method: method.to_string(),
        target: origin_form(target)?,
        http11,
        framing,
        expect_continue: http_rules::expects_continue(http11, &values("expect")),
    };
    Ok(Some((head, len)))
}

/// The path and query of a request target, read as hyper reads it (the
/// `http` crate's `Uri`), so that the four servers route the same path.
fn origin_form(target: &str) -> Result<String, ApiError> {
    let uri: axum::http::Uri =
        target.parse().map_err(|e| error(400, format!("not a request target: {e}")))?;
    Ok(http_rules::origin_form(&uri))
}

/// A head of `MAX_HEAD` bytes or more: 414 when its request line alone is (RFC 9112
/// §3: the target is longer than the server parses), 431 otherwise.
fn too_long(buf: &[u8]) -> ApiError {
    if !buf[..MAX_HEAD].contains(&b'\n') {
        error(414, format!("the request line is longer than {MAX_HEAD} bytes"))
    } else {
        error(431, format!("the request head is longer than {MAX_HEAD} bytes"))
    }
}

/// Reads a body off the bytes that follow the head, as they arrive: a
/// `Content-Length`, or the chunked coding (RFC 9112 §7.1) with its chunk
/// extensions ignored and its trailer section skipped.
#[derive(Debug)]
pub struct Body {
    state: State,
    /// Chunk data seen so far, for the [`MAX_BODY`] limit.
    seen: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes of a `Content-Length` body to go.
    Length(u64),
    /// Before a chunk-size line.
    Size,
    /// This many bytes of chunk data to go.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: the trailer section and its empty line.
    Trailers,
    Done,
}

impl Body {
    pub fn new(framing: Framing) -> Body {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Size,
        };
        Body { state, seen: 0 }
    }

    /// Reads what it can from `buf`: how many of its bytes belong to the
    /// body (the caller drops them), and whether the body has ended. The
    /// bytes after its end are the connection's next request.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, bool), ApiError> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            match self.state {
                State::Done => return Ok((used, true)),
                State::Length(left) | State::Data(left) => {
                    let n = left.min(rest.len() as u64);
                    if n == 0 {
                        return Ok((used, false));
                    }
                    used += n as usize;
                    self.state = match self.state {
                        State::Length(_) if left == n => State::Done,
                        State::Length(_) => State::Length(left - n),
                        _ if left == n => State::DataEnd,
                        _ => State::Data(left - n),
                    };
                }
                // As for the head: a bounded prefix, so that the answer does
                // not depend on how the bytes arrived.
                State::Size => {
                    match httparse::parse_chunk_size(&rest[..rest.len().min(MAX_CHUNK_LINE)]) {
                        Ok(httparse::Status::Complete((len, size))) => {
                            used += len;
                            self.seen = self.seen.saturating_add(size);
                            if self.seen > MAX_BODY {
                                return Err(http_rules::too_large(self.seen));
                            }
                            self.state =
                                if size == 0 { State::Trailers } else { State::Data(size) };
                        }
                        Ok(httparse::Status::Partial) if rest.len() >= MAX_CHUNK_LINE => {
                            return Err(error(400, "a chunk-size line too long".into()))
                        }
                        Ok(httparse::Status::Partial) => return Ok((used, false)),
                        Err(_) => return Err(error(400, "an invalid chunk size".into())),
                    }
                }
                State::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        used += 2;
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => return Ok((used, false)),
                    _ => return Err(error(400, "chunk data longer than its size".into())),
                },
                State::Trailers => {
                    let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    match httparse::parse_headers(&rest[..rest.len().min(MAX_HEAD)], &mut trailers)
                    {
                        Ok(httparse::Status::Complete((len, _))) => {
                            used += len;
                            self.state = State::Done;
                        }
                        Ok(httparse::Status::Partial) if rest.len() >= MAX_HEAD => {
                            return Err(error(
                                431,
                                format!("a trailer section longer than {MAX_HEAD} bytes"),
                            ))
                        }
                        Ok(httparse::Status::Partial) => return Ok((used, false)),
                        Err(e) => {
                            return Err(error(400, format!("an invalid trailer section: {e}")))
                        }
                    }
                }
            }
        }
    }
}

fn error(status: u16, message: String) -> ApiError {
    ApiError { status, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Option<(Head, usize)>, ApiError> {
        parse_head(raw.as_bytes())
    }

    #[test]
    fn a_plain_head() {
        let raw = "GET /health?x=1 HTTP/1.1\r\nHost: kit\r\n\r\nrest";
        let (h, len) = head(raw).unwrap().unwrap();
        assert_eq!(
            (h.method.as_str(), h.target.as_str(), h.http11, h.framing),
            ("GET", "/health?x=1", true, Framing::Empty)
        );
        assert_eq!(len, raw.len() - "rest".len());
        assert!(head("GET /health HTTP/1.1\r\nHost: kit\r\n").unwrap().is_none());
    }

    #[test]
    fn absolute_form_is_read_as_its_path() {
        let (h, _) =
            head("GET http://kit/health?a=b HTTP/1.1\r\nHost: kit\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.target, "/health?a=b");
    }

    #[test]
    fn limits() {
        let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(head(&long_line).unwrap_err().status, 414);
        let long_headers =
            format!("GET / HTTP/1.1\r\nHost: kit\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(head(&long_headers).unwrap_err().status, 431);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert_eq!(head(&format!("GET / HTTP/1.1\r\n{many}\r\n")).unwrap_err().status, 431);
    }

    /// Feeds `body` whole, then one byte at a time: both must agree.
    fn read(framing: Framing, body: &[u8]) -> Result<usize, u16> {
        let whole = Body::new(framing).feed(body).map_err(|e| e.status).and_then(|(used, done)| {
            if done {
                Ok(used)
            } else {
                Err(0)
            }
        });
        let mut by_byte = Body::new(framing);
        let mut pending = Vec::new();
        let mut total = 0;
        let mut outcome = Err(0);
        for b in body {
            pending.push(*b);
            match by_byte.feed(&pending) {
                Err(e) => {
                    outcome = Err(e.status);
                    break;
                }
                Ok((used, done)) => {
                    total += used;
                    pending.drain(..used);
                    if done {
                        outcome = Ok(total);
                        break;
                    }
                }
            }
        }
        assert_eq!(
            whole,
            outcome,
            "whole and byte by byte disagree on {:?}",
            String::from_utf8_lossy(body)
        );
        whole
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(read(Framing::Chunked, b"5\r\nhello\r\n0\r\n\r\nNEXT"), Ok(15));
        assert_eq!(read(Framing::Chunked, b"5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), Ok(29));
        assert_eq!(read(Framing::Chunked, b"zz\r\nhello\r\n0\r\n\r\n"), Err(400));
        assert_eq!(read(Framing::Chunked, b"fffffffffffffffff\r\n"), Err(400));
        assert_eq!(read(Framing::Chunked, b"5\r\nhelloXX0\r\n\r\n"), Err(400));
        assert_eq!(read(Framing::Chunked, b"200000\r\n"), Err(413));
        assert_eq!(read(Framing::Length(3), b"abcdef"), Ok(3));
        assert_eq!(read(Framing::Empty, b"abc"), Ok(0));
    }
}

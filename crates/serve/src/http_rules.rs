//! The HTTP rules every server of the kit keeps, whoever parses its
//! requests: the MUSTs of RFC 9112 and RFC 9110 that a parser leaves to the
//! server, and one answer wherever HTTP allows a choice.
//!
//! Two parsers read the kit's requests: hyper (async-trap, blocking-wrapper,
//! async-native, every exercise and solution), and sync-blocking's own
//! reader on httparse (`kit_blocking::request`). Both call the functions
//! here, so the same raw request gets the same answer from all four servers.
//! The table of those answers is docs/http.md; it is run, raw, on every
//! server by `servers/tests/side_by_side/http_rules.rs`.
//!
//! The choices made here, where HTTP allows more than one:
//! - a request body is read to its end before the answer (no endpoint uses
//!   one), at most [`MAX_BODY`] bytes: so a malformed chunked body is a 400,
//!   and `Expect: 100-continue` gets its `100 Continue` on every server;
//! - `Transfer-Encoding` beside `Content-Length`: the chunked coding decides
//!   (hyper removes the length before the kit's code sees the request, so
//!   the other choice, a 400, is not the kit's to make), and the connection
//!   is closed after the answer;
//! - the connection is closed after every refusal of a request's framing.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Version};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::contract::{ApiError, Endpoint};

/// The largest request body read (and dropped: no endpoint reads one).
pub const MAX_BODY: u64 = 1 << 20;

/// How a request's body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// The chunked coding, up to its last chunk and trailer section.
    Chunked,
}

/// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status
/// code to any HTTP/1.1 request message that lacks a Host header field and
/// to any request message that contains more than one Host header field
/// line or a Host header field with an invalid field value." An empty Host
/// is valid (a target URI with no authority).
pub fn host(http11: bool, hosts: &[&[u8]]) -> Result<(), ApiError> {
    match hosts {
        [] if http11 => Err(refused("an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)")),
        [] | [b""] => Ok(()),
        [one] if valid_authority(one) => Ok(()),
        [one] => Err(ApiError::bad_request(format!(
            "the Host header is not a host[:port]: {:?} (RFC 9112 §3.2)",
            String::from_utf8_lossy(one)
        ))),
        _ => Err(refused("more than one Host header (RFC 9112 §3.2)")),
    }
}

/// `host[:port]` by RFC 3986 §3.2.2-3: a reg-name or IPv4 address (its
/// characters), or an IP literal in brackets, then an optional port of digits.
fn valid_authority(value: &[u8]) -> bool {
    let (host, port) = match value.iter().rposition(|&b| b == b']' || b == b':') {
        Some(i) if value[i] == b':' => (&value[..i], &value[i + 1..]),
        _ => (value, &b""[..]),
    };
    let reg_name = |b: &u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(b);
    let literal = |b: &u8| b.is_ascii_hexdigit() || b":.vV".contains(b) || reg_name(b);
    let host_ok = match host {
        [b'[', inner @ .., b']'] => !inner.is_empty() && inner.iter().all(literal),
        _ => !host.is_empty() && host.iter().all(reg_name),
    };
    host_ok && port.iter().all(u8::is_ascii_digit)
}

/// The body's framing from the `Content-Length` and `Transfer-Encoding`
/// field values (every line of each), by RFC 9112 §6:
/// - `Transfer-Encoding` on HTTP/1.0: 400 (§6.1: the framing cannot be
///   trusted); beside `Content-Length`, the transfer coding decides and the
///   length is ignored (§6.1, hyper's choice, so the kit's);
/// - a transfer coding list that does not end in `chunked`: 400 (§6.3);
///   a coding other than `chunked` before it: 501 (§6.1, none is
///   implemented here); `chunked` twice: 400 (§7);
/// - a `Content-Length` that is not digits, or lines that disagree: 400
///   (§6.3: "an unrecoverable error"); identical values are one length;
/// - a length over [`MAX_BODY`]: 413, before any of it is read.
pub fn framing(
    http11: bool,
    content_lengths: &[&[u8]],
    transfer_encodings: &[&[u8]],
) -> Result<Framing, ApiError> {
    if !transfer_encodings.is_empty() {
        if !http11 {
            return Err(refused("Transfer-Encoding on an HTTP/1.0 request (RFC 9112 §6.1)"));
        }
        // Beside a Transfer-Encoding, a Content-Length is ignored, as hyper
        // does (RFC 9112 §6.1 allows that or a 400); the connection is
        // closed after the answer, which §6.1 requires either way.
        let codings: Vec<String> = transfer_encodings
            .iter()
            .flat_map(|line| {
                String::from_utf8_lossy(line)
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .filter(|coding| !coding.is_empty())
            .collect();
        return match codings.split_last() {
            Some((last, before)) if last == "chunked" => {
                if before.iter().any(|c| c == "chunked") {
                    Err(refused("chunked applied twice (RFC 9112 §7)"))
                } else if let Some(other) = before.first() {
                    Err(ApiError {
                        status: 501,
                        message: format!("the transfer coding {other:?} is not supported here (RFC 9112 §6.1)"),
                    })
                } else {
                    Ok(Framing::Chunked)
                }
            }
            _ => Err(refused(
                "a Transfer-Encoding that does not end in chunked: the body's length is unknown (RFC 9112 §6.3)",
            )),
        };
    }
    let mut length = None;
    for line in content_lengths {
        for value in String::from_utf8_lossy(line).split(',') {
            let value = value.trim_matches([' ', '\t']);
            let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| {
                    refused(&format!("bad Content-Length: {value:?} (RFC 9112 §6.3)"))
                })?;
            match length {
                Some(earlier) if earlier != parsed => {
                    return Err(refused(
                        "conflicting Content-Length values: the body's length is ambiguous (RFC 9112 §6.3)",
                    ))
                }
                _ => length = Some(parsed),
            }
        }
    }
    match length {
        None | Some(0) => Ok(Framing::Empty),
        Some(n) if n > MAX_BODY => Err(too_large(n)),
        Some(n) => Ok(Framing::Length(n)),
    }
}

/// RFC 9110 §10.1.1: only `100-continue` is an expectation; others are ignored.
pub fn expects_continue(http11: bool, expect: &[&[u8]]) -> bool {
    http11 && expect.iter().any(|value| value.eq_ignore_ascii_case(b"100-continue"))
}

/// RFC 9110 §15.5.6: a 405 names the methods the path allows. GET
/// endpoints allow HEAD too (RFC 9110 §9.1: every general-purpose server
/// supports both).
pub fn allow(path: &str) -> Option<&'static str> {
    Endpoint::from_path(path).map(|e| if e.method() == "GET" { "GET, HEAD" } else { "POST" })
}

/// The path and query of a request's target, whatever form it came in:
/// absolute-form (`GET http://host/health`) must be accepted (RFC 9112
/// §3.2.2) and names the same endpoint as `GET /health`.
pub fn origin_form(uri: &axum::http::Uri) -> String {
    match uri.query() {
        Some(query) => format!("{}?{query}", uri.path()),
        None => uri.path().to_string(),
    }
}

/// The answer to a body longer than [`MAX_BODY`].
pub fn too_large(length: u64) -> ApiError {
    ApiError {
        status: 413,
        message: format!("a request body of {length} bytes or more: at most {MAX_BODY} are read"),
    }
}

/// The answer to a body that did not arrive within `timeout`.
pub fn body_too_slow(timeout: Duration) -> ApiError {
    ApiError {
        status: 408,
        message: format!(
            "the request body did not arrive within --header-read-timeout-ms {}",
            timeout.as_millis()
        ),
    }
}

fn refused(message: &str) -> ApiError {
    ApiError::bad_request(message.to_string())
}

/// The same rules as an axum middleware, around every route of a tokio
/// server (hyper has already refused what httparse refuses: a bad request
/// line, obs-fold, a bare CR, conflicting lengths). `timeout` bounds the
/// wait for the body, as `--header-read-timeout-ms` bounds the head's.
pub async fn layer(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let http11 = parts.version == Version::HTTP_11;
    let values =
        |name| parts.headers.get_all(name).iter().map(HeaderValue::as_bytes).collect::<Vec<_>>();
    let checked = host(http11, &values(header::HOST)).and_then(|()| {
        framing(http11, &values(header::CONTENT_LENGTH), &values(header::TRANSFER_ENCODING))
    });
    if let Err(e) = checked {
        return closing(e);
    }
    // Reading the body is what makes hyper send `100 Continue`, and what
    // finds a malformed chunk.
    let read = tokio::time::timeout(timeout, Limited::new(body, MAX_BODY as usize).collect()).await;
    match read {
        Err(_) => return closing(body_too_slow(timeout)),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return closing(too_large(MAX_BODY + 1)),
        Ok(Err(e)) => {
            return closing(ApiError::bad_request(format!("an unreadable request body: {e}")))
        }
        Ok(Ok(_)) => {}
    }
    // A Uri's clone shares its bytes: no copy on every request.
    let uri = parts.uri.clone();
    let mut response = next.run(Request::from_parts(parts, Body::empty())).await;
    add_allow(response.status(), uri.path(), response.headers_mut());
    response
}

/// Adds `Allow` to a 405 that has none.
fn add_allow(status: StatusCode, path: &str, headers: &mut HeaderMap) {
    if status == StatusCode::METHOD_NOT_ALLOWED && !headers.contains_key(header::ALLOW) {
        if let Some(methods) = allow(path) {
            headers.insert(header::ALLOW, HeaderValue::from_static(methods));
        }
    }
}

/// A refusal, and the connection closed after it: whatever follows the
/// refused head cannot be trusted to be the next request.
fn closing(e: ApiError) -> Response {
    let mut response = e.into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rules() {
        assert!(host(true, &[b"kit"]).is_ok());
        assert!(host(true, &[b"127.0.0.1:5001"]).is_ok());
        assert!(host(true, &[b""]).is_ok());
        assert!(host(false, &[]).is_ok());
        assert_eq!(host(true, &[]).unwrap_err().status, 400);
        assert_eq!(host(false, &[b"a", b"b"]).unwrap_err().status, 400);
        assert!(host(true, &[b"[::1]:80"]).is_ok());
        for bad in [&b"a b"[..], b"a/b", b"u@h", b"h:x", b":80", b"[::1", b"a:1:2"] {
            assert_eq!(host(true, &[bad]).unwrap_err().status, 400, "{bad:?}");
        }
    }

    #[test]
    fn framing_rules() {
        assert_eq!(framing(true, &[], &[]).unwrap(), Framing::Empty);
        assert_eq!(framing(true, &[b"5"], &[]).unwrap(), Framing::Length(5));
        assert_eq!(framing(true, &[b"5", b"5"], &[]).unwrap(), Framing::Length(5));
        assert_eq!(framing(true, &[b"5, 5"], &[]).unwrap(), Framing::Length(5));
        assert_eq!(framing(true, &[], &[b"Chunked"]).unwrap(), Framing::Chunked);
        let status = |cl: &[&[u8]], te: &[&[u8]]| framing(true, cl, te).unwrap_err().status;
        assert_eq!(status(&[b"1", b"2"], &[]), 400);
        assert_eq!(status(&[b"-1"], &[]), 400);
        assert_eq!(status(&[b"+1"], &[]), 400);
        assert_eq!(status(&[b""], &[]), 400);
        assert_eq!(status(&[b"99999999999999999999999"], &[]), 400);
        assert_eq!(status(&[b"2000000"], &[]), 413);
        assert_eq!(framing(true, &[b"5"], &[b"chunked"]).unwrap(), Framing::Chunked);
        assert_eq!(status(&[], &[b"gzip"]), 400);
        assert_eq!(status(&[], &[b"chunked, gzip"]), 400);
        assert_eq!(status(&[], &[b"gzip, chunked"]), 501);
        assert_eq!(status(&[], &[b"chunked", b"chunked"]), 400);
        assert_eq!(framing(false, &[], &[b"chunked"]).unwrap_err().status, 400);
    }

    #[test]
    fn allow_names_the_endpoints_methods() {
        assert_eq!(allow("/health"), Some("GET, HEAD"));
        assert_eq!(allow("/metrics/reset"), Some("POST"));
        assert_eq!(allow("/nope"), None);
    }
}

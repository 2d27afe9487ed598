//! Bad input, on all four binaries: each server survives every kind below,
//! answers with a JSON error where the request got far enough for the kit's
//! code to see it, and then serves the next good request.
//!
//! Where the answer comes from matters for what it can be:
//! - a request the HTTP parser refuses (garbage, a line or headers too long,
//!   raw bytes that are not text) is answered by the parser itself, before
//!   any of the kit's code runs: hyper answers 400 / 414 / 431 with an empty
//!   body (it has no hook for a JSON body there); sync-blocking's own reader
//!   (httparse) answers 400 / 414 / 431 with a JSON error. The statuses
//!   agree: docs/http.md, tested by http_rules.rs.
//! - a request that parses reaches the contract (`Params::parse`, `route`),
//!   which answers every bad query with a 400 and `{"error": "..."}`.
//!
//! Run with `--nocapture` to print the table that docs/limits.md quotes.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{start, VARIANTS};
use kit_measure::harness::{get, Server, Target};
use kit_serve::contract::ErrorBody;

/// Longest wait for one answer: a server that needs longer has hung.
const T: Duration = Duration::from_secs(5);

/// What came back on one raw connection.
#[derive(Debug)]
struct Answer {
    /// The status of each response on the connection, in order.
    statuses: Vec<u16>,
    /// The body of the first response.
    body: String,
    /// How long until the server closed the connection.
    took: Duration,
}

impl Answer {
    /// For the table: "400 `{"error":...}`", "414 (empty)", "closed, no answer".
    fn cell(&self) -> String {
        let all = self.statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        match self.statuses.first() {
            None => "closed, no answer".into(),
            Some(_) if self.statuses.len() > 1 => format!("{all} (both answered)"),
            Some(s) if self.body.is_empty() => format!("{s} (empty body)"),
            Some(s) => {
                let body: String = self.body.chars().take(70).collect();
                let more = if body.len() < self.body.len() { "..." } else { "" };
                format!("{s} `{}{more}`", body.replace('|', "\\|"))
            }
        }
    }
}

/// Writes `bytes` on a fresh connection and reads until the server closes
/// it. A write error is not a failure: a server may answer and close before
/// it has read everything (a 431 after the first 400 KB of a 1 MB header).
/// The write runs on its own thread while this one reads, so such an early
/// answer is read as it arrives, before the reset that the unread rest
/// of the request provokes.
fn raw(addr: SocketAddr, bytes: &[u8]) -> Answer {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, T).expect("connect");
    stream.set_read_timeout(Some(T)).unwrap();
    stream.set_write_timeout(Some(T)).unwrap();
    let mut writer = stream.try_clone().expect("a second handle on the socket");
    let bytes = bytes.to_vec();
    let writing = std::thread::spawn(move || {
        let _ = writer.write_all(&bytes);
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset after the answer is how a server drops a request it
            // stopped reading: what was answered before it still counts.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "no end to the answer within {T:?} ({e}); so far: {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    let _ = writing.join();
    let text = String::from_utf8_lossy(&got).into_owned();
    Answer { statuses: statuses(&text), body: first_body(&text), took: started.elapsed() }
}

/// Every status line in a stream of responses (enough for the short
/// answers here: no body of theirs starts with "HTTP/1.").
fn statuses(text: &str) -> Vec<u16> {
    text.match_indices("HTTP/1.")
        .filter_map(|(i, _)| text[i..].split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// The first response's body: Content-Length bytes when the head says so
/// (an error message may itself mention "HTTP/1.1"), de-chunked when chunked.
fn first_body(text: &str) -> String {
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        return String::new();
    };
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    let body = match length {
        Some(n) => rest.get(..n).unwrap_or(rest),
        None => rest.split("HTTP/1.").next().unwrap_or_default(),
    };
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_string()
    }
}

/// A request line and headers around `target`, closing after the answer.
fn req(target: &[u8]) -> Vec<u8> {
    [b"GET ".as_slice(), target, b" HTTP/1.1\r\nHost: kit\r\nConnection: close\r\n\r\n"].concat()
}

/// What a kind of bad input must get.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// The contract's answer: this status and a JSON `{"error": ...}` body
    /// that says something about the input (the needle).
    Json(u16, &'static str),
    /// Refused by the HTTP parser: a 4xx from this list.
    Parser(&'static [u16]),
    /// Answered normally on every response on the connection (a GET with
    /// a body: the body is read and ignored, and the next request on the
    /// same connection is served).
    Ok(usize),
    /// Headers too large: every server refuses them (431).
    HeaderTooBig,
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    let case = |name, bytes, expect| Case { name, bytes, expect };
    let value = |v: &str| req(format!("/db-simulation?db_ms={v}").as_bytes());
    let long_query = format!("/health?x={}", "a".repeat(100_000));
    let big_header = [
        b"GET /health HTTP/1.1\r\nHost: kit\r\nConnection: close\r\nX-Big: ".as_slice(),
        &vec![b'a'; 1 << 20],
        b"\r\n\r\n",
    ]
    .concat();
    let many_headers = [
        b"GET /health HTTP/1.1\r\nHost: kit\r\nConnection: close\r\n".as_slice(),
        &(0..500).flat_map(|i| format!("X-H{i}: a\r\n").into_bytes()).collect::<Vec<u8>>(),
        b"\r\n",
    ]
    .concat();
    let body_on_get = [
        b"GET /health HTTP/1.1\r\nHost: kit\r\nContent-Length: 5\r\n\r\nhello".as_slice(),
        b"GET /health HTTP/1.1\r\nHost: kit\r\nConnection: close\r\n\r\n",
    ]
    .concat();
    const PARSER: &[u16] = &[400];
    vec![
        case("garbage (text)", b"hello there, server\r\n\r\n".to_vec(), Expect::Parser(PARSER)),
        case(
            "garbage (binary)",
            b"\x00\xff\xfe\x01\x16\x03\x01\r\n\r\n".to_vec(),
            Expect::Parser(PARSER),
        ),
        case(
            "request line of 100 KB",
            req(long_query.as_bytes()),
            Expect::Parser(&[400, 414, 431]),
        ),
        case("one header of 1 MB", big_header, Expect::HeaderTooBig),
        case("500 headers", many_headers, Expect::HeaderTooBig),
        case("a body on a GET, then a second GET", body_on_get, Expect::Ok(2)),
        case("raw invalid UTF-8 in the path", req(b"/heal\xff\xfeth"), Expect::Parser(PARSER)),
        case(
            "raw invalid UTF-8 in the query",
            req(b"/db-simulation?db_ms=\xff"),
            Expect::Parser(PARSER),
        ),
        case(
            "%-encoded invalid UTF-8 in the path",
            req(b"/%ff%fe"),
            Expect::Json(404, "no such endpoint"),
        ),
        case("%-encoded invalid UTF-8 in the query", value("%ff"), Expect::Json(400, "UTF-8")),
        case("bad %-encoding in the query", value("%zz"), Expect::Json(400, "percent-encoding")),
        case("a lone % in the query", value("5%"), Expect::Json(400, "percent-encoding")),
        case("negative value", value("-5"), Expect::Json(400, "bad value for db_ms")),
        case(
            "huge value",
            value("99999999999999999999999"),
            Expect::Json(400, "bad value for db_ms"),
        ),
        case("over the maximum", value("60001"), Expect::Json(400, "from 0 to 60000")),
        case("fractional value", value("1.5"), Expect::Json(400, "bad value for db_ms")),
        case("non-numeric value", value("ten"), Expect::Json(400, "bad value for db_ms")),
        case("signed value (+5)", value("%2B5"), Expect::Json(400, "bad value for db_ms")),
        case("empty value", value(""), Expect::Json(400, "bad value for db_ms")),
        case("repeated parameter", value("5&db_ms=7"), Expect::Json(400, "more than once")),
        case(
            "unknown parameter",
            req(b"/health?colour=red"),
            Expect::Json(400, "unknown query parameter"),
        ),
    ]
}

/// The server is alive and answers a good request promptly.
fn serves_next(server: &Server, variant: &str, after: &str) {
    assert!(server.exited().is_none(), "{variant} died after {after}:\n{}", server.output_tail(20));
    let (status, body) = get(server.addr, "/db-simulation?db_ms=1", T)
        .unwrap_or_else(|e| panic!("{variant}: no good answer after {after}: {e}"));
    assert_eq!(status, 200, "{variant} after {after}: {body}");
}

fn check(variant: &str, case: &Case, answer: &Answer) {
    let what = format!("{variant}, {}: {answer:?}", case.name);
    // Bounded: nothing here should take the server more than a moment.
    assert!(answer.took < T, "{what}: took {:?}", answer.took);
    let first = answer.statuses.first().copied();
    match case.expect {
        Expect::Json(status, needle) => {
            assert_eq!(first, Some(status), "{what}");
            let body: ErrorBody = serde_json::from_str(&answer.body)
                .unwrap_or_else(|e| panic!("{what}: not a JSON error ({e})"));
            assert!(body.error.contains(needle), "{what}: the error should mention '{needle}'");
            // Quoted short: a long input does not come back whole.
            assert!(body.error.len() < 300, "{what}: an error of {} bytes", body.error.len());
        }
        Expect::Parser(allowed) => match first {
            Some(s) => {
                assert!(allowed.contains(&s), "{what}: expected one of {allowed:?}");
                // The kit answered it (sync-blocking's own parser does):
                // then it is JSON and short.
                if !answer.body.is_empty() {
                    let body: ErrorBody = serde_json::from_str(&answer.body)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert!(body.error.len() < 300, "{what}");
                }
            }
            None => panic!("{what}: closed without an answer"),
        },
        // sync-blocking answers one request per connection, then closes it
        // (a kept-alive connection would hold a slot): the body was skipped
        // and the first GET answered; the second needs a connection of its own.
        Expect::Ok(_) if variant == "sync-blocking" => {
            assert_eq!(answer.statuses, vec![200], "{what}")
        }
        Expect::Ok(n) => assert_eq!(answer.statuses, vec![200; n], "{what}"),
        Expect::HeaderTooBig => assert_eq!(answer.statuses, vec![431], "{what}"),
    }
}

fn survives_bad_input(variant: &str) {
    let server = start(variant, &["--io-ms", "20", "--db-ms", "10"]);
    for case in cases() {
        let answer = raw(server.addr, &case.bytes);
        println!("| {variant} | {} | {} |", case.name, answer.cell());
        check(variant, &case, &answer);
        serves_next(&server, variant, case.name);
    }
    // Bad requests never count as work in flight once answered.
    let metrics = server.metrics().expect("metrics");
    assert_eq!(metrics.in_flight, 0, "{variant}: requests left in flight after bad input");
}

#[test]
fn sync_blocking_survives_bad_input() {
    survives_bad_input(VARIANTS[0]);
}

#[test]
fn async_trap_survives_bad_input() {
    survives_bad_input(VARIANTS[1]);
}

#[test]
fn blocking_wrapper_survives_bad_input() {
    survives_bad_input(VARIANTS[2]);
}

#[test]
fn async_native_survives_bad_input() {
    survives_bad_input(VARIANTS[3]);
}

/// A WebSocket upgrade request for /ws, written by hand so the test can
/// then break the protocol on purpose.
fn ws_upgrade(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect_timeout(&addr, T).expect("connect");
    stream.set_read_timeout(Some(T)).unwrap();
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: kit\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    // The 101 answer's head ends with an empty line; nothing follows it
    // until the client sends a frame.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).expect("the upgrade answer"),
            1,
            "closed during the upgrade"
        );
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    stream
}

/// WebSocket clients that vanish in the middle of a frame: the header says
/// 100 masked bytes follow, 10 come, then the socket closes. The server
/// must end those conversations, keep its threads, and still echo for the
/// next client.
#[test]
fn async_native_survives_websocket_clients_vanishing_mid_frame() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start("async-native", &[]);
    let threads_before = server.metrics().expect("metrics").os_threads;
    for _ in 0..20 {
        let mut ws = ws_upgrade(server.addr);
        // FIN + text opcode, masked, length 100, the mask key, then 10 of the 100 bytes.
        ws.write_all(&[0x81, 0x80 | 100, 1, 2, 3, 4]).unwrap();
        ws.write_all(&[b'x'; 10]).unwrap();
        drop(ws);
    }
    serves_next(&server, "async-native", "20 WebSocket clients vanished mid-frame");
    let url = format!("ws://{}/ws", server.addr);
    kit_measure::burst::runtime().unwrap().block_on(async {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(url).await.expect("a new WebSocket handshake");
        ws.send(Message::text("still here")).await.unwrap();
        let echo = tokio::time::timeout(T, ws.next())
            .await
            .expect("an echo in time")
            .expect("an echo")
            .unwrap();
        assert_eq!(echo.into_text().unwrap().as_str(), "still here");
    });
    let threads_after = server.metrics().expect("metrics").os_threads;
    // A parked task per conversation, never a thread: the count stays put.
    assert_eq!(
        threads_after, threads_before,
        "OS threads before and after 20 broken WebSocket clients"
    );
}

/// SSE clients that stop reading: 50 streams opened and never read while
/// they run. The server keeps serving others meanwhile, and each stream
/// still ends on time (5 events, then the server closes it): a client that
/// does not read does not hold the server.
#[test]
fn async_native_survives_sse_clients_that_stop_reading() {
    let server = start("async-native", &[]);
    // 5 events, one every io / 5 = 20 ms: each stream lasts about 100 ms.
    let request = req(b"/sse?io_ms=100");
    let mut silent: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect_timeout(&server.addr, T).expect("connect");
            s.write_all(&request).unwrap();
            s
        })
        .collect();
    let asked = Instant::now();
    serves_next(&server, "async-native", "50 SSE clients stopped reading");
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "a good request took {:?} beside 50 silent streams",
        asked.elapsed()
    );
    std::thread::sleep(Duration::from_millis(500));
    // Reading now, long after the stream was written: all 5 events are
    // there and the server has closed its end.
    for s in &mut silent {
        s.set_read_timeout(Some(T)).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).expect("the stream, ended by the server");
        assert_eq!(text.matches("event: tick").count(), 5, "{text}");
    }
}

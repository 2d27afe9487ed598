//! The raw-HTTP conformance table, run on the four servers and the two
//! solutions that are servers (trap, wrapper): one row per rule of RFC 9112
//! and RFC 9110 that a server keeps, each row one raw request on its own
//! connection and the one answer every server must give. Where HTTP allows
//! a choice, the row says which answer the kit picked (`kit_serve::http_rules`
//! says why). docs/http.md shows this table; a test below keeps the two equal
//! (`KIT_WRITE_DOCS=1` rewrites the docs' copy).
//!
//! Besides its row's status, every answer must carry `Date` (RFC 9110
//! §6.6.1), say its length (`Content-Length` or chunked: RFC 9112 §6), and
//! end with the server closing the connection: each request asks for that
//! (`Connection: close`, or HTTP/1.0), and a refused framing forces it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common;
use kit_measure::harness::{sibling_binary, Server};

/// Longest wait for one answer: a server that needs longer has hung.
const T: Duration = Duration::from_secs(5);

/// What one row expects besides its status.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Also {
    Nothing,
    /// No body after the head (HEAD).
    NoBody,
    /// An `Allow` header with this value.
    Allow(&'static str),
    /// `100 Continue` before the body is sent, then the answer.
    Continue,
}

struct Row {
    rule: &'static str,
    /// Where the rule is written, and whether the answer is the kit's choice.
    source: &'static str,
    request: Vec<u8>,
    status: u16,
    also: Also,
}

/// The headers every row's request carries unless it is about them.
const H: &str = "Host: kit\r\nConnection: close\r\n";

fn row(rule: &'static str, source: &'static str, request: String, status: u16) -> Row {
    Row { rule, source, request: request.into_bytes(), status, also: Also::Nothing }
}

fn rows() -> Vec<Row> {
    let get = |extra: &str, body: &str| format!("GET /health HTTP/1.1\r\n{H}{extra}\r\n{body}");
    let many: String = (0..200).map(|i| format!("X-{i}: 1\r\n")).collect();
    vec![
        row("a plain GET", "RFC 9112 §3", get("", ""), 200),
        Row { also: Also::NoBody, ..row("HEAD wherever GET is, without a body", "RFC 9110 §9.1, §9.3.2", format!("HEAD /health HTTP/1.1\r\n{H}\r\n"), 200) },
        Row { also: Also::Allow("GET, HEAD"), ..row("a 405 names the allowed methods", "RFC 9110 §15.5.6", format!("DELETE /health HTTP/1.1\r\n{H}\r\n"), 405) },
        row("absolute-form target", "RFC 9112 §3.2.2", format!("GET http://kit/health HTTP/1.1\r\n{H}\r\n"), 200),
        row("HTTP/1.0 without Host, closed after", "RFC 9112 §3.2, §9.3", "GET /health HTTP/1.0\r\n\r\n".into(), 200),
        row("HTTP/1.1 without Host", "RFC 9112 §3.2", "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n".into(), 400),
        row("two Host lines", "RFC 9112 §3.2", get("Host: other\r\n", ""), 400),
        row("a Host that is not host[:port]", "RFC 9112 §3.2", "GET /health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n".into(), 400),
        row("an empty line before the request line", "RFC 9112 §2.2 (SHOULD ignore)", format!("\r\nGET /health HTTP/1.1\r\n{H}\r\n"), 200),
        row("bare LF line ends", "RFC 9112 §2.2 (MAY accept: accepted)", "GET /health HTTP/1.1\nHost: kit\nConnection: close\n\n".into(), 200),
        row("a bare CR in a field value", "RFC 9112 §2.2", get("X-A: 1\r2\r\n", ""), 400),
        row("whitespace before the colon", "RFC 9112 §5.1", "GET /health HTTP/1.1\r\nHost : kit\r\nConnection: close\r\n\r\n".into(), 400),
        row("obs-fold (a line folded onto the next)", "RFC 9112 §5.2 (reject or unfold: rejected)", get("X-A: 1\r\n 2\r\n", ""), 400),
        row("a bad character in the method", "RFC 9112 §3.1", format!("GE(T /health HTTP/1.1\r\n{H}\r\n"), 400),
        row("a request line over the limit (100 KiB)", "RFC 9112 §3", format!("GET /health?{} HTTP/1.1\r\n{H}\r\n", "a".repeat(100 * 1024)), 414),
        row("200 header lines", "RFC 6585 §5 (limits are the server's)", get(&many, ""), 431),
        row("a header section over the limit (500 KiB)", "RFC 6585 §5", get(&format!("X-Big: {}\r\n", "a".repeat(500 * 1024)), ""), 431),
        row("a Content-Length body on GET, read and dropped", "RFC 9112 §6.3", get("Content-Length: 5\r\n", "hello"), 200),
        row("two different Content-Length values", "RFC 9112 §6.3", get("Content-Length: 1\r\nContent-Length: 2\r\n", "ab"), 400),
        row("a Content-Length that is not a number", "RFC 9112 §6.3", get("Content-Length: abc\r\n", ""), 400),
        row("a chunked body", "RFC 9112 §7.1", get("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), 200),
        row("chunk extensions and a trailer", "RFC 9112 §7.1.1, §7.1.2", get("Transfer-Encoding: chunked\r\n", "5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), 200),
        row("an invalid chunk size", "RFC 9112 §7.1", get("Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n"), 400),
        row("a chunk size past 64 bits", "RFC 9112 §7.1", get("Transfer-Encoding: chunked\r\n", "fffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 400),
        row("chunk data longer than its size", "RFC 9112 §7.1", get("Transfer-Encoding: chunked\r\n", "5\r\nhelloXX\r\n0\r\n\r\n"), 400),
        // Without `Connection: close`: the server must close by itself.
        row("Transfer-Encoding and Content-Length, then closed", "RFC 9112 §6.1 (MAY reject or use the coding: the coding)", "GET /health HTTP/1.1\r\nHost: kit\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n".into(), 200),
        row("a transfer coding that does not end in chunked", "RFC 9112 §6.3", get("Transfer-Encoding: gzip\r\n", ""), 400),
        row("Transfer-Encoding on HTTP/1.0", "RFC 9112 §6.1 (faulty framing: rejected)", format!("GET /health HTTP/1.0\r\n{H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400),
        row("a body over 1 MiB", "RFC 9110 §15.5.14 (the limit is the kit's)", get("Content-Length: 2000000\r\n", ""), 413),
        Row { also: Also::Continue, ..row("Expect: 100-continue", "RFC 9110 §10.1.1", get("Expect: 100-continue\r\nContent-Length: 5\r\n", ""), 200) },
        row("an expectation other than 100-continue", "RFC 9110 §10.1.1 (MAY 417: ignored)", get("Expect: something\r\n", ""), 200),
    ]
}

/// What came back on one connection.
struct Answer {
    /// Every status line, 1xx included, in order.
    statuses: Vec<u16>,
    /// The final response's head.
    head: String,
    /// The bytes after the final response's head.
    body: Vec<u8>,
}

/// Sends `row`'s request on a fresh connection and reads until the server
/// closes it. The write runs on its own thread, so an early answer (a 431
/// after 16 KiB of a 500 KiB header) is read before the reset that the
/// unread rest provokes.
fn send(addr: SocketAddr, row: &Row) -> Result<Answer, String> {
    let mut stream = TcpStream::connect_timeout(&addr, T).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(T)).unwrap();
    stream.set_write_timeout(Some(T)).unwrap();
    let mut got = Vec::new();
    let writing = if row.also == Also::Continue {
        // The body goes only after the server's `100 Continue`.
        stream.write_all(&row.request).map_err(|e| format!("write: {e}"))?;
        read_until(&mut stream, &mut got, |got| got.windows(4).any(|w| w == b"\r\n\r\n"))?;
        stream.write_all(b"hello").map_err(|e| format!("write: {e}"))?;
        None
    } else {
        let mut writer = stream.try_clone().expect("a second handle on the socket");
        let bytes = row.request.clone();
        Some(std::thread::spawn(move || drop(writer.write_all(&bytes))))
    };
    read_until(&mut stream, &mut got, |_| false)?;
    if let Some(writing) = writing {
        let _ = writing.join();
    }
    Ok(parse(&got))
}

/// Reads into `got` until `done` says so or the server closes.
fn read_until(
    stream: &mut TcpStream,
    got: &mut Vec<u8>,
    done: impl Fn(&[u8]) -> bool,
) -> Result<(), String> {
    let started = Instant::now();
    let mut buf = [0u8; 16 * 1024];
    while !done(got) {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset after the answer is how a server drops a request it
            // stopped reading: what was answered before it still counts.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => {
                return Err(format!(
                    "no end after {:.1?} ({e}); so far: {:?}",
                    started.elapsed(),
                    String::from_utf8_lossy(&got[..got.len().min(300)])
                ))
            }
        }
    }
    Ok(())
}

/// Splits what came back into its responses: 1xx heads, then the final one.
fn parse(mut got: &[u8]) -> Answer {
    let mut statuses = Vec::new();
    loop {
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Answer {
                statuses,
                head: String::from_utf8_lossy(got).into(),
                body: Vec::new(),
            };
        };
        let head = String::from_utf8_lossy(&got[..end]).into_owned();
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        statuses.push(status);
        got = &got[end + 4..];
        if !(100..200).contains(&status) {
            return Answer { statuses, head, body: got.to_vec() };
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The methods of an `Allow` value, in order.
fn methods(list: &str) -> Vec<&str> {
    list.split(',').map(str::trim).collect()
}

/// What is wrong with `answer` for `row`, if anything.
fn judge(row: &Row, answer: &Answer) -> Option<String> {
    let got = || {
        format!(
            "got {:?}, head {:?}",
            answer.statuses,
            answer.head.lines().take(8).collect::<Vec<_>>()
        )
    };
    let want_statuses = match row.also {
        Also::Continue => vec![100, row.status],
        _ => vec![row.status],
    };
    if answer.statuses != want_statuses {
        return Some(format!("expected {want_statuses:?}; {}", got()));
    }
    if header(&answer.head, "date").is_none() {
        return Some(format!("no Date header; {}", got()));
    }
    let length = header(&answer.head, "content-length");
    let chunked = header(&answer.head, "transfer-encoding").is_some_and(|v| v.contains("chunked"));
    if length.is_none() && !chunked {
        return Some(format!("no Content-Length and not chunked; {}", got()));
    }
    match row.also {
        Also::NoBody if !answer.body.is_empty() => {
            Some(format!("{} body bytes after a HEAD", answer.body.len()))
        }
        // A list: `GET,HEAD` and `GET, HEAD` say the same.
        Also::Allow(want) if header(&answer.head, "allow").map(methods) != Some(methods(want)) => {
            Some(format!("expected Allow: {want}; {}", got()))
        }
        _ => None,
    }
}

/// Runs every row on `server`; fails with every row it breaks.
fn conforms(name: &str, server: &Server) {
    let rows = rows();
    let broken: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let verdict = match send(server.addr, row) {
                Ok(answer) => judge(row, &answer),
                Err(e) => Some(e),
            };
            verdict.map(|v| format!("  - {} ({}): {v}", row.rule, row.source))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{name} breaks {} of the {} rows of docs/http.md:\n{}",
        broken.len(),
        rows.len(),
        broken.join("\n")
    );
    // Still serving after all of it.
    let (status, _) =
        kit_measure::harness::get(server.addr, "/health", T).expect("/health after the table");
    assert_eq!(status, 200, "{name}: /health after the table");
}

#[test]
fn sync_blocking_keeps_the_http_rules() {
    conforms("sync-blocking", &common::start("sync-blocking", &[]));
}

#[test]
fn async_trap_keeps_the_http_rules() {
    conforms("async-trap", &common::start("async-trap", &[]));
}

#[test]
fn blocking_wrapper_keeps_the_http_rules() {
    conforms("blocking-wrapper", &common::start("blocking-wrapper", &[]));
}

#[test]
fn async_native_keeps_the_http_rules() {
    conforms("async-native", &common::start("async-native", &[]));
}

/// The solutions are built by `cargo test --release` at the root (they are
/// default members); run alone, this crate's tests ask for them by name.
fn solution(bin: &str) -> Server {
    let path =
        sibling_binary(bin).unwrap_or_else(|e| panic!("{e} (cargo build --release -p {bin})"));
    Server::start(path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn trap_solution_keeps_the_http_rules() {
    conforms("trap-solution", &solution("trap-solution"));
}

#[test]
fn wrapper_solution_keeps_the_http_rules() {
    conforms("wrapper-solution", &solution("wrapper-solution"));
}

/// The table as docs/http.md shows it.
fn table() -> String {
    let mut out =
        String::from("| # | Request | Rule | Every server answers |\n|---|---|---|---|\n");
    for (i, row) in rows().iter().enumerate() {
        let also = match row.also {
            Also::Nothing => String::new(),
            Also::NoBody => ", no body".into(),
            Also::Allow(methods) => format!(", `Allow: {methods}`"),
            Also::Continue => " after `100 Continue`".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {}{also} |\n",
            i + 1,
            row.rule,
            row.source,
            row.status
        ));
    }
    out
}

const BEGIN: &str = "<!-- the table: servers/tests/side_by_side/http_rules.rs -->\n";
const END: &str = "<!-- end of the table -->";

#[test]
fn the_docs_show_this_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/http.md");
    let docs = std::fs::read_to_string(&path).expect("docs/http.md");
    let (Some(start), Some(end)) = (docs.find(BEGIN), docs.find(END)) else {
        panic!("docs/http.md lacks the markers {BEGIN:?} and {END:?}");
    };
    let shown = &docs[start + BEGIN.len()..end];
    let table = table();
    if shown != table {
        if std::env::var_os("KIT_WRITE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{BEGIN}{table}{}", &docs[..start], &docs[end..]))
                .unwrap();
        } else {
            panic!("docs/http.md shows another table than the test runs; rerun with KIT_WRITE_DOCS=1 to rewrite it:\n{table}");
        }
    }
}

//! The burst's client: one GET per connection, written and read by hand on
//! a tokio `TcpStream`, with the socket handed back to the caller.
//!
//! Why not hyper here (bench and attack keep it, see [`super::hyper_conn`]):
//! client and server share the machine's cores, so every microsecond the
//! client spends is taken from the server it measures. Measured with
//! `perf` during a 10,000-request burst on async-native (2 cores), the hyper
//! client's teardown alone, `shutdown` and `close` on each connection right
//! after its answer, was about a quarter of all CPU time in the burst.
//! Here the request is bytes prepared once, the answer is parsed just far
//! enough to know its status and length, and the socket goes back to the
//! caller, which closes all of them after the last answer: the burst's
//! clock measures the server answering, not the client cleaning up.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::outcome::{
    error_kind, BODY_TOO_LONG, CLOSED_BEFORE_ANSWER, CLOSED_MID_ANSWER, HEAD_TOO_LONG, NOT_HTTP,
};

/// One read's size: the contract's answers are a few hundred bytes (a
/// status line, four headers, a short JSON body), and a burst holds one
/// such buffer per connection (10,000 of them at once).
const READ_SIZE: usize = 1024;

/// The most of an answer's head read before giving up on it.
pub const MAX_HEAD: usize = 64 * 1024;

/// The most of an answer's body read before giving up on it: thousands of
/// times the contract's answers, and read in milliseconds on loopback, so
/// that an endless body ends long before the timeout. The body is counted,
/// never kept, so this bounds the time spent, not the memory.
pub const MAX_BODY: u64 = 8 << 20;

/// `GET target HTTP/1.1` to `host`. Without `keep_alive` it says
/// `Connection: close`: a blocking server then frees its thread (its slot)
/// once it has answered, instead of waiting on the idle connection for a
/// next request, and closes its end. With `keep_alive` the server keeps the
/// connection open, as for any HTTP/1.1 client, until the caller closes it.
pub fn request(target: &str, host: &str, keep_alive: bool) -> Vec<u8> {
    let close = if keep_alive { "" } else { "Connection: close\r\n" };
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n{close}\r\n").into_bytes()
}

/// Opens one connection, small writes never held back by Nagle.
pub async fn connect(addr: SocketAddr) -> Result<TcpStream, &'static str> {
    let stream = TcpStream::connect(addr).await.map_err(|e| error_kind(&e))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Writes `request` and reads its whole answer: the status, or a short
/// error kind (the load generators' names). The stream stays open. Memory
/// stays bounded whatever the server sends: the head is kept up to
/// [`MAX_HEAD`], the body only counted up to [`MAX_BODY`]. Time is the
/// caller's to bound (a server may say nothing at all).
pub async fn exchange(stream: &mut TcpStream, request: &[u8]) -> Result<u16, &'static str> {
    let kind = |e: std::io::Error| error_kind(&e);
    stream.write_all(request).await.map_err(kind)?;
    let mut answer = AnswerReader::default();
    let mut chunk = [0u8; READ_SIZE];
    loop {
        let n = stream.read(&mut chunk).await.map_err(kind)?;
        if n == 0 {
            return answer.end();
        }
        if let Some(status) = answer.feed(&chunk[..n])? {
            return Ok(status);
        }
    }
}

/// An answer's status, its head's length, and its body's length (`None`:
/// not given).
pub(crate) type Head = (u16, usize, Option<u64>);

/// One answer read from its bytes as they come, whatever their pieces: a
/// pure function over bytes (the fuzz target's), with no socket in it.
/// [`AnswerReader::feed`] takes each piece, [`AnswerReader::end`] says what
/// the end of the stream means. It keeps the head only while the head is
/// incomplete, at most [`MAX_HEAD`] bytes ([`AnswerReader::held`]).
#[derive(Debug, Default)]
pub struct AnswerReader {
    /// The head so far, while it spans pieces.
    head: Vec<u8>,
    /// Once the head is whole: the status, the head's length, and the
    /// body's length (`None`: until the server closes).
    body: Option<Head>,
    /// Body bytes read so far.
    read: u64,
}

impl AnswerReader {
    /// Takes the next bytes of the stream: `Some(status)` once the whole
    /// answer is in (bytes past its end are not looked at), `None` while
    /// more is needed, or the error kind that ends it.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<u16>, &'static str> {
        if self.body.is_some() {
            return self.count(bytes.len() as u64);
        }
        // The usual case, a whole head in one piece, is parsed in place:
        // nothing is copied.
        if self.head.is_empty() {
            if let Some(head) = parse_head(bytes)? {
                return self.start_body(head, bytes.len());
            }
            self.head.extend_from_slice(bytes);
        } else {
            self.head.extend_from_slice(bytes);
            if let Some(head) = parse_head(&self.head)? {
                let whole = std::mem::take(&mut self.head).len();
                return self.start_body(head, whole);
            }
        }
        if self.head.len() > MAX_HEAD {
            return Err(HEAD_TOO_LONG);
        }
        Ok(None)
    }

    /// The head is whole, and `seen` bytes of the stream are in: what came
    /// after the head is the body's first part.
    fn start_body(&mut self, head: Head, seen: usize) -> Result<Option<u16>, &'static str> {
        let head_len = head.1;
        // The same verdict however the head was cut into pieces.
        if head_len > MAX_HEAD {
            return Err(HEAD_TOO_LONG);
        }
        self.body = Some(head);
        self.count((seen - head_len) as u64)
    }

    /// `n` more body bytes: the status if the body is now whole.
    fn count(&mut self, n: u64) -> Result<Option<u16>, &'static str> {
        let Some((status, _, length)) = self.body else { return Ok(None) };
        self.read = self.read.saturating_add(n);
        match length {
            Some(length) if self.read >= length => Ok(Some(status)),
            _ if self.read > MAX_BODY => Err(BODY_TOO_LONG),
            _ => Ok(None),
        }
    }

    /// The stream ended here: the status where that ends the answer (a
    /// body without a length), else what went wrong.
    pub fn end(&self) -> Result<u16, &'static str> {
        match self.body {
            Some((status, _, None)) => Ok(status),
            Some((status, _, Some(length))) if self.read >= length => Ok(status),
            Some(_) => Err(CLOSED_MID_ANSWER),
            None if self.head.is_empty() => Err(CLOSED_BEFORE_ANSWER),
            None => Err(CLOSED_MID_ANSWER),
        }
    }

    /// The answer's head once it is whole: its status, its length in the
    /// stream, and the body's length (the harness cuts the body out with it).
    pub(crate) fn head(&self) -> Option<Head> {
        self.body
    }

    /// Bytes of the answer this reader holds: never more than [`MAX_HEAD`]
    /// and one piece (the body is counted, not kept).
    pub fn held(&self) -> usize {
        self.head.len()
    }
}

/// The [`Head`] once the whole head is in `buf`; `Ok(None)` while it is not.
/// A head that says the body is longer than [`MAX_BODY`] ends the answer
/// at once.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HEAD_TOO_LONG),
        Err(_) => return Err(NOT_HTTP),
    };
    // httparse takes any three digits; HTTP's statuses start at 100 (RFC
    // 9110 section 15), and a 000 is no answer (found by the fuzz target).
    let status = response.code.filter(|c| *c >= 100).ok_or(NOT_HTTP)?;
    // No body, whatever the headers say (RFC 9112 section 6.3).
    if status == 204 || status == 304 {
        return Ok(Some((status, head_len, Some(0))));
    }
    let mut length = None;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked framing is read to the end of the stream instead.
            return Ok(Some((status, head_len, None)));
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or(NOT_HTTP)?;
            // Two different lengths: no way to tell where the answer ends.
            if length.is_some_and(|l| l != n) {
                return Err(NOT_HTTP);
            }
            length = Some(n);
        }
    }
    if length.is_some_and(|l| l > MAX_BODY) {
        return Err(BODY_TOO_LONG);
    }
    Ok(Some((status, head_len, length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_say_close_unless_kept_alive() {
        assert_eq!(
            request("/p?x=1", "h:1", false),
            b"GET /p?x=1 HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(request("/p", "h:1", true), b"GET /p HTTP/1.1\r\nHost: h:1\r\n\r\n");
    }

    #[test]
    fn a_head_gives_its_status_and_lengths() {
        let answer =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_head(answer), Ok(Some((200, answer.len() - 2, Some(2)))));
        let no_length = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n";
        assert_eq!(parse_head(no_length), Ok(Some((503, no_length.len(), None))));
        // Chunked wins over a length, as HTTP/1.1 says.
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(parse_head(chunked), Ok(Some((200, chunked.len(), None))));
    }

    #[test]
    fn a_partial_head_asks_for_more_and_nonsense_is_refused() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-len"), Ok(None));
        assert_eq!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(NOT_HTTP));
        assert_eq!(parse_head(b"xyz\r\n\r\n"), Err(NOT_HTTP));
        assert_eq!(parse_head(b"HTTP/1.1 000 h: 5\r\n\r\n"), Err(NOT_HTTP));
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: lots\r\n\r\n"), Err(NOT_HTTP));
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"),
            Err(NOT_HTTP)
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n"),
            Err(BODY_TOO_LONG)
        );
    }

    /// Feeds `parts` one by one: the first verdict, or what the end says.
    fn read(parts: &[&[u8]]) -> Result<u16, &'static str> {
        let mut reader = AnswerReader::default();
        for part in parts {
            if let Some(status) = reader.feed(part)? {
                return Ok(status);
            }
        }
        reader.end()
    }

    #[test]
    fn the_reader_names_every_way_an_answer_goes_wrong() {
        let whole: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd";
        assert_eq!(read(&[whole]), Ok(200));
        // Any split gives the same answer.
        for at in 0..whole.len() {
            assert_eq!(read(&[&whole[..at], &whole[at..]]), Ok(200), "split at {at}");
        }
        assert_eq!(read(&[]), Err(CLOSED_BEFORE_ANSWER));
        assert_eq!(read(&[b"HTTP/1.1 200 OK\r\n"]), Err(CLOSED_MID_ANSWER));
        assert_eq!(
            read(&[b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"]),
            Err(CLOSED_MID_ANSWER)
        );
        assert_eq!(read(&[b"xyz\r\n\r\n"]), Err(NOT_HTTP));
        assert_eq!(read(&[b"HTTP/1.1 204 No Content\r\n\r\n"]), Ok(204));
        // No length: the end of the stream ends the body.
        assert_eq!(read(&[b"HTTP/1.1 404 Not Found\r\n\r\ngone"]), Ok(404));
    }

    /// The caps are exact: an endless body ends once it passes MAX_BODY,
    /// and a head that never ends once it passes MAX_HEAD, with the reader
    /// holding no body byte and at most MAX_HEAD and one piece of head.
    #[test]
    fn the_reader_stops_endless_answers_and_holds_no_body() {
        let mut reader = AnswerReader::default();
        assert_eq!(reader.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), Ok(None));
        let piece = [b'x'; READ_SIZE];
        let mut fed = 0u64;
        let verdict = loop {
            fed += piece.len() as u64;
            match reader.feed(&piece) {
                Ok(None) => assert_eq!(reader.held(), 0),
                other => break other,
            }
        };
        assert_eq!(verdict, Err(BODY_TOO_LONG));
        assert_eq!(fed, MAX_BODY + READ_SIZE as u64, "stopped at the first piece past the cap");

        let mut reader = AnswerReader::default();
        assert_eq!(reader.feed(b"HTTP/1.1 200 OK\r\n"), Ok(None));
        let header = b"X-Endless: 0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
        let verdict = loop {
            match reader.feed(header) {
                Ok(None) => assert!(reader.held() <= MAX_HEAD),
                other => break other,
            }
        };
        // Past 32 headers httparse says so before the byte cap is reached.
        assert_eq!(verdict, Err(HEAD_TOO_LONG));
        assert!(reader.held() <= MAX_HEAD + header.len());
    }

    /// Over a real socket: a server that answers in pieces, then one that
    /// gives no length and closes, then one that hangs up mid-body.
    #[tokio::test]
    async fn answers_are_read_whole_over_tcp() {
        async fn serve(parts: &'static [&'static [u8]]) -> SocketAddr {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                for part in parts {
                    socket.write_all(part).await.unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            });
            addr
        }
        let get = request("/health", "127.0.0.1", false);
        let pieces = serve(&[b"HTTP/1.1 200 OK\r\nContent-", b"Length: 4\r\n\r\nab", b"cd"]).await;
        assert_eq!(exchange(&mut connect(pieces).await.unwrap(), &get).await, Ok(200));
        let unsized_body = serve(&[b"HTTP/1.1 404 Not Found\r\n\r\n", b"gone"]).await;
        assert_eq!(exchange(&mut connect(unsized_body).await.unwrap(), &get).await, Ok(404));
        let cut = serve(&[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]).await;
        assert_eq!(exchange(&mut connect(cut).await.unwrap(), &get).await, Err(CLOSED_MID_ANSWER));
    }
}

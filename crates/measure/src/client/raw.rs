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

use super::outcome::error_kind;

/// The read buffer's first size: the contract's answers are a few hundred
/// bytes (a status line, four headers, a short JSON body).
const FIRST_READ: usize = 1024;

/// The most of an answer's head read before giving up on it.
const MAX_HEAD: usize = 64 * 1024;

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
/// error kind (the load generators' names). The stream stays open.
pub async fn exchange(stream: &mut TcpStream, request: &[u8]) -> Result<u16, &'static str> {
    let kind = |e: std::io::Error| error_kind(&e);
    stream.write_all(request).await.map_err(kind)?;
    let mut buf = Vec::with_capacity(FIRST_READ);
    let (status, head_len, length) = loop {
        if read_more(stream, &mut buf).await.map_err(kind)? == 0 {
            return Err(if buf.is_empty() {
                "connection closed"
            } else {
                "connection closed early"
            });
        }
        if let Some(head) = parse_head(&buf)? {
            break head;
        }
        if buf.len() > MAX_HEAD {
            return Err("bad response");
        }
    };
    match length {
        // The body's length is known: read exactly that much.
        Some(length) => {
            let end = head_len.checked_add(length).ok_or("bad response")?;
            while buf.len() < end {
                if read_more(stream, &mut buf).await.map_err(kind)? == 0 {
                    return Err("connection closed early");
                }
            }
        }
        // No length (chunked, or none given): the server ends the body by
        // closing (with `Connection: close`; on a kept-alive connection a
        // server that gives no length is waited for until the deadline).
        None => while read_more(stream, &mut buf).await.map_err(kind)? > 0 {},
    }
    Ok(status)
}

/// Appends what the socket has to `buf`, growing it as needed; 0 at end
/// of stream.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    if buf.len() == buf.capacity() {
        buf.reserve(buf.capacity().max(FIRST_READ));
    }
    stream.read_buf(buf).await
}

/// An answer's status, its head's length, and its body's length (`None`:
/// not given).
type Head = (u16, usize, Option<usize>);

/// The [`Head`] once the whole head is in `buf`; `Ok(None)` while it is not.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err("bad response"),
    };
    let status = response.code.ok_or("bad response")?;
    let mut length = None;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked framing is read to the end of the stream instead.
            return Ok(Some((status, head_len, None)));
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or("bad response")?;
            length = Some(n);
        }
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
        assert_eq!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n"), Err("bad response"));
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: lots\r\n\r\n"),
            Err("bad response")
        );
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
        assert_eq!(
            exchange(&mut connect(cut).await.unwrap(), &get).await,
            Err("connection closed early")
        );
    }
}

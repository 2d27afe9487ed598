//! Helpers shared by the integration tests: the four binaries, by name.

#![allow(dead_code, unused_imports)]

pub mod grading;
pub mod hints;

use kit_measure::harness::Server;

pub use kit_measure::slots::VARIANTS;

/// The path cargo built a server binary at.
pub fn bin(variant: &str) -> &'static str {
    match variant {
        "sync-blocking" => env!("CARGO_BIN_EXE_sync-blocking"),
        "async-trap" => env!("CARGO_BIN_EXE_async-trap"),
        "blocking-wrapper" => env!("CARGO_BIN_EXE_blocking-wrapper"),
        "async-native" => env!("CARGO_BIN_EXE_async-native"),
        other => panic!("unknown variant {other}"),
    }
}

/// Starts a variant on port 0 with extra flags.
pub fn start(variant: &str, args: &[&str]) -> Server {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    Server::start(bin(variant), &args).unwrap_or_else(|e| panic!("{e}"))
}

/// The slots each variant's lesson says it has, at its default knobs.
pub fn slots(variant: &str) -> Option<u64> {
    if variant == "async-native" {
        None
    } else {
        Some(4)
    }
}

/// A plain HTTP/1.1 client, one blocking thread per request, for tests that
/// need to know exactly when a client is connected, or to see the headers.
pub mod raw {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::sync::mpsc;
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// No client waits longer than this for its answer (a hung test fails).
    pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

    /// What came back: status, the head (status line and headers), the body.
    #[derive(Debug)]
    pub struct Reply {
        pub status: u16,
        pub head: String,
        pub body: String,
    }

    impl Reply {
        /// The value of header `name` (case-insensitive).
        pub fn header(&self, name: &str) -> Option<&str> {
            self.head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
            })
        }
    }

    /// A reply, or what went wrong (connect, send, read, a short body).
    pub type Answer = Result<Reply, String>;

    /// One client on its own thread: connect, send `GET path`, tell
    /// `connected`, read the answer to the end.
    pub fn client(addr: SocketAddr, path: &str, connected: mpsc::Sender<()>) -> JoinHandle<Answer> {
        let path = path.to_string();
        std::thread::spawn(move || {
            let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
            exchange(stream, &path, Some(connected))
        })
    }

    /// Sends `GET path` on `stream` (Connection: close) and reads the answer.
    /// A body shorter than its Content-Length is an error.
    pub fn exchange(
        mut stream: TcpStream,
        path: &str,
        connected: Option<mpsc::Sender<()>>,
    ) -> Answer {
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(|e| e.to_string())?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: kit\r\nConnection: close\r\n\r\n")
            .map_err(|e| format!("send: {e}"))?;
        if let Some(connected) = connected {
            let _ = connected.send(());
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
        parse(&raw)
    }

    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw);
        let (head, body) =
            text.split_once("\r\n\r\n").ok_or_else(|| format!("no complete answer: {text:?}"))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line: {head}"))?;
        let reply = Reply { status, head: head.to_string(), body: body.to_string() };
        match reply.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            Some(n) if n != reply.body.len() => {
                Err(format!("body of {} bytes, Content-Length {n}", reply.body.len()))
            }
            _ => Ok(reply),
        }
    }
}

//! Misbehaving HTTP servers for the tests of every client the kit has
//! (bench, attack, the burst, the grade's control requests): each one a
//! listener on 127.0.0.1:0 and plain threads, owned by the test and ended
//! when it drops the [`Hostile`]. They read a request, then misbehave in
//! one of the [`Behaviour`]s a real server, a proxy or a wrong port can.
//!
//! Here rather than in a test folder so that the tests of kit-measure,
//! kit-load and the `kit` binary share one set: it is std only and costs
//! the library nothing.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How a [`Hostile`] server treats each connection, after reading the
/// request's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Says nothing, and keeps the connection open.
    NeverAnswers,
    /// A head with `Content-Length: 100`, 10 bytes of body, then nothing
    /// more, the connection kept open.
    StallsBody,
    /// `Transfer-Encoding: chunked`, then chunks for as long as the client reads.
    EndlessChunked,
    /// `Content-Length` of a petabyte, then bytes for as long as the client reads.
    EndlessLength,
    /// `xyz\r\n\r\n`, then closes.
    Garbage,
    /// `HTTP/1.1 200 OK\r\n` and nothing else, then closes.
    StatusLineOnly,
    /// A head with `Content-Length: 100`, 10 bytes of body, then closes.
    ClosesMidBody,
    /// A whole 200 on a kept-alive connection; then reads the next request
    /// on it and closes without answering.
    ClosesAfterFirst,
}

impl Behaviour {
    pub const ALL: [Behaviour; 8] = [
        Behaviour::NeverAnswers,
        Behaviour::StallsBody,
        Behaviour::EndlessChunked,
        Behaviour::EndlessLength,
        Behaviour::Garbage,
        Behaviour::StatusLineOnly,
        Behaviour::ClosesMidBody,
        Behaviour::ClosesAfterFirst,
    ];
}

/// The 10 bytes of body of [`Behaviour::StallsBody`] and [`Behaviour::ClosesMidBody`].
const CUT_ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
/// [`Behaviour::ClosesAfterFirst`]'s one answer.
const OK_ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
/// How often a waiting thread looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// A running hostile server. Dropping it stops the accept loop and every
/// connection's thread within [`POLL`] or so.
pub struct Hostile {
    addr: SocketAddr,
    behaviour: Behaviour,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    connections: AtomicU64,
    body_bytes: AtomicU64,
}

impl Hostile {
    /// Listens on 127.0.0.1:0 and misbehaves as `behaviour` says.
    pub fn start(behaviour: Behaviour) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Counts::default());
        let (flag, tally) = (stop.clone(), counts.clone());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((socket, _)) => {
                        tally.connections.fetch_add(1, Ordering::Relaxed);
                        let (flag, tally) = (flag.clone(), tally.clone());
                        std::thread::spawn(move || serve(socket, behaviour, &flag, &tally));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL / 5),
                    Err(_) => std::thread::sleep(POLL),
                }
            }
        });
        Hostile { addr, behaviour, stop, counts }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn behaviour(&self) -> Behaviour {
        self.behaviour
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::Relaxed)
    }

    /// Body bytes written by the endless behaviours so far: what the
    /// clients read, plus what the sockets' buffers hold.
    pub fn body_bytes(&self) -> u64 {
        self.counts.body_bytes.load(Ordering::Relaxed)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One connection, in its own thread.
fn serve(mut socket: TcpStream, behaviour: Behaviour, stop: &AtomicBool, counts: &Counts) {
    let _ = socket.set_nonblocking(false);
    let _ = socket.set_read_timeout(Some(POLL));
    let _ = socket.set_write_timeout(Some(POLL));
    if !read_head(&mut socket, stop) {
        return;
    }
    let write = |socket: &mut TcpStream, bytes: &[u8]| write_all(socket, bytes, stop);
    match behaviour {
        Behaviour::NeverAnswers => hold(&mut socket, stop),
        Behaviour::StallsBody => {
            if write(&mut socket, CUT_ANSWER) {
                hold(&mut socket, stop);
            }
        }
        Behaviour::EndlessChunked => {
            let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
            let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            endless(&mut socket, head, chunk.as_bytes(), stop, counts);
        }
        Behaviour::EndlessLength => {
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n";
            endless(&mut socket, head, &[b'x'; 0x1000], stop, counts);
        }
        Behaviour::Garbage => {
            write(&mut socket, b"xyz\r\n\r\n");
        }
        Behaviour::StatusLineOnly => {
            write(&mut socket, b"HTTP/1.1 200 OK\r\n");
        }
        Behaviour::ClosesMidBody => {
            write(&mut socket, CUT_ANSWER);
        }
        Behaviour::ClosesAfterFirst => {
            if write(&mut socket, OK_ANSWER) {
                // The next request arrives, and finds the connection closing.
                read_head(&mut socket, stop);
            }
        }
    }
    // Dropping the socket closes it.
}

/// Reads up to the end of a request's head; false if the client left or
/// the server is stopping first.
fn read_head(socket: &mut TcpStream, stop: &AtomicBool) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        match socket.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    return true;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Keeps the connection open and silent until the client closes it or the
/// server stops.
fn hold(socket: &mut TcpStream, stop: &AtomicBool) {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        match socket.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Writes all of `bytes`, waiting on a full socket; false if the client
/// left or the server is stopping.
fn write_all(socket: &mut TcpStream, mut bytes: &[u8], stop: &AtomicBool) -> bool {
    while !bytes.is_empty() {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        match socket.write(bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
    true
}

/// `head`, then `piece` again and again, as fast as the client reads.
fn endless(socket: &mut TcpStream, head: &[u8], piece: &[u8], stop: &AtomicBool, counts: &Counts) {
    if !write_all(socket, head, stop) {
        return;
    }
    while write_all(socket, piece, stop) {
        counts.body_bytes.fetch_add(piece.len() as u64, Ordering::Relaxed);
    }
}

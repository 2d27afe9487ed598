//! Process plumbing every server shares: binding the listener, announcing
//! the address, raising the open-files limit, accepting through errors,
//! hearing SIGTERM / Ctrl-C, draining, and ending with the process that
//! started it.
//!
//! None of this is the lesson, but each piece fixes a measured pitfall: see
//! the comments on `BACKLOG`, `raise_open_files_limit`, `AcceptErrors`,
//! `accept_until_stopped` and `exit_with_parent`.
//!
//! ## What a graceful shutdown promises (the same on all four servers)
//! A client is *accepted* once its TCP handshake has completed: from then on
//! its `connect()` has succeeded and it is waiting for an answer, whether the
//! server has called `accept()` on it yet or it still sits in the kernel's
//! backlog. On SIGTERM or Ctrl-C a server:
//! 1. accepts everything already in the backlog (`accept_pending`, twice,
//!    `HANDSHAKE_SETTLE` apart), then closes the listener, so later
//!    connections are refused;
//! 2. answers every accepted client, queued ones included (one request per
//!    connection from then on: keep-alive ends after it);
//! 3. exits 0 when all are answered, or at `--drain-timeout`, whichever
//!    comes first, with a final line on stderr (`report_drain`) that counts
//!    the clients left unanswered.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

use crate::os;

use socket2::{Domain, Protocol, Socket, Type};

/// Errors nothing branches on: they are printed and the process exits.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The listen backlog. The common default of 128 overflows when 1,000
/// clients connect at once: the kernel drops SYNs and clients retry after
/// 1 s and 3 s, which looks like server latency. The kernel caps this at
/// `net.core.somaxconn` (4096 here; `kern.ipc.somaxconn`, often 128, on
/// macOS): `bind` warns when the cap is lower.
pub const BACKLOG: i32 = 4096;

/// Binds `host:port` with the kit's backlog. Port 0 picks a free port.
pub fn bind(host: &str, port: u16) -> Result<TcpListener, Error> {
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host '{host}': {e}"))?
        .next()
        .ok_or_else(|| format!("host '{host}' has no address"))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Lets a restarted server take its port back while old connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into()).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            format!("port {port} on {host} is already in use: stop what holds it, or pick another port (--port 0 picks a free one)")
        }
        std::io::ErrorKind::AddrNotAvailable => format!("{host} is not an address of this machine"),
        _ => format!("cannot listen on {addr}: {e}"),
    })?;
    socket.listen(BACKLOG)?;
    warn_if_backlog_capped();
    Ok(socket.into())
}

/// Says once per process when the system cuts `BACKLOG` down: the symptom
/// (1 s and 3 s connect retries) looks like server latency otherwise.
fn warn_if_backlog_capped() {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        if let Some(cap) = os::listen_backlog_cap().filter(|cap| i64::from(*cap) < i64::from(BACKLOG)) {
            eprintln!(
                "warning: the system caps the listen backlog at {cap}; bursts above {cap} may see retried \
                 connects as latency: raise kern.ipc.somaxconn / net.core.somaxconn"
            );
        }
    });
}

/// Prints the contract's first stdout line, `listening on http://HOST:PORT`,
/// and flushes it: the harness waits for exactly this line.
pub fn announce(addr: &SocketAddr) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    Ok(())
}

/// Raises the soft open-files limit as far as the system allows and returns
/// the new soft limit (the current one if it cannot be raised, 0 if it
/// cannot even be read). At the usual soft limit of 1024 a 2,000-connection
/// burst fails with "Too many open files", and axum's accept loop hides that
/// by sleeping, so both the servers and the load generator call this.
pub fn raise_open_files_limit() -> u64 {
    match os::raise_nofile_limit() {
        Ok(soft) => soft,
        Err(_) => os::nofile_limit().map_or(0, |l| l.soft),
    }
}

/// The environment variable that asks a server to end with its parent.
pub const EXIT_WITH_PARENT_ENV: &str = "KIT_EXIT_WITH_PARENT";
/// The exit code of a server that ended because its parent went away:
/// neither 0 (drained after SIGTERM) nor 1 (an error), so it can be told apart.
pub const EXIT_PARENT_GONE: i32 = 3;

/// A server started by the kit must not outlive it: not when a test panics,
/// not when `kit` is SIGKILLed. The kit gives the server a pipe as stdin and
/// keeps the other end. The kernel closes that end when the kit exits, however
/// it exits, and the server then reads end-of-file. This works the same on
/// Linux and macOS (Linux's PR_SET_PDEATHSIG does not exist on macOS).
///
/// Opt-in through `KIT_EXIT_WITH_PARENT=1`, which the harness sets: a server
/// run by hand in a terminal keeps its stdin and its life to itself.
pub fn exit_with_parent() {
    if std::env::var_os(EXIT_WITH_PARENT_ENV).is_none_or(|v| v != "1") {
        return;
    }
    let watch = std::thread::Builder::new().name("exit-with-parent".into()).spawn(|| {
        // Returns at end-of-file (or a broken stdin): either way the parent is gone.
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        // Not eprintln!: stderr is usually a pipe to the same dead parent,
        // and eprintln! panics on a broken pipe instead of exiting.
        let note = "stdin closed: the process that started this server is gone, so it exits too\n";
        let _ = std::io::stderr().write_all(note.as_bytes());
        std::process::exit(EXIT_PARENT_GONE);
    });
    if let Err(e) = watch {
        eprintln!(
            "warning: cannot watch stdin for the parent's exit ({e}); this server may outlive it"
        );
    }
}

/// Says something on stderr without panicking when stderr is a closed pipe
/// (`eprintln!` would panic there).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// How long the accept loop pauses after an error that is not about one
/// connection (out of file descriptors, out of memory): retrying at once
/// would spin, and the condition usually clears when connections close.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accept errors, survived. An error about one connection (it was reset
/// before we took it) is skipped. Any other error (EMFILE: "Too many open
/// files", ENFILE, ENOBUFS, ENOMEM) is logged, and the loop pauses for
/// `ACCEPT_BACKOFF` and goes on accepting: the listener is still fine, the
/// process just has to wait for descriptors to be freed. tiny_http's accept
/// thread ends on the first such error, and axum's loop sleeps 1 s without
/// a word; a server that silently stops accepting is the worst outcome.
#[derive(Default)]
pub struct AcceptErrors {
    /// Errors since the last successful accept.
    failing: u64,
}

impl AcceptErrors {
    /// Records a failed accept; returns how long to pause before the next.
    pub fn failed(&mut self, e: &std::io::Error) -> Option<Duration> {
        use std::io::ErrorKind::*;
        if matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock) {
            return None;
        }
        // The first error of a run is logged; then one line per 100, so a
        // long EMFILE spell does not flood the terminal.
        if self.failing.is_multiple_of(100) {
            say(&format!(
                "accept failed: {e}; still listening, retrying every {} ms{}",
                ACCEPT_BACKOFF.as_millis(),
                if self.failing == 0 {
                    String::new()
                } else {
                    format!(" ({} failures so far)", self.failing)
                }
            ));
        }
        self.failing += 1;
        Some(ACCEPT_BACKOFF)
    }

    /// Records a successful accept, and says so if it ends a run of errors.
    pub fn accepted(&mut self) {
        if self.failing > 0 {
            say(&format!("accepting again after {} failed accepts", self.failing));
            self.failing = 0;
        }
    }
}

/// How often a blocking accept loop looks up to check the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The blocking servers' accept loop: hands every connection to `take`
/// until `stop` turns true, then takes what is already in the backlog
/// (`accept_pending`) and returns. The caller then drops the listener, and
/// new connections are refused. Errors are survived (`AcceptErrors`).
pub fn accept_until_stopped(
    listener: &TcpListener,
    stop: &AtomicBool,
    mut take: impl FnMut(TcpStream),
) {
    if let Err(e) = listener.set_nonblocking(true) {
        say(&format!("error: cannot make the listener non-blocking ({e}); not accepting"));
        return;
    }
    let mut errors = AcceptErrors::default();
    while !stop.load(Ordering::SeqCst) {
        // Sleeps until a client connects, waking up now and then to see
        // whether it is time to stop.
        if !os::wait_readable(listener, STOP_POLL) {
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                errors.accepted();
                take(stream);
            }
            Err(e) => {
                if let Some(pause) = errors.failed(&e) {
                    std::thread::sleep(pause);
                }
            }
        }
    }
    sweep_backlog(listener).into_iter().for_each(take);
}

/// Everything in the backlog of a listener about to close: what is queued
/// now, and again `HANDSHAKE_SETTLE` later. Blocks for that pause, so an
/// async server calls it on a blocking thread. The listener must be
/// non-blocking.
pub fn sweep_backlog(listener: &TcpListener) -> Vec<TcpStream> {
    let mut streams: Vec<TcpStream> = std::iter::from_fn(|| accept_pending(listener)).collect();
    // Handshakes the client already sees as complete may not be queued yet.
    std::thread::sleep(HANDSHAKE_SETTLE);
    streams.extend(std::iter::from_fn(|| accept_pending(listener)));
    streams
}

/// How long a drain waits before its last look at the backlog. A client's
/// `connect()` returns when the server's SYN-ACK arrives; the server's kernel
/// queues the connection only when it has processed the client's last ACK, a
/// moment later (on a loaded machine, milliseconds). A listener closed in
/// that moment resets a client that believes it was accepted, so a drain
/// sweeps the backlog, waits this long, and sweeps it again before closing.
/// A connect that races the very last sweep can still be reset: TCP gives
/// no way to close a listener and complete its handshakes at once.
pub const HANDSHAKE_SETTLE: Duration = Duration::from_millis(25);

/// One connection that has completed its handshake and waits in the
/// backlog, or `None` once the backlog is empty. The listener must be
/// non-blocking. Used while draining: these clients count as accepted. The
/// stream comes back in blocking mode (macOS would pass the listener's
/// non-blocking flag on to it).
pub fn accept_pending(listener: &TcpListener) -> Option<TcpStream> {
    loop {
        match listener.accept() {
            Ok((stream, _)) => match stream.set_nonblocking(false) {
                Ok(()) => return Some(stream),
                Err(_) => continue,
            },
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return None,
            Err(e) => {
                say(&format!("accept failed while draining the backlog: {e}; clients still in it will be reset"));
                return None;
            }
        }
    }
}

/// The last line of a graceful shutdown, on stderr: how long the drain
/// took, and how many accepted clients were left unanswered at the deadline.
/// Tests read this line: keep its shape.
pub fn report_drain(unanswered: usize, took: Duration, deadline: Duration) {
    if unanswered == 0 {
        say(&format!(
            "drained: every accepted client was answered, in {:.2} s; exiting",
            took.as_secs_f64()
        ));
    } else {
        say(&format!(
            "drain timeout: {unanswered} accepted clients unanswered after {:.2} s (--drain-timeout {} s); exiting anyway",
            took.as_secs_f64(),
            deadline.as_secs()
        ));
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    // Only an atomic store: that is all a signal handler may safely do.
    STOP.store(true, Ordering::SeqCst);
}

/// For servers without an async runtime: a flag that turns true on SIGTERM
/// or Ctrl-C. The accept loop and the handler threads check it.
pub fn stop_flag() -> &'static AtomicBool {
    // SAFETY: the handler is async-signal-safe (one atomic store).
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
    &STOP
}

/// For tokio servers: SIGTERM and Ctrl-C, listened for from the moment this
/// is built. Build it *before* printing the listening line: a client (or the
/// harness) may send SIGTERM as soon as it reads that line, and a signal that
/// arrives before a handler exists kills the process instead of draining it.
///
/// The news travels on a plain thread, not through tokio's signal driver:
/// on the trap every worker thread can be stuck in a handler's blocking wait
/// while more blocked requests queue up, and then nobody polls the driver
/// until the queue runs dry (measured: a SIGTERM noticed 4.8 s late). A
/// thread that watches the stop flag wakes the waiting future directly.
pub struct Shutdown {
    heard: tokio::sync::oneshot::Receiver<()>,
}

/// How often the watch thread looks at the stop flag.
const SIGNAL_POLL: Duration = Duration::from_millis(10);

impl Shutdown {
    /// Installs the handlers and starts the watch thread.
    pub fn install() -> Shutdown {
        let stop = stop_flag();
        let (tell, heard) = tokio::sync::oneshot::channel();
        let watch = std::thread::Builder::new().name("signal-watch".into()).spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(SIGNAL_POLL);
            }
            let _ = tell.send(());
        });
        if let Err(e) = watch {
            say(&format!("warning: cannot watch for SIGTERM ({e}); this server will not drain"));
        }
        Shutdown { heard }
    }

    /// Completes on the first SIGTERM or Ctrl-C.
    pub async fn wait(self) {
        if self.heard.await.is_err() {
            // The watch thread could not start: never complete.
            std::future::pending::<()>().await;
        }
    }
}

/// Completes on SIGTERM or Ctrl-C, listening from the first poll (for
/// commands that only need to stop early, not to announce themselves).
pub async fn shutdown_signal() {
    Shutdown::install().wait().await
}

/// The end of every server's `main`: errors go to stderr with exit code 1.
pub fn exit(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

//! Process plumbing every server shares: binding the listener, announcing
//! the address, raising the open-files limit, hearing SIGTERM / Ctrl-C, and
//! ending with the process that started it.
//!
//! None of this is the lesson, but each piece fixes a measured pitfall: see
//! the comments on `BACKLOG`, `raise_open_files_limit` and `exit_with_parent`.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

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
        eprintln!("warning: cannot watch stdin for the parent's exit ({e}); this server may outlive it");
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    // Only an atomic store: that is all a signal handler may safely do.
    STOP.store(true, Ordering::SeqCst);
}

/// For servers without an async runtime: a flag that turns true on SIGTERM
/// or Ctrl-C. Handler threads check it between requests.
pub fn stop_flag() -> &'static AtomicBool {
    // SAFETY: the handler is async-signal-safe (one atomic store).
    unsafe {
        libc::signal(libc::SIGINT, on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    &STOP
}

/// For tokio servers: SIGTERM and Ctrl-C, listened for from the moment this
/// is built. Build it *before* printing the listening line: a client (or the
/// harness) may send SIGTERM as soon as it reads that line, and a signal that
/// arrives before a handler exists kills the process instead of draining it.
pub struct Shutdown {
    term: Option<tokio::signal::unix::Signal>,
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Shutdown {
    /// Installs the handlers. Must run inside a tokio runtime.
    pub fn install() -> Shutdown {
        use tokio::signal::unix::{signal, SignalKind};
        Shutdown { term: signal(SignalKind::terminate()).ok(), interrupt: signal(SignalKind::interrupt()).ok() }
    }

    /// Completes on the first SIGTERM or Ctrl-C.
    pub async fn wait(mut self) {
        async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = recv(&mut self.term) => {}
            _ = recv(&mut self.interrupt) => {}
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

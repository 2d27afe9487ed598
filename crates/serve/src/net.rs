//! Process plumbing every server shares: binding the listener, announcing
//! the address, raising the open-files limit, and hearing SIGTERM / Ctrl-C.
//!
//! None of this is the lesson, but each piece fixes a measured pitfall: see
//! the comments on `BACKLOG` and `raise_open_files_limit`.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, Protocol, Socket, Type};

/// Errors nothing branches on: they are printed and the process exits.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The listen backlog. The common default of 128 overflows when 1,000
/// clients connect at once: the kernel drops SYNs and clients retry after
/// 1 s and 3 s, which looks like server latency. The kernel caps this at
/// `net.core.somaxconn` (4096 here).
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
    Ok(socket.into())
}

/// Prints the contract's first stdout line, `listening on http://HOST:PORT`,
/// and flushes it: the harness waits for exactly this line.
pub fn announce(listener: &TcpListener) -> Result<SocketAddr, Error> {
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    Ok(addr)
}

/// Raises the soft open-files limit to the hard limit and returns the new
/// soft limit. At the usual soft limit of 1024 a 2,000-connection burst
/// fails with "Too many open files", and axum's accept loop hides that by
/// sleeping, so both the servers and the load generator call this.
pub fn raise_open_files_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur as u64;
            }
        }
    }
    lim.rlim_cur as u64
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

/// For tokio servers: completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
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

//! Launching a server process and talking to its control endpoints.
//!
//! `Server::start` runs a server binary on port 0, waits for its
//! `listening on http://HOST:PORT` line and a healthy `/health`, and keeps
//! draining its output. The `Server` is a guard: dropping it kills the
//! process. The server also ends by itself when its parent does: it gets a
//! pipe as stdin and `KIT_EXIT_WITH_PARENT=1` (see
//! `kit_serve::net::exit_with_parent`), and the kernel closes our end of the
//! pipe however we exit. So a test that panics, or a `kit` killed with
//! SIGKILL, leaves nothing behind, on Linux and macOS alike.
//!
//! The control endpoints (`/metrics`, `/metrics/reset`) are read with a tiny
//! blocking HTTP client over one loopback connection, so tests and the grade
//! can stay plain `#[test]` functions.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kit_serve::contract::{CallStats, MetricsSnapshot};
use kit_serve::net;

/// How long a server may take to print its listening line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a control request (/metrics, /health) may take. Generous: on a
/// blocking server it queues behind busy slots.
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `terminate` waits for a clean exit before killing.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct HarnessError(pub String);

impl std::fmt::Display for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

pub type Result<T> = std::result::Result<T, HarnessError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(HarnessError(msg.into()))
}

/// A running server process. Dropping it kills the process.
pub struct Server {
    /// Behind a lock so that `exited` (which reaps) works from a shared
    /// reference: the kit's watch loop sees its servers through `&`.
    child: Mutex<Child>,
    pid: u32,
    name: String,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub addr: SocketAddr,
    output: Arc<Output>,
    /// Our end of the server's stdin. Never written: it only has to stay
    /// open while we live. Closing it (dropping it, or our own exit) tells
    /// the server to exit.
    _lifeline: ChildStdin,
}

impl Server {
    /// Starts `bin` with `args` (plus `--port 0` unless a port is given) and
    /// waits until it listens and answers `/health`.
    pub fn start(bin: impl AsRef<Path>, args: &[String]) -> Result<Server> {
        Server::start_with_env(bin, args, &[])
    }

    /// `start`, with extra environment variables for the server.
    pub fn start_with_env(
        bin: impl AsRef<Path>,
        args: &[String],
        envs: &[(&str, &str)],
    ) -> Result<Server> {
        let bin = bin.as_ref();
        let name = bin.file_name().map_or("server".into(), |n| n.to_string_lossy().into_owned());
        let mut cmd = Command::new(bin);
        cmd.args(args).envs(envs.iter().copied());
        if !args.iter().any(|a| a == "--port") {
            cmd.args(["--port", "0"]);
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.env(net::EXIT_WITH_PARENT_ENV, "1");
        let mut child = spawn(&mut cmd)
            .map_err(|e| HarnessError(format!("cannot start {}: {e}", bin.display())))?;
        // Cannot fail: stdin was set to a pipe just above.
        let lifeline = child.stdin.take().expect("stdin is piped");
        let output = Arc::new(Output::default());
        let first_line = drain_output(&mut child, &output);
        let line = match first_line.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                // Either it exited (its stdout closed) or it hangs: say which.
                // A closed stdout means it is exiting: give it a moment.
                let mut exited = child.try_wait().ok().flatten();
                let closing = Instant::now();
                while exited.is_none()
                    && e == mpsc::RecvTimeoutError::Disconnected
                    && closing.elapsed() < Duration::from_secs(2)
                {
                    std::thread::sleep(Duration::from_millis(10));
                    exited = child.try_wait().ok().flatten();
                }
                if exited.is_none() {
                    let _ = child.kill();
                }
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                let said = last_words(&output);
                return err(match exited {
                    Some(_) => format!("{name} exited ({status}) before it printed its listening line. Its output:\n{said}"),
                    None => format!("{name} did not print its listening line within {START_TIMEOUT:?}; its output:\n{said}"),
                });
            }
        };
        let mut server = Server::from_line(child, name, &line, output, lifeline)?;
        server.wait_healthy()?;
        Ok(server)
    }

    fn from_line(
        mut child: Child,
        name: String,
        line: &str,
        output: Arc<Output>,
        lifeline: ChildStdin,
    ) -> Result<Server> {
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return err(format!(
                "{name}: expected 'listening on http://HOST:PORT' first, got '{line}'"
            ));
        };
        let addr = url
            .trim_start_matches("http://")
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| HarnessError(format!("{name}: bad address in '{line}'")))?;
        let pid = child.id();
        Ok(Server {
            child: Mutex::new(child),
            pid,
            name,
            url: url.to_string(),
            addr,
            output,
            _lifeline: lifeline,
        })
    }

    /// Waits for /health to answer 200; a server that dies meanwhile is
    /// reported as dead, in its own words, not as "did not answer".
    fn wait_healthy(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return err(format!(
                    "{} exited ({status}) after it printed its listening line, before /health answered. Its output:\n{}",
                    self.name,
                    last_words(&self.output)
                ));
            }
            match get(self.addr, "/health", Duration::from_secs(5)) {
                Ok((200, _)) => return Ok(()),
                _ if started.elapsed() > START_TIMEOUT => {
                    return err(format!(
                        "{} listens but /health never answered 200 within {START_TIMEOUT:?}",
                        self.name
                    ))
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// The last `lines` lines the server printed, for error reports.
    pub fn output_tail(&self, lines: usize) -> String {
        let output = self.output();
        let all: Vec<&str> = output.lines().collect();
        let tail = &all[all.len().saturating_sub(lines)..];
        if tail.is_empty() {
            "(it printed nothing)".into()
        } else {
            tail.join("\n")
        }
    }

    /// `None` while running; the exit status once it has died. It reaps the
    /// process, so unlike `is_alive` it never mistakes a zombie for a server.
    pub fn exited(&self) -> Option<ExitStatus> {
        self.child().try_wait().ok().flatten()
    }

    /// A poisoned lock only means a thread panicked between two calls on the
    /// child; the child itself is still there to wait on or kill.
    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends SIGTERM and waits for the process to exit on its own.
    pub fn terminate(self) -> Result<ExitStatus> {
        signal(self.pid, libc::SIGTERM);
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Ok(status);
            }
            if started.elapsed() > STOP_TIMEOUT {
                return err(format!(
                    "{} did not exit within {STOP_TIMEOUT:?} of SIGTERM",
                    self.name
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut child = self.child();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Reads or resets a server's metrics over one connection (`name` names
/// it in the error).
pub fn control(name: &str, addr: SocketAddr, method: &str, path: &str) -> Result<MetricsSnapshot> {
    control_within(name, addr, method, path, CONTROL_TIMEOUT)
}

/// `control`, waiting at most `timeout` for the answer.
pub fn control_within(
    name: &str,
    addr: SocketAddr,
    method: &str,
    path: &str,
    timeout: Duration,
) -> Result<MetricsSnapshot> {
    let (status, body) = request(addr, method, path, timeout)
        .map_err(|e| HarnessError(format!("{name}: {method} {path} failed: {e}")))?;
    if status != 200 {
        return err(format!("{name}: {method} {path} answered {status}: {body}"));
    }
    serde_json::from_str(&body)
        .map_err(|e| HarnessError(format!("{name}: {path} is not the metrics JSON ({e}): {body}")))
}

/// What the burst and the probes measure: a server that speaks the
/// contract's /metrics, either a process the kit started or one at a URL.
pub trait Target {
    fn name(&self) -> &str;
    /// `http://HOST:PORT`
    fn url(&self) -> &str;
    fn addr(&self) -> SocketAddr;
    /// The process to watch from outside, when it is ours.
    fn pid(&self) -> Option<u32>;

    /// How long a read or reset of /metrics may take.
    fn control_timeout(&self) -> Duration {
        CONTROL_TIMEOUT
    }

    fn metrics(&self) -> Result<MetricsSnapshot> {
        control_within(self.name(), self.addr(), "GET", "/metrics", self.control_timeout())
    }

    fn reset_metrics(&self) -> Result<MetricsSnapshot> {
        control_within(self.name(), self.addr(), "POST", "/metrics/reset", self.control_timeout())
    }
}

impl Target for Server {
    fn name(&self) -> &str {
        &self.name
    }

    fn url(&self) -> &str {
        &self.url
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn pid(&self) -> Option<u32> {
        Some(self.pid)
    }
}

/// The upstream service of `--io-backend http=URL` (the `upstream` binary
/// beside this executable), started for a run: a test or a bench just asks
/// for a server "on the http backend" with `backend_args`. A `Server`
/// underneath (`Deref`), so it is killed on drop and has /metrics.
pub struct Upstream(Server);

impl Upstream {
    pub fn start() -> Result<Upstream> {
        Upstream::start_bin(sibling_binary("upstream")?, &[])
    }

    /// The upstream as an exercise builds it, under its own name
    /// (`lock-upstream`, from servers/upstream/main.rs), with flags such as
    /// `--limit 5` or `--io-ms 100`.
    pub fn start_bin(bin: impl AsRef<Path>, args: &[String]) -> Result<Upstream> {
        Server::start(bin, args).map(Upstream)
    }

    /// Its own count of the calls it received (`calls` in its /metrics).
    pub fn calls(&self) -> Result<CallStats> {
        self.0.metrics()?.calls.ok_or_else(|| {
            HarnessError(format!(
                "{}: /metrics reports no calls: not the kit's upstream",
                self.0.name
            ))
        })
    }

    /// Makes every call from now on hang (`true`) or answer again (`false`).
    pub fn hang(&self, on: bool) -> Result<CallStats> {
        let method = if on { "POST" } else { "DELETE" };
        let (status, body) = request(self.0.addr, method, "/hang", CONTROL_TIMEOUT)
            .map_err(|e| HarnessError(format!("{}: {method} /hang failed: {e}", self.0.name)))?;
        if status != 200 {
            return err(format!("{}: {method} /hang answered {status}: {body}", self.0.name));
        }
        serde_json::from_str(&body)
            .map_err(|e| HarnessError(format!("{}: /hang answered {body} ({e})", self.0.name)))
    }

    /// The flags that send a server's waits here.
    pub fn backend_args(&self) -> [String; 2] {
        ["--io-backend".into(), format!("http={}", self.0.url)]
    }
}

impl std::ops::Deref for Upstream {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.0
    }
}

/// A server the kit did not start (a container, another machine's port
/// forward): reached by URL, its threads read from its own /metrics.
pub struct Remote {
    url: String,
    addr: SocketAddr,
    control_timeout: Duration,
}

impl Remote {
    /// `url` is `http://HOST:PORT` (a trailing slash is fine).
    pub fn new(url: &str) -> Result<Remote> {
        let url = url.trim_end_matches('/').to_string();
        let hostport = url.strip_prefix("http://").ok_or_else(|| {
            HarnessError(format!("'{url}': only http://HOST:PORT URLs are supported"))
        })?;
        let addr = hostport
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| HarnessError(format!("'{url}': cannot resolve {hostport}")))?;
        Ok(Remote { url, addr, control_timeout: CONTROL_TIMEOUT })
    }

    /// Waits at most `timeout` for its /metrics (`CONTROL_TIMEOUT` unless
    /// set): a server that never answers fails the grade that soon.
    pub fn with_control_timeout(mut self, timeout: Duration) -> Remote {
        self.control_timeout = timeout;
        self
    }
}

impl Target for Remote {
    fn name(&self) -> &str {
        &self.url
    }

    fn url(&self) -> &str {
        &self.url
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn pid(&self) -> Option<u32> {
        None
    }

    fn control_timeout(&self) -> Duration {
        self.control_timeout
    }
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) only sends a signal.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Sends `sig` to every process of the group that `leader` leads (a child
/// spawned with `process_group(0)`), the processes it started included.
pub fn signal_group(leader: u32, sig: libc::c_int) {
    // SAFETY: kill(2) only sends a signal; a negative pid names the group.
    unsafe {
        libc::kill(-(leader as libc::pid_t), sig);
    }
}

/// Liveness as `kill(pid, 0)` sees it: a zombie still counts, so a caller
/// that owns the child pairs it with `Server::exited` (which reaps).
pub use kit_serve::os::is_alive;

/// What the server printed, copied by one reader thread per pipe.
#[derive(Default)]
struct Output {
    text: Mutex<String>,
    /// Pipes whose reader has not reached the end yet.
    open: AtomicUsize,
}

impl Output {
    fn text(&self) -> String {
        self.text.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn push(&self, more: &str) {
        if let Ok(mut o) = self.text.lock() {
            o.push_str(more);
        }
    }
}

/// What a process that has exited printed. Its pipes close when it exits,
/// but the threads that copy them may still be catching up: wait until both
/// reached the end (bounded: a child the server left behind may hold them).
fn last_words(output: &Output) -> String {
    let waiting = Instant::now();
    while output.open.load(Ordering::SeqCst) > 0 && waiting.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    output.text()
}

/// Copies the child's stdout and stderr into `output`; the first stdout line
/// is also sent on the returned channel.
fn drain_output(child: &mut Child, output: &Arc<Output>) -> mpsc::Receiver<String> {
    let (first_tx, first_rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        let output = Arc::clone(output);
        output.open.fetch_add(1, Ordering::SeqCst);
        std::thread::spawn(move || {
            for (i, line) in BufReader::new(stdout).lines().map_while(|l| l.ok()).enumerate() {
                if i == 0 {
                    let _ = first_tx.send(line.clone());
                }
                output.push(&format!("{line}\n"));
            }
            output.open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    if let Some(mut stderr) = child.stderr.take() {
        let output = Arc::clone(output);
        output.open.fetch_add(1, Ordering::SeqCst);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                output.push(&String::from_utf8_lossy(&buf[..n]));
            }
            output.open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    first_rx
}

/// `GET path` over one fresh connection: (status, body).
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    request(addr, "GET", path, timeout)
}

/// The most of a control answer read: the metrics JSON is a few KB.
pub const MAX_CONTROL_ANSWER: usize = 1 << 20;

/// A minimal HTTP/1.1 request with `Connection: close`, read to the end of
/// its answer. Enough for the servers' JSON control endpoints, not a
/// general client. `timeout` bounds the whole exchange, not each read (a
/// server trickling bytes cannot stretch it), and the answer is read up to
/// [`MAX_CONTROL_ANSWER`]: a server that never answers, stalls, sends
/// garbage, closes early or never stops gets an error that says which.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    use crate::client::outcome::{BODY_TOO_LONG, CLOSED_BEFORE_ANSWER, TIMEOUT_KIND};
    use crate::client::raw::AnswerReader;
    use std::io::{Error, ErrorKind};

    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    let fail = |kind: ErrorKind, what: &str, raw: &[u8]| {
        let text = String::from_utf8_lossy(&raw[..raw.len().min(200)]).into_owned();
        Error::new(kind, format!("{what} after {} bytes: {text:?}", raw.len()))
    };
    // When the answer is whole, and what an early end means: the burst's
    // reader decides, the same as for every answer the burst reads.
    let mut answer = AnswerReader::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let what =
                format!("{} (no whole answer within {:.1} s)", TIMEOUT_KIND, timeout.as_secs_f64());
            return Err(fail(ErrorKind::TimedOut, &what, &raw));
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // The deadline's turn comes at the top of the loop.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            answer.end().map_err(|kind| fail(ErrorKind::UnexpectedEof, kind, &raw))?;
            break;
        }
        if raw.len() + n > MAX_CONTROL_ANSWER {
            let what = format!("{BODY_TOO_LONG} (more than {MAX_CONTROL_ANSWER} bytes)");
            return Err(fail(ErrorKind::InvalidData, &what, &raw));
        }
        raw.extend_from_slice(&chunk[..n]);
        if answer
            .feed(&chunk[..n])
            .map_err(|kind| fail(ErrorKind::InvalidData, kind, &raw))?
            .is_some()
        {
            break;
        }
    }
    let (status, head_len, length) =
        answer.head().ok_or_else(|| fail(ErrorKind::UnexpectedEof, CLOSED_BEFORE_ANSWER, &raw))?;
    let body = &raw[head_len..];
    // A whole answer: at least `length` bytes of body are in.
    let body = length.map_or(body, |length| &body[..length as usize]);
    Ok((status, String::from_utf8_lossy(body).into_owned()))
}

/// A base port with `count` consecutive ports free on every interface (as a
/// container's published port needs), for tests that run `kit up`. Below the
/// ephemeral range (32768 and up on Linux, 49152 and up on macOS), so that
/// no client socket of a test running beside this one can take one of them
/// between this check and the bind.
pub fn free_ports(count: u16) -> Result<u16> {
    let seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
    for attempt in 0..200u64 {
        let base = 20_000
            + ((seed.wrapping_mul(6364136223846793005).wrapping_add(attempt * 7919)) % 10_000)
                as u16;
        if (0..count).all(|i| std::net::TcpListener::bind(("0.0.0.0", base + i)).is_ok()) {
            return Ok(base);
        }
    }
    err(format!("no {count} free consecutive ports between 20000 and 30000"))
}

/// A server binary that sits next to the running executable (the same
/// `target/<profile>` folder), as `cargo build -p kit-servers` leaves them.
pub fn sibling_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| HarnessError(format!("cannot find own executable: {e}")))?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Test executables live one level down, in target/<profile>/deps.
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(name);
    if bin.is_file() {
        Ok(bin)
    } else {
        err(format!(
            "{} not found: build the servers first (cargo build --release -p kit-servers)",
            bin.display()
        ))
    }
}

/// Spawns `cmd`, retrying briefly while its file is busy. A file written a
/// moment ago can still be open for writing in a child that another thread
/// forked before our write closed it (it closes at that child's exec), and
/// Linux refuses to run a file open for writing. Only tests that write
/// scripts meet this; a busy file for a whole second is reported.
fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match cmd.spawn() {
            Err(e)
                if e.kind() == std::io::ErrorKind::ExecutableFileBusy
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

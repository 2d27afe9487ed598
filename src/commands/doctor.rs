//! `kit doctor`: the first command of a workshop, on every laptop. Is this
//! machine ready to run the kit? One line per check (ok / warn / FAIL), then
//! a verdict; exit 0 when ready, 1 when not.
//!
//! A FAIL is what would break a lesson: no toolchain, no OS readings of
//! threads and RSS (the grade's thread checks would fail closed), or an
//! open-file limit that cannot reach what a 1,000-2,000 connection burst
//! needs. Everything optional (Docker, PostgreSQL, insta, a warm build) is a
//! warn. The checks return findings (plain data) and `render` writes them to
//! any `impl Write`, so the verdict is testable without this machine.
//!
//! Run: `cargo run --release -- doctor`

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kit_measure::slots::VARIANTS;
use kit_serve::net::BACKLOG;
use kit_serve::os;

use crate::error::{CliError, Result};

/// What the kit's biggest bursts need: 2,000 client sockets plus the
/// server's, with room for the rest of the process.
pub const NOFILE_NEEDED: u64 = 4096;
/// How long an outside command (docker, cargo) may take to answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long PostgreSQL may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a waiting command is polled.
const POLL: Duration = Duration::from_millis(20);
/// PostgreSQL's port when the URL names none.
const POSTGRES_PORT: u16 = 5432;
/// The variable the kit reads the database URL from.
pub const DATABASE_URL_ENV: &str = "KIT_DATABASE_URL";

#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    /// What was found, measured on this machine.
    pub detail: String,
    /// The command (or step) that fixes a warn or FAIL.
    pub fix: Option<String>,
}

impl Finding {
    fn new(check: &'static str, level: Level, detail: impl Into<String>) -> Finding {
        Finding { check, level, detail: detail.into(), fix: None }
    }

    fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

pub fn run(_: Args) -> Result<()> {
    let findings = checks();
    let mut out = std::io::stdout().lock();
    render(&findings, &mut out)?;
    out.flush()?;
    if is_ready(&findings) {
        Ok(())
    } else {
        Err(CliError::Failed(
            "this machine is not ready for the workshop: fix the FAIL lines above".into(),
        ))
    }
}

/// Every check, in the order a learner fixes them.
pub fn checks() -> Vec<Finding> {
    vec![
        system(),
        toolchain(),
        open_files(),
        listen_backlog(),
        readings(),
        docker(),
        postgres(),
        builds(),
        insta(),
    ]
}

pub fn is_ready(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.level != Level::Fail)
}

/// "ready for the workshop", or "not ready: " and each FAIL with its fix.
pub fn verdict(findings: &[Finding]) -> String {
    let fails: Vec<String> = findings
        .iter()
        .filter(|f| f.level == Level::Fail)
        .map(|f| match &f.fix {
            Some(fix) => format!("{} (fix: {fix})", f.check),
            None => f.check.to_string(),
        })
        .collect();
    if fails.is_empty() {
        "ready for the workshop".into()
    } else {
        format!("not ready: {}", fails.join("; "))
    }
}

/// One line per finding (its fix indented below a warn or FAIL), then the verdict.
pub fn render(findings: &[Finding], out: &mut impl Write) -> std::io::Result<()> {
    let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
    for f in findings {
        writeln!(out, "{:<5} {:<width$}  {}", f.level.label(), f.check, f.detail)?;
        if let (Some(fix), false) = (&f.fix, f.level == Level::Ok) {
            writeln!(out, "{:<5} {:<width$}  fix: {fix}", "", "")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", verdict(findings))
}

fn system() -> Finding {
    let arch = std::env::consts::ARCH;
    match os::NAME {
        "linux" | "macos" => Finding::new("system", Level::Ok, format!("{} on {arch}", os::NAME)),
        other => Finding::new(
            "system",
            Level::Warn,
            format!("{other} on {arch}: the kit is verified on Linux and macOS only"),
        )
        .fix("use a Linux or macOS machine (on Windows: WSL 2)"),
    }
}

fn toolchain() -> Finding {
    // Under `cargo run`, $CARGO is the cargo that built us; rustc sits beside it.
    let cargo = std::env::var_os("CARGO").map(PathBuf::from).unwrap_or_else(|| "cargo".into());
    let rustc = cargo.with_file_name("rustc");
    let rustc = if rustc.is_file() { rustc } else { "rustc".into() };
    let versions = (first_line(&rustc, &["--version"]), first_line(&cargo, &["--version"]));
    match versions {
        (Some(rustc), Some(cargo)) => {
            Finding::new("rust toolchain", Level::Ok, format!("{rustc}; {cargo}"))
        }
        (rustc, cargo) => {
            let missing: Vec<&str> = [("rustc", rustc.is_none()), ("cargo", cargo.is_none())]
                .iter()
                .filter_map(|(name, gone)| gone.then_some(*name))
                .collect();
            Finding::new(
                "rust toolchain",
                Level::Fail,
                format!("{} not found on PATH", missing.join(" and ")),
            )
            .fix("install Rust with rustup, then open a new terminal")
        }
    }
}

fn open_files() -> Finding {
    const CHECK: &str = "open-file limit";
    let Some(before) = os::nofile_limit() else {
        return Finding::new(CHECK, Level::Fail, "cannot read the open-file limit")
            .fix(nofile_fix());
    };
    let hard = before.hard.map_or("unlimited".to_string(), |h| h.to_string());
    let raised = match os::raise_nofile_limit() {
        Ok(raised) => raised,
        Err(e) => {
            return Finding::new(
                CHECK,
                Level::Fail,
                format!("soft {}, hard {hard}; {e}", before.soft),
            )
            .fix(nofile_fix())
        }
    };
    let detail = format!("soft {}, hard {hard}: the kit can raise it to {raised}", before.soft);
    if raised >= NOFILE_NEEDED {
        Finding::new(CHECK, Level::Ok, detail)
    } else {
        Finding::new(
            CHECK,
            Level::Fail,
            format!(
                "{detail}, below the {NOFILE_NEEDED} that bursts of 1000-2000 connections need"
            ),
        )
        .fix(nofile_fix())
    }
}

fn nofile_fix() -> String {
    match os::NAME {
        "macos" => "sudo launchctl limit maxfiles 65536 200000, then open a new terminal".into(),
        _ => format!(
            "open a new terminal (this shell's hard limit was lowered), or set `* hard nofile {NOFILE_NEEDED}` in \
             /etc/security/limits.conf and log in again"
        ),
    }
}

fn listen_backlog() -> Finding {
    const CHECK: &str = "listen backlog";
    let sysctl = if os::NAME == "macos" { "kern.ipc.somaxconn" } else { "net.core.somaxconn" };
    let fix = format!("sudo sysctl -w {sysctl}={BACKLOG}");
    match os::listen_backlog_cap() {
        Some(cap) if i64::from(cap) >= i64::from(BACKLOG) => {
            Finding::new(CHECK, Level::Ok, format!("the system allows {cap}; the servers ask for {BACKLOG}"))
        }
        Some(cap) => Finding::new(
            CHECK,
            Level::Warn,
            format!("the system caps it at {cap} (the servers ask for {BACKLOG}): bursts above {cap} may show retried connects as latency"),
        )
        .fix(fix),
        None => Finding::new(CHECK, Level::Warn, format!("cannot read {sysctl}")).fix(fix),
    }
}

fn readings() -> Finding {
    const CHECK: &str = "OS threads and RSS";
    let me = std::process::id();
    match (os::threads(me), os::rss_bytes(me)) {
        (Some(threads), Some(rss)) => Finding::new(
            CHECK,
            Level::Ok,
            format!("readable here: threads {threads}, RSS {:.1} MB", rss as f64 / 1e6),
        ),
        (threads, rss) => {
            let missing = [("threads", threads.is_none()), ("RSS", rss.is_none())]
                .iter()
                .filter_map(|(what, gone)| gone.then_some(*what))
                .collect::<Vec<_>>()
                .join(" and ");
            Finding::new(
                CHECK,
                Level::Fail,
                format!(
                    "cannot read {missing} on {}: the grade's thread checks would fail",
                    os::NAME
                ),
            )
            .fix("run the kit on Linux or macOS (on Windows: inside WSL 2)")
        }
    }
}

fn docker() -> Finding {
    const CHECK: &str = "docker";
    let fix = "optional (the container lessons): install Docker, or start Docker Desktop";
    let mut cmd = Command::new("docker");
    cmd.arg("info");
    match run_briefly(&mut cmd) {
        Ran::Done(true, _) => Finding::new(CHECK, Level::Ok, "the Docker daemon answers"),
        Ran::Done(false, _) => {
            Finding::new(CHECK, Level::Warn, "installed, but the daemon does not answer").fix(fix)
        }
        Ran::TimedOut => {
            Finding::new(CHECK, Level::Warn, format!("no answer within {COMMAND_TIMEOUT:?}"))
                .fix(fix)
        }
        Ran::Missing => Finding::new(CHECK, Level::Warn, "not installed").fix(fix),
    }
}

fn postgres() -> Finding {
    let Ok(url) = std::env::var(DATABASE_URL_ENV) else {
        return postgres_unset(pg_ctl().as_deref());
    };
    let Some((host, port)) = database_address(&url) else {
        return Finding::new(
            POSTGRES,
            Level::Warn,
            format!("{DATABASE_URL_ENV} is not a postgres:// URL"),
        )
        .fix(format!("export {DATABASE_URL_ENV}=postgres://USER:PASSWORD@HOST:PORT/DB"));
    };
    let answers = (host.as_str(), port).to_socket_addrs().ok().and_then(|mut addrs| {
        addrs.find(|a| TcpStream::connect_timeout(a, CONNECT_TIMEOUT).is_ok())
    });
    match answers {
        Some(addr) => {
            Finding::new(POSTGRES, Level::Ok, format!("{host}:{port} accepts connections ({addr})"))
        }
        None => Finding::new(POSTGRES, Level::Warn, format!("nothing answers at {host}:{port}"))
            .fix("start PostgreSQL (or the kit's container), or correct the URL"),
    }
}

/// The check's name.
const POSTGRES: &str = "postgresql";

/// No database configured: optional (said once, in the finding), and the
/// fix names the quickest way to one on this machine. Where PostgreSQL's
/// binaries are installed (`pg_ctl` found, at `pg_ctl`), that is the kit's
/// throwaway server, `.ci/postgres.sh`, whose path is relative to the
/// repository root.
pub fn postgres_unset(pg_ctl: Option<&Path>) -> Finding {
    let detail = format!("not configured ({DATABASE_URL_ENV} is not set); optional: the pool lesson and the PostgreSQL tests need it");
    let fix = match pg_ctl {
        Some(bin) => format!(
            "PostgreSQL is installed ({}): from the repository root, `source .ci/postgres.sh && start_throwaway_postgres` \
             starts a throwaway server and exports {DATABASE_URL_ENV} in this shell (it is removed when the shell exits)",
            bin.display()
        ),
        None => format!(
            "export {DATABASE_URL_ENV}=postgres://USER:PASSWORD@HOST:PORT/DB, or start one with \
             `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16` and \
             export {DATABASE_URL_ENV}=postgres://postgres@127.0.0.1:5432/postgres"
        ),
    };
    Finding::new(POSTGRES, Level::Warn, detail).fix(fix)
}

/// PostgreSQL's `pg_ctl`, where `.ci/postgres.sh` looks for it: under
/// /usr/lib/postgresql/*/bin (Debian, Ubuntu), then on PATH.
fn pg_ctl() -> Option<PathBuf> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten();
    let mut found: Vec<PathBuf> =
        versions.map(|v| v.path().join("bin/pg_ctl")).filter(|p| p.is_file()).collect();
    found.sort();
    found.into_iter().next().or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).map(|dir| dir.join("pg_ctl")).find(|p| p.is_file())
    })
}

/// HOST and PORT of `postgres://[USER[:PASSWORD]@]HOST[:PORT][/DB][?...]`.
pub fn database_address(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    // [::1]:5432: the port follows the bracket, not the last colon inside it.
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        },
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => POSTGRES_PORT,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

fn builds() -> Finding {
    const CHECK: &str = "builds";
    let Some(target) =
        std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
    else {
        return Finding::new(CHECK, Level::Warn, "cannot tell where this kit runs from");
    };
    // The race and the tests share the release profile; the servers'
    // examples (the grade's fixes) are built by `cargo test --release` only.
    let missing: Vec<String> = std::iter::once("kit")
        .chain(VARIANTS)
        .chain(["examples/fix-variants"])
        .filter(|bin| !target.join("release").join(bin).is_file())
        .map(|bin| format!("release/{bin}"))
        .collect();
    let dir = target.display();
    if missing.is_empty() {
        Finding::new(
            CHECK,
            Level::Ok,
            format!("the race's and the tests' builds (release) are compiled in {dir}"),
        )
    } else {
        Finding::new(CHECK, Level::Warn, format!("not compiled yet in {dir}: {}", missing.join(", ")))
            .fix("cargo test --release --no-run (builds the race's kit and servers too; before the workshop's network gets busy)")
    }
}

fn insta() -> Finding {
    const CHECK: &str = "cargo insta";
    let cargo = std::env::var_os("CARGO").map(PathBuf::from).unwrap_or_else(|| "cargo".into());
    match first_line(&cargo, &["insta", "--version"]) {
        Some(version) => {
            Finding::new(CHECK, Level::Ok, format!("{version}: `cargo insta review` works"))
        }
        None => Finding::new(CHECK, Level::Warn, "missing: `cargo insta review` will not work")
            .fix("install with `cargo install cargo-insta`"),
    }
}

/// The first line `program args` prints, if it runs and succeeds.
fn first_line(program: &Path, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    match run_briefly(&mut cmd) {
        Ran::Done(true, stdout) => stdout.lines().next().map(str::to_string),
        _ => None,
    }
}

/// How an outside command went.
enum Ran {
    /// Whether it succeeded, and its stdout.
    Done(bool, String),
    TimedOut,
    Missing,
}

/// Runs `cmd` for at most `COMMAND_TIMEOUT`: a Docker client whose daemon
/// hangs must not hang the doctor. Its stdout is read after it exits, which
/// is enough for version lines and `docker info` (far below a pipe's buffer).
fn run_briefly(cmd: &mut Command) -> Ran {
    let Ok(mut child) =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()
    else {
        return Ran::Missing;
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut stdout = String::new();
                if let Some(mut pipe) = child.stdout.take() {
                    let _ = pipe.read_to_string(&mut stdout);
                }
                return Ran::Done(status.success(), stdout);
            }
            Ok(None) if started.elapsed() < COMMAND_TIMEOUT => std::thread::sleep(POLL),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Ran::TimedOut;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_and_port_from_a_database_url() {
        let addr = |url| database_address(url);
        assert_eq!(
            addr("postgres://kit:secret@db.local:6543/kit"),
            Some(("db.local".into(), 6543))
        );
        assert_eq!(
            addr("postgresql://localhost/kit?sslmode=disable"),
            Some(("localhost".into(), POSTGRES_PORT))
        );
        assert_eq!(addr("postgres://u@[::1]:5433/x"), Some(("::1".into(), 5433)));
        assert_eq!(addr("mysql://localhost/kit"), None);
        assert_eq!(addr("postgres://u@:5432/x"), None);
        assert_eq!(addr("postgres://h:port/x"), None);
    }
}

//! What more than one of the root package's test files needs.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

static MEASURING: Mutex<()> = Mutex::new(());

/// Held by every test whose claims are rates or times (capacity, Little's
/// law, stress, the live demo): on 2 shared cores two of them at once make
/// each other's client fall behind (async-native "saturated" at 24/s while
/// a stress run opened 2,000 connections beside it). The other tests of
/// this binary still run alongside.
pub fn measuring_alone() -> MutexGuard<'static, ()> {
    MEASURING.lock().unwrap_or_else(|p| p.into_inner())
}

/// `kit ARGS` with both open-file limits lowered to `limit` before it
/// starts, as on a machine that was never tuned: kit cannot raise them back.
pub fn kit_with_nofile_limit(args: &[&str], limit: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kit"));
    cmd.args(args);
    // SAFETY: setrlimit is async-signal-safe and only reads the struct we
    // pass. Lowering both limits needs no privilege.
    unsafe {
        cmd.pre_exec(move || {
            let low =
                libc::rlimit { rlim_cur: limit as libc::rlim_t, rlim_max: limit as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &low) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

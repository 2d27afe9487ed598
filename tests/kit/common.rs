//! What more than one of the root package's test files needs.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
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

/// `dir/report.html`, checked: it opens offline (no script, nothing loaded
/// from the network, no XML prolog left inside it) and holds every `.svg`
/// the run wrote under `dir`, its subfolders included, inlined whole.
/// Returns the page and how many charts it inlined.
pub fn assert_report_html(dir: &Path) -> (String, usize) {
    let path = dir.join("report.html");
    let html = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"),
        "{html:.300}"
    );
    for banned in
        ["<script", "src=\"http", "href=\"http", "@import", "url(http", "<link", "<?xml", "<iframe"]
    {
        assert!(!html.contains(banned), "{}: {banned}", path.display());
    }
    let svgs = svg_files(dir);
    for svg in &svgs {
        let text = std::fs::read_to_string(svg).unwrap();
        let root = text[text.find("<svg").expect("an SVG root")..].trim_end();
        assert!(html.contains(root), "{} is not inlined in {}", svg.display(), path.display());
    }
    // One inline chart per file, none twice and none from elsewhere.
    assert_eq!(html.matches("<svg").count(), svgs.len(), "{}", path.display());
    (html, svgs.len())
}

fn svg_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(svg_files(&path));
        } else if path.extension().is_some_and(|e| e == "svg") {
            found.push(path);
        }
    }
    found
}

/// `kit ARGS`, which must succeed, its stdout read as JSON (`--json` commands).
pub fn kit_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kit")).args(args).output().expect("kit runs");
    assert!(out.status.success(), "kit {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("kit {args:?} printed no JSON ({e})"))
}

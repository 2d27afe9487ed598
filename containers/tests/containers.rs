//! The servers in real containers, measured from the host through a mapped
//! port: the slots survive the move, and a server killed mid-run is reported
//! promptly instead of hanging the measurement.
//!
//! No registry is reachable here, so each image is made locally: the server
//! binary and the few shared libraries it links, imported with
//! `docker import`. testcontainers then runs it like any other image.
//! This crate is CI-only (`cargo test -p container-tests`, where Docker
//! answers); a machine without Docker fails loudly rather than skipping.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use kit_measure::burst::burst;
use kit_measure::expect::{assert_ok, Expect};
use kit_measure::harness::Remote;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

const PORT: u16 = 8080;
const TAG: &str = "test";
const IO_MS: u64 = 100;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kit's target folder, with the server binaries built in it.
fn binaries() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        assert!(
            Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success()),
            "Docker does not answer: the container tests need a Docker daemon"
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("containers/ sits in the repo");
        run(Command::new(env!("CARGO")).current_dir(root).args(["build", "-p", "kit", "--bins"]));
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
        target.join("debug")
    })
}

/// `kit-<variant>:test`, imported once per test run: tests run side by
/// side, and two of them rebuilding the same image at once would tar a
/// half-written file system.
fn image(variant: &str) -> GenericImage {
    static IMPORTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut imported = IMPORTED.lock().unwrap_or_else(|p| p.into_inner());
    if imported.insert(variant.to_string()) {
        import(variant);
    }
    GenericImage::new(format!("kit-{variant}"), TAG.to_string())
        .with_exposed_port(PORT.tcp())
        .with_wait_for(WaitFor::message_on_stdout("listening on"))
}

/// Imports `kit-<variant>:test`: the binary and its shared libraries, as
/// `ldd` lists them, in an otherwise empty file system.
fn import(variant: &str) {
    let bin = binaries().join(variant);
    let rootfs = binaries().join("containers").join(variant);
    let _ = std::fs::remove_dir_all(&rootfs);
    copy_into(&rootfs, &bin, Path::new("/bin").join(variant).as_path());
    for lib in run(Command::new("ldd").arg(&bin)).lines().filter_map(library_path) {
        copy_into(&rootfs, Path::new(lib), Path::new(lib));
    }
    let entrypoint = format!(r#"ENTRYPOINT ["/bin/{variant}", "--host", "0.0.0.0", "--port", "{PORT}"]"#);
    let tar = Command::new("tar").arg("-C").arg(&rootfs).args(["-c", "."]).output().expect("tar runs");
    let name = format!("kit-{variant}");
    let mut importer = Command::new("docker")
        .args(["import", "--change", &entrypoint, "-", &format!("{name}:{TAG}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker import runs");
    std::io::Write::write_all(&mut importer.stdin.take().expect("piped stdin"), &tar.stdout).expect("image written");
    assert!(importer.wait().expect("docker import ends").success(), "docker import failed for {name}");
}

/// `ldd` lines look like `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`
/// or `/lib64/ld-linux-x86-64.so.2 (0x...)`; linux-vdso has no file.
fn library_path(line: &str) -> Option<&str> {
    let path = line.split("=>").last()?.split_whitespace().next()?;
    path.starts_with('/').then_some(path)
}

fn copy_into(rootfs: &Path, from: &Path, to: &Path) {
    let dest = rootfs.join(to.strip_prefix("/").unwrap_or(to));
    std::fs::create_dir_all(dest.parent().expect("a file has a parent")).expect("rootfs folder");
    std::fs::copy(from, &dest).unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), dest.display()));
}

fn start(variant: &str, args: &[&str]) -> (Container<GenericImage>, Remote) {
    let cmd: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let container = image(variant).with_cmd(cmd).start().unwrap_or_else(|e| panic!("{variant} container: {e}"));
    let port = container.get_host_port_ipv4(PORT.tcp()).expect("the port is mapped");
    let remote = Remote::new(&format!("http://127.0.0.1:{port}")).expect("a local URL");
    (container, remote)
}

#[test]
fn async_native_in_a_container_overlaps_100_requests() {
    let (_container, server) = start("async-native", &["--io-ms", "100"]);
    let b = burst(&server, "/parallel", 100, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    assert_ok(Expect::new(None, Duration::from_millis(IO_MS)).all(&b));
}

#[test]
fn sync_blocking_in_a_container_keeps_its_4_slots() {
    let (_container, server) = start("sync-blocking", &["--io-ms", "100"]);
    let b = burst(&server, "/parallel", 20, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    // 20 requests of 2 x io on 4 slots: 5 rounds.
    assert_ok(Expect::new(Some(4), Duration::from_millis(2 * IO_MS)).all(&b));
}

#[test]
fn a_container_killed_mid_burst_is_reported_promptly() {
    let (container, server) = start("async-native", &["--io-ms", "3000"]);
    let id = container.id().to_string();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        run(Command::new("docker").args(["kill", &id]));
    });
    let started = Instant::now();
    let result = burst(&server, "/parallel", 50, Duration::from_secs(60));
    killer.join().expect("the killer thread");
    let took = started.elapsed();
    let error = result.expect_err("a burst against a killed server cannot succeed").to_string();
    assert!(took < Duration::from_secs(15), "the burst hung for {took:?} after the server died");
    assert!(error.contains("stopped answering"), "unclear error: {error}");
}

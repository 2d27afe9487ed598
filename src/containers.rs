//! The servers as container images, made on this machine with no registry:
//! each image is one binary plus the shared libraries it links (as `ldd`
//! lists them), imported with `docker import` as `kit-<binary>:<tag>`.
//!
//! One place for `kit images`, `kit up --containers` and the container tests
//! (`crates/container-tests/`), so the three cannot drift apart. Linux only: the
//! image holds this machine's own binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[cfg(feature = "containers")]
use testcontainers::{
    bollard::models::HostConfig,
    core::{IntoContainerPort, WaitFor},
    ContainerRequest, GenericImage, ImageExt,
};

/// Every binary that gets an image. Adding a binary here is the whole
/// change for `kit images` (it is built with `-p kit-servers --bin NAME`);
/// compose.yaml names its images by hand.
pub const IMAGES: &[&str] =
    &["sync-blocking", "async-trap", "blocking-wrapper", "async-native", "upstream"];

/// The port every server listens on inside its container.
pub const PORT: u16 = 8080;

/// The tag `kit images` and `kit up --containers` use, and compose.yaml expects.
pub const DEFAULT_TAG: &str = "local";

/// The label on every container `kit up --containers` starts; its value is
/// kit's pid, so a test (or a person) can find one run's containers.
pub const RUN_LABEL: &str = "io.async-await-kit.run";

/// The label with the machine's name beside [`RUN_LABEL`]: a pid means
/// something only on the machine (or in the container) that ran kit, and one
/// Docker daemon may serve several.
pub const HOST_LABEL: &str = "io.async-await-kit.host";

/// This machine's name, for [`HOST_LABEL`].
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".into()
    }
}

/// Removes the containers an earlier `kit up --containers` on this machine
/// left behind because it could not clean up (SIGKILL, a closed terminal
/// before kit handled SIGHUP): those whose kit is no longer alive. Returns
/// how many it removed.
pub fn remove_orphans() -> usize {
    let format = format!(r#"{{{{.ID}}}} {{{{.Label "{RUN_LABEL}"}}}}"#);
    let host = format!("label={HOST_LABEL}={}", hostname());
    let Ok(out) =
        Command::new("docker").args(["ps", "-a", "--filter", &host, "--format", &format]).output()
    else {
        return 0;
    };
    let orphans: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, pid)| pid.parse::<u32>().is_ok_and(|pid| !running(pid)))
        .map(|(id, _)| id.to_string())
        .collect();
    let removed = |id: &String| {
        Command::new("docker").args(["rm", "-f", id]).output().is_ok_and(|o| o.status.success())
    };
    orphans.iter().filter(|id| removed(id)).count()
}

/// Alive and not a zombie: a killed kit whose parent has not reaped it yet
/// has no cleaning up left to do.
/// Without a reading (`None`) a live pid counts as running, so its
/// containers are kept: removing a live run's containers would be worse.
fn running(pid: u32) -> bool {
    kit_serve::os::is_alive(pid) && !kit_serve::os::is_zombie(pid).unwrap_or(false)
}

/// `kit-<binary>:<tag>`.
pub fn image_name(binary: &str, tag: &str) -> String {
    format!("kit-{binary}:{tag}")
}

/// `Ok` when `docker info` answers; otherwise one line on why not.
/// The docker CLI honours `DOCKER_HOST`, as testcontainers does.
pub fn docker_answers() -> Result<(), String> {
    let out = Command::new("docker")
        .arg("info")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `docker info` ({e})"))?;
    if out.status.success() {
        return Ok(());
    }
    let why = String::from_utf8_lossy(&out.stderr);
    // Docker's own explanation is several lines; its last one is the reason.
    let last = why.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim();
    Err(format!("`docker info` failed: {last}"))
}

/// The image label that says which build of the binary an image holds.
const BUILT_FROM: &str = "io.async-await-kit.built-from";

/// Imports `binary` (a file on this machine) as `kit-<name>:<tag>`, its
/// entrypoint listening on 0.0.0.0:[`PORT`]; a container's command adds flags.
///
/// Skipped when the image already holds this very build (same size and
/// modification time), so a second `kit up --containers` starts at once.
/// A replaced image is removed, so repeated runs do not pile up old images.
/// `Ok(false)`: the image was already up to date.
pub fn import(binary: &Path, name: &str, tag: &str) -> Result<bool, String> {
    let image = image_name(name, tag);
    let built_from = fingerprint(binary)?;
    let label_format = format!(r#"{{{{index .Config.Labels "{BUILT_FROM}"}}}} {{{{.Id}}}}"#);
    let before = Command::new("docker")
        .args(["image", "inspect", "-f", &label_format, &image])
        .output()
        .ok();
    let before = before
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let old_id = match before.as_deref().and_then(|b| b.rsplit_once(' ')) {
        Some((label, _)) if label == built_from => return Ok(false),
        Some((_, id)) => Some(id.to_string()),
        None => None,
    };
    // One folder per process and image: two processes (a test run and
    // `kit images`) importing at once must not tar each other's files.
    let rootfs = std::env::temp_dir().join(format!("kit-image-{}-{name}", std::process::id()));
    let result = import_from(&rootfs, binary, name, &image, &built_from);
    let _ = std::fs::remove_dir_all(&rootfs);
    if let (Ok(()), Some(old)) = (&result, old_id) {
        // Fails harmlessly while a container still uses the old image.
        let _ = Command::new("docker")
            .args(["image", "rm", &old])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    result.map(|()| true)
}

/// Which build a binary is: its size and modification time.
fn fingerprint(binary: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(binary).map_err(|e| format!("{}: {e}", binary.display()))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    Ok(format!("{}-{}", meta.len(), modified.as_nanos()))
}

fn import_from(
    rootfs: &Path,
    binary: &Path,
    name: &str,
    image: &str,
    built_from: &str,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(rootfs);
    copy_into(rootfs, binary, &Path::new("/bin").join(name))?;
    for lib in libraries(binary)? {
        copy_into(rootfs, &lib, &lib)?;
    }
    let entrypoint =
        format!(r#"ENTRYPOINT ["/bin/{name}", "--host", "0.0.0.0", "--port", "{PORT}"]"#);
    let label = format!("LABEL {BUILT_FROM}={built_from}");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["-c", "."])
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !tar.status.success() {
        return Err(format!(
            "tar failed for {name}: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        ));
    }
    let mut importer = Command::new("docker")
        .args(["import", "--change", &entrypoint, "--change", &label, "-", image])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run docker import: {e}"))?;
    let written =
        std::io::Write::write_all(&mut importer.stdin.take().expect("stdin is piped"), &tar.stdout);
    let out = importer.wait_with_output().map_err(|e| format!("docker import: {e}"))?;
    match (written, out.status.success()) {
        (Ok(()), true) => Ok(()),
        _ => Err(format!(
            "docker import failed for {image}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// The shared libraries `binary` links, from `ldd`.
fn libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let out =
        Command::new("ldd").arg(binary).output().map_err(|e| format!("cannot run ldd: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ldd {} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(library_path)
        .map(PathBuf::from)
        .collect())
}

/// `ldd` lines look like `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`
/// or `/lib64/ld-linux-x86-64.so.2 (0x...)`; linux-vdso has no file.
fn library_path(line: &str) -> Option<&str> {
    let path = line.split("=>").last()?.split_whitespace().next()?;
    path.starts_with('/').then_some(path)
}

fn copy_into(rootfs: &Path, from: &Path, to: &Path) -> Result<(), String> {
    let dest = rootfs.join(to.strip_prefix("/").unwrap_or(to));
    let parent = dest.parent().expect("a file in the rootfs has a parent");
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    std::fs::copy(from, &dest)
        .map(drop)
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), dest.display()))
}

/// What a container may use: `cpus` cores (fractions allowed) and `memory` bytes.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub cpus: f64,
    pub memory: u64,
}

/// A container request for `kit-<name>:<tag>`, ready when the server says
/// `listening on`, within `limits`. Start it with
/// `testcontainers::runners::SyncRunner::start`; the container is removed
/// when the returned `Container` is dropped (also on a panic).
#[cfg(feature = "containers")]
pub fn request(
    name: &str,
    tag: &str,
    limits: Limits,
    args: &[String],
) -> ContainerRequest<GenericImage> {
    let nano_cpus = (limits.cpus * 1e9).round() as i64;
    let memory = limits.memory as i64;
    GenericImage::new(format!("kit-{name}"), tag.to_string())
        .with_exposed_port(PORT.tcp())
        .with_wait_for(WaitFor::message_on_stdout("listening on"))
        .with_cmd(args.to_vec())
        // Docker's own bridge, named: it always exists (nothing to create or
        // leave behind), and a named network is one whose address
        // `get_bridge_ip_address` can read (the upstream's, for the servers).
        .with_network("bridge")
        .with_host_config_modifier(move |host: &mut HostConfig| {
            host.nano_cpus = Some(nano_cpus);
            host.memory = Some(memory);
            // No swap beyond the limit: the limit is what the server gets.
            host.memory_swap = Some(memory);
        })
}

/// Parses a memory size as Docker writes it: `256m`, `1g`, `512k`, or bytes.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t.as_str(), ""),
    };
    let scale: u64 = match unit {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return Err(format!("'{text}' is not a size: write it as 256m, 1g or 512k")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size: write it as 256m, 1g or 512k"))?;
    let bytes = n.checked_mul(scale).ok_or_else(|| format!("'{text}' is too large"))?;
    // Docker refuses less than 6 MiB; say so before it does, in our words.
    if bytes < 6 << 20 {
        return Err(format!("'{text}' is below Docker's minimum of 6m"));
    }
    Ok(bytes)
}

/// Parses a CPU limit: a positive number of cores, fractions allowed, at
/// most this machine's cores (Docker refuses more).
pub fn parse_cpus(text: &str) -> Result<f64, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    match text.trim().parse::<f64>() {
        Ok(c) if (0.01..=cores).contains(&c) => Ok(c),
        Ok(_) => {
            Err(format!("'{text}' cores: give between 0.01 and {cores} (this machine's cores)"))
        }
        Err(_) => Err(format!("'{text}' is not a number of cores: write it as 1 or 0.5")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_variant_has_an_image() {
        for v in kit_measure::slots::VARIANTS {
            assert!(IMAGES.contains(&v), "{v} has no image");
        }
    }

    #[test]
    fn memory_sizes_parse_as_docker_writes_them() {
        assert_eq!(parse_memory("256m"), Ok(256 << 20));
        assert_eq!(parse_memory("1G"), Ok(1 << 30));
        assert_eq!(parse_memory("8mb"), Ok(8 << 20));
        assert_eq!(parse_memory("10485760"), Ok(10 << 20));
        for bad in ["", "m", "12x", "-5m", "1.5g", "5m", "99999999999999g"] {
            assert!(parse_memory(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn cpu_limits_are_positive_and_at_most_the_cores() {
        assert_eq!(parse_cpus("1"), Ok(1.0));
        assert_eq!(parse_cpus("0.5"), Ok(0.5));
        for bad in ["0", "-1", "lots", "100000"] {
            assert!(parse_cpus(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn ldd_lines_give_library_paths() {
        assert_eq!(
            library_path("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)"),
            Some("/lib/x86_64-linux-gnu/libc.so.6")
        );
        assert_eq!(
            library_path("\t/lib64/ld-linux-x86-64.so.2 (0x00007f)"),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert_eq!(library_path("\tlinux-vdso.so.1 (0x00007ffd)"), None);
    }
}

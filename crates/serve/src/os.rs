//! The one place that asks the operating system directly: thread counts,
//! resident memory, open descriptors, process liveness, children, the listen
//! backlog cap and the open-file limit.
//!
//! The kit runs on Linux (verified by the tests) and macOS (supported by
//! construction: nothing here can be compiled for macOS on the kit's CI, so
//! the macOS half is a handful of libc calls, each checked against the
//! libc crate's Apple bindings). Linux answers through /proc, macOS through
//! libproc and sysctl. On any other unix a reading is `None`.
//!
//! A reading is an `Option` all the way to the user: a missing number is
//! shown as missing (`null` in /metrics) and a check that needs it fails
//! closed. It never becomes a 0 that passes a limit by accident.

/// The operating system the kit was built for: "linux", "macos", ...
pub const NAME: &str = std::env::consts::OS;

/// How many OS threads the process `pid` has right now.
pub fn threads(pid: u32) -> Option<u64> {
    imp::threads(pid)
}

/// The resident set size of `pid` right now, in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    imp::rss_bytes(pid)
}

/// How many file descriptors this process has open right now (sockets,
/// files, pipes, the runtime's epoll/kqueue...): a server that leaks one per
/// request shows it here long before it hits its open-file limit.
///
/// Read by listing /dev/fd, which Linux (a link to /proc/self/fd) and macOS
/// (fdescfs) both give to the process that lists it. The listing opens one
/// descriptor of its own, which it also lists: it is subtracted. `None`
/// when the listing fails (at the open-file limit, EMFILE, it cannot open):
/// no reading, never a guess.
pub fn open_fds_self() -> Option<u64> {
    let listed = std::fs::read_dir("/dev/fd").ok()?.filter(Result::is_ok).count();
    u64::try_from(listed).ok()?.checked_sub(1)
}

/// The highest resident set size this process has had, in bytes. The OS
/// tells a process its own peak (getrusage), not another one's: a peak of
/// another process is sampled from outside (kit-measure's `process_watch`).
pub fn peak_rss_bytes_self() -> Option<u64> {
    // SAFETY: getrusage only writes the struct we pass; an all-zero rusage
    // is a valid value of this plain C struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return None;
        }
        usage
    };
    let maxrss = u64::try_from(usage.ru_maxrss).ok()?;
    imp::maxrss_to_bytes(maxrss)
}

/// True while a process with this pid exists, as `kill(pid, 0)` sees it.
///
/// A zombie (exited, not yet reaped) still counts as alive here: only its
/// parent can reap it. The harness pairs this with `Child::try_wait` on its
/// own children, which reaps them; a process whose parent died is reaped by
/// init.
pub fn is_alive(pid: u32) -> bool {
    // kill(0, ..) would mean our process group, and a pid above i32::MAX a
    // negative pid_t (another process group): neither is one process.
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    // EPERM: it exists, it is just not ours to signal.
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The pids of the direct children of `pid`.
pub fn children(pid: u32) -> Option<Vec<u32>> {
    imp::children(pid)
}

/// The short command name of `pid` (what `ps -o comm` shows, without a path).
pub fn name(pid: u32) -> Option<String> {
    imp::name(pid)
}

/// Whether `pid` has exited and waits for its parent to reap it; `None`
/// where this system gives no reading (macOS here: not read yet).
pub fn is_zombie(pid: u32) -> Option<bool> {
    imp::is_zombie(pid)
}

/// The largest listen backlog the system grants (`net.core.somaxconn` on
/// Linux, `kern.ipc.somaxconn` on macOS): a bigger `listen()` is cut to it.
pub fn listen_backlog_cap() -> Option<u32> {
    imp::listen_backlog_cap()
}

/// The kernel's count of connections it refused at a full listen queue, since
/// boot, for the whole machine (Linux: `ListenOverflows`, `ListenDrops`,
/// `TCPReqQFullDoCookies` and `TCPReqQFullDrop` in /proc/net/netstat). A load
/// test reads it before and after: a rise means some connects were dropped
/// or delayed by the accept backlog, which a client sees only as a connect
/// retried after 1 s (or 3 s) — latency, not an error. `None` where the
/// system gives no such counter (macOS keeps it in a struct the libc crate
/// does not bind), and the report then says so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenQueueDrops {
    /// Connections that completed the handshake but found the accept queue full.
    pub overflows: u64,
    /// Every connection dropped at a listening socket (overflows included).
    pub drops: u64,
    /// SYNs answered with a cookie because the SYN queue was full (not dropped).
    pub syn_cookies: u64,
    /// SYNs dropped because the SYN queue was full and cookies were off.
    pub syn_drops: u64,
}

impl ListenQueueDrops {
    /// What happened between two readings.
    pub fn since(&self, before: &ListenQueueDrops) -> ListenQueueDrops {
        ListenQueueDrops {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
            syn_cookies: self.syn_cookies.saturating_sub(before.syn_cookies),
            syn_drops: self.syn_drops.saturating_sub(before.syn_drops),
        }
    }
}

pub fn listen_queue_drops() -> Option<ListenQueueDrops> {
    imp::listen_queue_drops()
}

/// The open-file limit of this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NofileLimit {
    /// What applies now (`u64::MAX` if unlimited).
    pub soft: u64,
    /// How far the soft limit may be raised without privileges; `None`:
    /// unlimited as far as getrlimit says (macOS then still caps it at
    /// `kern.maxfilesperproc`, which `raise_nofile_limit` respects).
    pub hard: Option<u64>,
}

pub fn nofile_limit() -> Option<NofileLimit> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
    let unlimited = |v: u64| v == rlimit::INFINITY;
    Some(NofileLimit {
        soft: if unlimited(soft) { u64::MAX } else { soft },
        hard: (!unlimited(hard)).then_some(hard),
    })
}

/// Raises the soft open-file limit as far as the system really allows and
/// returns the new soft limit. rlimit's `increase_nofile_limit` knows the
/// quirk that matters: on macOS getrlimit may say "unlimited" while
/// setrlimit refuses anything above `kern.maxfilesperproc`, so it clamps.
pub fn raise_nofile_limit() -> Result<u64, String> {
    rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("cannot raise the open-file limit: {e}"))
}

/// Waits until `fd` is readable (for a listener: a connection is waiting to
/// be accepted) or `timeout` passes; true if readable. poll(2) is POSIX and
/// has the same shape on Linux and macOS.
pub fn wait_readable(fd: &impl std::os::fd::AsRawFd, timeout: std::time::Duration) -> bool {
    let mut pollfd = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, and its count, 1.
    unsafe { libc::poll(&mut pollfd, 1, millis) > 0 }
}

#[cfg(target_os = "linux")]
mod imp {
    /// One `Name:  value` field of /proc/PID/status, as a number.
    fn status_field(pid: u32, name: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?;
        line.split_whitespace().next()?.parse().ok()
    }

    pub fn threads(pid: u32) -> Option<u64> {
        status_field(pid, "Threads")
    }

    pub fn rss_bytes(pid: u32) -> Option<u64> {
        // /proc says kB (KiB).
        status_field(pid, "VmRSS").map(|kib| kib * 1024)
    }

    /// Linux's ru_maxrss is in kilobytes (KiB).
    pub fn maxrss_to_bytes(maxrss: u64) -> Option<u64> {
        Some(maxrss * 1024)
    }

    /// Each thread of `pid` lists the children it started.
    pub fn children(pid: u32) -> Option<Vec<u32>> {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        let mut pids = Vec::new();
        for task in tasks.flatten() {
            // A thread that ended since the listing has no children to give.
            if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                pids.extend(list.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
        Some(pids)
    }

    pub fn name(pid: u32) -> Option<String> {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        Some(comm.trim_end().to_string())
    }

    pub fn is_zombie(pid: u32) -> Option<bool> {
        // The state is the first field after the name, which ends at the last ')'.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (_, rest) = stat.rsplit_once(')')?;
        Some(rest.split_whitespace().next()? == "Z")
    }

    pub fn listen_backlog_cap() -> Option<u32> {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?.trim().parse().ok()
    }

    /// /proc/net/netstat is pairs of lines, `TcpExt: Name1 Name2 ...` then
    /// `TcpExt: 1 2 ...`: the counters are found by name, not position.
    pub fn listen_queue_drops() -> Option<super::ListenQueueDrops> {
        let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
        let mut tcp = text.lines().filter_map(|l| l.strip_prefix("TcpExt:"));
        let (names, values) = (tcp.next()?, tcp.next()?);
        let field = |name: &str| {
            let i = names.split_whitespace().position(|n| n == name)?;
            values.split_whitespace().nth(i)?.parse::<u64>().ok()
        };
        Some(super::ListenQueueDrops {
            overflows: field("ListenOverflows")?,
            drops: field("ListenDrops")?,
            syn_cookies: field("TCPReqQFullDoCookies").unwrap_or(0),
            syn_drops: field("TCPReqQFullDrop").unwrap_or(0),
        })
    }
}

#[cfg(target_os = "macos")]
mod imp {
    use std::ffi::c_void;

    /// libproc's task info: thread count and resident size in one call.
    fn task_info(pid: u32) -> Option<libc::proc_taskinfo> {
        let pid = libc::c_int::try_from(pid).ok()?;
        let size = libc::c_int::try_from(size_of::<libc::proc_taskinfo>()).ok()?;
        // SAFETY: proc_pidinfo writes at most `size` bytes into `info`; an
        // all-zero proc_taskinfo (integers only) is a valid value.
        unsafe {
            let mut info: libc::proc_taskinfo = std::mem::zeroed();
            let written = libc::proc_pidinfo(
                pid,
                libc::PROC_PIDTASKINFO,
                0,
                &mut info as *mut _ as *mut c_void,
                size,
            );
            // It returns the bytes written: anything short is a failure.
            (written == size).then_some(info)
        }
    }

    pub fn threads(pid: u32) -> Option<u64> {
        task_info(pid).and_then(|t| u64::try_from(t.pti_threadnum).ok())
    }

    pub fn rss_bytes(pid: u32) -> Option<u64> {
        task_info(pid).map(|t| t.pti_resident_size)
    }

    /// macOS's ru_maxrss is in bytes already.
    pub fn maxrss_to_bytes(maxrss: u64) -> Option<u64> {
        Some(maxrss)
    }

    /// Room for more children than the kit ever starts.
    const MAX_CHILDREN: usize = 1024;

    pub fn children(pid: u32) -> Option<Vec<u32>> {
        let pid = libc::pid_t::try_from(pid).ok()?;
        let mut pids = vec![0 as libc::pid_t; MAX_CHILDREN];
        let bytes = libc::c_int::try_from(pids.len() * size_of::<libc::pid_t>()).ok()?;
        // SAFETY: proc_listchildpids writes at most `bytes` bytes into `pids`.
        // Unlike proc_listpids, it returns a count of pids, not of bytes.
        let count =
            unsafe { libc::proc_listchildpids(pid, pids.as_mut_ptr() as *mut c_void, bytes) };
        let count = usize::try_from(count).ok()?.min(pids.len());
        Some(pids[..count].iter().filter_map(|p| u32::try_from(*p).ok()).collect())
    }

    pub fn name(pid: u32) -> Option<String> {
        let pid = libc::c_int::try_from(pid).ok()?;
        let mut buf = [0u8; 256];
        // SAFETY: proc_name writes at most buf.len() bytes and returns the length.
        let len =
            unsafe { libc::proc_name(pid, buf.as_mut_ptr() as *mut c_void, buf.len() as u32) };
        let len = usize::try_from(len).ok().filter(|l| *l > 0)?.min(buf.len());
        Some(String::from_utf8_lossy(&buf[..len]).into_owned())
    }

    pub fn is_zombie(_: u32) -> Option<bool> {
        None
    }

    pub fn listen_backlog_cap() -> Option<u32> {
        let mut value: libc::c_int = 0;
        let mut size = size_of::<libc::c_int>();
        // SAFETY: the name is NUL-terminated; sysctlbyname writes at most
        // `size` bytes into `value` and nothing when `newp` is null.
        let rc = unsafe {
            libc::sysctlbyname(
                c"kern.ipc.somaxconn".as_ptr(),
                &mut value as *mut _ as *mut c_void,
                &mut size,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            return None;
        }
        u32::try_from(value).ok()
    }

    /// macOS counts listen-queue drops in `net.inet.tcp.stats` (a struct
    /// tcpstat the libc crate does not bind): no verified reading.
    pub fn listen_queue_drops() -> Option<super::ListenQueueDrops> {
        None
    }
}

/// Any other unix: the kit has no verified way to read these, so it says so.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod imp {
    pub fn threads(_: u32) -> Option<u64> {
        None
    }
    pub fn rss_bytes(_: u32) -> Option<u64> {
        None
    }
    /// ru_maxrss is in kilobytes on some systems and bytes on others.
    pub fn maxrss_to_bytes(_: u64) -> Option<u64> {
        None
    }
    pub fn children(_: u32) -> Option<Vec<u32>> {
        None
    }
    pub fn name(_: u32) -> Option<String> {
        None
    }
    pub fn is_zombie(_: u32) -> Option<bool> {
        None
    }
    pub fn listen_backlog_cap() -> Option<u32> {
        None
    }
    pub fn listen_queue_drops() -> Option<super::ListenQueueDrops> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    /// Far above what a test process can use: a reading above it is garbage.
    const IMPLAUSIBLE_BYTES: u64 = 1 << 40;

    /// A listener that never accepts, with a backlog of 1: the next connects
    /// find its queue full, and the kernel's counter must say so.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_listen_queue_shows_in_the_drop_counters() {
        use socket2::{Domain, Socket, Type};
        let before = listen_queue_drops().expect("/proc/net/netstat");
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
        socket.listen(1).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        let held: Vec<_> = (0..6)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300))
                    .ok()
            })
            .collect();
        let after = listen_queue_drops().expect("/proc/net/netstat");
        let rose = after.since(&before);
        assert!(
            rose.overflows >= 1 && rose.drops >= rose.overflows,
            "{rose:?} after {} connects held",
            held.len()
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn readings_of_this_process_are_plausible() {
        let me = std::process::id();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let extra = std::thread::spawn(move || rx.recv());
        // This thread and the one above, at least.
        let threads = threads(me).expect("threads");
        assert!((2..100_000).contains(&threads), "{threads} threads");
        drop(tx);
        let _ = extra.join();
        let rss = rss_bytes(me).expect("rss");
        let peak = peak_rss_bytes_self().expect("peak rss");
        assert!((MIB..IMPLAUSIBLE_BYTES).contains(&rss), "rss {rss}");
        // Read after rss, so it has seen at least that much (both are in
        // pages; /proc's per-thread counters may lag by a few of them).
        assert!(peak + MIB >= rss && peak < IMPLAUSIBLE_BYTES, "peak {peak}, rss {rss}");
        let cap = listen_backlog_cap().expect("somaxconn");
        assert!(cap >= 1, "somaxconn {cap}");
        assert_eq!(NAME, "linux");
    }

    /// Exact, not a band: nothing else in this test opens or closes a
    /// descriptor between the readings (the test harness's other threads
    /// may, so a mismatch is retried, and the lasting answer must be exact).
    #[cfg(target_os = "linux")]
    #[test]
    fn open_descriptors_count_each_one_opened_and_closed() {
        let held = 5;
        let mut tries = 0;
        loop {
            let before = open_fds_self().expect("/dev/fd");
            let files: Vec<_> =
                (0..held).map(|_| std::fs::File::open("/dev/null").expect("/dev/null")).collect();
            let during = open_fds_self().expect("/dev/fd");
            drop(files);
            let after = open_fds_self().expect("/dev/fd");
            // Counted another way, fd by fd: the listing's own descriptor
            // must not be among them.
            let probed = (0..4096)
                // SAFETY: F_GETFD only reads the descriptor's flags.
                .filter(|fd| unsafe { libc::fcntl(*fd, libc::F_GETFD) } != -1)
                .count() as u64;
            let seen = (during, after, probed);
            if seen == (before + held, before, before) || tries == 20 {
                assert_eq!(seen, (before + held, before, before), "{before} before");
                assert!(before >= 3, "stdin, stdout and stderr at least: {before}");
                break;
            }
            tries += 1;
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_child_is_listed_and_named() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("sleep runs");
        let pid = child.id();
        let listed = children(std::process::id()).expect("children");
        // Until its exec completes, a new child still carries the name of the
        // thread that forked it ("os::tests::a_ch" was seen): wait for it.
        let asked = std::time::Instant::now();
        let mut seen = name(pid);
        while seen.as_deref() != Some("sleep")
            && asked.elapsed() < std::time::Duration::from_secs(2)
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
            seen = name(pid);
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(listed.contains(&pid), "{pid} not in {listed:?}");
        assert_eq!(seen.as_deref(), Some("sleep"));
    }

    #[test]
    fn a_missing_process_has_no_readings() {
        // Above the largest pid Linux (4194304) and macOS (99999) hand out.
        let nobody = 5_000_000;
        assert_eq!((threads(nobody), rss_bytes(nobody), name(nobody)), (None, None, None));
        assert!(!is_alive(nobody));
    }

    #[test]
    fn alive_until_reaped() {
        assert!(is_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().expect("true runs");
        let pid = child.id();
        // Exited but not reaped: a zombie, where this system can tell.
        let exited = std::time::Instant::now();
        while is_zombie(pid) == Some(false) && exited.elapsed() < std::time::Duration::from_secs(2)
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if cfg!(target_os = "linux") {
            assert_eq!(is_zombie(pid), Some(true), "an exited, unreaped child");
        }
        child.wait().expect("true exits");
        assert!(!is_alive(pid), "a reaped child is gone");
        assert!(!is_alive(0) && !is_alive(u32::MAX), "a process group is not a process");
    }

    #[test]
    fn the_open_file_limit_can_be_raised_to_what_it_reports() {
        let before = nofile_limit().expect("getrlimit");
        let raised = raise_nofile_limit().expect("raise");
        let after = nofile_limit().expect("getrlimit");
        assert_eq!(after.soft, raised);
        assert!(raised >= before.soft.min(before.hard.unwrap_or(u64::MAX)));
        if let Some(hard) = after.hard {
            assert!(raised <= hard);
        }
    }
}

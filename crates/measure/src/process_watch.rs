//! Watching a server from outside: a thread that samples another process's
//! thread count and RSS while it works, so the server's own code cannot
//! under-report them. The measuring side's tool (the burst and the probes
//! use it); the server reports its own readings in /metrics
//! (`kit_serve::metrics::ProcessStats`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kit_serve::metrics::ProcessStats;

/// How often a [`ProcessWatcher`] samples: often enough to catch a burst's
/// peak, which lasts as long as one wait (tens of ms at the least).
const WATCH_EVERY: Duration = Duration::from_millis(5);

/// The highest readings a [`ProcessWatcher`] saw; `None` where no sample
/// had a reading.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Peaks {
    pub threads: Option<u64>,
    pub rss_bytes: Option<u64>,
}

/// Samples a process's thread count and RSS from outside while it works, so
/// the server's own code cannot under-report them.
pub struct ProcessWatcher {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Peaks>,
}

impl ProcessWatcher {
    pub fn start(pid: u32) -> ProcessWatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut peaks = Peaks::default();
            loop {
                let now = ProcessStats::of_pid(pid);
                // Option's order puts None below any Some: a missing sample
                // never hides a reading, and no readings stay None.
                peaks.threads = peaks.threads.max(now.threads);
                peaks.rss_bytes = peaks.rss_bytes.max(now.rss_bytes);
                if flag.load(Ordering::Relaxed) {
                    return peaks;
                }
                std::thread::sleep(WATCH_EVERY);
            }
        });
        ProcessWatcher { stop, handle }
    }

    /// Takes one last sample and returns the peaks.
    pub fn stop(self) -> Peaks {
        self.stop.store(true, Ordering::Relaxed);
        // The sampling loop cannot panic; if it did, nothing was measured.
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_watcher_sees_threads_that_came_and_went() {
        const EXTRA: u64 = 8;
        let watcher = ProcessWatcher::start(std::process::id());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(Mutex::new(rx));
        let extra: Vec<_> = (0..EXTRA)
            .map(|_| {
                let rx = Arc::clone(&rx);
                std::thread::spawn(move || rx.lock().unwrap_or_else(|p| p.into_inner()).recv())
            })
            .collect();
        // A hundred samples' time: plenty even on a loaded machine.
        std::thread::sleep(WATCH_EVERY * 100);
        drop(tx);
        for t in extra {
            let _ = t.join();
        }
        let peaks = watcher.stop();
        // The extra threads, this test's thread and the watcher's own, at
        // once (other tests' threads can only add to that).
        assert!(peaks.threads.expect("threads on linux") >= EXTRA + 2, "{peaks:?}");
        assert!(peaks.rss_bytes.is_some_and(|r| r > 0), "{peaks:?}");
    }
}

//! The backpressure grade stays trustworthy on a starved machine: run
//! beside a CPU hog (spinning threads, four on every core), an honest fix
//! (the solution's shape, servers/examples/backpressure-variants.rs
//! `--shed line`) either passes each check or is told that the measurement
//! is void and why, never blamed with a hint; and the line with no bound
//! still fails, blamed with its hint or void, never passed. Alone: the hog
//! would starve every timing test beside it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::common::grading::{failure, variant_of};
use kit_load::backpressure_grade as grade;

/// Spinning threads, four per core, until dropped.
struct Hog {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl Hog {
    fn start() -> Hog {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..4 * cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut spins = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        spins = std::hint::black_box(spins.wrapping_add(1));
                    }
                    spins
                })
            })
            .collect();
        Hog { stop, threads }
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn beside_a_cpu_hog_an_honest_fix_passes_or_the_measurement_is_void() {
    let _turn = kit_measure::grade::alone();
    let bin = variant_of("backpressure-variants", &["--shed", "line"]);
    let gateway: PathBuf =
        kit_measure::harness::sibling_binary("upstream").expect("the upstream binary");
    let hog = Hog::start();
    let mut void = 0;
    for n in 1..=4 {
        let (b, u) = (bin.clone(), gateway.clone());
        match failure(move || grade::check(n, &b, &u)) {
            None => eprintln!("check {n} passed beside the hog"),
            Some(message) => {
                assert!(
                    message.contains("the measurement is void")
                        && message.contains("says nothing about your server")
                        && !message.contains("HINTS.md"),
                    "check {n} blamed an honest fix beside a CPU hog:\n{message}"
                );
                eprintln!("check {n} void beside the hog:{message}");
                void += 1;
            }
        }
    }
    // The lesson itself still fails: a starved machine never passes it.
    let pristine = variant_of("backpressure-variants", &["--shed", "none"]);
    let message = failure(move || grade::goodput_holds_under_overload(pristine, gateway))
        .expect("the line with no bound passed check 1 beside a CPU hog");
    assert!(
        message.contains("HINTS.md, hint 1") || message.contains("the measurement is void"),
        "{message}"
    );
    drop(hog);
    eprintln!("{void} of 4 checks void beside the hog; the line with no bound:{message}");
}

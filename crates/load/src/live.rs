//! A running attack as a watcher sees it (the live dashboard of `kit attack`
//! on a terminal), and the watcher's way to stop it early.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::attack::Rate;
use crate::intervals::Interval;
use crate::lock;
use crate::sampler::ServerSample;

/// What a running attack shares with whoever watches it (the live
/// dashboard), and the watcher's way to stop it early without losing the
/// result: [`Live::stop`] ends the sending, the requests in flight finish,
/// and the attack returns its summary as usual.
#[derive(Default)]
pub struct Live {
    pub(crate) stop: Arc<AtomicBool>,
    view: Mutex<LiveView>,
}

/// A moment of a running attack, for a live view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveView {
    pub url: String,
    /// Requests per second asked for; for a ramp, its mean.
    pub target_rate: f64,
    /// A ramp's two ends; `None` for a constant rate.
    pub ramp: Option<Rate>,
    pub duration_s: f64,
    /// Since the first due time.
    pub elapsed_s: f64,
    pub sent: u64,
    pub answered: u64,
    /// Of `answered`, the 2xx.
    pub ok: u64,
    pub errors: u64,
    pub late: u64,
    pub in_flight: u64,
    /// The intervals that have ended (the current one is still filling).
    pub intervals: Vec<Interval>,
    pub server: String,
    /// The last server sample, if any.
    pub server_now: Option<ServerSample>,
    /// Sending is over: stopped, or the duration is up.
    pub stopping: bool,
}

impl Live {
    pub fn new() -> Arc<Live> {
        Arc::new(Live::default())
    }

    /// Asks the attack to stop sending; it then waits for what is in flight.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn view(&self) -> LiveView {
        lock(&self.view).clone()
    }

    pub(crate) fn publish(&self, view: LiveView) {
        *lock(&self.view) = view;
    }
}

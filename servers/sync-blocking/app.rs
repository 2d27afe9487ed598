//! The blocking app: plain functions that take a request and block the
//! calling thread until the answer is ready, like a Flask view.
//!
//! Two servers run this exact file: sync-blocking calls it from its handler
//! threads, and blocking-wrapper hands requests to it from an async front end.
//! Because it is the same code, it has the same slots: one per thread that
//! calls `handle`.

use std::sync::Arc;
use std::thread;
use std::time::Instant;

use kit_serve::contract::{self, cpu_work, ApiError, Endpoint, Health, Params, Settings, Work};
use kit_serve::metrics::Metrics;

pub struct App {
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
}

/// A finished response: status and JSON body.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl App {
    /// Serves one request on the calling thread, start to finish.
    pub fn handle(&self, method: &str, url: &str) -> Reply {
        let (path, query) = contract::split_url(url);
        let endpoint = match contract::route(method, path, &Endpoint::SHARED) {
            Ok(endpoint) => endpoint,
            Err(e) => return Reply::error(e),
        };
        match endpoint {
            Endpoint::Metrics => return Reply::json(200, &self.metrics.snapshot()),
            Endpoint::MetricsReset => {
                self.metrics.reset();
                return Reply::json(200, &self.metrics.snapshot());
            }
            _ => {}
        }
        // From here until `_in_flight` drops, this thread is one busy slot.
        let _in_flight = self.metrics.enter(endpoint.path());
        match Params::parse(query, &self.settings) {
            Ok(p) => self.work(endpoint, &p),
            Err(e) => Reply::error(e),
        }
    }

    fn work(&self, endpoint: Endpoint, p: &Params) -> Reply {
        let started = Instant::now();
        let work = match endpoint {
            Endpoint::Health => return Reply::json(200, &Health::ok(p.variant)),
            Endpoint::Parallel => {
                // Two independent waits, but a thread can only wait for one
                // thing at a time: 2 x io, and the thread is held throughout.
                thread::sleep(p.io);
                thread::sleep(p.io);
                Work::waited(p, endpoint, &[p.io, p.io], started)
            }
            Endpoint::MultiIo => {
                // Three dependent waits: sequential everywhere, 3 x io.
                thread::sleep(p.io);
                thread::sleep(p.io);
                thread::sleep(p.io);
                Work::waited(p, endpoint, &[p.io, p.io, p.io], started)
            }
            Endpoint::DbSimulation => {
                thread::sleep(p.db);
                Work::waited(p, endpoint, &[p.db], started)
            }
            Endpoint::CpuIntensive => Work::computed(p, p.cpu_rounds, cpu_work(p.cpu_rounds), started),
            other => return Reply::error(ApiError::not_found(other.path())),
        };
        Reply::json(200, &work)
    }
}

impl Reply {
    fn json(status: u16, body: &impl serde::Serialize) -> Reply {
        match serde_json::to_string(body) {
            Ok(body) => Reply { status, body },
            Err(e) => Reply::error(ApiError::internal(e.to_string())),
        }
    }

    pub fn error(e: ApiError) -> Reply {
        // An ErrorBody is one string field: serializing it cannot fail.
        let body = serde_json::to_string(&e.body()).expect("error body serializes");
        Reply { status: e.status, body }
    }
}

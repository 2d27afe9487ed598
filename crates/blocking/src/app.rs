//! The blocking app: plain functions that take a request and block the
//! calling thread until the answer is ready, like a Flask view.
//!
//! Two servers run this exact file (the crate kit-blocking): sync-blocking
//! calls it from its handler threads, and blocking-wrapper hands requests to
//! it from an async front end (bridge.rs). Because it is the same code, it
//! has the same slots: one per thread that calls `handle`.

use std::time::Instant;

use kit_serve::contract::{self, ApiError, Endpoint, Health, Work};
use kit_serve::handler::{cpu_work, Params};
use kit_serve::serve::SharedCtx;

/// The app, on the server's context: its defaults, backend and metrics.
pub struct App {
    ctx: SharedCtx,
}

/// A finished response: status and JSON body.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl App {
    pub fn new(ctx: &SharedCtx) -> App {
        App { ctx: ctx.clone() }
    }

    /// Serves one request on the calling thread, start to finish.
    pub fn handle(&self, method: &str, url: &str) -> Reply {
        let (path, query) = contract::split_url(url);
        let endpoint = match contract::route(method, path, &Endpoint::SHARED) {
            Ok(endpoint) => endpoint,
            Err(e) => return Reply::error(e),
        };
        match endpoint {
            Endpoint::Metrics => return Reply::json(200, &self.ctx.metrics.snapshot()),
            Endpoint::MetricsReset => {
                self.ctx.metrics.reset();
                return Reply::json(200, &self.ctx.metrics.snapshot());
            }
            _ => {}
        }
        // From here until `_in_flight` drops, this thread is one busy slot.
        let _in_flight = self.ctx.metrics.enter(endpoint.path());
        match Params::parse(query, &self.ctx.settings) {
            Ok(p) => self.work(endpoint, &p),
            Err(e) => Reply::error(e),
        }
    }

    fn work(&self, endpoint: Endpoint, p: &Params) -> Reply {
        match endpoint {
            Endpoint::Health => Reply::json(200, &Health::ok(p.variant)),
            _ => match self.wait_or_compute(endpoint, p) {
                Ok(work) => Reply::json(200, &work),
                Err(e) => Reply::error(e),
            },
        }
    }

    fn wait_or_compute(&self, endpoint: Endpoint, p: &Params) -> Result<Work, ApiError> {
        let started = Instant::now();
        Ok(match endpoint {
            Endpoint::Parallel => {
                // Two independent waits, but a thread can only wait for one
                // thing at a time: 2 x io, and the thread is held throughout.
                // (A sleep, or a blocking client's call: `--io-backend`.)
                p.backend.wait_blocking(p.io_wait)?;
                p.backend.wait_blocking(p.io_wait)?;
                Work::waited(p, endpoint, &[p.io_wait, p.io_wait], started)
            }
            Endpoint::MultiIo => {
                // Three dependent waits: sequential everywhere, 3 x io.
                p.backend.wait_blocking(p.io_wait)?;
                p.backend.wait_blocking(p.io_wait)?;
                p.backend.wait_blocking(p.io_wait)?;
                Work::waited(p, endpoint, &[p.io_wait, p.io_wait, p.io_wait], started)
            }
            Endpoint::DbSimulation => {
                p.backend.query_blocking(p.db_wait)?;
                Work::waited(p, endpoint, &[p.db_wait], started)
            }
            Endpoint::CpuIntensive => {
                Work::computed(p, p.cpu_rounds, cpu_work(p.cpu_rounds), started)
            }
            other => return Err(ApiError::not_found(other.path())),
        })
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

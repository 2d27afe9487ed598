//! How every server starts, and the axum plumbing the tokio servers share:
//! the request context, the `Params` extractor, in-flight tracking,
//! /metrics, JSON 404/405, the HTTP rules (`http_rules`), the executor-lag heartbeat, and serving with a
//! graceful shutdown.
//!
//! One way to start: [`Server`] says what the server is (its variant, its
//! knobs, the [`Slots`] it declares, where its waits go), `listen` binds,
//! and `Listening::serve` serves [`Routes`] until SIGTERM or Ctrl-C:
//!
//! ```text
//! let server = Server::new(VARIANT, &args.common)
//!     .knob("worker_threads", args.worker_threads)
//!     .slots(Slots::Threads(args.worker_threads))
//!     .listen()?;
//! let routes = Routes::new().route(Endpoint::Health, get(health));
//! runtime.block_on(server.serve(routes))
//! ```
//!
//! Handlers are not here. How a handler waits is each server's lesson and
//! lives in its own main.rs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on_service, post, MethodFilter, MethodRouter};
use axum::{Json, Router};

use crate::config::CommonArgs;
use crate::contract::{ApiError, Endpoint, MetricsSnapshot};
use crate::handler::{Params, Settings};
use crate::http_rules;
use crate::io::{IoArgs, IoBackend};
use crate::metrics::{Metrics, Runtime, Slots};
use crate::net::{self, Error};

/// What every handler may need: the defaults, the backend and the metrics.
pub struct Ctx {
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
}

pub type SharedCtx = Arc<Ctx>;

/// How often the heartbeat task asks the runtime for a turn.
pub const HEARTBEAT: Duration = Duration::from_millis(10);

/// `Params` as an extractor: a bad query value is a 400 before the handler runs.
impl FromRequestParts<SharedCtx> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &SharedCtx) -> Result<Params, ApiError> {
        Params::parse(parts.uri.query(), &ctx.settings)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// Middleware: the request counts as in flight while its handler runs.
async fn track(State(ctx): State<SharedCtx>, req: Request, next: Next) -> Response {
    let label = Endpoint::from_path(req.uri().path()).map_or("other", Endpoint::path);
    let _in_flight = ctx.metrics.enter(label);
    next.run(req).await
}

async fn metrics(State(ctx): State<SharedCtx>) -> Json<MetricsSnapshot> {
    Json(ctx.metrics.snapshot())
}

async fn reset(State(ctx): State<SharedCtx>) -> Json<MetricsSnapshot> {
    ctx.metrics.reset();
    Json(ctx.metrics.snapshot())
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

/// JSON 405 for a known path with the wrong method.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    match Endpoint::from_path(uri.path()) {
        Some(e) => ApiError::method_not_allowed(method.as_str(), e),
        None => ApiError::not_found(uri.path()),
    }
}

/// What a tokio server answers besides /metrics, and who counts each
/// request in flight.
///
/// Two kinds of route:
/// - [`route`](Routes::route): a handler of this server. The front end
///   counts its requests in flight while the handler runs.
/// - [`to_app`](Routes::to_app) and [`rest_to_app`](Routes::rest_to_app):
///   handed to a blocking app that counts its own requests in flight
///   (`kit_blocking`'s bridge: the app calls `Metrics::enter` on its
///   thread), so they are not counted twice.
///
/// /metrics and /metrics/reset are answered by the front end itself, never
/// queued behind work. Every route, of either kind, gets the contract's JSON
/// 404 and 405: the error fallbacks are added last, when the routes are
/// served, so no order of calls here can lose them.
pub struct Routes {
    handlers: Router<SharedCtx>,
    has_handlers: bool,
    app: Router<SharedCtx>,
    rest: Option<MethodRouter>,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes { handlers: Router::new(), has_handlers: false, app: Router::new(), rest: None }
    }

    /// `endpoint` answered by a handler of this server: `get(health)`.
    pub fn route(mut self, endpoint: Endpoint, handler: MethodRouter<SharedCtx>) -> Routes {
        self.handlers = self.handlers.route(endpoint.path(), handler);
        self.has_handlers = true;
        self
    }

    /// More handlers of this server, as a router (async-native's extras,
    /// the upstream's /delay). Counted like `route`.
    pub fn merge(mut self, handlers: Router<SharedCtx>) -> Routes {
        self.handlers = self.handlers.merge(handlers);
        self.has_handlers = true;
        self
    }

    /// `endpoint` handed to an app that counts its own requests in flight
    /// (the wrapper's bridge), for the endpoint's method only.
    pub fn to_app(mut self, endpoint: Endpoint, app: MethodRouter) -> Routes {
        let method =
            if endpoint.method() == "POST" { MethodFilter::POST } else { MethodFilter::GET };
        self.app = self.app.route(endpoint.path(), on_service(method, app));
        self
    }

    /// Every request no route above takes, whatever its path and method,
    /// handed to an app that counts its own requests in flight and answers
    /// 404 and 405 itself (the wrapper's bridge to the blocking app).
    pub fn rest_to_app(mut self, app: MethodRouter) -> Routes {
        self.rest = Some(app);
        self
    }

    /// The whole router: in-flight tracking around the server's handlers,
    /// the observer routes, the app's routes, then the JSON errors.
    fn into_router(self, ctx: SharedCtx) -> Router {
        let mut handlers = self.handlers;
        if self.has_handlers {
            handlers = handlers.route_layer(middleware::from_fn_with_state(ctx.clone(), track));
        }
        let observers = Router::new()
            .route(Endpoint::Metrics.path(), get(metrics))
            .route(Endpoint::MetricsReset.path(), post(reset));
        let router = handlers.merge(observers).merge(self.app).with_state(ctx);
        let router = match self.rest {
            Some(app) => router.fallback_service(app),
            None => router.fallback(not_found),
        };
        router.method_not_allowed_fallback(method_not_allowed)
    }
}

/// What a server is, before it listens: its variant, its knobs, its
/// slots, and where its waits go. Every server of the kit starts here.
pub struct Server<'a> {
    common: &'a CommonArgs,
    variant: &'static str,
    knobs: Vec<(&'static str, u64)>,
    slots: Slots,
    runtime: Runtime,
    backend: Backend<'a>,
}

/// Where a server's waits go, until it listens.
enum Backend<'a> {
    Timer,
    /// The four servers: `--io-backend` and its flags.
    Flags(&'a IoArgs),
    /// A backend the server built itself (the pool exercise).
    Own(IoBackend),
}

impl<'a> Server<'a> {
    /// A server named `variant` with the flags every server shares. By
    /// default: the knobs of `CommonArgs::knobs`, unbounded slots, a tokio
    /// runtime, waits on timers.
    pub fn new(variant: &'static str, common: &'a CommonArgs) -> Server<'a> {
        Server {
            common,
            variant,
            knobs: common.knobs(),
            slots: Slots::Unbounded,
            runtime: Runtime::Tokio,
            backend: Backend::Timer,
        }
    }

    /// One more knob as /metrics reports it (the variant's own: its slot
    /// knob, `--queue`, ...).
    pub fn knob(mut self, name: &'static str, value: u64) -> Server<'a> {
        self.knobs.push((name, value));
        self
    }

    /// All the knobs /metrics reports, in place of `CommonArgs::knobs`: for
    /// a server to which some shared flags mean nothing (the upstream).
    pub fn only_knobs(mut self, knobs: Vec<(&'static str, u64)>) -> Server<'a> {
        self.knobs = knobs;
        self
    }

    /// The slots this server declares in /metrics (default: unbounded).
    pub fn slots(mut self, slots: Slots) -> Server<'a> {
        self.slots = slots;
        self
    }

    /// Handlers run on plain threads (sync-blocking): no executor lag to
    /// report. Default: a tokio runtime.
    pub fn runtime(mut self, runtime: Runtime) -> Server<'a> {
        self.runtime = runtime;
        self
    }

    /// Waits go where `--io-backend` says; the backend's own knobs are added
    /// to /metrics.
    pub fn io_backend(mut self, io: &'a IoArgs) -> Server<'a> {
        self.backend = Backend::Flags(io);
        self
    }

    /// Waits go to `backend`, which the server built itself.
    pub fn backend(mut self, backend: IoBackend) -> Server<'a> {
        self.backend = Backend::Own(backend);
        self
    }

    /// Ends with the kit if it started us (`net::exit_with_parent`), binds,
    /// opens the backend, and builds the context handlers see. /metrics
    /// reports the backend's pool when it has one and the slots are not
    /// threads (whose blocking waits hold one connection per thread, not a
    /// pool's). The listening line is printed later, by `serve`, once the
    /// server is ready to answer.
    pub fn listen(self) -> Result<Listening, Error> {
        net::exit_with_parent();
        let socket = net::bind(&self.common.host, self.common.port)?;
        let mut knobs = self.knobs;
        let backend = match self.backend {
            Backend::Timer => IoBackend::timer(),
            Backend::Flags(io) => {
                knobs.extend(io.knobs());
                io.open()?
            }
            Backend::Own(backend) => backend,
        };
        let metrics = Metrics::new(self.variant, knobs, self.slots, self.runtime);
        metrics.set_io_backend(backend.name());
        if let Some(pool) = backend.pool().filter(|_| !self.slots.are_threads()) {
            metrics.watch_pool(pool);
        }
        let settings = Settings { defaults: self.common.defaults(self.variant), backend };
        Ok(Listening {
            socket,
            drain_timeout: self.common.drain_timeout(),
            header_read_timeout: self.common.header_read_timeout(),
            ctx: Arc::new(Ctx { settings, metrics }),
        })
    }
}

/// A bound server: its socket, its context, and how it drains.
pub struct Listening {
    socket: std::net::TcpListener,
    drain_timeout: Duration,
    header_read_timeout: Duration,
    ctx: SharedCtx,
}

impl Listening {
    /// What its handlers see (a blocking app behind a bridge is built on it).
    pub fn ctx(&self) -> &SharedCtx {
        &self.ctx
    }

    /// The address it listens on (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.socket.local_addr()
    }

    /// The bound socket and the context, for a server that runs its own
    /// accept loop on plain threads (sync-blocking).
    pub fn into_parts(self) -> (std::net::TcpListener, SharedCtx) {
        (self.socket, self.ctx)
    }

    /// Serves `routes` until SIGTERM or Ctrl-C, on the tokio runtime that
    /// runs this future.
    pub async fn serve(self, routes: Routes) -> Result<(), Error> {
        // The HTTP rules around everything, the 404s and 405s included.
        let app = routes
            .into_router(self.ctx.clone())
            .layer(middleware::from_fn_with_state(self.header_read_timeout, http_rules::layer));
        let metrics = self.ctx.metrics.clone();
        serve(self.socket, self.drain_timeout, self.header_read_timeout, app, metrics).await
    }
}

/// Serves `app` on `socket` until SIGTERM or Ctrl-C, then drains as
/// `net` describes: the backlog is accepted, the listener closed, every
/// accepted client answered, within `--drain-timeout`. Also starts the
/// heartbeat that measures executor lag.
///
/// The listening line comes last: the router is built (a router that panics
/// while being built never announces itself), the signal handlers exist, and
/// the listener is registered with the runtime. Whoever reads the line can
/// send a request, or a SIGTERM, at once.
///
/// The accept loop is ours rather than `axum::serve`'s, for three reasons:
/// axum sleeps 1 s on an accept error without a word (we log it), it closes
/// the listener on shutdown without taking the clients waiting in the
/// backlog (they were reset), and it drains with no deadline.
async fn serve(
    socket: std::net::TcpListener,
    drain_timeout: Duration,
    header_read_timeout: Duration,
    app: Router,
    metrics: Arc<Metrics>,
) -> Result<(), Error> {
    net::raise_open_files_limit();
    socket.set_nonblocking(true)?;
    // A second handle on the same socket, to empty the backlog with plain
    // accept() calls: on the trap, the runtime may not have polled the
    // listener for a whole blocking wait.
    let backlog = socket.try_clone()?;
    let listener = tokio::net::TcpListener::from_std(socket)?;
    let shutdown = net::Shutdown::install();
    tokio::spawn(heartbeat(metrics));
    net::announce(&listener.local_addr()?)?;

    let connections = Connections::new(app, header_read_timeout);
    let mut errors = net::AcceptErrors::default();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    errors.accepted();
                    connections.serve(stream);
                }
                Err(e) => {
                    if let Some(pause) = errors.failed(&e) {
                        tokio::time::sleep(pause).await;
                    }
                }
            },
        }
    }
    let stopped = Instant::now();
    connections.drain();
    // On a blocking thread: it pauses, and a runtime whose workers are all
    // blocked (the trap's) would not wake a timer in time.
    let (backlog, pending) = tokio::task::spawn_blocking(move || {
        let pending = net::sweep_backlog(&backlog);
        (backlog, pending)
    })
    .await
    .map_err(std::io::Error::other)?;
    for stream in pending {
        stream.set_nonblocking(true)?;
        connections.serve(tokio::net::TcpStream::from_std(stream)?);
    }
    // From here on, connecting is refused.
    drop((listener, backlog));
    let unanswered = connections.finish(drain_timeout).await;
    net::report_drain(unanswered, stopped.elapsed(), drain_timeout);
    if unanswered > 0 {
        // The deadline has passed, so the exit is now, as promised (status 0:
        // a drain that ran out of time is still a requested shutdown). Not
        // by returning: a runtime whose workers are stuck in blocking
        // handlers keeps running its queued requests before it shuts down
        // (measured on the trap: 3.9 s more, for clients nobody waits for).
        std::process::exit(0);
    }
    Ok(())
}

/// The open connections, each served by hyper on its own task.
struct Connections {
    app: Router,
    http: hyper::server::conn::http1::Builder,
    /// Turns true when the server drains. Every connection task holds a
    /// receiver, so the receiver count is the number of open connections.
    draining: tokio::sync::watch::Sender<bool>,
}

impl Connections {
    fn new(app: Router, header_read_timeout: Duration) -> Connections {
        let mut http = hyper::server::conn::http1::Builder::new();
        // A client that connects and then sends its head slowly, or never,
        // is closed after --header-read-timeout-ms. Meanwhile it holds no
        // thread, only a parked task: slowloris cannot starve this server.
        http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_read_timeout);
        Connections { app, http, draining: tokio::sync::watch::Sender::new(false) }
    }

    /// Serves one connection on its own task, request after request.
    fn serve(&self, stream: tokio::net::TcpStream) {
        use hyper::service::Service;
        let router = hyper_util::service::TowerToHyperService::new(self.app.clone());
        // Told when the connection's first request has arrived (see below).
        let first_request = Arc::new(tokio::sync::Notify::new());
        let arrived = first_request.clone();
        let service = hyper::service::service_fn(move |request| {
            arrived.notify_one();
            router.call(request)
        });
        // with_upgrades: /ws turns the connection into a WebSocket.
        let connection = self
            .http
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .with_upgrades();
        let mut draining = self.draining.subscribe();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = draining.wait_for(|d| *d) => {}
            }
            // hyper's graceful shutdown closes a connection that has not sent
            // anything yet, but this client connected before we stopped: it
            // is owed an answer. So first wait for its request to arrive.
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = first_request.notified() => {}
            }
            // Now hyper finishes that request (or the one in progress), then
            // closes; an idle keep-alive connection is closed at once.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }

    /// Tells every connection, present and future, to end after its answer.
    fn drain(&self) {
        self.draining.send_replace(true);
    }

    /// Waits for every connection to finish, at most `deadline`; returns how
    /// many were still open (their clients unanswered).
    async fn finish(self, deadline: Duration) -> usize {
        // The deadline is kept by a plain thread, not by a tokio timer: on the
        // trap every worker may be stuck in a handler's blocking wait, and
        // nobody turns the runtime's timer wheel until the queue of blocked
        // requests runs dry. The thread's message wakes us directly.
        let (ring, alarm) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(deadline);
            let _ = ring.send(());
        });
        tokio::select! {
            _ = self.draining.closed() => {}
            _ = alarm => {}
        }
        self.draining.receiver_count()
    }
}

/// A task that asks for a turn every `HEARTBEAT` and records how late it got
/// one. If every worker thread is stuck in a blocking call, nobody polls it,
/// and the lateness is exactly how long the runtime was stalled.
pub async fn heartbeat(metrics: Arc<Metrics>) {
    loop {
        let asked = Instant::now();
        tokio::time::sleep(HEARTBEAT).await;
        metrics.record_lag(asked.elapsed().saturating_sub(HEARTBEAT));
    }
}

//! The axum plumbing the three tokio servers share: the request context, the
//! query extractor, in-flight tracking, /metrics, JSON 404/405, the
//! executor-lag heartbeat, and serving with a graceful shutdown.
//!
//! Handlers are not here. How a handler waits is each server's lesson and
//! lives in its own main.rs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::config::CommonArgs;
use crate::contract::{ApiError, Endpoint, Params, Settings};
use crate::io::{Io, IoArgs};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::net::{self, Error};

/// What every handler may need: the defaults and the metrics.
pub struct Ctx {
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
}

pub type SharedCtx = Arc<Ctx>;

impl Ctx {
    /// For a server whose queries go through its backend's pool (`query`):
    /// /metrics reports the pool from now on. Blocking servers hold one
    /// connection per thread instead, and do not call this.
    pub fn report_pool(&self) {
        if let Some(pool) = self.settings.backend.pool() {
            self.metrics.watch_pool(pool);
        }
    }
}

/// How often the heartbeat task asks the runtime for a turn.
pub const HEARTBEAT: Duration = Duration::from_millis(10);

/// `Params` as an extractor: a bad query value is a 400 before the handler runs.
impl<S> FromRequestParts<S> for Params
where
    SharedCtx: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Params, ApiError> {
        Params::parse(parts.uri.query(), &SharedCtx::from_ref(state).settings)
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
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    match Endpoint::from_path(uri.path()) {
        Some(e) => ApiError::method_not_allowed(method.as_str(), e),
        None => ApiError::not_found(uri.path()),
    }
}

/// The observer routes, answered by the front end itself, never queued
/// behind work.
pub fn observer_routes<S>() -> Router<S>
where
    SharedCtx: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(Endpoint::Metrics.path(), get(metrics))
        .route(Endpoint::MetricsReset.path(), post(reset))
}

/// Completes a server's router of work routes: in-flight tracking around
/// them, then the observer routes and JSON errors.
pub fn app(work: Router<SharedCtx>, ctx: SharedCtx) -> Router {
    app_with(work, Router::new(), ctx)
}

/// `app`, plus routes whose handlers count themselves as in flight (the
/// wrapper's bridge: the blocking app behind it calls `Metrics::enter`), so
/// they are not tracked twice. Both sets get the same JSON 404 and 405: the
/// error fallbacks are added after the merge, so they cover every route.
pub fn app_with(work: Router<SharedCtx>, counts_itself: Router, ctx: SharedCtx) -> Router {
    let work = work.route_layer(middleware::from_fn_with_state(ctx.clone(), track));
    work.merge(observer_routes())
        .with_state(ctx)
        .merge(counts_itself)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// A bound listener, and how the server that serves it drains.
pub struct Listener {
    socket: std::net::TcpListener,
    drain_timeout: Duration,
    header_read_timeout: Duration,
}

impl Listener {
    /// The address it listens on (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.socket.local_addr()
    }
}

/// The start every tokio server shares: end with the kit if it started us
/// (`net::exit_with_parent`), bind, and build the context its handlers see. `knob` is the variant's own slot knob as /metrics reports
/// it; `slots` its declared slot limit. The listening line is printed later,
/// by `serve`, once the server is ready to answer.
pub fn listen(
    common: &CommonArgs,
    variant: &'static str,
    knob: (&'static str, u64),
    slots: Option<u64>,
) -> Result<(Listener, SharedCtx), Error> {
    listen_with(common, variant, common.knobs(knob), slots)
}

/// `listen`, waiting on the backend `io` names (`--io-backend`) instead of
/// a timer: the four servers start this way (the exercises, which wait on
/// timers, call `listen`).
pub fn listen_io(
    common: &CommonArgs,
    io: &IoArgs,
    variant: &'static str,
    knob: (&'static str, u64),
    slots: Option<u64>,
) -> Result<(Listener, SharedCtx), Error> {
    listen_with_io(common, io, variant, common.knobs(knob), slots)
}

/// `listen_with` on the backend `io` names. The backend's own knobs are
/// added to /metrics.
pub fn listen_with_io(
    common: &CommonArgs,
    io: &IoArgs,
    variant: &'static str,
    mut knobs: Vec<(&'static str, u64)>,
    slots: Option<u64>,
) -> Result<(Listener, SharedCtx), Error> {
    knobs.extend(io.knobs());
    listen_backend(common, io.open()?, variant, knobs, slots)
}

/// `listen_with`, waiting on `backend`: for a server that builds its own
/// (the pool exercise).
pub fn listen_backend(
    common: &CommonArgs,
    backend: Io,
    variant: &'static str,
    knobs: Vec<(&'static str, u64)>,
    slots: Option<u64>,
) -> Result<(Listener, SharedCtx), Error> {
    let (listener, mut ctx) = listen_with(common, variant, knobs, slots)?;
    ctx.metrics.set_io_backend(backend.name());
    // Just built, so this is the only reference.
    Arc::get_mut(&mut ctx).expect("no other reference yet").settings.backend = backend;
    Ok((listener, ctx))
}

/// `listen`, for a server with more knobs than its slot knob (all of them
/// as /metrics reports them: `CommonArgs::knobs` plus its own).
pub fn listen_with(
    common: &CommonArgs,
    variant: &'static str,
    knobs: Vec<(&'static str, u64)>,
    slots: Option<u64>,
) -> Result<(Listener, SharedCtx), Error> {
    net::exit_with_parent();
    let socket = net::bind(&common.host, common.port)?;
    let metrics = Metrics::new(variant, knobs, slots, true);
    let listener =
        Listener { socket, drain_timeout: common.drain_timeout(), header_read_timeout: common.header_read_timeout() };
    Ok((listener, Arc::new(Ctx { settings: common.settings(variant), metrics })))
}

/// Serves `app` on `listener` until SIGTERM or Ctrl-C, then drains as
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
pub async fn serve(listener: Listener, app: Router, metrics: Arc<Metrics>) -> Result<(), Error> {
    net::raise_open_files_limit();
    let Listener { socket, drain_timeout, header_read_timeout } = listener;
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
        let connection = self.http.serve_connection(hyper_util::rt::TokioIo::new(stream), service).with_upgrades();
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

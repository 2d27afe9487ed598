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
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::net::{self, Error};

/// What every handler may need: the defaults and the metrics.
pub struct Ctx {
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
}

pub type SharedCtx = Arc<Ctx>;

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

/// The start every tokio server shares: end with the kit if it started us
/// (`net::exit_with_parent`), bind, and build the context its handlers see. `knob` is the variant's own slot knob as /metrics reports
/// it; `slots` its declared slot limit. The listening line is printed later,
/// by `serve`, once the server is ready to answer.
pub fn listen(
    common: &CommonArgs,
    variant: &'static str,
    knob: (&'static str, u64),
    slots: Option<u64>,
) -> Result<(std::net::TcpListener, SharedCtx), Error> {
    net::exit_with_parent();
    let listener = net::bind(&common.host, common.port)?;
    let metrics = Metrics::new(variant, common.knobs(knob), slots, true);
    Ok((listener, Arc::new(Ctx { settings: common.settings(variant), metrics })))
}

/// Serves `app` on `listener` until SIGTERM or Ctrl-C, then lets in-flight
/// requests finish. Also starts the heartbeat that measures executor lag.
///
/// The listening line comes last: the router is built (a router that panics
/// while being built never announces itself), the signal handlers exist, and
/// the listener is registered with the runtime. Whoever reads the line can
/// send a request, or a SIGTERM, at once.
pub async fn serve(listener: std::net::TcpListener, app: Router, metrics: Arc<Metrics>) -> Result<(), Error> {
    net::raise_open_files_limit();
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let shutdown = net::Shutdown::install();
    tokio::spawn(heartbeat(metrics));
    net::announce(&listener.local_addr()?)?;
    axum::serve(listener, app).with_graceful_shutdown(shutdown.wait()).await?;
    Ok(())
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

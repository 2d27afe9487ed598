//! async-native's long-lived endpoints: /slow, /sse and /ws.
//!
//! Only a server whose waits yield can afford them: an open event stream or
//! WebSocket is one parked task between messages, not one thread held for
//! the whole conversation. They live apart from main.rs so that
//! `diff servers/async-trap/main.rs servers/async-native/main.rs` shows only
//! the lesson: how the shared endpoints wait.

use std::convert::Infallible;
use std::time::Instant;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::{routing::get, Json, Router};
use futures::{Stream, StreamExt};
use kit_serve::contract::{ApiError, Endpoint, Tick, Work};
use kit_serve::handler::Params;
use kit_serve::serve::SharedCtx;
use tokio::time::sleep;

/// Events per /sse stream, one every io / 5.
const SSE_EVENTS: u32 = 5;

/// The three routes, for main.rs to merge into its work routes.
pub fn routes() -> Router<SharedCtx> {
    Router::new()
        .route(Endpoint::Slow.path(), get(slow))
        .route(Endpoint::Sse.path(), get(sse))
        .route(Endpoint::Ws.path(), get(ws))
}

async fn slow(p: Params) -> Json<Work> {
    let started = Instant::now();
    sleep(p.io_wait / 2).await;
    Json(Work::waited(&p, Endpoint::Slow, &[p.io_wait / 2], started))
}

async fn sse(p: Params) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // One open stream is one parked task between events, not one thread.
    let ticks = futures::stream::iter(1..=SSE_EVENTS).then(move |seq| {
        let p = p.clone();
        async move {
            sleep(p.io_wait / 5).await;
            let tick = Tick { seq, of: SSE_EVENTS, variant: p.variant.into() };
            Ok(Event::default().event("tick").json_data(tick).expect("a Tick serializes"))
        }
    });
    Sse::new(ticks)
}

async fn ws(upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> Response {
    match upgrade {
        Ok(upgrade) => upgrade.on_upgrade(echo),
        Err(e) => {
            ApiError::bad_request(format!("/ws needs a WebSocket upgrade: {e}")).into_response()
        }
    }
}

/// Echoes text and binary frames until the client closes.
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(msg)) = socket.recv().await {
        if socket.send(msg).await.is_err() {
            break;
        }
    }
}

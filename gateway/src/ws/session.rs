//! One subscriber connection: the `/ws` handshake (token checked before the upgrade: 401), then a reader task
//! (client messages, pongs, size limit, token expiry on every message) and a writer loop (immediate entries at
//! once, telemetry per window, pings, token expiry timer, the close frame with its code and reason).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::MissedTickBehavior;

use super::hub::{CloseCause, Hub, Subscriber};
use super::protocol::{command_id, parse_client_message, ClientMessage, ServerMessage};
use super::queue::Outgoing;
use super::token::unix_now;

/// How long the close frame may take to leave before the socket is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the close handshake may take to flush once the client has answered.
const CLOSE_FLUSH: Duration = Duration::from_secs(1);
/// Initial read buffer per subscriber socket (tungstenite's default is 128 KiB).
const READ_BUFFER: usize = 4 * 1024;
/// Write buffer per subscriber socket before a flush.
const WRITE_BUFFER: usize = 16 * 1024;
/// The window timer's period when `batch_window` is zero (telemetry is flushed on wake-up instead; the timer only
/// has to be valid).
const NO_WINDOW: Duration = Duration::from_secs(3600);
/// Events per batch frame; a larger window is split over several frames.
const MAX_BATCH_EVENTS: usize = 500;

type Sink = SplitSink<WebSocket, Message>;

fn refuse(hub: &Hub, status: StatusCode, reason: &'static str, code: &str) -> Response {
    hub.metrics.refused.with_label_values(&[reason]).inc();
    tracing::info!(
        reason,
        code,
        status = status.as_u16(),
        "ws handshake refused"
    );
    let mut resp = (status, format!("{reason}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"chargegate-ws\""),
        );
    }
    resp
}

/// The token from `?token=` or `Authorization: Bearer …`.
fn token_of<'a>(query: &'a HashMap<String, String>, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some(t) = query.get("token") {
        return Some(t.as_str());
    }
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// `GET /ws`: checks the token, then upgrades.
pub async fn handshake(
    State(hub): State<Arc<Hub>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(token) = token_of(&query, &headers) else {
        return refuse(&hub, StatusCode::UNAUTHORIZED, "missing_token", "D0700");
    };
    let claims = match hub.secret.verify(token, unix_now()) {
        Ok(c) => c,
        Err(e) => return refuse(&hub, StatusCode::UNAUTHORIZED, e.kind(), e.code()),
    };
    let Some(sub) = hub.register(claims) else {
        return refuse(&hub, StatusCode::SERVICE_UNAVAILABLE, "capacity", "B0730");
    };
    tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, stations = sub.claims.stations.len(), chargers = sub.claims.chargers.len(), may_command = sub.claims.may_command, "ws subscriber connected");
    let max = hub.config.max_message_bytes;
    let guard_hub = Arc::clone(&hub);
    let guard_id = sub.id;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(move |e| {
            tracing::info!(subscriber = guard_id, error = %e, "ws upgrade failed");
            guard_hub.deregister(guard_id);
        })
        .on_upgrade(move |socket| run(hub, sub, socket))
}

async fn run(hub: Arc<Hub>, sub: Arc<Subscriber>, socket: WebSocket) {
    let (mut sink, stream) = socket.split();
    let outstanding = Arc::new(AtomicU32::new(0));
    let reader = tokio::spawn(read_loop(
        Arc::clone(&hub),
        Arc::clone(&sub),
        stream,
        Arc::clone(&outstanding),
    ));
    write_loop(&hub, &sub, &mut sink, &outstanding).await;
    let cause = sub.cause().unwrap_or(CloseCause::SHUTDOWN);
    hub.deregister(sub.id);
    hub.metrics
        .disconnects
        .with_label_values(&[cause.reason])
        .inc();
    tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, reason = cause.reason, close_code = cause.code, code = cause.error_code(), "ws subscriber closed");
    let mut reader = reader;
    if cause != CloseCause::CLIENT {
        let frame = CloseFrame {
            code: cause.code,
            reason: Utf8Bytes::from_static(cause.reason),
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
        // The reader drains until the client's close reply, so the client reads our close frame instead of a
        // reset (closing the TCP connection first would make its pongs fail with a broken pipe).
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, &mut reader).await;
    }
    let _ = tokio::time::timeout(CLOSE_FLUSH, sink.close()).await;
    reader.abort();
}

/// Writes `frames` and flushes once, unless the subscriber is closed meanwhile; `false` when the loop should end.
async fn send_all(
    hub: &Hub,
    sub: &Subscriber,
    sink: &mut Sink,
    frames: Vec<(String, &'static str)>,
) -> bool {
    if frames.is_empty() {
        return true;
    }
    let write = async {
        for (text, kind) in frames {
            sink.feed(Message::Text(text.into())).await?;
            hub.metrics.frames_sent.with_label_values(&[kind]).inc();
        }
        sink.flush().await
    };
    tokio::select! {
        r = write => r.is_ok() || { sub.close(CloseCause::READ_ERROR); false },
        _ = sub.closed.cancelled() => false,
    }
}

async fn flush_immediate(hub: &Hub, sub: &Subscriber, sink: &mut Sink) -> bool {
    let frames = sub
        .queue()
        .take_immediate()
        .into_iter()
        .map(|item| match item {
            Outgoing::Event(event) => (ServerMessage::Event { event }.to_text(), "event"),
            Outgoing::Reply(text) => (text, "reply"),
        })
        .collect();
    send_all(hub, sub, sink, frames).await
}

async fn flush_telemetry(hub: &Hub, sub: &Subscriber, sink: &mut Sink) -> bool {
    let events = sub.queue().take_telemetry();
    let frames = events
        .chunks(MAX_BATCH_EVENTS)
        .map(|chunk| {
            let text = ServerMessage::Batch {
                events: chunk.to_vec(),
            }
            .to_text();
            (text, "batch")
        })
        .collect();
    send_all(hub, sub, sink, frames).await
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

async fn write_loop(hub: &Hub, sub: &Subscriber, sink: &mut Sink, outstanding: &AtomicU32) {
    let expires_in = Duration::from_secs(sub.claims.exp.saturating_sub(unix_now()));
    let expiry = tokio::time::sleep(expires_in);
    tokio::pin!(expiry);
    // Window 0: telemetry goes out whenever the writer wakes (the hub wakes it for every event), so under load
    // it still leaves in batches — whatever queued while the previous write was in progress.
    let batching = !hub.config.batch_window.is_zero();
    let mut window = interval(if batching {
        hub.config.batch_window
    } else {
        NO_WINDOW
    });
    let mut ping = interval(hub.config.ping_interval);
    loop {
        let ok = tokio::select! {
            biased;
            _ = sub.closed.cancelled() => false,
            _ = &mut expiry => {
                tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, code = "D0705", "ws token expired: closing with 1008");
                sub.close(CloseCause::TOKEN_EXPIRED);
                false
            }
            _ = sub.wake.notified() => {
                flush_immediate(hub, sub, sink).await
                    && (batching || flush_telemetry(hub, sub, sink).await)
            }
            _ = window.tick() => {
                // Immediate entries first, so a batch never overtakes an alarm queued before it.
                flush_immediate(hub, sub, sink).await && flush_telemetry(hub, sub, sink).await
            }
            _ = ping.tick() => {
                if outstanding.fetch_add(1, Ordering::Relaxed) >= hub.config.missed_pongs {
                    tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, code = CloseCause::PONG_TIMEOUT.error_code(), "ws subscriber missed its pongs");
                    sub.close(CloseCause::PONG_TIMEOUT);
                    false
                } else {
                    tokio::select! {
                        r = sink.send(Message::Ping(Default::default())) => r.is_ok(),
                        _ = sub.closed.cancelled() => false,
                    }
                }
            }
        };
        if !ok {
            return;
        }
    }
}

/// What a refused message was about, for the error reply and the log line.
struct Refused<'a> {
    reason: &'static str,
    message: String,
    /// The command id, echoed in the reply.
    id: Option<String>,
    /// The charger a refused command was for.
    charger: Option<&'a str>,
}

fn refused(reason: &'static str, message: String) -> Refused<'static> {
    Refused {
        reason,
        message,
        id: None,
        charger: None,
    }
}

fn reject(hub: &Hub, sub: &Subscriber, r: Refused<'_>) {
    let Refused {
        reason,
        message,
        id,
        charger,
    } = r;
    hub.metrics.rejected.with_label_values(&[reason]).inc();
    tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, reason, code = "D0710", charger = charger.unwrap_or("-"), command_id = id.as_deref().unwrap_or("-"), "ws message refused");
    hub.reply(
        sub,
        &ServerMessage::Error {
            code: reason,
            message,
            id,
        },
    );
}

async fn read_loop(
    hub: Arc<Hub>,
    sub: Arc<Subscriber>,
    mut stream: SplitStream<WebSocket>,
    outstanding: Arc<AtomicU32>,
) {
    let mut draining = false;
    let cause = loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = sub.closed.cancelled(), if !draining => {
                draining = true;
                continue;
            }
        };
        if draining {
            // Closing: wait for the client's close reply, ignore everything else.
            match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
        let text = match msg {
            None | Some(Ok(Message::Close(_))) => break CloseCause::CLIENT,
            Some(Err(e)) => break read_error(&hub, &sub, &e),
            Some(Ok(Message::Pong(_))) => {
                outstanding.store(0, Ordering::Relaxed);
                continue;
            }
            Some(Ok(Message::Ping(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                let e = super::protocol::WsProtocolError::Binary;
                reject(&hub, &sub, refused(e.kind(), e.to_string()));
                continue;
            }
            Some(Ok(Message::Text(t))) => t,
        };
        if sub.claims.expired_at(unix_now()) {
            break CloseCause::TOKEN_EXPIRED;
        }
        handle_text(&hub, &sub, text.as_str());
    };
    sub.close(cause);
}

fn read_error(hub: &Hub, sub: &Subscriber, e: &axum::Error) -> CloseCause {
    let inner = source_tungstenite(e);
    if matches!(inner, Some(tungstenite::Error::Capacity(_))) {
        hub.metrics.rejected.with_label_values(&["oversize"]).inc();
        tracing::warn!(subscriber = sub.id, sub = %sub.claims.sub, code = CloseCause::OVERSIZE.error_code(), limit = hub.config.max_message_bytes, "ws message above the size limit: closing with 1009");
        return CloseCause::OVERSIZE;
    }
    tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, code = CloseCause::READ_ERROR.error_code(), error = %e, "ws read failed");
    CloseCause::READ_ERROR
}

/// Finds tungstenite's error inside axum's.
fn source_tungstenite(e: &axum::Error) -> Option<&tungstenite::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<tungstenite::Error>() {
            return Some(t);
        }
        source = s.source();
    }
    None
}

fn handle_text(hub: &Arc<Hub>, sub: &Arc<Subscriber>, text: &str) {
    let msg = match parse_client_message(text) {
        Ok(m) => m,
        Err(e) => {
            let r = Refused {
                id: command_id(text),
                ..refused(e.kind(), e.to_string())
            };
            return reject(hub, sub, r);
        }
    };
    match msg {
        ClientMessage::Subscribe(sel) => match hub.subscribe(sub, &sel) {
            Ok(()) => hub.reply(
                sub,
                &ServerMessage::Ack {
                    op: "subscribe",
                    stations: sel.stations,
                    chargers: sel.chargers,
                },
            ),
            Err(r) => reject(hub, sub, refused(r.kind(), r.to_string())),
        },
        ClientMessage::Unsubscribe(sel) => {
            hub.unsubscribe(sub, &sel);
            hub.reply(
                sub,
                &ServerMessage::Ack {
                    op: "unsubscribe",
                    stations: sel.stations,
                    chargers: sel.chargers,
                },
            );
        }
        ClientMessage::Command { charger, command } => {
            let id = command.id.clone();
            if !sub.claims.may_command {
                let message = "this token may not send commands".into();
                let r = Refused {
                    id: Some(id),
                    charger: Some(&charger),
                    ..refused("not_allowed", message)
                };
                return reject(hub, sub, r);
            }
            let station = hub.stations.station_of(&charger);
            if !sub.claims.covers_charger(&charger, station.as_deref()) {
                let message = format!("charger {charger} is not covered by this token");
                let r = Refused {
                    id: Some(id),
                    charger: Some(&charger),
                    ..refused("not_covered", message)
                };
                return reject(hub, sub, r);
            }
            tracing::info!(subscriber = sub.id, sub = %sub.claims.sub, charger = %charger, command = command.kind.name(), "ws command sent");
            let (hub, sub) = (Arc::clone(hub), Arc::clone(sub));
            tokio::spawn(async move {
                let name = command.kind.name();
                let result = match tokio::time::timeout(
                    hub.config.command_timeout,
                    hub.dispatcher.dispatch(charger.clone(), command),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => chargegate_codec::event::CommandResultData {
                        command_id: id.clone(),
                        command: name.to_owned(),
                        status: chargegate_codec::event::CommandStatus::Timeout,
                        detail: serde_json::Value::Null,
                    },
                };
                let status = serde_json::to_value(result.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "unknown".into());
                hub.metrics.commands.with_label_values(&[&status]).inc();
                tracing::info!(subscriber = sub.id, charger = %charger, command = name, status = %status, "ws command answered");
                hub.reply(&sub, &ServerMessage::Result { id, result });
            });
        }
    }
}

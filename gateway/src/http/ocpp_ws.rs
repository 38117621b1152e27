//! The OCPP-J WebSocket route `GET /ocpp/{chargerId}` (J16 §3, SEC §2): handshake checks, then the socket is
//! bridged into the same connection pipeline TCP chargers go through.
//!
//! Handshake order (docs `protocols/ocpp.md` §2): percent-decoded id (empty or containing `/ + #` → 400) →
//! charger registry, when one is configured: unknown id → **404**, bad or missing Basic-auth password → **401**,
//! both before the upgrade → subprotocol: the first of the server's preference list the client offered → 101.
//! With no common subprotocol the handshake completes without the header and the socket is closed at once, as
//! OCPP-J requires. Without a registry the route is open (the authenticator's open mode logs the warning).
//!
//! After the upgrade, [`bridge`] turns the WebSocket into a byte stream for
//! [`crate::pipeline::connection::run_connection`]: a connect record with the identity proven here, then one
//! record per text message (`chargegate_codec::ocpp::plugin`). So WebSocket chargers share the pipeline layers,
//! the session registry and the [`crate::session::CommandDispatcher`] with every TCP charger.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::BytesMut;
use chargegate_codec::ocpp::plugin::{bridge_connect, bridge_split, bridge_text, BRIDGE_TEXT};
use chargegate_codec::ocpp::OcppVersion;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::pipeline::charger_registry::ChargerRegistry;
use crate::pipeline::connection::{run_connection, ConnectionContext};

/// Initial WebSocket read buffer per connection (tungstenite's default is 128 KiB, eagerly allocated).
pub const DEFAULT_READ_BUFFER: usize = 4 * 1024;
/// Largest OCPP-J message accepted by default.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;
/// Largest queued outbound bytes per socket before writes fail.
pub const DEFAULT_MAX_WRITE_BUFFER: usize = 64 * 1024;
/// Capacity of the in-memory pipe between the WebSocket and the pipeline.
const BRIDGE_PIPE: usize = 16 * 1024;
/// Characters an identity must not contain (they would break the URL segment or Basic auth).
const FORBIDDEN_ID_CHARS: [char; 3] = ['/', '+', '#'];
/// Realm named in the 401 challenge.
const REALM: &str = "Basic realm=\"chargegate-ocpp\"";
/// First connection id used for WebSocket connections, far above the TCP listeners' counters.
pub const FIRST_WS_CONN_ID: u64 = 1 << 48;

/// WebSocket settings of the OCPP-J route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcppWsConfig {
    /// Subprotocols the server accepts, in its order of preference.
    pub subprotocols: Vec<OcppVersion>,
    /// Initial read buffer per socket.
    pub read_buffer: usize,
    /// Largest message (and frame) accepted.
    pub max_message: usize,
    /// Largest queued outbound bytes.
    pub max_write_buffer: usize,
}

impl Default for OcppWsConfig {
    fn default() -> Self {
        OcppWsConfig {
            subprotocols: vec![OcppVersion::V16, OcppVersion::V201],
            read_buffer: DEFAULT_READ_BUFFER,
            max_message: DEFAULT_MAX_MESSAGE,
            max_write_buffer: DEFAULT_MAX_WRITE_BUFFER,
        }
    }
}

/// Everything the route shares between connections.
#[derive(Clone)]
pub struct OcppRouteContext {
    /// The pipeline handles (codec registry with the `ocpp` codec, sessions, authenticator, router, wheel,
    /// connection settings); `codec_name` must be `"ocpp"`.
    pub connection: ConnectionContext,
    /// The charger registry for the 404/401 checks before the upgrade; `None` = open mode.
    pub registry: Option<Arc<ChargerRegistry>>,
    /// WebSocket settings.
    pub config: OcppWsConfig,
    /// Connection id counter (share it with nothing else, or start it at [`FIRST_WS_CONN_ID`]).
    pub conn_ids: Arc<AtomicU64>,
}

/// The `/ocpp/{charger_id}` route, ready to merge into `GatewayParts.hooks`.
pub fn ocpp_routes(ctx: OcppRouteContext) -> Router {
    Router::new()
        .route("/ocpp/{charger_id}", get(handshake))
        .with_state(ctx)
}

/// Why a handshake was refused before the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The id is empty or contains a forbidden character (400).
    BadId,
    /// The registry does not know the charger (404).
    UnknownCharger,
    /// Missing or wrong Basic-auth credentials (401).
    BadCredentials,
}

impl Refused {
    /// Stable label: the `reason` of `chargegate_auth_failures_total` and the log's error code (the same labels
    /// the authenticator uses for TCP chargers).
    pub fn label(self) -> &'static str {
        match self {
            Refused::BadId => "bad_id",
            Refused::UnknownCharger => "unknown_charger",
            Refused::BadCredentials => "bad_credential",
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::BadId => (StatusCode::BAD_REQUEST, "bad charger id\n").into_response(),
            Refused::UnknownCharger => (StatusCode::NOT_FOUND, "unknown charger\n").into_response(),
            Refused::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, REALM)],
                "bad credentials\n",
            )
                .into_response(),
        }
    }
}

/// The Basic-auth password of charger `id` from an `Authorization` header value: base64 of `<id>:<password>`,
/// split on the known identity prefix (the password is raw bytes and may contain `:` or non-UTF-8).
pub fn basic_password(header_value: &str, id: &str) -> Option<Vec<u8>> {
    chargegate_codec::ocpp::basic_auth::password_for(header_value, id).ok()
}

/// Checks the id and, with a registry, the charger and its password; returns the password presented.
pub fn admit(
    registry: Option<&ChargerRegistry>,
    id: &str,
    headers: &HeaderMap,
) -> Result<Option<Vec<u8>>, Refused> {
    if id.is_empty() || id.contains(FORBIDDEN_ID_CHARS) {
        return Err(Refused::BadId);
    }
    let password = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| basic_password(v, id));
    let Some(registry) = registry else {
        return Ok(password);
    };
    let record = registry.get(id).ok_or(Refused::UnknownCharger)?;
    match (&record.secret, &password) {
        (None, _) => Ok(password),
        (Some(hash), Some(presented)) if hash.verify(presented) => Ok(password),
        (Some(_), _) => Err(Refused::BadCredentials),
    }
}

async fn handshake(
    State(ctx): State<OcppRouteContext>,
    Path(charger_id): Path<String>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let password = match admit(ctx.registry.as_deref(), &charger_id, &headers) {
        Ok(password) => password,
        Err(refused) => {
            let code = refused.label();
            tracing::info!(charger = %charger_id, code, "OCPP-J handshake refused");
            ctx.connection.observer.auth_failure(code);
            return refused.into_response();
        }
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let config = &ctx.config;
    let ws = ws
        .read_buffer_size(config.read_buffer)
        .write_buffer_size(0)
        .max_write_buffer_size(config.max_write_buffer.max(1))
        .max_message_size(config.max_message)
        .max_frame_size(config.max_message)
        .protocols(config.subprotocols.iter().map(|v| v.subprotocol()));
    let version = ws
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(OcppVersion::from_subprotocol);
    ws.on_upgrade(move |socket| async move {
        match version {
            Some(version) => bridge(socket, ctx, version, charger_id, password).await,
            None => {
                tracing::info!(charger = %charger_id, "no common OCPP subprotocol; closing");
                let mut socket = socket;
                let _ = socket.send(Message::Close(None)).await;
            }
        }
    })
}

/// Runs one upgraded socket through the connection pipeline until either side closes.
async fn bridge(
    mut socket: WebSocket,
    ctx: OcppRouteContext,
    version: OcppVersion,
    charger_id: String,
    password: Option<Vec<u8>>,
) {
    let conn_id = ctx.conn_ids.fetch_add(1, Ordering::Relaxed);
    let (ours, pipeline_side) = tokio::io::duplex(BRIDGE_PIPE);
    let connection = tokio::spawn(run_connection(
        pipeline_side,
        conn_id,
        ctx.connection.clone(),
    ));
    let (mut from_pipeline, mut to_pipeline) = tokio::io::split(ours);
    let hello = bridge_connect(version, &charger_id, password.as_deref());
    if to_pipeline.write_all(&hello).await.is_err() {
        return;
    }
    let mut out = BytesMut::with_capacity(DEFAULT_READ_BUFFER);
    loop {
        tokio::select! {
            inbound = socket.recv() => match inbound {
                Some(Ok(Message::Text(text))) => {
                    if to_pipeline.write_all(&bridge_text(text.as_bytes())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    tracing::debug!(charger = %charger_id, "binary WebSocket message ignored (OCPP-J is text)");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
            read = from_pipeline.read_buf(&mut out) => {
                if matches!(read, Ok(0) | Err(_)) {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
                while let Some((kind, body)) = bridge_split(&mut out) {
                    if kind != BRIDGE_TEXT {
                        continue;
                    }
                    let Ok(text) = Utf8Bytes::try_from(body) else { continue };
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
    drop(to_pipeline);
    drop(from_pipeline);
    let _ = connection.await;
}

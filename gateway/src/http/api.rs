//! REST handlers under `/api/v1` and the [`CommandDispatcher`] they send commands through.

use std::future::Future;
use std::pin::Pin;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chargegate_codec::command::Command;
use chargegate_codec::event::{CommandResultData, CommandStatus};
use serde::Deserialize;

use super::directory::{ChargerFilter, PageRequest};
use super::HttpState;

/// The future a dispatcher returns: resolves when the charger answers (or the dispatcher gives up).
pub type DispatchFuture = Pin<Box<dyn Future<Output = CommandResultData> + Send + 'static>>;

/// Sends a normalized command to a charger and resolves to its correlated result. The session registry
/// implements it; the HTTP layer adds the `http.command_timeout_secs` deadline.
pub trait CommandDispatcher: Send + Sync + 'static {
    /// Sends `command` to `charger`.
    fn dispatch(&self, charger: String, command: Command) -> DispatchFuture;
}

/// The dispatcher of a gateway with no session registry wired in: every command is `offline`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnavailableDispatcher;

impl CommandDispatcher for UnavailableDispatcher {
    fn dispatch(&self, _charger: String, command: Command) -> DispatchFuture {
        Box::pin(async move {
            CommandResultData {
                command_id: command.id,
                command: command.kind.name().to_owned(),
                status: CommandStatus::Offline,
                detail: serde_json::json!({"reason": "no session registry in this build"}),
            }
        })
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    #[serde(flatten)]
    filter: ChargerFilter,
    offset: Option<usize>,
    limit: Option<usize>,
}

pub(super) async fn list_chargers(
    State(s): State<HttpState>,
    Query(q): Query<ListQuery>,
) -> Response {
    let (default, max) = s.page_size;
    let page = PageRequest {
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(default).clamp(1, max),
    };
    Json(s.directory.list(&q.filter, page)).into_response()
}

pub(super) async fn get_charger(State(s): State<HttpState>, Path(id): Path<String>) -> Response {
    match s.directory.get(&id) {
        Some(c) => Json(c).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "unknown charger", "id": id})),
        )
            .into_response(),
    }
}

/// `200` with the result the charger gave (accepted, rejected, …); `504` with status `timeout` when no answer
/// came within `http.command_timeout_secs`.
pub(super) async fn post_command(
    State(s): State<HttpState>,
    Path(id): Path<String>,
    Json(command): Json<Command>,
) -> Response {
    let (command_id, name) = (command.id.clone(), command.kind.name());
    let started = std::time::Instant::now();
    match tokio::time::timeout(
        s.command_timeout,
        s.dispatcher.dispatch(id.clone(), command),
    )
    .await
    {
        Ok(result) => {
            tracing::info!(charger = %id, command = name, status = ?result.status, elapsed_ms = started.elapsed().as_millis() as u64, "REST command answered");
            Json(result).into_response()
        }
        Err(_) => {
            tracing::warn!(charger = %id, command = name, "REST command timed out");
            let result = CommandResultData {
                command_id,
                command: name.to_owned(),
                status: CommandStatus::Timeout,
                detail: serde_json::Value::Null,
            };
            (StatusCode::GATEWAY_TIMEOUT, Json(result)).into_response()
        }
    }
}

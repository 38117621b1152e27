//! A simulated OCPP 1.6 charger, over WebSocket (OCPP-J, subprotocol `ocpp1.6`) or raw TCP in the `ocpp-tcp`
//! envelope: BootNotification → StatusNotification → Heartbeat with the period by state → plug (Preparing),
//! StartTransaction, MeterValues, StopTransaction → Available. It answers the central system's CALLs like a charge
//! point (RemoteStart/RemoteStopTransaction → Accepted, and a start or stop) and matches every CALLRESULT or
//! CALLERROR to a CALL it sent by message id.

use std::time::Duration;

use bytes::Bytes;
use chargegate_codec::frame::{FrameDecoder, FrameEvent};
use chargegate_codec::ocpp::envelope::Envelope;
use chargegate_codec::ocpp::error::ErrorCode;
use chargegate_codec::ocpp::rpc::{self, Message as Rpc};
use chargegate_codec::ocpp::OcppVersion;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;
use tokio_util::codec::FramedRead;

use crate::charger::{self, ChargerPlan, End, SessionEnd, Sim, UpGuard};
use crate::fault::{ChargerFault, FrameFault};
use crate::report::{Counters, FailReason, Latency, Mismatch};
use crate::rng::Rng;
use crate::spec::Protocol;

/// WebSocket read buffer per charger (tungstenite's default is 128 KiB).
const WS_READ_BUFFER: usize = 4 * 1024;
/// Largest message accepted from the gateway.
const WS_MAX_MESSAGE: usize = 64 * 1024;
/// Read buffer of a raw-TCP charger.
const TCP_READ_BUFFER: usize = 1024;
/// CALLs in flight at most; older ones are dropped and counted unanswered.
const MAX_PENDING: usize = 8;
/// Gap between slowloris bytes and never-login beats.
const SLOW_GAP: Duration = Duration::from_secs(1);
/// The `ocpp-tcp` start marker's first byte (garbage avoids it).
const TCP_MARKER: u8 = b'O';

enum Link {
    Ws(Box<WebSocketStream<TcpStream>>),
    Tcp {
        read: Box<FramedRead<OwnedReadHalf, FrameDecoder>>,
        write: OwnedWriteHalf,
        envelope: Box<Envelope>,
    },
}

/// What arrived on a link.
enum Inbound {
    Text(Bytes),
    BadFrame,
    Closed,
    Other,
}

impl Link {
    async fn recv(&mut self) -> Inbound {
        match self {
            Link::Ws(ws) => match ws.next().await {
                Some(Ok(WsMessage::Text(t))) => Inbound::Text(Bytes::copy_from_slice(t.as_bytes())),
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => Inbound::Closed,
                Some(Ok(_)) => Inbound::Other,
            },
            Link::Tcp { read, envelope, .. } => match read.next().await {
                Some(Ok(FrameEvent::Frame { bytes, .. })) => match envelope.payload(&bytes) {
                    Some(p) => Inbound::Text(Bytes::copy_from_slice(p)),
                    None => Inbound::BadFrame,
                },
                Some(Ok(FrameEvent::CrcMismatch { .. } | FrameEvent::Corrupted { .. }))
                | Some(Ok(FrameEvent::TooLong { .. })) => Inbound::BadFrame,
                Some(Ok(_)) => Inbound::Other,
                Some(Err(_)) | None => Inbound::Closed,
            },
        }
    }
}

struct Pending {
    id: u32,
    action: &'static str,
    sent: Instant,
    class: Latency,
}

struct Point<'a> {
    sim: &'a Sim,
    rng: &'a mut Rng,
    id: String,
    link: Link,
    next_id: u32,
    pending: Vec<Pending>,
    /// Transaction id while charging (0 = started, id not yet known).
    charging: Option<(i64, Instant)>,
    meter_wh: u64,
}

/// One connection of one OCPP charger, from connect to close.
pub async fn session(
    plan: &ChargerPlan,
    sim: &Sim,
    rng: &mut Rng,
    storm: &mut watch::Receiver<u64>,
) -> SessionEnd {
    let id = plan.id();
    let link = match connect(plan.protocol, sim, &id).await {
        Ok(l) => l,
        Err(end) => return SessionEnd::before_login(end),
    };
    let mut p = Point {
        sim,
        rng,
        id,
        link,
        next_id: 0,
        pending: Vec::new(),
        charging: None,
        meter_wh: 0,
    };
    match plan.fault {
        Some(f @ ChargerFault::NeverLogin) => {
            charger::count_charger_fault(sim, f);
            return SessionEnd::before_login(p.never_login(storm).await);
        }
        Some(f @ ChargerFault::Slowloris) => {
            charger::count_charger_fault(sim, f);
            let text = boot_text(&p.id, 0);
            let end = match &mut p.link {
                Link::Tcp {
                    write, envelope, ..
                } => match envelope.encode(text.as_bytes()) {
                    Ok(frame) => match charger::trickle(write, &frame, SLOW_GAP, &sim.stop).await {
                        Ok(()) if sim.stop.is_cancelled() => End::Stopped,
                        Ok(()) => End::Failed(FailReason::LoginTimeout),
                        Err(_) => End::Failed(FailReason::ClosedByPeer),
                    },
                    Err(_) => End::Stopped,
                },
                // A WebSocket charger cannot trickle below the frame layer; it just waits to be dropped.
                Link::Ws(_) => p.silent(storm).await,
            };
            return SessionEnd::before_login(end);
        }
        _ => {}
    }
    let boot = json!({
        "chargePointVendor": "Chargegate",
        "chargePointModel": "device-sim",
        "chargeBoxSerialNumber": p.id,
        "firmwareVersion": "SIM-0.2",
    });
    if let Err(end) = p
        .call("BootNotification", &boot, Latency::Login, FrameFault::None)
        .await
    {
        return SessionEnd::before_login(end);
    }
    let deadline = Instant::now() + sim.cfg.reply_timeout;
    loop {
        let inbound = tokio::select! {
            _ = sim.stop.cancelled() => return SessionEnd::before_login(End::Stopped),
            r = tokio::time::timeout_at(deadline, p.link.recv()) => r,
        };
        match inbound {
            Err(_) => return SessionEnd::before_login(End::Failed(FailReason::LoginTimeout)),
            Ok(Inbound::Closed) => {
                return SessionEnd::before_login(End::Failed(FailReason::ClosedByPeer))
            }
            Ok(Inbound::BadFrame) => sim.counters.mismatch(Mismatch::Crc),
            Ok(Inbound::Other) => {}
            Ok(Inbound::Text(t)) => match p.on_text(&t).await {
                Ok(Some(("BootNotification", payload))) => {
                    if payload.get("status").and_then(Value::as_str) == Some("Accepted") {
                        break;
                    }
                    return SessionEnd::before_login(End::Failed(FailReason::LoginRefused));
                }
                Ok(_) => {}
                Err(end) => return SessionEnd::before_login(end),
            },
        }
    }
    let _up = UpGuard::new(&sim.counters);
    if let Some(f @ ChargerFault::Silent) = plan.fault {
        charger::count_charger_fault(sim, f);
        return SessionEnd::after_login(p.silent(storm).await);
    }
    let end = match p.status("Available").await {
        Ok(()) => p.main_loop(plan, storm).await,
        Err(end) => end,
    };
    SessionEnd::after_login(end)
}

async fn connect(protocol: Protocol, sim: &Sim, id: &str) -> Result<Link, End> {
    let timeout = sim.cfg.reply_timeout;
    let (target, url) = match protocol {
        Protocol::OcppTcp => (sim.cfg.targets.ocpp_tcp, None),
        _ => {
            let Some(base) = sim.cfg.targets.ocpp_ws.as_deref() else {
                return Err(End::Stopped);
            };
            let url = format!("{base}/{id}");
            let addr = url
                .strip_prefix("ws://")
                .and_then(|rest| rest.split('/').next())
                .and_then(|hp| crate::spec::parse_targets(hp).ok())
                .and_then(|t| t.ykc);
            (addr, Some(url))
        }
    };
    let Some(target) = target else {
        return Err(End::Stopped);
    };
    let stream = match tokio::time::timeout(
        timeout,
        crate::net::connect(target, sim.sources.next()),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(End::Failed(FailReason::of_connect(&e))),
        Err(_) => return Err(End::Failed(FailReason::ConnectTimeout)),
    };
    match url {
        None => {
            let envelope = Envelope::ocpp_tcp();
            let (read, write) = stream.into_split();
            let read = Box::new(FramedRead::with_capacity(
                read,
                envelope.decoder(),
                TCP_READ_BUFFER,
            ));
            Ok(Link::Tcp {
                read,
                write,
                envelope: Box::new(envelope),
            })
        }
        Some(url) => {
            let mut request = url
                .into_client_request()
                .map_err(|_| End::Failed(FailReason::Handshake))?;
            request.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                tokio_tungstenite::tungstenite::http::HeaderValue::from_static("ocpp1.6"),
            );
            let config = WebSocketConfig::default()
                .read_buffer_size(WS_READ_BUFFER)
                .write_buffer_size(0)
                .max_message_size(Some(WS_MAX_MESSAGE))
                .max_frame_size(Some(WS_MAX_MESSAGE));
            let handshake =
                tokio_tungstenite::client_async_with_config(request, stream, Some(config));
            match tokio::time::timeout(timeout, handshake).await {
                Ok(Ok((ws, _))) => Ok(Link::Ws(Box::new(ws))),
                _ => Err(End::Failed(FailReason::Handshake)),
            }
        }
    }
}

fn boot_text(id: &str, msg_id: u32) -> String {
    let payload = json!({"chargePointVendor": "Chargegate", "chargePointModel": "device-sim", "chargeBoxSerialNumber": id});
    rpc::encode_call(&msg_id.to_string(), "BootNotification", &payload).unwrap_or_default()
}

fn now_iso() -> &'static str {
    "2026-01-01T00:00:00Z"
}

impl Point<'_> {
    /// Writes one OCPP-J text, framed for the link, with `how`'s fault (raw TCP only).
    async fn write_text(&mut self, text: &str, how: FrameFault, extra: &str) -> Result<(), End> {
        let failed = |_| End::Failed(FailReason::WriteError);
        match &mut self.link {
            Link::Ws(ws) => ws
                .send(WsMessage::text(text))
                .await
                .map_err(|_| End::Failed(FailReason::WriteError))?,
            Link::Tcp {
                write, envelope, ..
            } => {
                let Ok(frame) = envelope.encode(text.as_bytes()) else {
                    return Ok(());
                };
                let extra = if extra.is_empty() {
                    Bytes::new()
                } else {
                    envelope.encode(extra.as_bytes()).unwrap_or_default()
                };
                charger::write_frame(write, &frame, how, &extra, &[TCP_MARKER], self.rng)
                    .await
                    .map_err(failed)?;
            }
        }
        Counters::bump(&self.sim.counters.sent);
        Ok(())
    }

    fn expect(&mut self, id: u32, action: &'static str, class: Latency) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
            self.sim.counters.mismatch(Mismatch::NoReply);
        }
        self.pending.push(Pending {
            id,
            action,
            sent: Instant::now(),
            class,
        });
    }

    /// Sends a CALL and expects its answer.
    async fn call(
        &mut self,
        action: &'static str,
        payload: &Value,
        class: Latency,
        how: FrameFault,
    ) -> Result<(), End> {
        // WebSocket frames cannot be split or corrupted below the message layer.
        let how = if matches!(self.link, Link::Ws(_)) {
            FrameFault::None
        } else {
            how
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let Ok(text) = rpc::encode_call(&id.to_string(), action, payload) else {
            return Ok(());
        };
        let mut extra = String::new();
        if how == FrameFault::Coalesce {
            let beat = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            extra =
                rpc::encode_call(&beat.to_string(), "Heartbeat", &json!({})).unwrap_or_default();
            self.expect(beat, "Heartbeat", Latency::Heartbeat);
            Counters::bump(&self.sim.counters.sent);
        }
        if how != FrameFault::BadCrc {
            self.expect(id, action, class);
        }
        self.write_text(&text, how, &extra).await
    }

    /// Handles one text; returns the action and payload of a CALLRESULT that answered one of our CALLs.
    async fn on_text(&mut self, text: &[u8]) -> Result<Option<(&'static str, Value)>, End> {
        let Ok(text) = std::str::from_utf8(text) else {
            self.sim.counters.mismatch(Mismatch::BadJson);
            return Ok(None);
        };
        let msg = match rpc::parse(text, OcppVersion::V16) {
            Ok(m) => m,
            Err(_) => {
                self.sim.counters.mismatch(Mismatch::BadJson);
                return Ok(None);
            }
        };
        match msg {
            Rpc::CallResult(r) => {
                let Some(i) =
                    r.id.parse::<u32>()
                        .ok()
                        .and_then(|n| self.pending.iter().position(|p| p.id == n))
                else {
                    self.sim.counters.mismatch(Mismatch::UnknownId);
                    return Ok(None);
                };
                let p = self.pending.remove(i);
                self.sim.counters.latency(p.class, p.sent.elapsed());
                Counters::bump(&self.sim.counters.answered);
                let payload: Value = serde_json::from_str(r.payload.get()).unwrap_or(Value::Null);
                Ok(Some((p.action, payload)))
            }
            Rpc::CallError(e) | Rpc::CallResultError(e) => {
                let known =
                    e.id.parse::<u32>()
                        .ok()
                        .and_then(|n| self.pending.iter().position(|p| p.id == n));
                match known {
                    Some(i) => {
                        self.pending.remove(i);
                        self.sim.counters.mismatch(Mismatch::CallError);
                    }
                    None => self.sim.counters.mismatch(Mismatch::UnknownId),
                }
                Ok(None)
            }
            Rpc::Call(c) | Rpc::Send(c) => {
                let action = c.action.to_string();
                let id = c.id.to_string();
                let payload: Value = serde_json::from_str(c.payload.get()).unwrap_or(Value::Null);
                self.on_call(&id, &action, &payload).await?;
                Ok(None)
            }
        }
    }

    /// Answers a CALL from the central system like a charge point.
    async fn on_call(&mut self, id: &str, action: &str, payload: &Value) -> Result<(), End> {
        let accepted = json!({"status": "Accepted"});
        let reply = match action {
            "RemoteStartTransaction"
            | "RemoteStopTransaction"
            | "Reset"
            | "ChangeAvailability"
            | "ChangeConfiguration"
            | "UnlockConnector"
            | "TriggerMessage"
            | "ClearCache"
            | "DataTransfer" => rpc::encode_result(id, &accepted),
            "GetConfiguration" => {
                rpc::encode_result(id, &json!({"configurationKey": [], "unknownKey": []}))
            }
            _ => rpc::encode_error(
                id,
                ErrorCode::NotImplemented,
                "device-sim",
                None,
                OcppVersion::V16,
            ),
        };
        if let Ok(text) = reply {
            self.write_text(&text, FrameFault::None, "").await?;
            Counters::bump(&self.sim.counters.commands_answered);
        }
        match action {
            "RemoteStartTransaction" if self.charging.is_none() => self.start().await?,
            "RemoteStopTransaction" => {
                let matches = payload.get("transactionId").and_then(Value::as_i64)
                    == self.charging.map(|c| c.0);
                if matches || self.charging.is_some() {
                    self.stop().await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn status(&mut self, status: &str) -> Result<(), End> {
        let payload = json!({"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": now_iso()});
        self.call(
            "StatusNotification",
            &payload,
            Latency::Command,
            FrameFault::None,
        )
        .await
    }

    async fn start(&mut self) -> Result<(), End> {
        let length = self.sim.cfg.session_length.at(self.rng.unit());
        self.charging = Some((0, Instant::now() + length));
        self.status("Preparing").await?;
        let payload = json!({"connectorId": 1, "idTag": "SIM", "meterStart": self.meter_wh, "timestamp": now_iso()});
        self.call(
            "StartTransaction",
            &payload,
            Latency::Command,
            FrameFault::None,
        )
        .await
    }

    async fn stop(&mut self) -> Result<(), End> {
        let Some((tx, _)) = self.charging.take() else {
            return Ok(());
        };
        let payload = json!({"transactionId": tx, "meterStop": self.meter_wh, "timestamp": now_iso(), "reason": "Local"});
        let how = charger::draw_frame_fault(self.sim, self.rng);
        self.call("StopTransaction", &payload, Latency::Command, how)
            .await?;
        self.status("Available").await
    }

    async fn meter_values(&mut self) -> Result<(), End> {
        let Some((tx, _)) = self.charging else {
            return Ok(());
        };
        self.meter_wh += 1;
        if let Some(o) = &self.sim.observed {
            o.sent(&self.id, self.meter_wh);
        }
        let payload = json!({
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [{
                "timestamp": now_iso(),
                "sampledValue": [
                    {"value": self.meter_wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"}
                ]
            }]
        });
        let how = charger::draw_frame_fault(self.sim, self.rng);
        self.call("MeterValues", &payload, Latency::Command, how)
            .await?;
        Counters::bump(&self.sim.counters.telemetry_sent);
        Ok(())
    }

    fn expire(&mut self) {
        let timeout = self.sim.cfg.reply_timeout;
        let before = self.pending.len();
        self.pending.retain(|p| p.sent.elapsed() < timeout);
        for _ in self.pending.len()..before {
            self.sim.counters.mismatch(Mismatch::NoReply);
        }
    }

    async fn main_loop(&mut self, plan: &ChargerPlan, storm: &mut watch::Receiver<u64>) -> End {
        let cfg = &self.sim.cfg;
        let far = charger::far_future();
        let mut next_beat = charger::first_beat(&cfg.heartbeat_idle, self.rng);
        let mut next_plug = charger::first_plug(plan, cfg, self.rng);
        let mut next_telemetry = far;
        loop {
            let oldest = self
                .pending
                .iter()
                .map(|p| p.sent + cfg.reply_timeout)
                .min();
            let wake = [
                next_beat,
                next_plug,
                next_telemetry,
                self.charging.map_or(far, |c| c.1),
                oldest.unwrap_or(far),
            ]
            .into_iter()
            .min()
            .unwrap_or(far);
            tokio::select! {
                _ = self.sim.stop.cancelled() => return End::Stopped,
                _ = storm.changed() => return End::Storm,
                inbound = self.link.recv() => {
                    match inbound {
                        Inbound::Closed => return End::Failed(FailReason::ClosedByPeer),
                        Inbound::BadFrame => self.sim.counters.mismatch(Mismatch::Crc),
                        Inbound::Other => {}
                        Inbound::Text(t) => match self.on_text(&t).await {
                            Ok(Some(("StartTransaction", payload))) => {
                                let tx = payload
                                    .get("transactionId")
                                    .and_then(Value::as_i64)
                                    .unwrap_or(0);
                                if let Some(c) = self.charging.as_mut() {
                                    c.0 = tx;
                                }
                                if let Err(end) = self.status("Charging").await {
                                    return end;
                                }
                                next_telemetry = Instant::now() + cfg.telemetry_interval;
                            }
                            Ok(_) => {}
                            Err(end) => return end,
                        },
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(wake) => {}
            }
            let now = Instant::now();
            self.expire();
            let step = async {
                if now >= next_beat {
                    let range = if self.charging.is_some() {
                        &cfg.heartbeat_charging
                    } else {
                        &cfg.heartbeat_idle
                    };
                    next_beat = now + charger::period(range, self.rng);
                    let how = charger::draw_frame_fault(self.sim, self.rng);
                    self.call("Heartbeat", &json!({}), Latency::Heartbeat, how)
                        .await?;
                }
                if now >= next_plug && self.charging.is_none() {
                    next_plug = far;
                    self.start().await?;
                }
                if let Some((_, ends)) = self.charging {
                    if now >= ends {
                        self.stop().await?;
                        next_telemetry = far;
                        if plan.charging {
                            next_plug = now + cfg.session_length.at(self.rng.unit());
                        }
                    } else if now >= next_telemetry {
                        next_telemetry = now + cfg.telemetry_interval;
                        self.meter_values().await?;
                    }
                }
                Ok::<(), End>(())
            };
            if let Err(end) = step.await {
                return end;
            }
        }
    }

    /// Heartbeats without a BootNotification, until the gateway closes the connection.
    async fn never_login(&mut self, storm: &mut watch::Receiver<u64>) -> End {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            let text =
                rpc::encode_call(&id.to_string(), "Heartbeat", &json!({})).unwrap_or_default();
            if self.write_text(&text, FrameFault::None, "").await.is_err() {
                return End::Failed(FailReason::ClosedByPeer);
            }
            let until = Instant::now() + SLOW_GAP;
            loop {
                tokio::select! {
                    _ = self.sim.stop.cancelled() => return End::Stopped,
                    _ = storm.changed() => return End::Storm,
                    inbound = self.link.recv() => if let Inbound::Closed = inbound {
                        return End::Failed(FailReason::ClosedByPeer);
                    },
                    _ = tokio::time::sleep_until(until) => break,
                }
            }
        }
    }

    /// Reads until the gateway gives up on the connection.
    async fn silent(&mut self, storm: &mut watch::Receiver<u64>) -> End {
        loop {
            tokio::select! {
                _ = self.sim.stop.cancelled() => return End::Stopped,
                _ = storm.changed() => return End::Storm,
                inbound = self.link.recv() => if let Inbound::Closed = inbound {
                    return End::Failed(FailReason::ClosedByPeer);
                },
            }
        }
    }
}

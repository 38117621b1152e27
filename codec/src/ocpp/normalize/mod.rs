//! OCPP → normalized events: each typed CALL a charger sends becomes zero or more [`Observation`]s.
//!
//! BootNotification → `online`; StatusNotification → `status` (+ `alarm` when `errorCode` ≠ `NoError`;
//! connector 0 = the charger); MeterValues → `meter` (units converted, phases split); Heartbeat → `heartbeat`;
//! StartTransaction → `session_started`; StopTransaction → `session_stopped` + `transaction` (+ `meter` per `transactionData` entry); Authorize →
//! `authorize`; DataTransfer and the firmware / diagnostics / log / security status messages → `notice`. The
//! 2.0.1 mapping (TransactionEvent Started / Updated / Ended) lives in [`v201`].

pub mod meter;
pub mod v201;

use serde_json::json;

use super::v16::{self, ChargePointErrorCode, ChargePointStatus, Request};
use crate::event::{
    AlarmData, AuthorizeData, ConnectorStatus, EventBody, HeartbeatData, MeterData, Observation,
    OnlineData, SessionStartedData, SessionStoppedData, SharedStr, StatusData, StatusNoticeData,
    TransactionData,
};
use meter::{fold, Sample};

/// The OCPP version string put in `online` events.
const V16_VERSION: &str = "1.6";
/// Divisor from the Wh integers of Start/StopTransaction to kWh.
const WH_PER_KWH: f64 = 1000.0;
/// The measurand a sampled value without one has (CORE §7.31).
pub const DEFAULT_MEASURAND: &str = "Energy.Active.Import.Register";

/// An observation on connector `id`; connector 0 (and anything out of `u16` range) is the charger itself.
fn on_connector(charger: &str, id: i64, body: EventBody) -> Observation {
    match u16::try_from(id) {
        Ok(c) if c > 0 => Observation::connector(charger, c, body),
        _ => Observation::charger(charger, body),
    }
}

/// Normalizes a 1.6 CALL from `charger`. `assigned_transaction_id` is the id the central system gave in
/// StartTransaction.conf (the request itself carries none); other actions ignore it.
pub fn normalize_v16(
    charger: &str,
    request: &Request,
    assigned_transaction_id: Option<i64>,
) -> Vec<Observation> {
    match request {
        Request::BootNotification(b) => {
            vec![Observation::charger(charger, EventBody::Online(online(b)))]
        }
        Request::Heartbeat(_) => vec![Observation::charger(
            charger,
            EventBody::Heartbeat(HeartbeatData::default()),
        )],
        Request::StatusNotification(s) => status(charger, s),
        Request::MeterValues(m) => meter_values(charger, m),
        Request::Authorize(a) => vec![Observation::charger(
            charger,
            EventBody::Authorize(AuthorizeData {
                method: "id_tag".into(),
                id: a.id_tag.clone(),
                password_supplied: false,
            }),
        )],
        Request::StartTransaction(s) => vec![on_connector(
            charger,
            s.connector_id,
            EventBody::SessionStarted(SessionStartedData {
                transaction_id: assigned_transaction_id
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                id_tag: Some(s.id_tag.clone()),
                meter_start_kwh: Some(s.meter_start as f64 / WH_PER_KWH),
                started_at: Some(s.timestamp.clone()),
            }),
        )],
        Request::StopTransaction(s) => stop_transaction(charger, s),
        Request::DataTransfer(d) => notice(
            charger,
            "data_transfer",
            json!({"vendor_id": d.vendor_id, "message_id": d.message_id, "data": d.data}),
        ),
        Request::FirmwareStatusNotification(f) => notice(
            charger,
            "firmware_status",
            json!({"status": f.status.as_str()}),
        ),
        Request::DiagnosticsStatusNotification(d) => notice(
            charger,
            "diagnostics_status",
            json!({"status": d.status.as_str()}),
        ),
        Request::SignedFirmwareStatusNotification(f) => notice(
            charger,
            "firmware_status",
            json!({"status": f.status.as_str(), "request_id": f.request_id}),
        ),
        Request::LogStatusNotification(l) => notice(
            charger,
            "log_status",
            json!({"status": l.status.as_str(), "request_id": l.request_id}),
        ),
        Request::SecurityEventNotification(s) => notice(
            charger,
            "security_event",
            json!({"type": s.r#type, "timestamp": s.timestamp, "tech_info": s.tech_info}),
        ),
        _ => Vec::new(),
    }
}

fn notice(charger: &str, topic: &str, detail: serde_json::Value) -> Vec<Observation> {
    vec![Observation::charger(
        charger,
        EventBody::Notice(StatusNoticeData {
            topic: topic.into(),
            detail,
        }),
    )]
}

fn online(b: &v16::BootNotificationRequest) -> OnlineData {
    OnlineData {
        protocol_version: Some(V16_VERSION.into()),
        vendor: Some(b.charge_point_vendor.clone()),
        model: Some(b.charge_point_model.clone()),
        serial: b
            .charge_point_serial_number
            .clone()
            .or_else(|| b.charge_box_serial_number.clone()),
        firmware: b.firmware_version.clone(),
        iccid: b.iccid.clone(),
        ..Default::default()
    }
}

/// Maps the 1.6 `ChargePointStatus` onto the event model.
pub fn connector_status(s: ChargePointStatus) -> ConnectorStatus {
    match s {
        ChargePointStatus::Available => ConnectorStatus::Available,
        ChargePointStatus::Preparing => ConnectorStatus::Preparing,
        ChargePointStatus::Charging => ConnectorStatus::Charging,
        ChargePointStatus::SuspendedEVSE => ConnectorStatus::SuspendedEvse,
        ChargePointStatus::SuspendedEV => ConnectorStatus::SuspendedEv,
        ChargePointStatus::Finishing => ConnectorStatus::Finishing,
        ChargePointStatus::Reserved => ConnectorStatus::Reserved,
        ChargePointStatus::Unavailable => ConnectorStatus::Unavailable,
        ChargePointStatus::Faulted => ConnectorStatus::Faulted,
    }
}

fn status(charger: &str, s: &v16::StatusNotificationRequest) -> Vec<Observation> {
    let has_error = s.error_code != ChargePointErrorCode::NoError;
    let mut errors = Vec::new();
    if has_error {
        errors.push(s.error_code.as_str().to_owned());
    }
    let mut out = vec![on_connector(
        charger,
        s.connector_id,
        EventBody::Status(StatusData {
            status: connector_status(s.status),
            vendor_status: SharedStr::Static(s.status.as_str()),
            plugged: None,
            gun_returned: None,
            errors,
            info: s.info.clone(),
        }),
    )];
    if has_error {
        let severity = match (s.status, s.error_code) {
            (ChargePointStatus::Faulted, _) => "major",
            (_, ChargePointErrorCode::EVCommunicationError) => "info",
            _ => "minor",
        };
        let text = [s.info.as_deref(), s.vendor_error_code.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ");
        out.push(on_connector(
            charger,
            s.connector_id,
            EventBody::Alarm(AlarmData {
                code: format!("ocpp.{}", s.error_code.as_str()),
                severity: severity.into(),
                text,
                active: true,
            }),
        ));
    }
    out
}

fn meter_values(charger: &str, m: &v16::MeterValuesRequest) -> Vec<Observation> {
    m.meter_value
        .iter()
        .map(|mv| {
            let mut data = MeterData {
                transaction_id: m.transaction_id.map(|t| t.to_string()),
                sampled_at: Some(mv.timestamp.clone()),
                ..Default::default()
            };
            fold(&mut data, mv.sampled_value.iter().filter_map(sample));
            on_connector(charger, m.connector_id, EventBody::Meter(data))
        })
        .collect()
}

/// A 1.6 sampled value as a [`Sample`]; `None` for signed data or a value that is not a number.
fn sample(sv: &v16::SampledValue) -> Option<Sample<'_>> {
    if sv.format == Some(v16::ValueFormat::SignedData) {
        return None;
    }
    Some(Sample {
        measurand: sv.measurand.map_or(DEFAULT_MEASURAND, |m| m.as_str()),
        value: sv.value.trim().parse().ok()?,
        unit: sv.unit.map(|u| u.as_str()),
        phase: sv.phase.map(|p| p.as_str()),
        location: sv.location.map(|l| l.as_str()),
        context: sv.context.map(|c| c.as_str()),
    })
}

/// The samples of StopTransaction's `transactionData` (same shape as MeterValues, its own unit enum).
fn stop_sample(sv: &v16::StopTransactionMeterValueSampledValue) -> Option<Sample<'_>> {
    if sv.format == Some(v16::ValueFormat::SignedData) {
        return None;
    }
    Some(Sample {
        measurand: sv.measurand.map_or(DEFAULT_MEASURAND, |m| m.as_str()),
        value: sv.value.trim().parse().ok()?,
        unit: sv.unit.map(|u| u.as_str()),
        phase: sv.phase.map(|p| p.as_str()),
        location: sv.location.map(|l| l.as_str()),
        context: sv.context.map(|c| c.as_str()),
    })
}

/// Maps a 1.6 stop reason onto the normalized vocabulary; an absent reason means `Local` (CORE §6.50).
pub fn stop_reason(reason: Option<v16::Reason>) -> &'static str {
    use v16::Reason as R;
    match reason {
        None | Some(R::Local) => "local",
        Some(R::Remote) => "remote",
        Some(R::EmergencyStop) => "emergency_stop",
        Some(R::EVDisconnected) => "ev_disconnected",
        Some(
            R::HardReset
            | R::SoftReset
            | R::Reboot
            | R::PowerLoss
            | R::UnlockCommand
            | R::DeAuthorized
            | R::Other,
        ) => "other",
    }
}

fn stop_transaction(charger: &str, s: &v16::StopTransactionRequest) -> Vec<Observation> {
    let transaction_id = s.transaction_id.to_string();
    let meter_stop_kwh = Some(s.meter_stop as f64 / WH_PER_KWH);
    let reason = stop_reason(s.reason);
    let vendor_reason = Some(s.reason.unwrap_or(v16::Reason::Local).as_str().to_owned());
    let readings = s.transaction_data.iter().flatten().map(|mv| {
        let mut data = MeterData {
            transaction_id: Some(transaction_id.clone()),
            sampled_at: Some(mv.timestamp.clone()),
            ..Default::default()
        };
        fold(&mut data, mv.sampled_value.iter().filter_map(stop_sample));
        Observation::charger(charger, EventBody::Meter(data))
    });
    let mut out: Vec<Observation> = readings.collect();
    out.splice(
        0..0,
        [
            Observation::charger(
                charger,
                EventBody::SessionStopped(SessionStoppedData {
                    transaction_id: transaction_id.clone(),
                    reason: reason.into(),
                    vendor_reason: vendor_reason.clone(),
                    meter_stop_kwh,
                    stopped_at: Some(s.timestamp.clone()),
                }),
            ),
            Observation::charger(
                charger,
                EventBody::Transaction(Box::new(TransactionData {
                    transaction_id,
                    stopped_at: Some(s.timestamp.clone()),
                    meter_stop_kwh,
                    id_tag: s.id_tag.clone(),
                    start_method: Some("id_tag".into()),
                    stop_reason: Some(reason.into()),
                    vendor_stop_reason: vendor_reason,
                    ..Default::default()
                })),
            ),
        ],
    );
    out
}

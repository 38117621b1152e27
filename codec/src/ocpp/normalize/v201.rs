//! OCPP 2.0.1 → normalized events: BootNotification, Heartbeat, StatusNotification, MeterValues, Authorize and
//! TransactionEvent (Started → `session_started`, Updated → `meter`, Ended → `session_stopped` + `transaction`).
//! The EVSE id stands in for the connector number, since 2.0.1 numbers connectors within an EVSE.

use super::meter::{fold, Sample};
use super::{on_connector, DEFAULT_MEASURAND};
use crate::event::{
    AuthorizeData, ConnectorStatus, EventBody, HeartbeatData, MeterData, Observation, OnlineData,
    SessionStartedData, SessionStoppedData, SharedStr, StatusData, TransactionData,
};
use crate::ocpp::v201::{self, ConnectorStatusEnum, ReasonEnum, Request, TransactionEventEnum};

/// The OCPP version string put in `online` events.
const V201_VERSION: &str = "2.0.1";
/// Base of the 2.0.1 `multiplier` exponent.
const MULTIPLIER_BASE: f64 = 10.0;

/// Normalizes a 2.0.1 CALL from `charger`.
pub fn normalize_v201(charger: &str, request: &Request) -> Vec<Observation> {
    match request {
        Request::BootNotification(b) => {
            let cs = &b.charging_station;
            vec![Observation::charger(
                charger,
                EventBody::Online(OnlineData {
                    protocol_version: Some(V201_VERSION.into()),
                    vendor: Some(cs.vendor_name.clone()),
                    model: Some(cs.model.clone()),
                    serial: cs.serial_number.clone(),
                    firmware: cs.firmware_version.clone(),
                    iccid: cs.modem.as_ref().and_then(|m| m.iccid.clone()),
                    ..Default::default()
                }),
            )]
        }
        Request::Heartbeat(_) => vec![Observation::charger(
            charger,
            EventBody::Heartbeat(HeartbeatData::default()),
        )],
        Request::StatusNotification(s) => vec![on_connector(
            charger,
            s.evse_id,
            EventBody::Status(StatusData {
                status: connector_status(s.connector_status),
                vendor_status: SharedStr::Static(s.connector_status.as_str()),
                plugged: (s.connector_status == ConnectorStatusEnum::Occupied).then_some(true),
                gun_returned: None,
                errors: Vec::new(),
                info: None,
            }),
        )],
        Request::MeterValues(m) => m
            .meter_value
            .iter()
            .map(|mv| on_connector(charger, m.evse_id, EventBody::Meter(meter(mv, None))))
            .collect(),
        Request::Authorize(a) => vec![Observation::charger(
            charger,
            EventBody::Authorize(AuthorizeData {
                method: "id_tag".into(),
                id: a.id_token.id_token.clone(),
                password_supplied: false,
            }),
        )],
        Request::TransactionEvent(t) => transaction_event(charger, t),
        _ => Vec::new(),
    }
}

/// Maps the 2.0.1 connector status; `Occupied` (a vehicle is plugged) becomes `preparing`.
pub fn connector_status(s: ConnectorStatusEnum) -> ConnectorStatus {
    match s {
        ConnectorStatusEnum::Available => ConnectorStatus::Available,
        ConnectorStatusEnum::Occupied => ConnectorStatus::Preparing,
        ConnectorStatusEnum::Reserved => ConnectorStatus::Reserved,
        ConnectorStatusEnum::Unavailable => ConnectorStatus::Unavailable,
        ConnectorStatusEnum::Faulted => ConnectorStatus::Faulted,
    }
}

fn meter(mv: &v201::MeterValue, transaction_id: Option<&str>) -> MeterData {
    let mut data = MeterData {
        transaction_id: transaction_id.map(str::to_owned),
        sampled_at: Some(mv.timestamp.clone()),
        ..Default::default()
    };
    fold(&mut data, mv.sampled_value.iter().map(sample));
    data
}

fn sample(sv: &v201::SampledValue) -> Sample<'_> {
    let unit = sv.unit_of_measure.as_ref();
    let exponent = unit
        .and_then(|u| u.multiplier)
        .and_then(|m| i32::try_from(m).ok())
        .unwrap_or(0);
    Sample {
        measurand: sv.measurand.map_or(DEFAULT_MEASURAND, |m| m.as_str()),
        value: sv.value * MULTIPLIER_BASE.powi(exponent),
        unit: unit.and_then(|u| u.unit.as_deref()),
        phase: sv.phase.map(|p| p.as_str()),
        location: sv.location.map(|l| l.as_str()),
        context: sv.context.map(|c| c.as_str()),
    }
}

/// Maps a 2.0.1 `stoppedReason`; absent means `Local`.
pub fn stop_reason(reason: Option<ReasonEnum>) -> &'static str {
    match reason {
        None | Some(ReasonEnum::Local) => "local",
        Some(ReasonEnum::Remote) => "remote",
        Some(ReasonEnum::EmergencyStop) => "emergency_stop",
        Some(ReasonEnum::EVDisconnected) => "ev_disconnected",
        Some(ReasonEnum::EnergyLimitReached) => "energy_limit",
        Some(ReasonEnum::SOCLimitReached) => "soc_reached",
        Some(ReasonEnum::TimeLimitReached) => "time_limit",
        Some(ReasonEnum::GroundFault | ReasonEnum::OvercurrentFault | ReasonEnum::PowerQuality) => {
            "fault"
        }
        Some(_) => "other",
    }
}

fn transaction_event(charger: &str, t: &v201::TransactionEventRequest) -> Vec<Observation> {
    let evse = t.evse.as_ref().map_or(0, |e| e.id);
    let tx = t.transaction_info.transaction_id.as_str();
    let mut out = Vec::new();
    let meter_total = t
        .meter_value
        .iter()
        .flatten()
        .map(|mv| meter(mv, Some(tx)))
        .collect::<Vec<_>>();
    let energy = meter_total.iter().rev().find_map(|m| m.energy_kwh);
    match t.event_type {
        TransactionEventEnum::Started => out.push(on_connector(
            charger,
            evse,
            EventBody::SessionStarted(SessionStartedData {
                transaction_id: tx.to_owned(),
                id_tag: t.id_token.as_ref().map(|i| i.id_token.clone()),
                meter_start_kwh: energy,
                started_at: Some(t.timestamp.clone()),
            }),
        )),
        TransactionEventEnum::Updated => {}
        TransactionEventEnum::Ended => {
            let reason = stop_reason(t.transaction_info.stopped_reason);
            let vendor = Some(
                t.transaction_info
                    .stopped_reason
                    .unwrap_or(ReasonEnum::Local)
                    .as_str()
                    .to_owned(),
            );
            out.push(on_connector(
                charger,
                evse,
                EventBody::SessionStopped(SessionStoppedData {
                    transaction_id: tx.to_owned(),
                    reason: reason.into(),
                    vendor_reason: vendor.clone(),
                    meter_stop_kwh: energy,
                    stopped_at: Some(t.timestamp.clone()),
                }),
            ));
            out.push(on_connector(
                charger,
                evse,
                EventBody::Transaction(Box::new(TransactionData {
                    transaction_id: tx.to_owned(),
                    stopped_at: Some(t.timestamp.clone()),
                    meter_stop_kwh: energy,
                    id_tag: t.id_token.as_ref().map(|i| i.id_token.clone()),
                    start_method: Some("id_tag".into()),
                    stop_reason: Some(reason.into()),
                    vendor_stop_reason: vendor,
                    ..Default::default()
                })),
            ));
        }
    }
    out.extend(
        meter_total
            .into_iter()
            .map(|m| on_connector(charger, evse, EventBody::Meter(m))),
    );
    out
}

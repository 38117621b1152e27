//! YKC messages → normalized [`Observation`]s (the event model in [`crate::event`]).
//!
//! One function, [`normalize`], with one arm per message family; the table in `docs/protocols/ykc.md` lists every
//! mapping. Down frames (platform → pile) normalize to nothing: they are what the gateway itself sends.

use serde_json::json;

use super::bms::BmsPrefix;
use super::command::result_of;
use super::encoding::{hex_code, hex_code_static, HexSlice, PileNumber};
use super::frame::Frame;
use super::realtime::{Realtime, STATUS_CHARGING, STATUS_FAULT, STATUS_IDLE, STATUS_OFFLINE, YES};
use super::transaction::{stop_reason_name, TransactionRecord};
use super::Message;
use crate::event::{
    AlarmData, AuthorizeData, ConnectorStatus, EventBody, HeartbeatData, MeterData, Observation,
    OnlineData, RawData, SessionStoppedData, SharedStr, StatusData, StatusNoticeData, TariffTier,
    TransactionData,
};
use crate::gbt27930::Message as Gbt;

/// Name of the fifth tariff block of the 0xB2 transaction-record variant.
const FIFTH_TIER_NAME: &str = "tier5";
/// `gun_returned` code meaning "unknown".
const GUN_RETURNED_UNKNOWN: u8 = 0x02;

/// Everything `msg` (decoded from `frame`) says about the charger, in SI units.
pub fn normalize(frame: &Frame, msg: &Message) -> Vec<Observation> {
    normalize_on(frame, msg, None)
}

/// [`normalize`] on a connection whose charger logged in as `own`: heartbeats and real-time data about that pile
/// name no charger (the connection's identity applies, shared rather than copied per event), which keeps the
/// busiest frames free of string allocations.
pub fn normalize_on(frame: &Frame, msg: &Message, own: Option<&PileNumber>) -> Vec<Observation> {
    match msg {
        Message::Login(l) => vec![Observation::charger(
            l.pile.to_string(),
            EventBody::Online(OnlineData {
                protocol_version: Some(l.protocol_version_text()),
                firmware: Some(l.program_version.text()),
                current_type: l.current_type().map(str::to_owned),
                connectors: Some(u16::from(l.gun_count)),
                network: l.network_name().map(str::to_owned),
                iccid: (!l.sim.is_zero()).then(|| l.sim.to_string()),
                operator_code: Some(l.operator),
                ..Default::default()
            }),
        )],
        Message::Heartbeat(h) => vec![Observation {
            charger: named(&h.pile, own),
            connector: Some(u16::from(h.gun)),
            body: EventBody::Heartbeat(HeartbeatData {
                fault: Some(h.is_fault()),
            }),
        }],
        Message::Realtime(r) => realtime(r, own),
        Message::Handshake(h) => bms(&h.prefix, [Gbt::Brm(h.brm.clone())]),
        Message::ParameterConfig(p) => bms(&p.prefix, [Gbt::Bcp(p.bcp), Gbt::Cml(p.cml)]),
        Message::ChargeEnd(c) => bms(&c.prefix, [Gbt::Bsd(c.bsd), Gbt::Csd(c.csd)]),
        Message::ErrorReport(e) => bms(&e.prefix, [Gbt::Bem(e.bem), Gbt::Cem(e.cem)]),
        Message::BmsAbort(a) => {
            let mut out = bms(&a.prefix, [Gbt::Bst(a.bst)]);
            let names = a.bst.faults.set().into_iter().chain(a.bst.errors.set());
            out.extend(names.map(|n| alarm(&a.prefix, "gbt.bst", n, "BMS stopped charging")));
            out
        }
        Message::ChargerAbort(c) => {
            let mut out = bms(&c.prefix, [Gbt::Cst(c.cst)]);
            let names = c.cst.faults.set().into_iter().chain(c.cst.errors.set());
            out.extend(names.map(|n| alarm(&c.prefix, "gbt.cst", n, "charger stopped charging")));
            out
        }
        Message::Demand(d) => bms(
            &d.prefix,
            [Gbt::Bcl(d.bcl), Gbt::Bcs(d.bcs), Gbt::Ccs(d.ccs)],
        ),
        Message::BmsInfo(i) => bms(&i.prefix, [Gbt::Bsm(i.bsm)]),
        Message::StartRequest(s) => {
            let method = s.start_mode_name().unwrap_or("unknown");
            let id = if method == "vin" {
                s.vin.text()
            } else {
                HexSlice(&s.card_or_account).to_string()
            };
            vec![Observation::connector(
                s.pile.to_string(),
                u16::from(s.gun),
                EventBody::Authorize(AuthorizeData {
                    method: method.to_owned(),
                    id,
                    password_supplied: s.needs_password(),
                }),
            )]
        }
        Message::TransactionRecord(t) => transaction(t),
        Message::BillingModelCheck(c) => vec![Observation::charger(
            c.pile.to_string(),
            EventBody::Notice(StatusNoticeData {
                topic: "billing_model".into(),
                detail: json!({"check": c.model.to_string()}),
            }),
        )],
        Message::BillingModelRequest(r) => vec![Observation::charger(
            r.pile.to_string(),
            EventBody::Notice(StatusNoticeData {
                topic: "billing_model".into(),
                detail: json!({"request": true}),
            }),
        )],
        Message::RemoteStartReply(_)
        | Message::RemoteStopReply(_)
        | Message::RebootReply(_)
        | Message::UpdateReply(_)
        | Message::WorkParamsReply(_)
        | Message::TimeSyncReply(_)
        | Message::BillingModelSetReply(_)
        | Message::BalanceUpdateReply(_) => command_result(msg),
        Message::Unknown { .. }
        | Message::OfflineCardSyncReply(_)
        | Message::OfflineCardClearReply(_)
        | Message::OfflineCardQueryReply(_)
        | Message::ParkingLockStatus(_)
        | Message::ParkingLockReply(_)
        | Message::ParallelStartRequest(_)
        | Message::ParallelRemoteStartReply(_) => vec![raw(frame)],
        _ => Vec::new(),
    }
}

/// The charger an observation about `pile` names: none when it is the connection's own (`own`).
fn named(pile: &PileNumber, own: Option<&PileNumber>) -> Option<SharedStr> {
    if own == Some(pile) {
        None
    } else {
        Some(pile.to_string().into())
    }
}

fn pile_and_gun(msg: &Message) -> (Option<SharedStr>, Option<u16>) {
    let pile = |p: &PileNumber| Some(SharedStr::from(p.to_string()));
    match msg {
        Message::RemoteStartReply(r) => (pile(&r.pile), Some(u16::from(r.gun))),
        Message::RemoteStopReply(r) => (pile(&r.pile), Some(u16::from(r.gun))),
        Message::RebootReply(r) | Message::UpdateReply(r) => (pile(&r.pile), None),
        Message::WorkParamsReply(r) => (pile(&r.pile), None),
        Message::TimeSyncReply(r) => (pile(&r.pile), None),
        Message::BillingModelSetReply(r) => (pile(&r.pile), None),
        Message::BalanceUpdateReply(r) => (pile(&r.pile), None),
        _ => (None, None),
    }
}

fn command_result(msg: &Message) -> Vec<Observation> {
    let (charger, connector) = pile_and_gun(msg);
    result_of(msg)
        .map(|r| Observation {
            charger,
            connector,
            body: EventBody::CommandResult(r),
        })
        .into_iter()
        .collect()
}

fn raw(frame: &Frame) -> Observation {
    Observation {
        charger: None,
        connector: None,
        body: EventBody::Raw(RawData {
            message_type: hex_code(frame.frame_type),
            hex: HexSlice(&frame.raw).to_string(),
        }),
    }
}

fn bms<const N: usize>(prefix: &BmsPrefix, parts: [Gbt; N]) -> Vec<Observation> {
    let pile = prefix.pile.to_string();
    parts
        .into_iter()
        .map(|m| {
            Observation::connector(
                pile.clone(),
                u16::from(prefix.gun),
                EventBody::Bms(Box::new(m)),
            )
        })
        .collect()
}

fn alarm(prefix: &BmsPrefix, family: &str, name: &str, text: &str) -> Observation {
    Observation::connector(
        prefix.pile.to_string(),
        u16::from(prefix.gun),
        EventBody::Alarm(AlarmData {
            code: format!("{family}.{name}"),
            severity: "major".into(),
            text: format!("{text}: {}", name.replace('_', " ")),
            active: true,
        }),
    )
}

fn connector_status(r: &Realtime) -> ConnectorStatus {
    match r.status {
        STATUS_OFFLINE => ConnectorStatus::Offline,
        STATUS_FAULT => ConnectorStatus::Faulted,
        STATUS_IDLE if r.plugged == YES => ConnectorStatus::Preparing,
        STATUS_IDLE => ConnectorStatus::Available,
        STATUS_CHARGING => ConnectorStatus::Charging,
        _ => ConnectorStatus::Unavailable,
    }
}

fn realtime(r: &Realtime, own: Option<&PileNumber>) -> Vec<Observation> {
    // The hot path (every 0x13 frame): on the pile's own connection no string is allocated (the charger id is the
    // connection's, the vendor status a static code); the list is allocated once at its final size.
    let pile = named(&r.pile, own);
    let gun = u16::from(r.gun);
    let errors: Vec<String> = r.active_faults().map(|(code, _)| code.to_owned()).collect();
    let mut out = Vec::with_capacity(2 + errors.len());
    out.push(Observation {
        charger: pile.clone(),
        connector: Some(gun),
        body: EventBody::Status(StatusData {
            status: connector_status(r),
            vendor_status: SharedStr::Static(hex_code_static(r.status)),
            plugged: Some(r.plugged == YES),
            gun_returned: (r.gun_returned != GUN_RETURNED_UNKNOWN).then_some(r.gun_returned == YES),
            errors,
            info: None,
        }),
    });
    out.extend(r.active_faults().map(|(code, text)| {
        Observation {
            charger: pile.clone(),
            connector: Some(gun),
            body: EventBody::Alarm(AlarmData {
                code: format!("ykc.hw.{code}"),
                severity: if code == "emergency_stop" {
                    "critical"
                } else {
                    "major"
                }
                .into(),
                text: text.into(),
                active: true,
            }),
        }
    }));
    // The meter event goes second, as before; it takes the pile string itself.
    let meter = Observation {
        charger: pile,
        connector: Some(gun),
        body: EventBody::Meter(MeterData {
            transaction_id: (!r.serial.is_zero()).then(|| r.serial.to_string()),
            voltage_v: Some(r.voltage_v()),
            current_a: Some(r.current_a()),
            power_kw: Some(r.power_kw()),
            energy_kwh: Some(r.energy_kwh()),
            soc_pct: Some(f64::from(r.soc_pct)),
            // Raw 0 means "not measured" (idle, AC pile), not −50 °C.
            connector_temperature_c: (r.cable_temperature_raw != 0)
                .then(|| r.cable_temperature_c()),
            battery_temperature_max_c: (r.battery_temperature_raw != 0)
                .then(|| r.battery_temperature_c()),
            elapsed_min: Some(u32::from(r.charging_min)),
            remaining_min: Some(u32::from(r.remaining_min)),
            amount: Some(r.amount_yuan()),
            ..Default::default()
        }),
    };
    out.insert(1, meter);
    out
}

fn transaction(t: &TransactionRecord) -> Vec<Observation> {
    let pile = t.pile.to_string();
    let gun = u16::from(t.gun);
    let serial = t.serial.to_string();
    let reason = stop_reason_name(t.stop_reason).to_owned();
    let vendor_reason = hex_code(t.stop_reason);
    let names = super::billing::TIER_NAMES
        .iter()
        .chain([FIFTH_TIER_NAME].iter());
    let tiers = t
        .tiers
        .iter()
        .chain(t.fifth_tier.iter())
        .zip(names)
        .map(|(b, name)| TariffTier {
            tier: (*name).to_owned(),
            price_per_kwh: b.price_yuan_per_kwh(),
            energy_kwh: b.energy_kwh(),
            loss_adjusted_energy_kwh: b.loss_energy_kwh(),
            amount: b.amount_yuan(),
        })
        .collect();
    let card = t.physical_card;
    let vin = t.vin.text();
    vec![
        Observation::connector(
            pile.clone(),
            gun,
            EventBody::SessionStopped(SessionStoppedData {
                transaction_id: serial.clone(),
                reason: reason.clone(),
                vendor_reason: Some(vendor_reason.clone()),
                meter_stop_kwh: Some(t.meter_stop_kwh()),
                stopped_at: Some(t.end.to_string()),
            }),
        ),
        Observation::connector(
            pile,
            gun,
            EventBody::Transaction(Box::new(TransactionData {
                transaction_id: serial,
                started_at: Some(t.start.to_string()),
                stopped_at: Some(t.end.to_string()),
                meter_start_kwh: Some(t.meter_start_kwh()),
                meter_stop_kwh: Some(t.meter_stop_kwh()),
                energy_kwh: Some(t.energy_kwh()),
                loss_adjusted_energy_kwh: Some(t.loss_energy_kwh()),
                amount: Some(t.amount_yuan()),
                tiers,
                vin: (!vin.is_empty()).then_some(vin),
                start_method: t.start_method().map(str::to_owned),
                id_tag: card
                    .iter()
                    .any(|b| *b != 0)
                    .then(|| HexSlice(&card).to_string()),
                stop_reason: Some(reason),
                vendor_stop_reason: Some(vendor_reason),
                recorded_at: Some(t.time.to_string()),
            })),
        ),
    ]
}

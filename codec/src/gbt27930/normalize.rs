//! From a decoded GB/T 27930 message to normalized [`Observation`]s.
//!
//! Every message becomes a `bms` event carrying the typed message. Some also say something the platform wants
//! without knowing GB/T:
//!
//! | message | extra events |
//! |---|---|
//! | CCS | `meter`: output voltage, current, power, charging time |
//! | BCS | `meter`: measured voltage, current, power, SOC, remaining time |
//! | BSM | `meter`: highest battery temperature; `status` `suspended_ev` when the BMS forbids charging |
//! | CSD | `meter`: session energy and charging time |
//! | BST / CST | `alarm` per fault / error flag set; `status` `finishing` |
//! | BEM / CEM | `alarm` per timeout flag set |
//! | CRO (ready) | `status` `charging` |
//! | CCS (paused) | `status` `suspended_evse` |
//!
//! Sign: `meter` currents are positive when energy flows into the battery (the charger's view, as YKC and OCPP
//! report it), i.e. the GB/T value negated; the `bms` event keeps GB/T's own sign. The CAN data names no charger,
//! so `charger` is `None` (the connection's identity applies) and `connector` is `None`.

use crate::event::{
    AlarmData, ConnectorStatus, EventBody, MeterData, Observation, SharedStr, StatusData,
};

use super::{Message, Permission};

/// W per kW.
const W_PER_KW: f64 = 1000.0;

fn obs(body: EventBody) -> Observation {
    Observation {
        charger: None,
        connector: None,
        body,
    }
}

/// Power in kW from a voltage and a (charging-positive) current, rounded to watts.
fn power_kw(voltage_v: f64, current_a: f64) -> f64 {
    (voltage_v * current_a).round() / W_PER_KW
}

fn alarms(out: &mut Vec<Observation>, prefix: &str, what: &str, names: Vec<&'static str>) {
    for name in names {
        let severity = if name == "emergency_stop" {
            "critical"
        } else {
            "major"
        };
        out.push(obs(EventBody::Alarm(AlarmData {
            code: format!("{prefix}.{name}"),
            severity: severity.to_owned(),
            text: format!("{what}: {}", name.replace('_', " ")),
            active: true,
        })));
    }
}

fn status(out: &mut Vec<Observation>, status: ConnectorStatus, vendor: &'static str) {
    out.push(obs(EventBody::Status(StatusData {
        status,
        vendor_status: SharedStr::Static(vendor),
        plugged: None,
        gun_returned: None,
        errors: Vec::new(),
        info: None,
    })));
}

/// The observations one message yields: always a `bms` event first, then any `meter`, `alarm` and `status`
/// events (see the module table).
pub fn observations(message: &Message) -> Vec<Observation> {
    let mut out = vec![obs(EventBody::Bms(Box::new(message.clone())))];
    match message {
        Message::Ccs(c) => {
            let current_a = -c.output_current_a;
            out.push(obs(EventBody::Meter(MeterData {
                voltage_v: Some(c.output_voltage_v),
                current_a: Some(current_a),
                power_kw: Some(power_kw(c.output_voltage_v, current_a)),
                elapsed_min: Some(u32::from(c.charging_time_min)),
                ..Default::default()
            })));
            if c.permission == Some(Permission::Paused) {
                status(&mut out, ConnectorStatus::SuspendedEvse, "CCS paused");
            }
        }
        Message::Bcs(b) => {
            let current_a = -b.charge_current_a;
            out.push(obs(EventBody::Meter(MeterData {
                voltage_v: Some(b.charge_voltage_v),
                current_a: Some(current_a),
                power_kw: Some(power_kw(b.charge_voltage_v, current_a)),
                soc_pct: Some(b.soc_pct),
                remaining_min: Some(u32::from(b.remaining_min)),
                ..Default::default()
            })));
        }
        Message::Bsm(b) => {
            out.push(obs(EventBody::Meter(MeterData {
                battery_temperature_max_c: Some(b.max_temperature_c),
                ..Default::default()
            })));
            if b.charging_permission == Permission::Paused {
                status(&mut out, ConnectorStatus::SuspendedEv, "BSM forbidden");
            }
        }
        Message::Csd(c) => out.push(obs(EventBody::Meter(MeterData {
            energy_kwh: Some(c.output_energy_kwh),
            elapsed_min: Some(u32::from(c.charging_time_min)),
            ..Default::default()
        }))),
        Message::Bst(b) => {
            alarms(&mut out, "gbt.bst.fault", "BMS stop fault", b.faults.set());
            alarms(&mut out, "gbt.bst.error", "BMS stop error", b.errors.set());
            status(&mut out, ConnectorStatus::Finishing, "BST");
        }
        Message::Cst(c) => {
            alarms(
                &mut out,
                "gbt.cst.fault",
                "charger stop fault",
                c.faults.set(),
            );
            alarms(
                &mut out,
                "gbt.cst.error",
                "charger stop error",
                c.errors.set(),
            );
            status(&mut out, ConnectorStatus::Finishing, "CST");
        }
        Message::Bem(b) => alarms(&mut out, "gbt.bem.timeout", "BMS timeout", b.timeouts.set()),
        Message::Cem(c) => alarms(
            &mut out,
            "gbt.cem.timeout",
            "charger timeout",
            c.timeouts.set(),
        ),
        Message::Cro(c) if c.ready => status(&mut out, ConnectorStatus::Charging, "CRO ready"),
        _ => {}
    }
    out
}

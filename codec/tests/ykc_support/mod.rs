//! Shared helpers of the YKC integration tests: the public vectors (copied from the protocol reference with their
//! `id` and `source`), hex helpers, and the mapping from a decoded message to the vector's `expect` key names.

#![allow(dead_code)]

pub mod layouts;

use bytes::Bytes;
use chargegate_codec::gbt27930::Bst;
use chargegate_codec::ykc::{Frame, Message};
use serde_json::{json, Map, Value};

/// The vector file, compiled in so tests never read `/work/shared` at run time.
pub const VECTORS_JSON: &str = include_str!("../data/ykc-vectors.json");

/// Keys of `expect` that describe the envelope or the error rather than a message field.
pub const META_KEYS: [&str; 6] = [
    "seq_bytes",
    "crc_modbus",
    "declared_length",
    "actual_length",
    "body_length",
    "spec_body_length",
];

/// One public vector.
pub struct Vector {
    /// The vector's id, e.g. `J1`.
    pub id: String,
    /// The whole frame.
    pub bytes: Bytes,
    /// `le`, `be` or `bad`.
    pub crc_order: String,
    /// Whether the length byte fits the frame.
    pub length_ok: bool,
    /// Frame type as a number.
    pub frame_type: u8,
    /// Where the vector comes from.
    pub source: String,
    /// Expected values.
    pub expect: Map<String, Value>,
}

/// Finds a vector by id; panics (test failure) when it is missing.
pub fn vector(id: &str) -> Vector {
    let all: Vec<Value> = serde_json::from_str(VECTORS_JSON).unwrap();
    let v = all
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("vector {id} missing"));
    Vector {
        id: id.to_owned(),
        bytes: Bytes::from(hex::decode(v["hex"].as_str().unwrap()).unwrap()),
        crc_order: v["crc_order"].as_str().unwrap().to_owned(),
        length_ok: v["length_ok"].as_bool().unwrap(),
        frame_type: parse_hex_u16(v["frame_type"].as_str().unwrap()) as u8,
        source: v["source"].as_str().unwrap().to_owned(),
        expect: v["expect"].as_object().unwrap().clone(),
    }
}

/// All vector ids in file order.
pub fn all_ids() -> Vec<String> {
    let all: Vec<Value> = serde_json::from_str(VECTORS_JSON).unwrap();
    all.iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `"0x4CDA"` → 0x4CDA.
pub fn parse_hex_u16(s: &str) -> u16 {
    u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// Uppercase hex of bytes.
pub fn hex_upper(b: &[u8]) -> String {
    hex::encode_upper(b)
}

/// Bytes from hex, for building frames in tests.
pub fn unhex(s: &str) -> Bytes {
    Bytes::from(hex::decode(s.replace(' ', "")).unwrap())
}

fn yes_no(b: bool, yes: &str, no: &str) -> Value {
    json!(if b { yes } else { no })
}

/// The decoded message's fields under the vector's `expect` key names. `body` is the clear body (for the few
/// keys that name raw wire bytes).
pub fn fields(msg: &Message, body: &[u8]) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    let bms_tail =
        |from: usize, to: usize| json!(hex_upper(body.get(from..to).unwrap_or_default()));
    match msg {
        Message::Login(l) => {
            put("pile", json!(l.pile.to_string()));
            put("pile_type", json!(l.current_type()));
            put("gun_count", json!(l.gun_count));
            put("protocol_version", json!(l.protocol_version_text()));
            put("program_version", json!(l.program_version.text()));
            put("network_type", json!(l.network_name()));
            put("sim", json!(l.sim.to_string()));
            put("operator", json!(l.operator));
        }
        Message::LoginReply(r) => {
            put("pile", json!(r.pile.to_string()));
            put("result", yes_no(r.is_success(), "success", "failure"));
        }
        Message::Heartbeat(h) => {
            put("pile", json!(h.pile.to_string()));
            put("gun", json!(h.gun));
            put("gun_status", yes_no(h.is_fault(), "fault", "normal"));
        }
        Message::HeartbeatReply(h) => {
            put("pile", json!(h.pile.to_string()));
            put("gun", json!(h.gun));
            put("heartbeat_reply", json!(h.reply));
        }
        Message::BillingModelCheck(c) => {
            put("pile", json!(c.pile.to_string()));
            put("billing_model", json!(c.model.to_string()));
        }
        Message::BillingModelCheckReply(c) => {
            put("pile", json!(c.pile.to_string()));
            put("billing_model", json!(c.model.to_string()));
            put(
                "result",
                yes_no(c.result == 0, "consistent", "inconsistent"),
            );
        }
        Message::BillingModelRequest(r) => put("pile", json!(r.pile.to_string())),
        Message::BillingModelReply(t) | Message::BillingModelSet(t) => {
            put("pile", json!(t.pile.to_string()));
            put("billing_model", json!(t.model.to_string()));
            for (i, name) in ["sharp", "peak", "flat", "valley"].iter().enumerate() {
                put(
                    &format!("{name}_electricity_price_yuan_per_kwh"),
                    json!(t.electricity_price_yuan_per_kwh(i)),
                );
                put(
                    &format!("{name}_service_price_yuan_per_kwh"),
                    json!(t.service_price_yuan_per_kwh(i)),
                );
            }
            put("loss_ratio", json!(t.loss_ratio));
            let tiers: Vec<_> = (0..48).map(|s| t.slot_tier(s)).collect();
            put("period_tiers", json!(tiers));
        }
        Message::Handshake(h) => {
            put("transaction_serial", json!(h.prefix.serial.to_string()));
            put("pile", json!(h.prefix.pile.to_string()));
            put("gun", json!(h.prefix.gun));
            let b = &h.brm;
            put("bms_protocol_version", bms_tail(24, 27));
            put("battery_type", json!(b.battery_type.code()));
            put("rated_capacity_ah", json!(b.rated_capacity_ah));
            put("rated_voltage_v", json!(b.rated_voltage_v));
            put("battery_manufacturer", json!(b.manufacturer));
            put(
                "pack_serial",
                json!(hex_upper(&b.pack_serial.to_le_bytes())),
            );
            put("production_year", json!(b.production_date.year));
            put("production_month", json!(b.production_date.month));
            put("production_day", json!(b.production_date.day));
            put("charge_count", json!(b.charge_count));
            put("ownership", yes_no(b.ownership == 1, "owned", "leased"));
            put("vin", json!(b.vin));
            put("bms_software_version", bms_tail(65, 73));
        }
        Message::ParameterConfig(p) => {
            put("transaction_serial", json!(p.prefix.serial.to_string()));
            put("pile", json!(p.prefix.pile.to_string()));
            put("gun", json!(p.prefix.gun));
            put("bms_max_cell_voltage_v", json!(p.bcp.max_cell_voltage_v));
            put(
                "bms_max_charge_current_a",
                json!(p.bcp.max_charge_current_a),
            );
            put("bms_nominal_energy_kwh", json!(p.bcp.nominal_energy_kwh));
            put("bms_max_total_voltage_v", json!(p.bcp.max_total_voltage_v));
            put("bms_max_temperature_c", json!(p.bcp.max_temperature_c));
            put("bms_soc_pct", json!(p.bcp.soc_pct));
            put("bms_battery_voltage_v", json!(p.bcp.battery_voltage_v));
            put("charger_max_voltage_v", json!(p.cml.max_output_voltage_v));
            put("charger_min_voltage_v", json!(p.cml.min_output_voltage_v));
            put("charger_max_current_a", json!(p.cml.max_output_current_a));
            put("charger_min_current_a", json!(p.cml.min_output_current_a));
        }
        Message::ChargeEnd(c) => {
            put("transaction_serial", json!(c.prefix.serial.to_string()));
            put("pile", json!(c.prefix.pile.to_string()));
            put("gun", json!(c.prefix.gun));
            put("bms_end_soc_pct", json!(c.bsd.soc_pct));
            put("bms_min_cell_voltage_v", json!(c.bsd.min_cell_voltage_v));
            put("bms_max_cell_voltage_v", json!(c.bsd.max_cell_voltage_v));
            put("bms_min_temperature_c", json!(c.bsd.min_temperature_c));
            put("bms_max_temperature_c", json!(c.bsd.max_temperature_c));
            put("charger_charging_time_min", json!(c.csd.charging_time_min));
            put("charger_output_energy_kwh", json!(c.csd.output_energy_kwh));
            put(
                "charger_number_bytes",
                json!(hex_upper(&c.csd.charger_number.to_le_bytes())),
            );
        }
        Message::ErrorReport(e) => {
            put("transaction_serial", json!(e.prefix.serial.to_string()));
            put("pile", json!(e.prefix.pile.to_string()));
            put("gun", json!(e.prefix.gun));
            put("bem_bytes", bms_tail(24, 28));
            put("cem_bytes", bms_tail(28, 32));
        }
        Message::BmsAbort(a) => {
            put("transaction_serial", json!(a.prefix.serial.to_string()));
            put("pile", json!(a.prefix.pile.to_string()));
            put("gun", json!(a.prefix.gun));
            let _: &Bst = &a.bst;
            put("stop_reason_byte", bms_tail(24, 25));
            put("fault_reason_bytes", bms_tail(25, 27));
            put("error_reason_byte", bms_tail(27, 28));
        }
        Message::BmsInfo(i) => {
            put("transaction_serial", json!(i.prefix.serial.to_string()));
            put("pile", json!(i.prefix.pile.to_string()));
            put("gun", json!(i.prefix.gun));
            put(
                "bms_max_cell_voltage_number",
                json!(i.bsm.max_cell_voltage_number),
            );
            put("bms_max_temperature_c", json!(i.bsm.max_temperature_c));
            put(
                "bms_max_temperature_probe",
                json!(i.bsm.max_temperature_probe),
            );
            put("bms_min_temperature_c", json!(i.bsm.min_temperature_c));
            put(
                "bms_min_temperature_probe",
                json!(i.bsm.min_temperature_probe),
            );
        }
        Message::StartRequest(s) => {
            put("pile", json!(s.pile.to_string()));
            put("gun", json!(s.gun));
            put("start_mode", json!(s.start_mode_name()));
            put("password_required", json!(s.needs_password()));
            put("card_or_account", json!(hex_upper(&s.card_or_account)));
            put("password", json!(hex_upper(&s.password)));
            put("vin", json!(s.vin.text()));
        }
        Message::StartAnswer(a) => {
            put("transaction_serial", json!(a.serial.to_string()));
            put("pile", json!(a.pile.to_string()));
            put("gun", json!(a.gun));
            put("logical_card", json!(a.logical_card.to_string()));
            put("balance_yuan", json!(a.balance_yuan()));
            put(
                "auth_result",
                yes_no(a.auth_result == 1, "success", "failure"),
            );
            put("failure_reason", json!(a.failure_reason));
        }
        Message::RemoteStartReply(r) => {
            put("transaction_serial", json!(r.serial.to_string()));
            put("pile", json!(r.pile.to_string()));
            put("gun", json!(r.gun));
            put("start_result", yes_no(r.result == 1, "success", "failure"));
            put("failure_reason", json!(r.failure_reason));
        }
        Message::RemoteStart(r) => {
            put("transaction_serial", json!(r.serial.to_string()));
            put("pile", json!(r.pile.to_string()));
            put("gun", json!(r.gun));
            put("logical_card", json!(r.logical_card.to_string()));
            put("physical_card", json!(hex_upper(&r.physical_card)));
            put("balance_yuan", json!(r.balance_yuan()));
        }
        Message::RemoteStop(r) => {
            put("pile", json!(r.pile.to_string()));
            put("gun", json!(r.gun));
        }
        Message::TransactionConfirm(c) => {
            put("transaction_serial", json!(c.serial.to_string()));
            put("result", yes_no(c.result == 0, "ok", "illegal"));
        }
        Message::BalanceUpdate(b) => {
            put("pile", json!(b.pile.to_string()));
            put("gun", json!(b.gun));
            put("physical_card", json!(hex_upper(&b.physical_card)));
            put("balance_yuan", json!(b.balance_yuan()));
        }
        Message::BalanceUpdateReply(b) => {
            put("pile", json!(b.pile.to_string()));
            put("physical_card", json!(hex_upper(&b.physical_card)));
            put("result", json!(b.result));
        }
        Message::WorkParams(w) => {
            put("pile", json!(w.pile.to_string()));
            put("work_allowed", json!(w.work_allowed()));
            put("max_output_power_pct", json!(w.max_power_pct));
        }
        Message::WorkParamsReply(w) => {
            put("pile", json!(w.pile.to_string()));
            put("result", json!(w.result));
        }
        Message::TimeSync(t) | Message::TimeSyncReply(t) => {
            put("pile", json!(t.pile.to_string()));
            put("time", json!(t.time.to_string()));
        }
        Message::RebootReply(r) => {
            put("pile", json!(r.pile.to_string()));
            put("result", yes_no(r.result == 1, "success", "failure"));
        }
        Message::Reboot(r) => put("pile", json!(r.pile.to_string())),
        Message::UpdateReply(r) => {
            put("pile", json!(r.pile.to_string()));
            put("status", yes_no(r.result == 0, "success", "failure"));
        }
        Message::Update(u) => {
            put("pile", json!(u.pile.to_string()));
            put("pile_model", yes_no(u.pile_model == 1, "dc", "ac"));
            put("pile_power_kw", json!(u.power_kw));
            put("server_address", json!(u.server.text()));
            put("port", json!(u.port));
            put("user", json!(u.user.text()));
            put("password", json!(u.password.text()));
            put("file_path", json!(u.path.text()));
            put(
                "execute_control",
                yes_no(u.control == 1, "immediately", "when_idle"),
            );
            put("download_timeout_min", json!(u.timeout_min));
        }
        Message::OfflineCardSyncReply(p)
        | Message::OfflineCardSync(p)
        | Message::OfflineCardClearReply(p)
        | Message::OfflineCardClear(p)
        | Message::OfflineCardQueryReply(p)
        | Message::ParkingLockStatus(p)
        | Message::ParkingLockCommand(p)
        | Message::ParkingLockReply(p) => {
            put("pile", json!(p.pile.to_string()));
            if let Some(g) = p.gun {
                put("gun", json!(g));
            }
        }
        _ => {}
    }
    m
}

/// Compares one expected value with the decoded one: numbers within half a resolution step (1e-6 is far below
/// every YKC resolution), everything else exactly.
pub fn same(expected: &Value, got: &Value) -> bool {
    match (expected.as_f64(), got.as_f64()) {
        (Some(e), Some(g)) => (e - g).abs() < 1e-6,
        _ => expected == got,
    }
}

/// Asserts that every non-meta key of `expect` is mapped and equal; `unmapped` lists keys the test knowingly skips.
pub fn assert_fields(
    id: &str,
    expect: &Map<String, Value>,
    got: &Map<String, Value>,
    unmapped: &[&str],
) {
    for (k, e) in expect {
        if META_KEYS.contains(&k.as_str()) || unmapped.contains(&k.as_str()) {
            continue;
        }
        let g = got
            .get(k)
            .unwrap_or_else(|| panic!("{id}: expect key `{k}` is not mapped by the decoder"));
        assert!(same(e, g), "{id}: `{k}` expected {e}, got {g}");
    }
}

/// Parses a frame and returns it with its message, for tests that need both.
pub fn decode_frame(bytes: Bytes) -> (Frame, Message) {
    let f = Frame::parse(bytes).unwrap();
    let m = Message::decode(&f).unwrap();
    (f, m)
}

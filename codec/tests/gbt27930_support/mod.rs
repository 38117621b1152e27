//! Shared helpers of the GB/T 27930 integration tests: the public vectors and a flat JSON view of decoded values
//! to compare them against.

#![allow(dead_code)]

use chargegate_codec::gbt27930::{CanId, Message, Permission, TpCm};
use serde_json::{Map, Value};

/// The public vectors, copied from the shared protocol notes with their ids and sources.
pub const VECTORS: &str = include_str!("../data/gbt27930-vectors.json");

/// Tolerance for physical values: well under half of the finest resolution step (0.01).
pub const TOLERANCE: f64 = 0.004;

/// The vector with this id.
pub fn vector(id: &str) -> Value {
    let all: Vec<Value> = serde_json::from_str(VECTORS).expect("vectors parse");
    all.into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

/// Bytes from a hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// A `"0x002600"` string as a number.
pub fn hex_number(v: &Value) -> u64 {
    let s = v.as_str().expect("hex string");
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex number")
}

/// The identifier's fields as the vectors name them.
pub fn id_view(id: &CanId) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("priority".into(), id.priority.into());
    m.insert("pgn".into(), format!("0x{:06X}", id.pgn).into());
    m.insert(
        "source_address".into(),
        format!("0x{:02X}", id.source_address).into(),
    );
    m.insert(
        "destination_address".into(),
        format!("0x{:02X}", id.destination_address).into(),
    );
    let dir = serde_json::to_value(id.direction()).unwrap();
    m.insert("direction".into(), dir);
    m
}

/// A TP.CM's fields as the vectors name them (`transported_pgn` as `"0x000200"`).
pub fn tp_view(cm: &TpCm) -> Map<String, Value> {
    let Value::Object(mut m) = serde_json::to_value(cm).unwrap() else {
        panic!("TP.CM serializes as an object")
    };
    m.insert(
        "transported_pgn".into(),
        format!("0x{:06X}", cm.transported_pgn()).into(),
    );
    m
}

/// A message's fields, plus the derived names the vectors use (`protocol_version` as text, flag lists,
/// `charging_permitted`).
pub fn message_view(msg: &Message) -> Map<String, Value> {
    let Value::Object(mut m) = serde_json::to_value(msg).unwrap() else {
        panic!("a message serializes as an object")
    };
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match msg {
        Message::Chm(c) => put("protocol_version", c.protocol_version.to_string().into()),
        Message::Brm(b) => put("protocol_version", b.protocol_version.to_string().into()),
        Message::Ccs(c) => put(
            "charging_permitted",
            (c.permission == Some(Permission::Permitted)).into(),
        ),
        Message::Bst(b) => {
            put("stop_reasons", b.stop_reasons.set().into());
            put("faults", b.faults.set().into());
            put("errors", b.errors.set().into());
        }
        Message::Cst(c) => {
            put("stop_reasons", c.stop_reasons.set().into());
            put("faults", c.faults.set().into());
            put("errors", c.errors.set().into());
        }
        Message::Bem(b) => put("timeouts", b.timeouts.set().into()),
        Message::Cem(c) => put("timeouts", c.timeouts.set().into()),
        _ => {}
    }
    m
}

/// Asserts that `actual` holds every key of `expect` with an equal value (numbers within [`TOLERANCE`]).
pub fn assert_matches(context: &str, expect: &Map<String, Value>, actual: &Map<String, Value>) {
    for (key, want) in expect {
        let got = actual
            .get(key)
            .unwrap_or_else(|| panic!("{context}: no decoded value for `{key}` (have {actual:?})"));
        let same = match (want.as_f64(), got.as_f64()) {
            (Some(w), Some(g)) => (w - g).abs() <= TOLERANCE,
            _ => want == got,
        };
        assert!(same, "{context}: `{key}` expected {want}, decoded {got}");
    }
}

/// Splits `expect` into the keys in `keys` and the rest.
pub fn split(
    expect: &Map<String, Value>,
    keys: &[&str],
) -> (Map<String, Value>, Map<String, Value>) {
    expect
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| keys.contains(&k.as_str()))
}

/// The identifier keys of `expect`.
pub const ID_KEYS: [&str; 5] = [
    "priority",
    "pgn",
    "source_address",
    "destination_address",
    "direction",
];

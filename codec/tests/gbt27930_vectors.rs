//! Every public GB/T 27930 vector (real candump captures, `tests/data/gbt27930-vectors.json`) decodes to the values
//! it lists: one test per vector id.

mod gbt27930_support;

use chargegate_codec::gbt27930::{CanDecoder, CanId, Decoded, Message, Reassembler, TpCm, TpEvent};
use gbt27930_support::*;
use serde_json::{Map, Value};

/// Frames of a vector: `(can_id, data)`, from `frames` or from the single `can_id` + `data`.
fn frames(v: &Value) -> Vec<(u32, Vec<u8>)> {
    let one = |f: &Value| {
        let id = u32::from_str_radix(f["can_id"].as_str().unwrap(), 16).unwrap();
        (id, unhex(f["data"].as_str().unwrap()))
    };
    match v["frames"].as_array() {
        Some(list) => list.iter().map(one).collect(),
        None => vec![one(v)],
    }
}

fn check_single(v: &Value, expect: &Map<String, Value>) {
    let id_name = v["id"].as_str().unwrap();
    let (raw, data) = frames(v).remove(0);
    let id = CanId::from_raw(raw).unwrap();
    let (id_expect, rest) = split(expect, &ID_KEYS);
    assert_matches(id_name, &id_expect, &id_view(&id));
    if v["message"] == "TP.CM" {
        let cm = TpCm::decode(&data).unwrap();
        assert_matches(id_name, &rest, &tp_view(&cm));
        assert_eq!(
            cm.encode().to_vec(),
            data,
            "{id_name}: TP.CM re-encodes to the capture"
        );
    } else {
        let msg = Message::decode(id.pgn, &data).unwrap();
        assert_eq!(msg.name(), v["message"], "{id_name}: message name");
        assert_matches(id_name, &rest, &message_view(&msg));
    }
}

fn check_per_frame(v: &Value, expect: &Map<String, Value>) {
    let id_name = v["id"].as_str().unwrap();
    let (id_expect, _) = split(expect, &ID_KEYS);
    let per_frame = expect["per_frame"].as_array().unwrap();
    let frames = frames(v);
    assert_eq!(frames.len(), per_frame.len());
    for ((raw, data), want) in frames.iter().zip(per_frame) {
        let id = CanId::from_raw(*raw).unwrap();
        assert_matches(id_name, &id_expect, &id_view(&id));
        let msg = Message::decode(id.pgn, data).unwrap();
        assert_eq!(msg.name(), v["message"]);
        assert_matches(id_name, want.as_object().unwrap(), &message_view(&msg));
    }
}

fn check_transfer(v: &Value, expect: &Map<String, Value>) {
    let id_name = v["id"].as_str().unwrap();
    let frames = frames(v);
    // The announcement.
    let (rts_raw, rts_data) = &frames[0];
    let rts = TpCm::decode(rts_data).unwrap();
    assert_matches(id_name, expect["rts"].as_object().unwrap(), &tp_view(&rts));
    // Reassembly.
    let mut tp = Reassembler::default();
    let mut events = Vec::new();
    for (i, (raw, data)) in frames.iter().enumerate() {
        let id = CanId::from_raw(*raw).unwrap();
        tp.on_frame(&id, data, i as u64 * 10, &mut events).unwrap();
    }
    let transfer = events
        .iter()
        .find_map(|e| match e {
            TpEvent::Complete(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{id_name}: no reassembled message in {events:?}"));
    let t = expect["transfer"].as_object().unwrap();
    let mut tv = Map::new();
    tv.insert(
        "source_address".into(),
        format!("0x{:02X}", transfer.source_address).into(),
    );
    tv.insert(
        "destination_address".into(),
        format!("0x{:02X}", transfer.destination_address).into(),
    );
    tv.insert("packets".into(), transfer.packets.into());
    tv.insert("message_size".into(), transfer.data.len().into());
    let last = &frames.last().unwrap().1;
    let used = transfer.data.len() - (usize::from(transfer.packets) - 1) * 7;
    tv.insert(
        "padding".into(),
        hex::encode_upper(&last[1 + used..]).into(),
    );
    assert_matches(id_name, t, &tv);
    assert_eq!(
        hex::encode_upper(&transfer.data),
        expect["message_bytes"].as_str().unwrap(),
        "{id_name}: reassembled bytes"
    );
    assert_eq!(
        CanId::from_raw(*rts_raw).unwrap().source_address,
        transfer.source_address
    );
    // Decoded fields.
    let msg = Message::decode(transfer.pgn, &transfer.data).unwrap();
    assert_eq!(msg.name(), v["message"]);
    let (_, fields) = split(expect, &["rts", "transfer", "message_bytes"]);
    assert_matches(id_name, &fields, &message_view(&msg));
    // And the full decoder yields the same message.
    let mut dec = CanDecoder::default();
    let mut out = Vec::new();
    for (i, (raw, data)) in frames.iter().enumerate() {
        dec.push_raw(*raw, data, i as u64 * 10, &mut out);
    }
    assert!(
        out.iter()
            .any(|r| matches!(r, Ok(Decoded::Message { message, .. }) if *message == msg)),
        "{id_name}: decoder output {out:?}"
    );
}

fn check(id: &str) {
    let v = vector(id);
    let expect = v["expect"].as_object().unwrap().clone();
    if expect.contains_key("per_frame") {
        check_per_frame(&v, &expect);
    } else if expect.contains_key("rts") {
        check_transfer(&v, &expect);
    } else {
        check_single(&v, &expect);
    }
}

macro_rules! vectors {
    ($($name:ident => $id:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check($id);
            }
        )*

        #[test]
        fn every_vector_in_the_file_has_a_test() {
            let all: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
            let mut ids: Vec<&str> = all.iter().map(|v| v["id"].as_str().unwrap()).collect();
            ids.sort_unstable();
            let mut tested = vec![$($id),*];
            tested.sort_unstable();
            assert_eq!(ids, tested);
        }
    };
}

vectors! {
    c1_chm_announces_protocol_1_1 => "C1",
    c2_bhm_max_voltage_426_1_v => "C2",
    c3_crm_not_yet_recognised => "C3",
    c4_crm_recognised => "C4",
    c5_rts_announces_49_byte_brm => "C5",
    c6_cts_allows_7_packets => "C6",
    c8_end_of_msg_ack_for_brm => "C8",
    c9_bcp_reassembles_from_two_packets => "C9",
    c10_cts_time_not_provided => "C10",
    c11_cml_max_current_is_negative_250_a => "C11",
    c12_bro_not_ready_then_ready => "C12",
    c13_cro_not_ready_then_ready => "C13",
    c14_bcl_current_demand_minus_20_a => "C14",
    c15_bcl_current_demand_minus_29_8_a => "C15",
    c17_ccs_charging_permitted => "C17",
    c20_cst_manual_stop => "C20",
    c21_bst_charger_stopped_with_zero_reserved_bits => "C21",
    c23_csd_statistics => "C23",
    c24_bem_crm_aa_timeout => "C24",
    c25_bem_cts_cml_timeout => "C25",
    c26_conn_abort_reason_ff => "C26",
}

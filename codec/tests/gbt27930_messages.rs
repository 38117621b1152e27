//! Message-level behaviour beyond the captures: what YKC relays, short data, reserved bits, the BRM layout.

mod gbt27930_support;

use chargegate_codec::gbt27930::*;
use gbt27930_support::unhex;

#[test]
fn ccs_without_its_permission_byte_decodes_as_ykc_0x23_relays_it() {
    let ccs = Ccs::decode(&unhex("240BA00F0000")).unwrap();
    assert_eq!(ccs.output_voltage_v, 285.2);
    assert_eq!(ccs.output_current_a, 0.0);
    assert_eq!(ccs.permission, None);
    let mut out = Vec::new();
    ccs.encode(&mut out);
    assert_eq!(out, unhex("240BA00F0000"));
}

#[test]
fn ccs_with_permission_byte_keeps_unused_bits_as_ones_on_encode() {
    let ccs = Ccs::decode(&unhex("240BA00F0000FD")).unwrap();
    assert_eq!(ccs.permission, Some(Permission::Permitted));
    assert_eq!(Message::Ccs(ccs).to_bytes(), unhex("240BA00F0000FD"));
}

#[test]
fn short_data_names_the_message_and_both_lengths() {
    assert_eq!(
        Bcl::decode(&[0xA5, 0x10, 0xD8]),
        Err(GbtError::Length {
            message: "BCL",
            expected: 5,
            got: 3
        })
    );
    assert_eq!(
        Message::decode(pgn::BCP, &[0; 12]),
        Err(GbtError::Length {
            message: "BCP",
            expected: 13,
            got: 12
        })
    );
    assert_eq!(
        Ccs::decode(&[0; 5]),
        Err(GbtError::Length {
            message: "CCS",
            expected: 6,
            got: 5
        })
    );
    assert_eq!(
        Brm::decode(&[0; 40]),
        Err(GbtError::Length {
            message: "BRM",
            expected: 41,
            got: 40
        })
    );
    assert_eq!(
        GbtError::Length {
            message: "BCL",
            expected: 5,
            got: 3
        }
        .kind(),
        "gbt_length"
    );
}

#[test]
fn unknown_pgn_is_an_error_not_a_panic() {
    assert_eq!(
        Message::decode(0x4200, &[]),
        Err(GbtError::UnknownPgn { pgn: 0x4200 })
    );
}

#[test]
fn reserved_bits_sent_as_zero_are_accepted_and_sent_back_as_ones() {
    let bst = Bst::decode(&unhex("40000000")).unwrap();
    assert_eq!(bst.stop_reasons.set(), vec!["charger_stopped"]);
    assert_eq!(Message::Bst(bst).to_bytes(), unhex("400000F0"));
    let bem = Bem::decode(&unhex("04000000")).unwrap();
    assert_eq!(bem.timeouts.set(), vec!["crm_aa"]);
    assert_eq!(Message::Bem(bem).to_bytes(), unhex("F4F0F0FC"));
}

#[test]
fn cst_fault_bits_are_read_lsb_first_across_bytes_2_and_3() {
    // Byte 1: fault stop (bits 5-6); bytes 2-3 LE = 0xF100: emergency stop (bits 9-10).
    let cst = Cst::decode(&unhex("1000F1F0")).unwrap();
    assert_eq!(cst.stop_reasons.set(), vec!["fault"]);
    assert_eq!(cst.faults.set(), vec!["emergency_stop"]);
    assert_eq!(cst.faults.emergency_stop, Status2::Abnormal);
}

#[test]
fn cem_lists_every_timed_out_bms_message() {
    // BRM (byte 1 bits 1-2), BCS (byte 3 bits 1-2), BSD (byte 4 bits 1-2).
    let cem = Cem::decode(&unhex("FDF0C1FD")).unwrap();
    assert_eq!(cem.timeouts.set(), vec!["brm", "bcs", "bsd"]);
}

#[test]
fn bsm_numbers_carry_the_plus_one_offset_and_flags_decode() {
    // cell #4, 30 °C at probe 2, 20 °C at probe 8, SOC too high, permitted.
    let bsm = Bsm::decode(&[3, 80, 1, 70, 7, 0b0000_0100, 0b1101_0000]).unwrap();
    assert_eq!(bsm.max_cell_voltage_number, 4);
    assert_eq!(
        (bsm.max_temperature_c, bsm.max_temperature_probe),
        (30.0, 2)
    );
    assert_eq!(
        (bsm.min_temperature_c, bsm.min_temperature_probe),
        (20.0, 8)
    );
    assert_eq!(bsm.soc, Level2::TooHigh);
    assert_eq!(bsm.cell_voltage, Level2::Normal);
    assert_eq!(bsm.charging_permission, Permission::Permitted);
    assert_eq!(
        Message::Bsm(bsm).to_bytes(),
        vec![3, 80, 1, 70, 7, 0b0000_0100, 0b1101_0000]
    );
}

#[test]
fn bcs_splits_cell_voltage_and_group() {
    // 380.0 V, -50.0 A, cell 3.65 V in group 2, SOC 55 %, 42 min.
    let data = [0xD8, 0x0E, 0xAC, 0x0D, 0x6D, 0x21, 55, 42, 0];
    let bcs = Bcs::decode(&data).unwrap();
    assert_eq!(bcs.charge_voltage_v, 380.0);
    assert_eq!(bcs.charge_current_a, -50.0);
    assert_eq!((bcs.max_cell_voltage_v, bcs.max_cell_group), (3.65, 2));
    assert_eq!((bcs.soc_pct, bcs.remaining_min), (55.0, 42));
    assert_eq!(Message::Bcs(bcs).to_bytes(), data);
}

fn sample_brm() -> Vec<u8> {
    let mut b = vec![0x01, 0x01, 0x00, 0x03, 0x10, 0x27, 0xA5, 0x10];
    b.extend_from_slice(b"CATL");
    b.extend_from_slice(&[1, 2, 3, 4, 38, 6, 15, 0x10, 0x00, 0x00, 1, 0xFF]);
    b.extend_from_slice(b"LSVAU2180N2183294");
    b.extend_from_slice(&[7, 21, 3, 0xE8, 0x07, 0xFF, 0xFF, 0xFF]);
    b
}

#[test]
fn brm_decodes_identity_vin_and_software_version() {
    let brm = Brm::decode(&sample_brm()).unwrap();
    assert_eq!(brm.protocol_version.to_string(), "1.1");
    assert_eq!(brm.battery_type, BatteryType::LithiumIronPhosphate);
    assert_eq!(
        (brm.rated_capacity_ah, brm.rated_voltage_v),
        (1000.0, 426.1)
    );
    assert_eq!(brm.manufacturer, "CATL");
    assert_eq!(
        brm.production_date,
        ProductionDate {
            year: 2023,
            month: 6,
            day: 15
        }
    );
    assert_eq!(brm.charge_count, 16);
    assert_eq!(brm.vin, "LSVAU2180N2183294");
    assert_eq!(
        brm.software_version,
        Some(BmsSoftwareVersion {
            serial: 7,
            day: 21,
            month: 3,
            year: 2024
        })
    );
    assert_eq!(Message::Brm(brm).to_bytes(), sample_brm());
}

#[test]
fn brm_of_the_2011_edition_has_no_software_version() {
    let brm = Brm::decode(&sample_brm()[..41]).unwrap();
    assert_eq!(brm.software_version, None);
    assert_eq!(brm.vin, "LSVAU2180N2183294");
}

#[test]
fn cts_time_decodes_as_bcd_and_bad_digits_name_the_byte() {
    let cts = Cts::decode(&unhex("30152125122320")).unwrap();
    assert_eq!(
        cts.time,
        Some(ChargerTime {
            year: 2023,
            month: 12,
            day: 25,
            hour: 21,
            minute: 15,
            second: 30
        })
    );
    assert_eq!(Message::Cts(cts).to_bytes(), unhex("30152125122320"));
    assert_eq!(
        Cts::decode(&unhex("3015212512FA20")),
        Err(GbtError::Bcd {
            message: "CTS",
            offset: 5,
            value: 0xFA
        })
    );
}

#[test]
fn bmv_and_bmt_decode_per_item_and_odd_bmv_is_a_length_error() {
    let bmv = Bmv::decode(&[0x6D, 0x01, 0x70, 0x11]).unwrap();
    assert_eq!(bmv.cells.len(), 2);
    assert_eq!((bmv.cells[0].voltage_v, bmv.cells[0].group), (3.65, 0));
    assert_eq!((bmv.cells[1].voltage_v, bmv.cells[1].group), (3.68, 1));
    assert!(matches!(
        Bmv::decode(&[1, 2, 3]),
        Err(GbtError::Length { message: "BMV", .. })
    ));
    assert_eq!(
        Bmt::decode(&[75, 40]).unwrap().temperatures_c,
        vec![25.0, -10.0]
    );
}

#[test]
fn bms_event_json_is_internally_tagged_with_the_message_name() {
    let msg = Message::decode(pgn::BCL, &unhex("A510D80E02")).unwrap();
    let json = serde_json::to_value(&msg).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"message":"BCL","voltage_demand_v":426.1,"current_demand_a":-20.0,
            "charge_mode":"constant_current"})
    );
    let back: Message = serde_json::from_value(json).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn every_message_knows_its_pgn_name_and_priority() {
    let bcl = Message::decode(pgn::BCL, &unhex("A510D80E02")).unwrap();
    assert_eq!((bcl.pgn(), bcl.name(), bcl.priority()), (0x1000, "BCL", 6));
    assert_eq!(priority_of(pgn::BEM), 2);
    assert_eq!(name_of(pgn::TP_CM), Some("TP.CM"));
}

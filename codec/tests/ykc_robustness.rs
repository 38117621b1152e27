//! Random input never panics: the frame parser on arbitrary bytes, every body parser on arbitrary bodies of any
//! length, and normalization of whatever decodes.

mod ykc_support;

use bytes::Bytes;
use chargegate_codec::ykc::{self, encode_frame, normalize, Frame, Message, YkcError};
use proptest::collection::vec;
use proptest::prelude::*;
use ykc_support::layouts::{layouts, Field};

fn known_types() -> Vec<u8> {
    let mut t: Vec<u8> = layouts().into_iter().map(|(t, _)| t).collect();
    t.dedup();
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn frame_parser_survives_any_bytes(bytes in vec(any::<u8>(), 0..300)) {
        let _ = ykc::decode(Bytes::from(bytes));
    }

    #[test]
    fn frame_parser_survives_any_bytes_after_a_start_flag(len in any::<u8>(), rest in vec(any::<u8>(), 0..300)) {
        let mut b = vec![0x68, len];
        b.extend(rest);
        if let Ok(d) = ykc::decode(Bytes::from(b)) {
            let _ = normalize(&d.frame, &d.message);
        }
    }

    #[test]
    fn every_body_parser_survives_any_body(
        pick in any::<prop::sample::Index>(),
        body in vec(any::<u8>(), 0..260),
    ) {
        let types = known_types();
        let ft = types[pick.index(types.len())];
        let body = Bytes::from(body);
        match Message::decode_body(ft, &body) {
            Ok(m) => {
                // Whatever decodes also serializes, normalizes and re-encodes without panicking.
                prop_assert!(serde_json::to_string(&m).is_ok());
                let frame = m.encode_frame([0, 0]);
                if let Ok(f) = frame {
                    let parsed = Frame::parse(f).unwrap();
                    let _ = normalize(&parsed, &m);
                }
            }
            Err(e) => {
                prop_assert!(!e.kind().is_empty());
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn every_body_parser_survives_random_bytes_of_its_exact_length(
        pick in any::<prop::sample::Index>(),
        noise in vec(any::<u8>(), 300),
    ) {
        let all = layouts();
        let (ft, layout) = &all[pick.index(all.len())];
        let len: usize = layout
            .iter()
            .map(|f| match f {
                Field::Bcd(n) | Field::Any(n) => *n,
                Field::Gun => 1,
                Field::AnyRange(lo, _) => *lo,
            })
            .sum();
        let body = Bytes::copy_from_slice(&noise[..len]);
        if let Err(e) = Message::decode_body(*ft, &body) {
            // Only field-level errors are possible at the right length.
            prop_assert!(matches!(e, YkcError::Bcd { .. } | YkcError::Gbt { .. }), "{e}");
        }
    }

    #[test]
    fn well_framed_random_bodies_of_any_type_never_panic(ft in any::<u8>(), body in vec(any::<u8>(), 0..=251), seq in any::<[u8; 2]>()) {
        let f = encode_frame(seq, 0, ft, &body).unwrap();
        let d = ykc::decode(f);
        if let Ok(d) = d {
            let _ = normalize(&d.frame, &d.message);
        }
    }
}

#[test]
fn truncated_frame_reports_how_many_bytes_are_missing() {
    let full = ykc_support::unhex("680C000000025503141278230500DA4C");
    assert_eq!(
        Frame::parse(full.slice(..10)).unwrap_err(),
        YkcError::Incomplete { needed: 6 }
    );
    assert_eq!(
        Frame::parse(Bytes::new()).unwrap_err().kind(),
        "ykc_incomplete"
    );
}

#[test]
fn wrong_start_flag_is_named() {
    let err = Frame::parse(ykc_support::unhex("670C000000025503141278230500DA4C")).unwrap_err();
    assert_eq!(err, YkcError::BadStart { got: 0x67 });
}

#[test]
fn encrypted_body_without_cipher_is_a_clear_error() {
    let f = encode_frame(
        [0, 0],
        0x01,
        0x03,
        &[0x20, 0x23, 0x12, 0x12, 0, 0, 0x10, 1, 0],
    )
    .unwrap();
    let err = ykc::decode(f).unwrap_err();
    assert_eq!(err, YkcError::Encrypted { frame_type: 0x03 });
}

#[test]
fn encrypted_body_decodes_through_a_configured_cipher() {
    struct Xor;
    impl ykc::BodyCipher for Xor {
        fn decrypt(&self, _: u8, body: &[u8]) -> Option<Bytes> {
            Some(body.iter().map(|b| b ^ 0x5A).collect())
        }
        fn encrypt(&self, _: u8, body: &[u8]) -> Option<Bytes> {
            Some(body.iter().map(|b| b ^ 0x5A).collect())
        }
    }
    let clear = [0x20, 0x23, 0x12, 0x12, 0, 0, 0x10, 1, 0];
    let enc: Vec<u8> = clear.iter().map(|b| b ^ 0x5A).collect();
    let f = Frame::parse(encode_frame([0, 0], 0x01, 0x03, &enc).unwrap()).unwrap();
    let m = Message::decode_with(&f, Some(&Xor)).unwrap();
    assert!(matches!(m, Message::Heartbeat(h) if h.pile.to_string() == "20231212000010"));
}

#[test]
fn non_bcd_pile_number_names_field_and_offset() {
    // 0x09 with pile byte 3 = 0x1A.
    let body = Bytes::from_static(&[0x20, 0x23, 0x12, 0x1A, 0, 0, 0x10]);
    assert_eq!(
        Message::decode_body(0x09, &body).unwrap_err(),
        YkcError::Bcd {
            frame_type: 0x09,
            field: "pile",
            offset: 3,
            value: 0x1A
        }
    );
}

#[test]
fn sim_field_accepts_hex_digits() {
    let d = ykc::decode(ykc_support::vector("J1").bytes).unwrap();
    match d.message {
        Message::Login(l) => assert_eq!(l.sim.to_string(), "898604D11722D0348606"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn transaction_record_with_wrong_length_names_the_expected_length() {
    let body = Bytes::from(vec![0u8; 160]);
    assert_eq!(
        Message::decode_body(0x3B, &body).unwrap_err(),
        YkcError::BodyLength {
            frame_type: 0x3B,
            expected: 158,
            got: 160
        }
    );
}

//! Property tests: every message survives encode → decode, and no input — message bytes, CAN frame sequences,
//! relay streams, candump text — makes a decoder panic or the reassembler grow past its bound.

use bytes::BytesMut;
use chargegate_codec::gbt27930::candump::parse_line;
use chargegate_codec::gbt27930::*;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

/// Every GB/T PGN with the data length to generate for it.
const PGNS: [(u32, usize); 22] = [
    (pgn::CHM, 3),
    (pgn::BHM, 2),
    (pgn::CRM, 8),
    (pgn::BRM, 49),
    (pgn::BCP, 13),
    (pgn::CTS, 7),
    (pgn::CML, 8),
    (pgn::BRO, 1),
    (pgn::CRO, 1),
    (pgn::BCL, 5),
    (pgn::BCS, 9),
    (pgn::CCS, 7),
    (pgn::BSM, 7),
    (pgn::BMV, 20),
    (pgn::BMT, 10),
    (pgn::BSP, 16),
    (pgn::BST, 4),
    (pgn::CST, 4),
    (pgn::BSD, 7),
    (pgn::CSD, 8),
    (pgn::BEM, 4),
    (pgn::CEM, 4),
];

/// Messages whose every bit is a value (no reserved bits, no text): their bytes survive decode → encode exactly.
const LOSSLESS: [u32; 11] = [
    pgn::CHM,
    pgn::BHM,
    pgn::BCP,
    pgn::CML,
    pgn::BCL,
    pgn::BCS,
    pgn::BSD,
    pgn::CSD,
    pgn::BMV,
    pgn::BMT,
    pgn::BSP,
];

fn message_bytes() -> impl Strategy<Value = (u32, Vec<u8>)> {
    (0..PGNS.len()).prop_flat_map(|i| {
        let (p, len) = PGNS[i];
        prop::collection::vec(any::<u8>(), len).prop_map(move |b| (p, b))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_type_round_trips_through_encode_and_decode((p, bytes) in message_bytes()) {
        let Ok(first) = Message::decode(p, &bytes) else {
            // Only CTS rejects bytes (non-BCD digits).
            prop_assert_eq!(p, pgn::CTS);
            return Ok(());
        };
        prop_assert_eq!(first.pgn(), p);
        let encoded = first.to_bytes();
        let second = Message::decode(p, &encoded).unwrap();
        prop_assert_eq!(&second, &first);
        if LOSSLESS.contains(&p) {
            prop_assert_eq!(encoded, bytes);
        }
    }

    #[test]
    fn every_message_type_survives_its_json_form((p, bytes) in message_bytes()) {
        if let Ok(msg) = Message::decode(p, &bytes) {
            let json = serde_json::to_string(&msg).unwrap();
            let back: Message = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, msg);
        }
    }

    #[test]
    fn message_decoders_never_panic_on_any_length(p in any::<u16>(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let pgn = PGNS[usize::from(p) % PGNS.len()].0;
        let _ = Message::decode(pgn, &bytes);
        let _ = Message::decode(u32::from(p), &bytes);
        let _ = TpCm::decode(&bytes);
        let _ = TpDt::decode(&bytes);
    }

    #[test]
    fn can_id_round_trips(id in 0u32..=0x1FFF_FFFF) {
        prop_assert_eq!(CanId::from_raw(id).unwrap().to_raw(), id);
    }

    #[test]
    fn random_frame_sequences_never_panic_and_memory_stays_bounded(
        frames in prop::collection::vec(
            (0usize..6, 0u8..4, 0u8..4, prop::collection::vec(any::<u8>(), 0..9), 0u64..400),
            1..300,
        )
    ) {
        let config = TpConfig { max_sessions: 3, max_message_size: 200, ..TpConfig::default() };
        let mut dec = CanDecoder::new(config);
        let ids = [pgn::TP_CM, pgn::TP_DT, pgn::BCL, pgn::CCS, pgn::BST, 0x4200];
        let addrs = [BMS_ADDRESS, CHARGER_ADDRESS, 0x01, 0xFF];
        let mut now = 0u64;
        let mut out = Vec::new();
        for (kind, src, dst, mut data, dt) in frames {
            now += dt;
            if kind == 0 && data.len() == 8 && data[0] == 0x10 {
                // Keep many RTS plausible so that sessions really open.
                data[3] = data[3].max(1);
            }
            let id = CanId::new(7, ids[kind], addrs[usize::from(src)], addrs[usize::from(dst)]);
            dec.push_raw(id.to_raw(), &data, now, &mut out);
            prop_assert!(dec.reassembler().open_sessions() <= 3);
            prop_assert!(dec.reassembler().buffered_bytes() <= 3 * (200 + 7));
        }
    }

    #[test]
    fn relay_records_round_trip(id in 0u32..=0x1FFF_FFFF, data in prop::collection::vec(any::<u8>(), 0..=8)) {
        let frame = CanFrame::extended(id, &data);
        for layout in [RelayLayout::InfoFirst, RelayLayout::IdFirst] {
            prop_assert_eq!(layout.decode(&layout.encode(&frame)).unwrap(), frame);
        }
    }

    #[test]
    fn relay_stream_yields_one_item_per_13_bytes_whatever_they_hold(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut buf = BytesMut::from(&bytes[..]);
        let mut codec = RelayCodec::default();
        let mut items = 0;
        while let Some(_item) = codec.decode(&mut buf).unwrap() {
            items += 1;
        }
        prop_assert_eq!(items, bytes.len() / RELAY_FRAME_LEN);
        prop_assert_eq!(buf.len(), bytes.len() % RELAY_FRAME_LEN);
    }

    #[test]
    fn candump_parser_never_panics(line in "\\PC{0,60}") {
        let _ = parse_line(&line);
    }

    #[test]
    fn candump_compact_form_round_trips(id in 0x800u32..=0x1FFF_FFFF, data in prop::collection::vec(any::<u8>(), 0..=8)) {
        let line = format!("(1.5) can0 {id:08X}#{}", hex::encode_upper(&data));
        let parsed = parse_line(&line).unwrap();
        prop_assert_eq!(parsed.frame, CanFrame::extended(id, &data));
    }
}

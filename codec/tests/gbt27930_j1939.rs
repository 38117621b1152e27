//! J1939 transport reassembly as a receiver sees it: the RTS/CTS exchange, BAM, lost, repeated and reordered
//! packets, aborts, timeouts and the memory bound.

mod gbt27930_support;

use chargegate_codec::gbt27930::j1939::AbortCause;
use chargegate_codec::gbt27930::*;
use gbt27930_support::unhex;

const BMS: u8 = BMS_ADDRESS;
const CHARGER: u8 = CHARGER_ADDRESS;

fn cm_id(src: u8, dst: u8) -> CanId {
    CanId::new(7, pgn::TP_CM, src, dst)
}

fn dt_id(src: u8, dst: u8) -> CanId {
    CanId::new(7, pgn::TP_DT, src, dst)
}

fn rts(size: u16, packets: u8, max: u8, pgn: u32) -> [u8; 8] {
    TpCm::Rts {
        message_size: size,
        packets,
        max_packets_per_cts: max,
        transported_pgn: pgn,
    }
    .encode()
}

fn brm_bytes() -> Vec<u8> {
    (0u8..49).collect()
}

fn feed(tp: &mut Reassembler, id: CanId, data: &[u8], now: u64) -> Vec<TpEvent> {
    let mut out = Vec::new();
    tp.on_frame(&id, data, now, &mut out).unwrap();
    out
}

fn sent(events: &[TpEvent]) -> Vec<TpCm> {
    events
        .iter()
        .filter_map(|e| match e {
            TpEvent::Send { control, .. } => Some(*control),
            _ => None,
        })
        .collect()
}

fn completed(events: &[TpEvent]) -> Option<&Transfer> {
    events.iter().find_map(|e| match e {
        TpEvent::Complete(t) => Some(t),
        _ => None,
    })
}

#[test]
fn rts_is_answered_with_cts_and_the_last_packet_with_end_of_msg_ack() {
    let mut tp = Reassembler::default();
    let out = feed(&mut tp, cm_id(BMS, CHARGER), &unhex("10310007FF000200"), 0);
    assert_eq!(
        out,
        vec![TpEvent::Send {
            id: cm_id(CHARGER, BMS),
            control: TpCm::decode(&unhex("110701FFFF000200")).unwrap(),
        }],
        "the CTS of the capture (C6)"
    );
    let packets = packetize(&brm_bytes());
    assert_eq!(packets.len(), 7);
    for (i, p) in packets.iter().enumerate().take(6) {
        assert!(feed(&mut tp, dt_id(BMS, CHARGER), p, 10 + i as u64).is_empty());
    }
    let out = feed(&mut tp, dt_id(BMS, CHARGER), &packets[6], 20);
    assert_eq!(
        sent(&out),
        vec![TpCm::decode(&unhex("13310007FF000200")).unwrap()],
        "C8"
    );
    let t = completed(&out).unwrap();
    assert_eq!((t.pgn, t.packets, t.source_address), (pgn::BRM, 7, BMS));
    assert_eq!(t.data.as_ref(), brm_bytes().as_slice());
    assert_eq!(tp.open_sessions(), 0);
}

#[test]
fn packet_limit_per_cts_opens_the_next_window_after_each_one() {
    let mut tp = Reassembler::default();
    let out = feed(&mut tp, cm_id(BMS, CHARGER), &rts(49, 7, 3, pgn::BRM), 0);
    assert_eq!(
        sent(&out),
        vec![TpCm::Cts {
            packets_allowed: 3,
            next_packet: 1,
            transported_pgn: pgn::BRM
        }]
    );
    let packets = packetize(&brm_bytes());
    let mut all = Vec::new();
    for p in &packets {
        all.extend(feed(&mut tp, dt_id(BMS, CHARGER), p, 5));
    }
    let ctl = sent(&all);
    assert_eq!(
        ctl[0],
        TpCm::Cts {
            packets_allowed: 3,
            next_packet: 4,
            transported_pgn: pgn::BRM
        }
    );
    assert_eq!(
        ctl[1],
        TpCm::Cts {
            packets_allowed: 1,
            next_packet: 7,
            transported_pgn: pgn::BRM
        }
    );
    assert!(matches!(
        ctl[2],
        TpCm::EndOfMsgAck {
            message_size: 49,
            packets: 7,
            ..
        }
    ));
    assert_eq!(
        completed(&all).unwrap().data.as_ref(),
        brm_bytes().as_slice()
    );
}

#[test]
fn bam_reassembles_without_answers() {
    let mut tp = Reassembler::default();
    let bam = TpCm::Bam {
        message_size: 13,
        packets: 2,
        transported_pgn: pgn::BCP,
    }
    .encode();
    let global = CanId::new(7, pgn::TP_CM, BMS, 0xFF);
    assert!(feed(&mut tp, global, &bam, 0).is_empty());
    let mut out = feed(&mut tp, dt_id(BMS, 0xFF), &unhex("017201DA052A02A5"), 50);
    out.extend(feed(
        &mut tp,
        dt_id(BMS, 0xFF),
        &unhex("0210730803C60EFF"),
        100,
    ));
    assert!(sent(&out).is_empty());
    let t = completed(&out).unwrap();
    assert_eq!(hex::encode_upper(&t.data), "7201DA052A02A510730803C60E");
    assert_eq!(t.destination_address, 0xFF);
}

#[test]
fn out_of_order_and_duplicate_packets_still_give_the_message_once() {
    let mut tp = Reassembler::default();
    feed(&mut tp, cm_id(BMS, CHARGER), &unhex("100D0002FF000600"), 0);
    let second = unhex("0210730803C60EFF");
    assert!(completed(&feed(&mut tp, dt_id(BMS, CHARGER), &second, 1)).is_none());
    assert!(completed(&feed(&mut tp, dt_id(BMS, CHARGER), &second, 2)).is_none());
    let out = feed(&mut tp, dt_id(BMS, CHARGER), &unhex("017201DA052A02A5"), 3);
    assert_eq!(
        hex::encode_upper(&completed(&out).unwrap().data),
        "7201DA052A02A510730803C60E"
    );
    assert_eq!(tp.open_sessions(), 0);
}

#[test]
fn a_lost_packet_is_asked_for_again_then_the_transfer_is_aborted() {
    let mut tp = Reassembler::default();
    feed(&mut tp, cm_id(BMS, CHARGER), &rts(49, 7, 0xFF, pgn::BRM), 0);
    let packets = packetize(&brm_bytes());
    let mut out = Vec::new();
    for p in packets.iter().filter(|p| p[0] != 3) {
        out.extend(feed(&mut tp, dt_id(BMS, CHARGER), p, 1));
    }
    assert_eq!(
        sent(&out),
        vec![TpCm::Cts {
            packets_allowed: 5,
            next_packet: 3,
            transported_pgn: pgn::BRM
        }]
    );
    // The sender keeps resending packet 7 instead of 3: one more request, then the receiver gives up.
    let mut out = Vec::new();
    for _ in 0..2 {
        out.extend(feed(&mut tp, dt_id(BMS, CHARGER), &packets[6], 2));
    }
    assert!(out.contains(&TpEvent::Send {
        id: cm_id(CHARGER, BMS),
        control: TpCm::ConnAbort {
            abort_reason: abort_reason::MAX_RETRANSMIT,
            transported_pgn: pgn::BRM
        },
    }));
    assert!(out.iter().any(|e| matches!(
        e,
        TpEvent::Aborted {
            cause: AbortCause::TooManyRetransmits,
            ..
        }
    )));
    assert_eq!(tp.open_sessions(), 0);
}

#[test]
fn silence_longer_than_t1_times_the_transfer_out() {
    let mut tp = Reassembler::default();
    feed(&mut tp, cm_id(BMS, CHARGER), &rts(13, 2, 0xFF, pgn::BCP), 0);
    feed(
        &mut tp,
        dt_id(BMS, CHARGER),
        &unhex("017201DA052A02A5"),
        100,
    );
    let mut out = Vec::new();
    tp.poll(100 + j1939::DEFAULT_T1_MS, &mut out);
    assert!(out.is_empty(), "exactly T1 is still in time");
    tp.poll(101 + j1939::DEFAULT_T1_MS, &mut out);
    assert_eq!(
        sent(&out),
        vec![TpCm::ConnAbort {
            abort_reason: abort_reason::TIMEOUT,
            transported_pgn: pgn::BCP
        }]
    );
    assert!(out.iter().any(|e| matches!(
        e,
        TpEvent::Aborted {
            cause: AbortCause::Timeout,
            ..
        }
    )));
    let mut late = Vec::new();
    let err = tp.on_frame(
        &dt_id(BMS, CHARGER),
        &unhex("0210730803C60EFF"),
        2000,
        &mut late,
    );
    assert!(matches!(
        err,
        Err(j1939::J1939Error::UnexpectedData { sequence: 2, .. })
    ));
}

#[test]
fn conn_abort_from_the_sender_closes_the_transfer() {
    let mut tp = Reassembler::default();
    feed(&mut tp, cm_id(BMS, CHARGER), &unhex("10310007FF000200"), 0);
    let out = feed(&mut tp, cm_id(BMS, CHARGER), &unhex("FFFFFFFFFF000200"), 5);
    assert_eq!(
        out,
        vec![TpEvent::Aborted {
            source_address: BMS,
            destination_address: CHARGER,
            pgn: pgn::BRM,
            cause: AbortCause::ByPeer(0xFF),
        }]
    );
    assert_eq!(tp.open_sessions(), 0);
}

#[test]
fn rts_with_byte_5_equal_to_the_packet_count_is_accepted() {
    let mut tp = Reassembler::default();
    let out = feed(&mut tp, cm_id(BMS, CHARGER), &unhex("1031000707000200"), 0);
    assert_eq!(
        sent(&out),
        vec![TpCm::Cts {
            packets_allowed: 7,
            next_packet: 1,
            transported_pgn: pgn::BRM
        }]
    );
}

#[test]
fn oversize_or_inconsistent_announcements_are_refused() {
    let mut tp = Reassembler::new(TpConfig {
        max_message_size: 100,
        ..TpConfig::default()
    });
    let out = feed(
        &mut tp,
        cm_id(BMS, CHARGER),
        &rts(101, 15, 0xFF, pgn::BMV),
        0,
    );
    assert_eq!(
        sent(&out),
        vec![TpCm::ConnAbort {
            abort_reason: abort_reason::TOO_LARGE,
            transported_pgn: pgn::BMV
        }]
    );
    let out = feed(&mut tp, cm_id(BMS, CHARGER), &rts(49, 6, 0xFF, pgn::BRM), 0);
    assert!(out.iter().any(|e| matches!(
        e,
        TpEvent::Aborted {
            cause: AbortCause::BadAnnouncement,
            ..
        }
    )));
    assert_eq!(tp.open_sessions(), 0);
}

#[test]
fn rts_announcing_more_packets_than_the_size_limit_is_refused_so_memory_stays_bounded() {
    // Found by the property test: 10 bytes announced in 255 packets would reserve 1785 bytes.
    let mut tp = Reassembler::new(TpConfig {
        max_message_size: 200,
        ..TpConfig::default()
    });
    let out = feed(
        &mut tp,
        cm_id(BMS, CHARGER),
        &rts(10, 255, 0xFF, pgn::BMV),
        0,
    );
    assert!(out.iter().any(|e| matches!(
        e,
        TpEvent::Aborted {
            cause: AbortCause::BadAnnouncement,
            ..
        }
    )));
    assert_eq!(tp.buffered_bytes(), 0);
    feed(&mut tp, cm_id(BMS, CHARGER), &rts(10, 3, 0xFF, pgn::BMV), 0);
    assert_eq!(tp.open_sessions(), 1, "a few spare packets are tolerated");
}

#[test]
fn sessions_beyond_the_limit_are_refused_as_busy_and_memory_stays_bounded() {
    let config = TpConfig {
        max_sessions: 4,
        ..TpConfig::default()
    };
    let mut tp = Reassembler::new(config);
    for src in 0..10u8 {
        let out = feed(
            &mut tp,
            cm_id(src, CHARGER),
            &rts(1785, 255, 0xFF, pgn::BMV),
            0,
        );
        if src >= 4 {
            assert_eq!(
                sent(&out),
                vec![TpCm::ConnAbort {
                    abort_reason: abort_reason::BUSY,
                    transported_pgn: pgn::BMV
                }]
            );
        }
    }
    assert_eq!(tp.open_sessions(), 4);
    assert!(tp.buffered_bytes() <= 4 * TP_MAX_MESSAGE_SIZE);
}

#[test]
fn a_new_rts_between_the_same_nodes_replaces_the_old_transfer() {
    let mut tp = Reassembler::default();
    feed(&mut tp, cm_id(BMS, CHARGER), &rts(49, 7, 0xFF, pgn::BRM), 0);
    let out = feed(&mut tp, cm_id(BMS, CHARGER), &rts(13, 2, 0xFF, pgn::BCP), 1);
    assert!(out.iter().any(|e| matches!(
        e,
        TpEvent::Aborted {
            cause: AbortCause::Replaced,
            pgn: 0x200,
            ..
        }
    )));
    assert_eq!(tp.open_sessions(), 1);
}

#[test]
fn decoder_reports_the_whole_capture_sequence_with_the_reassembled_bcp() {
    let frames = [
        ("1CEC56F4", "100D0002FF000600"),
        ("1CECF456", "110201FFFF000600"),
        ("1CEB56F4", "017201DA052A02A5"),
        ("1CEB56F4", "0210730803C60EFF"),
        ("1CECF456", "130D0002FF000600"),
    ];
    let mut dec = CanDecoder::default();
    let mut out = Vec::new();
    for (i, (id, data)) in frames.iter().enumerate() {
        dec.push_raw(
            u32::from_str_radix(id, 16).unwrap(),
            &unhex(data),
            i as u64,
            &mut out,
        );
    }
    assert!(out.iter().all(|r| r.is_ok()), "{out:?}");
    let messages: Vec<_> = out
        .iter()
        .filter_map(|r| match r {
            Ok(Decoded::Message {
                id,
                message,
                packets,
                ..
            }) => Some((*id, message.clone(), *packets)),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 1);
    let (id, msg, packets) = &messages[0];
    assert_eq!(id.to_raw(), 0x1C06_56F4);
    assert_eq!(msg.name(), "BCP");
    assert_eq!(*packets, Some(2));
}

/// Fuzz finding (`gbt_can`, 1 session, 6-byte limit): a transfer is buffered in whole 7-byte packets, so a
/// 6-byte message reserves 7 bytes. The bound is `max_message_size` rounded up to a packet, per session; the
/// earlier fuzz assertion (`max_sessions × max_message_size`) was wrong, not the reassembler.
#[test]
fn the_memory_bound_counts_whole_seven_byte_packets() {
    let config = TpConfig {
        max_sessions: 1,
        max_message_size: 6,
        ..TpConfig::default()
    };
    assert_eq!(config.max_buffered_bytes(), 7);
    let mut tp = Reassembler::new(config);
    feed(&mut tp, cm_id(BMS, CHARGER), &rts(6, 1, 0xFF, pgn::BRM), 0);
    assert_eq!(tp.open_sessions(), 1);
    assert_eq!(tp.buffered_bytes(), 7, "one whole packet is reserved");
    assert!(tp.buffered_bytes() <= config.max_buffered_bytes());
    // Two packets for a 6-byte message are more than the limit allows: refused, nothing more reserved.
    feed(&mut tp, cm_id(CHARGER, BMS), &rts(6, 2, 0xFF, pgn::BRM), 0);
    assert!(tp.buffered_bytes() <= config.max_buffered_bytes());
}

//! `LengthFieldDecoder` against Netty's `LengthFieldBasedFrameDecoder`: the javadoc examples (a)–(g), Netty's own
//! recovery tests (N1–N4) and the derived vectors (X1–X8), all from the project notes `netty-framing.md` §1.5–§1.6
//! (Netty 4.1/4.2 `LengthFieldBasedFrameDecoder.java` and `LengthFieldBasedFrameDecoderTest.java`), plus the
//! `LengthFieldPrepender` javadoc (§2).
//!
//! Netty raises an exception where we yield an item; Netty yields frames still buffered after an exception on the
//! next read, we yield them in the same pass — the order of outcomes is what is compared.

mod framing_support;

use bytes::BytesMut;
use chargegate_codec::frame::{
    ByteOrder, ConfigError, Corruption, EncodeError, FrameEvent, LengthFieldConfig,
    LengthFieldDecoder, LengthFieldPrepender,
};
use framing_support::*;
use tokio_util::codec::Encoder;

fn decoder(config: LengthFieldConfig) -> (LengthFieldDecoder, BytesMut) {
    (LengthFieldDecoder::new(config), BytesMut::new())
}

fn single_read(config: LengthFieldConfig, input: &str) -> Vec<FrameEvent> {
    let (mut d, mut buf) = decoder(config);
    let mut out = feed_hex(&mut d, &mut buf, &[input]).remove(0);
    out.extend(finish(&mut d, &mut buf));
    out
}

// --- javadoc examples (a)–(g), netty-framing.md §1.5 ---

#[test]
fn example_a_two_byte_length_of_the_body_keeps_the_header() {
    let input = format!("000C{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 0, 2, 0, 0, true), &input),
        vec![frame(&input)]
    );
}

#[test]
fn example_b_strips_the_length_field() {
    let input = format!("000C{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 0, 2, 0, 2, true), &input),
        vec![frame(HELLO_WORLD)]
    );
}

#[test]
fn example_c_length_counting_the_whole_message_needs_minus_two() {
    let input = format!("000E{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 0, 2, -2, 0, true), &input),
        vec![frame(&input)]
    );
}

#[test]
fn example_d_three_byte_length_after_a_two_byte_header() {
    let input = format!("CAFE00000C{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 2, 3, 0, 0, true), &input),
        vec![frame(&input)]
    );
}

#[test]
fn example_e_header_after_the_length_is_added_by_the_adjustment() {
    let input = format!("00000CCAFE{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 0, 3, 2, 0, true), &input),
        vec![frame(&input)]
    );
}

#[test]
fn example_f_strips_hdr1_and_length_keeps_hdr2() {
    let input = format!("CA000CFE{HELLO_WORLD}");
    let expected = format!("FE{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 1, 2, 1, 3, true), &input),
        vec![frame(&expected)]
    );
}

#[test]
fn example_g_whole_message_length_with_stripped_header() {
    let input = format!("CA0010FE{HELLO_WORLD}");
    let expected = format!("FE{HELLO_WORLD}");
    assert_eq!(
        single_read(netty(64, 1, 2, -3, 3, true), &input),
        vec![frame(&expected)]
    );
}

#[test]
fn example_f_fed_one_byte_per_read_yields_nothing_until_the_sixteenth_byte() {
    let input = hex(&format!("CA000CFE{HELLO_WORLD}"));
    let (mut d, mut buf) = decoder(netty(64, 1, 2, 1, 3, true));
    let reads: Vec<&[u8]> = input.chunks(1).collect();
    let per_read = feed(&mut d, &mut buf, &reads);
    assert!(per_read[..15].iter().all(Vec::is_empty));
    assert_eq!(per_read[15], vec![frame(&format!("FE{HELLO_WORLD}"))]);
}

#[test]
fn two_frames_in_one_read_come_out_in_order() {
    let input = format!("000C{HELLO_WORLD}000121");
    assert_eq!(
        single_read(netty(64, 0, 2, 0, 0, true), &input),
        vec![frame(&format!("000C{HELLO_WORLD}")), frame("000121")]
    );
}

// --- Netty's own recovery tests, netty-framing.md §1.6 N1–N4 ---

#[test]
fn n1_fail_fast_reports_too_long_at_the_header_and_the_next_frame_decodes() {
    let (mut d, mut buf) = decoder(netty(5, 0, 4, 0, 4, true));
    for _ in 0..2 {
        let out = feed_hex(&mut d, &mut buf, &["00000002", "00000000000141"]);
        assert_eq!(out, vec![vec![too_long(6, 5)], vec![frame("41")]]);
    }
    assert_eq!(d.stats().too_long, 2);
    assert_eq!(d.stats().frames, 2);
}

#[test]
fn n2_fail_slow_reports_too_long_after_its_last_byte_and_the_next_frame_decodes() {
    let (mut d, mut buf) = decoder(netty(5, 0, 4, 0, 4, false));
    for _ in 0..2 {
        let out = feed_hex(&mut d, &mut buf, &["00000002", "0000", "0000000141"]);
        assert_eq!(out, vec![vec![], vec![too_long(6, 5)], vec![frame("41")]]);
    }
}

fn n3_input() -> String {
    let body: String = (0u8..32).map(|b| format!("{b:02X}")).collect();
    format!("00000020{body}0000000161")
}

#[test]
fn n3_whole_too_long_frame_in_one_read_is_skipped_exactly_and_the_next_frame_kept() {
    let input = n3_input();
    assert_eq!(hex(&input).len(), 41);
    assert_eq!(
        single_read(netty(16, 0, 4, 0, 0, true), &input),
        vec![too_long(36, 16), frame("0000000161")]
    );
}

#[test]
fn n4_too_long_frame_split_across_reads_is_discarded_then_the_next_frame_decodes() {
    let input = hex(&n3_input());
    let (mut d, mut buf) = decoder(netty(16, 0, 4, 0, 0, true));
    let out = feed(&mut d, &mut buf, &[&input[..14], &input[14..]]);
    assert_eq!(out, vec![vec![too_long(36, 16)], vec![frame("0000000161")]]);
}

// --- derived vectors, netty-framing.md §1.6 X1–X8 ---

#[test]
fn x1_fail_slow_split_reports_too_long_only_when_the_frame_is_fully_skipped() {
    let input = hex(&n3_input());
    let (mut d, mut buf) = decoder(netty(16, 0, 4, 0, 0, false));
    let out = feed(&mut d, &mut buf, &[&input[..14], &input[14..]]);
    assert_eq!(
        out,
        vec![vec![], vec![too_long(36, 16), frame("0000000161")]]
    );
}

const X1B_READS: [&str; 3] = [
    "0000002000010203040506070809",
    "0A0B0C0D0E0F10111213141516171819",
    "1A1B1C1D1E1F0000000161",
];

#[test]
fn x1b_fail_fast_over_three_reads_reports_on_the_first_and_frames_on_the_third() {
    let (mut d, mut buf) = decoder(netty(16, 0, 4, 0, 0, true));
    let out = feed_hex(&mut d, &mut buf, &X1B_READS);
    assert_eq!(
        out,
        vec![vec![too_long(36, 16)], vec![], vec![frame("0000000161")]]
    );
}

#[test]
fn x1b_fail_slow_over_three_reads_reports_on_the_third_then_frames() {
    let (mut d, mut buf) = decoder(netty(16, 0, 4, 0, 0, false));
    let out = feed_hex(&mut d, &mut buf, &X1B_READS);
    assert_eq!(
        out,
        vec![vec![], vec![], vec![too_long(36, 16), frame("0000000161")]]
    );
}

#[test]
fn x2_adjusted_length_below_header_end_is_corrupted_and_desynchronises_like_netty() {
    let (mut d, mut buf) = decoder(netty(16, 0, 2, -4, 0, true));
    let out = feed_hex(&mut d, &mut buf, &["0001FF", "000141"]);
    let corruption = Corruption::ShorterThanHeader {
        frame_length: -1,
        header_end: 2,
    };
    assert_eq!(
        out,
        vec![
            vec![FrameEvent::Corrupted {
                corruption,
                skipped: 2
            }],
            vec![too_long(65278, 16)],
        ]
    );
    assert!(d.is_discarding());
}

#[test]
fn x3_strip_larger_than_frame_is_corrupted_and_keeps_the_frame_boundary() {
    let (mut d, mut buf) = decoder(netty(16, 0, 1, 0, 5, true));
    let out = feed_hex(&mut d, &mut buf, &["01AA", "0142"]);
    let corrupted = FrameEvent::Corrupted {
        corruption: Corruption::ShorterThanStrip {
            frame_length: 2,
            strip: 5,
        },
        skipped: 2,
    };
    assert_eq!(out, vec![vec![corrupted.clone()], vec![corrupted]]);
    assert_eq!(d.stats().corrupted, 2);
}

#[test]
fn x4_negative_eight_byte_length_is_corrupted_then_the_next_frame_decodes() {
    let (mut d, mut buf) = decoder(netty(64, 0, 8, 0, 0, true));
    let out = feed_hex(
        &mut d,
        &mut buf,
        &["FFFFFFFFFFFFFFFF", "000000000000000142"],
    );
    let corrupted = FrameEvent::Corrupted {
        corruption: Corruption::NegativeLength { field: -1 },
        skipped: 8,
    };
    assert_eq!(
        out,
        vec![vec![corrupted], vec![frame("000000000000000142")]]
    );
}

#[test]
fn x5_unsupported_length_field_length_is_refused_when_the_config_is_built() {
    for length in [0, 5, 6, 7, 9] {
        assert_eq!(
            LengthFieldConfig::new(64, 0, length, 0, 0),
            Err(ConfigError::UnsupportedLengthFieldLength { length })
        );
    }
}

#[test]
fn x6_little_endian_length_field() {
    let config = netty(16, 0, 2, 0, 2, true).with_byte_order(ByteOrder::Little);
    assert_eq!(single_read(config, "0300414243"), vec![frame("414243")]);
}

#[test]
fn x7_empty_body_yields_an_empty_frame() {
    let (mut d, mut buf) = decoder(netty(16, 0, 2, 0, 2, true));
    let out = feed_hex(&mut d, &mut buf, &["0000", "000142"]);
    assert_eq!(out, vec![vec![frame("")], vec![frame("42")]]);
}

const X8_FRAME: &str = "680C000000025503141278230500DA4C";

#[test]
fn x8_ykc_envelope_as_plain_length_field_frames_the_whole_frame() {
    assert_eq!(
        single_read(netty(259, 1, 1, 2, 0, true), X8_FRAME),
        vec![frame(X8_FRAME)]
    );
}

#[test]
fn x8_ykc_envelope_split_keeps_the_trailing_marker_for_the_next_frame() {
    let (mut d, mut buf) = decoder(netty(259, 1, 1, 2, 0, true));
    let out = feed_hex(
        &mut d,
        &mut buf,
        &["68", "0C0000", "0002550314127823", "0500DA4C68"],
    );
    assert_eq!(out, vec![vec![], vec![], vec![], vec![frame(X8_FRAME)]]);
    assert_eq!(&buf[..], &[0x68]);
    let at_close = finish(&mut d, &mut buf);
    assert_eq!(at_close, vec![FrameEvent::Truncated { dropped: 1 }]);
}

// --- frame length is limited the way Netty limits it ---

#[test]
fn max_frame_length_counts_the_header_and_only_strictly_greater_is_too_long() {
    // Field 1 + header 4 = 5 = max: accepted. Field 2 → 6 > 5: too long (N1's boundary).
    assert_eq!(
        single_read(netty(5, 0, 4, 0, 4, true), "0000000141"),
        vec![frame("41")]
    );
    assert_eq!(
        single_read(netty(5, 0, 4, 0, 4, true), "000000024142"),
        vec![too_long(6, 5)]
    );
}

// --- configuration validation ---

#[test]
fn config_refuses_zero_max_and_a_header_longer_than_max() {
    assert_eq!(
        LengthFieldConfig::new(0, 0, 2, 0, 0),
        Err(ConfigError::ZeroMaxFrameLength)
    );
    assert_eq!(
        LengthFieldConfig::new(4, 3, 2, 0, 0),
        Err(ConfigError::HeaderExceedsMax {
            max: 4,
            offset: 3,
            length: 2
        })
    );
    assert!(LengthFieldConfig::new(5, 3, 2, 0, 0).is_ok());
}

#[test]
fn config_deserializes_with_netty_defaults_and_validates() {
    let config: LengthFieldConfig = serde_json::from_str(
        r#"{"max_frame_length": 259, "length_field_offset": 1, "length_field_length": 1, "length_adjustment": 2}"#,
    )
    .unwrap();
    assert_eq!(config, netty(259, 1, 1, 2, 0, true));
    assert_eq!(config.byte_order(), ByteOrder::Big);
    let bad = serde_json::from_str::<LengthFieldConfig>(
        r#"{"max_frame_length": 64, "length_field_offset": 0, "length_field_length": 5}"#,
    );
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("unsupported length_field_length: 5"));
}

#[test]
fn config_serializes_and_reads_back_unchanged() {
    let config = netty(300, 2, 3, -1, 1, false).with_byte_order(ByteOrder::Little);
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<LengthFieldConfig>(&json).unwrap(),
        config
    );
}

// --- LengthFieldPrepender, netty-framing.md §2 ---

fn prepend(mut prepender: LengthFieldPrepender, payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut dst = BytesMut::new();
    prepender.encode(payload, &mut dst)?;
    Ok(dst.to_vec())
}

#[test]
fn prepender_javadoc_two_byte_length_of_the_payload() {
    let out = prepend(LengthFieldPrepender::new(2).unwrap(), &hex(HELLO_WORLD)).unwrap();
    assert_eq!(out, hex(&format!("000C{HELLO_WORLD}")));
}

#[test]
fn prepender_javadoc_length_including_the_field_itself() {
    let prepender = LengthFieldPrepender::new(2)
        .unwrap()
        .with_length_including_field(true);
    let out = prepend(prepender, &hex(HELLO_WORLD)).unwrap();
    assert_eq!(out, hex(&format!("000E{HELLO_WORLD}")));
}

#[test]
fn prepender_refuses_lengths_that_do_not_fit_or_are_negative() {
    let one_byte = LengthFieldPrepender::new(1).unwrap();
    assert!(matches!(
        prepend(one_byte, &[0; 256]),
        Err(EncodeError::LengthDoesNotFit {
            length: 256,
            field_length: 1
        })
    ));
    assert!(prepend(one_byte, &[0; 255]).is_ok());
    let negative = one_byte.with_length_adjustment(-3);
    assert!(matches!(
        prepend(negative, &[0; 2]),
        Err(EncodeError::NegativeLength { length: -1 })
    ));
    assert_eq!(
        LengthFieldPrepender::new(5),
        Err(ConfigError::UnsupportedLengthFieldLength { length: 5 })
    );
}

#[test]
fn prepender_output_decodes_with_the_matching_decoder() {
    let prepender = LengthFieldPrepender::new(3)
        .unwrap()
        .with_byte_order(ByteOrder::Little);
    let wire = prepend(prepender, &hex(HELLO_WORLD)).unwrap();
    let config = netty(64, 0, 3, 0, 3, true).with_byte_order(ByteOrder::Little);
    let (mut d, _) = decoder(config);
    assert_eq!(decode_whole(&mut d, &wire), vec![frame(HELLO_WORLD)]);
}

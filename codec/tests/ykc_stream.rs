//! The YKC byte-stream decoder over every public vector back to back: sticky and split packets never change what
//! comes out, bad frames are rejected with their bytes and the next frame still decodes.

mod framing_support;
mod ykc_support;

use bytes::Bytes;
use chargegate_codec::ykc::{StreamDecoder, StreamItem};
use proptest::prelude::*;
use ykc_support::{all_ids, vector};

/// Every vector of `codec/tests/data/ykc-vectors.json`, in file order, as one byte stream with line noise between.
fn capture() -> (Vec<u8>, Vec<String>) {
    let mut stream = vec![0x00, 0xFF, 0x13];
    let ids = all_ids();
    for id in &ids {
        stream.extend_from_slice(&vector(id).bytes);
    }
    (stream, ids)
}

/// Feeds `stream` cut at `cuts` (sorted offsets) and collects every item, including those at end of input.
fn decode_in_pieces(stream: &[u8], cuts: &[usize]) -> Vec<StreamItem> {
    framing_support::decode_split(&mut StreamDecoder::new(), stream, cuts)
}

fn decoded_types(items: &[StreamItem]) -> Vec<u8> {
    items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Decoded(d) => Some(d.frame.frame_type),
            StreamItem::Rejected(_) | StreamItem::Skipped(_) => None,
        })
        .collect()
}

#[test]
fn every_good_vector_decodes_from_one_stream_and_every_bad_one_is_rejected_with_a_kind() {
    let (stream, ids) = capture();
    let items = decode_in_pieces(&stream, &[]);
    let rejected: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Rejected(r) => Some(r.kind),
            _ => None,
        })
        .collect();
    // Bad-CRC vectors and wrong length bytes (J5, J9) are CRC rejections; deviating bodies are body errors.
    assert!(rejected.contains(&"ykc_bad_crc"), "{rejected:?}");
    let good: Vec<u8> = ids
        .iter()
        .map(|id| vector(id))
        .filter(|v| v.crc_order != "bad" && v.length_ok)
        .map(|v| v.frame_type)
        .collect();
    let decoded = decoded_types(&items);
    // Every decoded frame is one of the good vectors, in order, and only body-deviating vectors are missing.
    let mut it = good.iter();
    for t in &decoded {
        assert!(it.any(|g| g == t), "decoded type {t:#04x} out of order");
    }
    assert!(
        decoded.len() + 6 >= good.len(),
        "decoded {} of {} good frames: {rejected:?}",
        decoded.len(),
        good.len()
    );
}

#[test]
fn one_byte_at_a_time_gives_the_same_items_as_whole() {
    let (stream, _) = capture();
    let whole = decode_in_pieces(&stream, &[]);
    let cuts: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(decode_in_pieces(&stream, &cuts), whole);
}

#[test]
fn a_rejected_frame_carries_its_bytes_for_the_dead_letter_topic() {
    // id S36-badcrc — DaYePython/ykc-parser §8.5 example with placeholder CRC C1 A9.
    let bad = vector("S36-badcrc").bytes;
    // id S1 — the spec's login reply, valid.
    let good = vector("S1").bytes;
    let stream: Vec<u8> = bad.iter().chain(good.iter()).copied().collect();
    let items: Vec<StreamItem> = decode_in_pieces(&stream, &[])
        .into_iter()
        .filter(|i| !matches!(i, StreamItem::Skipped(_)))
        .collect();
    match &items[..] {
        [StreamItem::Rejected(r), StreamItem::Decoded(d)] => {
            assert_eq!(r.kind, "ykc_bad_crc");
            assert_eq!(r.bytes, Bytes::from(bad.to_vec()));
            assert_eq!(d.frame.frame_type, 0x02);
        }
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_splits_give_the_same_items_as_whole(mut cuts in proptest::collection::vec(0usize..3000, 0..40)) {
        let (stream, _) = capture();
        cuts.sort_unstable();
        prop_assert_eq!(decode_in_pieces(&stream, &cuts), decode_in_pieces(&stream, &[]));
    }

    #[test]
    fn random_bytes_never_panic_the_stream_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_in_pieces(&bytes, &[bytes.len() / 2]);
    }
}

//! Vectors built from the layouts in HAProxy's `proxy-protocol.txt` (v1 §2.1 examples, v2 §2.2 layout).

use super::*;

fn addr(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

// id: proxy-v1-tcp4; source: proxy-protocol.txt §2.1 example "PROXY TCP4 255.255.255.255 … 65535 65535"
#[test]
fn v1_tcp4_yields_the_client_address() {
    let buf = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /";
    let (h, used) = parse(buf, ProxyProtocol::V1).unwrap().unwrap();
    assert_eq!(h.source, addr("192.168.0.1:56324"));
    assert_eq!(h.destination, addr("192.168.0.11:443"));
    assert_eq!(&buf[used..], b"GET /");
}

// id: proxy-v1-tcp6; source: proxy-protocol.txt §2.1 ("TCP6" with IPv6 addresses)
#[test]
fn v1_tcp6_yields_the_client_address() {
    let buf = b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 8768\r\n";
    let (h, _) = parse(buf, ProxyProtocol::Any).unwrap().unwrap();
    assert_eq!(h.source, addr("[2001:db8::1]:4000"));
}

// id: proxy-v1-unknown; source: proxy-protocol.txt §2.1 "PROXY UNKNOWN\r\n"
#[test]
fn v1_unknown_keeps_the_socket_peer() {
    let (h, used) = parse(b"PROXY UNKNOWN\r\n", ProxyProtocol::V1)
        .unwrap()
        .unwrap();
    assert_eq!(h.source, None);
    assert_eq!(used, 15);
}

#[test]
fn v1_partial_header_asks_for_more() {
    assert_eq!(parse(b"PROXY TCP4 10.0", ProxyProtocol::V1).unwrap(), None);
    assert_eq!(parse(b"PRO", ProxyProtocol::V1).unwrap(), None);
}

#[test]
fn v1_without_crlf_within_107_bytes_is_too_long() {
    let mut buf = b"PROXY TCP4 ".to_vec();
    buf.resize(200, b'1');
    assert_eq!(
        parse(&buf, ProxyProtocol::V1).unwrap_err(),
        ProxyError::TooLong { max: V1_MAX_LEN }
    );
}

#[test]
fn v1_with_a_family_mismatch_is_malformed() {
    let err = parse(
        b"PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n",
        ProxyProtocol::V1,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "malformed");
}

// id: proxy-v2-tcp4; source: proxy-protocol.txt §2.2 layout, PROXY command, AF_INET/STREAM, 12-byte address block
const V2_TCP4: &str = "0d0a0d0a000d0a515549540a 21 11 000c cb007107 c0000201 c738 2240";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

#[test]
fn v2_tcp4_yields_the_client_address() {
    let mut buf = unhex(V2_TCP4);
    buf.extend_from_slice(&[0x68, 0x22]);
    let (h, used) = parse(&buf, ProxyProtocol::V2).unwrap().unwrap();
    assert_eq!(h.source, addr("203.0.113.7:51000"));
    assert_eq!(h.destination, addr("192.0.2.1:8768"));
    assert_eq!(&buf[used..], &[0x68, 0x22]);
}

// id: proxy-v2-tcp6; source: proxy-protocol.txt §2.2 layout, AF_INET6/STREAM, 36-byte address block + one TLV
#[test]
fn v2_tcp6_with_tlv_yields_the_client_address() {
    let buf = unhex(concat!(
        "0d0a0d0a000d0a515549540a 21 21 0029",
        "20010db8000000000000000000000001 20010db8000000000000000000000002 0fa0 2240",
        "01 0002 6832"
    ));
    let (h, used) = parse(&buf, ProxyProtocol::Any).unwrap().unwrap();
    assert_eq!(h.source, addr("[2001:db8::1]:4000"));
    assert_eq!(used, buf.len());
}

// id: proxy-v2-local; source: proxy-protocol.txt §2.2 "LOCAL" command (health checks from the balancer)
#[test]
fn v2_local_keeps_the_socket_peer() {
    let buf = unhex("0d0a0d0a000d0a515549540a 20 00 0000");
    let (h, used) = parse(&buf, ProxyProtocol::V2).unwrap().unwrap();
    assert_eq!(h.source, None);
    assert_eq!(used, 16);
}

#[test]
fn v2_truncated_address_block_asks_for_more() {
    let buf = unhex(V2_TCP4);
    assert_eq!(parse(&buf[..20], ProxyProtocol::V2).unwrap(), None);
}

#[test]
fn v2_bad_version_is_malformed() {
    let mut buf = unhex(V2_TCP4);
    buf[12] = 0x31;
    assert_eq!(
        parse(&buf, ProxyProtocol::V2).unwrap_err().kind(),
        "malformed"
    );
}

#[test]
fn a_listener_expecting_v2_refuses_v1() {
    assert_eq!(
        parse(b"PROXY UNKNOWN\r\n", ProxyProtocol::V2).unwrap_err(),
        ProxyError::Missing
    );
    assert_eq!(
        parse(&[0x68, 0x22], ProxyProtocol::Any).unwrap_err(),
        ProxyError::Missing
    );
}

#[tokio::test]
async fn read_header_returns_the_bytes_after_it() {
    let mut input: &[u8] = b"PROXY TCP4 198.51.100.5 192.0.2.1 40000 8768\r\n\x68\x0d";
    let (h, rest) = read_header(&mut input, ProxyProtocol::Any, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(h.source, addr("198.51.100.5:40000"));
    assert_eq!(&rest[..], b"\x68\x0d");
}

#[tokio::test]
async fn read_header_fails_at_eof() {
    let mut input: &[u8] = b"PROXY TCP4 198.51";
    let err = read_header(&mut input, ProxyProtocol::V1, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(err, ProxyError::Eof);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes, ProxyProtocol::Any);
        }

        #[test]
        fn parse_never_panics_after_a_v2_signature(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut buf = V2_SIGNATURE.to_vec();
            buf.extend(tail);
            let _ = parse(&buf, ProxyProtocol::Any);
        }
    }
}

//! Hostile clients against a running gateway (`App::start` on loopback), each beside a control YKC charger that
//! heartbeats every 20 ms. For every attack the test asserts the cut-off (the limit's config key is named in the
//! test), the Prometheus counter read over HTTP from `/metrics`, a log line with the error code, the control
//! charger's heartbeat p99 within 2× its idle p99 (paired equal windows, repeated up to 5 times; see
//! `chargegate_e2e::hostile::under_attack`), the test process's RSS growth (the gateway runs in it) within a
//! generous bound, and no panic. The figures are printed (`cargo test -- --nocapture`).
//!
//! The attacks run one at a time (`hostile::serial`): measuring latency while another test floods the same two
//! cores would measure the other test. An attack runs several times: again until the measured window is full,
//! and in a further round when a round misses the latency bound; so counters are asserted per run.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use chargegate::config::Config;
use chargegate_e2e::hostile::{garbage, heartbeat_with_bad_crc, serial, under_attack, LogCapture};
use chargegate_e2e::{metric_value, TestGateway, YkcCharger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The control charger's pile number.
const CONTROL: &str = "32010200000001";
/// Scheduling slack on a shared test machine, on top of a configured deadline.
const SLACK: Duration = Duration::from_secs(3);
/// `limits.auth_deadline_secs` in these tests.
const AUTH_DEADLINE: Duration = Duration::from_secs(2);

/// Short deadlines so every attack is cut within seconds. The per-IP accept burst is raised so attacks that open
/// hundreds of connections from 127.0.0.1 (never-login: 200 a run, beside the control charger's logins) test
/// their own limit; the connect-storm test runs with the default per-IP rate.
fn hostile_config(c: &mut Config) {
    c.limits.auth_deadline_secs = AUTH_DEADLINE.as_secs();
    c.limits.rate_frames_per_sec = 50;
    c.limits.rate_burst_secs = 1;
    c.limits.rate_abuse_close_secs = 2;
    c.liveness.ykc_heartbeat_secs = 1;
    c.liveness.ykc_missed_heartbeats = 1;
    c.listeners.ykc.accept_burst_per_ip = 1_000;
}

/// Waits until the peer closes `stream` (EOF or reset), reading and discarding; false after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

fn value(text: &str, series: &str) -> f64 {
    metric_value(text, series).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_one_byte_a_second_is_cut_at_the_login_deadline() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(hostile_config).await;
    let addr = gw.ykc();
    let runs = under_attack(gw.ykc(), CONTROL, "slowloris", move |_| async move {
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                tokio::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    let started = Instant::now();
                    // A login frame's first bytes, one a second; the gateway must not wait for the rest.
                    for byte in [0x68u8, 0x22, 0x00, 0x01, 0x00, 0x01, 0x32, 0x01] {
                        if s.write_all(&[byte]).await.is_err() {
                            break;
                        }
                        let mut one = [0u8; 1];
                        match tokio::time::timeout(Duration::from_secs(1), s.read(&mut one)).await {
                            Ok(Ok(0)) | Ok(Err(_)) => break,
                            _ => {}
                        }
                    }
                    assert!(closed_within(&mut s, SLACK).await, "slowloris still open");
                    started.elapsed()
                })
            })
            .collect();
        for t in tasks {
            let lived = t.await.unwrap();
            assert!(lived < AUTH_DEADLINE + SLACK, "cut after {lived:?}");
        }
    })
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: limits.auth_deadline_secs.
    assert_eq!(
        value(
            &text,
            r#"chargegate_connections_closed_total{protocol="ykc",reason="auth_timeout"}"#
        ),
        10.0 * n,
        "{text}"
    );
    assert!(
        value(
            &text,
            r#"chargegate_auth_failures_total{protocol="ykc",reason="login_deadline"}"#
        ) >= 10.0 * n
    );
    assert!(
        logs.has_line(&["connection cut", "auth_timeout", "A0101"]),
        "{}",
        logs.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_log_in_are_closed_at_the_deadline() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(hostile_config).await;
    let addr = gw.ykc();
    let runs = under_attack(gw.ykc(), CONTROL, "never-login x200", move |_| async move {
        let mut silent = Vec::new();
        for _ in 0..200 {
            silent.push(TcpStream::connect(addr).await.unwrap());
        }
        for s in &mut silent {
            assert!(
                closed_within(s, AUTH_DEADLINE + SLACK).await,
                "a silent client is still open"
            );
        }
    })
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: limits.auth_deadline_secs.
    assert_eq!(
        value(
            &text,
            r#"chargegate_connections_closed_total{protocol="ykc",reason="auth_timeout"}"#
        ),
        200.0 * n,
        "{text}"
    );
    assert!(logs.has_line(&["connection cut", "A0101"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_chargers_that_fall_silent_are_cut_by_liveness() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(hostile_config).await;
    let addr = gw.ykc();
    let runs = under_attack(gw.ykc(), CONTROL, "half-open x20", move |_| async move {
        let mut piles = Vec::new();
        for i in 0..20 {
            let mut p = YkcCharger::connect(addr, &format!("320102000001{i:02}")).await;
            p.login_accepted().await;
            piles.push(p);
        }
        // No FIN, no data: the link looks alive to TCP; the heartbeat deadline is what ends it.
        for p in &mut piles {
            p.expect_closed(Duration::from_secs(1) + SLACK).await;
        }
    })
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: liveness.ykc_heartbeat_secs × liveness.ykc_missed_heartbeats.
    assert_eq!(
        value(
            &text,
            r#"chargegate_liveness_timeouts_total{protocol="ykc"}"#
        ),
        20.0 * n,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"chargegate_connections_closed_total{protocol="ykc",reason="liveness_timeout"}"#
        ),
        20.0 * n
    );
    assert!(
        logs.has_line(&["connection closed", "liveness_timeout", "A0203"]),
        "{}",
        logs.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crc_error_storm_is_throttled_then_cut() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(|c| {
        hostile_config(c);
        // Bad frames are no heartbeats: with hostile_config's 1 s liveness deadline the attacker was sometimes cut
        // for silence (liveness_timeout) before the 2 s rate-abuse window. This test is about the rate limit.
        c.liveness.ykc_heartbeat_secs = 30;
    })
    .await;
    let addr = gw.ykc();
    let runs = under_attack(gw.ykc(), CONTROL, "CRC-error storm", move |_| async move {
        let pile = "32010200000099";
        let mut attacker = YkcCharger::connect(addr, pile).await;
        attacker.login_accepted().await;
        let mut batch = Vec::new();
        for seq in 0..100u16 {
            batch.extend_from_slice(&heartbeat_with_bad_crc(pile, seq));
        }
        let started = Instant::now();
        let mut sent = 0usize;
        // 1,000 bad frames a second until the gateway hangs up (bounded: 10 s).
        while started.elapsed() < Duration::from_secs(10) {
            if tokio::time::timeout(Duration::from_secs(1), attacker.send_raw_checked(&batch))
                .await
                .map_or(true, |ok| !ok)
            {
                break;
            }
            sent += 100;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "CRC-error storm: {sent} bad frames sent in {:.1?}",
            started.elapsed()
        );
        attacker.expect_closed(SLACK).await;
    })
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limits: limits.rate_frames_per_sec / rate_burst_secs (bad frames cost tokens too), rate_abuse_close_secs.
    assert!(
        value(
            &text,
            r#"chargegate_decode_errors_total{kind="bad_checksum",protocol="ykc"}"#
        ) >= 100.0 * n,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"chargegate_connections_closed_total{protocol="ykc",reason="rate_limit"}"#
        ),
        n,
        "{text}"
    );
    assert!(
        logs.has_line(&["connection cut", "rate_limit", "A0202"]),
        "{}",
        logs.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_garbage_is_cut_and_counted() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(hostile_config).await;
    let addr = gw.ykc();
    let runs = under_attack(gw.ykc(), CONTROL, "random garbage", move |_| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        let mut seed = 1u64;
        // 64 KiB of noise every 100 ms until the gateway hangs up (bounded: 10 s, 6.4 MiB).
        while started.elapsed() < Duration::from_secs(10) {
            seed += 1;
            if s.write_all(&garbage(64 * 1024, seed)).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            closed_within(&mut s, SLACK).await,
            "the garbage client is still open"
        );
        assert!(
            started.elapsed() < AUTH_DEADLINE + SLACK,
            "cut after {:?}",
            started.elapsed()
        );
    })
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    let errors: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("chargegate_decode_errors_total") && l.contains(r#"protocol="ykc""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(errors >= 1.0, "{text}");
    let cut: f64 = ["auth_timeout", "rate_limit", "protocol_error"]
        .iter()
        .map(|r| {
            value(
                &text,
                &format!(r#"chargegate_connections_closed_total{{protocol="ykc",reason="{r}"}}"#),
            )
        })
        .sum();
    assert_eq!(cut, n, "{text}");
    assert!(logs.has_line(&["connection cut", "A0"]), "{}", logs.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_length_fields_never_buffer_what_they_announce() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(|c| {
        hostile_config(c);
        c.listeners.ocpp_tcp.enabled = true;
        c.listeners.ocpp_tcp.bind = Some(([127, 0, 0, 1], 0).into());
        c.listeners.ocpp_tcp.codec = Some("ocpp-tcp-alt".to_owned());
    })
    .await;
    let ocpp_tcp: SocketAddr = gw.app.local_addr("ocpp_tcp").expect("ocpp_tcp listener");
    let ykc = gw.ykc();
    let runs = under_attack(
        gw.ykc(),
        CONTROL,
        "oversize length fields",
        move |_| async move {
            // OCPP-TCP (alt envelope, 4-byte length): 64 MiB announced, then 2 MiB sent.
            let mut big = TcpStream::connect(ocpp_tcp).await.unwrap();
            let mut header = vec![0xAB, 0xCD, 0xEF, 0x01];
            header.extend_from_slice(&(64u32 * 1024 * 1024).to_le_bytes());
            big.write_all(&header).await.unwrap();
            for _ in 0..32 {
                if big.write_all(&[b'A'; 64 * 1024]).await.is_err() {
                    break;
                }
            }
            // YKC: the 1-byte length can announce at most 255 bytes; announce it and stop.
            let mut ykc_big = TcpStream::connect(ykc).await.unwrap();
            ykc_big.write_all(&[0x68, 0xFF, 0x00, 0x01]).await.unwrap();
            assert!(
                closed_within(&mut big, AUTH_DEADLINE + SLACK).await,
                "OCPP-TCP client still open"
            );
            assert!(
                closed_within(&mut ykc_big, AUTH_DEADLINE + SLACK).await,
                "YKC client still open"
            );
        },
    )
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: the envelope's max_frame_length (1 MiB for ocpp-tcp-alt): too long is refused at the header.
    let too_long: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("chargegate_decode_errors_total") && l.contains(r#"kind="too_long""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(too_long >= n, "{text}");
    // Both are finally cut at the login deadline: the refused announcement buffered nothing, the stream went on.
    assert!(
        sum_with(
            &text,
            "chargegate_connections_closed_total",
            r#"reason="auth_timeout""#
        ) >= 2.0 * n,
        "{text}"
    );
    assert!(logs.has_line(&["connection cut", "auth_timeout", "A0101"]));
}

/// Sum of every series of `name` whose labels contain `label`.
fn sum_with(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_above_max_frame_bytes_closes_the_connection() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    const MAX_FRAME_BYTES: usize = 1024;
    let gw = TestGateway::start(|c| {
        hostile_config(c);
        c.limits.max_frame_bytes = MAX_FRAME_BYTES;
        c.listeners.ocpp_tcp.enabled = true;
        c.listeners.ocpp_tcp.bind = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    let ocpp_tcp: SocketAddr = gw.app.local_addr("ocpp_tcp").expect("ocpp_tcp listener");
    let runs = under_attack(
        gw.ykc(),
        CONTROL,
        "frame above max_frame_bytes",
        move |_| async move {
            // `ocpp-tcp` envelope (`OC`, 2-byte length): 3,855 bytes of JSON announced — within the envelope's own
            // 65,541-byte maximum, above limits.max_frame_bytes — then 2,000 of them sent.
            let mut s = TcpStream::connect(ocpp_tcp).await.unwrap();
            let mut frame =
                b"OC\x0F\x0F[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"".to_vec();
            frame.resize(2_000, b'A');
            s.write_all(&frame).await.unwrap();
            // Cut on the bytes (the close reason below says so), not at the login deadline.
            assert!(
                closed_within(&mut s, AUTH_DEADLINE + SLACK).await,
                "the client with the oversize frame is still open"
            );
        },
    )
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: limits.max_frame_bytes.
    assert_eq!(
        sum_with(
            &text,
            "chargegate_connections_closed_total",
            r#"reason="frame_too_long""#
        ),
        n,
        "{text}"
    );
    assert!(
        sum_with(
            &text,
            "chargegate_decode_errors_total",
            r#"kind="too_long""#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        logs.has_line(&[
            "frame longer than limits.max_frame_bytes",
            "A0204",
            "max=1024"
        ]),
        "{}",
        logs.text()
    );
    assert!(
        logs.has_line(&["connection cut", "frame_too_long", "A0204"]),
        "{}",
        logs.text()
    );
}

/// 127.0.0.x source addresses of the connect-storm tests: the control charger connects from 127.0.0.1.
const STORM_SOURCE: [u8; 4] = [127, 0, 0, 3];
const BYSTANDER_SOURCE: [u8; 4] = [127, 0, 0, 2];

/// 5,000 connects from `STORM_SOURCE` over ~1 s (10 batches of 500, 100 ms apart); the connections that got
/// through the TCP handshake, kept open so the gateway is the one to close them.
async fn connect_storm(addr: SocketAddr) -> Vec<TcpStream> {
    let started = Instant::now();
    let mut held = Vec::new();
    for _ in 0..10 {
        let batch: Vec<_> = (0..500)
            .map(|_| {
                tokio::spawn(async move {
                    let socket = TcpSocket::new_v4()?;
                    socket.bind(SocketAddr::new(IpAddr::from(STORM_SOURCE), 0))?;
                    socket.connect(addr).await
                })
            })
            .collect();
        for c in batch {
            if let Ok(Ok(s)) = c.await {
                held.push(s);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "connect storm: {} of 5,000 connects completed in {:.1?}",
        held.len(),
        started.elapsed()
    );
    held
}

/// Refused + accepted connections of the YKC listener so far, from `/metrics`.
async fn refused_and_accepted(http: SocketAddr, refused: &str) -> f64 {
    let text = chargegate_e2e::http::request(http, "GET", "/metrics", None)
        .await
        .1;
    value(&text, refused) + value(&text, ACCEPTED)
}

/// Asserts that refused + accepted connections reach `want` within 20 s (the acceptor works through the backlog
/// at its rate): every connect attempt was either refused or accepted, none lost.
async fn every_attempt_answered(http: SocketAddr, refused: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = refused_and_accepted(http, refused).await;
        if seen >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "refused + accepted = {seen} < {want} after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const ACCEPTED: &str = r#"chargegate_connections_accepted_total{listener="ykc",worker="0"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_storm_from_one_address_is_throttled_while_another_address_is_served() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    // The per-IP accept rate at its defaults (50/s, burst 200); the global accept rate (5,000/s) and no per-IP cap.
    let gw = TestGateway::start(|c| {
        hostile_config(c);
        let defaults = chargegate::config::ListenerConfig::default();
        c.listeners.ykc.accept_rate_per_ip = defaults.accept_rate_per_ip;
        c.listeners.ykc.accept_burst_per_ip = defaults.accept_burst_per_ip;
    })
    .await;
    let addr = gw.ykc();
    let http = gw.http();
    const REFUSED: &str =
        r#"chargegate_connections_refused_total{listener="ykc",reason="ip_accept_rate"}"#;
    let runs = under_attack(
        addr,
        CONTROL,
        "connect storm 5,000/s",
        move |_| async move {
            let before = refused_and_accepted(http, REFUSED).await;
            let storm = tokio::spawn(connect_storm(addr));
            // While the storm runs, a charger from another address connects and logs in.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut bystander =
                YkcCharger::connect_from(addr, IpAddr::from(BYSTANDER_SOURCE), "32010200000077")
                    .await;
            bystander.login_accepted().await;
            let held = storm.await.unwrap();
            // Every attempt (and the bystander) is refused or accepted.
            every_attempt_answered(http, REFUSED, before + 5_001.0).await;
            drop(held);
        },
    )
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: listeners.<name>.accept_rate_per_ip / accept_burst_per_ip. At most the burst (200) plus 50 a second
    // of the storm's few seconds get through per run; everything else is refused.
    let refused = value(&text, REFUSED);
    let accepted = value(&text, ACCEPTED);
    println!("connect storm: {runs} run(s), refused {refused}, accepted {accepted}");
    assert!(refused >= 4_000.0 * n, "refused {refused}\n{text}");
    assert!(
        logs.has_line(&["connection refused", "ip_accept_rate", "A0506"]),
        "{}",
        logs.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_storm_that_holds_its_connections_is_refused_beyond_the_per_ip_cap() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    const CAP: usize = 100;
    let gw = TestGateway::start(|c| {
        hostile_config(c);
        c.listeners.ykc.max_connections_per_ip = CAP;
        // This test is about the cap: the per-IP accept rate is off.
        c.listeners.ykc.accept_rate_per_ip = 0;
        // The acceptor takes at most 1,000 connections a second: the rest of the storm waits in the kernel's
        // backlog instead of taking the CPU the chargers already connected need.
        c.listeners.ykc.accept_rate = 1_000;
        c.listeners.ykc.accept_burst = 100;
    })
    .await;
    let addr = gw.ykc();
    let http = gw.http();
    const REFUSED: &str =
        r#"chargegate_connections_refused_total{listener="ykc",reason="max_connections_per_ip"}"#;
    let runs = under_attack(
        addr,
        CONTROL,
        "connect-and-hold storm",
        move |_| async move {
            let before = refused_and_accepted(http, REFUSED).await;
            let open = {
                let mut held = connect_storm(addr).await;
                every_attempt_answered(http, REFUSED, before + 5_000.0).await;
                let mut open = 0;
                for s in &mut held {
                    let mut one = [0u8; 1];
                    // Still open: no EOF or reset within 1 ms (a timeout), or data.
                    if let Err(_) | Ok(Ok(1..)) =
                        tokio::time::timeout(Duration::from_millis(1), s.read(&mut one)).await
                    {
                        open += 1;
                    }
                }
                open
            };
            assert!(open <= CAP, "{open} storm connections still open");
        },
    )
    .await;
    let text = gw.metrics_text().await;
    let n = f64::from(runs);
    // Limit: listeners.<name>.max_connections_per_ip.
    let refused = value(&text, REFUSED);
    // Slots freed by the login deadline let a few hundred more in over the run; the rest are refused.
    assert!(refused >= 4_000.0 * n, "refused {refused}\n{text}");
    assert!(
        logs.has_line(&["connection refused", "max_connections_per_ip", "A0502"]),
        "{}",
        logs.text()
    );
}

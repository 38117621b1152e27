//! Test support for the end-to-end suite: builders and helpers shared by the tests under `tests/tests/`.
//!
//! - [`TestGateway`]: a whole gateway ([`chargegate::app::App`]) on `127.0.0.1:0` ports with one worker, a test
//!   subscriber on the event bus and its own metrics registry; it stops when dropped.
//! - [`YkcCharger`]: a tiny YKC pile over a real socket, built on the codec's message types.
//! - [`hostile`]: the control charger, latency bound, RSS and log capture of the hostile-client suite.
//! - [`http`]: a minimal HTTP/1.1 client for REST and `/metrics` (one request per connection).
//!
//! Everything is bounded in time: every wait takes a deadline and panics with a message when it passes.

#![warn(missing_docs)]

pub mod hostile;
pub mod mqtt;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chargegate::app::{App, AppOptions};
use chargegate::config::{Config, MqttMode};
use chargegate::metrics::Metrics;
use chargegate_codec::event::Event;
use chargegate_codec::ykc::encoding::{Ascii, Bcd, Cp56Time2a, Iccid, PileNumber};
use chargegate_codec::ykc::heartbeat::Heartbeat;
use chargegate_codec::ykc::login::Login;
use chargegate_codec::ykc::realtime::Realtime;
use chargegate_codec::ykc::start_stop::{RemoteStart, RemoteStartReply, RESULT_SUCCESS};
use chargegate_codec::ykc::transaction::{TierBlock, TransactionRecord};
use chargegate_codec::ykc::{Decoded, Message, StreamDecoder, StreamItem};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

/// How long any single wait in a test may take unless the test says otherwise.
pub const WAIT: Duration = Duration::from_secs(5);
/// Events the test subscriber holds before telemetry is dropped.
pub const TEST_SINK_QUEUE: usize = 1024;
/// Name of the test subscriber on the bus.
pub const TEST_SINK: &str = "test";

/// A configuration for tests: YKC and HTTP on loopback port 0, the other listeners off, one worker, no MQTT.
pub fn test_config() -> Config {
    let mut c = Config::default();
    let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();
    c.workers = 1;
    c.listeners.ykc.bind = Some(loopback);
    c.listeners.http.bind = Some(loopback);
    c.listeners.ocpp_tcp.enabled = false;
    c.listeners.gbt27930_can.enabled = false;
    c.mqtt.mode = MqttMode::Off;
    c.liveness.tick_ms = 100;
    c.shutdown.drain_secs = 1;
    c
}

/// A gateway running in the test, with a subscriber on its bus.
pub struct TestGateway {
    /// The running gateway.
    pub app: App,
    /// Events as the test subscriber receives them.
    pub events: mpsc::Receiver<Arc<Event>>,
    /// The gateway's metrics registry.
    pub metrics: Metrics,
    token: CancellationToken,
}

impl TestGateway {
    /// Starts a gateway on [`test_config`] changed by `tweak`, with a test subscriber of [`TEST_SINK_QUEUE`].
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestGateway {
        Self::start_with_queue(tweak, TEST_SINK_QUEUE).await
    }

    /// As [`TestGateway::start`], with a test subscriber holding at most `queue` events.
    pub async fn start_with_queue(tweak: impl FnOnce(&mut Config), queue: usize) -> TestGateway {
        let mut config = test_config();
        tweak(&mut config);
        let metrics = Metrics::new().expect("metrics");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut options = AppOptions::new(metrics.clone());
        options.subscribers.push(Box::new(move |bus| {
            let _ = tx.send(bus.subscribe(TEST_SINK, queue));
        }));
        let token = CancellationToken::new();
        let app = App::start(config, options, token.clone())
            .await
            .expect("gateway starts");
        let events = rx.await.expect("the test subscriber was registered");
        TestGateway {
            app,
            events,
            metrics,
            token,
        }
    }

    /// The YKC listener's address.
    pub fn ykc(&self) -> SocketAddr {
        self.app.local_addr("ykc").expect("ykc listener")
    }

    /// The HTTP listener's address.
    pub fn http(&self) -> SocketAddr {
        self.app.local_addr("http").expect("http listener")
    }

    /// The next event for which `pred` holds (others are skipped), within `within`.
    pub async fn event(&mut self, within: Duration, pred: impl Fn(&Event) -> bool) -> Arc<Event> {
        tokio::time::timeout(within, async {
            loop {
                let e = self.events.recv().await.expect("bus open");
                if pred(&e) {
                    return e;
                }
            }
        })
        .await
        .expect("expected event did not arrive in time")
    }

    /// The next event of `kind` for `charger`.
    pub async fn event_of(&mut self, charger: &str, kind: &str) -> Arc<Event> {
        self.event(WAIT, |e| e.charger == charger && e.kind() == kind)
            .await
    }

    /// Starts the graceful stop, as SIGTERM does (the gateway's shutdown token is cancelled).
    pub fn shutdown(&self) {
        self.token.cancel();
    }

    /// The Prometheus text of `/metrics`, fetched over HTTP.
    pub async fn metrics_text(&self) -> String {
        let (status, body) = http::request(self.http(), "GET", "/metrics", None).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// A metric's value in Prometheus text: the number after the line starting with `series` (name and labels).
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

/// A fixed time for frames the test charger sends.
pub const CHARGER_TIME: Cp56Time2a = Cp56Time2a {
    year: 2025,
    month: 8,
    day: 21,
    hour: 12,
    minute: 0,
    millis: 0,
    day_of_week: 0,
    invalid: false,
    summer_time: false,
};

/// A YKC pile on a real socket.
pub struct YkcCharger {
    /// Its pile number.
    pub pile: PileNumber,
    stream: TcpStream,
    decoder: StreamDecoder,
    buf: BytesMut,
    seq: u16,
}

impl YkcCharger {
    /// Connects pile `pile` (14 digits) to `addr`.
    pub async fn connect(addr: SocketAddr, pile: &str) -> YkcCharger {
        let stream = TcpStream::connect(addr).await.expect("connect");
        YkcCharger::on(stream, pile)
    }

    /// Connects pile `pile` to `addr` from source address `source` (another 127.0.0.x address on loopback), so the
    /// gateway sees a different peer IP.
    pub async fn connect_from(
        addr: SocketAddr,
        source: std::net::IpAddr,
        pile: &str,
    ) -> YkcCharger {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(source, 0))
            .expect("bind source");
        let stream = socket.connect(addr).await.expect("connect");
        YkcCharger::on(stream, pile)
    }

    fn on(stream: TcpStream, pile: &str) -> YkcCharger {
        YkcCharger {
            pile: PileNumber::from_digits(pile).expect("14-digit pile number"),
            stream,
            decoder: StreamDecoder::new(),
            buf: BytesMut::new(),
            seq: 0,
        }
    }

    /// Its charger id as the gateway names it.
    pub fn id(&self) -> String {
        self.pile.to_string()
    }

    fn next_seq(&mut self) -> [u8; 2] {
        self.seq = self.seq.wrapping_add(1);
        self.seq.to_be_bytes()
    }

    /// Sends `message` with the next sequence number.
    pub async fn send(&mut self, message: &Message) {
        let seq = self.next_seq();
        let frame = message.encode_frame(seq).expect("encodable");
        self.send_raw(&frame).await;
    }

    /// Sends bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Sends bytes as they are; false if the gateway has closed the connection.
    pub async fn send_raw_checked(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// 0x01 login: a DC pile with one gun.
    pub async fn login(&mut self) {
        self.send(&dc_login(self.pile)).await;
    }

    /// Logs in and waits for the accepted 0x02.
    pub async fn login_accepted(&mut self) {
        self.login().await;
        let reply = self.expect(0x02).await;
        let Message::LoginReply(r) = reply.message else {
            unreachable!()
        };
        assert!(r.is_success(), "login refused: {r:?}");
    }

    /// 0x03 heartbeat for gun 1.
    pub async fn heartbeat(&mut self) {
        let hb = Heartbeat {
            pile: self.pile,
            gun: 1,
            gun_status: 0,
        };
        self.send(&Message::Heartbeat(hb)).await;
    }

    /// 0x13 real-time data for gun 1: charging at `volts` V, `amps` A, `kwh` kWh so far.
    pub async fn realtime(&mut self, volts: f64, amps: f64, kwh: f64) {
        self.realtime_with_faults(volts, amps, kwh, 0).await;
    }

    /// As [`YkcCharger::realtime`], reporting the hardware fault bits `faults` (each set bit becomes an alarm).
    pub async fn realtime_with_faults(&mut self, volts: f64, amps: f64, kwh: f64, faults: u16) {
        let r = Realtime {
            serial: Bcd::default(),
            pile: self.pile,
            gun: 1,
            status: 0x03,
            gun_returned: 0,
            plugged: 1,
            voltage_raw: (volts * 10.0).round() as u16,
            current_raw: (amps * 10.0).round() as u16,
            cable_temperature_raw: 75,
            cable_code: [0; 8],
            soc_pct: 50,
            battery_temperature_raw: 75,
            charging_min: 10,
            remaining_min: 30,
            energy_raw: (kwh * 10_000.0).round() as u32,
            loss_energy_raw: 0,
            amount_raw: 0,
            faults,
        };
        self.send(&Message::Realtime(r)).await;
    }

    /// 0x3B transaction record for gun 1 with `serial` (32 digits) and `kwh` kWh.
    pub async fn transaction(&mut self, serial: &str, kwh: f64) {
        let energy_raw = (kwh * 10_000.0).round() as u32;
        let record = TransactionRecord {
            serial: Bcd::from_digits(serial).expect("32-digit serial"),
            pile: self.pile,
            gun: 1,
            start: CHARGER_TIME,
            end: CHARGER_TIME,
            tiers: [TierBlock::default(); 4],
            fifth_tier: None,
            meter_start_raw: 0,
            meter_stop_raw: u64::from(energy_raw),
            energy_raw,
            loss_energy_raw: energy_raw,
            amount_raw: 0,
            vin: Ascii::default(),
            flag: 0x01,
            time: CHARGER_TIME,
            stop_reason: 0x40,
            physical_card: [0; 8],
        };
        self.send(&Message::TransactionRecord(Box::new(record)))
            .await;
    }

    /// Answers a 0x34 remote start with a successful 0x33 (echoing its sequence bytes).
    pub async fn accept_remote_start(&mut self, start: &Decoded) -> RemoteStart {
        let Message::RemoteStart(s) = &start.message else {
            panic!("0x34 expected, got {:?}", start.message)
        };
        let reply = RemoteStartReply {
            serial: s.serial,
            pile: s.pile,
            gun: s.gun,
            result: RESULT_SUCCESS,
            failure_reason: 0,
        };
        let frame = Message::RemoteStartReply(reply)
            .encode_frame(start.frame.seq)
            .expect("encodable");
        self.send_raw(&frame).await;
        s.clone()
    }

    /// The next decoded frame, within `within`; `None` if the gateway closed the connection.
    pub async fn recv_within(&mut self, within: Duration) -> Option<Decoded> {
        tokio::time::timeout(within, self.recv())
            .await
            .expect("no frame and no close in time")
    }

    async fn recv(&mut self) -> Option<Decoded> {
        loop {
            while let Ok(Some(item)) = self.decoder.decode(&mut self.buf) {
                if let StreamItem::Decoded(d) = item {
                    return Some(*d);
                }
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next frame of `frame_type`, skipping others (time sync, …), within [`WAIT`].
    pub async fn expect(&mut self, frame_type: u8) -> Decoded {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.recv().await {
                    Some(d) if d.frame.frame_type == frame_type => return d,
                    Some(_) => continue,
                    None => panic!("connection closed while waiting for 0x{frame_type:02X}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no 0x{frame_type:02X} within {WAIT:?}"))
    }

    /// Waits until the gateway closes the connection (frames before the close are skipped); panics after `within`.
    pub async fn expect_closed(&mut self, within: Duration) {
        tokio::time::timeout(within, async { while self.recv().await.is_some() {} })
            .await
            .expect("the gateway did not close the connection in time");
    }

    /// Whether a frame of `frame_type` arrives within `within` (others are skipped; a close counts as no).
    pub async fn receives_within(&mut self, frame_type: u8, within: Duration) -> bool {
        tokio::time::timeout(within, async {
            loop {
                match self.recv().await {
                    Some(d) if d.frame.frame_type == frame_type => return true,
                    Some(_) => continue,
                    None => return false,
                }
            }
        })
        .await
        .unwrap_or(false)
    }
}

/// A minimal HTTP/1.1 client: one request per connection, `Connection: close`, body read to EOF.
pub mod http {
    use super::*;

    /// Sends `method path` with an optional JSON body; returns the status code and the body.
    pub async fn request(
        addr: SocketAddr,
        method: &str,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> (u16, String) {
        let body = json.map(|j| j.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut s = TcpStream::connect(addr).await.expect("connect http");
        s.write_all(head.as_bytes()).await.expect("write");
        s.write_all(body.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
            .await
            .expect("http response in time")
            .expect("read");
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status line");
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, dechunk(&body))
    }

    /// Undoes chunked transfer encoding if the body looks chunked; returns it unchanged otherwise.
    fn dechunk(body: &str) -> String {
        let mut out = String::new();
        let mut rest = body;
        loop {
            let Some((size, tail)) = rest.split_once("\r\n") else {
                return body.to_owned();
            };
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
                return body.to_owned();
            };
            if n == 0 {
                return out;
            }
            let Some(chunk) = tail.get(..n) else {
                return body.to_owned();
            };
            out.push_str(chunk);
            rest = tail.get(n + 2..).unwrap_or("");
        }
    }

    /// `POST /api/v1/chargers/{id}/commands` with `command`; the status and the result as JSON.
    pub async fn command(
        addr: SocketAddr,
        charger: &str,
        command: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let path = format!("/api/v1/chargers/{charger}/commands");
        let (status, body) = request(addr, "POST", &path, Some(&command)).await;
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        (status, json)
    }
}

/// Bytes of a frame, for tests that send something by hand.
pub fn frame(message: &Message, seq: [u8; 2]) -> Bytes {
    message.encode_frame(seq).expect("encodable")
}

/// The 0x01 login every test pile sends: a DC pile with one gun, protocol 1.6.
pub fn dc_login(pile: PileNumber) -> Message {
    Message::Login(Login {
        pile,
        pile_type: 0,
        gun_count: 1,
        protocol_version: 0x10,
        program_version: Ascii::from_text("v1.0.0"),
        network_type: 0,
        sim: Iccid::default(),
        operator: 0,
    })
}

//! The connection driver over a real loopback socket, with the ACME example codec as the charger's protocol.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::command::{Command, CommandKind, StartArgs};
use chargegate_codec::event::{CommandStatus, Event, EventBody};
use chargegate_codec::plugin::{CodecRegistry, Rollout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::*;
use crate::pipeline::auth::AuthMode;
use crate::pipeline::charger_registry::{hash_secret, ChargerRegistry};
use crate::pipeline::liveness::run_wheel_until;
use crate::pipeline::route::ChannelRouter;
use crate::pipeline::timing_wheel::{TimingWheel, DEFAULT_SLOTS};
use crate::session::{CommandDispatcher, PendingConfig};

#[allow(dead_code, missing_docs)]
#[path = "../../../examples/acme/mod.rs"]
mod acme;

use acme::{frame, msg, AcmeCodec};

const SECRET: &[u8] = b"s3cr3t!!";
const TICK: Duration = Duration::from_millis(50);

/// The bus as the tests see it: events on a channel; a billing event is "upstream" only when the test says so.
struct GatedRouter {
    inner: ChannelRouter,
    gates: mpsc::UnboundedSender<tokio::sync::oneshot::Sender<bool>>,
}

impl EventRouter for GatedRouter {
    fn route(&self, event: Event) -> Delivery {
        let billing = event.body.is_billing();
        match self.inner.route(event) {
            Delivery::Upstream(_) if billing => {
                let (stored, rx) = tokio::sync::oneshot::channel();
                let _ = self.gates.send(stored);
                Delivery::Upstream(rx)
            }
            other => other,
        }
    }
}

struct Gateway {
    /// Upstream confirmations of billing events, released by the test.
    gates: mpsc::UnboundedReceiver<tokio::sync::oneshot::Sender<bool>>,
    addr: std::net::SocketAddr,
    sessions: Arc<SessionRegistry>,
    events: mpsc::Receiver<Event>,
    closed: mpsc::UnboundedReceiver<CloseReason>,
    /// What every connection gets, for tests that start one themselves.
    ctx: ConnectionContext,
    _tasks: Vec<JoinHandle<()>>,
}

/// ACME with its own version label and liveness, to test rollouts and timeouts without waiting 45 s.
struct TunedAcme {
    version: &'static str,
    protocol: &'static str,
    silence: Duration,
}

impl VendorCodec for TunedAcme {
    fn name(&self) -> &'static str {
        "acme"
    }
    fn version(&self) -> &'static str {
        self.version
    }
    fn protocol(&self) -> &'static str {
        self.protocol
    }
    fn detect(&self, first_bytes: &[u8]) -> chargegate_codec::plugin::Detect {
        AcmeCodec.detect(first_bytes)
    }
    fn liveness(&self) -> chargegate_codec::plugin::LivenessPolicy {
        chargegate_codec::plugin::LivenessPolicy {
            idle: self.silence,
            charging: self.silence,
        }
    }
    fn connect(&self) -> Box<dyn CodecConnection> {
        AcmeCodec.connect()
    }
}

async fn gateway(login_deadline: Duration) -> Gateway {
    let codecs = Arc::new(CodecRegistry::new());
    codecs.register(Arc::new(AcmeCodec));
    gateway_with(login_deadline, codecs).await
}

async fn gateway_with(login_deadline: Duration, codecs: Arc<CodecRegistry>) -> Gateway {
    let registry_text = format!(
        "ACME0001,s1,acme,{}\n",
        hash_secret(SECRET, b"0123456789abcdef")
    );
    let registry = Arc::new(ChargerRegistry::from_text(&registry_text).unwrap());
    let sessions = Arc::new(SessionRegistry::new(PendingConfig::default()));
    let (inner, events) = ChannelRouter::new(64);
    let (gates_tx, gates) = mpsc::unbounded_channel();
    let router = GatedRouter {
        inner,
        gates: gates_tx,
    };
    let wheel: SharedWheel = Arc::new(Mutex::new(TimingWheel::new(TICK, DEFAULT_SLOTS)));
    let clock = WorkerClock::start();
    let ctx = ConnectionContext {
        codec_name: "acme",
        codecs,
        sessions: sessions.clone(),
        auth: Arc::new(Authenticator::new(AuthMode::Registry(registry))),
        router: Arc::new(router),
        wheel: wheel.clone(),
        clock,
        config: ConnectionConfig {
            login_deadline,
            ..ConnectionConfig::default()
        },
        observer: Arc::new(NoopObserver),
        shutdown: tokio_util::sync::CancellationToken::new(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, closed) = mpsc::unbounded_channel();
    let kept = ctx.clone();
    let acceptor = tokio::spawn(async move {
        let mut conn_id = 0;
        while let Ok((socket, _)) = listener.accept().await {
            conn_id += 1;
            let ctx = ctx.clone();
            let closed_tx = closed_tx.clone();
            tokio::spawn(async move {
                let reason = run_connection(socket, conn_id, ctx).await.unwrap();
                let _ = closed_tx.send(reason);
            });
        }
    });
    let ticker = tokio::spawn(run_wheel_until(wheel, clock, kept.shutdown.clone()));
    Gateway {
        gates,
        addr,
        sessions,
        events,
        closed,
        ctx: kept,
        _tasks: vec![acceptor, ticker],
    }
}

/// A scripted ACME charger on the other end of the socket.
struct Charger {
    stream: TcpStream,
    buf: BytesMut,
}

impl Charger {
    async fn connect(gw: &Gateway) -> Self {
        Charger {
            stream: TcpStream::connect(gw.addr).await.unwrap(),
            buf: BytesMut::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn login(&mut self, secret: &[u8]) {
        let mut body = b"ACME0001".to_vec();
        body.extend_from_slice(secret);
        self.send(&frame(msg::LOGIN, 1, &body)).await;
    }

    /// Reads exactly one frame of `len` bytes.
    async fn read_frame(&mut self, len: usize) -> Vec<u8> {
        while self.buf.len() < len {
            let n =
                tokio::time::timeout(Duration::from_secs(5), self.stream.read_buf(&mut self.buf))
                    .await
                    .expect("gateway answered in time")
                    .unwrap();
            assert!(n > 0, "gateway closed the connection");
        }
        self.buf.split_to(len).to_vec()
    }

    /// Waits until the gateway closes the socket.
    async fn closed_by_gateway(&mut self) -> bool {
        let read =
            tokio::time::timeout(Duration::from_secs(5), self.stream.read_buf(&mut self.buf)).await;
        matches!(read, Ok(Ok(0)) | Ok(Err(_)))
    }
}

async fn next_event(gw: &mut Gateway) -> Event {
    tokio::time::timeout(Duration::from_secs(5), gw.events.recv())
        .await
        .expect("an event in time")
        .unwrap()
}

#[tokio::test]
async fn a_charger_logs_in_heartbeats_reports_meters_and_answers_a_remote_start() {
    let mut gw = gateway(Duration::from_secs(10)).await;
    let mut charger = Charger::connect(&gw).await;

    charger.login(SECRET).await;
    assert_eq!(
        charger.read_frame(10).await,
        frame(msg::LOGIN_REPLY, 1, &[0]).to_vec()
    );
    let online = next_event(&mut gw).await;
    assert_eq!(
        (online.kind(), online.charger.as_str()),
        ("online", "ACME0001")
    );
    assert_eq!(online.protocol, "acme/1");

    charger.send(&frame(msg::HEARTBEAT, 2, &[])).await;
    assert_eq!(
        charger.read_frame(9).await,
        frame(msg::HEARTBEAT_REPLY, 2, &[]).to_vec()
    );
    assert_eq!(next_event(&mut gw).await.kind(), "heartbeat");

    charger
        .send(&frame(
            msg::METER,
            3,
            &[1, 0x08, 0xFC, 0x03, 0xE8, 0, 0, 0x30, 0x39],
        ))
        .await;
    let meter = next_event(&mut gw).await;
    let EventBody::Meter(m) = &meter.body else {
        panic!("meter expected, got {meter:?}")
    };
    assert_eq!(meter.charger, "ACME0001");
    assert_eq!(m.voltage_v, Some(230.0));

    let dispatcher = CommandDispatcher::new(gw.sessions.clone());
    let start = Command {
        id: "cmd-1".into(),
        kind: CommandKind::Start(StartArgs {
            connector: 1,
            ..Default::default()
        }),
    };
    let pending = tokio::spawn(async move {
        dispatcher
            .dispatch("ACME0001", start, Duration::from_secs(5))
            .await
    });
    assert_eq!(
        charger.read_frame(10).await,
        frame(msg::REMOTE_START, 1, &[1]).to_vec()
    );
    charger
        .send(&frame(msg::REMOTE_START_REPLY, 1, &[1, 0]))
        .await;
    let result = pending.await.unwrap();
    assert_eq!(
        (result.command_id.as_str(), result.status),
        ("cmd-1", CommandStatus::Accepted)
    );

    drop(charger);
    let offline = next_event(&mut gw).await;
    assert!(matches!(&offline.body, EventBody::Offline(o) if o.reason == "closed"));
    assert_eq!(gw.closed.recv().await, Some(CloseReason::Closed));
    assert!(gw.sessions.is_empty());
}

#[tokio::test]
async fn at_shutdown_every_connection_closes_with_reason_shutdown_and_a_late_one_at_once() {
    let mut gw = gateway(Duration::from_secs(10)).await;
    let mut charger = Charger::connect(&gw).await;
    charger.login(SECRET).await;
    charger.read_frame(10).await;
    assert_eq!(next_event(&mut gw).await.kind(), "online");
    // Accepted but not logged in: in the wheel, not in the session registry.
    let mut silent = Charger::connect(&gw).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    gw.ctx.shutdown.cancel();
    let offline = next_event(&mut gw).await;
    assert!(
        matches!(&offline.body, EventBody::Offline(o) if o.reason == "shutdown"),
        "{offline:?}"
    );
    assert_eq!(offline.charger, "ACME0001");
    assert!(charger.closed_by_gateway().await);
    assert!(silent.closed_by_gateway().await);
    let mut reasons = vec![gw.closed.recv().await, gw.closed.recv().await];
    reasons.dedup();
    assert_eq!(reasons, vec![Some(CloseReason::Shutdown)]);
    assert!(gw.sessions.is_empty());

    // A connection set up after the wheel told everyone closes at once.
    let socket = TcpStream::connect(gw.addr).await.unwrap();
    let late = run_connection(socket, 9_999, gw.ctx.clone());
    let reason = tokio::time::timeout(Duration::from_secs(5), late).await;
    assert_eq!(reason.unwrap().unwrap(), CloseReason::Shutdown);
}

#[tokio::test]
async fn a_wrong_secret_gets_a_refusal_reply_and_the_connection_closes() {
    let mut gw = gateway(Duration::from_secs(10)).await;
    let mut charger = Charger::connect(&gw).await;
    charger.login(b"wrong!!!").await;
    assert_eq!(
        charger.read_frame(10).await,
        frame(msg::LOGIN_REPLY, 1, &[1]).to_vec()
    );
    assert!(charger.closed_by_gateway().await);
    assert_eq!(gw.closed.recv().await, Some(CloseReason::AuthFailed));
}

#[tokio::test]
async fn a_frame_before_login_closes_an_acme_connection() {
    let mut gw = gateway(Duration::from_secs(10)).await;
    let mut charger = Charger::connect(&gw).await;
    charger.send(&frame(msg::HEARTBEAT, 1, &[])).await;
    assert!(charger.closed_by_gateway().await);
    assert_eq!(gw.closed.recv().await, Some(CloseReason::ProtocolError));
}

#[tokio::test]
async fn a_client_that_never_logs_in_is_closed_at_the_deadline() {
    let mut gw = gateway(Duration::from_millis(200)).await;
    let mut charger = Charger::connect(&gw).await;
    let started = std::time::Instant::now();
    assert!(charger.closed_by_gateway().await);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150),
        "closed too early: {waited:?}"
    );
    assert_eq!(gw.closed.recv().await, Some(CloseReason::AuthTimeout));
}

#[tokio::test]
async fn a_second_login_takes_the_session_over_and_the_first_goes_offline_with_takeover() {
    let mut gw = gateway(Duration::from_secs(10)).await;
    let mut first = Charger::connect(&gw).await;
    first.login(SECRET).await;
    first.read_frame(10).await;
    let mut second = Charger::connect(&gw).await;
    second.login(SECRET).await;
    second.read_frame(10).await;
    assert!(first.closed_by_gateway().await);
    assert_eq!(gw.closed.recv().await, Some(CloseReason::Takeover));
    assert_eq!(gw.sessions.len(), 1);
    let kinds: Vec<String> = [
        next_event(&mut gw).await,
        next_event(&mut gw).await,
        next_event(&mut gw).await,
    ]
    .iter()
    .map(|e| match &e.body {
        EventBody::Offline(o) => format!("offline:{}", o.reason),
        other => other.kind().to_owned(),
    })
    .collect();
    assert_eq!(kinds, ["online", "online", "offline:takeover"]);
}

#[tokio::test]
async fn a_silent_charger_goes_offline_with_liveness_timeout_within_timeout_plus_one_tick() {
    let codecs = Arc::new(CodecRegistry::new());
    let silence = Duration::from_millis(300);
    codecs.register(Arc::new(TunedAcme {
        version: "1",
        protocol: "acme/1",
        silence,
    }));
    let mut gw = gateway_with(Duration::from_secs(10), codecs).await;
    let mut charger = Charger::connect(&gw).await;
    charger.login(SECRET).await;
    charger.read_frame(10).await;
    let logged_in = std::time::Instant::now();
    assert!(charger.closed_by_gateway().await);
    let silent_for = logged_in.elapsed();
    assert!(
        silent_for >= silence - TICK,
        "closed early after {silent_for:?}"
    );
    assert!(
        silent_for < silence + 4 * TICK,
        "closed late after {silent_for:?}"
    );
    assert_eq!(gw.closed.recv().await, Some(CloseReason::LivenessTimeout));
    assert_eq!(next_event(&mut gw).await.kind(), "online");
    let offline = next_event(&mut gw).await;
    assert!(matches!(&offline.body, EventBody::Offline(o) if o.reason == "liveness_timeout"));
}

#[tokio::test]
async fn a_charger_in_the_rollout_is_served_by_the_new_codec_version_after_login() {
    let codecs = Arc::new(CodecRegistry::new());
    for (version, protocol) in [("1", "acme/1"), ("2", "acme/2")] {
        codecs.register(Arc::new(TunedAcme {
            version,
            protocol,
            silence: Duration::from_secs(45),
        }));
    }
    let plan = Rollout {
        stable: "1".into(),
        candidate: Some("2".into()),
        per_mille: 1000,
        pins: Default::default(),
    };
    codecs.set_rollout("acme", plan).unwrap();
    let mut gw = gateway_with(Duration::from_secs(10), codecs.clone()).await;
    let mut charger = Charger::connect(&gw).await;
    charger.login(SECRET).await;
    charger.read_frame(10).await;
    charger.send(&frame(msg::HEARTBEAT, 2, &[])).await;
    charger.read_frame(9).await;
    assert_eq!(next_event(&mut gw).await.protocol, "acme/2");
    assert_eq!(next_event(&mut gw).await.protocol, "acme/2");
    assert_eq!(gw.sessions.get("ACME0001").unwrap().meta.protocol, "acme/2");

    // Rollback by reload: the next login is on the stable version again.
    codecs.set_rollout("acme", Rollout::stable("1")).unwrap();
    let mut again = Charger::connect(&gw).await;
    again.login(SECRET).await;
    again.read_frame(10).await;
    let online = next_event(&mut gw).await;
    assert_eq!(
        (online.kind(), online.protocol.as_str()),
        ("online", "acme/1")
    );
}

#[tokio::test]
async fn a_billing_record_is_acknowledged_only_after_upstream_has_it() {
    let mut gw = gateway(Duration::from_secs(10)).await;
    let mut charger = Charger::connect(&gw).await;
    charger.login(SECRET).await;
    charger.read_frame(10).await;
    next_event(&mut gw).await;

    let record = [1, 0, 0, 0x01, 0x00, 0, 0, 0x30, 0x39];
    charger.send(&frame(msg::SESSION_RECORD, 5, &record)).await;
    let bill = next_event(&mut gw).await;
    assert_eq!(bill.kind(), "transaction");
    let stored = tokio::time::timeout(Duration::from_secs(5), gw.gates.recv())
        .await
        .unwrap()
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(200), charger.read_frame(14)).await;
    assert!(early.is_err(), "no ack before upstream confirms");

    stored.send(true).unwrap();
    let ack = charger.read_frame(14).await;
    assert_eq!(
        ack,
        frame(msg::SESSION_RECORD_ACK, 5, &[0, 0, 0x01, 0x00, 0]).to_vec()
    );
}

/// Every idle charger holds its connection future for life: 19,500 of them per process must stay within the
/// memory budget (issue #6), so the future is kept small (cold state boxed, no per-connection timers or buffers).
#[tokio::test]
async fn the_connection_future_stays_small() {
    let gw = gateway(Duration::from_secs(5)).await;
    let socket = TcpStream::connect(gw.addr).await.unwrap();
    let future = run_connection(socket, 1_000, gw.ctx.clone());
    let size = std::mem::size_of_val(&future);
    println!("connection future: {size} bytes");
    use std::mem::size_of;
    println!(
        "driver {} ctx {} pipeline {} rate {} normalize {} liveness {} auth {} outbox {} codec conn {} meta {} gauge {} inbound {}",
        size_of::<super::Driver<TcpStream>>(),
        size_of::<ConnectionContext>(),
        size_of::<crate::pipeline::Pipeline>(),
        size_of::<crate::pipeline::rate_limit::RateLimiter>(),
        size_of::<crate::pipeline::normalize::Normalizer>(),
        size_of::<crate::pipeline::liveness::Liveness>(),
        size_of::<crate::pipeline::auth::AuthGate>(),
        size_of::<super::Outbox>(),
        size_of::<Box<dyn chargegate_codec::plugin::CodecConnection>>(),
        size_of::<crate::session::SessionMeta>(),
        size_of::<crate::pipeline::water_mark::OutboundGauge>(),
        size_of::<Option<Box<bytes::BytesMut>>>(),
    );
    let socket = TcpStream::connect(gw.addr).await.unwrap();
    let mut driver =
        super::Driver::new(socket, bytes::BytesMut::new(), 1, Arc::new(gw.ctx.clone())).unwrap();
    println!("close_socket {}", size_of_val(&driver.close_socket()));
    println!("run {}", size_of_val(&driver.run()));
    // 512 B in a debug build on 2026-11-23 (release is smaller): every byte here is paid by every connection.
    assert!(size <= 640, "the connection future grew to {size} bytes");
}

//! Shared fixtures of the OCPP gateway tests: a gateway with the OCPP codecs registered, served on loopback.

#![allow(dead_code)]

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chargegate::http::ocpp_ws::{ocpp_routes, OcppRouteContext, OcppWsConfig, FIRST_WS_CONN_ID};
use chargegate::pipeline::auth::{AuthMode, Authenticator};
use chargegate::pipeline::charger_registry::{hash_secret, ChargerRegistry};
use chargegate::pipeline::connection::{run_connection, ConnectionConfig, ConnectionContext};
use chargegate::pipeline::liveness::{run_wheel, SharedWheel, WorkerClock};
use chargegate::pipeline::route::ChannelRouter;
use chargegate::pipeline::timing_wheel::{TimingWheel, DEFAULT_SLOTS};
use chargegate::session::{CommandDispatcher, PendingConfig, SessionRegistry};
use chargegate_codec::event::Event;
use chargegate_codec::ocpp::plugin::register_defaults;
use chargegate_codec::ocpp::session::{SessionConfig, WallClock};
use chargegate_codec::plugin::CodecRegistry;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The charger the registry knows, with its OCPP password.
pub const CHARGER: &str = "CP-1";
/// Its Basic-auth password (raw bytes, as OCPP's AuthorizationKey is).
pub const PASSWORD: &[u8] = b"0123456789abcdef";
/// A raw-TCP charger's serial number, known to the registry without a secret.
pub const TCP_CHARGER: &str = "TCP-7";
/// The time the gateway's clock reports.
pub const NOW: &str = "2026-01-02T03:04:05Z";
const TICK: Duration = Duration::from_millis(50);

/// A running gateway as the tests see it.
pub struct Gateway {
    /// HTTP address (OCPP-J route).
    pub http: std::net::SocketAddr,
    /// Connected chargers.
    pub sessions: Arc<SessionRegistry>,
    /// The command API.
    pub dispatcher: CommandDispatcher,
    /// Events routed by the pipeline.
    pub events: mpsc::Receiver<Event>,
    /// The connection context, for raw-TCP listeners started by a test.
    pub ctx: ConnectionContext,
}

fn clock() -> WallClock {
    Arc::new(|| NOW.to_owned())
}

/// A gateway; with `registry` the charger registry decides (CP-1 with [`PASSWORD`], TCP-7 identity only),
/// otherwise open mode.
pub async fn gateway(registry: bool) -> Gateway {
    let codecs = Arc::new(CodecRegistry::new());
    register_defaults(&codecs, &SessionConfig::default(), &clock());
    let registry = registry.then(|| {
        let text = format!(
            "{CHARGER},s1,ocpp,{}\n{TCP_CHARGER},s2,,\n",
            hash_secret(PASSWORD, b"salt-salt-salt-1")
        );
        Arc::new(ChargerRegistry::from_text(&text).unwrap())
    });
    let mode = match &registry {
        Some(r) => AuthMode::Registry(r.clone()),
        None => AuthMode::Open,
    };
    let sessions = Arc::new(SessionRegistry::new(PendingConfig::default()));
    let (router, events) = ChannelRouter::new(256);
    let wheel: SharedWheel = Arc::new(Mutex::new(TimingWheel::new(TICK, DEFAULT_SLOTS)));
    let worker_clock = WorkerClock::start();
    tokio::spawn(run_wheel(wheel.clone(), worker_clock));
    let ctx = ConnectionContext {
        codec_name: "ocpp",
        codecs,
        sessions: sessions.clone(),
        auth: Arc::new(Authenticator::new(mode)),
        router: Arc::new(router),
        wheel,
        clock: worker_clock,
        config: ConnectionConfig::default(),
        observer: Arc::new(chargegate::pipeline::connection::NoopObserver),
        shutdown: tokio_util::sync::CancellationToken::new(),
    };
    let routes = ocpp_routes(OcppRouteContext {
        connection: ctx.clone(),
        registry,
        config: OcppWsConfig::default(),
        conn_ids: Arc::new(AtomicU64::new(FIRST_WS_CONN_ID)),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, routes).await;
    });
    Gateway {
        http,
        dispatcher: CommandDispatcher::new(sessions.clone()),
        sessions,
        events,
        ctx,
    }
}

impl Gateway {
    /// Serves raw-TCP OCPP with codec `codec` on loopback; returns its address.
    pub async fn raw_tcp_listener(&self, codec: &'static str) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut ctx = self.ctx.clone();
        ctx.codec_name = codec;
        tokio::spawn(async move {
            let mut conn_id = 0;
            while let Ok((socket, _)) = listener.accept().await {
                conn_id += 1;
                let ctx = ctx.clone();
                tokio::spawn(run_connection(socket, conn_id, ctx));
            }
        });
        addr
    }

    /// The next routed event of `kind`, skipping others (fails after 5 s).
    pub async fn event(&mut self, kind: &str) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no `{kind}` event"))
                .unwrap();
            if event.body.kind() == kind {
                return event;
            }
        }
    }
}

/// `Authorization` header value for `id` and raw `password`.
pub fn basic(id: &str, password: &[u8]) -> String {
    use base64::Engine;
    let mut plain = format!("{id}:").into_bytes();
    plain.extend_from_slice(password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(plain)
    )
}

//! device-sim against a real gateway ([`chargegate::app::App`]) on loopback ports: protocol mixes run clean,
//! faults are counted on both sides, two gateways share one port with `reuse_port`, and worker processes merge
//! their reports. The OCPP codecs are registered on the running app here because `App::start` does not register
//! them yet (see the branch report).

use std::net::SocketAddr;
use std::time::Duration;

use chargegate::app::{App, AppOptions};
use chargegate::config::{Config, MqttMode};
use chargegate::metrics::Metrics;
use device_sim::charger::SimConfig;
use device_sim::fault::FaultPlan;
use device_sim::fleet::{self, FleetConfig};
use device_sim::report::Report;
use device_sim::spec::{self, DurationRange, Targets};
use tokio_util::sync::CancellationToken;

struct Gateway {
    app: App,
    metrics: Metrics,
    token: CancellationToken,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

fn config() -> Config {
    let mut c = Config::default();
    let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();
    c.workers = 1;
    c.listeners.ykc.bind = Some(loopback);
    c.listeners.ocpp_tcp.bind = Some(loopback);
    c.listeners.http.bind = Some(loopback);
    c.listeners.gbt27930_can.enabled = false;
    c.mqtt.mode = MqttMode::Off;
    c.liveness.tick_ms = 100;
    c.shutdown.drain_secs = 1;
    c
}

async fn gateway(tweak: impl FnOnce(&mut Config)) -> Gateway {
    let mut c = config();
    tweak(&mut c);
    let metrics = Metrics::new().unwrap();
    let token = CancellationToken::new();
    let app = App::start(c, AppOptions::new(metrics.clone()), token.clone())
        .await
        .expect("gateway starts");
    Gateway {
        app,
        metrics,
        token,
    }
}

fn ms(a: u64, b: u64) -> DurationRange {
    DurationRange::new(Duration::from_millis(a), Duration::from_millis(b))
}

fn fleet_config(targets: Targets, chargers: u64, mix: &str, faults: &str) -> FleetConfig {
    FleetConfig {
        sim: SimConfig {
            targets,
            heartbeat_idle: ms(200, 300),
            heartbeat_charging: ms(100, 200),
            telemetry_interval: Duration::from_millis(150),
            load_interval: None,
            load_burst: std::time::Duration::ZERO,
            session_length: ms(400, 800),
            reply_timeout: Duration::from_secs(3),
            backoff: ms(100, 500),
            faults: FaultPlan::new(spec::parse_faults(faults).unwrap()),
            seed: 7,
        },
        chargers,
        pile_base: 32_010_200_000_000,
        first_index: 0,
        mix: spec::parse_mix(mix).unwrap(),
        charging_share: 0.5,
        ramp: 200.0,
        duration: Duration::from_secs(3),
        source_addrs: Vec::new(),
        observe: None,
        progress: false,
        with_hdr: false,
    }
}

fn targets(g: &Gateway) -> Targets {
    Targets {
        ykc: g.app.local_addr("ykc"),
        ocpp_tcp: g.app.local_addr("ocpp_tcp"),
        ..Targets::default()
    }
}

fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ykc_and_ocpp_tcp_mix_runs_with_no_mismatches() {
    let g = gateway(|_| {}).await;
    let r = fleet::run(fleet_config(targets(&g), 20, "ykc:70,ocpp-tcp:30", ""))
        .await
        .unwrap();
    assert_eq!(r.mismatch_total(), 0, "{r}");
    assert!(r.connections.failed.is_empty(), "{r}");
    assert_eq!(r.connections.established, 20, "{r}");
    assert_eq!(r.connections.up, 20, "{r}");
    // Logins, billing checks / status notifications, heartbeats, and full charging cycles were answered.
    assert!(r.frames.answered >= 20 * 3, "{r}");
    assert!(r.frames.telemetry_sent > 0, "{r}");
    for kind in ["login", "heartbeat", "command"] {
        assert!(r.latency_us[kind].count > 0, "{kind}: {r}");
        assert!(r.latency_us[kind].p50 <= r.latency_us[kind].max);
    }
    assert!(
        r.latency_us["login"].count >= 20,
        "every charger logged in: {r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_counted_and_the_gateway_rejects_them() {
    let g = gateway(|_| {}).await;
    let before = g.metrics.render().unwrap();
    let r = fleet::run(fleet_config(
        targets(&g),
        20,
        "ykc:100",
        "garbage:0.2,bad-crc:0.2,split:0.2,coalesce:0.2,never-login:0.2",
    ))
    .await
    .unwrap();
    for kind in ["garbage", "bad-crc", "split", "coalesce", "never-login"] {
        assert!(r.faults.get(kind).copied().unwrap_or(0) > 0, "{kind}: {r}");
    }
    let after = g.metrics.render().unwrap();
    let rejected = |t: &str| {
        metric_sum(t, "chargegate_decode_errors_total")
            + metric_sum(t, "chargegate_auth_failures_total")
    };
    assert!(
        rejected(&after) > rejected(&before),
        "the gateway counted rejected input:\n{after}"
    );
    // Good frames around the bad ones were still answered.
    assert!(r.frames.answered > 20, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_one_port_with_reuse_port() {
    let a = gateway(|c| c.listeners.ykc.reuse_port = true).await;
    let port = a.app.local_addr("ykc").unwrap();
    let b = gateway(|c| {
        c.listeners.ykc.reuse_port = true;
        c.listeners.ykc.bind = Some(port);
    })
    .await;
    assert_eq!(b.app.local_addr("ykc"), Some(port));
    let t = Targets {
        ykc: Some(port),
        ..Targets::default()
    };
    let mut cfg = fleet_config(t, 40, "ykc:100", "");
    cfg.charging_share = 0.0;
    let run = tokio::spawn(fleet::run(cfg));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (na, nb) = (a.app.sessions().len(), b.app.sessions().len());
    let r = run.await.unwrap().unwrap();
    assert_eq!(r.connections.up, 40, "{r}");
    assert_eq!(na + nb, 40);
    // The kernel spreads accepts by hash: 40 on one side has a probability of ~2e-12.
    assert!(na > 0 && nb > 0, "{na} / {nb}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_merge_their_json_reports() {
    let g = gateway(|_| {}).await;
    let ykc = g.app.local_addr("ykc").unwrap();
    let ocpp = g.app.local_addr("ocpp_tcp").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_device-sim"))
        .args([
            "run",
            &format!("--target=ykc={ykc},ocpp-tcp={ocpp}"),
            "--mix=ykc:80,ocpp-tcp:20",
            "--chargers=30",
            "--procs=2",
            "--duration=3s",
            "--ramp=500/s",
            "--heartbeat-idle=200ms-300ms",
            "--heartbeat-charging=100ms-150ms",
            "--session-length=500ms-1s",
            "--telemetry-interval=200ms",
            "--report=json",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in [
        "chargers",
        "duration_s",
        "connections",
        "frames",
        "mismatches",
        "faults",
        "latency_us",
    ] {
        assert!(v.get(field).is_some(), "{field} missing: {v}");
    }
    for field in ["attempted", "up", "failed", "reconnects"] {
        assert!(
            v["connections"].get(field).is_some(),
            "connections.{field}: {v}"
        );
    }
    for field in ["sent", "answered", "telemetry_sent"] {
        assert!(v["frames"].get(field).is_some(), "frames.{field}: {v}");
    }
    for kind in ["login", "heartbeat", "command", "e2e"] {
        for p in ["count", "p50", "p90", "p99", "p999", "max"] {
            assert!(
                v["latency_us"][kind].get(p).is_some(),
                "latency_us.{kind}.{p}: {v}"
            );
        }
    }
    assert!(
        v.get("hdr").is_none(),
        "the merged report carries no raw histograms"
    );
    let r: Report = serde_json::from_value(v).unwrap();
    assert_eq!(r.chargers, 30);
    assert_eq!(r.connections.established, 30, "{r}");
    assert_eq!(r.connections.up, 30, "{r}");
    assert_eq!(r.mismatch_total(), 0, "{r}");
    // Histograms merged, not averaged: every login of both workers is in one histogram.
    assert_eq!(r.latency_us["login"].count, 30, "{r}");
}

/// Runs the `device-sim` binary against the gateway's YKC listener with 8 idle chargers plus `extra` flags, and
/// returns its report.
async fn run_binary(ykc: SocketAddr, extra: &[&str]) -> Report {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_device-sim"))
        .args([
            "run",
            &format!("--target=ykc={ykc}"),
            "--chargers=8",
            "--charging-share=0",
            "--duration=2s",
            "--ramp=500/s",
            "--backoff=5s-5s",
            "--report=json",
        ])
        .args(extra)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The gateway's count of connections refused for `max_connections_per_ip`.
fn refused_per_ip(g: &Gateway) -> f64 {
    let text = g.metrics.render().unwrap();
    text.lines()
        .filter(|l| l.starts_with("chargegate_connections_refused_total"))
        .filter(|l| l.contains("reason=\"max_connections_per_ip\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A gateway that lets each peer address hold one connection: 8 chargers all logged in means it saw 8 distinct
/// source addresses.
async fn one_connection_per_address() -> Gateway {
    gateway(|c| c.listeners.ykc.max_connections_per_ip = 1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chargers_from_source_addrs_reach_the_gateway_from_distinct_addresses() {
    // Without source addresses every charger comes from 127.0.0.1 and the cap refuses all but one.
    let g = one_connection_per_address().await;
    let r = run_binary(g.app.local_addr("ykc").unwrap(), &[]).await;
    assert!(r.connections.up < 8, "{r}");
    assert!(
        refused_per_ip(&g) > 0.0,
        "the cap refused the shared address"
    );

    let g = one_connection_per_address().await;
    let r = run_binary(
        g.app.local_addr("ykc").unwrap(),
        &["--source-addrs", "127.0.0.2-127.0.0.9"],
    )
    .await;
    assert_eq!(r.connections.up, 8, "{r}");
    assert_eq!(r.connections.established, 8, "{r}");
    assert_eq!(refused_per_ip(&g), 0.0, "every charger had its own address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_get_disjoint_source_addresses() {
    // Each worker runs 4 chargers; only if the 8 addresses are split 4 + 4 does no address carry two.
    let g = one_connection_per_address().await;
    let r = run_binary(
        g.app.local_addr("ykc").unwrap(),
        &["--procs", "2", "--source-addrs", "127.0.0.2-127.0.0.9"],
    )
    .await;
    assert_eq!(r.connections.up, 8, "{r}");
    assert_eq!(
        refused_per_ip(&g),
        0.0,
        "no address was used by both workers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_mode_delivers_every_burst_of_0x13_frames_intact() {
    let g = gateway(|c| {
        // A load charger sends far more than the field limits allow.
        c.limits.rate_frames_per_sec = 1_000_000;
        c.limits.rate_bytes_per_sec = 100_000_000;
    })
    .await;
    let mut cfg = fleet_config(targets(&g), 10, "ykc:100", "");
    cfg.charging_share = 0.0;
    // 100 frames/s per charger, written as one burst of ~10 frames every 100 ms.
    cfg.sim.load_interval = Some(Duration::from_millis(10));
    cfg.sim.load_burst = Duration::from_millis(100);
    let r = fleet::run(cfg).await.unwrap();
    assert_eq!(r.mismatch_total(), 0, "{r}");
    assert_eq!(r.connections.up, 10, "{r}");
    // About 10 × 100 × (3 s − ramp); the bound is wide so a slow machine does not fail it.
    assert!(r.frames.telemetry_sent >= 500, "{r}");
    let realtime_in = |text: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("chargegate_frames_in_total{") && l.contains("\"0x13\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    // Every frame the simulator wrote arrives decoded (the gateway may still be draining the last burst).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = g.metrics.render().unwrap();
        let got = realtime_in(&text);
        if got as u64 == r.frames.telemetry_sent || tokio::time::Instant::now() > deadline {
            assert_eq!(got as u64, r.frames.telemetry_sent, "{r}");
            assert_eq!(metric_sum(&text, "chargegate_decode_errors_total"), 0.0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

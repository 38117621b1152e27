//! A simulated GB/T 27930 CAN relay: 13-byte relay records over TCP. The relay carries CAN traffic one way and
//! expects no replies, so this charger sends BHM (handshake, as its heartbeat) at the heartbeat period and, while
//! charging, BCL (charging demand) at the telemetry period, and watches only for the connection closing.

use chargegate_codec::gbt27930::CanFrame;
use chargegate_codec::gbt27930::CanId;
use chargegate_codec::gbt27930::RelayLayout;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::charger::{self, ChargerPlan, End, SessionEnd, Sim, UpGuard};
use crate::report::{Counters, FailReason};
use crate::rng::Rng;

/// PGN of BHM (BMS handshake).
const PGN_BHM: u32 = 0x2700;
/// PGN of BCL (battery charging demand).
const PGN_BCL: u32 = 0x1000;
/// J1939 priority of both messages.
const PRIORITY: u8 = 6;
/// BMS source address.
const BMS: u8 = 0xF4;
/// Charger address.
const CHARGER: u8 = 0x56;

fn record(pgn: u32, data: &[u8]) -> [u8; 13] {
    let id = CanId::new(PRIORITY, pgn, BMS, CHARGER).to_raw();
    RelayLayout::InfoFirst.encode(&CanFrame::extended(id, data))
}

/// One connection of one relay, from connect to close.
pub async fn session(
    plan: &ChargerPlan,
    sim: &Sim,
    rng: &mut Rng,
    storm: &mut watch::Receiver<u64>,
) -> SessionEnd {
    let Some(target) = sim.cfg.targets.gbt else {
        return SessionEnd::before_login(End::Stopped);
    };
    let stream = match tokio::time::timeout(
        sim.cfg.reply_timeout,
        crate::net::connect(target, sim.sources.next()),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return SessionEnd::before_login(End::Failed(FailReason::of_connect(&e))),
        Err(_) => return SessionEnd::before_login(End::Failed(FailReason::ConnectTimeout)),
    };
    let (mut read, mut write) = stream.into_split();
    let _up = UpGuard::new(&sim.counters);
    let cfg = &sim.cfg;
    let mut next_beat = charger::first_beat(&cfg.heartbeat_idle, rng);
    let mut next_telemetry = if plan.charging {
        Instant::now() + cfg.telemetry_interval.mul_f64(rng.unit())
    } else {
        charger::far_future()
    };
    let mut sink = [0u8; 64];
    loop {
        let wake = next_beat.min(next_telemetry);
        tokio::select! {
            _ = sim.stop.cancelled() => return SessionEnd::after_login(End::Stopped),
            _ = storm.changed() => return SessionEnd::after_login(End::Storm),
            r = read.read(&mut sink) => match r {
                Ok(0) | Err(_) => return SessionEnd::after_login(End::Failed(FailReason::ClosedByPeer)),
                Ok(_) => continue,
            },
            _ = tokio::time::sleep_until(wake) => {}
        }
        let now = Instant::now();
        let (bytes, telemetry) = if now >= next_beat {
            next_beat = now + charger::period(&cfg.heartbeat_idle, rng);
            // BHM: max allowed charging voltage 750.0 V, 0.1 V/bit, little-endian.
            (record(PGN_BHM, &7500u16.to_le_bytes()), false)
        } else {
            next_telemetry = now + cfg.telemetry_interval;
            // BCL: demand voltage 400.0 V, current (−400 A offset) 100 A, constant-current mode.
            let mut data = [0u8; 5];
            data[..2].copy_from_slice(&4000u16.to_le_bytes());
            data[2..4].copy_from_slice(&3000u16.to_le_bytes());
            data[4] = 0x02;
            (record(PGN_BCL, &data), true)
        };
        let how = charger::draw_frame_fault(sim, rng);
        if charger::write_frame(&mut write, &bytes, how, &bytes, &[], rng)
            .await
            .is_err()
        {
            return SessionEnd::after_login(End::Failed(FailReason::WriteError));
        }
        Counters::bump(&sim.counters.sent);
        if telemetry {
            Counters::bump(&sim.counters.telemetry_sent);
        }
    }
}

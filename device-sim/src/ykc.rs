//! A simulated YKC 1.6 charger: login (0x01) → billing-model check (0x05) → heartbeats (0x03) with the first beat
//! offset within one interval and the period by state → plug, start, telemetry (0x13 real-time data, 0x23 BMS
//! demand, 0x25 BMS info) → stop → transaction record (0x3B, waits for 0x40). It answers the gateway's commands
//! like a pile (remote start 0x34 → 0x33, remote stop 0x36 → 0x35, time sync 0x56 → 0x55, poll 0x12 → 0x13) and
//! checks every reply: CRC (the codec's stream decoder), type, sequence echo, pile number or transaction serial.

use std::time::Duration;

use bytes::Bytes;
use chargegate_codec::ykc::billing::BillingModelCheck;
use chargegate_codec::ykc::frame;
use chargegate_codec::ykc::frame_type as ft;
use chargegate_codec::ykc::heartbeat::{Heartbeat, GUN_NORMAL};
use chargegate_codec::ykc::login::{Login, PILE_TYPE_DC};
use chargegate_codec::ykc::realtime::{Realtime, STATUS_CHARGING, STATUS_IDLE};
use chargegate_codec::ykc::start_stop::{RemoteStartReply, RemoteStopReply, RESULT_SUCCESS};
use chargegate_codec::ykc::transaction::{TierBlock, TransactionRecord, CONFIRM_OK};
use chargegate_codec::ykc::{
    Ascii, Bcd, Cp56Time2a, Iccid, Message, PileNumber, StreamDecoder, StreamItem,
    TransactionSerial,
};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;

use crate::charger::{self, End, SessionEnd, Sim, UpGuard};
use crate::fault::{ChargerFault, FrameFault};
use crate::report::{Counters, FailReason, Latency, Mismatch};
use crate::rng::Rng;

/// Protocol version announced, V1.6 as version × 10.
const PROTOCOL_V16: u8 = 0x10;
/// Program version announced.
const PROGRAM_VERSION: &str = "SIM-0.2";
/// Network type code "LAN".
const NETWORK_LAN: u8 = 1;
/// Read buffer per charger: replies are ≤ 100 bytes, so a small buffer keeps 100k chargers cheap.
const READ_BUFFER: usize = 256;
/// The only gun of a simulated pile.
const GUN: u8 = 1;
/// The YKC start byte (garbage never contains it).
const START: u8 = 0x68;
/// Frames in flight at most (login, heartbeat, billing check, record, a coalesced beat); older ones are dropped.
const MAX_PENDING: usize = 8;
/// In throughput mode, the shortest gap between two writes of one charger whatever `--load-burst` says.
const MIN_WRITE_GAP: Duration = Duration::from_millis(1);
/// Most telemetry frames batched into one write (256 × 68 bytes ≈ 17 KiB).
const MAX_BATCH: u64 = 256;
/// Gap between the bytes of a slowloris login, and between the beats of a never-login charger.
const SLOW_GAP: Duration = Duration::from_secs(1);
/// The billing model a simulated pile claims to hold.
const BILLING_MODEL: [u8; 2] = [0x00, 0x01];
/// A fixed charger-local time for records (the gateway does not judge it).
const CHARGER_TIME: Cp56Time2a = Cp56Time2a {
    year: 2026,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    millis: 0,
    day_of_week: 0,
    invalid: false,
    summer_time: false,
};

/// Expired requests remembered per charger to recognise late replies.
const MAX_EXPIRED: usize = 4;

/// A reply the charger is waiting for.
#[derive(Debug, Clone, Copy)]
struct Pending {
    reply_type: u8,
    seq: [u8; 2],
    sent: Instant,
    class: Latency,
    serial: Option<TransactionSerial>,
}

/// A charging session in progress.
#[derive(Debug, Clone, Copy)]
struct Charge {
    serial: TransactionSerial,
    ends: Instant,
    ticks: u64,
}

struct Pile<'a> {
    sim: &'a Sim,
    rng: &'a mut Rng,
    pile: PileNumber,
    id: String,
    write: OwnedWriteHalf,
    seq: u16,
    pending: Vec<Pending>,
    /// The last few requests given up on (`no_reply`), so a reply that still comes is told apart from a stray one.
    expired: Vec<Pending>,
    charge: Option<Charge>,
    serial_counter: u16,
    energy: u32,
    /// Throughput mode: the frames of one burst, reused so a burst allocates nothing.
    burst: Vec<u8>,
}

/// One connection of one YKC charger, from connect to close.
pub async fn session(
    plan: &charger::ChargerPlan,
    sim: &Sim,
    rng: &mut Rng,
    storm: &mut watch::Receiver<u64>,
) -> SessionEnd {
    let Some(target) = sim.cfg.targets.ykc else {
        return SessionEnd::before_login(End::Stopped);
    };
    let Some(pile) = PileNumber::from_digits(&plan.id()) else {
        return SessionEnd::before_login(End::Stopped);
    };
    let connect = crate::net::connect(target, sim.sources.next());
    let stream = match tokio::time::timeout(sim.cfg.reply_timeout, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return SessionEnd::before_login(End::Failed(FailReason::of_connect(&e))),
        Err(_) => return SessionEnd::before_login(End::Failed(FailReason::ConnectTimeout)),
    };
    let (read, write) = stream.into_split();
    let mut frames = FramedRead::with_capacity(read, StreamDecoder::new(), READ_BUFFER);
    let mut p = Pile {
        sim,
        rng,
        pile,
        id: plan.id(),
        write,
        seq: 0,
        pending: Vec::new(),
        expired: Vec::new(),
        charge: None,
        serial_counter: 0,
        energy: 0,
        burst: Vec::new(),
    };
    match plan.fault {
        Some(f @ ChargerFault::NeverLogin) => {
            charger::count_charger_fault(sim, f);
            return SessionEnd::before_login(p.never_login(&mut frames, storm).await);
        }
        Some(f @ ChargerFault::Slowloris) => {
            charger::count_charger_fault(sim, f);
            let login = p.encode(&p.login_message());
            let end = match login {
                Some(bytes) => {
                    match charger::trickle(&mut p.write, &bytes, SLOW_GAP, &sim.stop).await {
                        Ok(()) if sim.stop.is_cancelled() => End::Stopped,
                        Ok(()) => End::Failed(FailReason::LoginTimeout),
                        Err(_) => End::Failed(FailReason::ClosedByPeer),
                    }
                }
                None => End::Stopped,
            };
            return SessionEnd::before_login(end);
        }
        _ => {}
    }

    // Login.
    let login = p.login_message();
    if let Err(end) = p.send(&login, Some(Latency::Login), FrameFault::None).await {
        return SessionEnd::before_login(end);
    }
    let deadline = Instant::now() + sim.cfg.reply_timeout;
    loop {
        let item = tokio::select! {
            _ = sim.stop.cancelled() => return SessionEnd::before_login(End::Stopped),
            r = tokio::time::timeout_at(deadline, frames.next()) => r,
        };
        match item {
            Err(_) => return SessionEnd::before_login(End::Failed(FailReason::LoginTimeout)),
            Ok(None | Some(Err(_))) => {
                return SessionEnd::before_login(End::Failed(FailReason::ClosedByPeer))
            }
            Ok(Some(Ok(StreamItem::Decoded(d)))) => {
                if let Message::LoginReply(r) = &d.message {
                    if p.take_reply(ft::LOGIN_REPLY, d.frame.seq, Some(r.pile), None) {
                        if r.is_success() {
                            break;
                        }
                        return SessionEnd::before_login(End::Failed(FailReason::LoginRefused));
                    }
                } else if let Err(end) = p.on_frame(&d.frame.seq, &d.message).await {
                    return SessionEnd::before_login(end);
                }
            }
            Ok(Some(Ok(StreamItem::Rejected(_)))) => sim.counters.mismatch(Mismatch::Crc),
            Ok(Some(Ok(StreamItem::Skipped(_)))) => {}
        }
    }
    let _up = UpGuard::new(&sim.counters);
    if let Some(f @ ChargerFault::Silent) = plan.fault {
        charger::count_charger_fault(sim, f);
        return SessionEnd::after_login(p.silent(&mut frames, storm).await);
    }
    let check = Message::BillingModelCheck(BillingModelCheck {
        pile,
        model: Bcd(BILLING_MODEL),
    });
    let end = match p
        .send(&check, Some(Latency::Command), FrameFault::None)
        .await
    {
        Ok(()) => p.main_loop(plan, &mut frames, storm).await,
        Err(end) => end,
    };
    SessionEnd::after_login(end)
}

type Frames = FramedRead<tokio::net::tcp::OwnedReadHalf, StreamDecoder>;

impl Pile<'_> {
    fn login_message(&self) -> Message {
        Message::Login(Login {
            pile: self.pile,
            pile_type: PILE_TYPE_DC,
            gun_count: 1,
            protocol_version: PROTOCOL_V16,
            program_version: Ascii::from_text(PROGRAM_VERSION),
            network_type: NETWORK_LAN,
            sim: Iccid::default(),
            operator: 0,
        })
    }

    fn heartbeat(&self) -> Message {
        Message::Heartbeat(Heartbeat {
            pile: self.pile,
            gun: GUN,
            gun_status: GUN_NORMAL,
        })
    }

    fn next_seq(&mut self) -> [u8; 2] {
        let s = self.seq.to_le_bytes();
        self.seq = self.seq.wrapping_add(1);
        s
    }

    fn encode(&mut self, msg: &Message) -> Option<Bytes> {
        let seq = self.next_seq();
        msg.encode_frame(seq).ok()
    }

    /// Sends `msg`; with `class`, a reply is expected (unless the fault corrupts the frame).
    async fn send(
        &mut self,
        msg: &Message,
        class: Option<Latency>,
        how: FrameFault,
    ) -> Result<(), End> {
        let seq = self.next_seq();
        let Ok(frame) = msg.encode_frame(seq) else {
            return Ok(());
        };
        let mut extra = Vec::new();
        if how == FrameFault::Coalesce {
            let beat_seq = self.next_seq();
            if let Ok(b) = self.heartbeat().encode_frame(beat_seq) {
                extra = b.to_vec();
                self.expect(ft::HEARTBEAT_REPLY, beat_seq, Latency::Heartbeat, None);
                Counters::bump(&self.sim.counters.sent);
            }
        }
        if let Some(class) = class {
            if how != FrameFault::BadCrc {
                // Replies are the request's type + 1, except the record's confirm (0x3B → 0x40).
                let (reply_type, serial) = match msg {
                    Message::TransactionRecord(r) => (ft::TRANSACTION_CONFIRM, Some(r.serial)),
                    _ => (msg.frame_type().wrapping_add(1), None),
                };
                self.expect(reply_type, seq, class, serial);
            }
        }
        charger::write_frame(&mut self.write, &frame, how, &extra, &[START], self.rng)
            .await
            .map_err(|_| End::Failed(FailReason::WriteError))?;
        Counters::bump(&self.sim.counters.sent);
        Ok(())
    }

    fn expect(
        &mut self,
        reply_type: u8,
        seq: [u8; 2],
        class: Latency,
        serial: Option<TransactionSerial>,
    ) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
            self.sim.counters.mismatch(Mismatch::NoReply);
        }
        self.pending.push(Pending {
            reply_type,
            seq,
            sent: Instant::now(),
            class,
            serial,
        });
    }

    /// Matches a reply against the pending requests; true when it answered one.
    fn take_reply(
        &mut self,
        reply_type: u8,
        seq: [u8; 2],
        pile: Option<PileNumber>,
        serial: Option<TransactionSerial>,
    ) -> bool {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| p.reply_type == reply_type && p.seq == seq)
        else {
            if let Some(i) = self
                .expired
                .iter()
                .position(|p| p.reply_type == reply_type && p.seq == seq)
            {
                let p = self.expired.remove(i);
                self.sim.counters.latency(p.class, p.sent.elapsed());
                self.sim.counters.mismatch(Mismatch::Late);
                return false;
            }
            let kind = if self.pending.iter().any(|p| p.reply_type == reply_type) {
                Mismatch::Seq
            } else {
                Mismatch::Unexpected
            };
            self.sim.counters.mismatch(kind);
            return false;
        };
        let p = self.pending.remove(i);
        let pile_ok = pile.is_none_or(|x| x == self.pile);
        let serial_ok = match (p.serial, serial) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        if !(pile_ok && serial_ok) {
            self.sim.counters.mismatch(Mismatch::Identity);
            return false;
        }
        self.sim.counters.latency(p.class, p.sent.elapsed());
        Counters::bump(&self.sim.counters.answered);
        true
    }

    /// Drops requests unanswered past the reply timeout, counting each.
    fn expire(&mut self) {
        let timeout = self.sim.cfg.reply_timeout;
        while let Some(i) = self
            .pending
            .iter()
            .position(|p| p.sent.elapsed() >= timeout)
        {
            let p = self.pending.remove(i);
            self.sim.counters.mismatch(Mismatch::NoReply);
            if self.expired.len() >= MAX_EXPIRED {
                self.expired.remove(0);
            }
            self.expired.push(p);
        }
    }

    fn oldest_deadline(&self) -> Option<Instant> {
        self.pending
            .iter()
            .map(|p| p.sent + self.sim.cfg.reply_timeout)
            .min()
    }

    /// Handles one frame from the gateway: a reply, or a command to answer.
    async fn on_frame(&mut self, seq: &[u8; 2], msg: &Message) -> Result<(), End> {
        let seq = *seq;
        match msg {
            Message::LoginReply(r) => {
                self.take_reply(ft::LOGIN_REPLY, seq, Some(r.pile), None);
            }
            Message::HeartbeatReply(r) => {
                self.take_reply(ft::HEARTBEAT_REPLY, seq, Some(r.pile), None);
            }
            Message::BillingModelCheckReply(r) => {
                self.take_reply(ft::BILLING_MODEL_CHECK_REPLY, seq, Some(r.pile), None);
            }
            Message::TransactionConfirm(c)
                if self.take_reply(ft::TRANSACTION_CONFIRM, seq, None, Some(c.serial))
                    && c.result != CONFIRM_OK =>
            {
                self.sim.counters.mismatch(Mismatch::Refusal);
            }
            Message::TimeSync(t) => {
                let reply = Message::TimeSyncReply(t.clone());
                self.answer(&reply, seq).await?;
            }
            Message::RemoteStart(s) => {
                let reply = Message::RemoteStartReply(RemoteStartReply {
                    serial: s.serial,
                    pile: self.pile,
                    gun: s.gun,
                    result: RESULT_SUCCESS,
                    failure_reason: 0,
                });
                self.answer(&reply, seq).await?;
                if self.charge.is_none() {
                    self.start_charge(Some(s.serial)).await?;
                }
            }
            Message::RemoteStop(s) => {
                let reply = Message::RemoteStopReply(RemoteStopReply {
                    pile: self.pile,
                    gun: s.gun,
                    result: RESULT_SUCCESS,
                    failure_reason: 0,
                });
                self.answer(&reply, seq).await?;
                self.stop_charge().await?;
            }
            Message::PollRealtime(_) => {
                Counters::bump(&self.sim.counters.commands_answered);
                self.realtime().await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn answer(&mut self, reply: &Message, seq: [u8; 2]) -> Result<(), End> {
        if let Ok(frame) = reply.encode_frame(seq) {
            self.write
                .write_all(&frame)
                .await
                .map_err(|_| End::Failed(FailReason::WriteError))?;
            Counters::bump(&self.sim.counters.sent);
            Counters::bump(&self.sim.counters.commands_answered);
        }
        Ok(())
    }

    fn new_serial(&mut self) -> Option<TransactionSerial> {
        self.serial_counter = self.serial_counter.wrapping_add(1) % 10_000;
        Bcd::from_digits(&format!(
            "{}{GUN:02}260101000000{:04}",
            self.id, self.serial_counter
        ))
    }

    async fn start_charge(&mut self, serial: Option<TransactionSerial>) -> Result<(), End> {
        let Some(serial) = serial.or_else(|| self.new_serial()) else {
            return Ok(());
        };
        let length = self.sim.cfg.session_length.at(self.rng.unit());
        self.charge = Some(Charge {
            serial,
            ends: Instant::now() + length,
            ticks: 0,
        });
        self.realtime().await
    }

    async fn stop_charge(&mut self) -> Result<(), End> {
        let Some(c) = self.charge.take() else {
            return Ok(());
        };
        self.realtime().await?;
        let record = TransactionRecord {
            serial: c.serial,
            pile: self.pile,
            gun: GUN,
            start: CHARGER_TIME,
            end: CHARGER_TIME,
            tiers: [TierBlock::default(); 4],
            fifth_tier: None,
            meter_start_raw: 0,
            meter_stop_raw: u64::from(self.energy),
            energy_raw: self.energy,
            loss_energy_raw: self.energy,
            amount_raw: 0,
            vin: Ascii::default(),
            flag: 0x01,
            time: CHARGER_TIME,
            stop_reason: 0x40,
            physical_card: [0; 8],
        };
        let how = charger::draw_frame_fault(self.sim, self.rng);
        self.send(
            &Message::TransactionRecord(Box::new(record)),
            Some(Latency::Command),
            how,
        )
        .await
    }

    fn realtime_message(&mut self) -> Message {
        Message::Realtime(self.realtime_data())
    }

    /// The next 0x13 body: the meter counts up one step per frame.
    fn realtime_data(&mut self) -> Realtime {
        self.energy = self.energy.wrapping_add(1);
        let (serial, status, plugged) = match &self.charge {
            Some(c) => (c.serial, STATUS_CHARGING, 1),
            None => (Bcd::default(), STATUS_IDLE, 0),
        };
        let charging = self.charge.is_some();
        Realtime {
            serial,
            pile: self.pile,
            gun: GUN,
            status,
            gun_returned: 0,
            plugged,
            voltage_raw: if charging { 3_800 } else { 0 },
            current_raw: if charging { 1_250 } else { 0 },
            cable_temperature_raw: 75,
            cable_code: [0; 8],
            soc_pct: 50,
            battery_temperature_raw: 75,
            charging_min: 0,
            remaining_min: 0,
            energy_raw: self.energy,
            loss_energy_raw: self.energy,
            amount_raw: 0,
            faults: 0,
        }
    }

    /// One 0x13 frame (no reply expected); registered for end-to-end matching with `--observe`.
    async fn realtime(&mut self) -> Result<(), End> {
        let msg = self.realtime_message();
        if let Some(o) = &self.sim.observed {
            o.sent(&self.id, u64::from(self.energy));
        }
        let how = charger::draw_frame_fault(self.sim, self.rng);
        self.send(&msg, None, how).await?;
        Counters::bump(&self.sim.counters.telemetry_sent);
        Ok(())
    }

    /// 0x23 and (every third tick) 0x25 while charging, built from a zeroed body with this pile's prefix.
    async fn bms(&mut self, tick: u64) -> Result<(), End> {
        let Some(c) = self.charge else {
            return Ok(());
        };
        let mut kinds = vec![(ft::DEMAND, chargegate_codec::ykc::bms::Demand::BODY_LEN)];
        if tick % 3 == 0 {
            kinds.push((ft::BMS_INFO, chargegate_codec::ykc::bms::BmsInfo::BODY_LEN));
        }
        for (kind, len) in kinds {
            let mut body = Vec::with_capacity(len);
            body.extend_from_slice(&c.serial.0);
            body.extend_from_slice(&self.pile.0);
            body.push(GUN);
            body.resize(len, 0);
            if let Ok(msg) = Message::decode_body(kind, &Bytes::from(body)) {
                self.send(&msg, None, FrameFault::None).await?;
                Counters::bump(&self.sim.counters.telemetry_sent);
            }
        }
        Ok(())
    }

    /// Throughput mode: `n` 0x13 frames in one write, encoded straight into the reused burst buffer (no
    /// allocation per frame or per burst once the buffer has grown).
    async fn realtime_batch(&mut self, n: u64) -> Result<(), End> {
        let mut buf = std::mem::take(&mut self.burst);
        buf.clear();
        for _ in 0..n {
            let r = self.realtime_data();
            let seq = self.next_seq();
            let start = buf.len();
            let length = Realtime::BODY_LEN + frame::LENGTH_OVERHEAD;
            buf.extend_from_slice(&[
                START,
                u8::try_from(length).unwrap_or(u8::MAX),
                seq[0],
                seq[1],
                frame::ENCRYPTION_NONE,
                ft::REALTIME,
            ]);
            r.encode(&mut buf);
            let crc = frame::crc16(buf.get(start + frame::CRC_START..).unwrap_or_default());
            buf.extend_from_slice(&crc.to_le_bytes());
        }
        if let Some(o) = &self.sim.observed {
            // Stamped as the burst is handed to the socket: energy counts up by one per frame.
            let last = self.energy;
            o.sent_burst(
                &self.id,
                (0..n).map(|i| u64::from(last.wrapping_sub(u32::try_from(i).unwrap_or(u32::MAX)))),
            );
        }
        let written = self.write.write_all(&buf).await;
        self.burst = buf;
        written.map_err(|_| End::Failed(FailReason::WriteError))?;
        Counters::add(&self.sim.counters.sent, n);
        Counters::add(&self.sim.counters.telemetry_sent, n);
        Ok(())
    }

    async fn main_loop(
        &mut self,
        plan: &charger::ChargerPlan,
        frames: &mut Frames,
        storm: &mut watch::Receiver<u64>,
    ) -> End {
        let cfg = &self.sim.cfg;
        let far = charger::far_future();
        let mut next_beat = charger::first_beat(&cfg.heartbeat_idle, self.rng);
        let mut next_plug = charger::first_plug(plan, cfg, self.rng);
        let mut next_telemetry = far;
        // Throughput mode: the gap between writes, and the frames due per second. Frames are owed by elapsed
        // time, not per wake-up, so a late timer does not lower the offered rate.
        let (batch_gap, batch_rate) = match cfg.load_interval {
            Some(iv) if !iv.is_zero() => {
                let gap = iv.max(cfg.load_burst).max(MIN_WRITE_GAP);
                (Some(gap), 1.0 / iv.as_secs_f64())
            }
            _ => (None, 0.0),
        };
        let mut next_batch = batch_gap.map_or(far, |g| Instant::now() + g.mul_f64(self.rng.unit()));
        let mut last_batch = batch_gap
            .and_then(|g| next_batch.checked_sub(g))
            .unwrap_or(next_batch);
        let mut batch_carry = 0.0f64;
        loop {
            let wake = [
                next_beat,
                next_plug,
                next_telemetry,
                next_batch,
                self.charge.map_or(far, |c| c.ends),
                self.oldest_deadline().unwrap_or(far),
            ]
            .into_iter()
            .min()
            .unwrap_or(far);
            tokio::select! {
                _ = self.sim.stop.cancelled() => return End::Stopped,
                _ = storm.changed() => return End::Storm,
                item = frames.next() => match item {
                    None | Some(Err(_)) => return End::Failed(FailReason::ClosedByPeer),
                    Some(Ok(StreamItem::Decoded(d))) => {
                        if let Err(end) = self.on_frame(&d.frame.seq, &d.message).await {
                            return end;
                        }
                        continue;
                    }
                    Some(Ok(StreamItem::Rejected(_))) => {
                        self.sim.counters.mismatch(Mismatch::Crc);
                        continue;
                    }
                    Some(Ok(StreamItem::Skipped(_))) => continue,
                },
                _ = tokio::time::sleep_until(wake) => {}
            }
            let now = Instant::now();
            self.expire();
            let step = async {
                if now >= next_beat {
                    let range = if self.charge.is_some() {
                        &cfg.heartbeat_charging
                    } else {
                        &cfg.heartbeat_idle
                    };
                    next_beat = now + charger::period(range, self.rng);
                    let how = charger::draw_frame_fault(self.sim, self.rng);
                    let beat = self.heartbeat();
                    self.send(&beat, Some(Latency::Heartbeat), how).await?;
                }
                if now >= next_plug && self.charge.is_none() {
                    next_plug = far;
                    self.start_charge(None).await?;
                    next_telemetry = now + cfg.telemetry_interval;
                    next_beat =
                        next_beat.min(now + charger::period(&cfg.heartbeat_charging, self.rng));
                }
                if let Some(c) = self.charge {
                    if now >= c.ends {
                        self.stop_charge().await?;
                        next_telemetry = far;
                        if plan.charging {
                            next_plug = now + cfg.session_length.at(self.rng.unit());
                        }
                    } else if now >= next_telemetry {
                        next_telemetry = now + cfg.telemetry_interval;
                        let tick = c.ticks;
                        if let Some(c) = self.charge.as_mut() {
                            c.ticks += 1;
                        }
                        self.realtime().await?;
                        self.bms(tick).await?;
                    }
                }
                if let Some(gap) = batch_gap {
                    if now >= next_batch {
                        next_batch = now + gap;
                        batch_carry +=
                            now.saturating_duration_since(last_batch).as_secs_f64() * batch_rate;
                        last_batch = now;
                        let n = (batch_carry.floor() as u64).min(MAX_BATCH);
                        // A generator that falls behind sends full bursts, but does not hoard a backlog.
                        batch_carry = (batch_carry - n as f64).min(MAX_BATCH as f64);
                        if n > 0 {
                            self.realtime_batch(n).await?;
                        }
                    }
                }
                Ok::<(), End>(())
            };
            if let Err(end) = step.await {
                return end;
            }
        }
    }

    /// Sends heartbeats without ever logging in, until the gateway closes the connection.
    async fn never_login(&mut self, frames: &mut Frames, storm: &mut watch::Receiver<u64>) -> End {
        loop {
            let beat = self.heartbeat();
            if self.send(&beat, None, FrameFault::None).await.is_err() {
                return End::Failed(FailReason::ClosedByPeer);
            }
            let until = Instant::now() + SLOW_GAP;
            loop {
                tokio::select! {
                    _ = self.sim.stop.cancelled() => return End::Stopped,
                    _ = storm.changed() => return End::Storm,
                    item = frames.next() => match item {
                        None | Some(Err(_)) => return End::Failed(FailReason::ClosedByPeer),
                        Some(Ok(_)) => continue,
                    },
                    _ = tokio::time::sleep_until(until) => break,
                }
            }
        }
    }

    /// Logged in, then silent: reads until the gateway gives up on it.
    async fn silent(&mut self, frames: &mut Frames, storm: &mut watch::Receiver<u64>) -> End {
        loop {
            tokio::select! {
                _ = self.sim.stop.cancelled() => return End::Stopped,
                _ = storm.changed() => return End::Storm,
                item = frames.next() => match item {
                    None | Some(Err(_)) => return End::Failed(FailReason::ClosedByPeer),
                    Some(Ok(_)) => {}
                },
            }
        }
    }
}

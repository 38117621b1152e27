//! The transaction record (0x3B, up, §8.7) — the bill of a session — and its confirmation (0x40, down, §8.8).
//!
//! Accepted variants: the spec body of 158 bytes (four tariff blocks) and the field variant of 174 bytes with a
//! fifth tariff block between the four and the meter values (reference §12 #6).

use nom::combinator::cond;
use nom::Parser;
use serde::Serialize;

use super::encoding::{
    ascii, bcd, cp56, gun, le32, meter5, put_gun, put_meter5, raw, u8_, Ascii, Cp56Time2a, PResult,
    PileNumber, TransactionSerial,
};

/// Price resolution: 0.00001 yuan/kWh.
pub const PRICE_SCALE: f64 = 100_000.0;
/// Energy and amount resolution: 0.0001 kWh / yuan.
pub const TEN_THOUSANDTH: f64 = 10_000.0;
/// Size of one tariff block.
pub const TIER_BLOCK_LEN: usize = 16;
/// 0x40 result: upload succeeded.
pub const CONFIRM_OK: u8 = 0x00;
/// 0x40 result: illegal bill.
pub const CONFIRM_ILLEGAL: u8 = 0x01;

/// One tariff tier's share of the bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TierBlock {
    /// Unit price (electricity + service), 0.00001 yuan/kWh.
    pub price_raw: u32,
    /// Energy, 0.0001 kWh.
    pub energy_raw: u32,
    /// Loss-adjusted energy, 0.0001 kWh.
    pub loss_energy_raw: u32,
    /// Amount, 0.0001 yuan.
    pub amount_raw: u32,
}

impl TierBlock {
    fn parse(i: &[u8]) -> PResult<'_, Self> {
        (le32, le32, le32, le32)
            .map(
                |(price_raw, energy_raw, loss_energy_raw, amount_raw)| TierBlock {
                    price_raw,
                    energy_raw,
                    loss_energy_raw,
                    amount_raw,
                },
            )
            .parse(i)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        for v in [
            self.price_raw,
            self.energy_raw,
            self.loss_energy_raw,
            self.amount_raw,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Unit price, yuan/kWh.
    pub fn price_yuan_per_kwh(&self) -> f64 {
        f64::from(self.price_raw) / PRICE_SCALE
    }

    /// Energy, kWh.
    pub fn energy_kwh(&self) -> f64 {
        f64::from(self.energy_raw) / TEN_THOUSANDTH
    }

    /// Loss-adjusted energy, kWh.
    pub fn loss_energy_kwh(&self) -> f64 {
        f64::from(self.loss_energy_raw) / TEN_THOUSANDTH
    }

    /// Amount, yuan.
    pub fn amount_yuan(&self) -> f64 {
        f64::from(self.amount_raw) / TEN_THOUSANDTH
    }
}

/// 0x3B transaction record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionRecord {
    /// Transaction serial.
    pub serial: TransactionSerial,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Start time.
    pub start: Cp56Time2a,
    /// End time.
    pub end: Cp56Time2a,
    /// Sharp, peak, flat, valley blocks.
    pub tiers: [TierBlock; 4],
    /// Field deviation: the fifth block of the 0xB2-length variant (name unconfirmed, "tier5").
    pub fifth_tier: Option<TierBlock>,
    /// Meter register at start, 0.0001 kWh (5 bytes).
    pub meter_start_raw: u64,
    /// Meter register at stop, 0.0001 kWh (5 bytes).
    pub meter_stop_raw: u64,
    /// Total energy, 0.0001 kWh.
    pub energy_raw: u32,
    /// Loss-adjusted total energy, 0.0001 kWh.
    pub loss_energy_raw: u32,
    /// Consumption amount, 0.0001 yuan.
    pub amount_raw: u32,
    /// VIN (forward order here).
    pub vin: Ascii<17>,
    /// Transaction flag: 0x01 app, 0x02 card, 0x04 offline card, 0x05 VIN.
    pub flag: u8,
    /// When the record was made.
    pub time: Cp56Time2a,
    /// Stop-reason code (§8 of the reference).
    pub stop_reason: u8,
    /// Physical card number, the 8 wire bytes.
    pub physical_card: [u8; 8],
}

impl TransactionRecord {
    /// Body length of the spec layout.
    pub const BODY_LEN: usize = 158;
    /// Body length of the field variant with a fifth tariff block.
    pub const BODY_LEN_FIVE_TIERS: usize = Self::BODY_LEN + TIER_BLOCK_LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        let five = i.len() == Self::BODY_LEN_FIVE_TIERS;
        let (i, (serial, pile, gun, start, end)) = (
            bcd::<16>("transaction_serial"),
            bcd::<7>("pile"),
            gun,
            cp56,
            cp56,
        )
            .parse(i)?;
        let (i, (t0, t1, t2, t3, fifth_tier)) = (
            TierBlock::parse,
            TierBlock::parse,
            TierBlock::parse,
            TierBlock::parse,
            cond(five, TierBlock::parse),
        )
            .parse(i)?;
        let (i, (meter_start_raw, meter_stop_raw, energy_raw, loss_energy_raw, amount_raw)) =
            (meter5, meter5, le32, le32, le32).parse(i)?;
        let (i, (vin, flag, time, stop_reason, physical_card)) =
            (ascii::<17>, u8_, cp56, u8_, raw::<8>).parse(i)?;
        Ok((
            i,
            TransactionRecord {
                serial,
                pile,
                gun,
                start,
                end,
                tiers: [t0, t1, t2, t3],
                fifth_tier,
                meter_start_raw,
                meter_stop_raw,
                energy_raw,
                loss_energy_raw,
                amount_raw,
                vin,
                flag,
                time,
                stop_reason,
                physical_card,
            },
        ))
    }

    /// Appends the body (174 bytes when a fifth tier is present).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&self.start.to_bytes());
        out.extend_from_slice(&self.end.to_bytes());
        for t in self.tiers.iter().chain(self.fifth_tier.iter()) {
            t.encode(out);
        }
        put_meter5(out, self.meter_start_raw);
        put_meter5(out, self.meter_stop_raw);
        for v in [self.energy_raw, self.loss_energy_raw, self.amount_raw] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.vin.0);
        out.push(self.flag);
        out.extend_from_slice(&self.time.to_bytes());
        out.push(self.stop_reason);
        out.extend_from_slice(&self.physical_card);
    }

    /// Meter register at start, kWh.
    pub fn meter_start_kwh(&self) -> f64 {
        self.meter_start_raw as f64 / TEN_THOUSANDTH
    }

    /// Meter register at stop, kWh.
    pub fn meter_stop_kwh(&self) -> f64 {
        self.meter_stop_raw as f64 / TEN_THOUSANDTH
    }

    /// Total energy, kWh.
    pub fn energy_kwh(&self) -> f64 {
        f64::from(self.energy_raw) / TEN_THOUSANDTH
    }

    /// Loss-adjusted total energy, kWh.
    pub fn loss_energy_kwh(&self) -> f64 {
        f64::from(self.loss_energy_raw) / TEN_THOUSANDTH
    }

    /// Consumption amount, yuan.
    pub fn amount_yuan(&self) -> f64 {
        f64::from(self.amount_raw) / TEN_THOUSANDTH
    }

    /// How the session was started: `app`, `card`, `offline_card`, `vin`, or `None` for an unknown flag.
    pub fn start_method(&self) -> Option<&'static str> {
        match self.flag {
            0x01 => Some("app"),
            0x02 => Some("card"),
            0x04 => Some("offline_card"),
            0x05 => Some("vin"),
            _ => None,
        }
    }
}

/// The normalized stop reason of a 0x3B stop-reason code (reference §8), for `session_stopped`.
pub fn stop_reason_name(code: u8) -> &'static str {
    match code {
        0x40 => "remote",
        0x41 => "soc_reached",
        0x42 => "energy_limit",
        0x43 => "amount_limit",
        0x44 => "time_limit",
        0x45 => "local",
        0x4B | 0x6B => "ev_disconnected",
        0x50 | 0x72 => "emergency_stop",
        0x4A..=0x64 => "start_failed",
        0x6A..=0x89 => "fault",
        _ => "other",
    }
}

/// 0x40 transaction record confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionConfirm {
    /// Serial of the acknowledged record.
    pub serial: TransactionSerial,
    /// [`CONFIRM_OK`] or [`CONFIRM_ILLEGAL`].
    pub result: u8,
}

impl TransactionConfirm {
    /// Body length.
    pub const BODY_LEN: usize = 17;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<16>("transaction_serial"), u8_)
            .map(|(serial, result)| TransactionConfirm { serial, result })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.push(self.result);
    }
}

//! Parameter-configuration messages: BCP (13 bytes, by transport), CTS (charger time), CML, BRO and CRO.

use serde::{Deserialize, Serialize};

use super::fields::{
    fixed, le16, CURRENT, ENERGY_0_1, PERCENT_0_1, TEMPERATURE, VOLT_0_01, VOLT_0_1,
};
use super::handshake::GBT_YES;
use super::GbtError;

/// BCP (PGN 0x0600, BMS → charger, 13 bytes by J1939 transport): the battery's charging limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bcp {
    /// Maximum allowed cell charging voltage, V (0.01 V/bit).
    pub max_cell_voltage_v: f64,
    /// Maximum allowed charging current, A (0.1 A/bit, −400 A; negative = charging).
    pub max_charge_current_a: f64,
    /// Nominal total energy, kWh.
    pub nominal_energy_kwh: f64,
    /// Maximum allowed total charging voltage, V.
    pub max_total_voltage_v: f64,
    /// Maximum allowed battery temperature, °C.
    pub max_temperature_c: f64,
    /// Vehicle state of charge, % (0.1 %/bit).
    pub soc_pct: f64,
    /// Present battery voltage, V.
    pub battery_voltage_v: f64,
}

impl Bcp {
    /// Data length.
    pub const LEN: usize = 13;

    /// Decodes the 13 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BCP", data)?;
        Ok(Bcp {
            max_cell_voltage_v: VOLT_0_01.decode(le16(b[0], b[1]).into()),
            max_charge_current_a: CURRENT.decode(le16(b[2], b[3]).into()),
            nominal_energy_kwh: ENERGY_0_1.decode(le16(b[4], b[5]).into()),
            max_total_voltage_v: VOLT_0_1.decode(le16(b[6], b[7]).into()),
            max_temperature_c: TEMPERATURE.decode(b[8].into()),
            soc_pct: PERCENT_0_1.decode(le16(b[9], b[10]).into()),
            battery_voltage_v: VOLT_0_1.decode(le16(b[11], b[12]).into()),
        })
    }

    /// Appends the 13 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VOLT_0_01.encode_u16(self.max_cell_voltage_v).to_le_bytes());
        out.extend_from_slice(&CURRENT.encode_u16(self.max_charge_current_a).to_le_bytes());
        out.extend_from_slice(&ENERGY_0_1.encode_u16(self.nominal_energy_kwh).to_le_bytes());
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.max_total_voltage_v).to_le_bytes());
        out.push(TEMPERATURE.encode_u8(self.max_temperature_c));
        out.extend_from_slice(&PERCENT_0_1.encode_u16(self.soc_pct).to_le_bytes());
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.battery_voltage_v).to_le_bytes());
    }
}

/// The charger's clock as CTS carries it. The encoding is decoded as BCD, following the one public parser that
/// decodes it (UNCONFIRMED against the standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargerTime {
    /// Year, four digits.
    pub year: u16,
    /// Month.
    pub month: u8,
    /// Day.
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
}

/// Fill byte meaning "not provided".
const NOT_PROVIDED: u8 = 0xFF;

fn from_bcd(message: &'static str, offset: usize, value: u8) -> Result<u8, GbtError> {
    let (hi, lo) = (value >> 4, value & 0x0F);
    if hi > 9 || lo > 9 {
        return Err(GbtError::Bcd {
            message,
            offset,
            value,
        });
    }
    Ok(hi * 10 + lo)
}

fn to_bcd(v: u8) -> u8 {
    let v = v % 100;
    ((v / 10) << 4) | (v % 10)
}

/// CTS (PGN 0x0700, charger → BMS): time synchronisation. Not the J1939 TP.CM clear-to-send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cts {
    /// The charger's time; `None` when all bytes are `0xFF` (not provided).
    pub time: Option<ChargerTime>,
}

impl Cts {
    /// Data length.
    pub const LEN: usize = 7;

    /// Decodes the 7 data bytes: second, minute, hour, day, month (BCD), year (2 BCD bytes, low byte first).
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CTS", data)?;
        if b.iter().all(|x| *x == NOT_PROVIDED) {
            return Ok(Cts { time: None });
        }
        let d = |i: usize| from_bcd("CTS", i, b[i]);
        Ok(Cts {
            time: Some(ChargerTime {
                second: d(0)?,
                minute: d(1)?,
                hour: d(2)?,
                day: d(3)?,
                month: d(4)?,
                year: u16::from(d(6)?) * 100 + u16::from(d(5)?),
            }),
        })
    }

    /// Appends the 7 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self.time {
            None => out.extend_from_slice(&[NOT_PROVIDED; Self::LEN]),
            Some(t) => {
                let year = t.year % 10_000;
                out.extend_from_slice(&[
                    to_bcd(t.second),
                    to_bcd(t.minute),
                    to_bcd(t.hour),
                    to_bcd(t.day),
                    to_bcd(t.month),
                    to_bcd((year % 100) as u8),
                    to_bcd((year / 100) as u8),
                ]);
            }
        }
    }
}

/// CML (PGN 0x0800, charger → BMS): the charger's output range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cml {
    /// Maximum output voltage, V.
    pub max_output_voltage_v: f64,
    /// Minimum output voltage, V.
    pub min_output_voltage_v: f64,
    /// Maximum output current, A (negative = towards the battery).
    pub max_output_current_a: f64,
    /// Minimum output current, A (new in 2015).
    pub min_output_current_a: f64,
}

impl Cml {
    /// Data length.
    pub const LEN: usize = 8;

    /// Decodes the 8 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CML", data)?;
        Ok(Cml {
            max_output_voltage_v: VOLT_0_1.decode(le16(b[0], b[1]).into()),
            min_output_voltage_v: VOLT_0_1.decode(le16(b[2], b[3]).into()),
            max_output_current_a: CURRENT.decode(le16(b[4], b[5]).into()),
            min_output_current_a: CURRENT.decode(le16(b[6], b[7]).into()),
        })
    }

    /// Appends the 8 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.max_output_voltage_v).to_le_bytes());
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.min_output_voltage_v).to_le_bytes());
        out.extend_from_slice(&CURRENT.encode_u16(self.max_output_current_a).to_le_bytes());
        out.extend_from_slice(&CURRENT.encode_u16(self.min_output_current_a).to_le_bytes());
    }
}

/// Decodes a readiness byte: `0xAA` = ready; returns (ready, raw).
fn ready_byte(message: &'static str, data: &[u8]) -> Result<(bool, u8), GbtError> {
    let b = fixed::<1>(message, data)?;
    Ok((b[0] == GBT_YES, b[0]))
}

/// Encodes a readiness byte, keeping a non-standard raw byte when it agrees with `ready`.
fn put_ready(out: &mut Vec<u8>, ready: bool, raw: u8) {
    out.push(match (ready, raw) {
        (true, _) => GBT_YES,
        (false, GBT_YES) => 0x00,
        (false, raw) => raw,
    });
}

macro_rules! ready_message {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            /// `true` for `0xAA` (ready), `false` for `0x00` (not ready) or anything else.
            pub ready: bool,
            /// The byte as sent (XF uses `0xFF` for "invalid").
            pub raw: u8,
        }

        impl $name {
            /// Data length.
            pub const LEN: usize = 1;

            /// Decodes the data byte.
            pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
                let (ready, raw) = ready_byte($label, data)?;
                Ok($name { ready, raw })
            }

            /// Appends the data byte.
            pub fn encode(&self, out: &mut Vec<u8>) {
                put_ready(out, self.ready, self.raw);
            }
        }
    };
}

ready_message!(
    /// BRO (PGN 0x0900, BMS → charger): the BMS is ready to charge.
    Bro,
    "BRO"
);
ready_message!(
    /// CRO (PGN 0x0A00, charger → BMS): the charger is ready (precharge done).
    Cro,
    "CRO"
);

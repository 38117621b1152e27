//! Real-time data, §7.1–7.2: the platform polls (0x12) and the pile reports (0x13) — status, plug state,
//! voltage, current, energy and the hardware fault bits, every 15 s while charging and on every change.
//!
//! Fields are the raw wire integers; the accessor methods apply the scale and return SI units.

use nom::Parser;
use serde::Serialize;

use super::encoding::{
    bcd, gun, le16, le32, put_gun, raw, u8_, PResult, PileNumber, TransactionSerial,
};

/// Status code: offline.
pub const STATUS_OFFLINE: u8 = 0x00;
/// Status code: fault.
pub const STATUS_FAULT: u8 = 0x01;
/// Status code: idle.
pub const STATUS_IDLE: u8 = 0x02;
/// Status code: charging.
pub const STATUS_CHARGING: u8 = 0x03;
/// Yes/no byte: yes.
pub const YES: u8 = 0x01;
/// Yes/no byte: no.
pub const NO: u8 = 0x00;
/// Voltage and current resolution: 0.1 per bit.
pub const DECI: f64 = 10.0;
/// Energy and amount resolution: 0.0001 per bit.
pub const TEN_THOUSANDTH: f64 = 10_000.0;
/// Temperature offset, °C.
pub const TEMPERATURE_OFFSET_C: i16 = -50;
/// Watts per kilowatt.
const W_PER_KW: f64 = 1000.0;

/// The hardware fault bits of 0x13 (bit 0 of the low byte = the spec's "bit 1"), with their alarm codes.
pub const FAULT_BITS: [(u16, &str, &str); 13] = [
    (1 << 0, "emergency_stop", "emergency stop"),
    (1 << 1, "no_rectifier_module", "no rectifier module"),
    (
        1 << 2,
        "air_outlet_over_temperature",
        "air outlet over-temperature",
    ),
    (1 << 3, "ac_surge_protector", "AC surge protector"),
    (1 << 4, "dc20_communication", "DC20 communication fault"),
    (
        1 << 5,
        "fc08_communication",
        "FC08 insulation module communication fault",
    ),
    (1 << 6, "meter_communication", "meter communication fault"),
    (
        1 << 7,
        "card_reader_communication",
        "card reader communication fault",
    ),
    (1 << 8, "rc10_communication", "RC10 communication fault"),
    (1 << 9, "fan_board", "fan board fault"),
    (1 << 10, "dc_fuse", "DC fuse fault"),
    (1 << 11, "hv_contactor", "high-voltage contactor fault"),
    (1 << 12, "door_open", "door open"),
];

/// 0x12 poll real-time data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollRealtime {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
}

impl PollRealtime {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), gun)
            .map(|(pile, gun)| PollRealtime { pile, gun })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
    }
}

/// 0x13 real-time monitoring data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Realtime {
    /// Transaction serial, all zero when not charging.
    pub serial: TransactionSerial,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Status code ([`STATUS_OFFLINE`] … [`STATUS_CHARGING`]).
    pub status: u8,
    /// Gun returned to its holder: 0 no, 1 yes, 2 unknown.
    pub gun_returned: u8,
    /// Gun plugged: 0 no, 1 yes.
    pub plugged: u8,
    /// Output voltage, 0.1 V.
    pub voltage_raw: u16,
    /// Output current, 0.1 A (no offset).
    pub current_raw: u16,
    /// Gun cable temperature, 1 °C with −50 offset.
    pub cable_temperature_raw: u8,
    /// Gun cable code.
    pub cable_code: [u8; 8],
    /// SOC, 1 %.
    pub soc_pct: u8,
    /// Battery pack max temperature, 1 °C with −50 offset.
    pub battery_temperature_raw: u8,
    /// Accumulated charging time, minutes.
    pub charging_min: u16,
    /// Remaining time, minutes.
    pub remaining_min: u16,
    /// Charged energy, 0.0001 kWh.
    pub energy_raw: u32,
    /// Loss-adjusted energy, 0.0001 kWh.
    pub loss_energy_raw: u32,
    /// Amount charged, 0.0001 yuan.
    pub amount_raw: u32,
    /// Hardware fault bits, see [`FAULT_BITS`].
    pub faults: u16,
}

impl Realtime {
    /// Body length.
    pub const BODY_LEN: usize = 60;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        let (i, (serial, pile, gun, status, gun_returned, plugged)) = (
            bcd::<16>("transaction_serial"),
            bcd::<7>("pile"),
            gun,
            u8_,
            u8_,
            u8_,
        )
            .parse(i)?;
        let (i, (voltage_raw, current_raw, cable_temperature_raw, cable_code, soc_pct)) =
            (le16, le16, u8_, raw::<8>, u8_).parse(i)?;
        let (i, (battery_temperature_raw, charging_min, remaining_min)) =
            (u8_, le16, le16).parse(i)?;
        let (i, (energy_raw, loss_energy_raw, amount_raw, faults)) =
            (le32, le32, le32, le16).parse(i)?;
        Ok((
            i,
            Realtime {
                serial,
                pile,
                gun,
                status,
                gun_returned,
                plugged,
                voltage_raw,
                current_raw,
                cable_temperature_raw,
                cable_code,
                soc_pct,
                battery_temperature_raw,
                charging_min,
                remaining_min,
                energy_raw,
                loss_energy_raw,
                amount_raw,
                faults,
            },
        ))
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&[self.status, self.gun_returned, self.plugged]);
        out.extend_from_slice(&self.voltage_raw.to_le_bytes());
        out.extend_from_slice(&self.current_raw.to_le_bytes());
        out.push(self.cable_temperature_raw);
        out.extend_from_slice(&self.cable_code);
        out.extend_from_slice(&[self.soc_pct, self.battery_temperature_raw]);
        out.extend_from_slice(&self.charging_min.to_le_bytes());
        out.extend_from_slice(&self.remaining_min.to_le_bytes());
        out.extend_from_slice(&self.energy_raw.to_le_bytes());
        out.extend_from_slice(&self.loss_energy_raw.to_le_bytes());
        out.extend_from_slice(&self.amount_raw.to_le_bytes());
        out.extend_from_slice(&self.faults.to_le_bytes());
    }

    /// Output voltage, V.
    pub fn voltage_v(&self) -> f64 {
        f64::from(self.voltage_raw) / DECI
    }

    /// Output current, A.
    pub fn current_a(&self) -> f64 {
        f64::from(self.current_raw) / DECI
    }

    /// Output power, kW = V · A / 1000.
    pub fn power_kw(&self) -> f64 {
        self.voltage_v() * self.current_a() / W_PER_KW
    }

    /// Gun cable temperature, °C.
    pub fn cable_temperature_c(&self) -> f64 {
        f64::from(i16::from(self.cable_temperature_raw) + TEMPERATURE_OFFSET_C)
    }

    /// Battery pack max temperature, °C.
    pub fn battery_temperature_c(&self) -> f64 {
        f64::from(i16::from(self.battery_temperature_raw) + TEMPERATURE_OFFSET_C)
    }

    /// Charged energy, kWh.
    pub fn energy_kwh(&self) -> f64 {
        f64::from(self.energy_raw) / TEN_THOUSANDTH
    }

    /// Loss-adjusted energy, kWh.
    pub fn loss_energy_kwh(&self) -> f64 {
        f64::from(self.loss_energy_raw) / TEN_THOUSANDTH
    }

    /// Amount charged, yuan.
    pub fn amount_yuan(&self) -> f64 {
        f64::from(self.amount_raw) / TEN_THOUSANDTH
    }

    /// The set fault bits as `(code, text)`.
    pub fn active_faults(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        FAULT_BITS
            .iter()
            .filter(move |(bit, _, _)| self.faults & bit != 0)
            .map(|(_, code, text)| (*code, *text))
    }
}

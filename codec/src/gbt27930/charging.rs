//! Charging-phase messages: BCL (demand), BCS (status, by transport), CCS (charger output), BSM (battery state)
//! and the optional per-cell BMV / BMT / BSP.

use serde::{Deserialize, Serialize};

use super::fields::{
    bits2, fixed, le16, pack2, Level2, Permission, Status2, CURRENT, TEMPERATURE, VOLT_0_01,
    VOLT_0_1,
};
use super::GbtError;

/// Mask of the 12-bit cell voltage in BCS bytes 5–6 (and, UNCONFIRMED, in each BMV entry).
const CELL_VOLTAGE_MASK: u16 = 0x0FFF;
/// Shift of the 4-bit group number above the cell voltage.
const CELL_GROUP_SHIFT: u16 = 12;

/// BCL charging mode (byte 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeMode {
    /// `0x01`.
    ConstantVoltage,
    /// `0x02`.
    ConstantCurrent,
    /// Any other code, kept as sent.
    Other(u8),
}

const MODE_CV: u8 = 0x01;
const MODE_CC: u8 = 0x02;

impl ChargeMode {
    /// From the code byte.
    pub fn from_code(b: u8) -> Self {
        match b {
            MODE_CV => ChargeMode::ConstantVoltage,
            MODE_CC => ChargeMode::ConstantCurrent,
            other => ChargeMode::Other(other),
        }
    }

    /// To the code byte.
    pub fn code(self) -> u8 {
        match self {
            ChargeMode::ConstantVoltage => MODE_CV,
            ChargeMode::ConstantCurrent => MODE_CC,
            ChargeMode::Other(b) => b,
        }
    }
}

/// BCL (PGN 0x1000, BMS → charger, every 50 ms): what the battery asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bcl {
    /// Voltage demand, V.
    pub voltage_demand_v: f64,
    /// Current demand, A (0.1 A/bit, −400 A; negative = charging).
    pub current_demand_a: f64,
    /// Constant voltage or constant current.
    pub charge_mode: ChargeMode,
}

impl Bcl {
    /// Data length.
    pub const LEN: usize = 5;

    /// Decodes the 5 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BCL", data)?;
        Ok(Bcl {
            voltage_demand_v: VOLT_0_1.decode(le16(b[0], b[1]).into()),
            current_demand_a: CURRENT.decode(le16(b[2], b[3]).into()),
            charge_mode: ChargeMode::from_code(b[4]),
        })
    }

    /// Appends the 5 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.voltage_demand_v).to_le_bytes());
        out.extend_from_slice(&CURRENT.encode_u16(self.current_demand_a).to_le_bytes());
        out.push(self.charge_mode.code());
    }
}

/// BCS (PGN 0x1100, BMS → charger, 9 bytes by J1939 transport): what the battery measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bcs {
    /// Measured charging voltage, V.
    pub charge_voltage_v: f64,
    /// Measured charging current, A (negative = charging).
    pub charge_current_a: f64,
    /// Highest cell voltage, V (bits 1–12, 0.01 V/bit).
    pub max_cell_voltage_v: f64,
    /// Group number of the highest cell (bits 13–16, 0–15).
    pub max_cell_group: u8,
    /// Present state of charge, %.
    pub soc_pct: f64,
    /// Estimated remaining charging time, minutes.
    pub remaining_min: u16,
}

/// Splits a 16-bit cell field into (voltage V, group).
fn cell(raw: u16) -> (f64, u8) {
    (
        VOLT_0_01.decode((raw & CELL_VOLTAGE_MASK).into()),
        (raw >> CELL_GROUP_SHIFT) as u8,
    )
}

/// Joins a cell voltage and group into the 16-bit field.
fn put_cell(out: &mut Vec<u8>, voltage_v: f64, group: u8) {
    let v = VOLT_0_01.encode(voltage_v, u32::from(CELL_VOLTAGE_MASK)) as u16;
    let raw = v | (u16::from(group & 0x0F) << CELL_GROUP_SHIFT);
    out.extend_from_slice(&raw.to_le_bytes());
}

impl Bcs {
    /// Data length.
    pub const LEN: usize = 9;

    /// Decodes the 9 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BCS", data)?;
        let (max_cell_voltage_v, max_cell_group) = cell(le16(b[4], b[5]));
        Ok(Bcs {
            charge_voltage_v: VOLT_0_1.decode(le16(b[0], b[1]).into()),
            charge_current_a: CURRENT.decode(le16(b[2], b[3]).into()),
            max_cell_voltage_v,
            max_cell_group,
            soc_pct: f64::from(b[6]),
            remaining_min: le16(b[7], b[8]),
        })
    }

    /// Appends the 9 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.charge_voltage_v).to_le_bytes());
        out.extend_from_slice(&CURRENT.encode_u16(self.charge_current_a).to_le_bytes());
        put_cell(out, self.max_cell_voltage_v, self.max_cell_group);
        out.push(self.soc_pct.round().clamp(0.0, 255.0) as u8);
        out.extend_from_slice(&self.remaining_min.to_le_bytes());
    }
}

/// CCS (PGN 0x1200, charger → BMS, every 50 ms): what the charger delivers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ccs {
    /// Output voltage, V.
    pub output_voltage_v: f64,
    /// Output current, A (negative = towards the battery).
    pub output_current_a: f64,
    /// Cumulative charging time, minutes.
    pub charging_time_min: u16,
    /// Byte 7 bits 1–2 (new in 2015); `None` when the data has only the 6 bytes of the 2011 edition, as YKC 0x23
    /// relays it.
    pub permission: Option<Permission>,
}

/// Length of a 2011-edition CCS (and of YKC 0x23's copy).
const CCS_2011_LEN: usize = 6;
/// Unused bits of CCS byte 7, sent as 1.
const CCS_BYTE7_FILL: u8 = 0xFC;

impl Ccs {
    /// Data length (2015 edition).
    pub const LEN: usize = 7;

    /// Decodes 7 data bytes, or 6 without the charging-permission byte.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<CCS_2011_LEN>("CCS", data)?;
        Ok(Ccs {
            output_voltage_v: VOLT_0_1.decode(le16(b[0], b[1]).into()),
            output_current_a: CURRENT.decode(le16(b[2], b[3]).into()),
            charging_time_min: le16(b[4], b[5]),
            permission: data.get(6).map(|p| Permission::from_bits(*p)),
        })
    }

    /// Appends 7 data bytes (6 when `permission` is `None`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.output_voltage_v).to_le_bytes());
        out.extend_from_slice(&CURRENT.encode_u16(self.output_current_a).to_le_bytes());
        out.extend_from_slice(&self.charging_time_min.to_le_bytes());
        if let Some(p) = self.permission {
            out.push(CCS_BYTE7_FILL | p.bits());
        }
    }
}

/// BSM (PGN 0x1300, BMS → charger): extremes and alarm flags of the battery.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bsm {
    /// Number of the highest-voltage cell (1–256).
    pub max_cell_voltage_number: u16,
    /// Highest battery temperature, °C.
    pub max_temperature_c: f64,
    /// Number of the highest-temperature probe (1–256).
    pub max_temperature_probe: u16,
    /// Lowest battery temperature, °C.
    pub min_temperature_c: f64,
    /// Number of the lowest-temperature probe (1–256).
    pub min_temperature_probe: u16,
    /// Cell voltage too high / too low.
    pub cell_voltage: Level2,
    /// SOC too high / too low.
    pub soc: Level2,
    /// Charging over-current.
    pub over_current: Status2,
    /// Battery over-temperature.
    pub over_temperature: Status2,
    /// Insulation state.
    pub insulation: Status2,
    /// Output connector state.
    pub output_connector: Status2,
    /// Charging permission (`00` forbidden, `01` permitted).
    pub charging_permission: Permission,
}

impl Bsm {
    /// Data length.
    pub const LEN: usize = 7;

    /// Decodes the 7 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BSM", data)?;
        Ok(Bsm {
            max_cell_voltage_number: u16::from(b[0]) + 1,
            max_temperature_c: TEMPERATURE.decode(b[1].into()),
            max_temperature_probe: u16::from(b[2]) + 1,
            min_temperature_c: TEMPERATURE.decode(b[3].into()),
            min_temperature_probe: u16::from(b[4]) + 1,
            cell_voltage: Level2::from_bits(bits2(b[5], 0)),
            soc: Level2::from_bits(bits2(b[5], 1)),
            over_current: Status2::from_bits(bits2(b[5], 2)),
            over_temperature: Status2::from_bits(bits2(b[5], 3)),
            insulation: Status2::from_bits(bits2(b[6], 0)),
            output_connector: Status2::from_bits(bits2(b[6], 1)),
            charging_permission: Permission::from_bits(bits2(b[6], 2)),
        })
    }

    /// Appends the 7 data bytes (bits 7–8 of byte 7 as 1).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let number = |n: u16| u8::try_from(n.saturating_sub(1)).unwrap_or(u8::MAX);
        out.push(number(self.max_cell_voltage_number));
        out.push(TEMPERATURE.encode_u8(self.max_temperature_c));
        out.push(number(self.max_temperature_probe));
        out.push(TEMPERATURE.encode_u8(self.min_temperature_c));
        out.push(number(self.min_temperature_probe));
        out.push(pack2([
            self.cell_voltage.bits(),
            self.soc.bits(),
            self.over_current.bits(),
            self.over_temperature.bits(),
        ]));
        out.push(pack2([
            self.insulation.bits(),
            self.output_connector.bits(),
            self.charging_permission.bits(),
            0b11,
        ]));
    }
}

/// One BMV entry: a cell voltage and (UNCONFIRMED) its group number in bits 13–16, as in BCS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellVoltage {
    /// Cell voltage, V (bits 1–12, 0.01 V/bit).
    pub voltage_v: f64,
    /// Bits 13–16.
    pub group: u8,
}

/// BMV (PGN 0x1500, BMS → charger, by transport, optional): every cell's voltage, 2 bytes per cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bmv {
    /// Cells in order, cell 1 first.
    pub cells: Vec<CellVoltage>,
}

/// Bytes per BMV entry.
const BMV_ENTRY: usize = 2;

impl Bmv {
    /// Decodes an even number of data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        if data.len() % BMV_ENTRY != 0 {
            return Err(GbtError::Length {
                message: "BMV",
                expected: data.len() + 1,
                got: data.len(),
            });
        }
        let cells = data
            .chunks_exact(BMV_ENTRY)
            .map(|c| {
                let (voltage_v, group) = cell(le16(c[0], c[1]));
                CellVoltage { voltage_v, group }
            })
            .collect();
        Ok(Bmv { cells })
    }

    /// Appends 2 bytes per cell.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for c in &self.cells {
            put_cell(out, c.voltage_v, c.group);
        }
    }
}

/// BMT (PGN 0x1600, BMS → charger, by transport, optional): every temperature probe, 1 byte each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bmt {
    /// Probe temperatures in order, °C.
    pub temperatures_c: Vec<f64>,
}

impl Bmt {
    /// Decodes any number of data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        Ok(Bmt {
            temperatures_c: data
                .iter()
                .map(|b| TEMPERATURE.decode((*b).into()))
                .collect(),
        })
    }

    /// Appends 1 byte per probe.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend(
            self.temperatures_c
                .iter()
                .map(|t| TEMPERATURE.encode_u8(*t)),
        );
    }
}

/// BSP (PGN 0x1700, BMS → charger, optional): battery data reserved by the standard, kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bsp {
    /// The data bytes as sent.
    pub data: Vec<u8>,
}

impl Bsp {
    /// Keeps the data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        Ok(Bsp {
            data: data.to_vec(),
        })
    }

    /// Appends the data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.data);
    }
}

//! End-of-charge messages: BST and CST (why a side stopped), BSD and CSD (session statistics).

use serde::{Deserialize, Serialize};

use super::fields::{fixed, flag_group, le16, ENERGY_0_1, TEMPERATURE, VOLT_0_01};
use super::GbtError;

flag_group!(
    /// BST byte 1: why the BMS stopped.
    BstStopReasons: u8, fill = 0x00, {
        /// Bits 1–2: the SOC target was reached.
        soc_target = 0,
        /// Bits 3–4: the total-voltage set point was reached.
        total_voltage_set_point = 1,
        /// Bits 5–6: the cell-voltage set point was reached.
        cell_voltage_set_point = 2,
        /// Bits 7–8: the charger stopped (CST received).
        charger_stopped = 3,
    }
);

flag_group!(
    /// BST bytes 2–3: faults that made the BMS stop.
    BstFaults: u16, fill = 0x0000, {
        /// Insulation fault.
        insulation = 0,
        /// Output connector over-temperature.
        output_connector_over_temperature = 1,
        /// BMS element / output connector over-temperature.
        bms_element_over_temperature = 2,
        /// Charging connector fault.
        charging_connector = 3,
        /// Battery over-temperature.
        battery_over_temperature = 4,
        /// High-voltage relay fault.
        hv_relay = 5,
        /// Detection point 2 (CC2) voltage fault.
        cc2_voltage = 6,
        /// Other fault.
        other = 7,
    }
);

flag_group!(
    /// BST byte 4: errors that made the BMS stop.
    BstErrors: u8, fill = 0xF0, {
        /// Over-current.
        over_current = 0,
        /// Voltage abnormal.
        voltage_abnormal = 1,
    }
);

flag_group!(
    /// CST byte 1: why the charger stopped.
    CstStopReasons: u8, fill = 0x00, {
        /// Bits 1–2: the charger's set condition was reached.
        condition_reached = 0,
        /// Bits 3–4: manual stop.
        manual = 1,
        /// Bits 5–6: stop on a fault.
        fault = 2,
        /// Bits 7–8: the BMS stopped (BST received).
        bms_stopped = 3,
    }
);

flag_group!(
    /// CST bytes 2–3: faults that made the charger stop.
    CstFaults: u16, fill = 0xF000, {
        /// Charger over-temperature.
        charger_over_temperature = 0,
        /// Charging connector fault.
        charging_connector = 1,
        /// Charger internal over-temperature.
        internal_over_temperature = 2,
        /// Energy cannot be delivered.
        energy_not_deliverable = 3,
        /// Emergency stop.
        emergency_stop = 4,
        /// Other fault.
        other = 5,
    }
);

flag_group!(
    /// CST byte 4: errors that made the charger stop.
    CstErrors: u8, fill = 0xF0, {
        /// Current mismatch.
        current_mismatch = 0,
        /// Voltage abnormal.
        voltage_abnormal = 1,
    }
);

/// BST (PGN 0x1900, BMS → charger, every 10 ms while stopping): why the BMS stopped charging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bst {
    /// Byte 1.
    pub stop_reasons: BstStopReasons,
    /// Bytes 2–3.
    pub faults: BstFaults,
    /// Byte 4.
    pub errors: BstErrors,
}

/// CST (PGN 0x1A00, charger → BMS, every 10 ms while stopping): why the charger stopped charging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cst {
    /// Byte 1.
    pub stop_reasons: CstStopReasons,
    /// Bytes 2–3.
    pub faults: CstFaults,
    /// Byte 4.
    pub errors: CstErrors,
}

impl Bst {
    /// Data length.
    pub const LEN: usize = 4;

    /// Decodes the 4 data bytes; reserved bits may be 0 or 1.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BST", data)?;
        Ok(Bst {
            stop_reasons: BstStopReasons::from_word(b[0]),
            faults: BstFaults::from_word(le16(b[1], b[2])),
            errors: BstErrors::from_word(b[3]),
        })
    }

    /// Appends the 4 data bytes, reserved bits 1.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.stop_reasons.word());
        out.extend_from_slice(&self.faults.word().to_le_bytes());
        out.push(self.errors.word());
    }
}

impl Cst {
    /// Data length.
    pub const LEN: usize = 4;

    /// Decodes the 4 data bytes; reserved bits may be 0 or 1.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CST", data)?;
        Ok(Cst {
            stop_reasons: CstStopReasons::from_word(b[0]),
            faults: CstFaults::from_word(le16(b[1], b[2])),
            errors: CstErrors::from_word(b[3]),
        })
    }

    /// Appends the 4 data bytes, reserved bits 1.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.stop_reasons.word());
        out.extend_from_slice(&self.faults.word().to_le_bytes());
        out.push(self.errors.word());
    }
}

/// BSD (PGN 0x1C00, BMS → charger): the battery's statistics at the end of charging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bsd {
    /// SOC at stop, %.
    pub soc_pct: f64,
    /// Lowest cell voltage, V.
    pub min_cell_voltage_v: f64,
    /// Highest cell voltage, V.
    pub max_cell_voltage_v: f64,
    /// Lowest battery temperature, °C.
    pub min_temperature_c: f64,
    /// Highest battery temperature, °C.
    pub max_temperature_c: f64,
}

impl Bsd {
    /// Data length.
    pub const LEN: usize = 7;

    /// Decodes the 7 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BSD", data)?;
        Ok(Bsd {
            soc_pct: f64::from(b[0]),
            min_cell_voltage_v: VOLT_0_01.decode(le16(b[1], b[2]).into()),
            max_cell_voltage_v: VOLT_0_01.decode(le16(b[3], b[4]).into()),
            min_temperature_c: TEMPERATURE.decode(b[5].into()),
            max_temperature_c: TEMPERATURE.decode(b[6].into()),
        })
    }

    /// Appends the 7 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.soc_pct.round().clamp(0.0, 255.0) as u8);
        out.extend_from_slice(&VOLT_0_01.encode_u16(self.min_cell_voltage_v).to_le_bytes());
        out.extend_from_slice(&VOLT_0_01.encode_u16(self.max_cell_voltage_v).to_le_bytes());
        out.push(TEMPERATURE.encode_u8(self.min_temperature_c));
        out.push(TEMPERATURE.encode_u8(self.max_temperature_c));
    }
}

/// CSD (PGN 0x1D00, charger → BMS): the charger's statistics at the end of charging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Csd {
    /// Cumulative charging time, minutes.
    pub charging_time_min: u16,
    /// Output energy, kWh (0.1 kWh/bit).
    pub output_energy_kwh: f64,
    /// Charger number.
    pub charger_number: u32,
}

impl Csd {
    /// Data length.
    pub const LEN: usize = 8;

    /// Decodes the 8 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CSD", data)?;
        Ok(Csd {
            charging_time_min: le16(b[0], b[1]),
            output_energy_kwh: ENERGY_0_1.decode(le16(b[2], b[3]).into()),
            charger_number: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
    }

    /// Appends the 8 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.charging_time_min.to_le_bytes());
        out.extend_from_slice(&ENERGY_0_1.encode_u16(self.output_energy_kwh).to_le_bytes());
        out.extend_from_slice(&self.charger_number.to_le_bytes());
    }
}

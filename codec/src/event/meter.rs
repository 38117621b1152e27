//! Meter readings in SI units (V, A, kW, kWh, %, °C, minutes), scales applied.

use serde::{Deserialize, Serialize};

/// Data of a `meter` event. Well-known quantities have their own fields; anything else goes to `readings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterData {
    /// The session the readings belong to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Output voltage, V.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voltage_v: Option<f64>,
    /// Output current, A.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_a: Option<f64>,
    /// Active power, kW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_kw: Option<f64>,
    /// Energy delivered (session or register, see `energy_is_register`), kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_kwh: Option<f64>,
    /// `energy_kwh` is the meter's total register rather than the session's energy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub energy_is_register: bool,
    /// Vehicle state of charge, %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soc_pct: Option<f64>,
    /// Connector / cable temperature, °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_temperature_c: Option<f64>,
    /// Highest battery temperature, °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub battery_temperature_max_c: Option<f64>,
    /// Minutes charged so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_min: Option<u32>,
    /// Minutes to full, as estimated by the vehicle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_min: Option<u32>,
    /// Amount charged so far, in the operator's currency (YKC: yuan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Per-phase values (OCPP `phase`), when the charger sends them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseReading>,
    /// Other measurands, each with its unit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
    /// The charger's own timestamp of the sample, as it sent it (ISO 8601 or local time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled_at: Option<String>,
}

/// Values for one phase (`L1`, `L2`, `L3`, `N`, or a line-to-line pair such as `L1-L2`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseReading {
    /// Phase name.
    pub phase: String,
    /// Voltage, V.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voltage_v: Option<f64>,
    /// Current, A.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_a: Option<f64>,
    /// Active power, kW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_kw: Option<f64>,
    /// Energy, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_kwh: Option<f64>,
}

/// A measurand without a dedicated field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// What was measured (OCPP measurand name or a protocol field name).
    pub measurand: String,
    /// The value in `unit`.
    pub value: f64,
    /// SI unit after conversion (`V`, `A`, `kW`, `kWh`, `kvarh`, `Hz`, `%`, `Cel`, `min`).
    pub unit: String,
    /// Phase, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Where it was measured (`Outlet`, `Inlet`, `EV`, `Body`, `Cable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Why it was sampled (`Sample.Periodic`, `Transaction.Begin`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

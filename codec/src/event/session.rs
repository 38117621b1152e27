//! Charging sessions and their bills.

use serde::{Deserialize, Serialize};

/// Data of a `session_started` event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStartedData {
    /// Transaction id (YKC 32-digit serial, OCPP transactionId).
    pub transaction_id: String,
    /// Who started it (id tag, card number as hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_tag: Option<String>,
    /// Meter register at start, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meter_start_kwh: Option<f64>,
    /// When, as the charger sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// Data of a `session_stopped` event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStoppedData {
    /// Transaction id.
    pub transaction_id: String,
    /// Normalized reason (`remote`, `local`, `soc_reached`, `energy_limit`, `amount_limit`, `time_limit`,
    /// `ev_disconnected`, `emergency_stop`, `fault`, `start_failed`, `other`).
    pub reason: String,
    /// The raw reason as the protocol sent it (`"0x40"`, `"Remote"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_reason: Option<String>,
    /// Meter register at stop, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meter_stop_kwh: Option<f64>,
    /// When, as the charger sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<String>,
}

/// One tariff tier's share of a bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TariffTier {
    /// Tier name: `sharp`, `peak`, `flat`, `valley`, or `tier5` for the field variant's fifth block.
    pub tier: String,
    /// Unit price (electricity + service), currency per kWh.
    pub price_per_kwh: f64,
    /// Energy in this tier, kWh.
    pub energy_kwh: f64,
    /// Loss-adjusted energy, kWh.
    pub loss_adjusted_energy_kwh: f64,
    /// Amount, currency.
    pub amount: f64,
}

/// Data of a `transaction` event: the bill.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransactionData {
    /// Transaction id.
    pub transaction_id: String,
    /// Start time, as the charger sent it (local time without zone for YKC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Stop time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<String>,
    /// Meter register at start, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meter_start_kwh: Option<f64>,
    /// Meter register at stop, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meter_stop_kwh: Option<f64>,
    /// Energy billed, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_kwh: Option<f64>,
    /// Loss-adjusted energy, kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_adjusted_energy_kwh: Option<f64>,
    /// Total amount, currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Per-tier breakdown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<TariffTier>,
    /// Vehicle VIN, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    /// How the session was started (`app`, `card`, `offline_card`, `vin`, `id_tag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_method: Option<String>,
    /// Card number (hex) or id tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_tag: Option<String>,
    /// Normalized stop reason (as in `session_stopped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Raw stop reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_stop_reason: Option<String>,
    /// When the record was made, as the charger sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
}

//! Connector state, mapped from every protocol onto OCPP's vocabulary.

use serde::{Deserialize, Serialize};

use super::SharedStr;

/// A connector's state; the OCPP 1.6 `ChargePointStatus` set plus `offline`, which YKC reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorStatus {
    /// Free, no vehicle.
    Available,
    /// A vehicle is plugged or a user authorized, not yet charging.
    Preparing,
    /// Energy flows.
    Charging,
    /// The vehicle paused charging.
    SuspendedEv,
    /// The charger paused charging.
    SuspendedEvse,
    /// Charging ended, the vehicle still plugged.
    Finishing,
    /// Reserved.
    Reserved,
    /// Out of service.
    Unavailable,
    /// Faulted.
    Faulted,
    /// The charger reports this connector offline.
    Offline,
}

/// Data of a `status` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusData {
    /// The normalized state.
    pub status: ConnectorStatus,
    /// The state as the protocol spelled it (`"0x03"`, `"Charging"`).
    pub vendor_status: SharedStr,
    /// A gun is plugged into a vehicle, when the protocol says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugged: Option<bool>,
    /// The gun is back in its holder, when the protocol says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gun_returned: Option<bool>,
    /// An error code accompanying the state (OCPP `errorCode`, YKC fault bits as names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Free text from the charger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

//! GB/T 27930-2015: the DC charger ↔ BMS CAN messages, 29-bit identifiers, SAE J1939 transport reassembly and the
//! 13-byte CAN-to-Ethernet relay frame. (Filled in by the GB/T work; this stub keeps the event model compiling.)

use serde::{Deserialize, Serialize};

/// One typed GB/T 27930 message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "message")]
pub enum Message {}

//! Dead letters: frames a codec rejected, published on `{p}/_dead/{charger}` with the full bytes in hex and the
//! error, so a vendor's odd firmware can be diagnosed from the bus without a packet capture.

use serde::Serialize;

/// A rejected frame on its way to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    /// Charger id (empty before login).
    pub charger: String,
    /// Gateway instance.
    pub instance: String,
    /// When it was rejected, Unix epoch milliseconds.
    pub ts: u64,
    /// The codec error's kind (`bad_crc`, `unknown_type`, …).
    pub error: String,
    /// The error code (party, scene, case).
    pub code: &'static str,
    /// The error in words.
    pub detail: String,
    /// The whole frame, hex.
    pub hex: String,
}

/// The charger segment for a frame rejected before login.
pub const UNKNOWN_CHARGER: &str = "_unknown";

impl DeadLetter {
    /// The topic segment naming the charger.
    pub fn charger_segment(&self) -> &str {
        if self.charger.is_empty() || self.charger.contains(['/', '+', '#']) {
            UNKNOWN_CHARGER
        } else {
            &self.charger
        }
    }
}

//! Handshake and recognition messages: CHM, BHM (new in 2015), CRM and BRM (49 bytes, by J1939 transport).

use serde::{Deserialize, Serialize};

use super::fields::{ascii, fixed, le16, le24, put_ascii, CAPACITY_0_1, VOLT_0_1};
use super::GbtError;

/// A GB/T protocol version: byte 1 the minor number, bytes 2–3 the major number (V1.1 = `01 01 00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolVersion {
    /// Major number.
    pub major: u16,
    /// Minor number.
    pub minor: u8,
}

impl ProtocolVersion {
    fn from_bytes(b: [u8; 3]) -> Self {
        ProtocolVersion {
            minor: b[0],
            major: le16(b[1], b[2]),
        }
    }

    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.minor);
        out.extend_from_slice(&self.major.to_le_bytes());
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// CHM (PGN 0x2600, charger → BMS): the charger's protocol version, sent every 250 ms to start the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chm {
    /// Charger communication protocol version.
    pub protocol_version: ProtocolVersion,
}

impl Chm {
    /// Data length.
    pub const LEN: usize = 3;

    /// Decodes the 3 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CHM", data)?;
        Ok(Chm {
            protocol_version: ProtocolVersion::from_bytes(*b),
        })
    }

    /// Appends the 3 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.protocol_version.put(out);
    }
}

/// BHM (PGN 0x2700, BMS → charger): the highest total charging voltage the battery allows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bhm {
    /// Maximum allowed total charging voltage, V (0.1 V/bit).
    pub max_charge_voltage_v: f64,
}

impl Bhm {
    /// Data length.
    pub const LEN: usize = 2;

    /// Decodes the 2 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BHM", data)?;
        Ok(Bhm {
            max_charge_voltage_v: VOLT_0_1.decode(le16(b[0], b[1]).into()),
        })
    }

    /// Appends the 2 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.max_charge_voltage_v).to_le_bytes());
    }
}

/// CRM recognition result (byte 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recognition {
    /// `0x00`: the charger has not (yet) recognised the BMS.
    NotRecognised,
    /// `0xAA`: the BMS is recognised.
    Recognised,
    /// Any other byte, kept as sent.
    Other(u8),
}

/// CRM byte 1 value "not recognised".
const CRM_NOT_RECOGNISED: u8 = 0x00;
/// CRM / BRO / CRO byte value "yes" (recognised, ready).
pub(crate) const GBT_YES: u8 = 0xAA;

impl Recognition {
    fn from_byte(b: u8) -> Self {
        match b {
            CRM_NOT_RECOGNISED => Recognition::NotRecognised,
            GBT_YES => Recognition::Recognised,
            other => Recognition::Other(other),
        }
    }

    fn byte(self) -> u8 {
        match self {
            Recognition::NotRecognised => CRM_NOT_RECOGNISED,
            Recognition::Recognised => GBT_YES,
            Recognition::Other(b) => b,
        }
    }
}

/// CRM (PGN 0x0100, charger → BMS): the charger's recognition result, its number and region code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crm {
    /// Whether the BMS is recognised.
    pub recognition: Recognition,
    /// Charger number (bytes 2–5, 1/bit).
    pub charger_number: u32,
    /// Charger / station region code (bytes 6–8, ASCII).
    pub region_code: String,
}

impl Crm {
    /// Data length.
    pub const LEN: usize = 8;

    /// Decodes the 8 data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CRM", data)?;
        Ok(Crm {
            recognition: Recognition::from_byte(b[0]),
            charger_number: u32::from_le_bytes([b[1], b[2], b[3], b[4]]),
            region_code: ascii(&b[5..8]),
        })
    }

    /// Appends the 8 data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.recognition.byte());
        out.extend_from_slice(&self.charger_number.to_le_bytes());
        put_ascii(out, &self.region_code, 3);
    }
}

/// BRM battery type (byte 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryType {
    /// 0x01.
    LeadAcid,
    /// 0x02.
    NickelMetalHydride,
    /// 0x03.
    LithiumIronPhosphate,
    /// 0x04.
    LithiumManganate,
    /// 0x05.
    LithiumCobaltate,
    /// 0x06.
    Ternary,
    /// 0x07.
    PolymerLithiumIon,
    /// 0x08.
    LithiumTitanate,
    /// 0xFF.
    Other,
    /// Any other code, kept as sent.
    Unknown(u8),
}

const BATTERY_TYPES: [(u8, BatteryType); 9] = [
    (0x01, BatteryType::LeadAcid),
    (0x02, BatteryType::NickelMetalHydride),
    (0x03, BatteryType::LithiumIronPhosphate),
    (0x04, BatteryType::LithiumManganate),
    (0x05, BatteryType::LithiumCobaltate),
    (0x06, BatteryType::Ternary),
    (0x07, BatteryType::PolymerLithiumIon),
    (0x08, BatteryType::LithiumTitanate),
    (0xFF, BatteryType::Other),
];

impl BatteryType {
    /// From the code byte.
    pub fn from_code(code: u8) -> Self {
        BATTERY_TYPES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(BatteryType::Unknown(code), |(_, t)| *t)
    }

    /// To the code byte.
    pub fn code(self) -> u8 {
        match self {
            BatteryType::Unknown(c) => c,
            known => BATTERY_TYPES
                .iter()
                .find(|(_, t)| *t == known)
                .map_or(0xFF, |(c, _)| *c),
        }
    }
}

/// A production date as the BMS sends it (year already offset by 1985).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionDate {
    /// Year (raw + 1985).
    pub year: u16,
    /// Month, as sent.
    pub month: u8,
    /// Day, as sent.
    pub day: u8,
}

/// BMS software version (BRM bytes 42–49, new in 2015).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BmsSoftwareVersion {
    /// Build serial number.
    pub serial: u8,
    /// Build day.
    pub day: u8,
    /// Build month.
    pub month: u8,
    /// Build year.
    pub year: u16,
}

/// Year offset of BRM byte 17.
const BRM_YEAR_OFFSET: u16 = 1985;
/// Length of a 2011-edition BRM (without the software version).
const BRM_2011_LEN: usize = 41;

/// BRM (PGN 0x0200, BMS → charger, 49 bytes by J1939 transport): battery and vehicle identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brm {
    /// BMS communication protocol version.
    pub protocol_version: ProtocolVersion,
    /// Battery chemistry.
    pub battery_type: BatteryType,
    /// Rated capacity, Ah.
    pub rated_capacity_ah: f64,
    /// Rated total voltage, V.
    pub rated_voltage_v: f64,
    /// Battery manufacturer (ASCII).
    pub manufacturer: String,
    /// Battery pack serial number (manufacturer-defined, raw little-endian).
    pub pack_serial: u32,
    /// Pack production date.
    pub production_date: ProductionDate,
    /// Charge cycle count.
    pub charge_count: u32,
    /// `0` leased, `1` owned by the vehicle owner; raw code.
    pub ownership: u8,
    /// Vehicle identification number (17 ASCII characters).
    pub vin: String,
    /// BMS software version; absent in a 41-byte (2011-edition) BRM.
    pub software_version: Option<BmsSoftwareVersion>,
}

impl Brm {
    /// Data length (2015 edition).
    pub const LEN: usize = 49;

    /// Decodes a 49-byte BRM, or a 41-byte 2011-edition BRM without the software version.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<BRM_2011_LEN>("BRM", data)?;
        let software_version = data
            .get(BRM_2011_LEN..Self::LEN)
            .and_then(|v| <[u8; 8]>::try_from(v).ok())
            .map(|v| BmsSoftwareVersion {
                serial: v[0],
                day: v[1],
                month: v[2],
                year: le16(v[3], v[4]),
            });
        Ok(Brm {
            protocol_version: ProtocolVersion::from_bytes([b[0], b[1], b[2]]),
            battery_type: BatteryType::from_code(b[3]),
            rated_capacity_ah: CAPACITY_0_1.decode(le16(b[4], b[5]).into()),
            rated_voltage_v: VOLT_0_1.decode(le16(b[6], b[7]).into()),
            manufacturer: ascii(&b[8..12]),
            pack_serial: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            production_date: ProductionDate {
                year: BRM_YEAR_OFFSET + u16::from(b[16]),
                month: b[17],
                day: b[18],
            },
            charge_count: le24(b[19], b[20], b[21]),
            ownership: b[22],
            vin: ascii(&b[24..41]),
            software_version,
        })
    }

    /// Appends the 49 data bytes (reserved bytes as `0xFF`); 41 bytes when there is no software version.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.protocol_version.put(out);
        out.push(self.battery_type.code());
        out.extend_from_slice(
            &CAPACITY_0_1
                .encode_u16(self.rated_capacity_ah)
                .to_le_bytes(),
        );
        out.extend_from_slice(&VOLT_0_1.encode_u16(self.rated_voltage_v).to_le_bytes());
        put_ascii(out, &self.manufacturer, 4);
        out.extend_from_slice(&self.pack_serial.to_le_bytes());
        let year = self.production_date.year.saturating_sub(BRM_YEAR_OFFSET);
        out.push(u8::try_from(year).unwrap_or(u8::MAX));
        out.push(self.production_date.month);
        out.push(self.production_date.day);
        out.extend_from_slice(&self.charge_count.min(0xFF_FFFF).to_le_bytes()[..3]);
        out.push(self.ownership);
        out.push(0xFF);
        put_ascii(out, &self.vin, 17);
        if let Some(v) = self.software_version {
            out.extend_from_slice(&[v.serial, v.day, v.month]);
            out.extend_from_slice(&v.year.to_le_bytes());
            out.extend_from_slice(&[0xFF; 3]);
        }
    }
}

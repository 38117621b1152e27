//! GB/T 27930-2015: the CAN messages between an off-board DC charger and the vehicle's battery management system
//! (BMS).
//!
//! Chargegate meets these messages twice: inside YKC frames (already reassembled by the pile; the YKC codec calls
//! the per-message `decode` functions here on its byte ranges) and as raw CAN traffic relayed by CAN-to-Ethernet
//! converters. Values come out in SI units with GB/T's resolution and offset applied; currents follow the
//! standard's sign convention, `raw × 0.1 − 400` A, **negative = charging** (towards the battery).
//! 2-bit status fields are read LSB-first, and reserved bits are accepted as 0 or 1.
//!
//! Files, one concept each:
//! - `fields`: scaling and 2-bit status primitives; one file per message family (`handshake`, `config`,
//!   `charging`, `stop`, `timeouts`); `message`: the [`Message`] enum and PGN dispatch.
//! - [`can_id`]: the 29-bit identifier; `tp`: J1939 TP.CM / TP.DT wire format; [`j1939`]: transfer reassembly.
//! - [`relay`]: the 13-byte CAN-to-Ethernet record; [`candump`]: candump log lines; `can_frame`: the frame both
//!   produce.
//! - [`normalize`]: message → normalized events; [`decoder`]: all of the above for a stream of CAN frames.
//! - [`plugin`]: the `gbt27930-can` listener codec (a relay's hello line, then relay records).

mod can_frame;
pub mod can_id;
pub mod candump;
mod charging;
mod config;
pub mod decoder;
mod error;
mod fields;
mod handshake;
pub mod j1939;
mod message;
pub mod normalize;
pub mod plugin;
pub mod relay;
mod stop;
mod timeouts;
mod tp;

pub use can_frame::{CanFrame, CAN_MAX_DLC};
pub use can_id::{CanId, CanIdError, Direction, BMS_ADDRESS, CHARGER_ADDRESS};
pub use charging::{Bcl, Bcs, Bmt, Bmv, Bsm, Bsp, Ccs, CellVoltage, ChargeMode};
pub use config::{Bcp, Bro, ChargerTime, Cml, Cro, Cts};
pub use decoder::{CanDecoder, DecodeError, Decoded};
pub use error::GbtError;
pub use fields::{Level2, Permission, Status2};
pub use handshake::{
    BatteryType, Bhm, BmsSoftwareVersion, Brm, Chm, Crm, ProductionDate, ProtocolVersion,
    Recognition,
};
pub use j1939::{Reassembler, TpConfig, TpEvent, Transfer};
pub use message::{name_of, pgn, priority_of, Message};
pub use relay::{RelayCodec, RelayError, RelayLayout, RELAY_FRAME_LEN};
pub use stop::{
    Bsd, Bst, BstErrors, BstFaults, BstStopReasons, Csd, Cst, CstErrors, CstFaults, CstStopReasons,
};
pub use timeouts::{Bem, BemTimeouts, Cem, CemTimeouts};
pub use tp::{abort_reason, packetize, TpCm, TpDt, TpFrameError, TP_MAX_MESSAGE_SIZE};

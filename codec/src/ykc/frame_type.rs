//! The frame-type codes of V1.6 (§6 of the reference). Odd = pile → platform, even = platform → pile.

/// Login.
pub const LOGIN: u8 = 0x01;
/// Login reply.
pub const LOGIN_REPLY: u8 = 0x02;
/// Heartbeat.
pub const HEARTBEAT: u8 = 0x03;
/// Heartbeat reply.
pub const HEARTBEAT_REPLY: u8 = 0x04;
/// Billing-model verification request.
pub const BILLING_MODEL_CHECK: u8 = 0x05;
/// Billing-model verification reply.
pub const BILLING_MODEL_CHECK_REPLY: u8 = 0x06;
/// Billing-model request.
pub const BILLING_MODEL_REQUEST: u8 = 0x09;
/// Billing-model request reply (tariff).
pub const BILLING_MODEL_REPLY: u8 = 0x0A;
/// Poll real-time data.
pub const POLL_REALTIME: u8 = 0x12;
/// Real-time monitoring data.
pub const REALTIME: u8 = 0x13;
/// Charging handshake (BRM).
pub const HANDSHAKE: u8 = 0x15;
/// Parameter configuration (BCP + CML).
pub const PARAMETER_CONFIG: u8 = 0x17;
/// Charge end (BSD + CSD).
pub const CHARGE_END: u8 = 0x19;
/// Error report (BEM + CEM).
pub const ERROR_REPORT: u8 = 0x1B;
/// BMS abort (BST).
pub const BMS_ABORT: u8 = 0x1D;
/// Charger abort (CST).
pub const CHARGER_ABORT: u8 = 0x21;
/// BMS demand and charger output (BCL + BCS + CCS).
pub const DEMAND: u8 = 0x23;
/// BMS information (BSM).
pub const BMS_INFO: u8 = 0x25;
/// The pile asks to start.
pub const START_REQUEST: u8 = 0x31;
/// The platform answers the start request.
pub const START_ANSWER: u8 = 0x32;
/// Remote start reply.
pub const REMOTE_START_REPLY: u8 = 0x33;
/// Remote start.
pub const REMOTE_START: u8 = 0x34;
/// Remote stop reply.
pub const REMOTE_STOP_REPLY: u8 = 0x35;
/// Remote stop.
pub const REMOTE_STOP: u8 = 0x36;
/// Transaction record.
pub const TRANSACTION_RECORD: u8 = 0x3B;
/// Transaction record confirmation.
pub const TRANSACTION_CONFIRM: u8 = 0x40;
/// Balance update reply.
pub const BALANCE_UPDATE_REPLY: u8 = 0x41;
/// Remote balance update.
pub const BALANCE_UPDATE: u8 = 0x42;
/// Offline-card sync reply.
pub const OFFLINE_CARD_SYNC_REPLY: u8 = 0x43;
/// Offline-card sync.
pub const OFFLINE_CARD_SYNC: u8 = 0x44;
/// Offline-card clear reply.
pub const OFFLINE_CARD_CLEAR_REPLY: u8 = 0x45;
/// Offline-card clear.
pub const OFFLINE_CARD_CLEAR: u8 = 0x46;
/// Offline-card query reply.
pub const OFFLINE_CARD_QUERY_REPLY: u8 = 0x47;
/// Offline-card query.
pub const OFFLINE_CARD_QUERY: u8 = 0x48;
/// Work-parameter set reply.
pub const WORK_PARAMS_REPLY: u8 = 0x51;
/// Work-parameter set.
pub const WORK_PARAMS: u8 = 0x52;
/// Time-sync reply.
pub const TIME_SYNC_REPLY: u8 = 0x55;
/// Time sync.
pub const TIME_SYNC: u8 = 0x56;
/// Billing-model set reply.
pub const BILLING_MODEL_SET_REPLY: u8 = 0x57;
/// Billing-model set.
pub const BILLING_MODEL_SET: u8 = 0x58;
/// Parking-lock status.
pub const PARKING_LOCK_STATUS: u8 = 0x61;
/// Parking-lock raise / lower.
pub const PARKING_LOCK_COMMAND: u8 = 0x62;
/// Parking-lock command reply.
pub const PARKING_LOCK_REPLY: u8 = 0x63;
/// Remote reboot reply.
pub const REBOOT_REPLY: u8 = 0x91;
/// Remote reboot.
pub const REBOOT: u8 = 0x92;
/// Remote update reply.
pub const UPDATE_REPLY: u8 = 0x93;
/// Remote update.
pub const UPDATE: u8 = 0x94;
/// The pile asks to start parallel charging.
pub const PARALLEL_START_REQUEST: u8 = 0xA1;
/// The platform answers the parallel start request.
pub const PARALLEL_START_ANSWER: u8 = 0xA2;
/// Remote parallel start reply.
pub const PARALLEL_REMOTE_START_REPLY: u8 = 0xA3;
/// Remote parallel start.
pub const PARALLEL_REMOTE_START: u8 = 0xA4;

/// Whether frames of this type go pile → platform (odd types).
pub const fn is_uplink(frame_type: u8) -> bool {
    frame_type % 2 == 1
}

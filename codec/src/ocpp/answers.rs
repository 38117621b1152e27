//! Replies the gateway sends when it answers a 1.6 charger itself (no upstream round trip). Time and ids are
//! parameters: this crate has no clock.

use super::v16::{
    AuthorizationStatus, AuthorizeResponse, BootNotificationResponse, BootNotificationStatus,
    DataTransferResponse, DataTransferStatus, HeartbeatResponse, IdTagInfo, MeterValuesResponse,
    StartTransactionResponse, StatusNotificationResponse, StopTransactionResponse,
};

/// BootNotification.conf: `status` with the heartbeat `interval` (seconds) and the central system's time
/// (`now`, RFC 3339).
pub fn boot_notification(
    status: BootNotificationStatus,
    interval_s: i64,
    now: &str,
) -> BootNotificationResponse {
    BootNotificationResponse {
        status,
        current_time: now.to_owned(),
        interval: interval_s,
    }
}

/// Heartbeat.conf carrying the central system's time.
pub fn heartbeat(now: &str) -> HeartbeatResponse {
    HeartbeatResponse {
        current_time: now.to_owned(),
    }
}

/// StatusNotification.conf (empty).
pub fn status_notification() -> StatusNotificationResponse {
    StatusNotificationResponse {}
}

/// MeterValues.conf (empty).
pub fn meter_values() -> MeterValuesResponse {
    MeterValuesResponse {}
}

fn tag_info(status: AuthorizationStatus) -> IdTagInfo {
    IdTagInfo {
        expiry_date: None,
        parent_id_tag: None,
        status,
    }
}

/// Authorize.conf with `status`.
pub fn authorize(status: AuthorizationStatus) -> AuthorizeResponse {
    AuthorizeResponse {
        id_tag_info: tag_info(status),
    }
}

/// StartTransaction.conf: the transaction id the central system assigns, and the id tag's status.
pub fn start_transaction(
    transaction_id: i64,
    status: AuthorizationStatus,
) -> StartTransactionResponse {
    StartTransactionResponse {
        id_tag_info: tag_info(status),
        transaction_id,
    }
}

/// StopTransaction.conf; the id tag's status only when the request carried an id tag.
pub fn stop_transaction(status: Option<AuthorizationStatus>) -> StopTransactionResponse {
    StopTransactionResponse {
        id_tag_info: status.map(tag_info),
    }
}

/// DataTransfer.conf with `status` and optional data.
pub fn data_transfer(status: DataTransferStatus, data: Option<String>) -> DataTransferResponse {
    DataTransferResponse { status, data }
}

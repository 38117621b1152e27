//! Normalized commands → YKC down frames, and YKC replies → normalized command results.
//!
//! [`prepare`] turns a [`CommandKind`] into the down frame to send plus a [`Correlation`] — the frame type of the
//! expected reply and the pile / gun / serial it must name — so the gateway can match the reply to the command
//! (YKC replies carry no command id). [`result_of`] maps a reply message to a [`CommandResultData`] whose
//! `command_id` is empty; the gateway fills it in from the correlation.

use bytes::Bytes;
use serde_json::json;
use thiserror::Error;

use super::billing::{Tariff, PRICE_SCALE, SLOTS, TIERS};
use super::encoding::{Bcd, Cp56Time2a, LogicalCard, PileNumber, TransactionSerial};
use super::frame_type as ft;
use super::maintenance::{Reboot, EXECUTE_NOW, EXECUTE_WHEN_IDLE, UPDATE_SUCCESS};
use super::params::{WorkParams, FULL_POWER_PCT, WORK_ALLOWED, WORK_LOCKED};
use super::realtime::PollRealtime;
use super::start_stop::{RemoteStart, RemoteStop, BALANCE_SCALE, RESULT_SUCCESS};
use super::time_sync::TimeSync;
use super::{Message, YkcError};
use crate::command::{CommandKind, SetPriceArgs, StartArgs};
use crate::event::{CommandResultData, CommandStatus};

/// Result byte of 0x51 / 0x57 / 0x91 meaning success.
const REPLY_SUCCESS: u8 = 0x01;
/// Result byte of 0x41 meaning OK.
const BALANCE_OK: u8 = 0x00;

/// Why a command could not be turned into a YKC frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CommandError {
    /// YKC has no frame for this command.
    #[error("YKC cannot express command `{command}`")]
    NotSupported {
        /// Normalized command name.
        command: &'static str,
    },
    /// A needed argument is absent.
    #[error("command `{command}` needs argument `{argument}`")]
    MissingArgument {
        /// Normalized command name.
        command: &'static str,
        /// Argument name.
        argument: &'static str,
    },
    /// An argument does not fit the YKC field.
    #[error("command `{command}`: argument `{argument}` is invalid for YKC")]
    InvalidArgument {
        /// Normalized command name.
        command: &'static str,
        /// Argument name.
        argument: &'static str,
    },
    /// The frame could not be encoded.
    #[error(transparent)]
    Encode(#[from] YkcError),
}

impl CommandError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::NotSupported { .. } => "ykc_command_not_supported",
            CommandError::MissingArgument { .. } => "ykc_command_missing_argument",
            CommandError::InvalidArgument { .. } => "ykc_command_invalid_argument",
            CommandError::Encode(e) => e.kind(),
        }
    }
}

/// What identifies the reply to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlation {
    /// Frame type of the expected reply.
    pub reply_type: u8,
    /// Pile the reply names.
    pub pile: PileNumber,
    /// Gun the reply names, when the reply has one.
    pub gun: Option<u8>,
    /// Transaction serial the reply names (0x33).
    pub serial: Option<TransactionSerial>,
}

impl Correlation {
    /// Whether `reply` answers the command this correlation belongs to.
    pub fn matches(&self, reply: &Message) -> bool {
        if reply.frame_type() != self.reply_type {
            return false;
        }
        let (pile, gun, serial) = match reply {
            Message::RemoteStartReply(r) => (r.pile, Some(r.gun), Some(r.serial)),
            Message::RemoteStopReply(r) => (r.pile, Some(r.gun), None),
            Message::Realtime(r) => (r.pile, Some(r.gun), None),
            Message::RebootReply(r) | Message::UpdateReply(r) => (r.pile, None, None),
            Message::TimeSyncReply(r) => (r.pile, None, None),
            Message::BillingModelSetReply(r) => (r.pile, None, None),
            Message::WorkParamsReply(r) => (r.pile, None, None),
            _ => return false,
        };
        pile == self.pile
            && (self.gun.is_none() || gun.is_none() || self.gun == gun)
            && (self.serial.is_none() || self.serial == serial)
    }
}

/// A command ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedCommand {
    /// The down message.
    pub message: Message,
    /// The encoded frame.
    pub frame: Bytes,
    /// How to recognize the reply.
    pub correlation: Correlation,
}

fn connector_gun(command: &'static str, connector: u16) -> Result<u8, CommandError> {
    u8::try_from(connector)
        .ok()
        .filter(|g| (1..=99).contains(g))
        .ok_or(CommandError::InvalidArgument {
            command,
            argument: "connector",
        })
}

fn start_message(pile: PileNumber, a: &StartArgs) -> Result<RemoteStart, CommandError> {
    const NAME: &str = "start";
    let serial_text = a
        .transaction_id
        .as_deref()
        .ok_or(CommandError::MissingArgument {
            command: NAME,
            argument: "transaction_id",
        })?;
    let invalid = |argument| CommandError::InvalidArgument {
        command: NAME,
        argument,
    };
    let serial = TransactionSerial::from_digits(serial_text).ok_or(invalid("transaction_id"))?;
    let logical_card = match a.id_tag.as_deref() {
        Some(t) => LogicalCard::from_digits(t).ok_or(invalid("id_tag"))?,
        None => LogicalCard::default(),
    };
    let physical_card = match a.card.as_deref() {
        Some(c) => Bcd::<8>::from_hex(c).ok_or(invalid("card"))?.0,
        None => [0; 8],
    };
    let balance = a.balance.unwrap_or(0.0) * BALANCE_SCALE;
    if !(0.0..=f64::from(u32::MAX)).contains(&balance) {
        return Err(invalid("balance"));
    }
    Ok(RemoteStart {
        serial,
        pile,
        gun: connector_gun(NAME, a.connector)?,
        logical_card,
        physical_card,
        balance_raw: balance.round() as u32,
    })
}

/// Builds a tariff (0x58 / 0x0A body) from `set_price` arguments.
pub fn tariff_from_args(pile: PileNumber, a: &SetPriceArgs) -> Result<Tariff, CommandError> {
    const NAME: &str = "set_price";
    let invalid = |argument| CommandError::InvalidArgument {
        command: NAME,
        argument,
    };
    let model = Bcd::<2>::from_digits(&a.model).ok_or(invalid("model"))?;
    if a.prices.len() != 2 * TIERS {
        return Err(invalid("prices"));
    }
    let mut prices = [0u32; 2 * TIERS];
    for (dst, p) in prices.iter_mut().zip(&a.prices) {
        let raw = p * PRICE_SCALE;
        if !(0.0..=f64::from(u32::MAX)).contains(&raw) {
            return Err(invalid("prices"));
        }
        *dst = raw.round() as u32;
    }
    let slots: [u8; SLOTS] = a
        .slots
        .as_slice()
        .try_into()
        .ok()
        .filter(|s: &[u8; SLOTS]| s.iter().all(|t| usize::from(*t) < TIERS))
        .ok_or(invalid("slots"))?;
    Ok(Tariff {
        pile,
        model,
        prices,
        loss_ratio: a.loss_ratio,
        slots,
    })
}

/// Maps a normalized command to the YKC down frame for `pile`, sent with sequence bytes `seq`.
pub fn prepare(
    command: &CommandKind,
    pile: PileNumber,
    seq: [u8; 2],
) -> Result<PreparedCommand, CommandError> {
    let name = command.name();
    let corr = |reply_type, gun, serial| Correlation {
        reply_type,
        pile,
        gun,
        serial,
    };
    let (message, correlation) = match command {
        CommandKind::Start(a) => {
            let m = start_message(pile, a)?;
            let c = corr(ft::REMOTE_START_REPLY, Some(m.gun), Some(m.serial));
            (Message::RemoteStart(m), c)
        }
        CommandKind::Stop(a) => {
            let connector = a.connector.ok_or(CommandError::MissingArgument {
                command: name,
                argument: "connector",
            })?;
            let gun = connector_gun(name, connector)?;
            (
                Message::RemoteStop(RemoteStop { pile, gun }),
                corr(ft::REMOTE_STOP_REPLY, Some(gun), None),
            )
        }
        CommandKind::Reset(a) => (
            Message::Reboot(Reboot {
                pile,
                control: if a.hard {
                    EXECUTE_NOW
                } else {
                    EXECUTE_WHEN_IDLE
                },
            }),
            corr(ft::REBOOT_REPLY, None, None),
        ),
        CommandKind::SetTime(a) => {
            let time = Cp56Time2a::parse_local(&a.time).ok_or(CommandError::InvalidArgument {
                command: name,
                argument: "time",
            })?;
            (
                Message::TimeSync(TimeSync { pile, time }),
                corr(ft::TIME_SYNC_REPLY, None, None),
            )
        }
        CommandKind::SetPrice(a) => (
            Message::BillingModelSet(tariff_from_args(pile, a)?),
            corr(ft::BILLING_MODEL_SET_REPLY, None, None),
        ),
        CommandKind::PollRealtime(a) => {
            let gun = connector_gun(name, a.connector)?;
            (
                Message::PollRealtime(PollRealtime { pile, gun }),
                corr(ft::REALTIME, Some(gun), None),
            )
        }
        CommandKind::ChangeAvailability(a) => (
            Message::WorkParams(WorkParams {
                pile,
                work: if a.operative {
                    WORK_ALLOWED
                } else {
                    WORK_LOCKED
                },
                max_power_pct: FULL_POWER_PCT,
            }),
            corr(ft::WORK_PARAMS_REPLY, None, None),
        ),
        _ => return Err(CommandError::NotSupported { command: name }),
    };
    let frame = message.encode_frame(seq)?;
    Ok(PreparedCommand {
        message,
        frame,
        correlation,
    })
}

fn outcome(success: bool) -> CommandStatus {
    if success {
        CommandStatus::Accepted
    } else {
        CommandStatus::Rejected
    }
}

/// The normalized result a reply message carries, `None` for messages that answer no command. `command_id` is left
/// empty for the gateway to fill by correlation.
pub fn result_of(message: &Message) -> Option<CommandResultData> {
    let (command, status, detail) = match message {
        Message::RemoteStartReply(r) => (
            "start",
            outcome(r.result == RESULT_SUCCESS),
            json!({"failure_reason": r.failure_reason, "transaction_id": r.serial.to_string()}),
        ),
        Message::RemoteStopReply(r) => (
            "stop",
            outcome(r.result == RESULT_SUCCESS),
            json!({"failure_reason": r.failure_reason}),
        ),
        Message::RebootReply(r) => (
            "reset",
            outcome(r.result == REPLY_SUCCESS),
            json!({"result": r.result}),
        ),
        Message::UpdateReply(r) => (
            "update_firmware",
            outcome(r.result == UPDATE_SUCCESS),
            json!({"status": r.result}),
        ),
        Message::WorkParamsReply(r) => (
            "change_availability",
            outcome(r.result == REPLY_SUCCESS),
            json!({"result": r.result}),
        ),
        Message::TimeSyncReply(t) => (
            "set_time",
            CommandStatus::Accepted,
            json!({"time": t.time.to_string()}),
        ),
        Message::BillingModelSetReply(r) => (
            "set_price",
            outcome(r.result == REPLY_SUCCESS),
            json!({"result": r.result}),
        ),
        Message::BalanceUpdateReply(r) => (
            "update_balance",
            outcome(r.result == BALANCE_OK),
            json!({"result": r.result}),
        ),
        _ => return None,
    };
    Some(CommandResultData {
        command_id: String::new(),
        command: command.to_owned(),
        status,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{ConnectorArgs, ResetArgs, SetTimeArgs};

    fn pile() -> PileNumber {
        PileNumber::from_digits("20231212000010").unwrap()
    }

    #[test]
    fn set_time_builds_0x56_expecting_0x55() {
        let p = prepare(
            &CommandKind::SetTime(SetTimeArgs {
                time: "2025-08-21T12:12:12".into(),
            }),
            pile(),
            [0x01, 0x00],
        )
        .unwrap();
        // JCPP's J35 frame, byte for byte.
        assert_eq!(
            hex(&p.frame),
            "68120100005620231212000010E02E0C0C150819E836"
        );
        assert_eq!(p.correlation.reply_type, ft::TIME_SYNC_REPLY);
    }

    #[test]
    fn reset_soft_waits_for_idle() {
        let p = prepare(
            &CommandKind::Reset(ResetArgs { hard: false }),
            pile(),
            [0, 0],
        )
        .unwrap();
        assert!(matches!(
            p.message,
            Message::Reboot(Reboot {
                control: EXECUTE_WHEN_IDLE,
                ..
            })
        ));
    }

    #[test]
    fn unlock_is_not_supported() {
        let e = prepare(
            &CommandKind::Unlock(ConnectorArgs { connector: 1 }),
            pile(),
            [0, 0],
        )
        .unwrap_err();
        assert_eq!(e, CommandError::NotSupported { command: "unlock" });
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02X}")).collect()
    }
}

//! The vendor-codec plug-in seam: what a charger protocol implements so a gateway listener can serve it by name.
//!
//! A [`VendorCodec`] is the stateless factory a listener holds (name, protocol label, first-bytes detection,
//! liveness timeouts); each accepted connection gets its own [`CodecConnection`], which turns a `BytesMut` into
//! [`Inbound`] outcomes and normalized commands into wire bytes. Everything the gateway must *decide* — whether a
//! login is accepted, whether a billing event is safely upstream — comes back to the codec as an explicit call
//! ([`CodecConnection::deferred_reply`]), never as a hidden side effect. [`CodecRegistry`] maps names (and versions)
//! to codecs and implements the gradual rollout. Like the rest of this crate, nothing here touches a socket or a
//! clock.

mod error;
mod registry;
mod rollout;
mod types;

pub use error::{FrameError, PluginError};
pub use registry::{CodecRegistry, RolloutError};
pub use rollout::{rollout_bucket, Rollout, ROLLOUT_BUCKETS};
pub use types::{
    CorrelationKey, Credential, DecodedFrame, DeferredKind, DeferredReply, Detect, EncodedCommand,
    Inbound, LivenessPolicy, LoginInfo, Refusal, RejectedFrame, ReplyOutcome, ReplyPlan,
};

use bytes::BytesMut;

use crate::command::Command;
use crate::event::CommandResultData;

/// A charger protocol as a listener sees it: a named, versioned factory of per-connection decoders.
///
/// Implementations are shared between all connections (`Arc<dyn VendorCodec>`), so they hold configuration only;
/// per-connection state lives in the [`CodecConnection`] returned by [`VendorCodec::connect`].
pub trait VendorCodec: Send + Sync + 'static {
    /// Stable registry name, such as `"ykc"`; listeners name their codec by it.
    fn name(&self) -> &'static str;

    /// Version of this implementation, such as `"1"` or `"2024.06"`; several may be registered under one name for a
    /// gradual rollout.
    fn version(&self) -> &'static str;

    /// Protocol label written into every event this codec produces, such as `"ykc/1.6"`.
    fn protocol(&self) -> &'static str;

    /// Whether the first bytes of a connection look like this protocol (used by `sniff` listeners, which try the
    /// registered codecs in order).
    fn detect(&self, first_bytes: &[u8]) -> Detect;

    /// How long a connection may stay silent before it is declared offline, by state.
    fn liveness(&self) -> LivenessPolicy;

    /// Fresh per-connection state for a new connection.
    fn connect(&self) -> Box<dyn CodecConnection>;
}

/// The per-connection half of a codec: framing, decoding, normalizing, command encoding and replies.
pub trait CodecConnection: Send {
    /// Takes at most one whole frame off the front of `src` and decodes it; `Ok(None)` means more bytes are
    /// needed. A frame that is bad but skippable is returned as [`Inbound::Rejected`] (the stream goes on);
    /// `Err` means the stream cannot be resynchronised and the connection must close.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, PluginError>;

    /// What to send (or whether to close) when a frame other than the login arrives before the charger has
    /// authenticated: YKC closes, OCPP answers CALLERROR `SecurityError`.
    fn refuse_unauthenticated(&mut self, frame: &DecodedFrame) -> Refusal;

    /// The reply the codec asked for with [`ReplyPlan::Deferred`], now that the gateway knows the outcome
    /// (login accepted or refused; billing event upstream or not). `None` when the protocol sends nothing.
    fn deferred_reply(
        &mut self,
        reply: &DeferredReply,
        outcome: ReplyOutcome,
    ) -> Result<Option<bytes::Bytes>, PluginError>;

    /// Encodes a normalized command for the charger `charger`, with the correlation key its reply will carry.
    /// A command the protocol cannot express is [`PluginError::Unsupported`].
    fn encode_command(
        &mut self,
        charger: &str,
        command: &Command,
    ) -> Result<EncodedCommand, PluginError>;

    /// Maps the frame that answered `command` (matched by correlation key) to the command's result.
    fn command_result(&self, command: &Command, reply: &DecodedFrame) -> CommandResultData;

    /// The protocol label this connection turned out to speak, when it is only known after the login (OCPP: the
    /// version negotiated at the WebSocket handshake). `None` keeps [`VendorCodec::protocol`].
    fn protocol(&self) -> Option<&'static str> {
        None
    }

    /// The protocol's own text of a decoded frame (OCPP: the OCPP-J message), for sinks that mirror a protocol's
    /// traffic as it was sent (the EMQX OCPP-gateway MQTT layout). `None` for binary protocols and for frames that
    /// carry no protocol message (the WebSocket bridge's connect record).
    fn message_text<'a>(&self, _frame: &'a DecodedFrame) -> Option<&'a [u8]> {
        None
    }

    /// Whether the protocol session is established beyond the login (OCPP-J: a BootNotification was accepted
    /// after the handshake). The gateway closes a connection that is still not ready at its login deadline.
    fn ready(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;

//! What a pipeline layer decides about one frame, and why a connection ends.

/// A layer's decision about one inbound frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the frame to the next layer.
    Pass,
    /// Drop this frame (counted under the reason) and keep the connection.
    Drop(&'static str),
    /// The charger has not authenticated: answer as the protocol demands ([`chargegate_codec::plugin::Refusal`]).
    Refuse,
    /// Close the connection.
    Close(CloseReason),
}

/// Why a connection was closed; the `offline` event's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The peer closed the socket or it failed.
    Closed,
    /// Silent for longer than its liveness timeout.
    LivenessTimeout,
    /// A newer connection logged in with the same charger id.
    Takeover,
    /// The gateway is shutting down.
    Shutdown,
    /// No login within the auth deadline.
    AuthTimeout,
    /// The login was refused.
    AuthFailed,
    /// A frame arrived before login on a protocol that closes for it (YKC), or the stream was corrupt.
    ProtocolError,
    /// Sustained abuse of the rate limits.
    RateLimit,
    /// A frame (or the unfinished frame buffered so far) longer than `limits.max_frame_bytes`.
    FrameTooLong,
}

impl CloseReason {
    /// The reason as written in `offline` events and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Closed => "closed",
            CloseReason::LivenessTimeout => "liveness_timeout",
            CloseReason::Takeover => "takeover",
            CloseReason::Shutdown => "shutdown",
            CloseReason::AuthTimeout => "auth_timeout",
            CloseReason::AuthFailed => "auth_failed",
            CloseReason::ProtocolError => "protocol_error",
            CloseReason::RateLimit => "rate_limit",
            CloseReason::FrameTooLong => "frame_too_long",
        }
    }

    /// Error code in the brief's scheme (party letter: A charger, B gateway; scene 01 login, 02 uplink, 05
    /// connection; case), logged with the close so a log search finds every connection cut for one cause.
    /// `docs/security.md` lists them.
    pub fn code(self) -> &'static str {
        match self {
            CloseReason::Closed => "A0500",
            CloseReason::Takeover => "A0501",
            CloseReason::Shutdown => "B0500",
            CloseReason::AuthTimeout => "A0101",
            CloseReason::AuthFailed => "A0102",
            CloseReason::ProtocolError => "A0201",
            CloseReason::RateLimit => "A0202",
            CloseReason::LivenessTimeout => "A0203",
            CloseReason::FrameTooLong => "A0204",
        }
    }

    /// Whether the close is a defence against the peer (logged at warn), rather than an ordinary end.
    pub fn is_defensive(self) -> bool {
        matches!(
            self,
            CloseReason::AuthTimeout
                | CloseReason::AuthFailed
                | CloseReason::ProtocolError
                | CloseReason::RateLimit
                | CloseReason::FrameTooLong
        )
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

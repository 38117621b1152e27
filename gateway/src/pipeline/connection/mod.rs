//! The connection driver: runs one socket through the pipeline — the function a listener's handler calls.
//!
//! One task per connection owns the whole socket. It reads through a per-thread scratch buffer and keeps an owned
//! buffer only for an unfinished frame (an idle charger holds no read buffer), lets the codec cut frames, passes
//! each through [`Pipeline::inbound`], performs what the frame asks (authenticate a login, answer, correlate a
//! command reply, route events, release a billing ack after upstream) and serves its control queue (commands,
//! close requests from the liveness wheel or a takeover). Replies are written at once by the same task; what the
//! socket does not take waits in the water-mark [`Outbox`] until it is writable. Timers exist only while needed
//! (the command sweep). When the loop ends the charger is `offline` with the reason at once — a closed socket
//! never waits for the wheel.

mod observer;
mod outbox;

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::event::{EventBody, Observation, OfflineData};
use chargegate_codec::plugin::{
    CodecConnection, CodecRegistry, DecodedFrame, DeferredKind, Inbound, Refusal, ReplyOutcome,
    ReplyPlan, VendorCodec,
};
use futures_util::future::Either;
use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

use observer::Tally;
pub use observer::{ConnectionObserver, NoopObserver, Outbound};
pub use outbox::Outbox;

use super::auth::{AuthDecision, AuthGate, AuthState, Authenticator, DEFAULT_LOGIN_DEADLINE};
use super::liveness::{wall_clock_ms, Liveness, LivenessTarget, SharedWheel, WorkerClock};
use super::normalize::Normalizer;
use super::rate_limit::{RateLimitConfig, RateLimiter};
use super::route::{Delivery, EventRouter};
use super::water_mark::{OutboundGauge, WaterMarkConfig, WriteClass};
use super::{CloseReason, Pipeline, Step, Verdict};
use crate::session::correlator::Submit;
use crate::session::{
    control_channel, result_of, ControlReceiver, Correlator, QueuedCommand, SessionControl,
    SessionHandle, SessionMeta, SessionRegistry,
};

/// The per-thread scratch buffer every connection on a thread reads into: only bytes of an unfinished frame are
/// copied into a buffer the connection owns.
pub const READ_SCRATCH: usize = 8 * 1024;
/// How often unanswered commands are checked against their deadlines.
const COMMAND_SWEEP: Duration = Duration::from_secs(1);
/// How long a billing ack waits for upstream before the charger is told it failed (it will resend).
const UPSTREAM_ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the last replies may take to reach the socket after the loop ends.
const WRITER_DRAIN: Duration = Duration::from_secs(2);

/// Per-connection settings (all from the gateway config).
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Gateway instance name, stamped into events; interned once
    /// ([`chargegate_codec::event::interned`]) so events share it.
    pub gw: &'static str,
    /// Worker index, for session metadata.
    pub worker: usize,
    /// Time allowed for the login.
    pub login_deadline: Duration,
    /// Inbound rate limits.
    pub rate: RateLimitConfig,
    /// Outbound water marks.
    pub water: WaterMarkConfig,
    /// Commands the control queue holds at most (close requests always fit).
    pub control_capacity: usize,
    /// Largest inbound frame, bytes, for every codec: a longer frame, or an unfinished one with more than this
    /// buffered, closes the connection. A codec's own envelope maximum (YKC 261 B) still applies, so the
    /// effective limit is the smaller of the two.
    pub max_frame_bytes: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            gw: "chargegate",
            worker: 0,
            login_deadline: DEFAULT_LOGIN_DEADLINE,
            rate: RateLimitConfig::default(),
            water: WaterMarkConfig::default(),
            control_capacity: 32,
            max_frame_bytes: crate::config::DEFAULT_MAX_FRAME_BYTES,
        }
    }
}

/// What every connection of a listener on one worker shares.
#[derive(Clone)]
pub struct ConnectionContext {
    /// The listener's codec name (the registry picks the version per charger after login).
    pub codec_name: &'static str,
    /// Codec registry with the rollout plans.
    pub codecs: Arc<CodecRegistry>,
    /// Connected chargers.
    pub sessions: Arc<SessionRegistry>,
    /// Login checker.
    pub auth: Arc<Authenticator>,
    /// Where events go.
    pub router: Arc<dyn EventRouter>,
    /// The worker's liveness wheel and its clock.
    pub wheel: SharedWheel,
    /// The wheel's clock.
    pub clock: WorkerClock,
    /// Settings.
    pub config: ConnectionConfig,
    /// Metrics hooks.
    pub observer: Arc<dyn ConnectionObserver>,
    /// Cancelled at shutdown. The wheel's ticker ([`super::liveness::run_wheel_until`]) then tells every
    /// connection in the wheel to close with reason `shutdown` (and its `offline` event); a connection that starts
    /// after that sees the token cancelled and closes at once. Connections do not wait on the token themselves.
    pub shutdown: CancellationToken,
}

/// Errors that prevent a connection from starting.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// No codec is registered under the listener's name.
    #[error("no codec registered as `{0}`")]
    UnknownCodec(&'static str),
    /// The worker's timing wheel is full.
    #[error(transparent)]
    Wheel(#[from] super::timing_wheel::WheelError),
}

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_SCRATCH].into_boxed_slice());
}

/// What woke the connection task.
enum Wake {
    /// Bytes were appended to the inbound buffer; `full` when the read filled the scratch buffer (more is likely
    /// waiting in the socket).
    Read { full: bool },
    /// The socket closed or failed.
    Closed,
    /// A control message arrived (shutdown comes this way too).
    Control(SessionControl),
    /// The command sweep is due.
    Sweep,
}

/// What a connection keeps only while commands are in flight (or its protocol session is still to be established).
#[derive(Default)]
struct CommandState {
    /// Commands sent and waiting for their replies, and those held behind them.
    correlator: Correlator,
    /// The command sweep's timer, only while [`Driver::sweep_due`].
    sweep: Option<Pin<Box<Sleep>>>,
}

struct Driver<S> {
    io: S,
    /// Bytes read and not yet decoded; `None` between frames (one word instead of an empty `BytesMut`'s four in
    /// every idle connection; the box costs an allocation per read that leaves bytes to decode).
    inbound: Option<Box<BytesMut>>,
    /// Pending writes, and whether one failed (the socket is dead).
    outbox: Outbox,
    /// Commands and close requests (takeover, liveness, shutdown); senders are made from it when needed.
    control: ControlReceiver,
    /// Shared by every connection of the listener on this worker: one pointer here, not a 208 B copy.
    ctx: Arc<ConnectionContext>,
    conn_id: u64,
    /// Which registered codec version `conn` speaks, by the address of its registry entry (one word, not the
    /// entry's 16 B `Arc`; only compared at login, with the version the rollout picks). The registry keeps every
    /// registered version alive, so the address names it.
    codec_id: usize,
    conn: Box<dyn CodecConnection>,
    pipeline: Pipeline,
    /// Commands in flight and the sweep's timer, created by the first command (or, for a protocol session still to
    /// be established, the first sweep): most chargers never need them, and one word here is all they cost.
    commands: Option<Box<CommandState>>,
    /// The session's metadata once logged in (the registry's handle is rebuilt from it, the connection id and
    /// the control queue: three words kept for life would be two of them copies).
    session: Option<Arc<SessionMeta>>,
}

/// Serves one accepted socket until it closes; returns why it closed.
///
/// Pass an `Arc<ConnectionContext>` the listener shares between its connections (a plain context is wrapped in
/// its own `Arc`, which costs an allocation per connection).
pub fn run_connection<S>(
    io: S,
    conn_id: u64,
    ctx: impl Into<Arc<ConnectionContext>>,
) -> impl Future<Output = Result<CloseReason, ConnectionError>>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    run_connection_with(io, BytesMut::new(), conn_id, ctx)
}

/// As [`run_connection`], with bytes already read from the socket (after a PROXY header) processed first.
///
/// The connection is set up before the returned future exists, so the future holds only the driver (an `async fn`
/// would also keep its arguments for life, next to the driver built from them).
pub fn run_connection_with<S>(
    io: S,
    preread: BytesMut,
    conn_id: u64,
    ctx: impl Into<Arc<ConnectionContext>>,
) -> impl Future<Output = Result<CloseReason, ConnectionError>>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    match start_connection(io, preread, conn_id, ctx) {
        Ok(running) => Either::Left(running.map(Ok)),
        Err(error) => Either::Right(std::future::ready(Err(error))),
    }
}

/// Sets a connection up now and returns the future that serves it to its end (with why it closed). For callers
/// that report a failed start themselves: the returned future then holds nothing but the connection (a caller's
/// combinator keeping the peer address for a log line at the end cost 40 B of every connection for life).
pub fn start_connection<S>(
    io: S,
    preread: BytesMut,
    conn_id: u64,
    ctx: impl Into<Arc<ConnectionContext>>,
) -> Result<impl Future<Output = CloseReason>, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    Driver::new(io, preread, conn_id, ctx.into()).map(Driver::serve)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// Sets a connection up: codec state, control queue, liveness entry (armed with the login deadline), pipeline.
    fn new(
        io: S,
        preread: BytesMut,
        conn_id: u64,
        ctx: Arc<ConnectionContext>,
    ) -> Result<Self, ConnectionError> {
        let codec = ctx
            .codecs
            .default_for(ctx.codec_name)
            .ok_or(ConnectionError::UnknownCodec(ctx.codec_name))?;
        let (control_tx, control) = control_channel(ctx.config.control_capacity);
        let now_ms = ctx.clock.now_ms();
        let auth = AuthGate::new(now_ms, ctx.config.login_deadline);
        let target = LivenessTarget {
            control: control_tx,
        };
        let liveness = Liveness::arm(
            ctx.wheel.clone(),
            target,
            codec.liveness(),
            auth.deadline_ms(),
        )?;
        let pipeline = Pipeline {
            auth,
            liveness,
            rate: RateLimiter::new(ctx.config.rate, now_ms),
            normalize: Normalizer::new(ctx.config.gw, codec.protocol(), conn_id),
        };
        Ok(Driver {
            io,
            inbound: (!preread.is_empty()).then(|| Box::new(preread)),
            outbox: Outbox::new(OutboundGauge::new(ctx.config.water)),
            control,
            conn: codec.connect(),
            codec_id: codec_id(&codec),
            ctx,
            conn_id,
            pipeline,
            commands: None,
            session: None,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// Runs the connection to its end: serve, emit `offline`, let the last replies out.
    // Not an `async fn`: see the comment in the body (the test `the_connection_future_stays_small` measures it).
    #[allow(clippy::manual_async_fn)]
    fn serve(mut self) -> impl Future<Output = CloseReason> {
        // Borrowed inside the block, never moved: a moved driver would be stored twice (the captured value and
        // the local it moved into); and no `&mut` local either (it would be kept next to the driver for life).
        async move {
            let (reason, detected_ms) = self.run().await;
            self.finish(reason, detected_ms);
            // Boxed: its timers would otherwise size every connection's future for life.
            Box::pin(self.close_socket()).await;
            reason
        }
    }

    /// Serves until the connection should end; returns why, and when the liveness wheel detected the silence
    /// (Unix ms) if that is why (the `offline` event carries the moment of detection).
    async fn run(&mut self) -> (CloseReason, Option<u64>) {
        // The first turn handles bytes read before the connection started (after a PROXY header), if any.
        let mut wake = Wake::Read { full: false };
        let mut started = false;
        loop {
            match wake {
                Wake::Read { full } => {
                    // Each frame is handled in its own box, awaited right here: a frame's state (the frame, its
                    // events, a login or billing-ack await) must not size every idle connection's future for
                    // life, and nothing else is held across the await (the buffer stays in the driver).
                    loop {
                        // Frames that await nothing (nearly all) are handled in place by `drain_now`; it
                        // returns the first one that does.
                        let handled = match self.drain_now() {
                            Ok(Some(frame)) => Box::pin(self.frame(frame)),
                            Ok(None) => break,
                            Err(reason) => return (reason, None),
                        };
                        if let Some(reason) = handled.await {
                            return (reason, None);
                        }
                    }
                    if full {
                        // A socket that always has bytes (a flood, a 64 MiB length field being discarded) would
                        // otherwise be read up to tokio's budget of 128 polls, ~1 MiB, before the worker looks at
                        // any other connection: the hostile tests saw a control charger's reply wait 2-12 ms.
                        tokio::task::yield_now().await;
                    }
                }
                Wake::Closed => return (CloseReason::Closed, None),
                Wake::Control(SessionControl::Command(queued)) => self.command(*queued),
                Wake::Control(SessionControl::Close(reason)) => {
                    return (self.close_reason(reason), None)
                }
                Wake::Control(SessionControl::Expired { at_ms }) => {
                    return (self.close_reason(CloseReason::LivenessTimeout), Some(at_ms));
                }
                Wake::Sweep => {
                    let expired = match &mut self.commands {
                        Some(commands) => commands.correlator.expire(Instant::now()),
                        None => Vec::new(),
                    };
                    for bytes in expired {
                        self.send(bytes, WriteClass::Critical, Outbound::Command);
                    }
                    if let Some(reason) = self.session_deadline() {
                        return (reason, None);
                    }
                }
            }
            if !started {
                started = true;
                // Shutdown arrives through the control queue (the wheel tells every connection in it); one set up
                // after that finds the token cancelled here.
                if self.ctx.shutdown.is_cancelled() {
                    return (CloseReason::Shutdown, None);
                }
            }
            wake = poll_fn(|cx| self.poll_wake(cx)).await;
        }
    }

    /// Polls everything the connection waits for, in priority order: control (close requests, shutdown,
    /// commands), pending writes, the socket's bytes, the sweep timer.
    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        if let Poll::Ready(msg) = self.control.poll_recv(cx) {
            return Poll::Ready(Wake::Control(msg));
        }
        if self.outbox.failed {
            return Poll::Ready(Wake::Closed);
        }
        if !self.outbox.is_idle() {
            let written = self.outbox.poll_write(&mut self.io, cx);
            self.report_water_marks();
            if let Poll::Ready(Err(_)) = written {
                return Poll::Ready(Wake::Closed);
            }
        }
        if let Poll::Ready(read) = self.poll_read(cx) {
            return Poll::Ready(read);
        }
        if self.sweep_due() {
            let commands = self.commands.get_or_insert_with(Box::default);
            let sleep = commands
                .sweep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(COMMAND_SWEEP)));
            if sleep.as_mut().poll(cx).is_ready() {
                commands.sweep = None;
                return Poll::Ready(Wake::Sweep);
            }
        } else if let Some(commands) = &mut self.commands {
            // Only while there is something to sweep: an idle charger's task must not wake every second
            // (10,000 idle connections made 10,000 wake-ups/s, ten times their heartbeats).
            commands.sweep = None;
        }
        Poll::Pending
    }

    /// Reads through the thread's scratch buffer; only the bytes read are copied into the connection's own buffer.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let mut buf = ReadBuf::new(&mut scratch[..]);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(_)) => Poll::Ready(Wake::Closed),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => Poll::Ready(Wake::Closed),
                Poll::Ready(Ok(())) => {
                    let full = buf.remaining() == 0;
                    match &mut self.inbound {
                        Some(inbound) => inbound.extend_from_slice(buf.filled()),
                        // Sized to what arrived, not to a fixed buffer.
                        None => self.inbound = Some(Box::new(BytesMut::from(buf.filled()))),
                    }
                    Poll::Ready(Wake::Read { full })
                }
            }
        })
    }

    /// Lets the last replies (a refusal, a login rejection) reach the charger, then shuts the write side down.
    async fn close_socket(&mut self) {
        let outbox = &mut self.outbox;
        let io = &mut self.io;
        let flushed = poll_fn(|cx| outbox.poll_write(io, cx));
        let _ = tokio::time::timeout(WRITER_DRAIN, flushed).await;
        let _ = tokio::time::timeout(WRITER_DRAIN, self.io.shutdown()).await;
    }

    /// Logged in, but the protocol session is not established yet (an OCPP-J charger before its BootNotification).
    fn awaiting_session(&self) -> bool {
        self.pipeline.auth.state() == AuthState::Authenticated && !self.conn.ready()
    }

    /// Whether the 1 s sweep has work: commands outstanding or held, or a protocol session still to be established
    /// (its login deadline). Water-mark returns are reported where the task itself drains the outbox.
    fn sweep_due(&self) -> bool {
        self.commands
            .as_ref()
            .is_some_and(|b| b.correlator.outstanding() + b.correlator.held() > 0)
            || !self.conn.ready()
    }

    /// A charger that logged in but has not established its protocol session (an OCPP-J charger that never sent
    /// its BootNotification) is closed at the login deadline, like one that never logged in.
    fn session_deadline(&self) -> Option<CloseReason> {
        let late = self.ctx.clock.now_ms() >= self.pipeline.auth.deadline_ms();
        if late && self.awaiting_session() {
            let charger = self.pipeline.normalize.charger();
            tracing::info!(
                conn = self.conn_id,
                charger,
                code = "auth_timeout",
                "protocol session not established by the login deadline; closing"
            );
            return Some(CloseReason::AuthTimeout);
        }
        None
    }

    /// A wheel expiry before login is the login deadline, not a liveness timeout.
    fn close_reason(&self, reason: CloseReason) -> CloseReason {
        if reason == CloseReason::LivenessTimeout
            && self.pipeline.auth.state() != AuthState::Authenticated
        {
            CloseReason::AuthTimeout
        } else {
            reason
        }
    }

    /// Handles the buffered frames that need no await, in place, up to the first one that does (returned).
    fn drain_now(&mut self) -> Result<Option<DecodedFrame>, CloseReason> {
        // One reading of the clocks for the frames of one read: they arrived together (two clock reads per
        // frame were ~2 % of a worker's time at 150k frames/s).
        let now = Now::read(&self.ctx.clock);
        let mut tally = Tally::default();
        let drained = loop {
            match self.next_frame(&mut tally) {
                Ok(Some(frame)) if needs_await(&frame) => break Ok(Some(frame)),
                Ok(Some(frame)) => {
                    if let Some(reason) = self.frame_now(frame, now) {
                        break Err(reason);
                    }
                }
                other => break other,
            }
        };
        tally.report(&*self.ctx.observer);
        drained
    }

    /// The next whole frame in the inbound buffer (`None`: more bytes needed), counting it in `tally` and
    /// counting and dead-lettering rejected ones on the way; `Err` closes the connection.
    fn next_frame(&mut self, tally: &mut Tally) -> Result<Option<DecodedFrame>, CloseReason> {
        let Some(mut buf) = self.inbound.take() else {
            return Ok(None);
        };
        let next = self.decode_from(&mut buf, tally);
        if !buf.is_empty() {
            self.inbound = Some(buf);
        }
        next
    }

    /// [`Driver::next_frame`] on a buffer taken out of the driver (the codec and the driver are borrowed at once).
    fn decode_from(
        &mut self,
        buf: &mut BytesMut,
        tally: &mut Tally,
    ) -> Result<Option<DecodedFrame>, CloseReason> {
        loop {
            match self.conn.decode(buf) {
                // What the codec leaves buffered is the start of one frame: more than the limit and that frame
                // is too long, whatever its header announced (so memory stays bounded for every codec).
                Ok(None) if buf.len() > self.ctx.config.max_frame_bytes => {
                    return Err(self.frame_too_long(buf.len()));
                }
                Ok(None) => return Ok(None),
                Ok(Some(Inbound::Frame(frame)))
                    if frame.raw.len() > self.ctx.config.max_frame_bytes =>
                {
                    return Err(self.frame_too_long(frame.raw.len()));
                }
                Ok(Some(Inbound::Frame(frame))) => {
                    tally.count(frame.message_type, &*self.ctx.observer);
                    return Ok(Some(frame));
                }
                Ok(Some(Inbound::Rejected(rejected))) => {
                    self.ctx.observer.decode_error(&rejected.error);
                    // A rejected frame costs rate-limit tokens like a good one, so a storm of bad frames (CRC
                    // errors, garbage) is throttled: beyond the rate it is counted but no longer dead-lettered
                    // (a log line and a publish each), and sustained excess closes the connection.
                    let now_ms = self.ctx.clock.now_ms();
                    match self.pipeline.rate.check(rejected.raw.len(), now_ms) {
                        Verdict::Pass => {
                            let charger = self.pipeline.normalize.charger().to_owned();
                            self.ctx
                                .router
                                .dead_letter(&charger, &rejected.raw, &rejected.error);
                        }
                        Verdict::Close(reason) => return Err(reason),
                        _ => {}
                    }
                }
                Err(error) => {
                    let code = CloseReason::ProtocolError.code();
                    tracing::warn!(conn = self.conn_id, kind = error.kind(), code, %error, "stream corrupt");
                    return Err(CloseReason::ProtocolError);
                }
            }
        }
    }

    /// Counts and logs a frame of at least `len` bytes above `limits.max_frame_bytes`; the connection closes.
    fn frame_too_long(&self, len: usize) -> CloseReason {
        let max = self.ctx.config.max_frame_bytes;
        let error = chargegate_codec::plugin::FrameError::TooLong { len, max };
        self.ctx.observer.decode_error(&error);
        let reason = CloseReason::FrameTooLong;
        tracing::warn!(
            conn = self.conn_id,
            charger = self.pipeline.normalize.charger(),
            kind = error.kind(),
            code = reason.code(),
            len,
            max,
            "frame longer than limits.max_frame_bytes; closing"
        );
        reason
    }

    /// Runs a frame through the pipeline layers; its observations, or `Err` when a layer stopped it (with the
    /// reason to close, if any).
    fn inbound(
        &mut self,
        frame: &mut DecodedFrame,
        now: Now,
    ) -> Result<Vec<Observation>, Option<CloseReason>> {
        match self.pipeline.inbound(frame, now.mono_ms) {
            Step::Continue(observations) => Ok(observations),
            Step::Dropped { layer, reason } => {
                tracing::debug!(conn = self.conn_id, layer, reason, "frame dropped");
                Err(None)
            }
            Step::Refuse => Err(match self.conn.refuse_unauthenticated(frame) {
                Refusal::Close => Some(CloseReason::ProtocolError),
                Refusal::Reply(bytes) => {
                    self.send(bytes, WriteClass::Critical, Outbound::Refusal);
                    None
                }
            }),
            Step::Close(reason) => Err(Some(reason)),
        }
    }

    /// A frame that needs no await (see [`needs_await`]): layers, events, correlation, the immediate reply.
    fn frame_now(&mut self, mut frame: DecodedFrame, now: Now) -> Option<CloseReason> {
        let observations = match self.inbound(&mut frame, now) {
            Ok(observations) => observations,
            Err(reason) => return reason,
        };
        // Billing receivers are only awaited for a billing ack, which goes the other way.
        drop(self.deliver(&frame, observations, now.wall_ms));
        if let ReplyPlan::Immediate(bytes) = &frame.reply {
            self.send(bytes.clone(), WriteClass::Normal, Outbound::Reply);
        }
        None
    }

    /// A login or a frame whose reply waits for its events to be stored upstream.
    async fn frame(&mut self, mut frame: DecodedFrame) -> Option<CloseReason> {
        let now = Now::read(&self.ctx.clock);
        let observations = match self.inbound(&mut frame, now) {
            Ok(observations) => observations,
            Err(reason) => return reason,
        };
        if frame.login.is_some() {
            // Boxed: the login's await (the authenticator) is dead after login and must not size every
            // connection's future for life. The login's events are stamped after it, with the identity and
            // the codec version the rollout picked.
            if let Some(reason) = Box::pin(self.login(&frame)).await {
                return Some(reason);
            }
        }
        let upstream = self.deliver(&frame, observations, now.wall_ms);
        match &frame.reply {
            ReplyPlan::Immediate(bytes) => {
                self.send(bytes.clone(), WriteClass::Normal, Outbound::Reply);
            }
            ReplyPlan::Deferred(d) if d.kind == DeferredKind::BillingAck => {
                let outcome = if Box::pin(upstream_stored(upstream)).await {
                    ReplyOutcome::Accepted
                } else {
                    ReplyOutcome::Rejected
                };
                if let Ok(Some(bytes)) = self.conn.deferred_reply(d, outcome) {
                    self.send(bytes, WriteClass::Critical, Outbound::BillingAck);
                }
            }
            ReplyPlan::Deferred(_) | ReplyPlan::None => {}
        }
        None
    }

    /// Mirrors the frame's protocol text, completes the command it answers, and stamps (at `ts_ms`) and routes
    /// its events one by one; the receivers of billing events' upstream confirmations.
    fn deliver(
        &mut self,
        frame: &DecodedFrame,
        mut observations: Vec<Observation>,
        ts_ms: u64,
    ) -> Vec<tokio::sync::oneshot::Receiver<bool>> {
        if let Some(text) = self.conn.message_text(frame) {
            let charger = self.pipeline.normalize.charger();
            if !charger.is_empty() && self.pipeline.auth.state() == AuthState::Authenticated {
                self.ctx.router.protocol_message(charger, text);
            }
        }
        if let (Some(key), Some(commands)) = (&frame.correlation, &mut self.commands) {
            let (answered, next) = commands.correlator.on_reply(key);
            if let Some(in_flight) = answered {
                let result = self.conn.command_result(&in_flight.queued.command, frame);
                in_flight.complete(result);
            }
            if let Some(bytes) = next {
                self.send(bytes, WriteClass::Normal, Outbound::Command);
            }
        }
        if let Some(session) = &self.session {
            session.set_charging(self.pipeline.liveness.is_charging());
        }
        let mut upstream = Vec::new();
        // By reference: moving each ~300-byte observation out of the list was a `memmove` per event (3 % of a
        // worker at 150k frames/s); only an event that needs an owned copy takes its observation.
        for obs in &mut observations {
            let delivery = if self.ctx.router.takes_view(&obs.body) {
                let view = self.pipeline.normalize.view(obs, ts_ms);
                self.ctx.router.route_view(&view)
            } else {
                let obs = std::mem::replace(obs, Observation::empty());
                let event = self.pipeline.normalize.stamp_one(obs, ts_ms);
                self.ctx.router.route(event)
            };
            if let Delivery::Upstream(rx) = delivery {
                upstream.push(rx);
            }
        }
        upstream
    }

    /// Authenticates, answers the login, registers the session (taking over an older one), switches to the
    /// codec version the rollout picks for this charger, and delivers pending commands.
    async fn login(&mut self, frame: &DecodedFrame) -> Option<CloseReason> {
        let login = frame.login.as_ref()?;
        let decision = self.ctx.auth.verify(login, self.ctx.codec_name).await;
        self.pipeline.auth.decide(&decision);
        let outcome = if decision.is_accepted() {
            ReplyOutcome::Accepted
        } else {
            ReplyOutcome::Rejected
        };
        // Rendered by the codec version that decoded the login; sent once the session is registered, so a charger
        // that has its login reply is already online for the REST API and for commands (the reply is written at
        // once when the socket takes it).
        let reply = match &frame.reply {
            ReplyPlan::Deferred(d) if d.kind == DeferredKind::Login => {
                self.conn.deferred_reply(d, outcome).ok().flatten()
            }
            _ => None,
        };
        if let AuthDecision::Refused(label) = decision {
            self.ctx.observer.auth_failure(label);
        }
        let AuthDecision::Accepted { station } = decision else {
            if let Some(bytes) = reply {
                self.send(bytes, WriteClass::Critical, Outbound::LoginReply);
            }
            tracing::info!(conn = self.conn_id, charger = %login.charger_id, ?decision, "login refused");
            return Some(CloseReason::AuthFailed);
        };
        // One allocation for the id, shared by the event stamper, the session metadata and the registry's key.
        let charger: Arc<str> = Arc::from(login.charger_id.as_str());
        self.pipeline.normalize.set_charger(Arc::clone(&charger));
        if let Some(selected) = self
            .ctx
            .codecs
            .select(self.ctx.codec_name, &login.charger_id)
        {
            if codec_id(&selected) != self.codec_id {
                tracing::info!(charger = %login.charger_id, version = selected.version(), "rollout: switching codec version");
                self.conn = selected.connect();
                self.pipeline.normalize.set_protocol(selected.protocol());
                self.codec_id = codec_id(&selected);
            }
        }
        if let Some(protocol) = self.conn.protocol() {
            self.pipeline.normalize.set_protocol(protocol);
        }
        if let Some(old) = self.session.take() {
            self.ctx.sessions.logout(&old.charger, self.conn_id);
        }
        let meta = SessionMeta::new(
            charger,
            self.ctx.codec_name,
            self.pipeline.normalize.protocol(),
            station,
            self.ctx.config.worker,
            wall_clock_ms(),
        );
        let meta = Arc::new(meta);
        let handle = SessionHandle {
            conn_id: self.conn_id,
            control: self.control.sender(),
            meta: Arc::clone(&meta),
        };
        self.ctx.sessions.login(handle);
        self.session = Some(meta);
        if let Some(bytes) = reply {
            self.send(bytes, WriteClass::Critical, Outbound::LoginReply);
        }
        None
    }

    fn command(&mut self, queued: QueuedCommand) {
        if !queued.is_wanted(Instant::now()) {
            return queued.answer(chargegate_codec::event::CommandStatus::Timeout);
        }
        if !self.outbox.gauge().is_writable() {
            return queued.answer(chargegate_codec::event::CommandStatus::Busy);
        }
        let charger = self.pipeline.normalize.charger().to_owned();
        let encoded = match self.conn.encode_command(&charger, &queued.command) {
            Ok(encoded) => encoded,
            Err(error) => {
                let status = match error {
                    chargegate_codec::plugin::PluginError::Unsupported { .. } => {
                        chargegate_codec::event::CommandStatus::NotSupported
                    }
                    _ => chargegate_codec::event::CommandStatus::Failed,
                };
                let mut result = result_of(&queued.command, status);
                result.detail = serde_json::json!({ "error": error.to_string() });
                let _ = queued.reply.send(result);
                return;
            }
        };
        let commands = self.commands.get_or_insert_with(Box::default);
        if let Submit::Write(bytes) = commands.correlator.submit(encoded, queued) {
            self.send(bytes, WriteClass::Normal, Outbound::Command);
        }
    }

    /// Queues `bytes` through the water marks, writes what the socket takes right away, and reports the frame
    /// and any mark crossing. What the socket does not take is written when the task next polls.
    fn send(&mut self, bytes: bytes::Bytes, class: WriteClass, what: Outbound) {
        if let Ok(written) = self.outbox.send(bytes, class, &mut self.io) {
            self.ctx.observer.frame_out(what);
            if written.is_err() {
                self.outbox.failed = true;
            }
        }
        self.report_water_marks();
    }

    /// Reports the gauge's transitions since the last report: odd ones turned unwritable, even ones writable.
    fn report_water_marks(&mut self) {
        // Truncated on purpose: compared by wrapping difference, never by order.
        let now = self.outbox.gauge().transitions() as u32;
        while self.outbox.reported_transitions != now {
            let seen = self.outbox.reported_transitions.wrapping_add(1);
            self.outbox.reported_transitions = seen;
            self.ctx.observer.water_mark(seen % 2 == 1);
        }
    }

    /// Answers what is left, leaves the registry and emits `offline` (stamped `detected_ms` when the liveness
    /// wheel found the silence, else now).
    fn finish(&mut self, reason: CloseReason, detected_ms: Option<u64>) {
        let charger = self.pipeline.normalize.charger();
        if reason.is_defensive() {
            tracing::warn!(
                conn = self.conn_id,
                charger,
                reason = reason.as_str(),
                code = reason.code(),
                "connection cut"
            );
        } else {
            tracing::debug!(
                conn = self.conn_id,
                charger,
                reason = reason.as_str(),
                code = reason.code(),
                "connection closed"
            );
        }
        if let Some(commands) = &mut self.commands {
            commands.correlator.fail_all();
        }
        self.report_water_marks();
        self.ctx.observer.closed(reason);
        let Some(session) = self.session.take() else {
            return;
        };
        self.ctx.sessions.logout(&session.charger, self.conn_id);
        let offline = Observation::charger(
            &*session.charger,
            EventBody::Offline(OfflineData {
                reason: reason.as_str().to_owned(),
            }),
        );
        for event in self
            .pipeline
            .normalize
            .stamp(vec![offline], detected_ms.unwrap_or_else(wall_clock_ms))
        {
            self.ctx.router.route(event);
        }
    }
}

/// The two clocks a frame is handled at: the worker's monotonic milliseconds (liveness, rate limits) and the wall
/// clock for event timestamps.
#[derive(Debug, Clone, Copy)]
struct Now {
    mono_ms: u64,
    wall_ms: u64,
}

impl Now {
    fn read(clock: &WorkerClock) -> Self {
        Now {
            mono_ms: clock.now_ms(),
            wall_ms: wall_clock_ms(),
        }
    }
}

/// Whether handling `frame` awaits something: a login (the authenticator, session registration) or a billing
/// record whose ack waits until its events are stored upstream.
fn needs_await(frame: &DecodedFrame) -> bool {
    frame.login.is_some()
        || matches!(&frame.reply, ReplyPlan::Deferred(d) if d.kind == DeferredKind::BillingAck)
}

/// A registered codec version's identity: the address of its registry entry.
fn codec_id(codec: &Arc<dyn VendorCodec>) -> usize {
    Arc::as_ptr(codec).cast::<()>() as usize
}

/// Whether upstream confirmed every billing event within [`UPSTREAM_ACK_TIMEOUT`] (boxed by the caller: it is the
/// largest await of a frame and rare).
async fn upstream_stored(upstream: Vec<tokio::sync::oneshot::Receiver<bool>>) -> bool {
    let mut stored = true;
    for rx in upstream {
        let ok = tokio::time::timeout(UPSTREAM_ACK_TIMEOUT, rx).await;
        stored &= matches!(ok, Ok(Ok(true)));
    }
    stored
}

#[cfg(test)]
mod tests;

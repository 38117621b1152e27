//! A hand-written JSON renderer for [`Event`], byte-identical to `serde_json::to_writer(&event)`.
//!
//! Why: the JSON-lines sink renders every event (300k/s at 150k 0x13 frames/s), and serde's path for the event's
//! flattened, adjacently tagged shape costs a map serializer per event plus an escape scan of every key. Here the
//! keys are literals, written through room reserved ahead ([`Line`]) with fixed-size copies; integers and the
//! short decimals meters report are written digit by digit in place (anything else through `zmij`, as serde_json
//! does); a string is copied as is when it holds nothing to escape (the common case: charger ids, hex codes,
//! gateway names). Only a string that needs escaping, and the kinds that are rare or carry free-form JSON (`bms`,
//! sessions, `transaction`, `notice`, `command_result`), go through serde_json. `json_tests` proves the bytes
//! equal serde's for every kind, including strings that need escaping, strings of every length, and non-finite
//! numbers.

use super::fixed::{copy_short, decimal, four_digits, hex};
use super::view::{EventView, IdView};
use super::{
    AlarmData, AuthorizeData, ConnectorStatus, Event, EventBody, EventId, HeartbeatData, MeterData,
    OfflineData, OnlineData, RawData, StatusData,
};

impl Event {
    /// Appends the event's JSON (no newline) to `out`; the bytes equal `serde_json::to_writer(out, self)`. On error
    /// (only possible from serde for the rare kinds) `out` may hold a partial document: the caller truncates.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        self.view().write_json(out)
    }
}

impl EventView<'_> {
    /// Appends the JSON of the event this view stands for (no newline) to `out`: the same bytes as
    /// `serde_json::to_writer` of that [`Event`]. On error (only possible from serde for the rare kinds) `out` may
    /// hold a partial document: the caller truncates.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        self.render(&mut Line::new(out))
    }

    /// Writes the same JSON as [`write_json`](Self::write_json) at `at` in `out`, over whatever bytes are there
    /// (`out` grows when it is too short), and returns where the JSON ends; the bytes after it are left as they
    /// were. For a buffer that is reused at its full length with a length of its own kept beside it: appending
    /// zeroes the room ahead of each event, which this needs only when `out` grows. On error the bytes from `at`
    /// on mean nothing.
    pub fn write_json_at(&self, out: &mut Vec<u8>, at: usize) -> Result<usize, serde_json::Error> {
        let mut w = Line::at(out, at);
        self.render(&mut w)?;
        Ok(w.at)
    }

    fn render(&self, w: &mut Line<'_>) -> Result<(), serde_json::Error> {
        w.put(b"{\"v\":");
        w.uint(u64::from(self.v));
        w.put(b",\"id\":");
        match self.id {
            // Event ids are `{gw}-{hex}-{decimal}`: the instance name's characters are checked like any string's.
            IdView::Id(id) => w.string(id)?,
            IdView::Parts { conn, seq } => {
                if !self.names_plain && needs_escape(self.gw.as_bytes()) {
                    w.serde(&*EventId::compose(self.gw, conn, seq))?;
                } else {
                    w.byte(b'"');
                    w.put_short(self.gw.as_bytes());
                    w.byte(b'-');
                    w.hex(conn);
                    w.byte(b'-');
                    w.uint(seq);
                    w.byte(b'"');
                }
            }
        }
        w.put(b",\"ts\":");
        w.uint(self.ts);
        w.put(b",\"charger\":");
        w.name(self.charger, self.names_plain)?;
        if let Some(c) = self.connector {
            w.put(b",\"connector\":");
            w.uint(u64::from(c));
        }
        w.put(b",\"protocol\":");
        w.name(self.protocol, self.names_plain)?;
        w.put(b",\"kind\":\"");
        // Kind names are ASCII identifiers: nothing to escape.
        w.put_short(self.body.kind().as_bytes());
        w.put(b"\",\"data\":");
        body(w, self.body)?;
        w.put(b",\"gw\":");
        w.name(self.gw, self.names_plain)?;
        w.byte(b'}');
        Ok(())
    }
}

/// The `data` object of each kind.
fn body(w: &mut Line<'_>, body: &EventBody) -> Result<(), serde_json::Error> {
    match body {
        EventBody::Meter(m) => meter(w, m),
        EventBody::Status(s) => status(w, s),
        EventBody::Heartbeat(h) => heartbeat(w, h),
        EventBody::Online(o) => online(w, o),
        EventBody::Offline(o) => offline(w, o),
        EventBody::Alarm(a) => alarm(w, a),
        EventBody::Authorize(a) => authorize(w, a),
        EventBody::Raw(r) => raw(w, r),
        EventBody::Bms(d) => w.serde(d),
        EventBody::SessionStarted(d) => w.serde(d),
        EventBody::SessionStopped(d) => w.serde(d),
        EventBody::Transaction(d) => w.serde(d),
        EventBody::Notice(d) => w.serde(d),
        EventBody::CommandResult(d) => w.serde(d),
    }
}

/// Room zeroed ahead of the write position each time the line grows: more than a status or meter event needs,
/// so those never grow mid-event.
const AHEAD: usize = 512;

/// Appends to a `Vec<u8>` through room zeroed ahead of the write position: a write is one bounds check and a copy
/// into that room — a fixed-size copy for literals and numbers, which the compiler turns into a few moves — where
/// `Vec::extend_from_slice` costs a capacity check and a call to `memmove` per piece (~25 pieces per event: ~45 %
/// of a connection worker's instructions at 150k frames/s went to rendering before). Dropping the line cuts the
/// vector back to what was written.
struct Line<'a> {
    out: &'a mut Vec<u8>,
    at: usize,
    spare: [u8; SLOT],
    /// Whether dropping the line cuts `out` back to what was written (appending), or leaves its length
    /// ([`EventView::write_json_at`]).
    truncate: bool,
}

/// The most one fixed-size write covers: a number's text, a short string.
const SLOT: usize = 32;

impl<'a> Line<'a> {
    /// A line appended to `out`, which dropping the line cuts back to what was written.
    fn new(out: &'a mut Vec<u8>) -> Self {
        let at = out.len();
        let mut line = Self::at(out, at);
        line.truncate = true;
        line
    }

    /// A line written at `at`, over what `out` holds there; only room `out` lacks is zeroed.
    fn at(out: &'a mut Vec<u8>, at: usize) -> Self {
        if out.len() < at + AHEAD {
            out.resize(at + AHEAD, 0);
        }
        Line {
            out,
            at,
            spare: [0; SLOT],
            truncate: false,
        }
    }

    /// The [`SLOT`] bytes at the write position (growing the room when needed); the position does not move.
    #[inline(always)]
    fn slot(&mut self) -> &mut [u8; SLOT] {
        if self.out.len() < self.at + SLOT {
            self.grow(SLOT);
        }
        match self
            .out
            .get_mut(self.at..)
            .and_then(|rest| rest.first_chunk_mut::<SLOT>())
        {
            Some(slot) => slot,
            // `grow` made the room, so this is not reached; writing nowhere keeps the function total.
            None => &mut self.spare,
        }
    }

    #[cold]
    fn grow(&mut self, n: usize) {
        self.out.resize(self.at + n.max(AHEAD), 0);
    }

    /// Appends `bytes`: meant for literals (a fixed-size copy once inlined).
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        match self.out.get_mut(self.at..end) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => {
                self.grow(bytes.len());
                if let Some(dst) = self.out.get_mut(self.at..end) {
                    dst.copy_from_slice(bytes);
                }
            }
        }
        self.at = end;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.slot()[0] = b;
        self.at += 1;
    }

    /// Appends `bytes` of any length: up to 32 bytes as overlapping fixed-size copies (no `memmove` call for the
    /// ids, names and codes every event carries), longer ones as one copy.
    #[inline(always)]
    fn put_short(&mut self, bytes: &[u8]) {
        if bytes.len() > SLOT {
            return self.put(bytes);
        }
        copy_short(self.slot(), bytes);
        self.at += bytes.len();
    }

    /// `s` between quotes, as it is (the caller checked it needs no escaping).
    #[inline(always)]
    fn quoted(&mut self, s: &[u8]) {
        let n = s.len();
        if n > SLOT - 2 {
            self.byte(b'"');
            self.put(s);
            self.byte(b'"');
            return;
        }
        let dst = self.slot();
        dst[0] = b'"';
        if let Some(body) = dst
            .get_mut(1..)
            .and_then(|b| b.first_chunk_mut::<{ SLOT - 2 }>())
        {
            copy_short(body, s);
        }
        if let Some(q) = dst.get_mut(n + 1) {
            *q = b'"';
        }
        self.at += n + 2;
    }

    /// A JSON string: copied between quotes when it holds no `"`, `\` or control character (what serde_json
    /// escapes), else rendered by serde_json.
    fn string(&mut self, s: &str) -> Result<(), serde_json::Error> {
        if needs_escape(s.as_bytes()) {
            return self.serde(s);
        }
        self.quoted(s.as_bytes());
        Ok(())
    }

    /// One of the connection's names: copied as it is when known to need no escaping, else as [`Line::string`].
    #[inline(always)]
    fn name(&mut self, s: &str, plain: bool) -> Result<(), serde_json::Error> {
        if plain {
            self.quoted(s.as_bytes());
            Ok(())
        } else {
            self.string(s)
        }
    }

    /// An unsigned integer in lower-case hex.
    #[inline(always)]
    fn hex(&mut self, v: u64) {
        let n = hex(self.slot(), 0, v);
        self.at += n;
    }

    /// An unsigned integer as serde_json writes it.
    #[inline(always)]
    fn uint(&mut self, v: u64) {
        let n = decimal(self.slot(), 0, v);
        self.at += n;
    }

    /// An integer as serde_json writes it.
    fn int<I: itoa::Integer + TryInto<u64>>(&mut self, v: I) {
        match v.try_into() {
            Ok(u) => self.uint(u),
            Err(_) => self.put(itoa::Buffer::new().format(v).as_bytes()),
        }
    }

    /// A float as serde_json writes it: shortest round-trip digits (`zmij`, as serde_json 1.0.154), `null` when
    /// not finite.
    fn float(&mut self, v: f64) {
        let n = short_decimal(self.slot(), v);
        if n > 0 {
            self.at += n;
        } else if v.is_finite() {
            self.put(zmij::Buffer::new().format_finite(v).as_bytes());
        } else {
            self.put(b"null");
        }
    }

    /// A value serde renders (the rare kinds, vectors of structs, strings that need escaping).
    fn serde<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> Result<(), serde_json::Error> {
        self.out.truncate(self.at);
        let r = serde_json::to_writer(&mut *self.out, v);
        self.at = self.out.len();
        self.out.resize(self.at + AHEAD, 0);
        r
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if self.truncate {
            self.out.truncate(self.at);
        }
    }
}

/// Writes the `{…}` of an object: each present field is written with a comma in front, and the first comma is
/// turned into the `{` at the end (no "is this the first field" test per field).
struct Object {
    start: usize,
}

/// A field's `,"name":` as one literal.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":").as_bytes()
    };
}

impl Object {
    fn new(w: &mut Line<'_>) -> Self {
        Object { start: w.at }
    }

    #[inline(always)]
    fn str(w: &mut Line<'_>, key: &[u8], v: &str) -> Result<(), serde_json::Error> {
        w.put(key);
        w.string(v)
    }

    #[inline(always)]
    fn opt_str(w: &mut Line<'_>, key: &[u8], v: Option<&String>) -> Result<(), serde_json::Error> {
        match v {
            Some(v) => Self::str(w, key, v),
            None => Ok(()),
        }
    }

    #[inline(always)]
    fn opt_f64(w: &mut Line<'_>, key: &[u8], v: Option<f64>) {
        if let Some(v) = v {
            w.put(key);
            w.float(v);
        }
    }

    #[inline(always)]
    fn opt_int<I: itoa::Integer + TryInto<u64>>(w: &mut Line<'_>, key: &[u8], v: Option<I>) {
        if let Some(v) = v {
            w.put(key);
            w.int(v);
        }
    }

    #[inline(always)]
    fn bool(w: &mut Line<'_>, key: &[u8], v: bool) {
        w.put(key);
        if v {
            w.put(b"true");
        } else {
            w.put(b"false");
        }
    }

    #[inline(always)]
    fn opt_bool(w: &mut Line<'_>, key: &[u8], v: Option<bool>) {
        if let Some(v) = v {
            Self::bool(w, key, v);
        }
    }

    /// A value serde renders (vectors of structs).
    fn serde<T: serde::Serialize>(
        w: &mut Line<'_>,
        key: &[u8],
        v: &T,
    ) -> Result<(), serde_json::Error> {
        w.put(key);
        w.serde(v)
    }

    fn end(self, w: &mut Line<'_>) -> Result<(), serde_json::Error> {
        if w.at == self.start {
            w.put(b"{}");
        } else {
            if let Some(comma) = w.out.get_mut(self.start) {
                *comma = b'{';
            }
            w.byte(b'}');
        }
        Ok(())
    }
}

fn meter(w: &mut Line<'_>, m: &MeterData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::opt_str(w, key!("transaction_id"), m.transaction_id.as_ref())?;
    Object::opt_f64(w, key!("voltage_v"), m.voltage_v);
    Object::opt_f64(w, key!("current_a"), m.current_a);
    Object::opt_f64(w, key!("power_kw"), m.power_kw);
    Object::opt_f64(w, key!("energy_kwh"), m.energy_kwh);
    if m.energy_is_register {
        Object::bool(w, key!("energy_is_register"), true);
    }
    Object::opt_f64(w, key!("soc_pct"), m.soc_pct);
    Object::opt_f64(
        w,
        key!("connector_temperature_c"),
        m.connector_temperature_c,
    );
    Object::opt_f64(
        w,
        key!("battery_temperature_max_c"),
        m.battery_temperature_max_c,
    );
    Object::opt_int(w, key!("elapsed_min"), m.elapsed_min);
    Object::opt_int(w, key!("remaining_min"), m.remaining_min);
    Object::opt_f64(w, key!("amount"), m.amount);
    if !m.phases.is_empty() {
        Object::serde(w, key!("phases"), &m.phases)?;
    }
    if !m.readings.is_empty() {
        Object::serde(w, key!("readings"), &m.readings)?;
    }
    Object::opt_str(w, key!("sampled_at"), m.sampled_at.as_ref())?;
    o.end(w)
}

fn status(w: &mut Line<'_>, s: &StatusData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    w.put(key!("status"));
    w.quoted(connector_status(s.status).as_bytes());
    Object::str(w, key!("vendor_status"), &s.vendor_status)?;
    Object::opt_bool(w, key!("plugged"), s.plugged);
    Object::opt_bool(w, key!("gun_returned"), s.gun_returned);
    if !s.errors.is_empty() {
        w.put(key!("errors"));
        w.byte(b'[');
        for (i, e) in s.errors.iter().enumerate() {
            if i > 0 {
                w.byte(b',');
            }
            w.string(e)?;
        }
        w.byte(b']');
    }
    Object::opt_str(w, key!("info"), s.info.as_ref())?;
    o.end(w)
}

/// The serde name of a connector status (`rename_all = "snake_case"`).
fn connector_status(s: ConnectorStatus) -> &'static str {
    match s {
        ConnectorStatus::Available => "available",
        ConnectorStatus::Preparing => "preparing",
        ConnectorStatus::Charging => "charging",
        ConnectorStatus::SuspendedEv => "suspended_ev",
        ConnectorStatus::SuspendedEvse => "suspended_evse",
        ConnectorStatus::Finishing => "finishing",
        ConnectorStatus::Reserved => "reserved",
        ConnectorStatus::Unavailable => "unavailable",
        ConnectorStatus::Faulted => "faulted",
        ConnectorStatus::Offline => "offline",
    }
}

fn heartbeat(w: &mut Line<'_>, h: &HeartbeatData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::opt_bool(w, key!("fault"), h.fault);
    o.end(w)
}

fn online(w: &mut Line<'_>, d: &OnlineData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::opt_str(w, key!("protocol_version"), d.protocol_version.as_ref())?;
    Object::opt_str(w, key!("vendor"), d.vendor.as_ref())?;
    Object::opt_str(w, key!("model"), d.model.as_ref())?;
    Object::opt_str(w, key!("serial"), d.serial.as_ref())?;
    Object::opt_str(w, key!("firmware"), d.firmware.as_ref())?;
    Object::opt_str(w, key!("current_type"), d.current_type.as_ref())?;
    Object::opt_int(w, key!("connectors"), d.connectors);
    Object::opt_str(w, key!("network"), d.network.as_ref())?;
    Object::opt_str(w, key!("iccid"), d.iccid.as_ref())?;
    Object::opt_int(w, key!("operator_code"), d.operator_code);
    o.end(w)
}

fn offline(w: &mut Line<'_>, d: &OfflineData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::str(w, key!("reason"), &d.reason)?;
    o.end(w)
}

fn alarm(w: &mut Line<'_>, d: &AlarmData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::str(w, key!("code"), &d.code)?;
    Object::str(w, key!("severity"), &d.severity)?;
    Object::str(w, key!("text"), &d.text)?;
    Object::bool(w, key!("active"), d.active);
    o.end(w)
}

fn authorize(w: &mut Line<'_>, d: &AuthorizeData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::str(w, key!("method"), &d.method)?;
    Object::str(w, key!("id"), &d.id)?;
    Object::bool(w, key!("password_supplied"), d.password_supplied);
    o.end(w)
}

fn raw(w: &mut Line<'_>, d: &RawData) -> Result<(), serde_json::Error> {
    let o = Object::new(w);
    Object::str(w, key!("message_type"), &d.message_type)?;
    Object::str(w, key!("hex"), &d.hex)?;
    o.end(w)
}

/// An integer as serde_json writes it, appended to `out`.
#[cfg(test)]
fn int<I: itoa::Integer + TryInto<u64>>(out: &mut Vec<u8>, v: I) {
    Line::new(out).int(v);
}

/// A float as serde_json writes it, appended to `out` (what `json_tests` checks against `zmij`).
#[cfg(test)]
pub(super) fn float(out: &mut Vec<u8>, v: f64) {
    Line::new(out).float(v);
}

/// [`short_decimal`] handles magnitudes below this (scaled by 10^4): far from where the shortest form turns to
/// exponents, and small enough that one double's neighbours are much closer than 10^-4, so the decimal found is
/// the only one.
const SHORT_LIMIT: f64 = (1u64 << 40) as f64;
/// 10^4: [`short_decimal`] writes at most four fractional digits.
const SHORT_SCALE: u64 = 10_000;

/// The fast path of [`Line::float`] for what meters report: a value that is exactly the double nearest some
/// decimal with at most four fractional digits (380.5, 12.25, 0.001, 42.0, 1.2345 kWh — YKC's energy and amount
/// resolution), written at the front of `text` — the same bytes as the shortest round-trip form (`json_tests`
/// checks it against `zmij`), without its general algorithm. The number of bytes written; 0 (nothing written) for
/// anything else.
///
/// Every division is by a constant (a multiplication), and the fraction is always written as four digits of which
/// only the significant ones are kept: a division by a power of ten chosen at run time was a hardware divide, and
/// with the digit loops most of the float's time.
fn short_decimal(text: &mut [u8; SLOT], v: f64) -> usize {
    let mag = v.abs();
    // Also true for NaN. Below 2^40 the casts to i64 are exact truncations (and cheaper than casts to u64).
    if mag.is_nan() || mag >= SHORT_LIMIT {
        return 0;
    }
    let whole = mag as i64;
    let (int, frac, digits) = if whole as f64 == mag {
        // Integers (and zero): the digits and `.0`.
        (whole as u64, 0, 0)
    } else {
        // If mag is the double nearest some n / 10^d (d ≤ 4), then mag · 10^4 is n · 10^(4-d) to within a few
        // units in its last place, far below 0.5: the nearest integer is that, and one further than a hair from
        // it is no such decimal. The cast truncates (scaled + 0.5 ≥ 0 and < 2^40 + 1): no libm `round` call.
        let scaled = mag * SHORT_SCALE as f64;
        if scaled < 1.0 {
            return 0;
        }
        let n = (scaled + 0.5) as i64 as u64;
        if (scaled - n as f64).abs() > scaled * 1e-12 {
            return 0;
        }
        let (int, frac) = (n / SHORT_SCALE, n % SHORT_SCALE);
        // Trailing zeros struck off give the fewest digits (two decimals with at most four digits cannot round to
        // one double this small: they differ by 10^-4, its neighbours by < 2^-12).
        // Each arm divides by its own constant: `frac / (SHORT_SCALE / scale)` would be a hardware divide again.
        let (digits, scale, kept) = if frac % 100 != 0 {
            if frac % 10 != 0 {
                (4, 10_000, frac)
            } else {
                (3, 1_000, frac / 10)
            }
        } else if frac % 1_000 != 0 {
            (2, 100, frac / 100)
        } else if frac != 0 {
            (1, 10, frac / 1_000)
        } else {
            // Within a hair of a whole number but not one (that was the branch above): not a short decimal.
            return 0;
        };
        // The decimal, parsed, must give back exactly this double (the division of two exact values is correctly
        // rounded, like parsing).
        let num = int * scale + kept;
        if num as f64 / scale as f64 != mag {
            return 0;
        }
        (int, frac, digits)
    };
    let mut at = 0;
    if v.is_sign_negative() {
        text[0] = b'-';
        at = 1;
    }
    // The integer part is below 2^40 (13 digits): with the sign, the point and four digits, 19 bytes.
    at = decimal(text, at, int);
    text[at] = b'.';
    at += 1;
    if digits == 0 {
        text[at] = b'0';
        at + 1
    } else {
        // All four places (the ones after the last significant digit are zeros), then only the significant ones.
        four_digits(text, at, frac);
        at + digits
    }
}

/// Whether serde_json would escape something in `s`: a `"`, `\` or control character. Eight bytes at a time (the
/// "has a zero byte" bit trick, once per class); a tail shorter than eight bytes is checked as the last eight
/// bytes (overlapping what was checked), and a string shorter than eight as two overlapping four-byte words: every
/// event has four or five short strings to check, and a byte loop over their tails was a tenth of rendering.
pub(super) fn needs_escape(s: &[u8]) -> bool {
    let n = s.len();
    if n >= 8 {
        let mut chunks = s.chunks_exact(8);
        for chunk in &mut chunks {
            if word_needs_escape(u64::from_le_bytes(word(chunk))) {
                return true;
            }
        }
        return !chunks.remainder().is_empty()
            && word_needs_escape(u64::from_le_bytes(word(s.get(n - 8..).unwrap_or_default())));
    }
    if n >= 4 {
        let head = u32::from_le_bytes(word(s.get(..4).unwrap_or_default()));
        let tail = u32::from_le_bytes(word(s.get(n - 4..).unwrap_or_default()));
        return word_needs_escape(u64::from(head) | u64::from(tail) << 32);
    }
    s.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

/// The first `N` bytes of `chunk` (zeros where it is shorter), to read as a word.
#[inline(always)]
fn word<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut word = [0u8; N];
    if let Some(bytes) = chunk.get(..N) {
        word.copy_from_slice(bytes);
    }
    word
}

/// Whether one of the eight bytes of `x` is a `"`, `\` or control character.
#[inline(always)]
fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// Some byte of `x` is zero.
    fn has_zero(x: u64) -> bool {
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    }
    // A control byte (< 0x20) is one whose top three bits are all zero.
    let control = has_zero(x & (0xE0 * ONES));
    let quote = has_zero(x ^ (u64::from(b'"') * ONES));
    let backslash = has_zero(x ^ (u64::from(b'\\') * ONES));
    control || quote || backslash
}

#[cfg(test)]
mod tests {
    use super::{int, needs_escape};

    #[test]
    fn integers_render_like_itoa_at_every_length() {
        let mut values = vec![0u64, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, next / 2]);
            p = next;
        }
        for v in values {
            let mut out = b"x".to_vec();
            int(&mut out, v);
            assert_eq!(&out[1..], itoa::Buffer::new().format(v).as_bytes(), "{v}");
        }
        let mut out = Vec::new();
        int(&mut out, -42i64);
        assert_eq!(out, b"-42");
    }

    #[test]
    fn the_word_at_a_time_escape_check_agrees_with_the_byte_check_at_every_position() {
        for special in [
            '"', '\\', '\u{0}', '\u{1f}', '\u{20}', '\u{7f}', 'é', '\n', 'A', '\u{9f}',
        ] {
            for len in 1..24 {
                for at in 0..len {
                    let s: String = (0..len)
                        .map(|i| if i == at { special } else { 'a' })
                        .collect();
                    let naive = s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
                    assert_eq!(needs_escape(s.as_bytes()), naive, "{s:?}");
                }
            }
        }
    }
}

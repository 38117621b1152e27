//! A hand-written JSON renderer for [`Event`], byte-identical to `serde_json::to_writer(&event)`.
//!
//! Why: the JSON-lines sink renders every event (300k/s at 150k 0x13 frames/s), and serde's path for the event's
//! flattened, adjacently tagged shape costs a map serializer per event plus an escape scan of every key. Here the
//! keys are literals, numbers go through the same `itoa`/`zmij` formatting serde_json uses, and a string is copied
//! as is when it holds nothing to escape (the common case: charger ids, hex codes, gateway names); only a string
//! that needs escaping, and the kinds that are rare or carry free-form JSON (`bms`, sessions, `transaction`,
//! `notice`, `command_result`), go through serde_json. `tests` (module `json_tests`) proves the bytes equal serde's
//! for every kind, including strings that need escaping and non-finite numbers.

use super::{
    AlarmData, AuthorizeData, ConnectorStatus, Event, EventBody, HeartbeatData, MeterData,
    OfflineData, OnlineData, RawData, StatusData,
};

impl Event {
    /// Appends the event's JSON (no newline) to `out`; the bytes equal `serde_json::to_writer(out, self)`. On error
    /// (only possible from serde for the rare kinds) `out` may hold a partial document: the caller truncates.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.extend_from_slice(b"{\"v\":");
        int(out, self.v);
        out.extend_from_slice(b",\"id\":");
        // Event ids are `{gw}-{hex}-{decimal}`: the instance name's characters are checked like any string's.
        match self.id.inline_parts() {
            _ if needs_escape(self.id.as_bytes()) => string(out, &self.id)?,
            Some((bytes, len)) => {
                out.push(b'"');
                let start = out.len();
                out.extend_from_slice(bytes);
                out.truncate(start + len);
                out.push(b'"');
            }
            None => quoted(out, self.id.as_bytes()),
        }
        out.extend_from_slice(b",\"ts\":");
        int(out, self.ts);
        out.extend_from_slice(b",\"charger\":");
        string(out, &self.charger)?;
        if let Some(c) = self.connector {
            out.extend_from_slice(b",\"connector\":");
            int(out, c);
        }
        out.extend_from_slice(b",\"protocol\":");
        string(out, &self.protocol)?;
        out.extend_from_slice(b",\"kind\":\"");
        // Kind names are ASCII identifiers: nothing to escape.
        out.extend_from_slice(self.body.kind().as_bytes());
        out.extend_from_slice(b"\",\"data\":");
        body(out, &self.body)?;
        out.extend_from_slice(b",\"gw\":");
        string(out, &self.gw)?;
        out.push(b'}');
        Ok(())
    }
}

/// The `data` object of each kind.
fn body(out: &mut Vec<u8>, body: &EventBody) -> Result<(), serde_json::Error> {
    match body {
        EventBody::Meter(m) => meter(out, m),
        EventBody::Status(s) => status(out, s),
        EventBody::Heartbeat(h) => heartbeat(out, h),
        EventBody::Online(o) => online(out, o),
        EventBody::Offline(o) => offline(out, o),
        EventBody::Alarm(a) => alarm(out, a),
        EventBody::Authorize(a) => authorize(out, a),
        EventBody::Raw(r) => raw(out, r),
        EventBody::Bms(d) => serde_json::to_writer(out, d),
        EventBody::SessionStarted(d) => serde_json::to_writer(out, d),
        EventBody::SessionStopped(d) => serde_json::to_writer(out, d),
        EventBody::Transaction(d) => serde_json::to_writer(out, d),
        EventBody::Notice(d) => serde_json::to_writer(out, d),
        EventBody::CommandResult(d) => serde_json::to_writer(out, d),
    }
}

/// Writes `{`, then each present field with a comma before all but the first, then `}`.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Writes the separator and `"key":`; `key` is a literal field name with nothing to escape.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn str(&mut self, key: &str, v: &str) -> Result<(), serde_json::Error> {
        string(self.key(key), v)
    }

    fn opt_str(&mut self, key: &str, v: Option<&String>) -> Result<(), serde_json::Error> {
        match v {
            Some(v) => self.str(key, v),
            None => Ok(()),
        }
    }

    fn opt_f64(&mut self, key: &str, v: Option<f64>) {
        if let Some(v) = v {
            float(self.key(key), v);
        }
    }

    fn opt_int<I: itoa::Integer + TryInto<u64>>(&mut self, key: &str, v: Option<I>) {
        if let Some(v) = v {
            int(self.key(key), v);
        }
    }

    fn bool(&mut self, key: &str, v: bool) {
        self.key(key)
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    fn opt_bool(&mut self, key: &str, v: Option<bool>) {
        if let Some(v) = v {
            self.bool(key, v);
        }
    }

    /// A value serde renders (vectors of structs).
    fn serde<T: serde::Serialize>(&mut self, key: &str, v: &T) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut *self.key(key), v)
    }

    fn end(self) -> Result<(), serde_json::Error> {
        self.out.push(b'}');
        Ok(())
    }
}

fn meter(out: &mut Vec<u8>, m: &MeterData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.opt_str("transaction_id", m.transaction_id.as_ref())?;
    o.opt_f64("voltage_v", m.voltage_v);
    o.opt_f64("current_a", m.current_a);
    o.opt_f64("power_kw", m.power_kw);
    o.opt_f64("energy_kwh", m.energy_kwh);
    if m.energy_is_register {
        o.bool("energy_is_register", true);
    }
    o.opt_f64("soc_pct", m.soc_pct);
    o.opt_f64("connector_temperature_c", m.connector_temperature_c);
    o.opt_f64("battery_temperature_max_c", m.battery_temperature_max_c);
    o.opt_int("elapsed_min", m.elapsed_min);
    o.opt_int("remaining_min", m.remaining_min);
    o.opt_f64("amount", m.amount);
    if !m.phases.is_empty() {
        o.serde("phases", &m.phases)?;
    }
    if !m.readings.is_empty() {
        o.serde("readings", &m.readings)?;
    }
    o.opt_str("sampled_at", m.sampled_at.as_ref())?;
    o.end()
}

fn status(out: &mut Vec<u8>, s: &StatusData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    let key = o.key("status");
    key.push(b'"');
    key.extend_from_slice(connector_status(s.status).as_bytes());
    key.push(b'"');
    o.str("vendor_status", &s.vendor_status)?;
    o.opt_bool("plugged", s.plugged);
    o.opt_bool("gun_returned", s.gun_returned);
    if !s.errors.is_empty() {
        let out = o.key("errors");
        out.push(b'[');
        for (i, e) in s.errors.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, e)?;
        }
        out.push(b']');
    }
    o.opt_str("info", s.info.as_ref())?;
    o.end()
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

fn heartbeat(out: &mut Vec<u8>, h: &HeartbeatData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.opt_bool("fault", h.fault);
    o.end()
}

fn online(out: &mut Vec<u8>, d: &OnlineData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.opt_str("protocol_version", d.protocol_version.as_ref())?;
    o.opt_str("vendor", d.vendor.as_ref())?;
    o.opt_str("model", d.model.as_ref())?;
    o.opt_str("serial", d.serial.as_ref())?;
    o.opt_str("firmware", d.firmware.as_ref())?;
    o.opt_str("current_type", d.current_type.as_ref())?;
    o.opt_int("connectors", d.connectors);
    o.opt_str("network", d.network.as_ref())?;
    o.opt_str("iccid", d.iccid.as_ref())?;
    o.opt_int("operator_code", d.operator_code);
    o.end()
}

fn offline(out: &mut Vec<u8>, d: &OfflineData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.str("reason", &d.reason)?;
    o.end()
}

fn alarm(out: &mut Vec<u8>, d: &AlarmData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.str("code", &d.code)?;
    o.str("severity", &d.severity)?;
    o.str("text", &d.text)?;
    o.bool("active", d.active);
    o.end()
}

fn authorize(out: &mut Vec<u8>, d: &AuthorizeData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.str("method", &d.method)?;
    o.str("id", &d.id)?;
    o.bool("password_supplied", d.password_supplied);
    o.end()
}

fn raw(out: &mut Vec<u8>, d: &RawData) -> Result<(), serde_json::Error> {
    let mut o = Object::new(out);
    o.str("message_type", &d.message_type)?;
    o.str("hex", &d.hex)?;
    o.end()
}

/// An integer as serde_json writes it.
fn int<I: itoa::Integer + TryInto<u64>>(out: &mut Vec<u8>, v: I) {
    match v.try_into() {
        Ok(u) => {
            let mut text = [0u8; SMALL];
            let len = digits(&mut text, 0, u);
            push_small(out, &text, len);
        }
        Err(_) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
    }
}

/// Room for the text of one number: a u64 has at most 20 digits, a short decimal (below 2^40 with three
/// fractional digits) at most 18 characters.
const SMALL: usize = 32;

/// Appends the first `len` bytes of `text` with one fixed-size copy and a truncation: for short, variable-length
/// text this beats a call to `memmove` per number (which was ~9 % of a connection worker at 150k frames/s).
fn push_small(out: &mut Vec<u8>, text: &[u8; SMALL], len: usize) {
    let start = out.len();
    out.extend_from_slice(text);
    out.truncate(start + len.min(SMALL));
}

/// Two decimal digits for every value below 100.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal into `text` from `at`; the index after the last digit (at most `at + 20`).
fn digits(text: &mut [u8; SMALL], at: usize, mut v: u64) -> usize {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    while v >= 100 {
        let pair = usize::try_from(v % 100).unwrap_or(0) * 2;
        v /= 100;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = usize::try_from(v).unwrap_or(0) * 2;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        tmp[i] = b'0' + v as u8;
    }
    let n = tmp.len() - i;
    let end = (at + n).min(SMALL);
    text[at..end].copy_from_slice(&tmp[i..i + (end - at)]);
    end
}

/// A float as serde_json writes it: shortest round-trip digits (`zmij`, as serde_json 1.0.154), `null` when not finite.
pub(super) fn float(out: &mut Vec<u8>, v: f64) {
    if short_decimal(out, v) {
        return;
    }
    if v.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Powers of ten for [`short_decimal`]'s fractional digits, as doubles and as integers.
const POW10: [(f64, u64); 4] = [(1.0, 1), (10.0, 10), (100.0, 100), (1000.0, 1000)];
/// [`short_decimal`] handles magnitudes below this (scaled): far from where the shortest form turns to exponents,
/// and small enough that one double's neighbours are much closer than 10^-d, so the decimal found is the only one.
const SHORT_LIMIT: f64 = (1u64 << 40) as f64;

/// The fast path of [`float`] for what meters report: a value that is exactly the double nearest some decimal
/// with at most three fractional digits (380.5, 12.25, 0.001, 42.0), written straight into `out` — the same bytes
/// as the shortest round-trip form (`json_tests` checks it against `zmij`), without its general algorithm.
/// `false` (nothing written) for anything else.
fn short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return true;
    }
    let mag = v.abs();
    if !(0.001..SHORT_LIMIT).contains(&mag) {
        return false;
    }
    for (d, &(pow, scale)) in POW10.iter().enumerate() {
        let scaled = mag * pow;
        if scaled >= SHORT_LIMIT {
            return false;
        }
        // The nearest integer is the truncation or the next one (scaled ≥ 0 and < 2^40, so both are exact as
        // doubles; a cast instead of `round`, which is a libm call). The decimal n / 10^d, parsed, must give back
        // exactly this double (the division of two exact values is correctly rounded, like parsing); the first d
        // for which it does has the fewest digits.
        let low = scaled as u64;
        let n = if low as f64 / pow == mag {
            low
        } else if (low + 1) as f64 / pow == mag {
            low + 1
        } else {
            continue;
        };
        let mut text = [0u8; SMALL];
        let mut at = 0;
        if v < 0.0 {
            text[0] = b'-';
            at = 1;
        }
        at = digits(&mut text, at, n / scale);
        text[at] = b'.';
        at += 1;
        if d == 0 {
            text[at] = b'0';
            at += 1;
        } else {
            let mut frac = n % scale;
            for slot in text[at..at + d].iter_mut().rev() {
                *slot = b'0' + (frac % 10) as u8;
                frac /= 10;
            }
            at += d;
        }
        push_small(out, &text, at);
        return true;
    }
    false
}

/// A JSON string: copied between quotes when it holds no `"`, `\` or control character (what serde_json
/// escapes), else rendered by serde_json.
fn string(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    if needs_escape(s.as_bytes()) {
        return serde_json::to_writer(out, s);
    }
    quoted(out, s.as_bytes());
    Ok(())
}

/// Whether serde_json would escape something in `s`: a `"`, `\` or control character. Eight bytes at a time (the
/// "has a zero byte" bit trick, once per class), the tail byte by byte: every event has five strings to check.
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// Some byte of `x` is zero.
    fn has_zero(x: u64) -> bool {
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    }
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // A control byte (< 0x20) is one whose top three bits are all zero.
        let control = has_zero(x & (0xE0 * ONES));
        let quote = has_zero(x ^ (u64::from(b'"') * ONES));
        let backslash = has_zero(x ^ (u64::from(b'\\') * ONES));
        if control || quote || backslash {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

/// `s` between quotes, as it is (the caller checked it needs no escaping).
fn quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s);
    out.push(b'"');
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

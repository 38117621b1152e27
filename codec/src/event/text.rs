//! The two string types of the event hot path: [`SharedStr`] for text that many events repeat (charger id,
//! protocol label, gateway name, vendor status codes) and [`EventId`] for the one string every event has of its
//! own.
//!
//! Why not `String`: at 150,000 frames/s a gateway stamps 300,000 events/s, and every `String` in an event was one
//! `malloc` on a connection worker and one `free` on the sink thread that renders it, the pair crossing threads
//! (glibc then takes the allocating arena's lock). A shared or static string costs a reference count or nothing;
//! an id short enough to sit inside the event costs nothing either. Both serialize as plain JSON strings, so the
//! event document is unchanged.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fixed::{copy_short, decimal, hex};

/// Immutable text shared between events: a `&'static str` (protocol labels, the gateway's name, code tables) or
/// one reference-counted copy (a connection's charger id). Reads like a `&str`; `From<&str>` copies, so text that
/// lives as long as the process is passed as [`SharedStr::Static`].
#[derive(Clone)]
pub enum SharedStr {
    /// Text that lives as long as the process.
    Static(&'static str),
    /// One heap copy, shared by reference count.
    Shared(Arc<str>),
}

impl SharedStr {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            SharedStr::Static(s) => s,
            SharedStr::Shared(s) => s,
        }
    }
}

/// `s` as text that lives as long as the process, leaked once per distinct value: for names fixed at start-up
/// (the gateway instance name) that every event carries, so events share them without even a reference count.
/// Each distinct value is leaked once, however often it is asked for.
pub fn interned(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(s) {
        return known;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

impl Default for SharedStr {
    fn default() -> Self {
        SharedStr::Static("")
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// A copy of `s` (use [`SharedStr::Static`] for text that lives as long as the process).
impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr::Shared(Arc::from(s))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr::Shared(Arc::from(s))
    }
}

impl From<&String> for SharedStr {
    fn from(s: &String) -> Self {
        SharedStr::Shared(Arc::from(s.as_str()))
    }
}

impl From<Arc<str>> for SharedStr {
    fn from(s: Arc<str>) -> Self {
        SharedStr::Shared(s)
    }
}

impl From<&Arc<str>> for SharedStr {
    fn from(s: &Arc<str>) -> Self {
        SharedStr::Shared(Arc::clone(s))
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> Self {
        s.as_str().to_owned()
    }
}

/// Equality, ordering and hashing are the text's, whatever the representation.
impl PartialEq for SharedStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SharedStr {}

impl std::hash::Hash for SharedStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SharedStr::from)
    }
}

/// Longest id kept inside the event; longer ones (a long gateway name) go to the heap.
const INLINE: usize = 38;

/// An event id (`{gw}-{connection}-{sequence}`, see `docs/events.md`): kept inside the event when it is at most
/// 38 bytes long (`chargegate-1f4a-123456789` is 25), else one heap copy. Reads like a `&str`.
#[derive(Clone)]
pub struct EventId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl EventId {
    /// Builds an id from its parts without formatting machinery: `prefix` (the gateway name), `-`, `conn` in
    /// lower-case hex, `-`, `seq` in decimal.
    pub fn compose(prefix: &str, conn: u64, seq: u64) -> EventId {
        // Room for a prefix of up to 32 bytes (one fixed-size copy), two dashes, 16 hex and 20 decimal digits.
        if prefix.len() > 32 {
            return EventId::compose_on_heap(prefix, conn, seq);
        }
        let mut bytes = [0u8; INLINE + 32];
        if let Some(front) = bytes.first_chunk_mut::<32>() {
            copy_short(front, prefix.as_bytes());
        }
        let mut w = prefix.len();
        bytes[w] = b'-';
        w = hex(&mut bytes, w + 1, conn);
        bytes[w] = b'-';
        w = decimal(&mut bytes, w + 1, seq);
        match bytes.first_chunk::<INLINE>() {
            Some(inline) if w <= INLINE => EventId(Repr::Inline {
                // w ≤ INLINE < 256.
                len: w as u8,
                bytes: *inline,
            }),
            _ => EventId::compose_on_heap(prefix, conn, seq),
        }
    }

    /// [`compose`](Self::compose) for an id too long to keep inside the event.
    #[cold]
    fn compose_on_heap(prefix: &str, conn: u64, seq: u64) -> EventId {
        EventId(Repr::Heap(
            format!("{prefix}-{conn:x}-{seq}").into_boxed_str(),
        ))
    }

    /// The id's bytes (UTF-8), without the check `as_str` makes: for renderers.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                // Only ever filled from whole `&str`s joined at char boundaries, so always UTF-8.
                std::str::from_utf8(bytes.get(..usize::from(*len)).unwrap_or_default())
                    .unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }
}

impl From<&str> for EventId {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            if let Some(dst) = bytes.get_mut(..s.len()) {
                dst.copy_from_slice(s.as_bytes());
            }
            EventId(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            EventId(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for EventId {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            EventId::from(s.as_str())
        } else {
            EventId(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for EventId {
    fn from(s: &String) -> Self {
        EventId::from(s.as_str())
    }
}

impl Default for EventId {
    fn default() -> Self {
        EventId::from("")
    }
}

impl Deref for EventId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for EventId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for EventId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for EventId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for EventId {}

impl std::hash::Hash for EventId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for EventId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for EventId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<EventId> for &str {
    fn eq(&self, other: &EventId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<EventId> for String {
    fn eq(&self, other: &EventId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(EventId::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_ids_match_the_documented_format_inline_and_on_the_heap() {
        let long = "a-gateway-name-longer-than-the-inline-room";
        for (gw, conn, seq) in [
            ("gw1", 0x2a, 1),
            ("gw-é", 0, 0),
            ("chargegate", u64::MAX, u64::MAX),
            (long, 0x10, 10),
            ("", 1, 2),
        ] {
            let id = EventId::compose(gw, conn, seq);
            assert_eq!(id.as_str(), format!("{gw}-{conn:x}-{seq}"));
        }
        assert!(matches!(
            EventId::compose("chargegate", 0x1f4a, 123_456_789).0,
            Repr::Inline { .. }
        ));
        assert!(matches!(EventId::compose(long, 1, 1).0, Repr::Heap(_)));
    }

    #[test]
    fn interning_returns_one_copy_per_distinct_name() {
        let a = interned("gw-interned-test");
        let b = interned(&String::from("gw-interned-test"));
        assert_eq!(a, "gw-interned-test");
        assert!(std::ptr::eq(a, b));
        assert_ne!(interned("gw-interned-other"), a);
    }

    #[test]
    fn ids_and_shared_text_serialize_as_plain_strings_and_read_back_equal() {
        let id = EventId::from("gw-1-2");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"gw-1-2\"");
        let back: EventId = serde_json::from_str("\"gw-1-2\"").unwrap();
        assert_eq!(back, id);
        let long: EventId = serde_json::from_str(&format!("\"{}\"", "x".repeat(60))).unwrap();
        assert_eq!(long.len(), 60);
        let s = SharedStr::from("ykc/1.6");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"ykc/1.6\"");
        let shared: SharedStr = serde_json::from_str("\"ykc/1.6\"").unwrap();
        assert_eq!(shared, s);
        assert_eq!(shared, "ykc/1.6");
    }
}

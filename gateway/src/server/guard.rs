//! What a connection holds for its whole life on behalf of the server: its slot in the connection caps and its
//! share of the `chargegate_connections` gauge. Dropping it (whenever and wherever the connection's future ends or
//! is dropped) frees both.
//!
//! It travels inside the [`super::Connection`] into the handler's future instead of living in a wrapper around that
//! future: a wrapper made the worker's task 256 B instead of 128 B (tokio aligns task cells to 128 B, and a task
//! whose future is more than one boxed pointer spills into a second line) — 128 B of every idle charger.

use prometheus::IntGauge;

use super::limits::ConnPermit;

/// A held connection slot and open-connection count; released on drop.
#[derive(Debug)]
pub struct ConnGuard {
    open: IntGauge,
    _permit: ConnPermit,
}

impl ConnGuard {
    /// Counts the connection as open on `open` until the guard is dropped; `permit` is its slot in the caps.
    pub(super) fn new(open: IntGauge, permit: ConnPermit) -> Self {
        ConnGuard {
            open,
            _permit: permit,
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.open.dec();
    }
}

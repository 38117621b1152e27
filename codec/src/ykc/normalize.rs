//! Normalization placeholder.
use super::{Frame, Message};
use crate::event::Observation;
/// x
pub fn normalize(_f: &Frame, _m: &Message) -> Vec<Observation> { Vec::new() }

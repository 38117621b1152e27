//! Billing models, §6.5–6.8 and §9.5–9.6: the pile checks its model (0x05/0x06), asks for it (0x09/0x0A), and the
//! platform pushes one (0x58/0x57). A model is four price tiers (sharp, peak, flat, valley) and 48 half-hour slots.

use nom::Parser;
use serde::Serialize;

use super::encoding::{bcd, raw, u8_, BillingModel, PResult, PileNumber};

/// 0x06 result: the pile's model is the platform's.
pub const MODEL_CONSISTENT: u8 = 0x00;
/// 0x06 result: the models differ; the pile will request the model with 0x09.
pub const MODEL_INCONSISTENT: u8 = 0x01;
/// 0x57 result: failure.
pub const SET_FAILURE: u8 = 0x00;
/// 0x57 result: success.
pub const SET_SUCCESS: u8 = 0x01;
/// Price resolution: 0.00001 yuan per kWh.
pub const PRICE_SCALE: f64 = 100_000.0;
/// Number of price tiers in a model.
pub const TIERS: usize = 4;
/// Number of half-hour slots in a day.
pub const SLOTS: usize = 48;
/// Tier names, in wire order (slot values 0..=3).
pub const TIER_NAMES: [&str; TIERS] = ["sharp", "peak", "flat", "valley"];

/// 0x05 billing-model verification request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingModelCheck {
    /// Pile number.
    pub pile: PileNumber,
    /// The model the pile has (`0000` on first connection).
    pub model: BillingModel,
}

impl BillingModelCheck {
    /// Body length.
    pub const BODY_LEN: usize = 9;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), bcd::<2>("billing_model"))
            .map(|(pile, model)| BillingModelCheck { pile, model })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&self.model.0);
    }
}

/// 0x06 billing-model verification reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingModelCheckReply {
    /// Pile number.
    pub pile: PileNumber,
    /// The model number checked.
    pub model: BillingModel,
    /// [`MODEL_CONSISTENT`] or [`MODEL_INCONSISTENT`].
    pub result: u8,
}

impl BillingModelCheckReply {
    /// Body length.
    pub const BODY_LEN: usize = 10;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), bcd::<2>("billing_model"), u8_)
            .map(|(pile, model, result)| BillingModelCheckReply {
                pile,
                model,
                result,
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&self.model.0);
        out.push(self.result);
    }
}

/// 0x09 billing-model request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingModelRequest {
    /// Pile number.
    pub pile: PileNumber,
}

impl BillingModelRequest {
    /// Body length.
    pub const BODY_LEN: usize = 7;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        bcd::<7>("pile")
            .map(|pile| BillingModelRequest { pile })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
    }
}

/// A billing model: the body of 0x0A (reply to 0x09) and of 0x58 (platform sets the model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tariff {
    /// Pile number.
    pub pile: PileNumber,
    /// Billing model number.
    pub model: BillingModel,
    /// Raw prices in 0.00001 yuan/kWh, in wire order: sharp electricity, sharp service, peak electricity, peak
    /// service, flat electricity, flat service, valley electricity, valley service.
    pub prices: [u32; 2 * TIERS],
    /// Loss ratio (the platform sends 0).
    pub loss_ratio: u8,
    /// Tier of each half hour from 00:00: 0 sharp, 1 peak, 2 flat, 3 valley.
    #[serde(serialize_with = "super::encoding::ser_array")]
    pub slots: [u8; SLOTS],
}

impl Tariff {
    /// Body length.
    pub const BODY_LEN: usize = 90;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<7>("pile"),
            bcd::<2>("billing_model"),
            raw::<{ 2 * TIERS * 4 }>,
            u8_,
            raw::<SLOTS>,
        )
            .map(|(pile, model, p, loss_ratio, slots)| {
                let mut prices = [0u32; 2 * TIERS];
                for (dst, src) in prices.iter_mut().zip(p.chunks_exact(4)) {
                    *dst = src
                        .iter()
                        .rev()
                        .fold(0, |acc, b| (acc << 8) | u32::from(*b));
                }
                Tariff {
                    pile,
                    model,
                    prices,
                    loss_ratio,
                    slots,
                }
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&self.model.0);
        for p in self.prices {
            out.extend_from_slice(&p.to_le_bytes());
        }
        out.push(self.loss_ratio);
        out.extend_from_slice(&self.slots);
    }

    /// Electricity price of tier `tier` (0 sharp … 3 valley), yuan/kWh.
    pub fn electricity_price_yuan_per_kwh(&self, tier: usize) -> Option<f64> {
        let i = tier.checked_mul(2)?;
        self.prices.get(i).map(|p| f64::from(*p) / PRICE_SCALE)
    }

    /// Service price of tier `tier` (0 sharp … 3 valley), yuan/kWh.
    pub fn service_price_yuan_per_kwh(&self, tier: usize) -> Option<f64> {
        let i = tier.checked_mul(2)?.checked_add(1)?;
        self.prices.get(i).map(|p| f64::from(*p) / PRICE_SCALE)
    }

    /// Name of the tier of half-hour slot `slot`, `None` for an unknown tier code.
    pub fn slot_tier(&self, slot: usize) -> Option<&'static str> {
        TIER_NAMES.get(usize::from(*self.slots.get(slot)?)).copied()
    }
}

/// 0x57 billing-model set reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingModelSetReply {
    /// Pile number.
    pub pile: PileNumber,
    /// [`SET_SUCCESS`] or [`SET_FAILURE`].
    pub result: u8,
}

impl BillingModelSetReply {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), u8_)
            .map(|(pile, result)| BillingModelSetReply { pile, result })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.push(self.result);
    }
}

//! Specifications of the plug-in seam: rollout selection, registry lookups, sniff detection.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::*;
use crate::command::Command;
use crate::event::{CommandResultData, CommandStatus};

/// A codec that only exists to be registered: `version` varies, the rest is fixed.
struct Dummy {
    version: &'static str,
    marker: u8,
}

struct DummyConn;

impl VendorCodec for Dummy {
    fn name(&self) -> &'static str {
        "dummy"
    }
    fn version(&self) -> &'static str {
        self.version
    }
    fn protocol(&self) -> &'static str {
        "dummy/1"
    }
    fn detect(&self, first_bytes: &[u8]) -> Detect {
        match first_bytes.first() {
            None => Detect::NeedMore,
            Some(b) if *b == self.marker => Detect::Match,
            Some(_) => Detect::NoMatch,
        }
    }
    fn liveness(&self) -> LivenessPolicy {
        LivenessPolicy {
            idle: Duration::from_secs(30),
            charging: Duration::from_secs(30),
        }
    }
    fn connect(&self) -> Box<dyn CodecConnection> {
        Box::new(DummyConn)
    }
}

impl CodecConnection for DummyConn {
    fn decode(&mut self, _src: &mut BytesMut) -> Result<Option<Inbound>, PluginError> {
        Ok(None)
    }
    fn refuse_unauthenticated(&mut self, _frame: &DecodedFrame) -> Refusal {
        Refusal::Close
    }
    fn deferred_reply(
        &mut self,
        _reply: &DeferredReply,
        _outcome: ReplyOutcome,
    ) -> Result<Option<Bytes>, PluginError> {
        Ok(None)
    }
    fn encode_command(
        &mut self,
        _c: &str,
        command: &Command,
    ) -> Result<EncodedCommand, PluginError> {
        Err(PluginError::Unsupported {
            command: command.kind.name(),
        })
    }
    fn command_result(&self, command: &Command, _reply: &DecodedFrame) -> CommandResultData {
        CommandResultData {
            command_id: command.id.clone(),
            command: command.kind.name().to_owned(),
            status: CommandStatus::Accepted,
            detail: serde_json::Value::Null,
        }
    }
}

fn registry_with_two_versions() -> CodecRegistry {
    let registry = CodecRegistry::new();
    registry.register(Arc::new(Dummy {
        version: "1",
        marker: 0x68,
    }));
    registry.register(Arc::new(Dummy {
        version: "2",
        marker: 0x68,
    }));
    registry
}

fn charger_ids() -> impl Iterator<Item = String> {
    (0..1000).map(|i| format!("3201{i:010}"))
}

fn candidate(per_mille: u16) -> Rollout {
    Rollout {
        stable: "1".into(),
        candidate: Some("2".into()),
        per_mille,
        pins: Default::default(),
    }
}

fn count_on_version(registry: &CodecRegistry, version: &str) -> usize {
    charger_ids()
        .filter(|id| registry.select("dummy", id).unwrap().version() == version)
        .count()
}

#[test]
fn rollout_at_500_per_mille_sends_about_half_of_1000_chargers_to_the_new_version() {
    let registry = registry_with_two_versions();
    registry.set_rollout("dummy", candidate(500)).unwrap();
    let on_new = count_on_version(&registry, "2");
    assert!(
        (400..=600).contains(&on_new),
        "{on_new} of 1000 on the new version"
    );
}

#[test]
fn rollout_at_zero_sends_no_charger_to_the_new_version() {
    let registry = registry_with_two_versions();
    registry.set_rollout("dummy", candidate(0)).unwrap();
    assert_eq!(count_on_version(&registry, "2"), 0);
}

#[test]
fn reloading_the_plan_to_zero_moves_every_charger_back_at_once() {
    let registry = registry_with_two_versions();
    registry.set_rollout("dummy", candidate(1000)).unwrap();
    assert_eq!(count_on_version(&registry, "2"), 1000);
    registry.set_rollout("dummy", candidate(0)).unwrap();
    assert_eq!(count_on_version(&registry, "1"), 1000);
}

#[test]
fn raising_the_rollout_only_adds_chargers_to_the_candidate() {
    let registry = registry_with_two_versions();
    registry.set_rollout("dummy", candidate(100)).unwrap();
    let early: Vec<String> = charger_ids()
        .filter(|id| registry.select("dummy", id).unwrap().version() == "2")
        .collect();
    registry.set_rollout("dummy", candidate(300)).unwrap();
    assert!(early
        .iter()
        .all(|id| registry.select("dummy", id).unwrap().version() == "2"));
}

#[test]
fn a_pin_wins_over_the_rollout_buckets() {
    let registry = registry_with_two_versions();
    let mut plan = candidate(1000);
    plan.pins.insert("32010000000007".into(), "1".into());
    registry.set_rollout("dummy", plan).unwrap();
    assert_eq!(
        registry
            .select("dummy", "32010000000007")
            .unwrap()
            .version(),
        "1"
    );
    assert_eq!(
        registry
            .select("dummy", "32010000000008")
            .unwrap()
            .version(),
        "2"
    );
}

#[test]
fn the_rollout_hash_is_fnv1a_and_stable() {
    // FNV-1a 64 of "" is the offset basis 0xcbf29ce484222325 = 14695981039346656037; % 1000 = 37.
    assert_eq!(rollout_bucket(""), 37);
    // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c = 12638187200555641996; % 1000 = 996.
    assert_eq!(rollout_bucket("a"), 996);
}

#[test]
fn a_plan_naming_an_unregistered_version_is_refused() {
    let registry = registry_with_two_versions();
    let mut plan = candidate(500);
    plan.candidate = Some("9".into());
    assert!(registry.set_rollout("dummy", plan).is_err());
    assert!(registry.rollout("dummy").is_none());
}

#[test]
fn without_a_plan_the_first_registered_version_is_the_default() {
    let registry = registry_with_two_versions();
    assert_eq!(registry.default_for("dummy").unwrap().version(), "1");
    assert_eq!(registry.select("dummy", "any").unwrap().version(), "1");
    assert!(registry.default_for("nope").is_none());
}

#[test]
fn sniff_detection_picks_the_matching_codec_or_asks_for_more_bytes() {
    let registry = registry_with_two_versions();
    assert!(registry.detect(&["dummy"], &[0x68, 0x22]).is_ok());
    assert_eq!(
        registry.detect(&["dummy"], &[]).err(),
        Some(Detect::NeedMore)
    );
    assert_eq!(
        registry.detect(&["dummy"], &[0x7b]).err(),
        Some(Detect::NoMatch)
    );
}

#[test]
fn frame_error_kinds_are_stable_metric_labels() {
    let e = FrameError::BadChecksum {
        expected: 0x1234,
        got: 0x4321,
    };
    assert_eq!(e.kind(), "bad_checksum");
    assert_eq!(PluginError::Corrupt(e).kind(), "bad_checksum");
    assert_eq!(e.to_string(), "bad checksum: expected 0x1234, got 0x4321");
}

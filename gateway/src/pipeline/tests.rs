//! The layer order, end to end on one connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::session::control_channel;
use bytes::Bytes;
use chargegate_codec::event::{EventBody, HeartbeatData, Observation};
use chargegate_codec::plugin::{Credential, DecodedFrame, LivenessPolicy, LoginInfo};

use super::auth::{AuthDecision, AuthGate, DEFAULT_LOGIN_DEADLINE};
use super::liveness::{Liveness, LivenessTarget, SharedWheel};
use super::normalize::Normalizer;
use super::rate_limit::{RateLimitConfig, RateLimiter};
use super::timing_wheel::{TimingWheel, DEFAULT_SLOTS, DEFAULT_TICK};
use super::*;

fn pipeline(rate: RateLimitConfig) -> (Pipeline, SharedWheel) {
    let wheel: SharedWheel = Arc::new(Mutex::new(TimingWheel::new(DEFAULT_TICK, DEFAULT_SLOTS)));
    let (tx, _rx) = control_channel(1);
    let auth = AuthGate::new(0, DEFAULT_LOGIN_DEADLINE);
    let policy = LivenessPolicy {
        idle: Duration::from_secs(30),
        charging: Duration::from_secs(30),
    };
    let target = LivenessTarget { control: tx };
    let liveness = Liveness::arm(wheel.clone(), target, policy, auth.deadline_ms()).unwrap();
    let p = Pipeline {
        auth,
        liveness,
        rate: RateLimiter::new(rate, 0),
        normalize: Normalizer::new("gw", "ykc/1.6", 7),
    };
    (p, wheel)
}

fn heartbeat() -> DecodedFrame {
    let obs = Observation {
        charger: None,
        connector: Some(1),
        body: EventBody::Heartbeat(HeartbeatData::default()),
    };
    DecodedFrame::new("0x03", Bytes::from_static(&[0x68; 20]), vec![obs])
}

fn login_frame() -> DecodedFrame {
    let mut f = DecodedFrame::new("0x01", Bytes::from_static(&[0x68; 40]), Vec::new());
    f.login = Some(LoginInfo {
        charger_id: "Y1".into(),
        credential: Credential::None,
    });
    f
}

#[test]
fn a_frame_before_login_is_refused_and_does_not_count_as_alive() {
    let (mut p, wheel) = pipeline(RateLimitConfig::default());
    assert!(matches!(p.inbound(&mut heartbeat(), 1_000), Step::Refuse));
    // The wheel entry still sits at the login deadline (10 s), not 1 s + 30 s.
    let mut expired = Vec::new();
    wheel.lock().unwrap().advance(10_000, &mut expired);
    assert_eq!(expired.len(), 1);
}

#[test]
fn after_login_frames_become_stamped_events() {
    let (mut p, _wheel) = pipeline(RateLimitConfig::default());
    assert!(matches!(
        p.inbound(&mut login_frame(), 100),
        Step::Continue(_)
    ));
    p.auth.decide(&AuthDecision::Accepted { station: None });
    p.normalize.set_charger("Y1");
    let Step::Continue(observations) = p.inbound(&mut heartbeat(), 200) else {
        panic!("heartbeat should pass");
    };
    let events = p.normalize.stamp(observations, 1_700_000_000_000);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].charger, "Y1");
    assert_eq!(events[0].ts, 1_700_000_000_000);
}

#[test]
fn the_rate_limit_runs_after_auth_and_names_its_layer() {
    let rate = RateLimitConfig {
        frames_per_sec: 1,
        frame_burst: 1,
        abuse_windows: 0,
        ..RateLimitConfig::default()
    };
    let (mut p, _wheel) = pipeline(rate);
    p.inbound(&mut login_frame(), 100);
    p.auth.decide(&AuthDecision::Accepted { station: None });
    assert!(matches!(
        p.inbound(&mut heartbeat(), 100),
        Step::Dropped {
            layer: "rate_limit",
            reason: "rate_limit"
        }
    ));
}

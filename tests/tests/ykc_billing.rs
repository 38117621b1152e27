//! A transaction record (0x3B) is money: the gateway acknowledges it with 0x40 only once the event is on the bus,
//! and tells the pile to resend (0x40 with a failure result) when the bus could not take it in time.

use std::time::Duration;

use chargegate_codec::event::EventBody;
use chargegate_codec::ykc::transaction::{CONFIRM_ILLEGAL, CONFIRM_OK};
use chargegate_codec::ykc::Message;
use chargegate_e2e::{metric_value, TestGateway, YkcCharger, WAIT};

const PILE: &str = "32010200000005";
const SERIAL: &str = "32010200000005012508211200000001";
/// How long the test watches for an ack that must not come yet.
const HELD: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_0x40_ack_waits_until_the_transaction_event_reached_the_bus() {
    // A test sink that holds one event: the login's `online` event fills it, so the bill cannot get in.
    let mut gw = TestGateway::start_with_queue(|_| {}, 1).await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.login_accepted().await;
    pile.transaction(SERIAL, 21.5).await;
    assert!(
        !pile.receives_within(0x40, HELD).await,
        "0x40 must not be sent while the event is not on the bus"
    );

    let mut seen = Vec::new();
    let ack = tokio::time::timeout(WAIT, async {
        loop {
            tokio::select! {
                e = gw.events.recv() => seen.push(e.expect("bus open")),
                d = pile.expect(0x40) => return d,
            }
        }
    })
    .await
    .expect("0x40 once the sink has room");
    // The event was on the bus before the ack left; the loop may have taken the ack first when both were ready.
    while let Ok(e) = gw.events.try_recv() {
        seen.push(e);
    }
    let Message::TransactionConfirm(c) = ack.message else {
        unreachable!()
    };
    assert_eq!(c.serial.to_string(), SERIAL);
    assert_eq!(c.result, CONFIRM_OK);
    let bill = seen
        .iter()
        .find(|e| e.kind() == "transaction")
        .expect("the transaction event reached the bus before the ack");
    let EventBody::Transaction(t) = &bill.body else {
        unreachable!()
    };
    assert_eq!(t.transaction_id, SERIAL);
    assert_eq!(t.energy_kwh, Some(21.5));

    let text = gw.metrics_text().await;
    assert_eq!(
        metric_value(
            &text,
            r#"chargegate_frames_out_total{protocol="ykc",type="billing_ack"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_the_bus_cannot_take_is_answered_with_a_failure_so_the_pile_resends() {
    let gw = TestGateway::start_with_queue(|c| c.sinks.critical_wait_secs = 1, 1).await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.login_accepted().await;
    pile.transaction(SERIAL, 21.5).await;
    let ack = pile.expect(0x40).await;
    let Message::TransactionConfirm(c) = ack.message else {
        unreachable!()
    };
    assert_eq!(c.result, CONFIRM_ILLEGAL);
    drop(gw);
}

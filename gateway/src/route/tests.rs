use super::*;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::Metrics;
use chargegate_codec::event::{CommandResultData, CommandStatus, HeartbeatData, Observation};
use chargegate_codec::event::{Event, EventBody};

/// An event of `body` from charger `C1` (also the line buffers' tests' event).
pub(super) fn event(body: EventBody) -> Arc<Event> {
    Arc::new(Event::stamp(
        Observation::charger("C1", body),
        "e1",
        1_700_000_000_000,
        "C1",
        "ykc/1.6",
        "gw",
    ))
}

fn heartbeat() -> Arc<Event> {
    event(EventBody::Heartbeat(HeartbeatData { fault: None }))
}

fn bill() -> Arc<Event> {
    event(EventBody::CommandResult(CommandResultData {
        command_id: "c1".into(),
        command: "start".into(),
        status: CommandStatus::Accepted,
        detail: serde_json::Value::Null,
    }))
}

#[tokio::test]
async fn a_full_sink_drops_telemetry_and_counts_it_without_blocking_others() {
    let m = Metrics::new().unwrap();
    let mut bus = EventBus::new(m.clone(), Duration::from_millis(10));
    let _slow = bus.subscribe("slow", 1);
    let mut fast = bus.subscribe("fast", 8);
    assert_eq!(
        bus.publish(heartbeat()),
        Delivery {
            queued: 2,
            dropped: 0
        }
    );
    assert_eq!(
        bus.publish(heartbeat()),
        Delivery {
            queued: 1,
            dropped: 1
        }
    );
    assert_eq!(
        m.events_dropped
            .with_label_values(&["slow", "heartbeat"])
            .get(),
        1
    );
    assert_eq!(
        m.events_published
            .with_label_values(&["fast", "heartbeat"])
            .get(),
        2
    );
    assert_eq!(m.queue_depth.with_label_values(&["sink:slow"]).get(), 1);
    assert!(fast.recv().await.is_some());
}

#[tokio::test]
async fn a_billing_event_waits_for_room_then_is_delivered() {
    let m = Metrics::new().unwrap();
    let mut bus = EventBus::new(m, Duration::from_secs(5));
    let mut rx = bus.subscribe("jsonl", 1);
    bus.publish(heartbeat());
    let bus = Arc::new(bus);
    let b = Arc::clone(&bus);
    let pending = tokio::spawn(async move { b.route(bill()).await });
    tokio::task::yield_now().await;
    assert_eq!(rx.recv().await.unwrap().kind(), "heartbeat");
    assert!(pending.await.unwrap().is_ok());
    assert_eq!(rx.recv().await.unwrap().kind(), "command_result");
}

#[tokio::test]
async fn a_billing_event_that_cannot_be_queued_is_an_error_not_a_silent_drop() {
    let m = Metrics::new().unwrap();
    let mut bus = EventBus::new(m.clone(), Duration::from_millis(20));
    let _rx = bus.subscribe("stuck", 1);
    bus.publish(heartbeat());
    let err = bus.route(bill()).await.unwrap_err();
    assert_eq!(err.kind(), "sink_full");
    assert_eq!(
        m.events_dropped
            .with_label_values(&["stuck", "command_result"])
            .get(),
        1
    );
}

#[tokio::test]
async fn the_jsonl_sink_writes_one_event_per_line_and_flushes_at_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut bus = EventBus::new(Metrics::new().unwrap(), Duration::from_secs(1));
    let lines = bus.subscribe_lines("jsonl", 16 * JSONL_BYTES_PER_EVENT);
    let sink = spawn_jsonl_sink(lines, JsonlTarget::from_path(&path));
    bus.publish(heartbeat());
    bus.route(bill()).await.unwrap();
    drop(bus);
    sink.await.unwrap().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "heartbeat");
    assert_eq!(lines[0]["charger"], "C1");
    assert_eq!(lines[1]["kind"], "command_result");
}

#[tokio::test]
async fn a_billing_event_succeeds_only_once_the_upstream_sink_confirms_it_stored() {
    let m = Metrics::new().unwrap();
    let mut bus = EventBus::new(m, Duration::from_secs(5));
    let mut up = bus.subscribe_upstream("mqtt", 8);
    let bus = Arc::new(bus);
    let publishing = tokio::spawn({
        let bus = Arc::clone(&bus);
        async move { bus.publish_critical(bill()).await }
    });
    let delivery = up.recv().await.unwrap();
    assert!(!publishing.is_finished(), "waits for the confirmation");
    delivery.stored.unwrap().send(true).unwrap();
    assert_eq!(publishing.await.unwrap(), Ok(()));

    // Telemetry carries no signal; a refused billing event is an error for the publisher.
    bus.publish(heartbeat());
    assert!(up.recv().await.unwrap().stored.is_none());
    let publishing = tokio::spawn({
        let bus = Arc::clone(&bus);
        async move { bus.publish_critical(bill()).await }
    });
    up.recv()
        .await
        .unwrap()
        .stored
        .unwrap()
        .send(false)
        .unwrap();
    assert_eq!(
        publishing.await.unwrap().map_err(|e| e.kind()),
        Err("not_stored")
    );
}

#[tokio::test]
async fn the_jsonl_sink_takes_lines_from_many_threads_and_drops_and_counts_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let m = Metrics::new().unwrap();
    let mut bus = EventBus::new(m.clone(), Duration::from_secs(1));
    // Room for a few lines per buffer only, and no writer yet: most lines do not fit.
    let lines = bus.subscribe_lines("jsonl", 3 * 200);
    let bus = Arc::new(bus);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let bus = Arc::clone(&bus);
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| bus.publish(heartbeat()).queued)
                    .sum::<usize>()
            })
        })
        .collect();
    let queued: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let dropped = m
        .events_dropped
        .with_label_values(&["jsonl", "heartbeat"])
        .get();
    assert!((1..40).contains(&queued), "queued {queued}");
    assert_eq!(queued as u64 + dropped, 40);
    // The writer starts late, writes what was kept, and a billing event still gets through afterwards.
    let sink = spawn_jsonl_sink(lines, JsonlTarget::from_path(&path));
    bus.route(bill()).await.unwrap();
    drop(bus);
    sink.await.unwrap().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].to_string())
        .collect();
    assert_eq!(kinds.len(), queued + 1, "{text}");
    assert_eq!(
        kinds.iter().filter(|k| k.contains("heartbeat")).count(),
        queued
    );
    assert!(kinds.iter().any(|k| k.contains("command_result")));
}

#[tokio::test]
async fn a_billing_event_waits_for_room_in_a_full_jsonl_buffer_until_the_writer_drains_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut bus = EventBus::new(Metrics::new().unwrap(), Duration::from_secs(5));
    let lines = bus.subscribe_lines("jsonl", 1);
    let bus = Arc::new(bus);
    // One line fills this thread's buffer; with no writer the next one cannot be taken.
    assert_eq!(bus.publish(heartbeat()).queued, 1);
    assert_eq!(bus.publish(heartbeat()).dropped, 1);
    let publishing = tokio::spawn({
        let bus = Arc::clone(&bus);
        async move { bus.publish_critical(bill()).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!publishing.is_finished(), "waits while the buffer is full");
    let sink = spawn_jsonl_sink(lines, JsonlTarget::from_path(&path));
    assert_eq!(publishing.await.unwrap(), Ok(()));
    drop(bus);
    sink.await.unwrap().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[tokio::test]
async fn a_jsonl_sink_whose_writes_fail_refuses_billing_events_at_once_as_stopped() {
    /// A file that refuses every write (a full disk).
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let m = Metrics::new().unwrap();
    let mut bus = EventBus::new(m.clone(), Duration::from_secs(30));
    let lines = bus.subscribe_lines("jsonl", 16 * JSONL_BYTES_PER_EVENT);
    let bus = Arc::new(bus);
    bus.publish(heartbeat());
    let writer = std::thread::spawn({
        let lines = Arc::clone(&lines);
        move || lines.write_until_closed(Full)
    });
    assert!(writer.join().unwrap().is_err());
    assert!(lines.is_stopped());
    // Telemetry is dropped and counted; a billing event fails now, not after the 30 s critical wait.
    assert_eq!(bus.publish(heartbeat()).dropped, 1);
    let started = std::time::Instant::now();
    let err = bus.route(bill()).await.unwrap_err();
    assert_eq!(err.kind(), "sink_closed");
    assert!(started.elapsed() < Duration::from_secs(10));
}

//! MQTT test support: a real Mosquitto on a free loopback port (killed on drop), a rumqttc observer that records
//! what a platform would receive, and configuration helpers for the gateway's MQTT sink.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chargegate::config::{Config, MqttMode};
use rumqttc::{AsyncClient, Event, MqttOptions, NetworkOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;

/// How long a broker may take to accept connections.
pub const BROKER_START: Duration = Duration::from_secs(10);

/// A free loopback port (bound and released; tests use it at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something accepts TCP on `port`.
pub async fn wait_listening(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    tokio::time::timeout(BROKER_START, async {
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("broker listening in time");
}

/// A Mosquitto process on 127.0.0.1:`port`, anonymous access, persistence in its own temporary directory (so
/// persistent sessions and their queued messages survive [`Mosquitto::stop`] + [`Mosquitto::restart`]), killed
/// when dropped.
pub struct Mosquitto {
    /// Its port.
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts Mosquitto on a free port and waits until it listens.
    pub async fn start() -> Mosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut m = Mosquitto {
            port: free_port(),
            child: None,
            dir,
        };
        m.restart().await;
        m
    }

    /// (Re)starts the process on the same port.
    pub async fn restart(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "user {}\nlistener {} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nmax_queued_messages 100000\n",
                current_user(),
                self.port,
                self.dir.path().display()
            ),
        )
        .expect("write conf");
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto runs (apt-get install mosquitto)");
        self.child = Some(child);
        wait_listening(self.port).await;
    }

    /// Freezes the process (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused process (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill {sig} mosquitto");
        }
    }

    /// Stops the process gracefully (SIGTERM: Mosquitto saves its sessions), waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // A paused process must be thawed to die promptly on some systems; SIGKILL works either way.
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The user the tests run as: Mosquitto started as root drops to user `mosquitto` unless told otherwise, and
/// could then not write its persistence file into our temporary directory.
fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".to_owned())
}

/// Points `c` at an external broker on loopback `port` under `prefix`.
pub fn use_external(c: &mut Config, port: u16, prefix: &str) {
    c.mqtt.mode = MqttMode::External;
    c.mqtt.url = Some(format!("mqtt://127.0.0.1:{port}"));
    c.mqtt.topic_prefix = prefix.to_owned();
    c.mqtt.reconnect_ms = 200;
}

/// Starts the embedded broker of `c` on loopback `port` under `prefix`.
pub fn use_embedded(c: &mut Config, port: u16, prefix: &str) {
    c.mqtt.mode = MqttMode::Embedded;
    c.mqtt.embedded_bind = SocketAddr::from(([127, 0, 0, 1], port));
    c.mqtt.topic_prefix = prefix.to_owned();
    c.mqtt.reconnect_ms = 200;
}

/// A platform-side MQTT client that records every message on its filters.
pub struct Observer {
    /// The client (publish commands with it).
    pub client: AsyncClient,
    /// Messages as received.
    pub rx: mpsc::UnboundedReceiver<Publish>,
    /// Subscriptions acknowledged so far (grows on every reconnect).
    pub subacks: Arc<AtomicUsize>,
}

impl Observer {
    /// Connects to 127.0.0.1:`port` as `id`, subscribes to `filters` with QoS 1 (again after every reconnect) and
    /// waits until the first subscription is acknowledged.
    pub async fn connect(port: u16, id: &str, filters: &[&str]) -> Observer {
        Self::connect_with(port, id, filters, true).await
    }

    /// As [`Observer::connect`] with a persistent session (`clean = false`): the broker queues QoS 1 messages for
    /// it while it is disconnected, as a real platform's consumer would be set up.
    pub async fn connect_with(port: u16, id: &str, filters: &[&str], clean: bool) -> Observer {
        let mut o = MqttOptions::new(id, "127.0.0.1", port);
        o.set_clean_session(clean);
        o.set_max_packet_size(1 << 20, 1 << 20);
        o.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(o, 1024);
        // Nagle off, as a platform that cares about command latency sets it: round trips then measure the broker.
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let filters: Vec<String> = filters.iter().map(|f| (*f).to_owned()).collect();
        let sub = client.clone();
        let subacks = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&subacks);
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        for f in &filters {
                            let _ = sub.subscribe(f.clone(), QoS::AtLeastOnce).await;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        counted.fetch_add(1, Ordering::SeqCst);
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send(p).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(BROKER_START, ready_rx)
            .await
            .expect("observer subscribed in time")
            .expect("observer task alive");
        Observer {
            client,
            rx,
            subacks,
        }
    }

    /// Waits until more than `seen` subscriptions have been acknowledged (after a broker restart).
    pub async fn resubscribed(&self, seen: usize) {
        tokio::time::timeout(BROKER_START, async {
            while self.subacks.load(Ordering::SeqCst) <= seen {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("observer resubscribed in time");
    }

    /// The next message on `topic`, skipping others, within `within`.
    pub async fn next_on(&mut self, topic: &str, within: Duration) -> Publish {
        self.next_where(within, |p| p.topic == topic).await
    }

    /// The next message for which `pred` holds, within `within`.
    pub async fn next_where(
        &mut self,
        within: Duration,
        pred: impl Fn(&Publish) -> bool,
    ) -> Publish {
        tokio::time::timeout(within, async {
            loop {
                let p = self.rx.recv().await.expect("observer alive");
                if pred(&p) {
                    return p;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no expected MQTT message within {within:?}"))
    }
}

/// A message's payload as JSON.
pub fn json(p: &Publish) -> serde_json::Value {
    serde_json::from_slice(&p.payload).unwrap_or_else(|e| panic!("{e}: {:?}", p.payload))
}

//! Logins against a charger registry file: known piles are accepted with their station, unknown ones get a
//! failed login reply and are closed. YKC's login carries no secret, so a registry entry with a secret cannot be
//! satisfied by a YKC pile and is refused as a bad credential.

use std::path::PathBuf;

use chargegate_codec::ykc::Message;
use chargegate_e2e::{http, metric_value, TestGateway, YkcCharger, WAIT};

const KNOWN: &str = "32010200000003";
const UNKNOWN: &str = "32010200000099";
const WITH_SECRET: &str = "32010200000004";

fn registry_file(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("chargegate-e2e-{name}-{}.csv", std::process::id()));
    let text = format!(
        "id,station,protocol,secret\n{KNOWN},station-7,ykc,\n{WITH_SECRET},station-7,ykc,sha256$00112233445566778899aabbccddeeff${}\n",
        "00".repeat(32)
    );
    std::fs::write(&path, text).unwrap();
    path
}

async fn refused(gw: &TestGateway, pile: &str) {
    let mut pile = YkcCharger::connect(gw.ykc(), pile).await;
    pile.login().await;
    let reply = pile.expect(0x02).await;
    assert!(matches!(reply.message, Message::LoginReply(r) if !r.is_success()));
    pile.expect_closed(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_admits_known_piles_and_refuses_the_rest() {
    let path = registry_file("registry");
    let gw = TestGateway::start(|c| c.registry_file = Some(path.clone())).await;

    let mut known = YkcCharger::connect(gw.ykc(), KNOWN).await;
    known.login_accepted().await;
    let (status, body) =
        http::request(gw.http(), "GET", &format!("/api/v1/chargers/{KNOWN}"), None).await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["station"], "station-7");
    assert_eq!(info["state"], "online");

    refused(&gw, UNKNOWN).await;
    refused(&gw, WITH_SECRET).await;

    let text = gw.metrics_text().await;
    for reason in ["unknown_charger", "bad_credential"] {
        let series =
            format!(r#"chargegate_auth_failures_total{{protocol="ykc",reason="{reason}"}}"#);
        assert_eq!(metric_value(&text, &series), Some(1.0), "{series}\n{text}");
    }
    let _ = std::fs::remove_file(path);
}

//! TLS on a listener over loopback, with certificates made in the test (rcgen): a plain TLS client is served, and
//! with `client_ca` set a client without a certificate is refused while one signed by the CA is served.

mod support;

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use chargegate::config::Config;
use chargegate::metrics::Metrics;
use chargegate::server::{Connection, FnHandler, GatewayParts, LocalFuture, WorkerCtx};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf = |names: Vec<String>, usage| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names).unwrap();
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca_cert.pem(),
        server: leaf(
            vec!["localhost".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        client: leaf(vec!["CP-0001".into()], ExtendedKeyUsagePurpose::ClientAuth),
    }
}

fn tls_config(dir: &Path, pki: &Pki, mutual: bool) -> Config {
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mut c = loopback_config();
    c.listeners.ykc.tls.cert = Some(write("server.pem", &pki.server.0));
    c.listeners.ykc.tls.key = Some(write("server.key", &pki.server.1));
    if mutual {
        c.listeners.ykc.tls.client_ca = Some(write("ca.pem", &pki.ca_pem));
    }
    c
}

fn hello_parts() -> GatewayParts {
    let mut parts = GatewayParts::with_metrics(Metrics::new().unwrap());
    let handler = FnHandler(|mut conn: Connection, _ctx: Rc<WorkerCtx>| -> LocalFuture {
        Box::pin(async move {
            let mut buf = [0u8; 5];
            if conn.stream.read_exact(&mut buf).await.is_ok() {
                let mtls = conn
                    .stream
                    .peer_certificates()
                    .is_some_and(|c| !c.is_empty());
                let reply = format!(
                    "tls={} mtls={mtls} {}",
                    conn.stream.is_tls(),
                    String::from_utf8_lossy(&buf)
                );
                let _ = conn.stream.write_all(reply.as_bytes()).await;
                let _ = conn.stream.shutdown().await;
            }
        })
    });
    parts.handler = Box::new(move |_, _| Arc::new(handler));
    parts
}

fn connector(pki: &Pki, with_client_cert: bool) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if with_client_cert {
        let chain = vec![CertificateDer::from_pem_slice(pki.client.0.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(pki.client.1.as_bytes()).unwrap();
        builder.with_client_auth_cert(chain, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    TlsConnector::from(Arc::new(config))
}

async fn talk(addr: std::net::SocketAddr, connector: &TlsConnector) -> std::io::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut s = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    s.write_all(b"hello").await?;
    let mut out = String::new();
    s.read_to_string(&mut out).await?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_listener_serves_a_tls_client() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let gw = start_with(tls_config(dir.path(), &pki, false), hello_parts()).await;
    let reply = talk(gw.local_addr("ykc").unwrap(), &connector(&pki, false))
        .await
        .unwrap();
    assert_eq!(reply, "tls=true mtls=false hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_client_ca_only_clients_with_a_signed_certificate_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let gw = start_with(tls_config(dir.path(), &pki, true), hello_parts()).await;
    let addr = gw.local_addr("ykc").unwrap();
    let reply = talk(addr, &connector(&pki, true)).await.unwrap();
    assert_eq!(reply, "tls=true mtls=true hello");
    let refused = talk(addr, &connector(&pki, false)).await;
    assert!(
        refused.map_or(true, |r| r.is_empty()),
        "a client without a certificate is not served"
    );
    let m = gw.metrics().clone();
    eventually("handshake refusal counted", || {
        m.refused.with_label_values(&["ykc", "tls_handshake"]).get() == 1
    })
    .await;
}

#[tokio::test]
async fn unreadable_tls_material_fails_the_start_and_names_the_listener() {
    let mut c = loopback_config();
    c.listeners.ocpp_tcp.tls.cert = Some("/nonexistent/cert.pem".into());
    c.listeners.ocpp_tcp.tls.key = Some("/nonexistent/key.pem".into());
    let err = chargegate::server::Gateway::start(
        c,
        GatewayParts::with_metrics(Metrics::new().unwrap()),
        Default::default(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.kind(), "tls");
    assert!(err.to_string().contains("ocpp_tcp"), "{err}");
}

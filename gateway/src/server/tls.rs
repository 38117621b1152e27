//! TLS on a listener (rustls via tokio-rustls, ring provider): the server configuration built once from the
//! listener's PEM files, with optional client-certificate verification against a CA (OCPP security profile 3).
//! The handshake runs on the worker, after any PROXY header (balancers send it before the TLS bytes).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::ServerError;
use crate::config::TlsConfig;

/// Time a client has to complete the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The acceptor for a listener, or `None` when its TLS section is empty.
pub fn acceptor(listener: &str, tls: &TlsConfig) -> Result<Option<TlsAcceptor>, ServerError> {
    let (Some(cert), Some(key)) = (&tls.cert, &tls.key) else {
        return Ok(None);
    };
    let err = |what: &str, e: &dyn std::fmt::Display| ServerError::Tls {
        listener: listener.to_owned(),
        message: format!("{what}: {e}"),
    };
    let chain =
        load_certs(cert).map_err(|e| err(&format!("certificate {}", cert.display()), &e))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| err(&format!("key {}", key.display()), &e))?;
    let provider = Arc::new(default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| err("protocol versions", &e))?;
    let builder = match &tls.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in load_certs(ca).map_err(|e| err(&format!("client CA {}", ca.display()), &e))? {
                roots.add(c).map_err(|e| err("client CA", &e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| err("client verifier", &e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| err("certificate and key", &e))?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

fn load_certs(
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, tokio_rustls::rustls::pki_types::pem::Error> {
    let certs = CertificateDer::pem_file_iter(path)?.collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(tokio_rustls::rustls::pki_types::pem::Error::NoItemsFound);
    }
    Ok(certs)
}

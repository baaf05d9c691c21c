//! TLS for both transports: the server's certificate chain and private key, read from PEM
//! files, with rustls and its ring provider.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{ApiaryError, Result};

fn tls_error(what: String) -> ApiaryError {
    ApiaryError::Analysis(what)
}

/// The TLS configuration of a certificate chain (`certificate`, PEM, the server's own first)
/// and its private key (`key`, PEM: PKCS#8, PKCS#1 or SEC1).
pub fn server_config(certificate: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(format!(
                "cannot read certificates from {}: {e}",
                certificate.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(tls_error(format!(
            "{} holds no PEM certificate",
            certificate.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        tls_error(format!(
            "cannot read a private key from {}: {e}",
            key.display()
        ))
    })?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(format!("TLS setup failed: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                tls_error(format!(
                    "the certificate and key do not make a TLS identity: {e}"
                ))
            })?;
    Ok(Arc::new(config))
}

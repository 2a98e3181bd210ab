//! TLS for the wires (rustls with ring, the provider pgwire's acceptor already uses), from one configuration: for
//! PostgreSQL the certificate chain and key, checked to belong together, offered by ALPN as `postgresql` so
//! PostgreSQL 17's direct TLS works too; for Flight SQL the same pair as tonic's server identity.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tonic::transport::{Identity, ServerTlsConfig};

use crate::config::TlsConfig;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// TLS for both wires, ready to serve.
#[derive(Clone)]
pub struct WireTls {
    /// For PostgreSQL connections that ask for it (SSLRequest, or PostgreSQL 17's direct TLS).
    pub pg: TlsAcceptor,
    /// For every Flight SQL connection (gRPC offers no upgrade from plaintext on one port).
    pub flight: ServerTlsConfig,
}

impl WireTls {
    pub fn load(config: &TlsConfig) -> Result<Self, TlsError> {
        let pg = acceptor(config)?;
        let identity = Identity::from_pem(read(&config.cert_file)?, read(&config.key_file)?);
        Ok(Self {
            pg,
            flight: ServerTlsConfig::new().identity(identity),
        })
    }
}

/// An acceptor for `config`'s certificate and key.
fn acceptor(config: &TlsConfig) -> Result<TlsAcceptor, TlsError> {
    let certificates = read(&config.cert_file)?;
    let chain = CertificateDer::pem_slice_iter(&certificates)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&config.cert_file, e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: config.cert_file.display().to_string(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&config.key_file)?).map_err(|e| invalid(&config.key_file, e))?;
    let mut server = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&config.cert_file, e))?
        .with_no_client_auth()
        // Checks that the key is the certificate's.
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&config.key_file, e))?;
    server.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, error: impl std::fmt::Display) -> TlsError {
    TlsError::Invalid {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

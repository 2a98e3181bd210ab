//! TLS for the wires (rustls with ring, the provider pgwire's acceptor already uses), from one configuration: the
//! certificate chain and key, checked to belong together, offered to PostgreSQL clients by ALPN as `postgresql` (so
//! PostgreSQL 17's direct TLS works too) and to Flight SQL clients as `h2`; client certificates asked for and
//! verified against `client_ca_file` when configured. [`WireTls::reload`] (SIGHUP) reads the files again: new
//! connections get the new pair, a broken one is refused and the old one keeps serving.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use x509_certificate::X509Certificate;

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

/// TLS for both wires, ready to serve and to reload.
pub struct WireTls {
    /// Where the files are, and what is required of clients.
    config: TlsConfig,
    /// What new connections are offered; replaced whole by [`WireTls::reload`].
    serving: ArcSwap<Serving>,
}

/// One reading of the files.
struct Serving {
    /// For PostgreSQL connections that ask for TLS (SSLRequest, or PostgreSQL 17's direct TLS).
    pg: Arc<ServerConfig>,
    /// For every Flight SQL connection (gRPC offers no upgrade from plaintext on one port).
    flight: Arc<ServerConfig>,
    /// The certificate chain as PEM, for SCRAM-SHA-256-PLUS (channel binding hashes the server's certificate).
    chain_pem: Arc<Vec<u8>>,
}

impl WireTls {
    pub fn load(config: &TlsConfig) -> Result<Self, TlsError> {
        Ok(Self {
            serving: ArcSwap::from_pointee(Serving::read(config)?),
            config: config.clone(),
        })
    }

    /// Read the files again; on any error the pair being served stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        self.serving.store(Arc::new(Serving::read(&self.config)?));
        Ok(())
    }

    /// Refuse PostgreSQL clients that do not use TLS.
    pub fn required(&self) -> bool {
        self.config.required
    }

    pub fn pg_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.serving.load().pg.clone())
    }

    pub fn flight_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.serving.load().flight.clone())
    }

    /// The certificate chain being served, as PEM.
    pub fn chain_pem(&self) -> Arc<Vec<u8>> {
        self.serving.load().chain_pem.clone()
    }
}

impl Serving {
    fn read(config: &TlsConfig) -> Result<Self, TlsError> {
        let chain_pem = read(&config.cert_file)?;
        let chain = certificates(&chain_pem, &config.cert_file)?;
        let key = PrivateKeyDer::from_pem_slice(&read(&config.key_file)?).map_err(|e| invalid(&config.key_file, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&config.cert_file, e))?;
        let builder = match &config.client_ca_file {
            Some(ca_file) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in certificates(&read(ca_file)?, ca_file)? {
                    roots.add(certificate).map_err(|e| invalid(ca_file, e))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = match config.client_cert_required {
                    true => verifier.build(),
                    false => verifier.allow_unauthenticated().build(),
                };
                builder.with_client_cert_verifier(verifier.map_err(|e| invalid(ca_file, e))?)
            }
            None => builder.with_no_client_auth(),
        };
        // Checks that the key is the certificate's.
        let server = builder
            .with_single_cert(chain, key)
            .map_err(|e| invalid(&config.key_file, e))?;
        let offering = |protocol: &[u8]| {
            let mut server = server.clone();
            server.alpn_protocols = vec![protocol.to_vec()];
            Arc::new(server)
        };
        Ok(Self {
            pg: offering(b"postgresql"),
            flight: offering(b"h2"),
            chain_pem: Arc::new(chain_pem),
        })
    }
}

/// The subject common name (CN) of a client's certificate: who a `cert_identity` user must be.
pub fn common_name(certificate: &CertificateDer<'_>) -> Option<String> {
    X509Certificate::from_der(certificate.as_ref())
        .ok()?
        .subject_common_name()
}

/// What `semgate check` says of the configured certificate: its subject and expiry, after checking that the files
/// read, parse, and that the key is the certificate's.
#[derive(Debug)]
pub struct CertificateFacts {
    pub subject: String,
    pub not_after: chrono::DateTime<chrono::Utc>,
}

impl CertificateFacts {
    pub fn days_left(&self) -> i64 {
        (self.not_after - chrono::Utc::now()).num_days()
    }
}

pub fn inspect(config: &TlsConfig) -> Result<CertificateFacts, TlsError> {
    Serving::read(config)?;
    let pem = read(&config.cert_file)?;
    let leaf = X509Certificate::from_pem(&pem).map_err(|e| invalid(&config.cert_file, e))?;
    Ok(CertificateFacts {
        subject: leaf.subject_common_name().unwrap_or_else(|| "(no common name)".into()),
        not_after: leaf.validity_not_after(),
    })
}

fn certificates(pem: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.display().to_string(),
        });
    }
    Ok(chain)
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

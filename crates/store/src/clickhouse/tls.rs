//! TLS to ClickHouse (`https://` URLs): rustls with the *ring* provider.
//!
//! Without [`ClickHouseTls`], an `https://` URL is verified against the Mozilla
//! roots built into the binary (`webpki-roots`), which is what managed services
//! such as ClickHouse Cloud need. With it, the server is verified against the
//! given CA bundle instead (a private CA), and a client certificate is presented
//! when one is given (mutual TLS). `http://` URLs work either way.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the TLS material for ClickHouse is: PEM files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClickHouseTlsFiles {
    /// CA bundle (one or more PEM certificates) that the server's certificate
    /// must chain to. Replaces the built-in roots. Unset: the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM), for servers that require mutual TLS.
    pub client_cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub client_key_file: Option<PathBuf>,
}

impl ClickHouseTlsFiles {
    /// Whether any file is set (else the built-in roots are enough).
    pub fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.client_cert_file.is_none() && self.client_key_file.is_none()
    }
}

/// Why the TLS material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{path}: {reason}")]
    File {
        /// The file at fault.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A client certificate without its key, or the other way round.
    #[error("a client certificate and its key go together: set both client_cert_file and client_key_file")]
    HalfClientIdentity,
    /// rustls refused the combination (for example a key that does not match
    /// the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

/// TLS settings for ClickHouse, loaded and checked: the files are read once,
/// by [`ClickHouseTls::load`], so a bad path fails at startup, not at the first
/// query.
#[derive(Clone)]
pub struct ClickHouseTls {
    files: ClickHouseTlsFiles,
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for ClickHouseTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Paths only: never the key material.
        f.debug_struct("ClickHouseTls").field("files", &self.files).finish_non_exhaustive()
    }
}

impl PartialEq for ClickHouseTls {
    fn eq(&self, other: &Self) -> bool {
        self.files == other.files
    }
}

impl Eq for ClickHouseTls {}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> TlsConfigError {
    TlsConfigError::File { path: path.to_path_buf(), reason: reason.to_string() }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file"));
    }
    Ok(certs)
}

impl ClickHouseTls {
    /// Reads and checks the files. With no file set, the result trusts the
    /// built-in roots, as an `https://` URL does without any TLS settings.
    pub fn load(files: &ClickHouseTlsFiles) -> Result<Self, TlsConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        match &files.ca_file {
            Some(path) => {
                for cert in certificates(path)? {
                    roots.add(cert).map_err(|e| file_error(path, e))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
            .with_root_certificates(roots);
        let config = match (&files.client_cert_file, &files.client_key_file) {
            (Some(cert), Some(key)) => {
                let chain = certificates(cert)?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
            }
            (None, None) => builder.with_no_client_auth(),
            (Some(_), None) | (None, Some(_)) => return Err(TlsConfigError::HalfClientIdentity),
        };
        Ok(ClickHouseTls { files: files.clone(), config: Arc::new(config) })
    }

    /// The files these settings came from.
    pub fn files(&self) -> &ClickHouseTlsFiles {
        &self.files
    }

    /// A `clickhouse` client whose HTTP client speaks `http://` and `https://`
    /// with these settings; pooling as the crate's own default client.
    pub(crate) fn client(&self) -> clickhouse::Client {
        let mut http = HttpConnector::new();
        http.set_keepalive(Some(TCP_KEEPALIVE));
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*self.config).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        clickhouse::Client::with_http_client(
            HyperClient::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT).build(connector),
        )
    }
}

/// As the `clickhouse` crate's default client: TCP keepalive, and idle
/// connections dropped before the server's own 3 s keep-alive timeout.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_files_trusts_the_built_in_roots() {
        let tls = ClickHouseTls::load(&ClickHouseTlsFiles::default()).expect("built-in roots");
        assert!(tls.files().is_empty());
    }

    #[test]
    fn bad_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing-ca.pem");
        let err = ClickHouseTls::load(&ClickHouseTlsFiles { ca_file: Some(missing), ..Default::default() })
            .expect_err("missing file");
        assert!(err.to_string().contains("missing-ca.pem"), "{err}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let err = ClickHouseTls::load(&ClickHouseTlsFiles { ca_file: Some(empty), ..Default::default() })
            .expect_err("no certificate");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files =
            ClickHouseTlsFiles { client_cert_file: Some(dir.path().join("c.pem")), ..Default::default() };
        assert!(matches!(ClickHouseTls::load(&files), Err(TlsConfigError::HalfClientIdentity)));
    }
}

//! Fetching recordings named by URI: `file://`, `s3://` (any S3-compatible
//! store, credentials from the usual `AWS_*` variables) and `http(s)://`,
//! through `object_store`.
//!
//! Local files are not read here: the decoder streams them from disk, so a
//! two-hour recording never sits in memory whole.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use object_store::{ClientOptions, ObjectStore};

use crate::errors::{Classify, ErrorClass};
use crate::event::AudioRef;

/// A recording ready to decode.
#[derive(Debug)]
pub enum Fetched {
    /// A local file, decoded by streaming it.
    Path(PathBuf),
    /// Bytes in memory, with the format hint (extension).
    Bytes(Vec<u8>, Option<String>),
}

/// Why a recording could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The recording does not exist, or access is denied: retrying cannot help.
    #[error("recording not available: {0}")]
    Permanent(String),
    /// The store did not answer, or answered with a server error: retry.
    #[error("recording could not be fetched (will retry): {0}")]
    Transient(String),
}

impl Classify for FetchError {
    fn class(&self) -> ErrorClass {
        match self {
            FetchError::Permanent(_) => ErrorClass::dead_letter("recording_unavailable"),
            FetchError::Transient(_) => ErrorClass::retry("recording_unavailable"),
        }
    }

    /// The URI and the cause, without the prefix: the class already says it.
    fn reason(&self) -> String {
        match self {
            FetchError::Permanent(reason) | FetchError::Transient(reason) => reason.clone(),
        }
    }
}

/// Fetches recordings; keeps one client per bucket or origin.
#[derive(Debug)]
pub struct Fetcher {
    timeout: Duration,
    clients: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Fetcher {
    /// A fetcher whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Fetcher { timeout, clients: Mutex::new(HashMap::new()) }
    }

    /// Resolves a recording to a local path or bytes.
    pub async fn fetch(&self, audio: AudioRef) -> Result<Fetched, FetchError> {
        let (uri, format) = match audio {
            AudioRef::Inline { bytes, format } => return Ok(Fetched::Bytes(bytes, format)),
            AudioRef::Uri { uri, format } => (uri, format),
        };
        let ext = format.or_else(|| {
            std::path::Path::new(uri.path()).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
        });
        if uri.scheme() == "file" {
            let path =
                uri.to_file_path().map_err(|()| FetchError::Permanent(format!("{uri}: not a local path")))?;
            return match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => Ok(Fetched::Path(path)),
                Ok(_) => Err(FetchError::Permanent(format!("{}: not a file", path.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(FetchError::Permanent(format!("{}: no such file", path.display())))
                }
                Err(e) => Err(FetchError::Transient(format!("{}: {e}", path.display()))),
            };
        }
        let (client, path) = self.client(&uri)?;
        let bytes = tokio::time::timeout(self.timeout, async { client.get(&path).await?.bytes().await })
            .await
            .map_err(|_| FetchError::Transient(format!("{uri}: timed out after {:?}", self.timeout)))?
            .map_err(|e| classify(&uri, e))?;
        Ok(Fetched::Bytes(bytes.to_vec(), ext))
    }

    fn client(&self, uri: &url::Url) -> Result<(Arc<dyn ObjectStore>, object_store::path::Path), FetchError> {
        let bad = |why: &str| FetchError::Permanent(format!("{uri}: {why}"));
        let key = match uri.scheme() {
            "s3" => format!("s3://{}", uri.host_str().ok_or_else(|| bad("no bucket"))?),
            _ => uri.origin().ascii_serialization(),
        };
        let path = object_store::path::Path::from_url_path(uri.path()).map_err(|e| bad(&e.to_string()))?;
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(&key) {
            return Ok((c.clone(), path));
        }
        let options = ClientOptions::new().with_timeout(self.timeout);
        let client: Arc<dyn ObjectStore> = if uri.scheme() == "s3" {
            Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_url(key.clone())
                    .with_client_options(options)
                    .build()
                    .map_err(|e| bad(&e.to_string()))?,
            )
        } else {
            Arc::new(
                object_store::http::HttpBuilder::new()
                    .with_url(key.clone())
                    .with_client_options(options.with_allow_http(true))
                    .build()
                    .map_err(|e| bad(&e.to_string()))?,
            )
        };
        clients.insert(key, client.clone());
        Ok((client, path))
    }
}

/// Which object store errors a retry may fix.
// object_store::Error is a foreign, non-exhaustive enum: anything not known to
// be permanent (network errors, server errors) may pass on a retry.
#[allow(clippy::wildcard_enum_match_arm)]
fn classify(uri: &url::Url, e: object_store::Error) -> FetchError {
    match e {
        object_store::Error::NotFound { .. } => FetchError::Permanent(format!("{uri}: not found")),
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            FetchError::Permanent(format!("{uri}: access denied"))
        }
        other => FetchError::Transient(format!("{uri}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_files_inline_bytes_and_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.flac");
        std::fs::write(&file, b"x").expect("write");
        let f = Fetcher::new(Duration::from_secs(1));
        let uri = url::Url::from_file_path(&file).expect("abs");
        assert!(matches!(
            f.fetch(AudioRef::Uri { uri, format: None }).await,
            Ok(Fetched::Path(p)) if p == file
        ));
        let missing = url::Url::from_file_path(dir.path().join("b.flac")).expect("abs");
        assert!(matches!(
            f.fetch(AudioRef::Uri { uri: missing, format: None }).await,
            Err(FetchError::Permanent(m)) if m.contains("no such file")
        ));
        assert!(matches!(
            f.fetch(AudioRef::Inline { bytes: vec![1], format: Some("wav".into()) }).await,
            Ok(Fetched::Bytes(b, Some(e))) if b == [1] && e == "wav"
        ));
    }

    #[test]
    fn transient_errors_are_retried_and_the_reason_is_the_cause() {
        let gone = FetchError::Permanent("s3://b/k.flac: not found".into());
        assert_eq!(gone.class(), ErrorClass::dead_letter("recording_unavailable"));
        assert_eq!(gone.reason(), "s3://b/k.flac: not found");
        let slow = FetchError::Transient("s3://b/k.flac: timed out".into());
        assert_eq!(slow.class().action, crate::errors::Action::Retry);
    }

    #[tokio::test]
    async fn an_unreachable_http_origin_is_transient() {
        // Port 9 on 127.0.0.1 (discard) is closed: the connection is refused.
        let f = Fetcher::new(Duration::from_secs(2));
        let uri = url::Url::parse("http://127.0.0.1:9/calls/a.flac").expect("url");
        assert!(matches!(f.fetch(AudioRef::Uri { uri, format: None }).await, Err(FetchError::Transient(_))));
    }
}

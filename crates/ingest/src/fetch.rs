//! Fetching recordings named by URI: `file://`, `http(s)://` and `s3://` (any
//! S3-compatible store, credentials from the usual `AWS_*` variables).
//!
//! # Memory
//! Nothing is read into memory whole. Local files are decoded in place (the
//! decoder streams them from disk); downloads are streamed chunk by chunk into
//! a temporary file (in `download_dir`, else the system's), which the decoder
//! then streams in turn and which is deleted when the call is done with it.
//! `max_bytes` is enforced on the declared size (`Content-Length`, the
//! object's size, the file's length) before anything is read, and again on
//! what actually arrives.
//!
//! # Errors
//! Each [`FetchError`] says what a retry can do (see [`Classify`]):
//! - [`FetchError::Permanent`]: not found, gone, access denied, a bad request
//!   (HTTP 400, 401, 403, 404, 410, …; a missing or unreadable local file).
//!   Confirmed by a few tries (an object store may not show a fresh upload at
//!   once), then dead-lettered as `recording_unavailable`.
//! - [`FetchError::Transient`]: no answer, a reset, a timeout, HTTP 408, 429
//!   and 5xx, a full disk while downloading. Retried with backoff, up to a cap,
//!   then dead-lettered as `recording_unreachable`.
//! - [`FetchError::TooLarge`] and [`FetchError::Invalid`]: dead-lettered at
//!   once (`recording_too_large`, `invalid_audio_uri`).
//!
//! HTTP(S) goes through `reqwest` (so the status code is known exactly); S3
//! through `object_store`, with its own retries off so that the engine's
//! budget is the only one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use tokio::io::AsyncWriteExt;

use crate::errors::{Classify, ErrorClass};
use crate::event::AudioRef;

/// A recording ready to decode.
#[derive(Debug)]
pub enum Fetched {
    /// A local file, decoded by streaming it.
    Path(PathBuf),
    /// A download in a temporary file, deleted when this is dropped.
    Download(tempfile::TempPath),
    /// Bytes in memory (inline in the event, 16 MiB at most), with the format
    /// hint (extension).
    Bytes(Vec<u8>, Option<String>),
}

/// Why a recording could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The recording does not exist, is gone, or access is denied: a few tries
    /// confirm it, then it is dead-lettered.
    #[error("recording not available: {0}")]
    Permanent(String),
    /// The store did not answer, or answered with a server error: retried with
    /// backoff, up to a cap.
    #[error("recording could not be fetched (will retry): {0}")]
    Transient(String),
    /// Larger than `ingest.max_recording_bytes`.
    #[error("recording too large: {0}")]
    TooLarge(String),
    /// The URI cannot name a recording.
    #[error("invalid recording URI: {0}")]
    Invalid(String),
}

impl Classify for FetchError {
    fn class(&self) -> ErrorClass {
        match self {
            FetchError::Permanent(_) => ErrorClass::dead_letter("recording_unavailable"),
            FetchError::Transient(_) => ErrorClass::retry("recording_unreachable"),
            FetchError::TooLarge(_) => ErrorClass::dead_letter("recording_too_large"),
            FetchError::Invalid(_) => ErrorClass::dead_letter("invalid_audio_uri"),
        }
    }

    /// The URI and the cause, without the prefix: the class already says it.
    fn reason(&self) -> String {
        match self {
            FetchError::Permanent(r)
            | FetchError::Transient(r)
            | FetchError::TooLarge(r)
            | FetchError::Invalid(r) => r.clone(),
        }
    }

    /// A missing recording may only be missing *yet* (an object store that
    /// does not list a fresh upload): confirmed by a few tries.
    fn confirm(&self) -> bool {
        matches!(self, FetchError::Permanent(_))
    }
}

/// How recordings are fetched.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Time limit of one fetch, download included.
    pub timeout: Duration,
    /// Largest recording accepted, bytes; `None`: no limit.
    pub max_bytes: Option<u64>,
    /// Where downloads are written; `None`: the system's temporary folder.
    pub download_dir: Option<PathBuf>,
}

impl FetchSettings {
    /// Settings with a timeout and no other limit.
    pub fn with_timeout(timeout: Duration) -> Self {
        FetchSettings { timeout, max_bytes: None, download_dir: None }
    }

    fn check_size(&self, what: &dyn std::fmt::Display, size: u64) -> Result<(), FetchError> {
        match self.max_bytes {
            Some(max) if size > max => Err(FetchError::TooLarge(format!(
                "{what}: {size} bytes, more than ingest.max_recording_bytes ({max})"
            ))),
            _ => Ok(()),
        }
    }
}

/// Fetches recordings; keeps one HTTP client, and one S3 client per bucket.
#[derive(Debug)]
pub struct Fetcher {
    settings: FetchSettings,
    http: reqwest::Client,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Fetcher {
    /// A fetcher with these settings.
    pub fn new(settings: FetchSettings) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Fetcher { settings, http, buckets: Mutex::new(HashMap::new()) }
    }

    /// Resolves a recording to a local path, a downloaded file, or (inline) bytes.
    pub async fn fetch(&self, audio: AudioRef) -> Result<Fetched, FetchError> {
        let (uri, format) = match audio {
            AudioRef::Inline { bytes, format } => {
                self.settings.check_size(&"inline audio", bytes.len() as u64)?;
                return Ok(Fetched::Bytes(bytes, format));
            }
            AudioRef::Uri { uri, format } => (uri, format),
        };
        let ext = format.or_else(|| {
            std::path::Path::new(uri.path()).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
        });
        match uri.scheme() {
            "file" => self.local(&uri),
            "http" | "https" => self.timed(&uri, self.http_download(&uri, ext.as_deref())).await,
            "s3" => self.timed(&uri, self.s3_download(&uri, ext.as_deref())).await,
            other => Err(FetchError::Invalid(format!("{uri}: unsupported scheme {other:?}"))),
        }
    }

    fn local(&self, uri: &url::Url) -> Result<Fetched, FetchError> {
        let path =
            uri.to_file_path().map_err(|()| FetchError::Invalid(format!("{uri}: not a local path")))?;
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                self.settings.check_size(&path.display(), m.len())?;
                Ok(Fetched::Path(path))
            }
            Ok(_) => Err(FetchError::Permanent(format!("{}: not a file", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(FetchError::Permanent(format!("{}: no such file", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                Err(FetchError::Permanent(format!("{}: permission denied", path.display())))
            }
            Err(e) => Err(FetchError::Transient(format!("{}: {e}", path.display()))),
        }
    }

    async fn timed(
        &self,
        uri: &url::Url,
        download: impl Future<Output = Result<Fetched, FetchError>>,
    ) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.settings.timeout, download).await.map_err(|_| {
            FetchError::Transient(format!("{uri}: no complete answer within {:?}", self.settings.timeout))
        })?
    }

    async fn http_download(&self, uri: &url::Url, ext: Option<&str>) -> Result<Fetched, FetchError> {
        let mut response = self.http.get(uri.as_str()).send().await.map_err(|e| http_error(uri, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(http_status(uri, status.as_u16()));
        }
        if let Some(len) = response.content_length() {
            self.settings.check_size(uri, len)?;
        }
        let mut file = Download::create(&self.settings, uri, ext)?;
        while let Some(chunk) = response.chunk().await.map_err(|e| http_error(uri, &e))? {
            file.write(&self.settings, uri, &chunk).await?;
        }
        file.finish(uri).await
    }

    async fn s3_download(&self, uri: &url::Url, ext: Option<&str>) -> Result<Fetched, FetchError> {
        let (client, path) = self.bucket(uri)?;
        let result = client.get(&path).await.map_err(|e| s3_error(uri, e))?;
        self.settings.check_size(uri, result.meta.size)?;
        let mut file = Download::create(&self.settings, uri, ext)?;
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| s3_error(uri, e))?;
            file.write(&self.settings, uri, &chunk).await?;
        }
        file.finish(uri).await
    }

    fn bucket(&self, uri: &url::Url) -> Result<(Arc<dyn ObjectStore>, object_store::path::Path), FetchError> {
        let bad = |why: &str| FetchError::Invalid(format!("{uri}: {why}"));
        let key = format!("s3://{}", uri.host_str().ok_or_else(|| bad("no bucket"))?);
        let path = object_store::path::Path::from_url_path(uri.path()).map_err(|e| bad(&e.to_string()))?;
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = buckets.get(&key) {
            return Ok((c.clone(), path));
        }
        // No retries inside the client: the engine's budget (with jitter) is the only one.
        let retry =
            RetryConfig { max_retries: 0, retry_timeout: self.settings.timeout, ..RetryConfig::default() };
        let client: Arc<dyn ObjectStore> = Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(key.clone())
                .with_client_options(ClientOptions::new().with_timeout(self.settings.timeout))
                .with_retry(retry)
                .build()
                .map_err(|e| bad(&e.to_string()))?,
        );
        buckets.insert(key, client.clone());
        Ok((client, path))
    }
}

/// A download under way: a temporary file and the bytes written so far.
struct Download {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    written: u64,
}

impl Download {
    fn create(settings: &FetchSettings, uri: &url::Url, ext: Option<&str>) -> Result<Download, FetchError> {
        let suffix = ext.map(|e| format!(".{e}")).unwrap_or_default();
        let mut builder = tempfile::Builder::new();
        builder.prefix("callscope-recording-").suffix(&suffix);
        let named = match &settings.download_dir {
            Some(dir) => builder.tempfile_in(dir),
            None => builder.tempfile(),
        }
        .map_err(|e| FetchError::Transient(format!("{uri}: cannot create a download file: {e}")))?;
        let (file, path) = named.into_parts();
        Ok(Download { file: tokio::fs::File::from_std(file), path, written: 0 })
    }

    async fn write(
        &mut self,
        settings: &FetchSettings,
        uri: &url::Url,
        chunk: &[u8],
    ) -> Result<(), FetchError> {
        self.written += chunk.len() as u64;
        settings.check_size(uri, self.written)?;
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| FetchError::Transient(format!("{uri}: writing the download: {e}")))
    }

    async fn finish(mut self, uri: &url::Url) -> Result<Fetched, FetchError> {
        self.file
            .flush()
            .await
            .map_err(|e| FetchError::Transient(format!("{uri}: writing the download: {e}")))?;
        Ok(Fetched::Download(self.path))
    }
}

/// What an HTTP status means for the recording.
fn http_status(uri: &url::Url, status: u16) -> FetchError {
    let what = format!("{uri}: HTTP {status}");
    match status {
        408 | 425 | 429 | 500..=599 => FetchError::Transient(what),
        _ => FetchError::Permanent(what),
    }
}

/// A request that got no status: every such failure (refused, reset, timed
/// out, cut mid-body) may pass on a retry, except a request that could not be built.
fn http_error(uri: &url::Url, e: &reqwest::Error) -> FetchError {
    if e.is_builder() {
        return FetchError::Invalid(format!("{uri}: {e}"));
    }
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    FetchError::Transient(format!("{uri}: {why}"))
}

/// Which object store errors a retry may fix.
// object_store::Error is a foreign, non-exhaustive enum: anything not known to
// be permanent (network errors, server errors) may pass on a retry.
#[allow(clippy::wildcard_enum_match_arm)]
fn s3_error(uri: &url::Url, e: object_store::Error) -> FetchError {
    match e {
        object_store::Error::NotFound { .. } => FetchError::Permanent(format!("{uri}: not found")),
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            FetchError::Permanent(format!("{uri}: access denied"))
        }
        other => {
            // The status of other answers is only in the text ("… status code: 410 Gone …").
            let text = other.to_string();
            let status = text
                .split("status code: ")
                .nth(1)
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse::<u16>().ok());
            match status {
                Some(code) => http_status(uri, code),
                None => FetchError::Transient(format!("{uri}: {text}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(max_bytes: Option<u64>) -> Fetcher {
        Fetcher::new(FetchSettings { max_bytes, ..FetchSettings::with_timeout(Duration::from_secs(2)) })
    }

    #[tokio::test]
    async fn local_files_inline_bytes_and_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.flac");
        std::fs::write(&file, b"x").expect("write");
        let f = fetcher(None);
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

    #[tokio::test]
    async fn recordings_over_the_size_limit_are_too_large() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.wav");
        std::fs::write(&file, [0u8; 100]).expect("write");
        let f = fetcher(Some(99));
        let uri = url::Url::from_file_path(&file).expect("abs");
        let err = f.fetch(AudioRef::Uri { uri, format: None }).await.expect_err("too large");
        assert_eq!(err.class(), ErrorClass::dead_letter("recording_too_large"));
        assert!(err.reason().contains("100 bytes") && err.reason().contains("max_recording_bytes"), "{err}");
        let err = f.fetch(AudioRef::Inline { bytes: vec![0; 100], format: None }).await.expect_err("inline");
        assert!(matches!(err, FetchError::TooLarge(_)), "{err}");
    }

    #[test]
    fn classes_kinds_and_reasons() {
        let gone = FetchError::Permanent("s3://b/k.flac: not found".into());
        assert_eq!(gone.class(), ErrorClass::dead_letter("recording_unavailable"));
        assert!(gone.confirm(), "a missing recording is confirmed by a few tries");
        assert_eq!(gone.reason(), "s3://b/k.flac: not found");
        let slow = FetchError::Transient("s3://b/k.flac: timed out".into());
        assert_eq!(slow.class(), ErrorClass::retry("recording_unreachable"));
        assert!(!FetchError::TooLarge("x".into()).confirm(), "a size does not change on a retry");
    }

    #[test]
    fn http_statuses_are_classified_by_what_a_retry_can_do() {
        let uri = url::Url::parse("https://rec.example/a.wav").expect("url");
        for status in [400, 401, 403, 404, 405, 410, 451] {
            assert!(matches!(http_status(&uri, status), FetchError::Permanent(_)), "{status}");
        }
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(http_status(&uri, status), FetchError::Transient(_)), "{status}");
        }
        assert!(http_status(&uri, 410).reason().contains("HTTP 410"));
    }

    #[tokio::test]
    async fn an_unreachable_http_origin_is_transient() {
        // Port 9 on 127.0.0.1 (discard) is closed: the connection is refused.
        let uri = url::Url::parse("http://127.0.0.1:9/calls/a.flac").expect("url");
        assert!(matches!(
            fetcher(None).fetch(AudioRef::Uri { uri, format: None }).await,
            Err(FetchError::Transient(_))
        ));
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_invalid() {
        let uri = url::Url::parse("ftp://127.0.0.1/a.flac").expect("url");
        let err = fetcher(None).fetch(AudioRef::Uri { uri, format: None }).await.expect_err("ftp");
        assert_eq!(err.class(), ErrorClass::dead_letter("invalid_audio_uri"));
    }
}

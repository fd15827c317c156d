//! Fetching a file someone attached for `/flashsale import`: from Discord's
//! CDN, or Slack's private file URL (with the bot token).
//!
//! serenity's `Attachment::download` has no timeout and reads whatever the
//! server sends. This one gives up after [`TIMEOUT`] and stops reading one
//! byte past [`MAX_FILE_BYTES`], whatever the declared size or
//! `Content-Length` say, so a slow or endless body costs neither a task nor
//! memory.

use std::time::Duration;

use crate::import::{self, FileError, MAX_FILE_BYTES};

/// A 2 MiB file comes from Discord's CDN in well under a second.
pub const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// Refused by its size while reading.
    #[error(transparent)]
    File(#[from] FileError),
    #[error("the attachment did not arrive within {0:?}")]
    Timeout(Duration),
    #[error("could not fetch the attachment")]
    Http(#[from] reqwest::Error),
}

/// The bytes at `url` (the attachment `name`), within `timeout`.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    name: &str,
    timeout: Duration,
) -> Result<Vec<u8>, DownloadError> {
    download_request(client.get(url), name, timeout).await
}

/// As `download`, for a request that needs more than a URL (Slack's files
/// need the bot token).
pub async fn download_request(
    request: reqwest::RequestBuilder,
    name: &str,
    timeout: Duration,
) -> Result<Vec<u8>, DownloadError> {
    tokio::time::timeout(timeout, read(request, name))
        .await
        .map_err(|_| DownloadError::Timeout(timeout))?
}

async fn read(request: reqwest::RequestBuilder, name: &str) -> Result<Vec<u8>, DownloadError> {
    let mut response = request.send().await?.error_for_status()?;
    if let Some(declared) = response.content_length() {
        import::check_size(name, declared)?;
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes.extend_from_slice(&chunk);
        // Refuses as soon as the body passes the cap, however long it goes on.
        if bytes.len() as u64 > MAX_FILE_BYTES {
            import::check_size(name, bytes.len() as u64)?;
        }
    }
    import::check_size(name, bytes.len() as u64)?;
    Ok(bytes)
}

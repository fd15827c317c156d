//! Files into Slack, and the sale picture that follows a card or "now live".
//!
//! Slack retired `files.upload`; a file now goes in three steps: an upload
//! URL (`files.getUploadURLExternal` with the file's name and length), the
//! bytes POSTed to that URL, then `files.completeUploadExternal` to share it
//! (in a channel, or as a reply in a message's thread with `thread_ts`).
//! [`SlackApi::share_file`] does the three; exports and the pictures use it.
//!
//! The picture goes into the message's thread, not into the card. Discord
//! shows an uploaded file in the embed (`attachment://`), by one edit. Slack's
//! `image` block can name an uploaded file (`slack_file: {id}`), but only a
//! file that is already shared where the message is and that Slack has
//! finished processing: a file completed without a channel is private to the
//! bot, and `completeUploadExternal` shares asynchronously, so a
//! `chat.update` right after it is often refused with `invalid_blocks`
//! ("invalid slack file"), which would need polling `files.info` before the
//! edit. Sharing the file into the thread is one call that Slack
//! documents for exactly this (`thread_ts`), needs no second edit of the card
//! (so it never races the card's own edits, nor can a refused picture break
//! the card), and shows the picture one click away, under the card.
//!
//! Nothing waits for it: [`Pictures::share_later`] spawns the drawing and the
//! upload after the post or edit went out. A card edited several times shares
//! only the picture of its latest edit (an older drawing that finishes late is
//! dropped), and an edit whose picture equals the one already in the thread
//! (same model, e.g. only the footer changed) shares nothing new. That holds
//! within this process; two replicas editing one card may both share.
//!
//! Each picture is counted once in `flashsale_pictures_total{picture,outcome}`:
//! `ok` when drawn (and shared, or not needed any more), `failed` when the
//! message stays without it because drawing or the upload failed; both log why.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use slack_morphism::prelude::{
    SlackApiFilesComplete, SlackApiFilesCompleteUploadExternalRequest,
    SlackApiFilesGetUploadUrlExternalRequest, SlackApiFilesUploadViaUrlRequest, SlackChannelId,
    SlackTs,
};

use super::api::{SlackApi, SlackApiError};
use crate::chat::{Message, PostedRef};
use crate::render::{Painter, Picture};

/// Messages whose pictures are tracked before the idle ones are forgotten.
const TRACKED_MESSAGES: usize = 10_000;

/// One file to share: where, under which name, and what it is.
#[derive(Debug, Clone)]
pub struct FileShare<'a> {
    /// The channel id (`C…`) it is shared in.
    pub channel: &'a str,
    /// The parent message's `ts` to share it as a reply in that thread.
    pub thread_ts: Option<&'a str>,
    /// Its name, which also says its type (`sale-12.png`, `session-12.csv`).
    pub file_name: &'a str,
    /// The text above the file, if any.
    pub comment: Option<&'a str>,
    pub bytes: Vec<u8>,
}

/// What we read of `files.completeUploadExternal` (nothing: `ok` is checked by the client).
#[derive(Debug, serde::Deserialize)]
struct Completed {}

impl SlackApi {
    /// Shares a file in `channel` (exports, log exports), not in a thread.
    /// Answers the file's id.
    pub async fn upload_file(
        &self,
        channel: &str,
        file_name: &str,
        bytes: Vec<u8>,
        comment: Option<&str>,
    ) -> Result<String, SlackApiError> {
        self.share_file(FileShare {
            channel,
            thread_ts: None,
            file_name,
            comment,
            bytes,
        })
        .await
    }

    /// Uploads and shares one file (see the module doc); answers its id.
    pub async fn share_file(&self, file: FileShare<'_>) -> Result<String, SlackApiError> {
        let session = self.session();
        let target = self
            .call(
                "files.getUploadURLExternal",
                session.get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
                    file.file_name.to_owned(),
                    file.bytes.len(),
                )),
            )
            .await?;
        let file_id = target.file_id.clone();
        self.call(
            "uploading the file",
            session.files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(
                target.upload_url,
                file.bytes,
                content_type(file.file_name).to_owned(),
            )),
        )
        .await?;
        let mut complete =
            SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(
                file_id.clone(),
            )
            .with_title(file.file_name.to_owned())])
            .with_channel_id(SlackChannelId::new(file.channel.to_owned()));
        if let Some(ts) = file.thread_ts {
            complete = complete.with_thread_ts(SlackTs::new(ts.to_owned()));
        }
        if let Some(comment) = file.comment {
            complete = complete.with_initial_comment(comment.to_owned());
        }
        let _: Completed = self
            .call(
                "files.completeUploadExternal",
                session
                    .http_session_api
                    .http_post("files.completeUploadExternal", &complete, None),
            )
            .await?;
        Ok(file_id.0)
    }
}

pub fn content_type(file_name: &str) -> &'static str {
    match file_name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => "text/csv",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("png") => "image/png",
        Some("txt") | Some("log") => "text/plain",
        _ => "application/octet-stream",
    }
}

/// Draws messages' pictures and shares them into the messages' threads.
pub struct Pictures {
    api: SlackApi,
    painter: Painter,
    /// Per message (channel id, ts): its pictures asked for and the one shown.
    messages: Mutex<HashMap<(String, String), Arc<Thread>>>,
}

/// One message's pictures.
#[derive(Default)]
struct Thread {
    /// How many pictures were asked for: only the latest is shared.
    asked: AtomicU64,
    /// The picture its thread shows, behind the lock every share to it holds.
    shown: tokio::sync::Mutex<Option<Picture>>,
}

impl Pictures {
    pub fn new(api: SlackApi, painter: Painter) -> Pictures {
        Pictures {
            api,
            painter,
            messages: Mutex::new(HashMap::new()),
        }
    }

    fn thread(&self, posted: &PostedRef) -> Arc<Thread> {
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if messages.len() >= TRACKED_MESSAGES {
            // Only threads nobody holds: a picture on its way keeps its message's.
            messages.retain(|_, thread| Arc::strong_count(thread) > 1);
        }
        let key = (posted.channel.clone(), posted.message.clone());
        Arc::clone(messages.entry(key).or_default())
    }

    /// After `message` went out at `posted` (a post or an edit): draws its
    /// picture, if it has one, and shares it in the message's thread, in the
    /// background. Returns at once.
    pub fn share_later(&self, posted: &PostedRef, message: &Message) {
        let Some(picture) = message.picture.clone() else {
            return;
        };
        let thread = self.thread(posted);
        let asked = thread.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let (api, painter, posted) = (self.api.clone(), self.painter.clone(), posted.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let kind = picture.kind();
            let png = match painter.png_off_runtime(&picture).await {
                Ok(png) => png,
                Err(e) => {
                    crate::metrics::picture(kind, started.elapsed(), false);
                    tracing::warn!(picture = %picture.file_name(), error = %e, "could not draw the picture; the message goes without it");
                    return;
                }
            };
            let drawn = started.elapsed();
            let mut shown = thread.shown.lock().await;
            if thread.asked.load(Ordering::SeqCst) != asked {
                crate::metrics::picture(kind, drawn, true);
                tracing::debug!(ts = %posted.message, "a newer edit brings its own picture");
                return;
            }
            if shown.as_ref() == Some(&picture) {
                crate::metrics::picture(kind, drawn, true);
                tracing::debug!(ts = %posted.message, "the thread already shows this picture");
                return;
            }
            let file_name = picture.file_name();
            let shared = api
                .share_file(FileShare {
                    channel: &posted.channel,
                    thread_ts: Some(&posted.message),
                    file_name: &file_name,
                    comment: None,
                    bytes: png,
                })
                .await;
            crate::metrics::picture(kind, drawn, shared.is_ok());
            match shared {
                Ok(file) => {
                    tracing::debug!(ts = %posted.message, file = %file, "the picture is in the message's thread");
                    *shown = Some(picture);
                }
                Err(e) => {
                    tracing::warn!(ts = %posted.message, picture = %file_name, error = %e, "could not upload the picture; the message goes without it");
                }
            }
        });
    }
}

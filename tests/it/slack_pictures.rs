//! The sale's picture in Slack, end to end: the real bot against the fake Slack. The approval card
//! and "now live" go out at once, and the picture follows as a PNG uploaded with
//! `files.getUploadURLExternal`, the bytes, and `files.completeUploadExternal` into the message's
//! thread (`thread_ts`); an edit that changes the picture shares the new one; without fonts, or
//! when Slack refuses the upload, the card still goes out and works, and the failure is counted.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use resvg::tiny_skia::Pixmap;
use serde_json::Value;
use sqlx::PgPool;

use crate::support::fake_slack::{FakeSlack, APPROVALS};
use crate::support::ops::get;
use crate::support::slack_bot::{SlackStory, CY};

/// The picture of `session` shared in the thread of `ts`: named for the session, the bytes the
/// bot uploaded for that file id a PNG of 1200 x 630, completed after the message went out.
fn assert_sale_picture(fake: &FakeSlack, file: &Value, session: i64, posted_seq: usize) {
    let name = format!("sale-{session}.png");
    assert_eq!(file["title"], name, "{file}");
    let id = file["id"].as_str().expect("a file id");
    let bytes = fake.file_bytes(id).expect("the bytes were uploaded");
    assert_eq!(file["size"].as_u64(), Some(bytes.len() as u64));
    let png = Pixmap::decode_png(&bytes).expect("the upload is a PNG");
    assert_eq!((png.width(), png.height()), (1200, 630));
    assert!(
        png.pixels()
            .iter()
            .any(|p| p.red() != png.pixels()[0].red()),
        "the picture is blank"
    );
    let calls = fake.calls();
    let asked = calls
        .iter()
        .find(|c| c.method == "files.getUploadURLExternal" && c.answer["file_id"] == id)
        .expect("an upload URL for the file");
    assert!(
        asked.seq > posted_seq,
        "the upload started before the message went out"
    );
    assert_eq!(asked.args["filename"], name);
    let completed = calls
        .iter()
        .find(|c| {
            c.method == "files.completeUploadExternal" && c.ok() && c.args["files"][0]["id"] == id
        })
        .expect("the upload was completed");
    assert_eq!(completed.args["thread_ts"], file["thread_ts"]);
}

/// Reads `/metrics` on `addr` until it contains `line` (5 s at most).
async fn wait_metric(addr: std::net::SocketAddr, line: &str) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        let (_, metrics) = get(format!("http://{addr}/metrics")).await;
        if metrics.contains(line) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {line} in:\n{metrics}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

async fn free_addr() -> std::net::SocketAddr {
    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    free.local_addr().unwrap()
}

/// The `chat.postMessage` call that posted `ts`.
fn post_seq(fake: &FakeSlack, ts: &str) -> usize {
    fake.calls_to("chat.postMessage")
        .into_iter()
        .find(|c| c.answer["ts"] == ts)
        .expect("the post")
        .seq
}

#[sqlx::test]
async fn the_approval_card_goes_out_at_once_and_its_picture_follows_in_its_thread(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let start = Utc::now() + Duration::hours(3);
    let (session, card) = story.submitted(start, start + Duration::hours(2)).await;
    let posted = post_seq(&story.fake, &card.ts);

    let file = story.fake.wait_file_in_thread(APPROVALS, &card.ts, 0).await;
    assert_sale_picture(&story.fake, &file, session, posted);
    let shown = story.message(APPROVALS, &card.ts);
    assert_eq!(
        shown.message["blocks"], card.body["blocks"],
        "the picture does not touch the card"
    );

    // Approving edits the card at once; the picture of the approved sale follows in the thread.
    let mark = story.fake.mark();
    story.approve_from_card(CY, session, &card).await;
    let edited = story.update_of(mark, &card.ts, "").await;
    let second = story.fake.wait_file_in_thread(APPROVALS, &card.ts, 1).await;
    assert_sale_picture(&story.fake, &second, session, edited.seq);
    assert_ne!(second["id"], file["id"]);
    story.finish().await;
}

#[sqlx::test]
async fn now_live_carries_the_sale_picture_in_its_thread(pool: PgPool) {
    let story = SlackStory::start_with(
        pool,
        &[("APPROVAL_CUTOFF_MINUTES", "0"), ("MIN_LEAD_MINUTES", "0")],
    )
    .await;
    let (session, _, live, _) = story.gone_live().await;
    let channel = live.args["channel"].as_str().expect("a channel").to_owned();
    let ts = live.answer["ts"].as_str().expect("a ts").to_owned();
    let file = story.fake.wait_file_in_thread(&channel, &ts, 0).await;
    assert_sale_picture(&story.fake, &file, session, live.seq);
    story.finish().await;
}

#[sqlx::test]
async fn without_its_fonts_the_card_goes_out_without_a_picture_and_the_failure_is_counted(
    pool: PgPool,
) {
    let addr = free_addr().await;
    let story = SlackStory::start_with(
        pool,
        &[
            ("PICTURE_FONT_DIR", "/nonexistent/fonts"),
            ("HTTP_ADDR", &addr.to_string()),
        ],
    )
    .await;
    let start = Utc::now() + Duration::hours(3);
    let (session, card) = story.submitted(start, start + Duration::hours(2)).await;
    assert_eq!(story.row(session).await.status, "pending_approval");
    wait_metric(
        addr,
        r#"flashsale_pictures_total{outcome="failed",picture="sale"} 1"#,
    )
    .await;
    assert!(story.fake.calls_to("files.getUploadURLExternal").is_empty());
    assert!(story.fake.files().is_empty());
    assert_eq!(
        card.button_ids().len(),
        2,
        "the card works without its picture"
    );
    story.approve_from_card(CY, session, &card).await;
    story.finish().await;
}

#[sqlx::test]
async fn a_refused_upload_leaves_the_card_without_a_picture_and_is_counted(pool: PgPool) {
    let addr = free_addr().await;
    let story = SlackStory::start_with(pool, &[("HTTP_ADDR", &addr.to_string())]).await;
    // A bot token without files:write.
    story
        .fake
        .refuse_method("files.getUploadURLExternal", "missing_scope");
    let start = Utc::now() + Duration::hours(3);
    let (session, card) = story.submitted(start, start + Duration::hours(2)).await;
    wait_metric(
        addr,
        r#"flashsale_pictures_total{outcome="failed",picture="sale"} 1"#,
    )
    .await;
    assert!(story.fake.files().is_empty());
    assert_eq!(
        story.fake.calls_to("files.getUploadURLExternal")[0].error(),
        Some("missing_scope")
    );
    story.approve_from_card(CY, session, &card).await;
    story.finish().await;
}

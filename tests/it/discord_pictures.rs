//! The sale's picture in Discord, end to end: the real bot against the fake Discord. The approval
//! card and "now live" go out at once and get their picture by an edit that uploads a PNG the
//! embed shows (`attachment://sale-<id>.png`); an edit of the card brings a new picture; the
//! presser's first answer never waits for drawing; and without fonts the card still goes out,
//! the failure logged and counted.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use resvg::tiny_skia::Pixmap;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::fake_discord::story::{bob, Story};
use crate::support::fake_discord::Recorded;
use crate::support::ops::get;

/// The uploaded picture of `session`: one PNG of 1200 x 630, named for the session, shown by the
/// embed of the same edit.
fn assert_sale_picture(edit: &Recorded, session: i64) {
    let name = format!("sale-{session}.png");
    assert_eq!(edit.files.len(), 1, "{:?}", edit.files);
    let file = &edit.files[0];
    assert_eq!(file.filename, name);
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    let png = Pixmap::decode_png(&file.bytes).expect("the upload is a PNG");
    assert_eq!((png.width(), png.height()), (1200, 630));
    assert_eq!(
        edit.body["embeds"][0]["image"]["url"],
        json!(format!("attachment://{name}"))
    );
    assert_eq!(edit.body["attachments"][0]["filename"], json!(name));
}

/// What the message looks like in Discord now: one attachment, the embed showing it.
fn assert_shows_one_picture(message: &Value, session: i64) {
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{message:#}");
    assert_eq!(
        attachments[0]["filename"],
        json!(format!("sale-{session}.png"))
    );
    assert_eq!(message["embeds"][0]["image"]["url"], attachments[0]["url"]);
}

#[sqlx::test]
async fn the_approval_card_gets_its_picture_after_it_is_posted_and_a_new_one_when_it_changes(
    pool: PgPool,
) {
    let story = Story::start(pool).await;
    let start = Utc::now() + Duration::hours(3);
    let mark = story.fake.mark();
    let (session, card) = story
        .submitted_as_posted(start, start + Duration::hours(2))
        .await;
    let card_id = card.message_id();
    assert!(card.files.is_empty(), "the card waited for its picture");
    assert!(card.body["embeds"][0]["image"].is_null());

    let picture = story.picture_of(mark, card_id).await;
    assert_sale_picture(&picture, session);
    assert!(picture.at > card.at);
    assert_eq!(picture.body["content"], card.body["content"]);
    assert_eq!(
        picture.body["components"], card.body["components"],
        "the buttons stay"
    );
    assert_eq!(
        picture.body["allowed_mentions"]["roles"],
        json!([]),
        "adding a picture pings nobody"
    );
    assert_shows_one_picture(&story.fake.message(card_id), session);

    // Approving edits the card at once (buttons gone, old picture dropped), then the new picture
    // follows; the presser's first answer came before any of it.
    let mark = story.fake.mark();
    let press = story.fake.press(&bob(), card_id, &card.button_ids()[0]);
    let first_answer = story.fake.callback(&press).await;
    let edited = story.card_edit(mark, card_id, "approved").await;
    assert!(edited.files.is_empty());
    assert_eq!(edited.body["attachments"], json!([]));
    let repainted = story.picture_of(mark, card_id).await;
    assert!(first_answer.at < repainted.at);
    assert!(edited.seq < repainted.seq);
    assert_sale_picture(&repainted, session);
    assert_eq!(repainted.body["components"], json!([]));
    let now = story.fake.message(card_id);
    assert_shows_one_picture(&now, session);
    assert!(
        crate::support::discord::all_text(&now).contains("Approved by Bob"),
        "{now:#}"
    );
    story.finish().await;
}

#[sqlx::test]
async fn now_live_carries_the_sale_picture(pool: PgPool) {
    let story = Story::start_with(
        pool,
        &[("APPROVAL_CUTOFF_MINUTES", "0"), ("MIN_LEAD_MINUTES", "0")],
    )
    .await;
    let (session, _, live, mark) = story.gone_live().await;
    assert!(live.files.is_empty(), "going live waited for a picture");
    let picture = story.picture_of(mark, live.message_id()).await;
    assert_sale_picture(&picture, session);
    assert_shows_one_picture(&story.fake.message(live.message_id()), session);
    story.finish().await;
}

#[sqlx::test]
async fn without_its_fonts_the_card_goes_out_without_a_picture_and_the_failure_is_counted(
    pool: PgPool,
) {
    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let story = Story::start_with(
        pool,
        &[
            ("PICTURE_FONT_DIR", "/nonexistent/fonts"),
            ("HTTP_ADDR", &addr.to_string()),
        ],
    )
    .await;
    let start = Utc::now() + Duration::hours(3);
    let (session, card) = story
        .submitted_as_posted(start, start + Duration::hours(2))
        .await;
    assert!(story.row(session).await.status == "pending_approval");
    story.wait_first_log("could not draw the picture").await;

    let failed = r#"flashsale_pictures_total{outcome="failed",picture="sale"} 1"#;
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        let (_, metrics) = get(format!("http://{addr}/metrics")).await;
        if metrics.contains(failed) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed picture counted:\n{metrics}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let pictures = story
        .fake
        .requests()
        .into_iter()
        .filter(|r| !r.files.is_empty())
        .count();
    assert_eq!(pictures, 0);
    let shown = story.fake.message(card.message_id());
    assert_eq!(shown["attachments"], json!([]));
    assert_eq!(
        crate::support::fake_discord::button_ids(&shown).len(),
        2,
        "the card works without its picture"
    );
    story.finish().await;
}

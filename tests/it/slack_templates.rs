//! Templates on Slack: a slash command cannot carry a file, so
//! `/flashsale template import` opens a file form; only editors may save
//! one, and nothing is downloaded before that is checked.

use sqlx::PgPool;

use crate::support::fake_slack::GENERAL;
use crate::support::slack_bot::{SlackStory, ANA, CY};

#[sqlx::test]
async fn a_template_is_imported_through_the_file_form_and_only_by_an_editor(pool: PgPool) {
    let story = SlackStory::start(pool).await;

    let form = story.command(ANA, "template import").await;
    assert!(form.is_modal(), "{}", form.text());
    assert_eq!(form.callback_id(), "fs:template-import");
    // Someone who may not draft gets no form at all.
    let refused = story.command(CY, "template import").await;
    assert!(!refused.is_modal());
    assert!(refused.text().contains("editor"), "{}", refused.text());

    let csv = b"SKU,Discount,Qty\nFS-001,30,5\nFS-002,25,2\n";
    let file = story.fake.host_file("midnight.csv", csv);

    // A name that is no template name is refused under its field, nothing read.
    let sent = story.fake.submit_view_with_files(
        ANA,
        "fs:template-import",
        &[("name", "name", "   ")],
        &[("file", vec![file.clone()])],
    );
    let ack = story.fake.ack(&sent).await;
    assert_eq!(
        ack.payload["response_action"], "errors",
        "{:?}",
        ack.payload
    );
    assert!(
        ack.payload["errors"]["name"].is_string(),
        "{:?}",
        ack.payload
    );
    assert_eq!(story.fake.file_reads(), 0);

    // A form submitted by a non-editor is refused before the file is read.
    let mark = story.fake.mark();
    let sent = story.fake.submit_view_with_files(
        CY,
        "fs:template-import",
        &[("name", "name", "midnight")],
        &[("file", vec![file.clone()])],
    );
    let refused = story.answer_to(&sent, mark, CY, GENERAL).await;
    assert!(refused.text().contains("editor"), "{}", refused.text());
    assert_eq!(
        story.fake.file_reads(),
        0,
        "read before the role was checked"
    );

    let mark = story.fake.mark();
    let sent = story.fake.submit_view_with_files(
        ANA,
        "fs:template-import",
        &[("name", "name", "midnight")],
        &[("file", vec![file])],
    );
    let saved = story.answer_to(&sent, mark, ANA, GENERAL).await;
    assert!(
        saved.text().starts_with("Saved template midnight"),
        "{}",
        saved.text()
    );
    assert_eq!(story.fake.file_reads(), 1);

    let listed = story.command(ANA, "templates").await;
    assert!(listed.text().contains("midnight"), "{}", listed.text());
    assert!(listed.text().contains("FS-001"), "{}", listed.text());
    story.finish().await;
}

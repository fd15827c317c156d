//! `ConsoleChat`: the chat port for a terminal, and the buttons it has shown.
//!
//! Posts and edits (approval cards, "now live", reminders) are rendered at
//! once and queued for the console loop, which prints them between the
//! person's commands, in the order they happened. A terminal cannot change
//! what it printed, so an edit prints the message again, marked as updated.
//! The cards that still show buttons are remembered so `press approve 3` can
//! find the button the person sees; a card edited without buttons drops out.
//! A message's picture is drawn into the pictures folder first and its path
//! printed under the message, so a local run shows what Discord would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::render::{buttons, Renderer};
use crate::app::command_line::parser::{ButtonRef, Press};
use crate::chat::buttons::ButtonId;
use crate::chat::{Button, Channel, Chat, ChatError, InDoubt, Message, PostedRef};
use crate::clock::Clock;
use crate::render::{Painter, Picture};

/// Where the console keeps the pictures it draws, and how it draws them.
#[derive(Debug, Clone)]
pub struct PictureFolder {
    pub painter: Painter,
    /// Relative to the working folder, like the exports (`pictures` under it by default).
    pub dir: PathBuf,
}

impl PictureFolder {
    /// The picture drawn into the folder; its path, or `None` when drawing
    /// (logged and counted) or writing (logged) failed.
    async fn write(&self, picture: &Picture) -> Option<String> {
        let png = self.painter.png_in_background(picture).await?;
        let path = self.dir.join(picture.file_name());
        match write_replacing(&path, &png).await {
            Ok(()) => Some(
                std::path::absolute(&path)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
            ),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not write the picture");
                None
            }
        }
    }
}

/// Writes beside the target and renames, so an open viewer never sees half a PNG.
async fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = path.with_extension(format!("{}.part", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

/// A button as shown on a card, ready to be pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundButton {
    /// The id `press_button` parses (`fs:approve:3:7`).
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PressError {
    #[error("No card shows buttons right now: Approve and Reject appear under an approval card once a session is submitted.")]
    NoButtons,
    #[error("No card of #{0} shows buttons right now: a card has them only while its session is pending approval.")]
    NoButtonsFor(i64),
    #[error("The latest card{of} has no button \"{wanted}\": press one of {shown}.")]
    NoSuchButton {
        wanted: String,
        of: String,
        shown: String,
    },
}

/// What the console's chat and its loop share: the queue of text to print and
/// the messages shown.
pub(super) struct Shared {
    pub(super) renderer: Renderer,
    /// `None`: messages print without their pictures.
    pictures: Option<PictureFolder>,
    /// "in 5m" on a post is relative to the app's clock, as in replies.
    clock: Arc<dyn Clock>,
    outbox: mpsc::UnboundedSender<String>,
    state: Mutex<State>,
}

struct State {
    /// Makes message references unique across runs: a reference stored with a
    /// session by an earlier run must not name a message of this one.
    run_id: String,
    posted: u64,
    by_dedupe_key: HashMap<String, PostedRef>,
    /// Messages that show buttons, by reference, with when they were last shown.
    with_buttons: HashMap<PostedRef, (u64, Vec<Button>)>,
    /// Counts every post and edit, so "latest" means last shown.
    shown: u64,
}

impl Shared {
    pub(super) fn new(
        renderer: Renderer,
        pictures: Option<PictureFolder>,
        clock: Arc<dyn Clock>,
    ) -> (Arc<Shared>, mpsc::UnboundedReceiver<String>) {
        let (outbox, receiver) = mpsc::unbounded_channel();
        let state = State {
            run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            posted: 0,
            by_dedupe_key: HashMap::new(),
            with_buttons: HashMap::new(),
            shown: 0,
        };
        let shared = Shared {
            renderer,
            pictures,
            clock,
            outbox,
            state: Mutex::new(state),
        };
        (Arc::new(shared), receiver)
    }

    /// Queues text for the console to print; false once the console has ended.
    pub(super) fn say(&self, text: impl Into<String>) -> bool {
        self.outbox.send(text.into()).is_ok()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not silence the console; the state stays usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The button `press` means: on the latest card with buttons, or on the
    /// latest card of `press.session`.
    pub(super) fn find_button(&self, press: &Press) -> Result<FoundButton, PressError> {
        let state = self.lock();
        let mut cards: Vec<&(u64, Vec<Button>)> = state
            .with_buttons
            .values()
            .filter(|(_, buttons)| match press.session {
                Some(session) => buttons.iter().any(|b| session_of(b) == Some(session)),
                None => true,
            })
            .collect();
        cards.sort_by_key(|(shown, _)| std::cmp::Reverse(*shown));
        let Some((_, card_buttons)) = cards.first() else {
            return Err(match press.session {
                Some(session) => PressError::NoButtonsFor(session),
                None => PressError::NoButtons,
            });
        };
        let found = match &press.button {
            ButtonRef::Index(n) => n.checked_sub(1).and_then(|i| card_buttons.get(i)),
            ButtonRef::Label(label) => card_buttons
                .iter()
                .find(|b| b.label.to_lowercase() == *label),
        };
        found
            .map(|b| FoundButton {
                id: b.id.clone(),
                label: b.label.clone(),
            })
            .ok_or_else(|| PressError::NoSuchButton {
                wanted: match &press.button {
                    ButtonRef::Index(n) => n.to_string(),
                    ButtonRef::Label(label) => label.clone(),
                },
                of: press
                    .session
                    .map(|s| format!(" of #{s}"))
                    .unwrap_or_default(),
                shown: buttons(card_buttons),
            })
    }

    /// The message's picture, drawn and written: the line that points at it.
    async fn picture_line(&self, message: &Message) -> Option<String> {
        let (picture, folder) = (message.picture.as_ref()?, self.pictures.as_ref()?);
        let path = folder.write(picture).await?;
        Some(format!("\n🖼 Picture: {path}"))
    }

    /// Remembers the buttons `message` shows at `posted` (or forgets them) and
    /// renders it under a channel heading, with the path of its picture.
    async fn show(
        &self,
        channel: &str,
        posted: &PostedRef,
        message: &Message,
        edit: bool,
    ) -> String {
        let picture = self.picture_line(message).await;
        {
            let mut state = self.lock();
            state.shown += 1;
            let shown = state.shown;
            if message.buttons.is_empty() {
                state.with_buttons.remove(posted);
            } else {
                state
                    .with_buttons
                    .insert(posted.clone(), (shown, message.buttons.clone()));
            }
        }
        let what = if edit { " · card updated" } else { "" };
        let heading = format!("── #{channel}{what} ");
        let rule = "─".repeat(self.renderer.width.saturating_sub(heading.chars().count()));
        let mut out = format!(
            "\n{heading}{rule}\n{}",
            self.renderer.message(message, self.clock.now())
        );
        if let Some(hint) = press_hint(&message.buttons) {
            out.push_str(&format!("   ← {hint}"));
        }
        out.extend(picture);
        out
    }
}

/// `press approve 3`, for the first button of a card.
fn press_hint(buttons: &[Button]) -> Option<String> {
    let first = buttons.first()?;
    let session = session_of(first)?;
    Some(format!(
        "type: press {} {session}",
        first.label.to_lowercase()
    ))
}

fn session_of(button: &Button) -> Option<i64> {
    ButtonId::parse(&button.id).ok().map(|b| b.session_id)
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Announcements => "announcements",
        Channel::Approvals => "approvals",
    }
}

/// The chat port for the console. Cheap to clone; every clone prints to the same console.
#[derive(Clone)]
pub struct ConsoleChat {
    pub(super) shared: Arc<Shared>,
}

#[async_trait]
impl Chat for ConsoleChat {
    /// A post in doubt was printed, if at all, by a run whose terminal is
    /// gone; printing it in this one shows it to whoever runs this one.
    fn in_doubt(&self) -> InDoubt {
        InDoubt::PostAgain
    }

    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError> {
        let name = channel_name(channel);
        let posted = {
            let mut state = self.shared.lock();
            if let Some(key) = &message.dedupe_key {
                if let Some(existing) = state.by_dedupe_key.get(key) {
                    return Ok(existing.clone());
                }
            }
            state.posted += 1;
            let posted = PostedRef {
                channel: name.to_owned(),
                message: format!("{}-{}", state.run_id, state.posted),
            };
            if let Some(key) = &message.dedupe_key {
                state.by_dedupe_key.insert(key.clone(), posted.clone());
            }
            posted
        };
        if self
            .shared
            .say(self.shared.show(name, &posted, message, false).await)
        {
            Ok(posted)
        } else {
            Err(ChatError::Unavailable("the console has closed".to_owned()))
        }
    }

    /// Prints the message again; a reference from an earlier run is printed too
    /// (the person still wants to see what changed).
    async fn edit(&self, posted: &PostedRef, message: &Message) -> Result<(), ChatError> {
        let text = self
            .shared
            .show(&posted.channel, posted, message, true)
            .await;
        if self.shared.say(text) {
            Ok(())
        } else {
            Err(ChatError::Unavailable("the console has closed".to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ButtonStyle, Text};

    fn console() -> (ConsoleChat, mpsc::UnboundedReceiver<String>) {
        let (shared, printed) = Shared::new(
            Renderer::new(chrono_tz::Asia::Jakarta),
            None,
            Arc::new(crate::clock::SystemClock),
        );
        (ConsoleChat { shared }, printed)
    }

    fn card(session: i64, version: i32) -> Message {
        let button = |action: &str, label: &str| Button {
            id: format!("fs:{action}:{session}:{version}"),
            label: label.to_owned(),
            style: ButtonStyle::Primary,
        };
        Message {
            text: Text::from(format!("#{session} is waiting for approval.")),
            buttons: vec![button("approve", "Approve"), button("reject", "Reject")],
            ..Message::default()
        }
    }

    fn press(label: &str, session: Option<i64>) -> Press {
        Press {
            button: ButtonRef::Label(label.to_owned()),
            session,
        }
    }

    #[tokio::test]
    async fn a_repeated_dedupe_key_prints_once_and_returns_the_first_reference() {
        let (chat, mut printed) = console();
        let live = Message {
            text: Text::from("#3 is now live!"),
            dedupe_key: Some("live:3".to_owned()),
            ..Message::default()
        };
        let first = chat.post(Channel::Announcements, &live).await.unwrap();
        let again = chat.post(Channel::Announcements, &live).await.unwrap();
        assert_eq!(first, again);
        assert!(printed.try_recv().unwrap().contains("── #announcements"));
        assert!(printed.try_recv().is_err(), "printed once");
    }

    #[tokio::test]
    async fn presses_find_the_latest_card_of_a_session_until_its_buttons_are_gone() {
        let (chat, _printed) = console();
        let three = chat.post(Channel::Approvals, &card(3, 7)).await.unwrap();
        chat.post(Channel::Approvals, &card(4, 2)).await.unwrap();

        let found = chat.shared.find_button(&press("approve", Some(3))).unwrap();
        assert_eq!(found.id, "fs:approve:3:7");
        // Without a session: the card shown last; by number: as printed.
        let latest = Press {
            button: ButtonRef::Index(2),
            session: None,
        };
        assert_eq!(
            chat.shared.find_button(&latest).unwrap().id,
            "fs:reject:4:2"
        );
        assert!(matches!(
            chat.shared.find_button(&press("delete", Some(3))),
            Err(PressError::NoSuchButton { .. })
        ));

        // The card of #3 is refreshed with a new version, then decided.
        chat.edit(&three, &card(3, 8)).await.unwrap();
        let found = chat.shared.find_button(&press("approve", None)).unwrap();
        assert_eq!(
            found.id, "fs:approve:3:8",
            "an edit makes a card the latest"
        );
        let decided = Message {
            text: Text::from("Approved by bob"),
            ..Message::default()
        };
        chat.edit(&three, &decided).await.unwrap();
        assert_eq!(
            chat.shared.find_button(&press("approve", Some(3))),
            Err(PressError::NoButtonsFor(3))
        );
    }

    #[tokio::test]
    async fn an_edit_of_a_card_from_an_earlier_run_is_printed_as_an_update() {
        let (chat, mut printed) = console();
        let old = PostedRef {
            channel: "approvals".to_owned(),
            message: "0badc0de-1".to_owned(),
        };
        chat.edit(&old, &card(9, 1)).await.unwrap();
        let text = printed.try_recv().unwrap();
        assert!(text.contains("── #approvals · card updated"), "{text}");
        assert!(
            text.contains("[1 Approve] [2 Reject]   ← type: press approve 9"),
            "{text}"
        );
    }
}

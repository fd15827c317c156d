//! The console chat: the whole bot in a terminal, no Discord needed.
//!
//! A second implementation of the chat port (after Discord), driving the same
//! `Front` use cases with the same commands and options:
//! `/flashsale draft title:"Midnight Deals" start:"tomorrow 00:00" ...`.
//! `as bob approver` switches the acting person, so one person can play both
//! roles; card buttons are pressed with `press approve 3`. Whatever the app
//! or the scheduler posts prints as it happens, between commands.
//!
//! Layout:
//! - the line parser is shared with Slack: `app::command_line::parser`.
//! - `commands`: the acting person, the line's mode, and the use case it runs.
//! - `chat`: `ConsoleChat`, the `Chat` implementation, and the buttons shown.
//! - `render`: messages and cards as text boxes; `replies`: lists, logs, help.
//!
//! Usage (what `flashsale-bot console` does, wired by `runtime::console`):
//!
//! ```no_run
//! # async fn demo(config: flashsale_bot::config::Config) -> anyhow::Result<()> {
//! use flashsale_bot::platforms::console::Console;
//! use flashsale_bot::platforms::console::PictureFolder;
//! use flashsale_bot::render::Painter;
//! let zone = config.policy.time_zone;
//! let pictures = PictureFolder {
//!     painter: Painter::new(zone, config.picture_font_dir.clone()),
//!     dir: flashsale_bot::platforms::console::PICTURES_DIR.into(),
//! };
//! let console = Console::new(zone, Some(pictures));
//! let services = flashsale_bot::runtime::build(config, console.chat()).await?;
//! console.run(services.app.front(), tokio::io::stdin(), tokio::io::stdout()).await?;
//! # Ok(()) }
//! ```

mod chat;
mod commands;

pub mod render;
mod replies;

use std::sync::Arc;

use chrono_tz::Tz;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

pub use chat::{ConsoleChat, FoundButton, PictureFolder, PressError};
pub use commands::PLATFORM;

use self::chat::Shared;
use self::commands::{Flow, Session};
use self::render::Renderer;
use crate::app::Front;
use crate::clock::SystemClock;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("could not read the console input: {0}")]
    Read(#[source] std::io::Error),
    #[error("could not write to the console output: {0}")]
    Write(#[source] std::io::Error),
}

/// Where `flashsale-bot console` writes cards' pictures: under the working
/// folder, where exports go by default.
pub const PICTURES_DIR: &str = "pictures";

/// A console before it runs: hand `chat()` to the app, then `run`.
pub struct Console {
    shared: Arc<Shared>,
    /// Rendered posts, edits and replies, printed by `run` in order.
    outbox: mpsc::UnboundedReceiver<String>,
    /// Print a prompt before each line: for people at a terminal, not for pipes.
    prompt: bool,
}

impl Console {
    /// `pictures`: where cards' pictures are drawn to (`None`: cards print without).
    pub fn new(time_zone: Tz, pictures: Option<PictureFolder>) -> Console {
        // The app runs on the system clock too (`runtime::build`).
        let (shared, outbox) =
            Shared::new(Renderer::new(time_zone), pictures, Arc::new(SystemClock));
        Console {
            shared,
            outbox,
            prompt: false,
        }
    }

    /// Shows `you> ` (or `paste> `, `reason> `) while waiting for a line.
    pub fn with_prompt(mut self, prompt: bool) -> Console {
        self.prompt = prompt;
        self
    }

    /// The chat the app (and the scheduler) post through; it prints to this console.
    pub fn chat(&self) -> Arc<ConsoleChat> {
        Arc::new(ConsoleChat {
            shared: Arc::clone(&self.shared),
        })
    }

    /// Reads commands from `input` until EOF or `quit`, printing replies and
    /// everything posted meanwhile to `output`.
    pub async fn run(
        mut self,
        app: Front,
        input: impl AsyncRead + Unpin,
        output: impl AsyncWrite + Unpin,
    ) -> Result<(), ConsoleError> {
        let mut out = Output {
            writer: output,
            prompt_shown: false,
        };
        let zone = self.shared.renderer.time_zone;
        let now = app.clock.now().with_timezone(&zone);
        let mut session = Session::new(app, Arc::clone(&self.shared));
        // The time now, because people type start times in this zone.
        out.line(&format!(
            "flashsale-bot console · it is {} ({}) · `help` lists the commands, `quit` leaves.\n{} \
             Switch with `as <name> [editor|approver|both]`.",
            now.format("%a %d %b %H:%M %Z"),
            zone.name(),
            session.whoami()
        ))
        .await?;

        let mut input = BufReader::new(input);
        let mut buf = Vec::new();
        loop {
            if self.prompt && !out.prompt_shown {
                out.prompt(&session.prompt()).await?;
            }
            tokio::select! {
                // Posts first: what happened is shown before the next line is read.
                biased;
                Some(text) = self.outbox.recv() => out.line(&text).await?,
                // Cancel-safe: a partly read line stays in `buf` for the next turn.
                read = input.read_until(b'\n', &mut buf) => {
                    let read = read.map_err(ConsoleError::Read)?;
                    out.prompt_shown = false;
                    if read == 0 && buf.is_empty() {
                        break;
                    }
                    let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_owned();
                    buf.clear();
                    if session.handle(&line).await == Flow::Quit {
                        break;
                    }
                    // The answer (and what the command posted) before the next prompt.
                    while let Ok(text) = self.outbox.try_recv() {
                        out.line(&text).await?;
                    }
                }
            }
        }
        // From here a post fails as "unavailable" instead of queueing text
        // nobody will print, so the outbox keeps it for the next run.
        self.outbox.close();
        // Whatever the last command caused, then goodbye.
        while let Ok(text) = self.outbox.try_recv() {
            out.line(&text).await?;
        }
        out.line("Bye.").await
    }
}

/// Text as the terminal may show it: whatever reaches the console (a typed
/// argument quoted back, a product name from the catalog, a stored title)
/// could hold an escape sequence that clears the screen or rewrites earlier
/// lines, and the console prints no control sequence of its own. Control
/// characters but line breaks, and hidden text-direction marks, are shown as
/// U+FFFD.
fn printable(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().map(|c| match c {
        '\n' => c,
        c if c.is_control() => char::REPLACEMENT_CHARACTER,
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => char::REPLACEMENT_CHARACTER,
        c => c,
    })
}

/// The console's output, with the prompt kept on its own line.
struct Output<W> {
    writer: W,
    /// A prompt is waiting on the current line; text printed now starts below it.
    prompt_shown: bool,
}

impl<W: AsyncWrite + Unpin> Output<W> {
    async fn line(&mut self, text: &str) -> Result<(), ConsoleError> {
        let mut bytes = String::with_capacity(text.len() + 2);
        if std::mem::take(&mut self.prompt_shown) {
            bytes.push('\n');
        }
        bytes.extend(printable(text));
        bytes.push('\n');
        self.write(bytes.as_bytes()).await
    }

    async fn prompt(&mut self, prompt: &str) -> Result<(), ConsoleError> {
        self.prompt_shown = true;
        let prompt: String = printable(prompt).collect();
        self.write(prompt.as_bytes()).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ConsoleError> {
        self.writer
            .write_all(bytes)
            .await
            .map_err(ConsoleError::Write)?;
        // Flushed every time: a person (or a test) is waiting for this line.
        self.writer.flush().await.map_err(ConsoleError::Write)
    }
}

/// Logging for console mode: to stderr, because stdout is the chat, and only
/// warnings unless `RUST_LOG` asks for more, so logs do not drown the conversation.
pub fn init_logging(format: crate::config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A subscriber installed earlier (tests, embedding) stays; that is fine.
    let _ = match format {
        crate::config::LogFormat::Text => builder.try_init(),
        crate::config::LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_console_prints_no_control_sequence_it_was_given() {
        let mut out = Output {
            writer: Vec::new(),
            prompt_shown: false,
        };
        out.prompt("> \u{1b}[2J").await.unwrap();
        out.line("Unknown \u{1b}]0;pwned\u{7} \r\u{9b}31m gpj\u{202E}exe.\nnext")
            .await
            .unwrap();
        let printed = String::from_utf8(out.writer).unwrap();
        assert_eq!(
            printed,
            "> \u{FFFD}[2J\nUnknown \u{FFFD}]0;pwned\u{FFFD} \u{FFFD}\u{FFFD}31m gpj\u{FFFD}exe.\nnext\n"
        );
    }
}

//! `flashsale-bot console`: the bot in this terminal. stdin and stdout are the
//! chat, logs go to stderr, and the scheduler posts through the same console.

use std::io::IsTerminal;

use crate::config::Config;
use crate::http::{ChatState, Readiness};
use crate::platforms::console::{self, Console, ConsoleError};
use crate::render::Painter;

use super::{shutdown_signal, RunError};

/// Runs until `quit`, end of input, Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), RunError> {
    console::init_logging(config.log_format);
    // Cards' pictures go under the working folder, where exports go too.
    let zone = config.policy.time_zone;
    let pictures = console::PictureFolder {
        painter: Painter::new(zone, config.picture_font_dir.clone()),
        dir: console::PICTURES_DIR.into(),
    };
    let console = Console::new(zone, Some(pictures)).with_prompt(std::io::stdin().is_terminal());
    let services = super::build(config, console.chat()).await?;
    // Health, readiness and metrics; the console is connected from the start.
    let readiness = Readiness::new(services.pool.clone());
    readiness.set_chat_state(ChatState::Connected);
    let http = super::start_http(&services, readiness).await?;
    // The scheduler posts reminders and "now live" through the same console.
    let background = super::start_background(&services).await?;
    let app = services.app.front();
    let interrupted = tokio::select! {
        ended = console.run(app, tokio::io::stdin(), tokio::io::stdout()) => { ended?; false }
        _ = shutdown_signal() => true,
    };
    super::stop(background, http).await;
    if interrupted {
        // A pending read of stdin cannot be cancelled and would keep the runtime
        // from shutting down until Enter is pressed: leave now, all is stopped.
        std::process::exit(0);
    }
    Ok(())
}

impl From<ConsoleError> for RunError {
    fn from(e: ConsoleError) -> RunError {
        RunError::Console(e)
    }
}

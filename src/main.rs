//! The `flashsale-bot` binary: start-up and wiring only; the bot lives in the library.
//!
//!   flashsale-bot migrate   apply the database migrations and exit
//!   flashsale-bot run       run the bot in Discord
//!   flashsale-bot console   run the bot in this terminal (no Discord needed)
//!   flashsale-bot help      show this list

use flashsale_bot::{config::Config, runtime, telemetry};

const USAGE: &str = "\
Usage: flashsale-bot <command>

Commands:
  migrate   Apply the database migrations (migrations/) to DATABASE_URL and exit.
  run       Run the bot in Discord (needs DISCORD_TOKEN and the DISCORD_* ids).
  console   Run the bot in this terminal: type the chat commands, see cards and posts.
  help      Show this help.

Configuration comes from the environment and .env; see .env.example.";

#[tokio::main]
async fn main() {
    let command = std::env::args().nth(1).unwrap_or_else(|| "help".to_owned());
    let outcome = match command.as_str() {
        "migrate" => migrate().await,
        // run modes: one arm each (Discord, console), calling into the library
        "console" => run_console().await,
        "run" => run_discord().await,
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("Unknown command {other:?}.\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(error) = outcome {
        // The cause chain on one line, without a backtrace: this is read by
        // whoever started the bot, usually for a configuration mistake.
        eprintln!("flashsale-bot {command}: {error:#}");
        std::process::exit(1);
    }
}

/// The bot in Discord: the adapter connects the database, Discord and the app.
async fn run_discord() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    if config.discord.is_none() {
        anyhow::bail!(flashsale_bot::chat::discord::DiscordError::NotConfigured);
    }
    telemetry::init(config.log_format);
    flashsale_bot::chat::discord::run(config).await?;
    Ok(())
}

/// The bot in this terminal: stdin and stdout are the chat, logs go to stderr.
/// Ctrl-C or SIGTERM stops it.
async fn run_console() -> anyhow::Result<()> {
    use flashsale_bot::chat::console::{self, Console};
    use flashsale_bot::http::{ChatState, Readiness};
    use flashsale_bot::render::Painter;
    use std::io::IsTerminal;

    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    console::init_logging(config.log_format);
    // Cards' pictures go under the working folder, where exports go too.
    let zone = config.policy.time_zone;
    let pictures = console::PictureFolder {
        painter: Painter::new(zone, config.picture_font_dir.clone()),
        dir: console::PICTURES_DIR.into(),
    };
    let console = Console::new(zone, Some(pictures)).with_prompt(std::io::stdin().is_terminal());
    let services = runtime::build(config, console.chat()).await?;
    // Health, readiness and metrics; the console is connected from the start.
    let readiness = Readiness::new(services.pool.clone());
    readiness.set_chat_state(ChatState::Connected);
    let http = runtime::start_http(&services, readiness).await?;
    // The scheduler posts reminders and "now live" through the same console.
    let background = runtime::start_background(&services).await?;
    let interrupted = tokio::select! {
        ended = console.run(services, tokio::io::stdin(), tokio::io::stdout()) => { ended?; false }
        _ = runtime::shutdown_signal() => true,
    };
    background.stop().await;
    if let Some(http) = http {
        http.stop().await;
    }
    if interrupted {
        // A pending read of stdin cannot be cancelled and would keep the runtime
        // from shutting down until Enter is pressed: leave now, all is stopped.
        std::process::exit(0);
    }
    Ok(())
}

async fn migrate() -> anyhow::Result<()> {
    // A missing .env is normal in production, where the environment is set directly.
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    runtime::connect_database(&config).await?;
    tracing::info!("migrations applied");
    Ok(())
}

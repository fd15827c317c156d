//! The `flashsale-bot` binary: start-up and wiring only; the bot lives in the library.
//!
//!   flashsale-bot migrate   apply the database migrations and exit
//!   flashsale-bot run       run the bot in Discord or Slack
//!   flashsale-bot console   run the bot in this terminal (no Discord or Slack needed)
//!   flashsale-bot help      show this list

use flashsale_bot::config::{ChatPlatform, Config};
use flashsale_bot::{runtime, telemetry};

const USAGE: &str = "\
Usage: flashsale-bot <command>

Commands:
  migrate   Apply the database migrations (migrations/) to DATABASE_URL and exit.
  run       Run the bot in Discord (DISCORD_TOKEN and the DISCORD_* ids) or Slack
            (SLACK_BOT_TOKEN, SLACK_APP_TOKEN and the SLACK_* ids); CHAT picks one
            when both are set.
  console   Run the bot in this terminal: type the chat commands, see cards and posts.
  help      Show this help.

Configuration comes from the environment and .env; see .env.example.";

#[tokio::main]
async fn main() {
    let command = std::env::args().nth(1).unwrap_or_else(|| "help".to_owned());
    let outcome = match command.as_str() {
        "migrate" => migrate().await,
        // run modes: the console, and `run` for Discord or Slack; each calls into the library
        "console" => run_console().await,
        "run" => run_chat().await,
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
        // The cause chain on one line, each cause once, without a
        // backtrace: this is read by whoever started the bot, usually for a
        // configuration mistake.
        let error: &(dyn std::error::Error + 'static) = error.as_ref();
        eprintln!(
            "flashsale-bot {command}: {}",
            flashsale_bot::reference::chain(error)
        );
        std::process::exit(1);
    }
}

/// The bot in Discord or Slack (`CHAT`, or the one configured), wired by
/// `runtime::discord` or `runtime::slack`.
async fn run_chat() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    match config.chat {
        Some(ChatPlatform::Discord) => runtime::discord::run(config).await?,
        Some(ChatPlatform::Slack) => runtime::slack::run(config).await?,
        None => anyhow::bail!(
            "neither DISCORD_TOKEN nor SLACK_BOT_TOKEN is set: `run` joins Discord or Slack \
             (see docs/discord.md, docs/slack.md); `console` needs neither."
        ),
    }
    Ok(())
}

/// The bot in this terminal (`runtime::console` wires it): stdin and stdout are
/// the chat, logs go to stderr. Ctrl-C or SIGTERM stops it.
async fn run_console() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    runtime::console::run(config).await?;
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

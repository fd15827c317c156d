//! What depends on the machine the bot runs on rather than on the shop or the
//! chat: the log format its collector wants, where the operations listener
//! (`/healthz`, `/readyz`, `/metrics`) binds, and where the fonts are installed.
//!
//! These are an operator's settings, changed when the bot moves to another
//! host or another log pipeline, never by the people who run the sales; each
//! has a default that works on a developer's Debian machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::env::Env;
use super::ConfigError;

pub const LOG_FORMAT: &str = "LOG_FORMAT";
pub const HTTP_ADDR: &str = "HTTP_ADDR";
pub const PICTURE_FONT_DIR: &str = "PICTURE_FONT_DIR";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug)]
pub(super) struct Host {
    pub(super) log_format: LogFormat,
    pub(super) http_addr: Option<SocketAddr>,
    pub(super) picture_font_dir: PathBuf,
}

pub(super) fn read(env: &Env<'_>) -> Result<Host, ConfigError> {
    let log_format = env.parse(LOG_FORMAT, "text", "text or json", |v| {
        match v.to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    })?;
    let http_addr = http_addr(env)?;
    // No check that the fonts are there: without them cards go out without a
    // picture, which is logged and counted, and is no reason not to start.
    let picture_font_dir = PathBuf::from(
        env.optional(PICTURE_FONT_DIR)
            .unwrap_or_else(|| crate::render::DEFAULT_FONT_DIR.to_owned()),
    );
    Ok(Host {
        log_format,
        http_addr,
        picture_font_dir,
    })
}

/// `None` for `off`: nothing listens, so neither the probes nor `/metrics` are served.
fn http_addr(env: &Env<'_>) -> Result<Option<SocketAddr>, ConfigError> {
    match env.optional(HTTP_ADDR) {
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        value => {
            let value = value.unwrap_or_else(|| "127.0.0.1:9090".to_owned());
            match value.parse::<SocketAddr>() {
                Ok(addr) => Ok(Some(addr)),
                Err(_) => Err(ConfigError::Invalid {
                    var: HTTP_ADDR,
                    value,
                    expected: "an IP address and port such as 127.0.0.1:9090, or off".to_owned(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn text_logs_a_loopback_listener_and_debians_fonts_by_default() {
        let host = read_with(&[], read).unwrap();
        assert_eq!(host.log_format, LogFormat::Text);
        assert_eq!(host.http_addr, Some(([127, 0, 0, 1], 9090).into()));
        assert_eq!(
            host.picture_font_dir,
            PathBuf::from("/usr/share/fonts/truetype/dejavu")
        );
        let host = read_with(&[(LOG_FORMAT, "JSON"), (HTTP_ADDR, "Off")], read).unwrap();
        assert_eq!((host.log_format, host.http_addr), (LogFormat::Json, None));
    }

    #[test]
    fn a_listener_address_needs_an_ip_and_a_port() {
        let err = read_with(&[(HTTP_ADDR, "localhost:9090")], read).unwrap_err();
        assert_eq!(
            err.to_string(),
            "HTTP_ADDR=\"localhost:9090\" is not valid: expected an IP address and port such as 127.0.0.1:9090, or off."
        );
    }
}

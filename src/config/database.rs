//! Where the bot keeps its state: `DATABASE_URL` and the pool's size.
//!
//! The URL is the one variable without a default, since every mode needs the
//! database and there is no safe guess; it may hold a password, so it is
//! kept secret from the moment it is read and never echoed in an error.

use secrecy::SecretString;

use super::env::Env;
use super::ConfigError;

pub const DATABASE_URL: &str = "DATABASE_URL";
pub const DATABASE_MAX_CONNECTIONS: &str = "DATABASE_MAX_CONNECTIONS";

#[derive(Debug)]
pub(super) struct Database {
    pub(super) url: SecretString,
    pub(super) max_connections: u32,
}

pub(super) fn read(env: &Env<'_>) -> Result<Database, ConfigError> {
    let url = env.required(
        DATABASE_URL,
        "a Postgres URL such as postgres://user@host/db",
    )?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::Invalid {
            var: DATABASE_URL,
            value: "(hidden)".to_owned(),
            expected: "a URL starting with postgres:// or postgresql://".to_owned(),
        });
    }
    let max_connections = env.parse(
        DATABASE_MAX_CONNECTIONS,
        "10",
        "a whole number from 2 to 200",
        |v| v.parse::<u32>().ok().filter(|n| (2..=200).contains(n)),
    )?;
    Ok(Database {
        url: SecretString::from(url),
        max_connections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    const DB: (&str, &str) = (DATABASE_URL, "postgres://postgres@127.0.0.1:5432/flashsale");

    #[test]
    fn the_pool_size_is_bounded() {
        assert_eq!(read_with(&[DB], read).unwrap().max_connections, 10);
        let c = read_with(&[DB, (DATABASE_MAX_CONNECTIONS, "4")], read).unwrap();
        assert_eq!(c.max_connections, 4);
        let err = read_with(&[DB, (DATABASE_MAX_CONNECTIONS, "1")], read).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DATABASE_MAX_CONNECTIONS=\"1\" is not valid: expected a whole number from 2 to 200."
        );
    }

    #[test]
    fn missing_database_url_names_the_variable() {
        let err = read_with(&[], read).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DATABASE_URL is not set: expected a Postgres URL such as postgres://user@host/db."
        );
    }

    #[test]
    fn the_database_password_never_prints() {
        let c = read_with(&[(DATABASE_URL, "postgres://u:hunter2@db/flashsale")], read).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = read_with(&[(DATABASE_URL, "mysql://u:hunter2@db/x")], read).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}

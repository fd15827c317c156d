//! Shared set-up for the integration tests. Each test binary uses only part of it.
#![allow(dead_code)]

pub mod app;
pub mod bot_process;
pub mod catalog;
pub mod contract;
pub mod discord;
pub mod fake_discord;
pub mod fake_shopify;
pub mod fake_slack;
pub mod golive;
pub mod medusa;
pub mod ops;
pub mod pgbouncer;
pub mod pictures;
pub mod slack_bot;
pub mod storefront;

/// `assert!(matches!(value, pattern))` that shows the value when it fails;
/// an optional message after the pattern says which case it was. The value
/// is evaluated once and only borrowed, so it can still be used afterwards.
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {{
        let value = &$value;
        assert!(
            matches!(*value, $pattern $(if $guard)?),
            "expected {}, got {:?}",
            stringify!($pattern),
            value
        );
    }};
    ($value:expr, $pattern:pat $(if $guard:expr)?, $($message:tt)+) => {{
        let value = &$value;
        assert!(
            matches!(*value, $pattern $(if $guard)?),
            "{}: expected {}, got {:?}",
            format_args!($($message)+),
            stringify!($pattern),
            value
        );
    }};
}
pub(crate) use assert_matches;

/// Fails if `shown` (what a person reads in chat) carries a transport
/// error's details: an address, a scheme, reqwest's or the OS's words. The
/// details belong in the log, under the reference the text gives instead.
pub fn assert_no_transport_details(shown: &str) {
    for detail in [
        "127.0.0.1",
        "http",
        "error sending request",
        "onnection refused",
        "tcp",
    ] {
        assert!(!shown.contains(detail), "{detail:?} is shown: {shown}");
    }
}

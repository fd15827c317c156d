//! The Slack Web API as this adapter uses it: one slack-morphism client,
//! every call under a deadline, every failure sorted for the chat port.
//!
//! slack-morphism's hyper client has no request timeout of its own, so a
//! Slack that accepts the connection and never answers would hold a post (and
//! the outbox behind it) forever; `call` bounds each call. The connector is
//! https-only unless `SLACK_API_BASE` is plain http, which only a test on
//! loopback uses.

use std::future::Future;
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::{
    SlackApiToken, SlackApiTokenValue, SlackClient, SlackClientHyperConnector,
    SlackClientHyperHttpsConnector, SlackClientSession,
};

use crate::chat::ChatError;

/// How long one Web API call may take before it counts as Slack being unavailable.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub type Client = SlackClient<SlackClientHyperHttpsConnector>;
pub type Session<'a> = SlackClientSession<'a, SlackClientHyperHttpsConnector>;

/// Slack's answer codes that mean "try again later" rather than "never".
const TRANSIENT_CODES: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackApiError {
    /// Slack could not be reached, failed, was slow or rate-limited us.
    #[error("Slack is unavailable: {0}")]
    Unavailable(String),
    /// Slack answered `ok: false` with this error code (and the details it gave).
    #[error("Slack refused the call: {code}{}", details(.errors))]
    Refused { code: String, errors: Vec<String> },
    /// The client could not be built (no TLS roots on this machine).
    #[error("the Slack client could not be set up: {0}")]
    Setup(String),
}

fn details(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

impl SlackApiError {
    /// Slack's error code when it refused, e.g. `channel_not_found`.
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackApiError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl From<SlackApiError> for ChatError {
    fn from(error: SlackApiError) -> ChatError {
        match error {
            SlackApiError::Unavailable(_) => ChatError::Unavailable(error.to_string()),
            SlackApiError::Refused { .. } | SlackApiError::Setup(_) => {
                ChatError::Refused(error.to_string())
            }
        }
    }
}

/// Network failures, 5xx, 429 and Slack's own transient codes are worth a
/// retry; any other `ok: false` will not change by asking again. An answer
/// that does not parse is counted as unavailable: the call may have worked,
/// and a post retried after it may then show twice (docs/slack.md, "Posting
/// once"); treating it as refused would drop posts Slack never took.
pub fn classify(error: SlackClientError) -> SlackApiError {
    match error {
        SlackClientError::ApiError(api) => {
            if TRANSIENT_CODES.contains(&api.code.as_str()) {
                SlackApiError::Unavailable(api.code)
            } else {
                SlackApiError::Refused {
                    code: api.code,
                    errors: api.errors.unwrap_or_default(),
                }
            }
        }
        SlackClientError::HttpError(http) if http.status_code.is_client_error() => {
            let status = http.status_code.as_u16();
            if status == 408 || status == 429 {
                SlackApiError::Unavailable(format!("HTTP {status}"))
            } else {
                SlackApiError::Refused {
                    code: format!("http_{status}"),
                    errors: Vec::new(),
                }
            }
        }
        SlackClientError::HttpError(http) => {
            SlackApiError::Unavailable(format!("HTTP {}", http.status_code.as_u16()))
        }
        SlackClientError::RateLimitError(limit) => SlackApiError::Unavailable(format!(
            "rate limited{}",
            limit
                .retry_after
                .map(|d| format!(", retry after {} s", d.as_secs()))
                .unwrap_or_default()
        )),
        other => SlackApiError::Unavailable(first_line(&other.to_string())),
    }
}

/// slack-morphism's messages carry the whole response body after the first line.
fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// The Web API with the bot token: what `SlackChat` and `SlackRoles` call.
#[derive(Clone)]
pub struct SlackApi {
    client: std::sync::Arc<Client>,
    bot_token: SlackApiToken,
    timeout: Duration,
    /// Where the Web API is: a `response_url` is trusted only on Slack's
    /// hooks host or, in tests, on this same loopback host.
    api_base: Url,
    /// For `response_url` answers, which are plain webhooks, not Web API calls.
    hooks: reqwest::Client,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi").finish_non_exhaustive()
    }
}

impl SlackApi {
    /// A client for `api_base` (`https://slack.com/api/`, or a loopback
    /// `http://127.0.0.1:PORT/api/` in tests) acting with `bot_token`.
    pub fn new(api_base: &Url, bot_token: &SecretString) -> Result<SlackApi, SlackApiError> {
        Ok(SlackApi {
            client: std::sync::Arc::new(client(api_base)?),
            bot_token: token(bot_token),
            timeout: CALL_TIMEOUT,
            api_base: api_base.clone(),
            hooks: reqwest::Client::new(),
        })
    }

    /// A shorter deadline per call (tests of a Slack that never answers).
    pub fn with_timeout(mut self, timeout: Duration) -> SlackApi {
        self.timeout = timeout;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn session(&self) -> Session<'_> {
        self.client.open_session(&self.bot_token)
    }

    /// Runs one call under the deadline and sorts its failure.
    pub async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, SlackClientError>>,
    ) -> Result<T, SlackApiError> {
        bounded(self.timeout, what, call).await
    }
}

/// What we read of `views.open` and `views.update` answers.
#[derive(Debug, serde::Deserialize)]
struct Viewed {
    view: ViewId,
}

#[derive(Debug, serde::Deserialize)]
struct ViewId {
    id: String,
}

#[derive(Debug, serde::Deserialize)]
struct Ignored {}

impl SlackApi {
    /// A message only `user` sees, in `channel` (`chat.postEphemeral`): the
    /// answer to the person who acted when there is no `response_url` to use.
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        rendered: &super::render::Rendered,
    ) -> Result<(), SlackApiError> {
        let mut request = serde_json::json!({
            "channel": channel,
            "user": user,
            "text": rendered.text,
        });
        if !rendered.blocks.is_empty() {
            request["blocks"] = serde_json::to_value(&rendered.blocks)
                .map_err(|e| SlackApiError::Setup(e.to_string()))?;
        }
        let session = self.session();
        let _: Ignored = self
            .call(
                "chat.postEphemeral",
                session
                    .http_session_api
                    .http_post("chat.postEphemeral", &request, None),
            )
            .await?;
        Ok(())
    }

    /// The same answer as a direct message from the bot (`chat.postMessage`
    /// to the user's id, which Slack delivers in the app's Messages tab):
    /// the last way to reach someone where the channel refused.
    pub async fn post_direct(
        &self,
        user: &str,
        rendered: &super::render::Rendered,
    ) -> Result<(), SlackApiError> {
        let mut request = serde_json::json!({ "channel": user, "text": rendered.text });
        if !rendered.blocks.is_empty() {
            request["blocks"] = serde_json::to_value(&rendered.blocks)
                .map_err(|e| SlackApiError::Setup(e.to_string()))?;
        }
        let session = self.session();
        let _: Ignored = self
            .call(
                "chat.postMessage",
                session
                    .http_session_api
                    .http_post("chat.postMessage", &request, None),
            )
            .await?;
        Ok(())
    }

    /// An ephemeral answer through an envelope's `response_url`: it works in
    /// channels the bot is not a member of. The URL came with the envelope,
    /// so it is used only on Slack's hooks host (or the test's loopback base).
    pub async fn respond(
        &self,
        response_url: &str,
        rendered: &super::render::Rendered,
    ) -> Result<(), SlackApiError> {
        let url = Url::parse(response_url)
            .map_err(|e| SlackApiError::Setup(format!("a response_url that is not a URL: {e}")))?;
        let slacks = url.scheme() == "https" && url.host_str() == Some("hooks.slack.com");
        let ours = url.scheme() == self.api_base.scheme()
            && url.host_str() == self.api_base.host_str()
            && url.port_or_known_default() == self.api_base.port_or_known_default();
        if !(slacks || ours) {
            return Err(SlackApiError::Refused {
                code: "untrusted_response_url".to_owned(),
                errors: vec![url.host_str().unwrap_or_default().to_owned()],
            });
        }
        let mut body = serde_json::json!({
            "response_type": "ephemeral",
            "replace_original": false,
            "text": rendered.text,
        });
        if !rendered.blocks.is_empty() {
            body["blocks"] = serde_json::to_value(&rendered.blocks)
                .map_err(|e| SlackApiError::Setup(e.to_string()))?;
        }
        let sent = self
            .hooks
            .post(url)
            .json(&body)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| SlackApiError::Unavailable(format!("response_url: {e}")))?;
        let status = sent.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 {
            Err(SlackApiError::Unavailable(format!(
                "response_url: HTTP {status}"
            )))
        } else {
            Err(SlackApiError::Refused {
                code: format!("http_{}", status.as_u16()),
                errors: Vec::new(),
            })
        }
    }

    /// The workspace the bot token belongs to (`auth.test`'s `team_id`):
    /// envelopes from any other workspace are refused.
    pub async fn team_id(&self) -> Result<String, SlackApiError> {
        #[derive(serde::Deserialize)]
        struct Auth {
            team_id: String,
        }
        let session = self.session();
        let auth: Auth = self
            .call(
                "auth.test",
                session
                    .http_session_api
                    .http_post("auth.test", &serde_json::json!({}), None),
            )
            .await?;
        Ok(auth.team_id)
    }

    /// Opens a modal (`views.open`) with the `trigger_id` of the command or
    /// press (valid for 3 s); answers the view's id for `update_view`.
    pub async fn open_view(
        &self,
        trigger_id: &str,
        view: &serde_json::Value,
    ) -> Result<String, SlackApiError> {
        let request = serde_json::json!({ "trigger_id": trigger_id, "view": view });
        let session = self.session();
        let viewed: Viewed = self
            .call(
                "views.open",
                session
                    .http_session_api
                    .http_post("views.open", &request, None),
            )
            .await?;
        Ok(viewed.view.id)
    }

    /// Replaces an open modal (`views.update`), e.g. with the field errors
    /// found after the submission's ack went out.
    pub async fn update_view(
        &self,
        view_id: &str,
        view: &serde_json::Value,
    ) -> Result<(), SlackApiError> {
        let request = serde_json::json!({ "view_id": view_id, "view": view });
        let session = self.session();
        let _: Viewed = self
            .call(
                "views.update",
                session
                    .http_session_api
                    .http_post("views.update", &request, None),
            )
            .await?;
        Ok(())
    }
}

pub async fn bounded<T>(
    timeout: Duration,
    what: &str,
    call: impl Future<Output = Result<T, SlackClientError>>,
) -> Result<T, SlackApiError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(SlackApiError::Unavailable(format!(
            "{what} took longer than {} ms",
            timeout.as_millis()
        ))),
    }
}

pub fn token(secret: &SecretString) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(secret.expose_secret().to_owned()))
}

/// slack-morphism's client for `api_base`. Native roots as slack-morphism's
/// own default does; plain http is allowed only when the base asks for it.
pub fn client(api_base: &Url) -> Result<Client, SlackApiError> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| SlackApiError::Setup(format!("no TLS root certificates: {e}")))?;
    let https = if api_base.scheme() == "http" {
        builder.https_or_http().enable_http1().build()
    } else {
        builder.https_only().enable_http1().enable_http2().build()
    };
    let connector = SlackClientHyperConnector::from(https)
        .with_slack_api_url(api_base.as_str().trim_end_matches('/'));
    Ok(SlackClient::new(connector))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::errors::{SlackClientApiError, SlackClientHttpError};

    fn api(code: &str) -> SlackClientError {
        SlackClientError::ApiError(SlackClientApiError::new(code.to_owned()))
    }

    fn http(status: u16) -> SlackClientError {
        SlackClientError::HttpError(SlackClientHttpError::new(
            reqwest::StatusCode::from_u16(status).unwrap(),
        ))
    }

    #[test]
    fn transient_codes_and_server_errors_are_worth_a_retry() {
        for e in [
            api("ratelimited"),
            api("internal_error"),
            http(500),
            http(503),
            http(429),
        ] {
            let sorted = classify(e);
            assert!(
                matches!(sorted, SlackApiError::Unavailable(_)),
                "{sorted:?}"
            );
            assert!(matches!(ChatError::from(sorted), ChatError::Unavailable(_)));
        }
    }

    #[test]
    fn other_refusals_are_for_good_and_keep_slacks_code() {
        for code in [
            "channel_not_found",
            "invalid_blocks",
            "not_authed",
            "msg_too_long",
        ] {
            let sorted = classify(api(code));
            assert_eq!(sorted.code(), Some(code));
            let chat = ChatError::from(sorted);
            assert!(
                matches!(&chat, ChatError::Refused(why) if why.contains(code)),
                "{chat:?}"
            );
        }
        assert_eq!(classify(http(404)).code(), Some("http_404"));
    }
}

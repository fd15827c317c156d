//! The Slack Web API as this adapter uses it: one slack-morphism client,
//! every call under a deadline, every failure sorted for the chat port.
//!
//! slack-morphism's hyper client has no request timeout of its own, so a
//! Slack that accepts the connection and never answers would hold a post (and
//! the outbox behind it) forever; `call` bounds each call. The connector is
//! https-only unless `SLACK_API_BASE` is plain http, which only a test on
//! loopback uses.
//!
//! Failures are sorted by whether Slack may have acted on the call. Not
//! taken (`Unavailable`): no connection could be made (refused, unresolved,
//! the TLS handshake failed, or connecting took longer than its own,
//! shorter deadline), the client handed the request back unwritten, Slack
//! answered 5xx, 429 or a transient `ok: false`. Maybe taken (`InDoubt`):
//! the call's deadline passed, or the connection broke or the answer could
//! not be read after the request went out. hyper cannot say how far a
//! request got past that point, so a call that timed out counts as in doubt
//! however far it got: a `chat.postMessage` Slack took and answered too late
//! must not be posted again (`SlackChat::in_doubt` is `Stop`).

use std::error::Error as _;
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

/// How long one Web API call may take before its outcome counts as unknown.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Connecting may take at most this long (or half the call's deadline, if
/// that is shorter): a Slack that cannot be reached is then told apart from
/// one that took the request and did not answer, because connecting gave up
/// before the call's deadline did.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

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
    /// Slack could not be reached, failed or rate-limited us: it did not act on the call.
    #[error("Slack is unavailable: {0}")]
    Unavailable(String),
    /// The request may have reached Slack and its answer was lost (the call
    /// timed out, or the connection broke after the request went out).
    #[error("Slack may or may not have taken the call: {0}")]
    InDoubt(String),
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
            SlackApiError::InDoubt(_) => ChatError::InDoubt(error.to_string()),
            SlackApiError::Refused { .. } | SlackApiError::Setup(_) => {
                ChatError::Refused(error.to_string())
            }
        }
    }
}

/// 5xx, 429, Slack's own transient codes and a request that never left are
/// worth a retry; any other `ok: false` will not change by asking again. A
/// connection that broke after the request went out, and an answer that
/// could not be read or does not parse, leave the call in doubt: it may have
/// worked, so a post must neither simply be retried (it could show twice:
/// docs/slack.md, "Posting once") nor count as refused (Slack may never have
/// seen it).
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
        SlackClientError::HttpProtocolError(protocol) => {
            let why = match &protocol.cause {
                Some(cause) => first_line(&chain(cause.as_ref())),
                None => "no cause given".to_owned(),
            };
            let sent = protocol
                .cause
                .as_deref()
                .and_then(|cause| cause.downcast_ref::<LegacyError>())
                .is_some_and(|error| !unsent(error));
            if sent {
                SlackApiError::InDoubt(format!("the connection failed: {why}"))
            } else {
                // Not a hyper failure: the request could not be built, so
                // it never left.
                SlackApiError::Unavailable(format!("no request sent: {why}"))
            }
        }
        // Slack answered, and the answer could not be read whole (the
        // connection broke in its body) or does not parse (`json_body` is the
        // answer; without one, our request failed to serialise and never left).
        SlackClientError::SystemError(system) => SlackApiError::InDoubt(format!(
            "the answer could not be read: {}",
            first_line(&system.to_string())
        )),
        SlackClientError::ProtocolError(protocol) if protocol.json_body.is_some() => {
            SlackApiError::InDoubt(format!(
                "the answer does not parse: {}",
                first_line(&protocol.json_error.to_string())
            ))
        }
        other => SlackApiError::Unavailable(first_line(&other.to_string())),
    }
}

type LegacyError = hyper_util::client::legacy::Error;

/// Whether hyper's client gave up before the request could reach Slack.
/// hyper-util says only `is_connect` (no connection was made: refused,
/// unresolved, TLS failed, connect timeout); hyper's own error, its source,
/// says `is_canceled` when the request was handed back unwritten (the
/// connection closed before it was used; hyper retries that itself on a
/// pooled connection). Anything else may have been written to Slack.
fn unsent(error: &LegacyError) -> bool {
    if error.is_connect() {
        return true;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            return hyper.is_canceled();
        }
        source = cause.source();
    }
    false
}

/// An error and its causes, `: `-separated (hyper's own messages are terse,
/// "client error (Connect)"; the cause says what happened).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut said = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        said.push_str(": ");
        said.push_str(&cause.to_string());
        source = cause.source();
    }
    said
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
    /// The client is built again so that connecting still gives up first.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<SlackApi, SlackApiError> {
        self.client = std::sync::Arc::new(client_within(&self.api_base, timeout)?);
        self.timeout = timeout;
        Ok(self)
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
            .map_err(|e| {
                // As for Web API calls: only a connection never made says
                // the answer was not shown.
                if e.is_connect() {
                    SlackApiError::Unavailable(format!("response_url: {e}"))
                } else {
                    SlackApiError::InDoubt(format!("response_url: {e}"))
                }
            })?;
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
        // Connecting gives up sooner (`MAX_CONNECT_TIMEOUT`), so a call still
        // running here most likely had its connection and its request may be
        // with Slack. A name lookup or TLS handshake that hangs ends here too,
        // unsent: nothing tells them apart, so they count as in doubt as well.
        Err(_) => Err(SlackApiError::InDoubt(format!(
            "{what} took longer than {} ms",
            timeout.as_millis()
        ))),
    }
}

pub fn token(secret: &SecretString) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(secret.expose_secret().to_owned()))
}

/// slack-morphism's client for `api_base`, for calls bounded by `CALL_TIMEOUT`.
pub fn client(api_base: &Url) -> Result<Client, SlackApiError> {
    client_within(api_base, CALL_TIMEOUT)
}

/// slack-morphism's client for `api_base`, for calls bounded by
/// `call_timeout`: connecting gives up well before that (see
/// `MAX_CONNECT_TIMEOUT`). Native roots as slack-morphism's own default does;
/// plain http is allowed only when the base asks for it.
fn client_within(api_base: &Url, call_timeout: Duration) -> Result<Client, SlackApiError> {
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    // The TLS layer above it takes https URLs through this connector too.
    http.enforce_http(false);
    http.set_connect_timeout(Some((call_timeout / 2).min(MAX_CONNECT_TIMEOUT)));
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| SlackApiError::Setup(format!("no TLS root certificates: {e}")))?;
    let https = if api_base.scheme() == "http" {
        builder.https_or_http().enable_http1().wrap_connector(http)
    } else {
        builder
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http)
    };
    let connector = SlackClientHyperConnector::from(https)
        .with_slack_api_url(api_base.as_str().trim_end_matches('/'));
    Ok(SlackClient::new(connector))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::errors::{
        SlackClientApiError, SlackClientHttpError, SlackClientHttpProtocolError,
        SlackClientProtocolError, SlackClientSystemError,
    };

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

    /// A JSON error, as serde makes them.
    fn json_error() -> serde_json::Error {
        serde_json::from_str::<serde_json::Value>("{").unwrap_err()
    }

    #[test]
    fn an_answer_that_could_not_be_read_leaves_the_call_in_doubt() {
        let cut_short = SlackClientError::SystemError(SlackClientSystemError::new().with_cause(
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        ));
        let unparsed = SlackClientError::ProtocolError(
            SlackClientProtocolError::new(json_error()).with_json_body("{\"ok\":tr".to_owned()),
        );
        for e in [cut_short, unparsed] {
            let sorted = classify(e);
            assert!(matches!(sorted, SlackApiError::InDoubt(_)), "{sorted:?}");
            assert!(matches!(ChatError::from(sorted), ChatError::InDoubt(_)));
        }
    }

    #[test]
    fn a_request_that_never_left_was_not_taken() {
        // Ours failed to serialise: no body was ever sent.
        let unserialised =
            SlackClientError::ProtocolError(SlackClientProtocolError::new(json_error()));
        // The request could not be built (no hyper error at all).
        let unbuilt = SlackClientError::HttpProtocolError(
            SlackClientHttpProtocolError::new()
                .with_cause(Box::new(reqwest::Url::parse("not a url").unwrap_err())),
        );
        for e in [unserialised, unbuilt] {
            let sorted = classify(e);
            assert!(
                matches!(sorted, SlackApiError::Unavailable(_)),
                "{sorted:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_is_in_doubt() {
        let never = std::future::pending::<Result<(), SlackClientError>>();
        let sorted = bounded(Duration::from_millis(10), "chat.postMessage", never)
            .await
            .unwrap_err();
        assert!(
            matches!(&sorted, SlackApiError::InDoubt(why) if why.contains("chat.postMessage")),
            "{sorted:?}"
        );
    }
}

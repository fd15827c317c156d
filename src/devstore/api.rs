//! The routes of the dev storefront, and the middleware that records every `/api/*` call and injects
//! the configured faults into `/api/flash-sales/*`. Handlers only parse, check the signature and call
//! `state`; every answer (errors too) is JSON, except the page.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::page;
use super::shop_now;
use super::state::{Answer, Fault, Faults, RecordedCall, Shared};

/// Search answers this many products when no `limit` is given...
const DEFAULT_SEARCH_LIMIT: usize = 25;
/// ...and never more than this many, whatever is asked.
const MAX_SEARCH_LIMIT: usize = 100;
/// Request bodies above this are refused; a flash sale is a few kilobytes.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The prefix the call recorder watches.
const API_PREFIX: &str = "/api/";
/// The prefix faults apply to; the catalog under `/api/products` is never faulted.
const FLASH_SALES_PREFIX: &str = "/api/flash-sales";

type AppState = State<Arc<Shared>>;

/// Set on a response that was answered from memory, so the recorder can mark the call as a replay.
#[derive(Clone, Copy, Debug)]
struct Replayed;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page_route))
        .route("/fragment/flash-sale", get(fragment_route))
        .route("/api/products", get(products))
        .route("/api/products/search", get(search))
        .route("/api/capabilities", get(capabilities))
        .route("/api/flash-sales/current", get(current))
        .route(
            "/api/flash-sales/{session_id}",
            get(read_sale).put(publish).delete(end_sale),
        )
        .route("/admin/calls", get(admin_calls))
        .route(
            "/admin/faults",
            get(admin_faults).post(set_faults).delete(clear_faults),
        )
        .fallback(not_found)
        // Added last so it also sees the fallback: a call to a wrong path is worth seeing in the log.
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            record_and_inject,
        ))
        .with_state(shared)
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

fn answer(answer: Answer) -> Response {
    let mut response = (answer.status, Json(answer.json)).into_response();
    if answer.replay {
        response.extensions_mut().insert(Replayed);
    }
    response
}

/// Records `/api/*` calls (after they are answered, with their status) and applies faults to
/// `/api/flash-sales/*`. Other paths (the page, `/admin`) pass straight through.
async fn record_and_inject(State(shared): AppState, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !path.starts_with(API_PREFIX) {
        return next.run(request).await;
    }
    let mut at = shop_now();
    let method = request.method().to_string();
    let query = request.uri().query().map(str::to_owned);
    let webhook_id = request
        .headers()
        .get(standardwebhooks::HEADER_WEBHOOK_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let headers = header_names(request.headers());
    let (parts, body) = request.into_parts();
    // The body is read here once so it can be logged and still handed to the route.
    let (bytes, response, fault) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Err(_) => {
            let message = format!("the body could not be read (at most {MAX_BODY_BYTES} bytes)");
            (Bytes::new(), error(StatusCode::BAD_REQUEST, message), None)
        }
        Ok(bytes) => {
            let faultable = path == FLASH_SALES_PREFIX || path.starts_with("/api/flash-sales/");
            let fault = if faultable {
                shared.take_fault(&method)
            } else {
                None
            };
            if let Some(Fault::Delay(wait)) = fault {
                // Arrives late: handled, and recorded, as of now.
                tokio::time::sleep(wait).await;
                at = shop_now();
            }
            let response = match fault {
                Some(Fault::Fail {
                    status,
                    retry_after_secs,
                }) => fault_response(status, retry_after_secs),
                _ => {
                    let request = Request::from_parts(parts, Body::from(bytes.clone()));
                    next.run(request).await
                }
            };
            (bytes, response, fault)
        }
    };
    let replay = response.extensions().get::<Replayed>().is_some();
    // Every answer here is a small JSON document built in memory, so holding it to record it costs
    // nothing; the recording is what lets the tests check answers against docs/storefront-api.yaml.
    let (response_parts, response_body) = response.into_parts();
    let answered = axum::body::to_bytes(response_body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    shared.record(RecordedCall {
        method,
        path,
        query,
        webhook_id,
        headers,
        replay,
        status: response_parts.status.as_u16(),
        retry_after: response_parts
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        at,
        body: serde_json::from_slice(&bytes).ok(),
        response: serde_json::from_slice(&answered).ok(),
    });
    if let Some(Fault::Stall(wait)) = fault {
        tokio::time::sleep(wait).await;
    }
    Response::from_parts(response_parts, Body::from(answered))
}

/// The names of the request's headers, lower-case and sorted, so a recorded call shows which
/// signature headers came without copying their values.
fn header_names(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    names
}

fn fault_response(status: StatusCode, retry_after_secs: Option<u64>) -> Response {
    let mut response = error(status, format!("injected fault: HTTP {}", status.as_u16()));
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A refusal: the status and the message put into `{"error": ...}`.
struct ApiError(StatusCode, String);

impl ApiError {
    fn new(status: StatusCode, message: impl std::fmt::Display) -> ApiError {
        ApiError(status, message.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The query as a map, or a JSON 400 when it cannot be decoded.
fn query_map(query: Params) -> Result<HashMap<String, String>, ApiError> {
    query
        .map(|Query(map)| map)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("bad query string: {e}")))
}

async fn products(State(shared): AppState, query: Params) -> Result<Response, ApiError> {
    let params = query_map(query)?;
    let raw = params.get("skus").map(String::as_str).unwrap_or("");
    let skus: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Ok(Json(shared.products(&skus)).into_response())
}

async fn search(State(shared): AppState, query: Params) -> Result<Response, ApiError> {
    let params = query_map(query)?;
    let limit = match params.get("limit").map(|l| l.trim().parse::<usize>()) {
        None => DEFAULT_SEARCH_LIMIT,
        Some(Ok(limit)) => limit.min(MAX_SEARCH_LIMIT),
        Some(Err(_)) => {
            let message = format!("limit must be a whole number from 0 to {MAX_SEARCH_LIMIT}");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
        }
    };
    let q = params.get("q").map(String::as_str).unwrap_or("");
    Ok(Json(shared.search(q, limit)).into_response())
}

/// The session id from the path, or a JSON 400.
fn session_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "the session id must be a whole number",
        )
    })
}

/// The verified `webhook-id`, or a JSON 401 saying what is wrong with the signature.
fn verified_id(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let refuse = |why: &dyn std::fmt::Display| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("webhook signature rejected: {why}"),
        )
    };
    shared.verify(body, headers).map_err(|e| refuse(&e))?;
    headers
        .get(standardwebhooks::HEADER_WEBHOOK_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| refuse(&"missing header id"))
}

async fn publish(
    State(shared): AppState,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = session_id(&raw)?;
    let webhook_id = verified_id(&shared, &headers, &body)?;
    Ok(answer(shared.publish(id, &webhook_id, &body)))
}

async fn end_sale(
    State(shared): AppState,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = session_id(&raw)?;
    let webhook_id = verified_id(&shared, &headers, &body)?;
    Ok(answer(shared.end(id, &webhook_id, &body)))
}

async fn read_sale(State(shared): AppState, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = session_id(&raw)?;
    match shared.sale_json(id, shop_now()) {
        Some(sale) => Ok(Json(sale).into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "no such flash sale")),
    }
}

/// What this shop does by itself (optional in the contract): it switches a
/// sale on and off by its clock, so the bot may stage sales ahead.
async fn capabilities(State(shared): AppState) -> Json<Value> {
    Json(json!({ "scheduled_sales": shared.schedules_sales }))
}

async fn current(State(shared): AppState) -> Json<Value> {
    let now = shop_now();
    let (live, next) = shared.current(now);
    Json(json!({
        "live": live.map(|s| s.to_json(now)),
        "next": next.map(|s| s.to_json(now)),
    }))
}

async fn page_route(State(shared): AppState) -> Html<String> {
    let now = shop_now();
    let (live, next) = shared.current(now);
    Html(page::render_page(live.as_ref(), next.as_ref(), now))
}

async fn fragment_route(State(shared): AppState) -> Html<String> {
    let now = shop_now();
    let (live, next) = shared.current(now);
    Html(page::render_section(live.as_ref(), next.as_ref(), now))
}

async fn admin_calls(State(shared): AppState) -> Json<Vec<RecordedCall>> {
    Json(shared.calls())
}

async fn admin_faults(State(shared): AppState) -> Json<Faults> {
    Json(shared.faults())
}

async fn set_faults(State(shared): AppState, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(faults) => faults,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("not a fault setting: {e}"),
            )
        }
    };
    if faults.status.is_some_and(|s| !(400..=599).contains(&s)) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "status must be an HTTP error, 400-599",
        );
    }
    shared.set_faults(faults.clone());
    Json(faults).into_response()
}

async fn clear_faults(State(shared): AppState) -> Json<Faults> {
    shared.set_faults(Faults::default());
    Json(Faults::default())
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route")
}

//! A fake Shopify on loopback: the Admin GraphQL endpoint
//! (`POST /admin/api/2025-01/graphql.json`), enough for the Shopify
//! adapter (`flashsale_bot::shopify`) and the whole bot to run against.
//!
//! What it does:
//! - **validates every request against Shopify's full schema** (`schema`,
//!   apollo-compiler): the document (fields, arguments, fragments, variable
//!   definitions and uses) and the variables' values (coerced as the spec
//!   says). A refused request answers GraphQL `errors`, as Shopify does, and
//!   is kept in [`FakeShopify::problems`]: every test ends by asserting none;
//! - checks `X-Shopify-Access-Token` (401 when wrong or revoked), can be
//!   taken down (503), and can fail the next calls of one root field;
//! - meters cost like Shopify: a leaky bucket (`maximumAvailable`,
//!   `restoreRate`), each query's requested cost (a connection costs 2 plus
//!   `first` times its nodes, an object 1, a mutation 10), `THROTTLED` when
//!   the bucket cannot pay, and `extensions.cost` on every answer;
//! - keeps products, variants, automatic discounts (status by its clock:
//!   `SCHEDULED` before `startsAt`, `EXPIRED` from `endsAt`), shop
//!   metafields and orders, answers `userErrors` where Shopify would, and
//!   says what a shopper pays now ([`FakeShopify::shopper_price`]);
//! - answers with exactly the fields selected (aliases, inline fragments on
//!   unions by `__typename`), so a field the client forgot to select is
//!   missing here as it would be there.

pub mod schema;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use apollo_compiler::ast::{OperationType, Value as GqlValue};
use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::ExecutableDocument;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use flashsale_bot::shopify::{decimal_text, parse_decimal};
use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;

pub const TOKEN: &str = "shpat_fake_token";
pub const SHOP_ID: &str = "gid://shopify/Shop/1";
pub const PATH: &str = "/admin/api/2025-01/graphql.json";
/// Shopify's limit on active automatic discounts per store: creating one
/// more that would be active at once is refused (`userErrors`).
pub const MAX_ACTIVE_AUTOMATIC_DISCOUNTS: usize = 25;

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    pub title: String,
    pub price_minor: i64,
    pub compare_at_minor: Option<i64>,
    pub inventory: i32,
    pub tracked: bool,
}

#[derive(Debug, Clone)]
pub struct ProductRec {
    pub id: String,
    pub title: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct Discount {
    pub id: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub percentage: f64,
    pub variants: Vec<String>,
}

impl Discount {
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if now < self.starts_at {
            "SCHEDULED"
        } else if self.ends_at.is_some_and(|e| now >= e) {
            "EXPIRED"
        } else {
            "ACTIVE"
        }
    }
}

#[derive(Debug, Clone)]
struct Order {
    id: String,
    created_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    lines: Vec<(String, i32)>,
}

/// One request the fake answered.
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    /// The root fields asked for (`productVariants`, `metafieldsSet`, …).
    pub fields: Vec<String>,
    pub status: u16,
    pub throttled: bool,
    pub cost: f64,
    /// The bucket after the call.
    pub available: f64,
}

struct Bucket {
    maximum: f64,
    rate: f64,
    available: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self) {
        let now = Instant::now();
        self.available = (self.available + now.duration_since(self.at).as_secs_f64() * self.rate)
            .min(self.maximum);
        self.at = now;
    }
}

struct State {
    exponent: u8,
    currency: String,
    products: Vec<ProductRec>,
    variants: Vec<Variant>,
    discounts: Vec<Discount>,
    metafields: HashMap<(String, String), (String, String)>,
    orders: Vec<Order>,
    token: String,
    down: bool,
    fail_next: HashMap<String, u32>,
    bucket: Bucket,
    calls: Vec<Call>,
    problems: Vec<String>,
    next_id: u64,
}

impl State {
    fn id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("gid://shopify/{kind}/{}", self.next_id)
    }

    fn money(&self, minor: i64) -> Value {
        // Shopify writes a decimal point even where the currency has no
        // minor unit ("149500.0"): the adapter must read that exactly.
        if self.exponent == 0 {
            json!(format!("{minor}.0"))
        } else {
            json!(decimal_text(minor, self.exponent))
        }
    }

    fn variant_json(&self, v: &Variant) -> Value {
        let product = self.products.iter().find(|p| p.id == v.product_id);
        json!({
            "__typename": "ProductVariant",
            "id": v.id,
            "sku": v.sku,
            "title": v.title,
            "displayName": format!("{} - {}", product.map_or("", |p| p.title.as_str()), v.title),
            "price": self.money(v.price_minor),
            "compareAtPrice": v.compare_at_minor.map(|m| self.money(m)),
            "inventoryQuantity": v.inventory,
            "inventoryItem": { "__typename": "InventoryItem", "tracked": v.tracked },
            "product": product.map(|p| json!({
                "__typename": "Product", "id": p.id, "title": p.title, "status": p.status
            })),
        })
    }

    fn discount_json(&self, d: &Discount) -> Value {
        let now = Utc::now();
        json!({
            "__typename": "DiscountAutomaticNode",
            "id": d.id,
            "automaticDiscount": {
                "__typename": "DiscountAutomaticBasic",
                "title": d.title,
                "status": d.status(now),
                "startsAt": d.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "endsAt": d.ends_at.map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "customerGets": {
                    "__typename": "DiscountCustomerGets",
                    "value": { "__typename": "DiscountPercentage", "percentage": d.percentage },
                    "items": {
                        "__typename": "DiscountProducts",
                        "productVariants": {
                            "nodes": d.variants.iter().map(|id| json!({"__typename": "ProductVariant", "id": id})).collect::<Vec<_>>(),
                            "pageInfo": { "hasNextPage": false, "endCursor": null },
                        },
                    },
                },
            },
        })
    }
}

struct Inner {
    state: Mutex<State>,
    addr: SocketAddr,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct FakeShopify {
    inner: Arc<Inner>,
    server: JoinHandle<()>,
}

impl Drop for FakeShopify {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeShopify {
    /// A fake store in `currency` (with `exponent` decimals), a bucket of
    /// 1,000 points restoring 50 a second (the Advanced plan's).
    pub async fn start(currency: &str, exponent: u8) -> FakeShopify {
        schema::full();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                exponent,
                currency: currency.to_owned(),
                products: Vec::new(),
                variants: Vec::new(),
                discounts: Vec::new(),
                metafields: HashMap::new(),
                orders: Vec::new(),
                token: TOKEN.to_owned(),
                down: false,
                fail_next: HashMap::new(),
                bucket: Bucket {
                    maximum: 1000.0,
                    rate: 50.0,
                    available: 1000.0,
                    at: Instant::now(),
                },
                calls: Vec::new(),
                problems: Vec::new(),
                next_id: 1000,
            }),
            addr,
        });
        let app = axum::Router::new()
            .route(PATH, axum::routing::post(graphql))
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeShopify { inner, server }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// Adds a product with one variant; its variant's id.
    pub fn add_product(
        &self,
        sku: &str,
        title: &str,
        price_minor: i64,
        stock: i32,
        status: &str,
    ) -> String {
        let mut state = self.inner.lock();
        let product_id = state.id("Product");
        let variant_id = state.id("ProductVariant");
        state.products.push(ProductRec {
            id: product_id.clone(),
            title: title.to_owned(),
            status: status.to_owned(),
        });
        state.variants.push(Variant {
            id: variant_id.clone(),
            product_id,
            sku: sku.to_owned(),
            title: "Default Title".to_owned(),
            price_minor,
            compare_at_minor: None,
            inventory: stock,
            tracked: true,
        });
        variant_id
    }

    pub fn variant(&self, sku: &str) -> Variant {
        self.inner
            .lock()
            .variants
            .iter()
            .find(|v| v.sku == sku)
            .cloned()
            .unwrap_or_else(|| panic!("no variant {sku}"))
    }

    pub fn set_variant(&self, sku: &str, change: impl FnOnce(&mut Variant)) {
        let mut state = self.inner.lock();
        let variant = state
            .variants
            .iter_mut()
            .find(|v| v.sku == sku)
            .expect("the variant");
        change(variant);
    }

    /// An automatic discount another app made (its id is assigned here),
    /// on the variant of `sku`.
    pub fn add_discount(&self, title: &str, sku: &str, percentage: f64, starts_at: DateTime<Utc>) {
        let mut state = self.inner.lock();
        let variant = state
            .variants
            .iter()
            .find(|v| v.sku == sku)
            .map(|v| v.id.clone())
            .expect("the variant");
        let id = state.id("DiscountAutomaticNode");
        state.discounts.push(Discount {
            id,
            title: title.to_owned(),
            starts_at,
            ends_at: None,
            percentage,
            variants: vec![variant],
        });
    }

    pub fn discounts(&self) -> Vec<Discount> {
        self.inner.lock().discounts.clone()
    }

    pub fn metafield(&self, key: &str) -> Option<Value> {
        self.inner
            .lock()
            .metafields
            .get(&("flashsale_bot".to_owned(), key.to_owned()))
            .map(|(_, v)| serde_json::from_str(v).expect("a JSON metafield"))
    }

    /// Replaces a shop metafield of the bot's (as a test's stand-in for a
    /// write whose answer was lost).
    pub fn set_metafield(&self, key: &str, value: &Value) {
        let mut state = self.inner.lock();
        let entry = state
            .metafields
            .get_mut(&("flashsale_bot".to_owned(), key.to_owned()))
            .expect("the metafield");
        entry.1 = value.to_string();
    }

    /// What a shopper is charged now for `sku`: its price less the best
    /// active automatic discount that has its variant (rounded half-up).
    pub fn shopper_price(&self, sku: &str) -> i64 {
        let state = self.inner.lock();
        let variant = state
            .variants
            .iter()
            .find(|v| v.sku == sku)
            .expect("the variant");
        let now = Utc::now();
        let best = state
            .discounts
            .iter()
            .filter(|d| d.status(now) == "ACTIVE" && d.variants.contains(&variant.id))
            .map(|d| (d.percentage * 100.0).round() as i64)
            .max()
            .unwrap_or(0);
        (variant.price_minor * (100 - best) + 50) / 100
    }

    pub fn place_order(&self, lines: &[(&str, i32)]) -> String {
        self.place_order_at(lines, Utc::now())
    }

    pub fn place_order_at(&self, lines: &[(&str, i32)], created_at: DateTime<Utc>) -> String {
        let mut state = self.inner.lock();
        let id = state.id("Order");
        state.orders.push(Order {
            id: id.clone(),
            created_at,
            cancelled_at: None,
            lines: lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
        });
        id
    }

    pub fn cancel_order(&self, id: &str) {
        let mut state = self.inner.lock();
        if let Some(order) = state.orders.iter_mut().find(|o| o.id == id) {
            order.cancelled_at = Some(Utc::now());
        }
    }

    pub fn revoke_token(&self) {
        self.inner.lock().token = "revoked".to_owned();
    }

    pub fn set_down(&self, down: bool) {
        self.inner.lock().down = down;
    }

    /// The next `times` calls asking for `root_field` answer 503.
    pub fn fail_next(&self, root_field: &str, times: u32) {
        self.inner
            .lock()
            .fail_next
            .insert(root_field.to_owned(), times);
    }

    /// A smaller bucket (a Basic plan's is 100 points, 50 a second).
    pub fn set_bucket(&self, maximum: f64, rate: f64) {
        let mut state = self.inner.lock();
        state.bucket = Bucket {
            maximum,
            rate,
            available: maximum,
            at: Instant::now(),
        };
    }

    /// Spends points as another app on the same store would.
    pub fn spend(&self, points: f64) {
        let mut state = self.inner.lock();
        state.bucket.refill();
        state.bucket.available = (state.bucket.available - points).max(0.0);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().calls.clone()
    }

    pub fn calls_of(&self, root_field: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.status == 200 && !c.throttled && c.fields.iter().any(|f| f == root_field))
            .count()
    }

    pub fn problems(&self) -> Vec<String> {
        self.inner.lock().problems.clone()
    }

    pub fn assert_no_problems(&self) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "the fake Shopify refused requests: {problems:#?}"
        );
    }
}

fn errors(message: impl Into<String>, code: &str) -> Value {
    json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] })
}

async fn graphql(
    AxumState(inner): AxumState<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    let query = request["query"].as_str().unwrap_or_default().to_owned();
    let variables = request["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let operation_name = request["operationName"].as_str().map(str::to_owned);
    let mut state = inner.lock();
    let mut call = Call {
        operation: operation_name.clone().unwrap_or_default(),
        fields: Vec::new(),
        status: 200,
        throttled: false,
        cost: 0.0,
        available: 0.0,
    };
    if state.down {
        call.status = 503;
        state.calls.push(call);
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(state.token.as_str()) {
        call.status = 401;
        state.calls.push(call);
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})),
        )
            .into_response();
    }
    let schema = schema::full();
    let document = match ExecutableDocument::parse_and_validate(schema, &query, "request.graphql") {
        Ok(d) => d,
        Err(e) => {
            let problem = format!("{}: {}", call.operation, e.errors);
            state.problems.push(problem.clone());
            state.calls.push(call);
            return axum::Json(errors(problem, "GRAPHQL_VALIDATION_FAILED")).into_response();
        }
    };
    let operation = match document.operations.get(operation_name.as_deref()) {
        Ok(op) => op.clone(),
        Err(e) => {
            let problem = format!("no operation: {}", e.message());
            state.problems.push(problem.clone());
            return axum::Json(errors(problem, "GRAPHQL_VALIDATION_FAILED")).into_response();
        }
    };
    let bytes_vars: apollo_compiler::response::JsonMap = variables
        .iter()
        .map(|(k, v)| (k.as_str().into(), v.clone().into()))
        .collect();
    if let Err(e) =
        apollo_compiler::request::coerce_variable_values(schema, &operation, &bytes_vars)
    {
        let problem = format!("{}: variables: {}", call.operation, e.message());
        state.problems.push(problem.clone());
        state.calls.push(call);
        return axum::Json(errors(problem, "INVALID_VARIABLE")).into_response();
    }
    call.fields = operation
        .selection_set
        .selections
        .iter()
        .filter_map(|s| match s {
            Selection::Field(f) => Some(f.name.to_string()),
            _ => None,
        })
        .collect();
    for field in call.fields.clone() {
        if let Some(left) = state.fail_next.get_mut(&field) {
            if *left > 0 {
                *left -= 1;
                call.status = 503;
                state.calls.push(call);
                return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
            }
        }
    }
    let mutation = operation.operation_type == OperationType::Mutation;
    let cost = if mutation {
        10.0
    } else {
        selection_cost(&operation.selection_set, &variables).max(1.0)
    };
    state.bucket.refill();
    let throttle = |state: &State| {
        json!({
            "maximumAvailable": state.bucket.maximum,
            "currentlyAvailable": state.bucket.available.floor(),
            "restoreRate": state.bucket.rate,
        })
    };
    call.cost = cost;
    if cost > 1000.0 {
        let problem = format!(
            "{}: costs {cost}, over the 1,000 a query may",
            call.operation
        );
        state.problems.push(problem.clone());
        state.calls.push(call);
        return axum::Json(errors(problem, "MAX_COST_EXCEEDED")).into_response();
    }
    if state.bucket.available < cost {
        call.throttled = true;
        call.available = state.bucket.available;
        let mut answer = errors("Throttled", "THROTTLED");
        answer["extensions"] = json!({ "cost": {
            "requestedQueryCost": cost, "actualQueryCost": null, "throttleStatus": throttle(&state)
        }});
        state.calls.push(call);
        return axum::Json(answer).into_response();
    }
    state.bucket.available -= cost;
    let mut data = Map::new();
    for selection in &operation.selection_set.selections {
        let Selection::Field(field) = selection else {
            continue;
        };
        let args = arguments(field, &variables);
        let full = if mutation {
            mutate(&mut state, field.name.as_str(), &args)
        } else {
            resolve(
                &state,
                field.name.as_str(),
                &args,
                &field.selection_set,
                &variables,
            )
        };
        data.insert(
            field.response_key().to_string(),
            project(&full, &field.selection_set, &document),
        );
    }
    call.available = state.bucket.available;
    let answer = json!({
        "data": data,
        "extensions": { "cost": {
            "requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": throttle(&state)
        }},
    });
    state.calls.push(call);
    axum::Json(answer).into_response()
}

fn to_json(value: &GqlValue, variables: &Map<String, Value>) -> Value {
    match value {
        GqlValue::Null => Value::Null,
        GqlValue::Enum(n) => json!(n.as_str()),
        GqlValue::Variable(n) => variables.get(n.as_str()).cloned().unwrap_or(Value::Null),
        GqlValue::String(s) => json!(s),
        GqlValue::Float(f) => json!(f.try_to_f64().unwrap_or(0.0)),
        GqlValue::Int(i) => json!(i.try_to_i32().unwrap_or(0)),
        GqlValue::Boolean(b) => json!(b),
        GqlValue::List(items) => {
            Value::Array(items.iter().map(|i| to_json(i, variables)).collect())
        }
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v, variables)))
                .collect(),
        ),
    }
}

fn arguments(
    field: &apollo_compiler::executable::Field,
    variables: &Map<String, Value>,
) -> Map<String, Value> {
    field
        .arguments
        .iter()
        .map(|a| (a.name.to_string(), to_json(&a.value, variables)))
        .collect()
}

/// Shopify's requested cost, roughly: an object 1, a connection 2 plus
/// `first` times what one node selects, scalars free.
fn selection_cost(set: &SelectionSet, variables: &Map<String, Value>) -> f64 {
    let mut cost = 0.0;
    for selection in &set.selections {
        match selection {
            Selection::Field(f) if !f.selection_set.selections.is_empty() => {
                let ty = f.definition.ty.inner_named_type().as_str();
                if ty.ends_with("Connection") {
                    let first = arguments(f, variables)
                        .get("first")
                        .and_then(Value::as_f64)
                        .unwrap_or(10.0);
                    let per_node: f64 = f
                        .selection_set
                        .selections
                        .iter()
                        .map(|s| match s {
                            Selection::Field(n) if n.name == "nodes" || n.name == "edges" => {
                                1.0 + selection_cost(&n.selection_set, variables)
                            }
                            _ => 0.0,
                        })
                        .sum();
                    cost += 2.0 + first * per_node;
                } else {
                    cost += 1.0 + selection_cost(&f.selection_set, variables);
                }
            }
            Selection::InlineFragment(i) => cost += selection_cost(&i.selection_set, variables),
            _ => {}
        }
    }
    cost
}

/// `value` with only the fields `set` selects, under their response keys.
fn project(value: &Value, set: &SelectionSet, document: &ExecutableDocument) -> Value {
    if set.selections.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| project(i, set, document)).collect())
        }
        Value::Object(object) => {
            let mut out = Map::new();
            collect(object, set, document, &mut out);
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn collect(
    object: &Map<String, Value>,
    set: &SelectionSet,
    document: &ExecutableDocument,
    out: &mut Map<String, Value>,
) {
    let typename = object.get("__typename").and_then(Value::as_str);
    let applies = |condition: Option<&str>| match (condition, typename) {
        (None, _) | (_, None) => true,
        (Some(c), Some(t)) => c == t,
    };
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                let value = if f.name == "__typename" {
                    json!(typename)
                } else {
                    object.get(f.name.as_str()).cloned().unwrap_or(Value::Null)
                };
                out.insert(
                    f.response_key().to_string(),
                    project(&value, &f.selection_set, document),
                );
            }
            Selection::InlineFragment(i) => {
                if applies(i.type_condition.as_ref().map(|c| c.as_str())) {
                    collect(object, &i.selection_set, document, out);
                }
            }
            Selection::FragmentSpread(s) => {
                if let Some(fragment) = document.fragments.get(&s.fragment_name) {
                    if applies(Some(fragment.type_condition().as_str())) {
                        collect(object, &fragment.selection_set, document, out);
                    }
                }
            }
        }
    }
}

/// The quoted values of `field:"..."` terms in a search query.
fn terms(query: &str, field: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = query;
    let prefix = format!("{field}:");
    while let Some(at) = rest.find(&prefix) {
        rest = &rest[at + prefix.len()..];
        let (value, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        };
        found.push(value);
        rest = after;
    }
    found
}

fn page(items: Vec<Value>, args: &Map<String, Value>) -> Value {
    let first = args.get("first").and_then(Value::as_u64).unwrap_or(10) as usize;
    let start = args
        .get("after")
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let end = (start + first).min(items.len());
    let nodes: Vec<Value> = items
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    json!({
        "nodes": nodes,
        "pageInfo": { "hasNextPage": end < items.len(), "endCursor": if nodes.is_empty() { Value::Null } else { json!(end.to_string()) } },
    })
}

fn resolve(
    state: &State,
    field: &str,
    args: &Map<String, Value>,
    set: &SelectionSet,
    variables: &Map<String, Value>,
) -> Value {
    match field {
        "shop" => {
            let mut shop = json!({ "__typename": "Shop", "id": SHOP_ID, "currencyCode": state.currency, "name": "Fake" });
            for selection in &set.selections {
                if let Selection::Field(f) = selection {
                    if f.name == "metafield" {
                        let a = arguments(f, variables);
                        let key = (
                            a.get("namespace")
                                .and_then(Value::as_str)
                                .unwrap_or("$app")
                                .to_owned(),
                            a.get("key")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                        );
                        shop["metafield"] = state.metafields.get(&key).map_or(Value::Null, |(id, value)| {
                            json!({ "__typename": "Metafield", "id": id, "value": value })
                        });
                    }
                }
            }
            shop
        }
        "productVariants" => {
            let query = args
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let skus: Vec<String> = terms(query, "sku")
                .iter()
                .map(|s| s.to_lowercase())
                .collect();
            let items = state
                .variants
                .iter()
                .filter(|v| {
                    if skus.is_empty() {
                        query.is_empty() || v.sku.to_lowercase().contains(&query.to_lowercase())
                    } else {
                        skus.contains(&v.sku.to_lowercase())
                    }
                })
                .map(|v| state.variant_json(v))
                .collect();
            page(items, args)
        }
        "automaticDiscountNode" => {
            let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
            state
                .discounts
                .iter()
                .find(|d| d.id == id)
                .map_or(Value::Null, |d| state.discount_json(d))
        }
        "automaticDiscountNodes" => {
            let query = args
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let titles = terms(query, "title");
            let items = state
                .discounts
                .iter()
                .filter(|d| {
                    titles
                        .iter()
                        .all(|t| d.title.to_lowercase().contains(&t.to_lowercase()))
                })
                .map(|d| state.discount_json(d))
                .collect();
            page(items, args)
        }
        "orders" => {
            let query = args
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let bound = |op: &str| {
                query
                    .split_whitespace()
                    .find_map(|t| t.strip_prefix(&format!("created_at:{op}")))
                    .map(|t| t.trim_matches('\''))
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
            };
            let (from, until) = (bound(">="), bound("<"));
            let lines = field_arguments(set, "lineItems", variables);
            let items = state
                .orders
                .iter()
                .filter(|o| {
                    from.is_none_or(|f| o.created_at >= f) && until.is_none_or(|u| o.created_at < u)
                })
                .map(|o| order_json(o, &lines))
                .collect();
            page(items, args)
        }
        "order" => {
            let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
            let lines = field_arguments(set, "lineItems", variables);
            state
                .orders
                .iter()
                .find(|o| o.id == id)
                .map_or(Value::Null, |o| order_json(o, &lines))
        }
        other => panic!("the fake Shopify does not answer {other}"),
    }
}

/// An order with its lines paged as `lines` (the `lineItems` field's
/// arguments) asks, as Shopify pages a nested connection.
fn order_json(o: &Order, lines: &Map<String, Value>) -> Value {
    let items = o
        .lines
        .iter()
        .map(|(sku, q)| json!({"__typename": "LineItem", "sku": sku, "quantity": q}))
        .collect();
    json!({
        "__typename": "Order",
        "id": o.id,
        "createdAt": o.created_at.to_rfc3339(),
        "cancelledAt": o.cancelled_at.map(|c| c.to_rfc3339()),
        "lineItems": page(items, lines),
    })
}

/// The arguments of the first field called `name` anywhere under `set`.
fn field_arguments(
    set: &SelectionSet,
    name: &str,
    variables: &Map<String, Value>,
) -> Map<String, Value> {
    for selection in &set.selections {
        if let Selection::Field(f) = selection {
            if f.name == name {
                return arguments(f, variables);
            }
            let inner = field_arguments(&f.selection_set, name, variables);
            if !inner.is_empty() {
                return inner;
            }
        }
    }
    Map::new()
}

fn user_error(field: &[&str], message: &str) -> Value {
    json!({ "__typename": "UserError", "field": field, "message": message, "code": null })
}

fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Applies a `DiscountAutomaticBasicInput` to `discount`; the user errors.
fn apply_discount(state: &State, discount: &mut Discount, input: &Value) -> Vec<Value> {
    let mut problems = Vec::new();
    if let Some(title) = input.get("title").and_then(Value::as_str) {
        discount.title = title.to_owned();
    }
    if let Some(starts) = time(input.get("startsAt")) {
        discount.starts_at = starts;
    }
    if input.get("endsAt").is_some() {
        discount.ends_at = time(input.get("endsAt"));
    }
    let gets = &input["customerGets"];
    if let Some(p) = gets["value"]["percentage"].as_f64() {
        if !(0.0..=1.0).contains(&p) || p == 0.0 {
            problems.push(user_error(
                &[
                    "automaticBasicDiscount",
                    "customerGets",
                    "value",
                    "percentage",
                ],
                "Value must be between 0.0 and 1.0",
            ));
        }
        discount.percentage = p;
    }
    let products = &gets["items"]["products"];
    for id in products["productVariantsToAdd"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !state.variants.iter().any(|v| v.id == id) {
            problems.push(user_error(
                &[
                    "automaticBasicDiscount",
                    "customerGets",
                    "items",
                    "products",
                    "productVariantsToAdd",
                ],
                "Product variant does not exist",
            ));
        } else if !discount.variants.iter().any(|v| v == id) {
            discount.variants.push(id.to_owned());
        }
    }
    for id in products["productVariantsToRemove"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        discount.variants.retain(|v| v != id);
    }
    if discount.title.is_empty() {
        problems.push(user_error(
            &["automaticBasicDiscount", "title"],
            "Title can't be blank",
        ));
    }
    if discount.ends_at.is_some_and(|e| e <= discount.starts_at) {
        problems.push(user_error(
            &["automaticBasicDiscount", "endsAt"],
            "Ends at needs to be after starts_at",
        ));
    }
    if discount.variants.is_empty() {
        problems.push(user_error(
            &["automaticBasicDiscount", "customerGets", "items"],
            "Items must be specified",
        ));
    }
    problems
}

fn mutate(state: &mut State, field: &str, args: &Map<String, Value>) -> Value {
    match field {
        "metafieldsSet" => {
            let mut set = Vec::new();
            let mut problems = Vec::new();
            for (i, m) in args["metafields"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let owner = m["ownerId"].as_str().unwrap_or_default();
                let key = m["key"].as_str().unwrap_or_default();
                let value = m["value"].as_str().unwrap_or_default();
                if owner != SHOP_ID {
                    problems.push(user_error(
                        &["metafields", &i.to_string(), "ownerId"],
                        "Owner does not exist",
                    ));
                    continue;
                }
                if !(2..=64).contains(&key.len()) {
                    problems.push(user_error(
                        &["metafields", &i.to_string(), "key"],
                        "Key must be 2-64 characters",
                    ));
                    continue;
                }
                if m["type"] == "json" && serde_json::from_str::<Value>(value).is_err() {
                    problems.push(user_error(
                        &["metafields", &i.to_string(), "value"],
                        "Value is invalid JSON",
                    ));
                    continue;
                }
                let namespace = m["namespace"].as_str().unwrap_or("$app").to_owned();
                let id = match state.metafields.get(&(namespace.clone(), key.to_owned())) {
                    Some((id, _)) => id.clone(),
                    None => state.id("Metafield"),
                };
                state
                    .metafields
                    .insert((namespace, key.to_owned()), (id.clone(), value.to_owned()));
                set.push(
                    json!({ "__typename": "Metafield", "id": id, "key": key, "value": value }),
                );
            }
            json!({ "metafields": if problems.is_empty() { json!(set) } else { Value::Null }, "userErrors": problems })
        }
        "discountAutomaticBasicCreate" => {
            let input = &args["automaticBasicDiscount"];
            let mut discount = Discount {
                id: String::new(),
                title: String::new(),
                starts_at: Utc::now(),
                ends_at: None,
                percentage: 0.0,
                variants: Vec::new(),
            };
            if input.get("startsAt").is_none() {
                return json!({ "automaticDiscountNode": null, "userErrors": [user_error(&["automaticBasicDiscount", "startsAt"], "Starts at can't be blank")] });
            }
            let mut problems = apply_discount(state, &mut discount, input);
            let now = Utc::now();
            let active = state
                .discounts
                .iter()
                .filter(|d| d.status(now) == "ACTIVE")
                .count();
            if discount.status(now) == "ACTIVE" && active >= MAX_ACTIVE_AUTOMATIC_DISCOUNTS {
                problems.push(user_error(
                    &["automaticBasicDiscount"],
                    "Automatic discounts limit reached: a store can have 25 active automatic discounts",
                ));
            }
            if !problems.is_empty() {
                return json!({ "automaticDiscountNode": null, "userErrors": problems });
            }
            discount.id = state.id("DiscountAutomaticNode");
            let node = state.discount_json(&discount);
            state.discounts.push(discount);
            json!({ "automaticDiscountNode": node, "userErrors": [] })
        }
        "discountAutomaticBasicUpdate" => {
            let id = args["id"].as_str().unwrap_or_default();
            let Some(index) = state.discounts.iter().position(|d| d.id == id) else {
                return json!({ "automaticDiscountNode": null, "userErrors": [user_error(&["id"], "Discount does not exist")] });
            };
            let mut discount = state.discounts[index].clone();
            let problems = apply_discount(state, &mut discount, &args["automaticBasicDiscount"]);
            if !problems.is_empty() {
                return json!({ "automaticDiscountNode": null, "userErrors": problems });
            }
            let node = state.discount_json(&discount);
            state.discounts[index] = discount;
            json!({ "automaticDiscountNode": node, "userErrors": [] })
        }
        "discountAutomaticDeactivate" => {
            let id = args["id"].as_str().unwrap_or_default();
            let now = Utc::now();
            let Some(discount) = state.discounts.iter_mut().find(|d| d.id == id) else {
                return json!({ "automaticDiscountNode": null, "userErrors": [user_error(&["id"], "Discount does not exist")] });
            };
            if discount.status(now) != "EXPIRED" {
                discount.ends_at = Some(now);
                if discount.starts_at > now {
                    discount.starts_at = now;
                }
            }
            let discount = discount.clone();
            json!({ "automaticDiscountNode": state.discount_json(&discount), "userErrors": [] })
        }
        "discountAutomaticDelete" => {
            let id = args["id"].as_str().unwrap_or_default();
            let before = state.discounts.len();
            state.discounts.retain(|d| d.id != id);
            if state.discounts.len() == before {
                return json!({ "deletedAutomaticDiscountId": null, "userErrors": [user_error(&["id"], "Discount does not exist")] });
            }
            json!({ "deletedAutomaticDiscountId": id, "userErrors": [] })
        }
        "productVariantsBulkUpdate" => {
            let product = args["productId"].as_str().unwrap_or_default().to_owned();
            let exponent = state.exponent;
            let mut problems = Vec::new();
            let mut updated = Vec::new();
            for (i, input) in args["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let id = input["id"].as_str().unwrap_or_default();
                let Some(variant) = state
                    .variants
                    .iter_mut()
                    .find(|v| v.id == id && v.product_id == product)
                else {
                    problems.push(user_error(
                        &["variants", &i.to_string(), "id"],
                        "Product variant does not exist",
                    ));
                    continue;
                };
                if let Some(price) = input.get("price").and_then(Value::as_str) {
                    match parse_decimal(price, exponent) {
                        Ok(minor) if minor >= 0 => variant.price_minor = minor,
                        _ => {
                            problems.push(user_error(
                                &["variants", &i.to_string(), "price"],
                                "Price is invalid",
                            ));
                            continue;
                        }
                    }
                }
                if let Some(compare) = input.get("compareAtPrice") {
                    variant.compare_at_minor = compare
                        .as_str()
                        .and_then(|c| parse_decimal(c, exponent).ok());
                }
                updated.push(variant.clone());
            }
            let nodes: Vec<Value> = updated.iter().map(|v| state.variant_json(v)).collect();
            json!({ "productVariants": nodes, "userErrors": problems })
        }
        other => panic!("the fake Shopify does not do {other}"),
    }
}

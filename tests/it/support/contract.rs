//! The storefront contract, `docs/storefront-api.yaml`, as a checker of the calls the dev storefront
//! recorded: each request's path, query, signature headers and body, and each answer's status, body
//! and `Retry-After`, against what the document says for that path, method and status. Schemas are
//! JSON Schema 2020-12 (OpenAPI 3.1's dialect), checked with the `jsonschema` crate, formats too.
//!
//! [`dev_storefront`](super::storefront::dev_storefront) checks every call when the test is done, so
//! each test that runs the bot against the dev storefront also checks that the document still says
//! what the bot sends and what the dev storefront answers.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use flashsale_bot::devstore::RecordedCall;
use reqwest::Url;
use serde_json::{json, Value};

/// Where the contract lives, relative to the package root.
pub const CONTRACT_PATH: &str = "docs/storefront-api.yaml";

/// What to check of a recorded call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The request came from the bot's own clients: check it and the answer.
    BotAndStorefront,
    /// The request was made by hand, often broken on purpose: check only the answer, and only for
    /// operations the document has.
    StorefrontOnly,
}

/// One operation of the document, found for a recorded call.
struct Operation<'a> {
    /// The path as the document writes it, e.g. `/api/flash-sales/{session_id}`.
    template: &'a str,
    /// The operation object (`get`, `put`, ...).
    op: &'a Value,
    /// Path-level and operation-level parameters, `$ref`s followed.
    parameters: Vec<&'a Value>,
    /// The values of the path's `{placeholders}`.
    path_values: Vec<(String, String)>,
}

/// The parsed document.
pub struct Contract {
    doc: Value,
}

impl Contract {
    /// The document in the repository, read and parsed once per test binary.
    pub fn load() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            let path = format!("{}/{CONTRACT_PATH}", env!("CARGO_MANIFEST_DIR"));
            let text =
                std::fs::read_to_string(&path).expect("docs/storefront-api.yaml is readable");
            Contract::parse(&text)
        })
    }

    /// A document from YAML text (tests change a copy to see that drift is caught).
    pub fn parse(text: &str) -> Contract {
        let doc: Value = serde_norway::from_str(text).expect("the contract is valid YAML");
        Contract { doc }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// `value`, or what its `$ref` (a pointer inside this document) points at.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{reference} points outside the document"));
                let target = self
                    .doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("{reference} points at nothing"));
                self.resolve(target)
            }
            None => value,
        }
    }

    /// Checks `instance` against `schema` (a schema object of this document; its `$ref`s resolve
    /// against the document's components).
    pub fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the schema does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// The operations of the document as `METHOD /template`, for coverage checks.
    pub fn operations(&self) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for (template, item) in self.paths() {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    all.insert(format!("{} {template}", method.to_uppercase()));
                }
            }
        }
        all
    }

    fn paths(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.doc["paths"]
            .as_object()
            .expect("the contract has paths")
            .iter()
    }

    /// The operation a call was made to: a literal path wins over a template, as OpenAPI says.
    fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let method = method.to_lowercase();
        let literal = self.paths().find(|(template, _)| template.as_str() == path);
        let (template, item, path_values) = match literal {
            Some((template, item)) => (template, item, Vec::new()),
            None => self.paths().find_map(|(template, item)| {
                match_template(template, path).map(|values| (template, item, values))
            })?,
        };
        let op = item.get(&method)?;
        let mut parameters: Vec<&Value> = Vec::new();
        for list in [item.get("parameters"), op.get("parameters")]
            .into_iter()
            .flatten()
        {
            for parameter in list.as_array().into_iter().flatten() {
                parameters.push(self.resolve(parameter));
            }
        }
        Some(Operation {
            template,
            op,
            parameters,
            path_values,
        })
    }

    /// `METHOD /template` of a call, when the document has it.
    pub fn operation_of(&self, call: &RecordedCall) -> Option<String> {
        self.operation(&call.method, &call.path)
            .map(|op| format!("{} {}", call.method, op.template))
    }

    /// What is wrong with one recorded call, as sentences; empty when it follows the document.
    pub fn problems(&self, call: &RecordedCall, check: Check) -> Vec<String> {
        let Some(operation) = self.operation(&call.method, &call.path) else {
            return match check {
                Check::BotAndStorefront => vec!["the document has no such operation".to_owned()],
                Check::StorefrontOnly => Vec::new(),
            };
        };
        let mut problems = Vec::new();
        if check == Check::BotAndStorefront {
            self.request_problems(call, &operation, &mut problems);
        }
        self.response_problems(call, &operation, &mut problems);
        problems
    }

    fn request_problems(&self, call: &RecordedCall, operation: &Operation, out: &mut Vec<String>) {
        let query: Vec<(String, String)> = call
            .query
            .as_deref()
            .map(|q| {
                Url::parse(&format!("http://x/?{q}"))
                    .expect("a query string parses")
                    .query_pairs()
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        for (name, _) in &query {
            let declared = operation
                .parameters
                .iter()
                .any(|p| p["in"] == "query" && p["name"] == name.as_str());
            if !declared {
                out.push(format!("query parameter {name:?} is not in the document"));
            }
        }
        for parameter in &operation.parameters {
            let name = parameter["name"].as_str().unwrap_or_default();
            let required = parameter["required"].as_bool().unwrap_or(false);
            let value = match parameter["in"].as_str() {
                Some("path") => operation
                    .path_values
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone()),
                Some("query") => query
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone()),
                Some("header") => {
                    // Header values are not recorded (signatures), only that they came.
                    let sent = call.headers.iter().any(|h| h.eq_ignore_ascii_case(name));
                    if required && !sent {
                        out.push(format!("required header {name} was not sent"));
                    }
                    continue;
                }
                other => panic!("parameter {name} is in {other:?}, which this checker cannot read"),
            };
            match value {
                None if required => out.push(format!("required parameter {name} is missing")),
                None => {}
                Some(raw) => {
                    let schema = &parameter["schema"];
                    let typed = typed_parameter(self.resolve(schema), &raw);
                    if let Err(e) = self.validate(schema, &typed) {
                        out.push(format!("parameter {name}={raw:?}: {e}"));
                    }
                }
            }
        }
        let body_schema = operation
            .op
            .get("requestBody")
            .map(|b| self.resolve(b))
            .and_then(|b| b.pointer("/content/application~1json/schema"));
        match (body_schema, &call.body) {
            (Some(schema), Some(body)) => {
                if let Err(e) = self.validate(schema, body) {
                    out.push(format!("request body: {e}"));
                }
            }
            (Some(_), None) => out.push("the request has no JSON body".to_owned()),
            (None, Some(body)) => out.push(format!(
                "the request has a body the document does not describe: {body}"
            )),
            (None, None) => {}
        }
    }

    fn response_problems(&self, call: &RecordedCall, operation: &Operation, out: &mut Vec<String>) {
        let responses = &operation.op["responses"];
        let status = call.status.to_string();
        let range = format!("{}XX", call.status / 100);
        let Some(response) = [status.as_str(), range.as_str(), "default"]
            .iter()
            .find_map(|key| responses.get(*key))
        else {
            out.push(format!("status {} is not in the document", call.status));
            return;
        };
        let response = self.resolve(response);
        let schema = response.pointer("/content/application~1json/schema");
        match (schema, &call.response) {
            (Some(schema), Some(body)) => {
                if let Err(e) = self.validate(schema, body) {
                    out.push(format!("answer {}: {e}", call.status));
                }
            }
            (Some(_), None) => out.push(format!("answer {} has no JSON body", call.status)),
            (None, Some(body)) => out.push(format!(
                "answer {} has a body the document does not describe: {body}",
                call.status
            )),
            (None, None) => {}
        }
        if let Some(retry_after) = &call.retry_after {
            let declared = response["headers"]
                .as_object()
                .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("retry-after")));
            if !declared {
                out.push(format!(
                    "answer {} carries Retry-After: {retry_after}, which the document does not declare",
                    call.status
                ));
            }
        }
    }
}

/// The values of `{placeholders}` when `path` fits `template`, segment by segment.
fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let wanted: Vec<&str> = template.split('/').collect();
    let got: Vec<&str> = path.split('/').collect();
    if wanted.len() != got.len() {
        return None;
    }
    let mut values = Vec::new();
    for (w, g) in wanted.iter().zip(&got) {
        match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) if !g.is_empty() => values.push((name.to_owned(), (*g).to_owned())),
            Some(_) => return None,
            None if w == g => {}
            None => return None,
        }
    }
    Some(values)
}

/// A path or query value as the JSON its schema expects: an integer when it is one, else the text.
fn typed_parameter(schema: &Value, raw: &str) -> Value {
    if schema["type"] == "integer" {
        if let Ok(n) = raw.parse::<i64>() {
            return json!(n);
        }
    }
    json!(raw)
}

/// Every problem of every call, one line each, naming the call.
pub fn problems_of(contract: &Contract, calls: &[RecordedCall], check: Check) -> Vec<String> {
    calls
        .iter()
        .flat_map(|call| {
            contract.problems(call, check).into_iter().map(move |p| {
                let query = call
                    .query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                format!(
                    "{} {}{query} -> {}: {p}",
                    call.method, call.path, call.status
                )
            })
        })
        .collect()
}

/// Fails the test, listing what differs, when a call does not follow `docs/storefront-api.yaml`.
pub fn assert_calls_follow_contract(calls: &[RecordedCall], check: Check) {
    let problems = problems_of(Contract::load(), calls, check);
    assert!(
        problems.is_empty(),
        "{} call(s) differ from {CONTRACT_PATH}:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

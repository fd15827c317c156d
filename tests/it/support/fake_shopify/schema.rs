//! Shopify's whole Admin schema for the fake: the introspection result the
//! repository carries (tests/shopify/admin_schema_2025-01.json.gz, 2,709
//! types, from Shopify's dev-mcp repository, ISC licence, LICENSE.dev-mcp
//! beside it), printed as SDL and validated by apollo-compiler once per
//! test run. Not the adapter's subset: a request the subset allows but
//! Shopify would refuse is refused here.

use std::io::Read;
use std::sync::OnceLock;

use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use serde_json::Value;

pub const SCHEMA_FILE: &str = "tests/shopify/admin_schema_2025-01.json.gz";

/// The full schema, built on first use.
pub fn full() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
        let file = std::fs::File::open(&path).expect("the Shopify introspection file");
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .expect("a gzip'd JSON file");
        let json: Value = serde_json::from_str(&text).expect("introspection JSON");
        let sdl = sdl(&json["data"]["__schema"]);
        Schema::parse_and_validate(sdl, "shopify-admin-2025-01.graphql")
            .unwrap_or_else(|e| panic!("Shopify's schema does not validate: {e}"))
    })
}

fn type_ref(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or_default().to_owned(),
    }
}

fn arguments(args: &Value) -> String {
    let list: Vec<String> = args
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let default = a["defaultValue"]
                .as_str()
                .map(|d| format!(" = {d}"))
                .unwrap_or_default();
            format!(
                "{}: {}{default}",
                a["name"].as_str().unwrap_or_default(),
                type_ref(&a["type"])
            )
        })
        .collect();
    if list.is_empty() {
        String::new()
    } else {
        format!("({})", list.join(", "))
    }
}

/// The introspection result as SDL, without descriptions, built-in
/// scalars, introspection types or directive definitions (Shopify's
/// introspection shows no directive uses, so none is needed).
pub fn sdl(schema: &Value) -> String {
    let mut out = String::new();
    let root = |k: &str| schema[k]["name"].as_str().map(str::to_owned);
    out.push_str("schema {\n");
    if let Some(q) = root("queryType") {
        out.push_str(&format!("  query: {q}\n"));
    }
    if let Some(m) = root("mutationType") {
        out.push_str(&format!("  mutation: {m}\n"));
    }
    out.push_str("}\n");
    for t in schema["types"].as_array().into_iter().flatten() {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID") {
            continue;
        }
        let implements = |t: &Value| {
            let names: Vec<&str> = t["interfaces"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["name"].as_str())
                .collect();
            if names.is_empty() {
                String::new()
            } else {
                format!(" implements {}", names.join(" & "))
            }
        };
        let fields = |t: &Value, key: &str| {
            t[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let default = f["defaultValue"]
                        .as_str()
                        .map(|d| format!(" = {d}"))
                        .unwrap_or_default();
                    format!(
                        "  {}{}: {}{default}\n",
                        f["name"].as_str().unwrap_or_default(),
                        arguments(&f["args"]),
                        type_ref(&f["type"])
                    )
                })
                .collect::<String>()
        };
        match t["kind"].as_str() {
            Some("SCALAR") => out.push_str(&format!("scalar {name}\n")),
            Some("OBJECT") => out.push_str(&format!(
                "type {name}{} {{\n{}}}\n",
                implements(t),
                fields(t, "fields")
            )),
            Some("INTERFACE") => out.push_str(&format!(
                "interface {name}{} {{\n{}}}\n",
                implements(t),
                fields(t, "fields")
            )),
            Some("UNION") => {
                let members: Vec<&str> = t["possibleTypes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                out.push_str(&format!("union {name} = {}\n", members.join(" | ")));
            }
            Some("ENUM") => {
                let values: String = t["enumValues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["name"].as_str())
                    .map(|v| format!("  {v}\n"))
                    .collect();
                out.push_str(&format!("enum {name} {{\n{values}}}\n"));
            }
            Some("INPUT_OBJECT") => out.push_str(&format!(
                "input {name} {{\n{}}}\n",
                fields(t, "inputFields")
            )),
            other => panic!("a type of kind {other:?} in Shopify's schema"),
        }
    }
    out
}

#!/usr/bin/env python3
"""The part of Shopify's Admin GraphQL schema the Shopify adapter (src/shopify/) is typed against.

    python3 scripts/shopify_schema_subset.py [INTROSPECTION_JSON_GZ] [OUT_GRAPHQL]

Defaults: tests/shopify/admin_schema_2025-01.json.gz (Shopify's introspection result for API
version 2025-01, from Shopify's dev-mcp repository, ISC licence, LICENSE.dev-mcp beside it) to
src/shopify/schema/admin_2025-01.graphql, which `cynic::use_schema!` reads at compile time.

What is kept, and why so little: the output types and fields in KEEP below (what the adapter's
queries select), every argument of a kept field, and whole every input object, enum and scalar they
reach (so a variable the adapter sends is typed exactly as Shopify types it). No descriptions, no
interfaces the adapter does not use, union members only where kept. A kept field whose type is not
kept stops the script: add the type to KEEP (and the fields used) rather than let it be guessed.
The subset only types the client; the fake Shopify in the tests validates every request against the
whole introspection file, so a subset that drifted from Shopify would show there.

Refreshing for a newer API version (Shopify releases one a quarter, each supported a year):
1. take the new introspection result (Shopify's dev-mcp repository ships one per version, or run
   the standard introspection query against a development store) as
   tests/shopify/admin_schema_<version>.json.gz;
2. run this script with it and a new output file, point `SCHEMA` in src/shopify/schema.rs and
   `API_VERSION` in src/shopify/mod.rs at the new version, and the fake Shopify's
   `SCHEMA_FILE` (tests/it/support/fake_shopify/schema.rs) at the new introspection file;
3. `cargo build`: a field Shopify removed or retyped fails to compile; `cargo test --test it shopify`
   then runs every request against the new full schema.

Standard library only.
"""

import gzip
import json
import sys

INPUT = "tests/shopify/admin_schema_2025-01.json.gz"
OUTPUT = "src/shopify/schema/admin_2025-01.graphql"

# Output types and the fields the adapter selects. Unions list their kept members.
KEEP = {
    "QueryRoot": ["shop", "productVariants", "automaticDiscountNode", "automaticDiscountNodes", "orders", "order"],
    "Mutation": [
        "metafieldsSet",
        "discountAutomaticBasicCreate",
        "discountAutomaticBasicUpdate",
        "discountAutomaticDeactivate",
        "discountAutomaticDelete",
        "productVariantsBulkUpdate",
    ],
    "Shop": ["id", "currencyCode", "metafield"],
    "Metafield": ["id", "value"],
    "PageInfo": ["hasNextPage", "endCursor"],
    "ProductVariantConnection": ["nodes", "pageInfo"],
    "ProductVariant": [
        "id", "sku", "title", "displayName", "price", "compareAtPrice",
        "inventoryQuantity", "inventoryItem", "product",
    ],
    "InventoryItem": ["tracked"],
    "Product": ["id", "title", "status"],
    "DiscountAutomaticNodeConnection": ["nodes", "pageInfo"],
    "DiscountAutomaticNode": ["id", "automaticDiscount"],
    "DiscountAutomatic": ["DiscountAutomaticBasic"],
    "DiscountAutomaticBasic": ["title", "status", "startsAt", "endsAt", "customerGets"],
    "DiscountCustomerGets": ["value", "items"],
    "DiscountCustomerGetsValue": ["DiscountPercentage"],
    "DiscountPercentage": ["percentage"],
    "DiscountItems": ["DiscountProducts"],
    "DiscountProducts": ["productVariants"],
    "OrderConnection": ["nodes", "pageInfo"],
    "Order": ["id", "createdAt", "cancelledAt", "lineItems"],
    "LineItemConnection": ["nodes", "pageInfo"],
    "LineItem": ["sku", "quantity", "variant"],
    "MetafieldsSetPayload": ["metafields", "userErrors"],
    "MetafieldsSetUserError": ["field", "message", "code"],
    "DiscountAutomaticBasicCreatePayload": ["automaticDiscountNode", "userErrors"],
    "DiscountAutomaticBasicUpdatePayload": ["automaticDiscountNode", "userErrors"],
    "DiscountAutomaticDeactivatePayload": ["automaticDiscountNode", "userErrors"],
    "DiscountAutomaticDeletePayload": ["deletedAutomaticDiscountId", "userErrors"],
    "DiscountUserError": ["field", "message", "code"],
    "ProductVariantsBulkUpdatePayload": ["productVariants", "userErrors"],
    "ProductVariantsBulkUpdateUserError": ["field", "message", "code"],
}

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def named(type_ref):
    while type_ref["kind"] in ("NON_NULL", "LIST"):
        type_ref = type_ref["ofType"]
    return type_ref["name"]


def type_text(type_ref):
    if type_ref["kind"] == "NON_NULL":
        return type_text(type_ref["ofType"]) + "!"
    if type_ref["kind"] == "LIST":
        return "[" + type_text(type_ref["ofType"]) + "]"
    return type_ref["name"]


def subset(schema):
    types = {t["name"]: t for t in schema["types"]}
    wanted = set(KEEP)
    pending = []

    def reach(name, used_by):
        if name not in types:
            raise SystemExit(f"{used_by} uses {name}, which the schema does not have")
        kind = types[name]["kind"]
        if kind in ("OBJECT", "INTERFACE", "UNION"):
            if name not in KEEP:
                raise SystemExit(f"{used_by} returns {name}: add it to KEEP with the fields used")
            return
        if name not in wanted:
            wanted.add(name)
            pending.append(name)

    for name, kept in KEEP.items():
        t = types.get(name)
        if t is None:
            raise SystemExit(f"KEEP names {name}, which the schema does not have")
        if t["kind"] == "UNION":
            for member in kept:
                reach(member, name)
            continue
        fields = {f["name"]: f for f in t["fields"] or []}
        for field in kept:
            if field not in fields:
                raise SystemExit(f"{name} has no field {field}")
            reach(named(fields[field]["type"]), f"{name}.{field}")
            for arg in fields[field]["args"]:
                reach(named(arg["type"]), f"{name}.{field}({arg['name']})")
    while pending:
        t = types[pending.pop()]
        for field in t.get("inputFields") or []:
            reach(named(field["type"]), f"{t['name']}.{field['name']}")
    return types, wanted


def print_sdl(types, wanted, source):
    out = [
        f"# Generated by scripts/shopify_schema_subset.py from {source}: do not edit by hand.",
        "# A subset of Shopify's Admin GraphQL schema (from Shopify's dev-mcp repository, ISC licence,",
        "# Copyright 2025-present Shopify Inc.; the licence is LICENSE.dev-mcp beside this file).",
        "",
        "schema {",
        "  query: QueryRoot",
        "  mutation: Mutation",
        "}",
    ]
    for name in sorted(wanted):
        t = types[name]
        kind = t["kind"]
        if kind == "SCALAR":
            if name not in BUILT_IN_SCALARS:
                out += ["", f"scalar {name}"]
        elif kind == "ENUM":
            values = [v["name"] for v in t["enumValues"]]
            out += ["", f"enum {name} {{"] + [f"  {v}" for v in values] + ["}"]
        elif kind == "INPUT_OBJECT":
            out += ["", f"input {name} {{"]
            for field in t["inputFields"]:
                default = field.get("defaultValue")
                suffix = f" = {default}" if default is not None else ""
                out.append(f"  {field['name']}: {type_text(field['type'])}{suffix}")
            out.append("}")
        elif kind == "UNION":
            out += ["", f"union {name} = " + " | ".join(KEEP[name])]
        elif kind == "OBJECT":
            fields = {f["name"]: f for f in t["fields"]}
            out += ["", f"type {name} {{"]
            for field_name in KEEP[name]:
                field = fields[field_name]
                args = ""
                if field["args"]:
                    parts = []
                    for arg in field["args"]:
                        default = arg.get("defaultValue")
                        suffix = f" = {default}" if default is not None else ""
                        parts.append(f"{arg['name']}: {type_text(arg['type'])}{suffix}")
                    args = "(" + ", ".join(parts) + ")"
                out.append(f"  {field_name}{args}: {type_text(field['type'])}")
            out.append("}")
        else:
            raise SystemExit(f"cannot print {kind} {name}")
    return "\n".join(out) + "\n"


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else INPUT
    target = sys.argv[2] if len(sys.argv) > 2 else OUTPUT
    with gzip.open(source, "rt", encoding="utf-8") as f:
        document = json.load(f)
    schema = document.get("data", document)["__schema"]
    types, wanted = subset(schema)
    with open(target, "w", encoding="utf-8") as f:
        f.write(print_sdl(types, wanted, source))
    print(f"{target}: {len(wanted)} of {len(schema['types'])} types")


if __name__ == "__main__":
    main()

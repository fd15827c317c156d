//! Every query and mutation the adapter sends, typed at compile time by
//! cynic against `schema/admin_2025-01.graphql` (the subset of Shopify's
//! Admin schema made by scripts/shopify_schema_subset.py): a field that
//! Shopify does not have, or a variable of the wrong type, does not build.
//!
//! Query costs are kept under Shopify's 1,000-point limit for one query: a
//! connection costs about `first` times what each node selects.

#![allow(dead_code)]

use chrono::{DateTime, Utc};

#[cynic::schema_for_derives(
    file = r#"src/shopify/schema/admin_2025-01.graphql"#,
    module = "schema"
)]
pub(super) mod q {
    use super::schema;
    use chrono::{DateTime, Utc};

    /// Shopify's `Money`: a decimal in the shop's currency, as text.
    #[derive(cynic::Scalar, Debug, Clone, PartialEq, Eq)]
    pub struct Money(pub String);

    cynic::impl_scalar!(DateTime<Utc>, schema::DateTime);

    #[derive(cynic::QueryFragment, Debug, Clone)]
    pub struct PageInfo {
        pub has_next_page: bool,
        pub end_cursor: Option<String>,
    }

    // ----- the shop, and a sale's record -----

    #[derive(cynic::QueryVariables, Debug)]
    pub struct ShopVariables {
        pub namespace: String,
        pub key: String,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "QueryRoot", variables = "ShopVariables")]
    pub struct ShopQuery {
        pub shop: Shop,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(variables = "ShopVariables")]
    pub struct Shop {
        pub id: cynic::Id,
        pub currency_code: CurrencyCode,
        #[arguments(namespace: $namespace, key: $key)]
        pub metafield: Option<Metafield>,
    }

    /// An ISO 4217 code as Shopify spells it. The enum's 170 values are
    /// not spelt out: the adapter only compares the code with the bot's,
    /// so it is the text, typed as Shopify's `CurrencyCode` all the same.
    #[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
    #[serde(transparent)]
    pub struct CurrencyCode(pub String);

    impl cynic::Enum for CurrencyCode {
        type SchemaType = schema::CurrencyCode;
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct Metafield {
        pub id: cynic::Id,
        pub value: String,
    }

    #[derive(cynic::InputObject, Debug)]
    pub struct MetafieldsSetInput {
        pub owner_id: cynic::Id,
        pub namespace: String,
        pub key: String,
        pub value: String,
        #[cynic(rename = "type")]
        pub type_: String,
    }

    #[derive(cynic::QueryVariables, Debug)]
    pub struct MetafieldsSetVariables {
        pub metafields: Vec<MetafieldsSetInput>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Mutation", variables = "MetafieldsSetVariables")]
    pub struct MetafieldsSet {
        #[arguments(metafields: $metafields)]
        pub metafields_set: Option<MetafieldsSetPayload>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct MetafieldsSetPayload {
        pub user_errors: Vec<MetafieldsSetUserError>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct MetafieldsSetUserError {
        pub field: Option<Vec<String>>,
        pub message: String,
    }

    // ----- variants by SKU -----

    #[derive(cynic::QueryVariables, Debug)]
    pub struct VariantsVariables {
        pub first: i32,
        pub query: String,
        pub after: Option<String>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "QueryRoot", variables = "VariantsVariables")]
    pub struct VariantsQuery {
        #[arguments(first: $first, query: $query, after: $after)]
        pub product_variants: VariantConnection,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "ProductVariantConnection")]
    pub struct VariantConnection {
        pub nodes: Vec<Variant>,
        pub page_info: PageInfo,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "ProductVariant")]
    pub struct Variant {
        pub id: cynic::Id,
        pub sku: Option<String>,
        pub title: String,
        pub price: Money,
        pub compare_at_price: Option<Money>,
        pub inventory_quantity: Option<i32>,
        pub inventory_item: InventoryItem,
        pub product: Product,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    pub struct InventoryItem {
        pub tracked: bool,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    pub struct Product {
        pub id: cynic::Id,
        pub title: String,
        pub status: ProductStatus,
    }

    #[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ProductStatus {
        Active,
        Archived,
        Draft,
    }

    // ----- automatic discounts -----

    #[derive(cynic::QueryVariables, Debug)]
    pub struct IdVariables {
        pub id: cynic::Id,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "QueryRoot", variables = "IdVariables")]
    pub struct DiscountQuery {
        #[arguments(id: $id)]
        pub automatic_discount_node: Option<DiscountNode>,
    }

    #[derive(cynic::QueryVariables, Debug)]
    pub struct SearchVariables {
        pub query: String,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "QueryRoot", variables = "SearchVariables")]
    pub struct DiscountSearch {
        #[arguments(first: 5, query: $query)]
        pub automatic_discount_nodes: DiscountNodeConnection,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "DiscountAutomaticNodeConnection")]
    pub struct DiscountNodeConnection {
        pub nodes: Vec<DiscountNode>,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "DiscountAutomaticNode")]
    pub struct DiscountNode {
        pub id: cynic::Id,
        pub automatic_discount: AutomaticDiscount,
    }

    #[derive(cynic::InlineFragments, Debug, Clone)]
    #[cynic(graphql_type = "DiscountAutomatic")]
    pub enum AutomaticDiscount {
        DiscountAutomaticBasic(BasicDiscount),
        /// Another kind (buy X get Y, free shipping, an app's): not ours.
        #[cynic(fallback)]
        Other,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "DiscountAutomaticBasic")]
    pub struct BasicDiscount {
        pub title: String,
        pub status: DiscountStatus,
        pub starts_at: DateTime<Utc>,
        pub ends_at: Option<DateTime<Utc>>,
        pub customer_gets: CustomerGets,
    }

    #[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DiscountStatus {
        Active,
        Expired,
        Scheduled,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "DiscountCustomerGets")]
    pub struct CustomerGets {
        pub value: GetsValue,
        pub items: Items,
    }

    #[derive(cynic::InlineFragments, Debug, Clone)]
    #[cynic(graphql_type = "DiscountCustomerGetsValue")]
    pub enum GetsValue {
        DiscountPercentage(Percentage),
        #[cynic(fallback)]
        Other,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "DiscountPercentage")]
    pub struct Percentage {
        pub percentage: f64,
    }

    #[derive(cynic::InlineFragments, Debug, Clone)]
    #[cynic(graphql_type = "DiscountItems")]
    pub enum Items {
        DiscountProducts(DiscountProducts),
        #[cynic(fallback)]
        Other,
    }

    /// A sale's discount holds at most its lines' variants (6 by default);
    /// 25 is well above that and keeps a search of discounts cheap.
    #[derive(cynic::QueryFragment, Debug, Clone)]
    pub struct DiscountProducts {
        #[arguments(first: 25)]
        pub product_variants: VariantIds,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "ProductVariantConnection")]
    pub struct VariantIds {
        pub nodes: Vec<VariantId>,
    }

    #[derive(cynic::QueryFragment, Debug, Clone)]
    #[cynic(graphql_type = "ProductVariant")]
    pub struct VariantId {
        pub id: cynic::Id,
    }

    #[derive(cynic::InputObject, Debug, Default)]
    pub struct DiscountAutomaticBasicInput {
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub starts_at: Option<DateTime<Utc>>,
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub ends_at: Option<DateTime<Utc>>,
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub customer_gets: Option<DiscountCustomerGetsInput>,
    }

    #[derive(cynic::InputObject, Debug, Default)]
    pub struct DiscountCustomerGetsInput {
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub value: Option<DiscountCustomerGetsValueInput>,
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub items: Option<DiscountItemsInput>,
    }

    #[derive(cynic::InputObject, Debug, Default)]
    pub struct DiscountCustomerGetsValueInput {
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub percentage: Option<f64>,
    }

    #[derive(cynic::InputObject, Debug, Default)]
    pub struct DiscountItemsInput {
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub products: Option<DiscountProductsInput>,
    }

    #[derive(cynic::InputObject, Debug, Default)]
    pub struct DiscountProductsInput {
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub product_variants_to_add: Option<Vec<cynic::Id>>,
        #[cynic(skip_serializing_if = "Option::is_none")]
        pub product_variants_to_remove: Option<Vec<cynic::Id>>,
    }

    #[derive(cynic::QueryVariables, Debug)]
    pub struct CreateDiscountVariables {
        pub input: DiscountAutomaticBasicInput,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Mutation", variables = "CreateDiscountVariables")]
    pub struct CreateDiscount {
        #[arguments(automaticBasicDiscount: $input)]
        pub discount_automatic_basic_create: Option<DiscountPayload>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "DiscountAutomaticBasicCreatePayload")]
    pub struct DiscountPayload {
        pub automatic_discount_node: Option<DiscountNode>,
        pub user_errors: Vec<DiscountUserError>,
    }

    #[derive(cynic::QueryVariables, Debug)]
    pub struct UpdateDiscountVariables {
        pub id: cynic::Id,
        pub input: DiscountAutomaticBasicInput,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Mutation", variables = "UpdateDiscountVariables")]
    pub struct UpdateDiscount {
        #[arguments(id: $id, automaticBasicDiscount: $input)]
        pub discount_automatic_basic_update: Option<UpdatePayload>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "DiscountAutomaticBasicUpdatePayload")]
    pub struct UpdatePayload {
        pub automatic_discount_node: Option<DiscountNode>,
        pub user_errors: Vec<DiscountUserError>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Mutation", variables = "IdVariables")]
    pub struct DeactivateDiscount {
        #[arguments(id: $id)]
        pub discount_automatic_deactivate: Option<DeactivatePayload>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "DiscountAutomaticDeactivatePayload")]
    pub struct DeactivatePayload {
        pub automatic_discount_node: Option<DiscountNode>,
        pub user_errors: Vec<DiscountUserError>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Mutation", variables = "IdVariables")]
    pub struct DeleteDiscount {
        #[arguments(id: $id)]
        pub discount_automatic_delete: Option<DeletePayload>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "DiscountAutomaticDeletePayload")]
    pub struct DeletePayload {
        pub deleted_automatic_discount_id: Option<cynic::Id>,
        pub user_errors: Vec<DiscountUserError>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct DiscountUserError {
        pub field: Option<Vec<String>>,
        pub message: String,
    }

    // ----- variant prices -----

    #[derive(cynic::InputObject, Debug)]
    pub struct ProductVariantsBulkInput {
        pub id: cynic::Id,
        pub price: Money,
        /// Sent as null to clear a compare-at price the variant did not have.
        pub compare_at_price: Option<Money>,
    }

    #[derive(cynic::QueryVariables, Debug)]
    pub struct BulkUpdateVariables {
        pub product_id: cynic::Id,
        pub variants: Vec<ProductVariantsBulkInput>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Mutation", variables = "BulkUpdateVariables")]
    pub struct BulkUpdate {
        #[arguments(productId: $product_id, variants: $variants)]
        pub product_variants_bulk_update: Option<BulkUpdatePayload>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "ProductVariantsBulkUpdatePayload")]
    pub struct BulkUpdatePayload {
        pub product_variants: Option<Vec<VariantPrice>>,
        pub user_errors: Vec<ProductVariantsBulkUpdateUserError>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "ProductVariant")]
    pub struct VariantPrice {
        pub id: cynic::Id,
        pub price: Money,
        pub compare_at_price: Option<Money>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct ProductVariantsBulkUpdateUserError {
        pub field: Option<Vec<String>>,
        pub message: String,
    }

    // ----- orders -----

    #[derive(cynic::QueryVariables, Debug)]
    pub struct OrdersVariables {
        pub query: String,
        pub after: Option<String>,
    }

    /// 15 orders of up to 50 lines: about 800 points, under the 1,000 a
    /// single query may cost.
    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "QueryRoot", variables = "OrdersVariables")]
    pub struct OrdersQuery {
        #[arguments(first: 15, query: $query, after: $after)]
        pub orders: OrderConnection,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct OrderConnection {
        pub nodes: Vec<Order>,
        pub page_info: PageInfo,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct Order {
        pub id: cynic::Id,
        pub cancelled_at: Option<DateTime<Utc>>,
        #[arguments(first: 50)]
        pub line_items: LineItemConnection,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct LineItemConnection {
        pub nodes: Vec<LineItem>,
        pub page_info: PageInfo,
    }

    #[derive(cynic::QueryVariables, Debug)]
    pub struct OrderLinesVariables {
        pub id: cynic::Id,
        pub after: Option<String>,
    }

    /// The lines of one order after its first 50, for the rare order with
    /// more: 250 at a time (Shopify's most), about 250 points.
    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "QueryRoot", variables = "OrderLinesVariables")]
    pub struct OrderLinesQuery {
        #[arguments(id: $id)]
        pub order: Option<OrderLines>,
    }

    #[derive(cynic::QueryFragment, Debug)]
    #[cynic(graphql_type = "Order", variables = "OrderLinesVariables")]
    pub struct OrderLines {
        #[arguments(first: 250, after: $after)]
        pub line_items: LineItemConnection,
    }

    #[derive(cynic::QueryFragment, Debug)]
    pub struct LineItem {
        pub sku: Option<String>,
        pub quantity: i32,
    }
}

#[allow(non_snake_case, non_camel_case_types, clippy::module_inception)]
pub(super) mod schema {
    cynic::use_schema!(r#"src/shopify/schema/admin_2025-01.graphql"#);
}

/// A time as the adapter writes it into search queries: RFC 3339, seconds, UTC.
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

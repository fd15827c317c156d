// Seeds the Medusa template database the integration tests copy (scripts/medusa.sh):
//
//   medusa exec ./seed.js <catalog.json> <out.json>
//
// `medusa exec` boots the app once (about 10 s) and hands us its container, so
// every step below is one of Medusa's own workflows, with the validation and
// links the admin API would apply, without a second boot for an admin user,
// a login and a few hundred HTTP calls.
//
// What it makes, from the sample catalog (data/sample-catalog.json):
// - the store's currency and a region in the catalog's currency (one only);
// - a stock location, linked to the default sales channel (Medusa made that
//   channel and the store when it booted);
// - one product per catalog entry, with one variant carrying the SKU, the
//   price (Medusa amounts are major units: price_minor / 10^exponent, exact,
//   as a decimal string) and the stock as an inventory level; inactive
//   entries become draft products, which the Store API does not show;
// - a secret API key for the bot (Authorization: Basic base64("sk_...:"))
//   and a publishable key linked to the default channel for Store API reads.
//
// It writes what the tests need (keys, ids, currency) to <out.json>. Secret
// keys are stored hashed: the raw token exists only in this answer.
const fs = require("fs");
const { ContainerRegistrationKeys, Modules } = require("@medusajs/framework/utils");
const {
  createApiKeysWorkflow,
  createInventoryLevelsWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createStockLocationsWorkflow,
  linkSalesChannelsToApiKeyWorkflow,
  linkSalesChannelsToStockLocationWorkflow,
  updateStoresWorkflow,
} = require("@medusajs/medusa/core-flows");

// Decimal places of the minor unit, as the bot's Currency has them
// (src/domain/money.rs, KNOWN): the catalog's prices are minor units of these.
const EXPONENT = {
  IDR: 0, JPY: 0, KRW: 0, VND: 0,
  USD: 2, EUR: 2, SGD: 2, MYR: 2, PHP: 2, THB: 2, GBP: 2, AUD: 2,
};

// Minor units to a major-unit decimal string, exactly: 149500 IDR -> "149500", 123450 USD -> "1234.50".
function major(minor, exponent) {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new Error(`price_minor ${minor} is not a whole non-negative number`);
  if (exponent === 0) return String(minor);
  const digits = String(minor).padStart(exponent + 1, "0");
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

async function run(workflow, container, input) {
  const { result } = await workflow(container).run({ input });
  return result;
}

exports.default = async function seed({ container, args }) {
  const [catalogPath, outPath] = args;
  if (!catalogPath || !outPath) throw new Error("usage: medusa exec ./seed.js <catalog.json> <out.json>");
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER);
  const query = container.resolve(ContainerRegistrationKeys.QUERY);
  const catalog = JSON.parse(fs.readFileSync(catalogPath, "utf8"));

  const currencies = [...new Set(catalog.map((p) => p.currency))];
  if (currencies.length !== 1) throw new Error(`the catalog has ${currencies.length} currencies (${currencies}); the harness seeds one region`);
  const currency = currencies[0];
  const exponent = EXPONENT[currency];
  if (exponent === undefined) throw new Error(`currency ${currency} is not one the bot knows (src/domain/money.rs)`);
  const currencyCode = currency.toLowerCase();

  const { data: [store] } = await query.graph({ entity: "store", fields: ["id", "default_sales_channel_id"] });
  const salesChannelId = store.default_sales_channel_id;
  if (!salesChannelId) throw new Error("Medusa made no default sales channel");

  const [region] = await run(createRegionsWorkflow, container, {
    regions: [{ name: "Flash sale test region", currency_code: currencyCode, automatic_taxes: false }],
  });
  const [location] = await run(createStockLocationsWorkflow, container, {
    locations: [{ name: "Flash sale test warehouse" }],
  });
  await run(linkSalesChannelsToStockLocationWorkflow, container, { id: location.id, add: [salesChannelId] });
  await run(updateStoresWorkflow, container, {
    selector: { id: store.id },
    update: {
      supported_currencies: [{ currency_code: currencyCode, is_default: true }],
      default_region_id: region.id,
      default_location_id: location.id,
    },
  });

  const products = await run(createProductsWorkflow, container, {
    products: catalog.map((item) => ({
      title: item.name,
      handle: item.sku.toLowerCase(),
      status: item.active ? "published" : "draft",
      options: [{ title: "Default", values: ["Default"] }],
      sales_channels: [{ id: salesChannelId }],
      metadata: { flashsale_seed: "sample-catalog" },
      variants: [{
        title: item.name,
        sku: item.sku,
        manage_inventory: true,
        options: { Default: "Default" },
        prices: [{ amount: major(item.price_minor, exponent), currency_code: currencyCode }],
      }],
    })),
  });

  // Each managed variant got an inventory item with its SKU; give it the catalog's stock.
  const { data: items } = await query.graph({
    entity: "inventory_item",
    fields: ["id", "sku"],
    filters: { sku: catalog.map((p) => p.sku) },
  });
  const itemBySku = new Map(items.map((i) => [i.sku, i.id]));
  const missing = catalog.filter((p) => !itemBySku.has(p.sku)).map((p) => p.sku);
  if (missing.length) throw new Error(`no inventory item for ${missing.join(", ")}`);
  await run(createInventoryLevelsWorkflow, container, {
    inventory_levels: catalog.map((p) => ({
      inventory_item_id: itemBySku.get(p.sku),
      location_id: location.id,
      stocked_quantity: p.stock,
    })),
  });

  const keys = await run(createApiKeysWorkflow, container, {
    api_keys: [
      { title: "flashsale-bot (tests)", type: "secret", created_by: "" },
      { title: "flashsale-bot store reads (tests)", type: "publishable", created_by: "" },
    ],
  });
  const secret = keys.find((k) => k.type === "secret");
  const publishable = keys.find((k) => k.type === "publishable");
  if (!secret?.token?.startsWith("sk_") || !publishable?.token?.startsWith("pk_")) {
    throw new Error("Medusa did not hand back the raw sk_/pk_ tokens");
  }
  await run(linkSalesChannelsToApiKeyWorkflow, container, { id: publishable.id, add: [salesChannelId] });

  const out = {
    currency_code: currencyCode,
    currency_exponent: exponent,
    region_id: region.id,
    sales_channel_id: salesChannelId,
    stock_location_id: location.id,
    secret_api_key: secret.token,
    publishable_api_key: publishable.token,
    products: products.length,
  };
  fs.writeFileSync(outPath, JSON.stringify(out));
  logger.info(`flashsale seed: ${products.length} products in ${currencyCode}, region ${region.id}`);
};

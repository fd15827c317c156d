-- What the bot learns of each SKU's base price over time (money guards):
-- the reference price a discount is shown against is the lowest price
-- applied in the last 30 days, and a price raised just before a sale is
-- flagged. A row is written when a read shows a new price, or the same
-- price a day after the last row for it (so a long quiet stretch still
-- shows the price applied), never per read.
create table price_observation (
    sku          text        not null,
    currency     text        not null,
    price_minor  bigint      not null,
    observed_at  timestamptz not null default now(),

    constraint price_observation_price_not_negative check (price_minor >= 0),
    constraint price_observation_currency_code check (currency ~ '^[A-Z]{3}$')
);

-- Every read is "this SKU's rows since t, and the last one before t".
create index price_observation_sku_at on price_observation (sku, observed_at desc);

//! Integration tests: the use cases against a real Postgres (`#[sqlx::test]`
//! gives each test a fresh, migrated database) and a real HTTP catalog on
//! loopback. One binary, so the heavy dependency tree is linked once.

mod support;

mod activity_log;
mod announcements;
mod approval;
mod batch;
mod bench_ack;
mod browser;
mod card_footer;
mod catalog_client;
mod catalog_failures;
mod console_list;
mod console_metrics;
mod console_parser;
mod console_session;
mod constraints;
mod contract;
mod convergence;
mod crash;
mod devstore;
mod discord_download;
mod discord_e2e;
mod discord_handlers;
mod discord_pictures;
mod discord_render;
mod documented_messages;
mod drafting;
mod export;
mod golive;
mod guards;
mod ha;
mod housekeeping;
mod import;
mod interleavings;
mod items;
mod jobs;
mod listing;
mod medusa_adapter;
mod medusa_golive;
mod medusa_harness;
mod observability;
mod one_writer;
mod presence;
mod presence_pooling;
mod prices;
mod races;
mod render;
mod shopify_adapter;
mod slack;
mod slack_e2e;
mod staged;
mod storefront_client;

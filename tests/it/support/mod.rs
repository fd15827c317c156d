//! Shared set-up for the integration tests. Each test binary uses only part of it.
#![allow(dead_code)]

pub mod app;
pub mod catalog;
pub mod discord;
pub mod fake_discord;
pub mod golive;

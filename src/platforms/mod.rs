//! The chat platforms: adapters of the chat port (`crate::chat`), one folder each.
//!
//! An adapter turns what its platform sends (a slash command, a form, a
//! button press) into domain types and an `Actor`, calls one use case in
//! `app`, and renders the view it gets back; it also implements `Chat`, so
//! `app` and the scheduler can post without knowing which platform listens.
//! Adapters sit above `app` in the import graph: they use it, it never uses
//! them, and they never use each other (`download` is their shared helper).
//! `runtime` picks one at start-up and wires it.

pub mod console;
pub mod discord;
pub mod download;
pub mod slack;

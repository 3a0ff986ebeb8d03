//! The `kefu` binary's library half: the command line ([`cli`]), the commands that wire
//! configuration, the store and the server together ([`commands`]), the deterministic demo
//! workspace ([`demo`]) and the benchmarks ([`bench`]).
//!
//! Owns: process concerns (arguments, environment, logging, signals, exit codes) and the
//! demo data. Never does: HTTP handling (kefu-server), SQL (kefu-store) or business rules
//! (kefu-domain); it calls their public interfaces like any other client.
//!
//! `anyhow` is used here because this crate *is* `main`: errors end as a message and
//! exit code 1. The demo generator returns typed `StoreError`s, since tests call it.

pub mod bench;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod telemetry;

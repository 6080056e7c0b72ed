//! The integration tests: one binary, a module per area. Every test starts the real
//! server on port 0 with its own temporary data dir.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod accounts;
mod backup;
mod backups_scheduled;
mod bad_input;
mod browser;
mod deploy;
mod desk;
mod direct;
mod durability;
mod files;
mod front_door;
mod groups;
mod hostile;
mod isolation;
mod joining;
mod language;
mod listed;
mod mail;
mod moderation;
mod notifications;
mod people;
mod personal;
mod posts;
mod process;
mod properties;
mod realtime;
mod reporting;
mod search;
mod structure;
mod transfer;
mod upgrade;
mod util;
mod watching;

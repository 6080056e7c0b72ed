//! The integration tests: one binary, a module per area. Every test starts the real
//! server on port 0 with its own temporary data dir.

mod access;
mod accounts;
mod bad_input;
mod durability;
mod posts;
mod process;
mod realtime;
mod util;

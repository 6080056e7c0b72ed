//! What several benches share. Each bench is a crate of its own and uses part of it.
#![allow(dead_code)]

use collective_brain::model::{PostPolicy, SpaceId};
use collective_brain::{App, Config};

/// A server's settings for a bench: its data in `dir`, an admin, no rate limits.
pub fn config(dir: &std::path::Path) -> Config {
    Config {
        admin_password: Some("bench admin password".into()),
        limits: collective_brain::limits::Limits::off(),
        ..Config::with_data_dir(dir)
    }
}

/// The seeded forums every member may post in (chat and News left out).
pub fn member_forums(app: &App) -> Vec<SpaceId> {
    let spaces = app.spaces(None).expect("spaces");
    spaces.into_iter().filter(|s| s.room.is_none() && s.post_policy == PostPolicy::Members).map(|s| s.id).collect()
}

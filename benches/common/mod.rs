//! What several benches share.

use collective_brain::model::{PostPolicy, SpaceId};
use collective_brain::App;

/// The seeded forums every member may post in (chat and News left out).
pub fn member_forums(app: &App) -> Vec<SpaceId> {
    let spaces = app.spaces(None).expect("spaces");
    spaces.into_iter().filter(|s| s.room.is_none() && s.post_policy == PostPolicy::Members).map(|s| s.id).collect()
}

//! The community's figures for the reports the ILO asks for: active members per month,
//! posts per language and per space, translation coverage and the median time to a
//! translation. Counted only over what the caller can read, so that no figure tells how
//! much was written where they cannot look.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::{signed_in, App, Coverage, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Lang, SpaceId, User, UserId};

/// How many months the figures go back.
const MONTHS: usize = 12;

#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub generated_at: String,
    /// Accounts that can sign in (erased and waiting ones left out).
    pub members: usize,
    /// The last 12 months, oldest first: `YYYY-MM`, members who posted, posts.
    pub months: Vec<Month>,
    pub by_language: BTreeMap<Lang, usize>,
    pub by_space: Vec<SpaceFigures>,
    pub coverage: Vec<Coverage>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Month {
    pub month: String,
    pub active_members: usize,
    pub posts: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct SpaceFigures {
    pub space: SpaceId,
    pub name: String,
    pub threads: usize,
    pub posts: usize,
}

/// `YYYY-MM` of `months_back` months before the month of `now` (RFC 3339).
fn month_before(now: &str, months_back: usize) -> String {
    let year: i64 = now.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
    let month: i64 = now.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let total = year * 12 + (month - 1) - months_back as i64;
    format!("{:04}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1)
}

impl App {
    /// The figures: admins and moderators.
    pub async fn stats(self: &Arc<Self>, viewer: Viewer<'_>) -> ApiResult<Stats> {
        let user: User = signed_in(viewer)?.clone();
        if !user.is_moderator() {
            return Err(ApiError::forbidden("only admins and moderators see the community's figures"));
        }
        self.limiter.search(Some(user.id), None)?;
        let coverage = self.coverage(viewer)?;
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.count(&user, coverage)).await.map_err(ApiError::internal)?
    }

    fn count(&self, user: &User, coverage: Vec<Coverage>) -> ApiResult<Stats> {
        let now = self.config.clock.now_rfc3339();
        let months: Vec<String> = (0..MONTHS).rev().map(|b| month_before(&now, b)).collect();
        let mut spaces: HashMap<SpaceId, SpaceFigures> = HashMap::new();
        for s in self.store.spaces()? {
            if self.can_read(Some(user), &s)? && !s.is_direct() {
                let threads = self.store.rooms_of(s.id)?.len();
                spaces.insert(s.id, SpaceFigures { space: s.id, name: s.name, threads, posts: 0 });
            }
        }
        let mut room_space: HashMap<crate::model::RoomId, Option<SpaceId>> = HashMap::new();
        let mut by_month: BTreeMap<String, (std::collections::HashSet<UserId>, usize)> = BTreeMap::new();
        let mut by_language: BTreeMap<Lang, usize> = BTreeMap::new();
        for rec in self.store.all_posts() {
            let p = rec?.post;
            if p.deleted {
                continue;
            }
            let space = match room_space.get(&p.room) {
                Some(s) => *s,
                None => {
                    let s = self.store.room(p.room)?.map(|r| r.space).filter(|s| spaces.contains_key(s));
                    room_space.insert(p.room, s);
                    s
                }
            };
            let Some(space) = space else { continue };
            if let Some(f) = spaces.get_mut(&space) {
                f.posts += 1;
            }
            *by_language.entry(p.lang).or_default() += 1;
            if let Some(m) = p.created_at.get(..7).filter(|m| months.iter().any(|x| x == m)) {
                let e = by_month.entry(m.to_owned()).or_default();
                e.0.insert(p.author);
                e.1 += 1;
            }
        }
        let members = self.store.users()?.iter().filter(|r| !r.pending && !r.user.deleted).count();
        let mut by_space: Vec<SpaceFigures> = spaces.into_values().collect();
        by_space.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.name.cmp(&b.name)));
        Ok(Stats {
            generated_at: now,
            members,
            months: months
                .into_iter()
                .map(|m| {
                    let (who, posts) = by_month.remove(&m).unwrap_or_default();
                    Month { month: m, active_members: who.len(), posts }
                })
                .collect(),
            by_language,
            by_space,
            coverage,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn months_go_back_across_years() {
        assert_eq!(super::month_before("2026-12-05T10:00:00Z", 0), "2026-12");
        assert_eq!(super::month_before("2026-12-05T10:00:00Z", 11), "2026-01");
        assert_eq!(super::month_before("2026-01-31T10:00:00Z", 1), "2025-12");
        assert_eq!(super::month_before("2026-03-01T00:00:00Z", 27), "2023-12");
    }
}

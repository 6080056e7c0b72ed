//! People: members' profiles, who may see them, and the member directory, where
//! `q` and `expertise` match across languages through the glossary ("économie sociale"
//! finds "social economy").

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{validate, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Lang, Profile, ProfileVisibility, User, UserId};

/// The most areas of expertise, and Academy editions, on a profile.
const EXPERTISE_MAX: usize = 12;
const EDITIONS_MAX: usize = 20;
/// The longest bio, in characters.
const BIO_MAX_CHARS: usize = 4000;
/// The directory's pages: 50 by default, 100 at most.
const DIRECTORY_DEFAULT_LIMIT: usize = 50;
const DIRECTORY_MAX_LIMIT: usize = 100;
/// The longest directory query, in characters.
const QUERY_MAX_CHARS: usize = 200;

/// What `PATCH /me` changes; what is left out stays, an empty text clears.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    pub languages: Option<Vec<String>>,
    pub country: Option<String>,
    pub organization: Option<String>,
    pub sector: Option<String>,
    pub expertise: Option<Vec<String>>,
    pub editions: Option<Vec<String>>,
    pub bio: Option<String>,
    pub profile_visibility: Option<ProfileVisibility>,
    /// An image of the caller's, uploaded and not attached, as their picture; empty: none.
    pub avatar: Option<String>,
    /// Their address (verified by a mailed link); empty: none.
    pub email: Option<String>,
}

impl ProfilePatch {
    fn touches_profile(&self) -> bool {
        self.country.is_some()
            || self.organization.is_some()
            || self.sector.is_some()
            || self.expertise.is_some()
            || self.editions.is_some()
            || self.bio.is_some()
            || self.profile_visibility.is_some()
    }
}

/// A directory query (`GET /users`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DirectoryQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub edition: Option<String>,
    #[serde(default)]
    pub expertise: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A page of the directory.
#[derive(Clone, Debug, Serialize)]
pub struct Directory {
    pub users: Vec<User>,
    pub next: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    o: usize,
}

/// The text of a profile the directory's `q` looks in, folded for matching.
fn searchable(u: &User) -> String {
    let p = &u.profile;
    let text = [
        u.handle.as_str(),
        u.display_name.as_str(),
        p.organization.as_deref().unwrap_or(""),
        p.sector.as_deref().unwrap_or(""),
        &p.expertise.join(" · "),
        &p.editions.join(" · "),
        &p.bio,
    ]
    .join(" · ");
    collective_brain_index::analysis::fold(&text)
}

impl App {
    /// Sets the caller's picture from an image they uploaded (and did not attach), or with
    /// `None` goes back to initials. The upload itself is left to the collector.
    pub async fn set_avatar(&self, user: &User, file: Option<crate::model::FileId>) -> ApiResult<User> {
        let blob = match file {
            None => None,
            Some(id) => {
                let rec = self.readable_file(Some(user), id)?;
                if rec.file.uploader != user.id || rec.post.is_some() {
                    return Err(ApiError::field("avatar", "not an upload of yours waiting to be used"));
                }
                if crate::files::sniff::sniff_kind_name(&rec.file.content_type) != Some("image") {
                    return Err(ApiError::field("avatar", "a picture is a JPEG, PNG, GIF or WebP image"));
                }
                let _turn = self.images.acquire().await.map_err(ApiError::internal)?;
                let (blobs, path, max) =
                    (self.blobs.clone(), self.blobs.path(&rec.file.sha256), self.config.max_image_pixels);
                let made = tokio::task::spawn_blocking(move || -> std::io::Result<Option<String>> {
                    let bytes = std::fs::read(path)?;
                    crate::files::images::avatar(&bytes, max).map(|a| blobs.put(&a)).transpose()
                })
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
                Some(made.ok_or_else(|| ApiError::field("avatar", "this image cannot be read, or is too large"))?)
            }
        };
        Ok(self.store.run(crate::store::SetAvatar { user: user.id, blob }).await?)
    }

    /// The blob of a member's picture, to whoever may see their profile.
    pub fn avatar_of(&self, viewer: Viewer, id: UserId) -> ApiResult<crate::service::Served> {
        self.user_for(viewer, id)?;
        let rec = self.store.user(id)?.ok_or_else(|| ApiError::not_found("user"))?;
        let sha = rec.avatar_blob.ok_or_else(|| ApiError::not_found("avatar"))?;
        Ok(crate::service::Served {
            path: self.blobs.path(&sha),
            content_type: "image/jpeg".into(),
            name: format!("{}.jpg", rec.user.handle),
            sha256: sha,
            inline: true,
        })
    }

    /// Changes the caller's name, languages and profile.
    pub async fn update_profile(&self, user: &User, patch: ProfilePatch) -> ApiResult<User> {
        let display_name = patch.display_name.as_deref().map(validate::display_name).transpose()?;
        if let Some(d) = &display_name {
            self.check_not_impersonating(d, &user.handle)?;
        }
        let languages = patch.languages.as_deref().map(|l| validate::languages("languages", l)).transpose()?;
        let profile =
            if patch.touches_profile() { Some(Box::new(self.patched_profile(&user.profile, &patch)?)) } else { None };
        self.limiter.write(user.id)?;
        let avatar = match patch.avatar.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(id) => {
                Some(Some(crate::model::FileId::parse(id).ok_or_else(|| ApiError::field("avatar", "not a file id"))?))
            }
        };
        let op = crate::store::UpdateUser { id: user.id, display_name, languages, roles: None, profile };
        let updated = self.store.run(op).await?;
        match avatar {
            Some(file) => self.set_avatar(&updated, file).await,
            None => Ok(updated),
        }
    }

    fn patched_profile(&self, old: &Profile, patch: &ProfilePatch) -> ApiResult<Profile> {
        let mut p = old.clone();
        if let Some(c) = &patch.country {
            p.country = if c.trim().is_empty() { None } else { Some(validate::country("country", c)?) };
        }
        if let Some(o) = &patch.organization {
            p.organization = validate::line("organization", o, 120)?;
        }
        if let Some(s) = &patch.sector {
            p.sector = validate::line("sector", s, 80)?;
        }
        if let Some(e) = &patch.expertise {
            p.expertise = validate::lines("expertise", e, EXPERTISE_MAX, 80)?;
        }
        if let Some(e) = &patch.editions {
            p.editions = validate::lines("editions", e, EDITIONS_MAX, 60)?;
        }
        if let Some(b) = &patch.bio {
            let b = b.trim();
            if b.chars().count() > BIO_MAX_CHARS {
                return Err(ApiError::field("bio", format!("at most {BIO_MAX_CHARS} characters")));
            }
            p.bio = b.to_owned();
            p.bio_html = if b.is_empty() { String::new() } else { self.render(b) };
        }
        if let Some(v) = patch.profile_visibility {
            p.profile_visibility = v;
        }
        Ok(p)
    }

    /// A member as `viewer` may see them: members see every profile; guests the public
    /// ones, and nothing of the others.
    pub fn user_for(&self, viewer: Viewer, id: UserId) -> ApiResult<User> {
        let rec = self.store.user(id)?.filter(|r| !r.pending).ok_or_else(|| ApiError::not_found("user"))?;
        if viewer.is_none() && rec.user.profile.profile_visibility != ProfileVisibility::Public {
            return Err(ApiError::unauthorized("sign in to see members' profiles"));
        }
        Ok(rec.user)
    }

    /// The member directory: members find every member; guests those whose profile is
    /// public. Sorted by name; `q` and `expertise` match across languages.
    pub fn directory(&self, viewer: Viewer, q: DirectoryQuery) -> ApiResult<Directory> {
        let limit = q.limit.unwrap_or(DIRECTORY_DEFAULT_LIMIT);
        if limit == 0 || limit > DIRECTORY_MAX_LIMIT {
            return Err(ApiError::field("limit", format!("1 to {DIRECTORY_MAX_LIMIT}")));
        }
        let offset = match &q.cursor {
            Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
                .map(|c| c.o)
                .ok_or_else(|| ApiError::field("cursor", "not a cursor of this directory"))?,
            None => 0,
        };
        let country = q.country.as_deref().map(|c| validate::country("country", c)).transpose()?;
        let language: Option<Lang> = match q.language.as_deref() {
            Some(l) => Some(l.parse().map_err(|e: String| ApiError::field("language", e))?),
            None => None,
        };
        let text_parts = |field: &'static str, text: Option<&str>| -> ApiResult<Vec<Vec<String>>> {
            let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(Vec::new()) };
            if t.chars().count() > QUERY_MAX_CHARS {
                return Err(ApiError::field(field, format!("at most {QUERY_MAX_CHARS} characters")));
            }
            self.search.index.query_parts(t).map_err(|_| ApiError::internal("glossary unavailable"))
        };
        let q_parts = text_parts("q", q.q.as_deref())?;
        let expertise_parts = text_parts("expertise", q.expertise.as_deref())?;
        let edition =
            q.edition.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(collective_brain_index::analysis::fold);
        let fold = collective_brain_index::analysis::fold;
        let mut found: Vec<User> = Vec::new();
        for rec in self.store.users()? {
            let u = rec.user;
            if rec.pending
                || u.deleted
                || (viewer.is_none() && u.profile.profile_visibility != ProfileVisibility::Public)
            {
                continue;
            }
            if country.is_some() && u.profile.country != country {
                continue;
            }
            if language.is_some_and(|l| !u.languages.contains(&l)) {
                continue;
            }
            if edition.as_ref().is_some_and(|e| !u.profile.editions.iter().any(|x| fold(x).contains(e.as_str()))) {
                continue;
            }
            if !expertise_parts.is_empty()
                && !collective_brain_index::matches_parts(&fold(&u.profile.expertise.join(" · ")), &expertise_parts)
            {
                continue;
            }
            if !q_parts.is_empty() && !collective_brain_index::matches_parts(&searchable(&u), &q_parts) {
                continue;
            }
            found.push(u);
        }
        found.sort_by_cached_key(|u| (fold(&u.display_name), u.handle.to_lowercase()));
        let more = found.len() > offset + limit;
        let users: Vec<User> = found.into_iter().skip(offset).take(limit).collect();
        let next = more.then(|| {
            let c = serde_json::to_vec(&Cursor { o: offset + limit }).unwrap_or_default();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c)
        });
        Ok(Directory { users, next })
    }
}

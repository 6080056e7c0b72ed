//! Plain data: the objects of the client contract, and the typed ids that name them.
//!
//! Ids are numbers that carry no order (the store hands them out through a keyed
//! permutation of its counter: `store::ids`), written on the wire as opaque strings: a
//! one-letter prefix per kind and the number (`u83620137449`, `p177002390512371`). The
//! prefix means that a room id sent where a post id is expected is refused as
//! `bad_request` instead of naming some unrelated post. Their `Ord` is for maps and
//! deduplication only: what needs the order things were made in uses their times.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);

        impl $name {
            /// The one-letter prefix of this kind of id on the wire.
            pub const PREFIX: char = $prefix;

            /// Parses the wire form (`u12`); `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                let digits = s.strip_prefix($prefix)?;
                if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse().ok().map($name)
            }

        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("invalid ", stringify!($name), " {:?}: expected '", $prefix, "' followed by digits"),
                        s
                    ))
                })
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId, 'u'
);
id_type!(
    /// A space: a forum or a chat.
    SpaceId, 's'
);
id_type!(
    /// A room: a forum thread, or the one room of a chat space.
    RoomId, 'r'
);
id_type!(
    /// A post.
    PostId, 'p'
);

id_type!(
    /// A notification.
    NotificationId, 'n'
);

/// Why a user is notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// `@handle` in a post.
    Mention,
    /// A reply to one of the user's posts.
    Reply,
}

/// A notification as stored: what happened, where, by whom. The post's text is not
/// kept here (a deleted post must vanish everywhere); readers get the post as it is now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub post: PostId,
    pub room: RoomId,
    pub space: SpaceId,
    pub from: UserId,
    pub created_at: String,
    pub read: bool,
}

/// One moderation action, as the log keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModAction {
    pub id: u64,
    pub at: String,
    pub moderator: UserId,
    /// `hide`, `restore`, `delete`, `suspend` or `unsuspend`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<PostId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A member's flag on a post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub user: UserId,
    pub reason: String,
    pub at: String,
}

/// A role. Every account is a `member`; the others are granted by an admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Translator,
    Moderator,
    Admin,
}

/// A user as clients see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub handle: String,
    pub display_name: String,
    /// The languages the user reads and writes, most used first.
    pub languages: Vec<String>,
    pub roles: Vec<Role>,
    /// Extension: the language pairs a translator works in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translator_pairs: Vec<LangPair>,
}

/// A translator's language pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangPair {
    pub from: String,
    pub to: String,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Moderators and admins moderate.
    pub fn is_moderator(&self) -> bool {
        self.has_role(Role::Moderator) || self.has_role(Role::Admin)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceKind {
    Forum,
    Chat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Private,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostPolicy {
    /// Any member may post: every signed-in user in a public space, the members in a
    /// private one.
    Members,
    /// Only moderators and admins post (a News space).
    Moderators,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Space {
    pub id: SpaceId,
    pub slug: String,
    pub name: String,
    pub kind: SpaceKind,
    pub visibility: Visibility,
    pub post_policy: PostPolicy,
    /// The one room of a chat space.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub room: Option<RoomId>,
    /// Extension, in listings for a signed-in user: posts they have not read, all rooms.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unread: Option<u64>,
    /// Extension: a working group's coordinators (members who add and remove members and
    /// pin threads).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub coordinators: Vec<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub space: SpaceId,
    /// The thread's title; `None` for a chat room.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    pub created_at: String,
    /// The `seq` of the room's newest event.
    pub last_seq: u64,
    /// Posts in the room, deleted slots included.
    pub post_count: u64,
    /// When the room last changed (extension: the `before` cursor of room listings).
    pub last_activity_at: String,
    /// Extension: pinned threads list first.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub pinned: bool,
    /// Extension, in listings for a signed-in user: posts after the last seq they read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unread: Option<u64>,
    /// Extension, likewise: the last seq they read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub read_seq: Option<u64>,
}

/// How a post's language was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LangSource {
    Detected,
    Author,
    Declared,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Translation {
    pub body: String,
    /// The body rendered and sanitized (`render`): the only form a client inserts as markup.
    #[serde(default)]
    pub html: String,
    pub translator: UserId,
    pub created_at: String,
    pub stale: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub id: PostId,
    pub room: RoomId,
    /// The `seq` of the event that created the post: its place in the room.
    pub seq: u64,
    pub author: UserId,
    pub body: String,
    /// The body rendered and sanitized (`render`): the only form a client inserts as markup.
    #[serde(default)]
    pub html: String,
    pub reply_to: Option<PostId>,
    pub lang: String,
    pub lang_source: LangSource,
    pub lang_confidence: f64,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// Extension: hidden by a moderator; its text is kept apart for moderators only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    pub translations: std::collections::BTreeMap<String, Translation>,
    /// Extension: emoji reactions, with how many users reacted with each.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reactions: std::collections::BTreeMap<String, u64>,
}

/// One earlier version of an edited post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub body: String,
    #[serde(default)]
    pub html: String,
    pub lang: String,
    /// When this version was written (the post's creation, or an earlier edit).
    pub written_at: String,
    /// When it was replaced.
    pub replaced_at: String,
}

/// The kinds of events in a room's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Post,
    Edit,
    Delete,
    Translation,
    /// Extension: a reaction added or removed.
    Reaction,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_other_kinds() {
        let id = RoomId(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"r42\"");
        assert_eq!(serde_json::from_str::<RoomId>("\"r42\"").unwrap(), id);
        assert!(serde_json::from_str::<RoomId>("\"p42\"").is_err());
        assert!(serde_json::from_str::<RoomId>("\"r\"").is_err());
        assert!(serde_json::from_str::<RoomId>("\"r-1\"").is_err());
        assert!(serde_json::from_str::<RoomId>("\"r99999999999999999999999\"").is_err());
        assert!(serde_json::from_str::<RoomId>("42").is_err());
    }

    #[test]
    fn roles_are_snake_case() {
        assert_eq!(serde_json::to_string(&Role::Moderator).unwrap(), "\"moderator\"");
    }
}

/// A language code as two bytes, for keys and topics (`fr` → `b"fr"`; `?` for what is
/// missing).
pub fn lang_key(lang: &str) -> [u8; 2] {
    let b = lang.as_bytes();
    [b.first().copied().unwrap_or(b'?'), b.get(1).copied().unwrap_or(b'?')]
}

// ---- search ----

/// A search, as the HTTP query string and the `search` frame give it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    /// Posts readable in this language (written in it or translated into it).
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub space: Option<SpaceId>,
    #[serde(default)]
    pub author: Option<UserId>,
    /// RFC 3339 time or `YYYY-MM-DD`: posts written at or after it.
    #[serde(default)]
    pub from: Option<String>,
    /// RFC 3339 time or `YYYY-MM-DD`: posts written before it (a date means its end).
    #[serde(default)]
    pub to: Option<String>,
    /// `relevance` (default) or `recent`.
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    /// From the previous page's `next`.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One thread's best-matching post.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    pub post: Post,
    pub room: RoomId,
    pub space: SpaceId,
    /// The thread's title (forum threads).
    pub title: Option<String>,
    /// Plain text around the match, in `matched_lang`.
    pub snippet: String,
    /// Extension: the snippet in pieces, matched words with `mark: true`.
    pub snippet_parts: Vec<collective_brain_index::Part>,
    /// The language of the version that matched: the original or a translation.
    pub matched_lang: String,
    pub score: f32,
    /// Extension: the thread's other matching posts, best first.
    pub also: Vec<String>,
}

/// A page of search results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Extension: matching posts the caller may read, over all pages.
    pub total: usize,
    /// Extension: the cursor of the next page, when there is one.
    pub next: Option<String>,
}

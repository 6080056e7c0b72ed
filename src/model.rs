//! Plain data: the objects of the client contract, and the typed ids that name them.
//!
//! Ids are numbers that carry no order (the store hands them out through a keyed
//! permutation of its counter: `store::ids`), written on the wire as opaque strings: a
//! one-letter prefix per kind and the number (`u83620137449`, `p177002390512371`). The
//! prefix means that a room id sent where a post id is expected is refused as
//! `bad_request` instead of naming some unrelated post. Their `Ord` is for maps and
//! deduplication only: what needs the order things were made in uses their times.

use std::collections::BTreeMap;
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
id_type!(
    /// An uploaded file.
    FileId, 'f'
);

/// Why a user is notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// `@handle` in a post.
    Mention,
    /// A reply to one of the user's posts.
    Reply,
    /// A post in a direct conversation of the user's.
    Dm,
    /// A post in a thread or room the user watches.
    Watched,
}

/// How closely a member follows a thread or room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchLevel {
    /// Every new post notifies them (kind `watched`).
    Watching,
    /// Mentions and replies notify them (the default; a working group's members watch it
    /// unless they chose otherwise).
    #[default]
    Normal,
    /// Nothing notifies them, mentions neither.
    Muted,
}

/// Which email a member gets of what they were not there to see: none, each notice a
/// while after it (batched), or only in their digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailNotifications {
    Off,
    #[default]
    Immediate,
    Digest,
}

/// How often a member gets the digest of what happened in the spaces they read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestEvery {
    Off,
    Daily,
    #[default]
    Weekly,
}

/// A member's email choices (`PUT /me/email-settings`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    #[serde(default)]
    pub notifications: MailNotifications,
    #[serde(default)]
    pub digest: DigestEvery,
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
    pub languages: Vec<Lang>,
    pub roles: Vec<Role>,
    /// Extension: the language pairs a translator works in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translator_pairs: Vec<LangPair>,
    /// Extension: the translator paused their queue (it lists nothing until they resume).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub translator_paused: bool,
    /// Who they are and what they work on, for the member directory.
    #[serde(flatten)]
    pub profile: Profile,
    /// Extension: the account was erased; its posts stay, by "a deleted member".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Their address and whether it is verified: only in what they see of themselves
    /// (`GET /me`), never stored here (the store keeps them beside the account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_settings: Option<EmailSettings>,
}

/// Who may see a member's profile: members only, or everyone (guests too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileVisibility {
    #[default]
    Members,
    Public,
}

/// A member's profile: what peers look for in the directory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub sector: Option<String>,
    #[serde(default)]
    pub expertise: Vec<String>,
    /// Academy editions attended ("Turin 2010", "Lisbon 2021").
    #[serde(default)]
    pub editions: Vec<String>,
    /// Markdown, as written.
    #[serde(default)]
    pub bio: String,
    /// The bio rendered and sanitized (`render`).
    #[serde(default)]
    pub bio_html: String,
    #[serde(default)]
    pub profile_visibility: ProfileVisibility,
    /// Where their picture is served (`/api/v1/users/{id}/avatar?v=...`), when they set
    /// one; initials are shown otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

impl Profile {
    /// What a reader who may not see the profile gets: nothing of it but that it is for
    /// members.
    pub fn withheld() -> Profile {
        Profile::default()
    }
}

/// A translator's language pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangPair {
    pub from: Lang,
    pub to: Lang,
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
    /// Extension: a direct conversation's members (none for other spaces). A direct
    /// conversation is a private chat space listed by `GET /dms`, not `GET /spaces`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub direct: Vec<UserId>,
    /// Extension: the space's name in other languages (`name` is the default).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub names: BTreeMap<Lang, String>,
    /// Extension: what the space is for, per language.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub descriptions: BTreeMap<Lang, String>,
    /// Extension: archived by an admin: read as before, no new posts.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub archived: bool,
    /// Extension: the Academy edition whose collection this space is ("Turin 2010"): the
    /// files attached in it belong to that edition unless they say otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub edition: Option<String>,
    /// Extension: a private working group that signed-in members see in `GET /groups`
    /// (its names, descriptions and size, never its rooms) and may ask to join.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub listed: bool,
    /// Extension: its visibility was changed once; the search index may hold posts of it
    /// under the other (`service::search` names such spaces in each query).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub visibility_changed: bool,
    /// Extension, in `GET /spaces`: how many threads (rooms) it has, and when the last
    /// post was written in it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub threads: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_activity_at: Option<String>,
    /// Extension, in `GET /spaces/{id}` for a signed-in reader: how they follow its rooms.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub watch: Option<WatchLevel>,
}

impl Space {
    pub fn is_direct(&self) -> bool {
        !self.direct.is_empty()
    }
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
    /// Extension, in `GET /rooms/{id}` for a signed-in reader: how they follow it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub watch: Option<WatchLevel>,
    /// Extension: the title's language (its opening post's when the thread was made);
    /// the desk offers the title for translation into the others.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title_lang: Option<Lang>,
    /// 1.1: the title in other languages, by translators.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub title_translations: BTreeMap<Lang, TitleTranslation>,
}

/// A thread's title in another language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleTranslation {
    pub title: String,
    pub translator: UserId,
    pub created_at: String,
    /// The title changed since: shown with a mark, and offered for translation again.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub stale: bool,
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
    pub lang: Lang,
    pub lang_source: LangSource,
    pub lang_confidence: f64,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// Extension: hidden by a moderator; its text is kept apart for moderators only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    pub translations: std::collections::BTreeMap<Lang, Translation>,
    /// Extension: emoji reactions, with how many users reacted with each.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reactions: std::collections::BTreeMap<String, u64>,
    /// The files attached to it, as they were when it was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<File>,
}

/// An uploaded file, as clients see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub id: FileId,
    /// The name it was uploaded under (what a download is saved as).
    pub name: String,
    pub size: u64,
    /// Sniffed from its bytes, never taken from the name or the uploader.
    pub content_type: String,
    /// Of the bytes served, lowercase hex.
    pub sha256: String,
    pub created_at: String,
    pub uploader: UserId,
    /// Where its thumbnail is served (images).
    #[serde(default)]
    pub thumbnail: Option<String>,
    /// The language of the text read from it (documents), once it is read.
    #[serde(default)]
    pub text_lang: Option<Lang>,
    /// Extension: image dimensions, for laying out a post before the image loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Extension, for the library: a title and a description (by its uploader or a
    /// moderator), the Academy edition it belongs to (its collection's, by default) and
    /// its year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    /// Extension: the language the title and description are written in (tagged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_lang: Option<Lang>,
    /// Extension: the title and description in other languages, by translators.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<Lang, FileTranslation>,
}

/// A file's title and description in another language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileTranslation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub translator: UserId,
    pub created_at: String,
    /// The title or description changed since.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
}

/// One earlier version of an edited post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub body: String,
    #[serde(default)]
    pub html: String,
    pub lang: Lang,
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

// ---- joining ----

/// How people join (`GET /config`'s `signup`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signup {
    /// Anyone may register.
    #[default]
    Open,
    /// New accounts wait for a moderator's approval before they can sign in.
    Approval,
    /// Only with an invitation code.
    Invite,
}

/// What admins set from the browser (`PATCH /config`), kept in the store: what is not
/// set here comes from the server's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommunitySettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub signup: Signup,
    /// The front door's welcome, per language (Markdown); a language without one gets
    /// the built-in text.
    #[serde(default)]
    pub welcome: std::collections::BTreeMap<Lang, String>,
}

/// An invitation code: registering with it joins `spaces`, while it has uses left and
/// has not expired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub spaces: Vec<SpaceId>,
    pub uses: u32,
    #[serde(default)]
    pub max_uses: Option<u32>,
    /// RFC 3339; none: it does not expire.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// A name for the cohort it is for ("Academy 2027").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub created_by: UserId,
    pub created_at: String,
}

/// A member's request to join a listed working group, until its coordinators answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub space: SpaceId,
    pub user: UserId,
    /// What the member says of why they ask (may be empty).
    #[serde(default)]
    pub message: String,
    pub created_at: String,
}

// ---- languages ----

/// A language: an assigned ISO 639-1 code such as `en` or `pt`, two bytes wherever it
/// goes (keys, topics, maps). It is checked where it enters: [`Lang::parse`] and
/// deserializing refuse anything else, so code that holds one need not check again.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lang([u8; 2]);

/// ISO 639-1's assigned codes, sorted, three bytes apart.
const ISO639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy \
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik \
io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt \
my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so \
sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

impl Lang {
    pub const EN: Lang = Lang(*b"en");

    /// The language `code` names, if it is an assigned ISO 639-1 code (lower case).
    pub fn parse(code: &str) -> Option<Lang> {
        let [a, b] = code.as_bytes() else { return None };
        Lang::from_bytes([*a, *b])
    }

    /// The language two bytes name (a key's or a topic's), if they are a code.
    pub fn from_bytes(code: [u8; 2]) -> Option<Lang> {
        let list = ISO639_1.as_bytes();
        let (mut lo, mut hi) = (0, list.len().div_ceil(3));
        while lo < hi {
            let mid = (lo + hi) / 2;
            match list.get(3 * mid..3 * mid + 2).map(|c| c.cmp(&code[..])) {
                Some(std::cmp::Ordering::Less) => lo = mid + 1,
                Some(std::cmp::Ordering::Greater) => hi = mid,
                Some(std::cmp::Ordering::Equal) => return Some(Lang(code)),
                None => return None,
            }
        }
        None
    }

    /// The languages of `codes` that are codes, in order (tests and built-in defaults).
    pub fn many(codes: &[&str]) -> Vec<Lang> {
        codes.iter().filter_map(|c| Lang::parse(c)).collect()
    }

    /// Every assigned code, in order.
    pub fn all() -> impl Iterator<Item = Lang> {
        ISO639_1.split(' ').filter_map(Lang::parse)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    pub fn bytes(self) -> [u8; 2] {
        self.0
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::parse(s).ok_or_else(|| format!("{s:?} is not an ISO 639-1 code such as \"en\" or \"pt\""))
    }
}

impl PartialEq<str> for Lang {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Lang {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Lang {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Lang;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 639-1 language code")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Lang, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
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
    /// `post` or `file`: only posts, or only documents (none: both).
    #[serde(default)]
    pub kind: Option<String>,
}

/// One thread's best-matching post, or a document whose text matched.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    /// `post`, or `file` for a document (then `post` is the post it is attached to).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
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
    pub matched_lang: Lang,
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

#[cfg(test)]
mod lang_tests {
    use super::Lang;

    #[test]
    fn iso_codes() {
        for ok in ["pt", "ko", "en", "aa", "zu"] {
            assert_eq!(Lang::parse(ok).map(|l| l.to_string()), Some(ok.to_owned()));
        }
        for c in ["xx", "eng", "PT", "a", "", "aa ", " a", "zz", "a\u{e9}", "\u{e9}", "ab\0"] {
            assert!(Lang::parse(c).is_none(), "{c:?}");
        }
        // The list sorted and evenly spaced (the search counts on both): every code of
        // it found, nothing between or around them.
        let codes: Vec<&str> = super::ISO639_1.split(' ').collect();
        assert_eq!(codes.len(), super::ISO639_1.len().div_ceil(3));
        assert!(codes.windows(2).all(|w| w[0] < w[1] && w[0].len() == 2), "sorted pairs");
        assert_eq!(Lang::all().count(), codes.len());
        let assigned: std::collections::HashSet<&str> = codes.iter().copied().collect();
        for a in b'a'..=b'z' {
            for b in b'a'..=b'z' {
                let c = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(Lang::parse(&c).is_some(), assigned.contains(c.as_str()), "{c}");
            }
        }
    }

    #[test]
    fn a_language_is_a_string_on_the_wire_and_refused_when_it_is_no_code() {
        let l: Lang = serde_json::from_str("\"fr\"").unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"fr\"");
        let map: std::collections::BTreeMap<Lang, u8> = serde_json::from_str(r#"{"pt":1,"en":2}"#).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"en":2,"pt":1}"#);
        let err = serde_json::from_str::<Lang>("\"portugues\"").unwrap_err().to_string();
        assert!(err.contains("ISO 639-1"), "{err}");
        assert!(serde_json::from_str::<Lang>("7").is_err());
    }
}

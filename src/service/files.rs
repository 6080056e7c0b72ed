//! Uploads, downloads and each space's library. A file is read exactly as the post it is
//! attached to: by whoever may read that post's room, while the post is neither deleted
//! nor hidden (a hidden post's files stay with moderators who can read the space); an
//! upload not attached yet is its uploader's alone. Everyone else gets `not_found`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult, Code};
use crate::files::sniff::{self, Kind};
use crate::files::ReceiveError;
use crate::model::{File, FileId, PostId, RoomId, SpaceId};
use crate::store::{FileRecord, TextState};

/// An upload not attached to a post within this long is forgotten.
pub const UNATTACHED_TTL: Duration = Duration::from_secs(24 * 3600);
/// A blob no record names is removed once it is this old (an upload between its blob
/// and its record is never caught).
const BLOB_GRACE: Duration = Duration::from_secs(3600);

pub const LIBRARY_DEFAULT_LIMIT: usize = 50;
pub const LIBRARY_MAX_LIMIT: usize = 200;

/// What a download serves: the blob's path, and the headers it goes with.
#[derive(Clone, Debug)]
pub struct Served {
    pub path: PathBuf,
    pub content_type: String,
    pub name: String,
    pub sha256: String,
    pub inline: bool,
}

/// `GET /spaces/{id}/library`'s query.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryQuery {
    pub q: Option<String>,
    pub lang: Option<String>,
    pub before: Option<String>,
    pub limit: Option<usize>,
    pub edition: Option<String>,
    pub year: Option<String>,
    /// `document`, `image` or `other`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `PATCH /files/{id}`: what the library says of a file (absent: unchanged; empty:
/// cleared).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub edition: Option<String>,
    /// A year, or null to clear it.
    #[serde(default, deserialize_with = "some")]
    pub year: Option<Option<u16>>,
}

fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u16>>, D::Error> {
    Option::<u16>::deserialize(d).map(Some)
}

/// `POST /files/{id}/translations`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTranslationBody {
    pub lang: String,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// Characters of a file's description at most.
const DESCRIPTION_MAX: usize = 2000;

/// Which of the library's kinds a content type is.
fn kind_of(content_type: &str) -> &'static str {
    match sniff::sniff_kind_name(content_type) {
        Some(k) => k,
        None => "other",
    }
}

/// One file of a space's library.
#[derive(Clone, Debug, Serialize)]
pub struct LibraryEntry {
    pub file: File,
    pub post: PostId,
    pub room: RoomId,
    /// The thread's title (none in a chat).
    pub title: Option<String>,
}

impl App {
    /// Receives an upload: streamed to disk under `max_file_bytes`, its type sniffed from
    /// its bytes (programs refused), images stripped of their metadata and thumbnailed,
    /// then kept durably and recorded against the uploader's quota. Seen by its uploader
    /// alone until a post of theirs carries it.
    pub async fn upload<S, E>(&self, viewer: Viewer<'_>, name: &str, length: Option<u64>, body: S) -> ApiResult<File>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let user = signed_in(viewer)?;
        let name = sniff::clean_name(name).ok_or_else(|| ApiError::field("name", "give the file a name"))?;
        self.limiter.write(user.id)?;
        let max = self.config.max_file_bytes;
        if length.is_some_and(|l| l > max) {
            return Err(too_large(max));
        }
        let quota = self.config.file_quota_mb.saturating_mul(1024 * 1024);
        let used = self.store.user(user.id)?.map_or(0, |r| r.file_bytes);
        if used.saturating_add(length.unwrap_or(0)) > quota {
            return Err(crate::store::Refusal::QuotaExceeded { quota, used }.into());
        }
        if self.store.disk_low() {
            return Err(crate::store::WriteError::DiskFull.into());
        }
        let received = self.blobs.receive(body, max).await.map_err(|e| match e {
            ReceiveError::TooLarge(max) => too_large(max),
            ReceiveError::Body(e) => ApiError::bad_request(format!("the upload was cut short: {e}")),
            ReceiveError::Io(e) => {
                tracing::error!(error = %e, "an upload could not be written");
                ApiError::new(Code::InsufficientStorage, "the upload could not be saved")
            }
        })?;
        let kind = sniff::sniff(&received.head);
        if kind == Kind::Executable {
            self.blobs.discard(&received);
            return Err(ApiError::bad_request("programs (executables) cannot be uploaded"));
        }
        let mut file = File {
            id: FileId(0),
            name,
            size: received.size,
            content_type: kind.content_type().to_owned(),
            sha256: received.sha256.clone(),
            created_at: String::new(),
            uploader: user.id,
            thumbnail: None,
            text_lang: None,
            width: None,
            height: None,
            title: None,
            description: None,
            edition: None,
            year: None,
            title_lang: None,
            translations: Default::default(),
        };
        let thumb = match &kind {
            Kind::Image(content_type) => self.keep_image(&received, content_type, &mut file).await?,
            _ => {
                let blobs = self.blobs.clone();
                tokio::task::spawn_blocking(move || blobs.keep(&received)).await.map_err(ApiError::internal)?.map_err(
                    |e| {
                        tracing::error!(error = %e, "an upload could not be kept");
                        ApiError::new(Code::InsufficientStorage, "the upload could not be saved")
                    },
                )?;
                None
            }
        };
        let text = if matches!(kind, Kind::Document(_)) { TextState::Pending } else { TextState::None };
        let file = self.store.run(crate::store::CreateFile { file: Box::new(file), thumb, text, quota }).await?;
        if text == TextState::Pending {
            self.documents.notify_one();
        }
        Ok(file)
    }

    /// Reads the text of every document waiting for it, one at a time, each in a process
    /// of its own (`files::extract`), and records it with its language: its post's
    /// readers then find it in search. Returns how many were read.
    pub async fn read_documents(&self) -> ApiResult<usize> {
        let mut pending = Vec::new();
        for rec in self.store.files() {
            let rec = rec?;
            if rec.text == TextState::Pending {
                pending.push(rec);
            }
        }
        let mut read = 0;
        for rec in pending {
            if self.shutdown.is_cancelled() {
                break;
            }
            let text = self.run_extractor(&rec).await.map(|text| {
                let sample: String = text.chars().take(3000).collect();
                let evidence = crate::lang::Evidence { declared: None, author: &[], room: None };
                (self.tagger.tag(&sample, &evidence).lang, text)
            });
            read += usize::from(text.is_some());
            self.store.run(crate::store::SetFileText { file: rec.file.id, text }).await?;
        }
        Ok(read)
    }

    /// Runs `collective-brain extract` on a document's blob under the configured memory
    /// and time limits; `None` (and a line in the log) when it gives no text.
    async fn run_extractor(&self, rec: &FileRecord) -> Option<String> {
        let program = self.config.extractor.clone().or_else(|| std::env::current_exe().ok())?;
        let limit = self.config.extract_timeout_secs.max(1);
        let mut cmd = tokio::process::Command::new(program);
        cmd.arg("extract")
            .arg(&rec.file.content_type)
            .arg(self.blobs.path(&rec.file.sha256))
            .arg("--memory-mb")
            .arg(self.config.extract_memory_mb.to_string())
            .arg("--cpu-secs")
            .arg(limit.to_string())
            .env("RUST_LOG", "error")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the text extractor could not be started");
                return None;
            }
        };
        let id = rec.file.id;
        // The CPU limit ends a busy child; this one ends a child that waits on nothing.
        match tokio::time::timeout(Duration::from_secs(limit + 5), child.wait_with_output()).await {
            Ok(Ok(out)) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
            Ok(Ok(out)) => {
                let why = String::from_utf8_lossy(&out.stderr);
                tracing::warn!(file = %id, status = %out.status, reason = %why.trim(), "no text read from a document");
                None
            }
            Ok(Err(e)) => {
                tracing::warn!(file = %id, error = %e, "the text extractor failed");
                None
            }
            Err(_) => {
                tracing::warn!(file = %id, seconds = limit + 5, "the text extractor took too long and was stopped");
                None
            }
        }
    }

    /// Keeps an image without its metadata, with its thumbnail (one image decoded at a
    /// time on this node); returns the thumbnail's blob.
    async fn keep_image(
        &self,
        received: &crate::files::Received,
        content_type: &'static str,
        file: &mut File,
    ) -> ApiResult<Option<String>> {
        let _turn = self.images.acquire().await.map_err(ApiError::internal)?;
        let blobs = self.blobs.clone();
        let tmp = received.tmp.clone();
        let sha = received.sha256.clone();
        let max_pixels = self.config.max_image_pixels;
        let done = tokio::task::spawn_blocking(
            move || -> std::io::Result<(String, Option<String>, crate::files::images::Processed)> {
                let bytes = std::fs::read(&tmp)?;
                let mut p = crate::files::images::process(&bytes, content_type, max_pixels);
                let kept = match p.stripped.take() {
                    Some(stripped) => {
                        let _ = std::fs::remove_file(&tmp);
                        blobs.put(&stripped)?
                    }
                    None => {
                        blobs.keep(&crate::files::Received { tmp, sha256: sha.clone(), size: 0, head: Vec::new() })?;
                        sha
                    }
                };
                let thumb = p.thumb.take().map(|t| blobs.put(&t)).transpose()?;
                Ok((kept, thumb, p))
            },
        )
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            tracing::error!(error = %e, "an image could not be kept");
            ApiError::new(Code::InsufficientStorage, "the upload could not be saved")
        })?;
        let (kept, thumb, p) = done;
        if kept != file.sha256 {
            file.size = std::fs::metadata(self.blobs.path(&kept)).map(|m| m.len()).unwrap_or(file.size);
            file.sha256 = kept;
        }
        file.width = p.width;
        file.height = p.height;
        Ok(thumb)
    }

    /// The file's record, if the viewer may read it (see the module's note).
    pub fn readable_file(&self, viewer: Viewer, id: FileId) -> ApiResult<FileRecord> {
        let hidden = || ApiError::not_found("file");
        let rec = self.store.file(id)?.ok_or_else(hidden)?;
        let Some(post) = rec.post else {
            return if viewer.is_some_and(|u| u.id == rec.file.uploader) { Ok(rec) } else { Err(hidden()) };
        };
        let room = rec.room.ok_or_else(hidden)?;
        self.readable_room(viewer, room).map_err(|_| hidden())?;
        let p = self.store.post(post)?.ok_or_else(hidden)?.post;
        let moderator = viewer.is_some_and(|u| u.is_moderator());
        if p.deleted || (p.hidden && !moderator) {
            return Err(hidden());
        }
        Ok(rec)
    }

    /// What `GET /files/{id}` (or its thumbnail) serves to the viewer.
    pub fn download(&self, viewer: Viewer, id: FileId, thumbnail: bool) -> ApiResult<Served> {
        let rec = self.readable_file(viewer, id)?;
        if thumbnail {
            let thumb = rec.thumb.ok_or_else(|| ApiError::not_found("thumbnail"))?;
            return Ok(Served {
                path: self.blobs.path(&thumb),
                content_type: "image/jpeg".into(),
                name: format!("{}.jpg", rec.file.name.rsplit_once('.').map_or(rec.file.name.as_str(), |(a, _)| a)),
                sha256: thumb,
                inline: true,
            });
        }
        Ok(Served {
            path: self.blobs.path(&rec.file.sha256),
            inline: sniff::inline(&rec.file.content_type),
            content_type: rec.file.content_type,
            name: rec.file.name,
            sha256: rec.file.sha256,
        })
    }

    /// The files attached in a space the viewer may read, newest first.
    pub fn library(&self, viewer: Viewer, space: SpaceId, q: &LibraryQuery) -> ApiResult<Vec<LibraryEntry>> {
        self.readable_space(viewer, space)?;
        let limit = q.limit.unwrap_or(LIBRARY_DEFAULT_LIMIT);
        if limit == 0 || limit > LIBRARY_MAX_LIMIT {
            return Err(ApiError::field("limit", format!("must be 1 to {LIBRARY_MAX_LIMIT}")));
        }
        let lang = q.lang.as_deref().filter(|l| !l.is_empty()).map(super::validate::lang).transpose()?;
        let words: Vec<String> = q.q.as_deref().unwrap_or_default().split_whitespace().map(str::to_lowercase).collect();
        if q.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(ApiError::field("q", "at most 200 characters"));
        }
        let edition = q.edition.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_lowercase);
        let year = match q.year.as_deref().filter(|y| !y.is_empty()) {
            Some(y) => Some(y.parse::<u16>().map_err(|_| ApiError::field("year", "a year, such as 2013"))?),
            None => None,
        };
        let kind = q.kind.as_deref().filter(|k| !k.is_empty());
        if kind.is_some_and(|k| !matches!(k, "document" | "image" | "other")) {
            return Err(ApiError::field("type", "document, image or other"));
        }
        let before = q.before.as_deref().filter(|b| !b.is_empty());
        if before.is_some_and(|b| chrono::DateTime::parse_from_rfc3339(b).is_err()) {
            return Err(ApiError::field("before", "must be an RFC 3339 time"));
        }
        let mut out = Vec::new();
        for id in self.store.space_files(space)? {
            if out.len() == limit {
                break;
            }
            let Ok(rec) = self.readable_file(viewer, id) else { continue };
            let (Some(post), Some(room)) = (rec.post, rec.room) else { continue };
            let f = &rec.file;
            if before.is_some_and(|b| f.created_at.as_str() >= b)
                || lang.is_some_and(|l| f.text_lang != Some(l))
                || edition.as_ref().is_some_and(|e| f.edition.as_ref().is_none_or(|x| x.to_lowercase() != *e))
                || year.is_some_and(|y| f.year != Some(y))
                || kind.is_some_and(|k| kind_of(&f.content_type) != k)
            {
                continue;
            }
            let title = self.store.room(room)?.and_then(|r| r.title);
            let fields = [
                Some(f.name.as_str()),
                title.as_deref(),
                f.title.as_deref(),
                f.description.as_deref(),
                f.edition.as_deref(),
            ];
            let hay = fields.into_iter().flatten().collect::<Vec<_>>().join(" ").to_lowercase();
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                continue;
            }
            out.push(LibraryEntry { file: rec.file, post, room, title });
        }
        Ok(out)
    }

    /// Describes a file for the library: its uploader, or a moderator or admin who can
    /// read it.
    pub async fn describe_file(&self, viewer: Viewer<'_>, id: FileId, patch: FilePatch) -> ApiResult<File> {
        let user = signed_in(viewer)?;
        let rec = self.readable_file(viewer, id)?;
        if rec.file.uploader != user.id && !user.is_moderator() {
            return Err(ApiError::forbidden("only its uploader and moderators describe a file"));
        }
        let line = |field: &'static str, v: &Option<String>, max: usize| -> ApiResult<Option<String>> {
            v.as_deref().map(|v| super::validate::line(field, v, max).map(Option::unwrap_or_default)).transpose()
        };
        let title = line("title", &patch.title, 200)?;
        let edition = line("edition", &patch.edition, 60)?;
        let description = match patch.description.as_deref().map(str::trim) {
            Some(d) if d.chars().count() > DESCRIPTION_MAX || d.chars().any(|c| c.is_control() && c != '\n') => {
                return Err(ApiError::field("description", format!("at most {DESCRIPTION_MAX} characters")));
            }
            d => d.map(str::to_owned),
        };
        if patch.year.flatten().is_some_and(|y| !(1900..=2100).contains(&y)) {
            return Err(ApiError::field("year", "a year, such as 2013"));
        }
        self.limiter.write(user.id)?;
        // The language its words are in, for the translators' desk.
        let words = [title.as_deref(), description.as_deref()].into_iter().flatten().collect::<Vec<_>>().join("\n");
        let title_lang = (!words.trim().is_empty()).then(|| {
            let evidence = crate::lang::Evidence { declared: None, author: &user.languages, room: None };
            self.tagger.tag(&words, &evidence).lang
        });
        let op = crate::store::DescribeFile { file: id, title, description, edition, year: patch.year, title_lang };
        Ok(self.store.run(op).await?)
    }

    /// The files a translator may give a title and description in `to`: described,
    /// readable by them, in another language, without a current translation into `to`;
    /// newest first.
    pub fn files_to_translate(&self, viewer: Viewer, to: &str) -> ApiResult<Vec<LibraryEntry>> {
        let user = signed_in(viewer)?;
        if !user.roles.iter().any(|r| matches!(r, crate::model::Role::Translator | crate::model::Role::Admin)) {
            return Err(ApiError::forbidden("only translators translate"));
        }
        let to = super::validate::lang(to)?;
        let mut out = Vec::new();
        let mut all: Vec<FileRecord> = self.store.files().collect::<Result<_, _>>()?;
        all.reverse();
        for rec in all {
            let f = &rec.file;
            let described = f.title.is_some() || f.description.is_some();
            let done = f.translations.get(&to).is_some_and(|t| !t.stale);
            if !described || done || f.title_lang == Some(to) {
                continue;
            }
            let (Some(post), Some(room)) = (rec.post, rec.room) else { continue };
            if self.readable_file(viewer, f.id).is_err() {
                continue;
            }
            let title = self.store.room(room)?.and_then(|r| r.title);
            out.push(LibraryEntry { file: rec.file, post, room, title });
            if out.len() == LIBRARY_DEFAULT_LIMIT {
                break;
            }
        }
        Ok(out)
    }

    /// A translator gives a file's title and description in another language.
    pub async fn translate_file(&self, viewer: Viewer<'_>, id: FileId, t: FileTranslationBody) -> ApiResult<File> {
        let user = signed_in(viewer)?;
        if !user.roles.iter().any(|r| matches!(r, crate::model::Role::Translator | crate::model::Role::Admin)) {
            return Err(ApiError::forbidden("only translators translate"));
        }
        let rec = self.readable_file(viewer, id)?;
        let lang = super::validate::lang(&t.lang)?;
        let title = t.title.as_deref().map(|v| super::validate::line("title", v, 200)).transpose()?.flatten();
        let description = match t.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) if d.chars().count() > DESCRIPTION_MAX || d.chars().any(|c| c.is_control() && c != '\n') => {
                return Err(ApiError::field("description", format!("at most {DESCRIPTION_MAX} characters")));
            }
            d => d.map(str::to_owned),
        };
        if title.is_none() && description.is_none() {
            return Err(ApiError::field("title", "give the title or the description in that language"));
        }
        if rec.file.title.is_none() && rec.file.description.is_none() {
            return Err(ApiError::conflict("this file has no title or description to translate"));
        }
        self.limiter.write(user.id)?;
        let op = crate::store::TranslateFile { file: id, lang, title, description, translator: user.id };
        Ok(self.store.run(op).await?)
    }

    /// Forgets uploads never attached within a day and the files of deleted posts, then
    /// removes blobs nothing names any more (and at least an hour old). Returns (records,
    /// blobs) removed.
    pub async fn collect_files(&self) -> ApiResult<(usize, usize)> {
        let now = SystemTime::now();
        // Records are dated by the server's clock; blobs by the file system's.
        let ttl = i64::try_from(UNATTACHED_TTL.as_millis()).unwrap_or(i64::MAX);
        let cutoff = crate::clock::rfc3339(self.config.clock.now_ms().saturating_sub(ttl));
        let mut gone = Vec::new();
        for rec in self.store.files() {
            let rec = rec?;
            let drop = match rec.post {
                None => rec.file.created_at < cutoff,
                Some(p) => self.store.post(p)?.is_none_or(|r| r.post.deleted),
            };
            if drop {
                gone.push(rec.file.id);
            }
        }
        let records = gone.len();
        if !gone.is_empty() {
            self.store.run(crate::store::DropFiles { files: gone }).await?;
        }
        let mut named = std::collections::HashSet::new();
        for rec in self.store.files() {
            let rec = rec?;
            named.insert(rec.file.sha256);
            named.extend(rec.thumb);
        }
        for rec in self.store.users()? {
            named.extend(rec.avatar_blob);
        }
        let blobs = self.blobs.clone();
        let removed = tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
            let mut removed = 0;
            for (sha, written) in blobs.list()? {
                let old = now.duration_since(written).unwrap_or_default() >= BLOB_GRACE;
                if old && !named.contains(&sha) {
                    blobs.remove(&sha)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        if records + removed > 0 {
            tracing::info!(records, blobs = removed, "files collected");
        }
        Ok((records, removed))
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::too_large(format!("a file is at most {} MiB", max / (1024 * 1024)))
}

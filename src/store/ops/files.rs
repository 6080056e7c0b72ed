//! Uploaded files: their records (the bytes are blobs outside the store, `files::Blobs`),
//! their uploaders' quota, the text read from documents, and what the collector drops.

use super::*;
use crate::model::{File, FileId};
use crate::store::{FileRecord, TextState};

/// Files one post carries at most.
pub const MAX_FILES_PER_POST: usize = 10;

/// Records an upload whose blob is already durable: counted against its uploader's
/// quota (`quota` bytes), refused past it.
#[derive(Clone, Debug)]
pub struct CreateFile {
    /// The file as it will be seen; its id and time are the store's. (Boxed: the largest
    /// op would make every op as large.)
    pub file: Box<File>,
    pub thumb: Option<String>,
    pub text: TextState,
    pub quota: u64,
}

pub(super) fn create_file(tx: &Tx, ctx: &Ctx, op: &CreateFile) -> OpResult {
    let Some(mut user) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(op.file.uploader))? else {
        return Ok(Err(Refusal::NotFound("user")));
    };
    let used = user.file_bytes.saturating_add(op.file.size);
    if used > op.quota {
        return Ok(Err(Refusal::QuotaExceeded { quota: op.quota, used: user.file_bytes }));
    }
    user.file_bytes = used;
    put(tx.users(), &tx.ids.key(op.file.uploader), &user)?;
    let mut file = (*op.file).clone();
    file.id = new_id::<FileId>(tx)?;
    file.created_at = ctx.now.clone();
    if op.thumb.is_some() {
        file.thumbnail = Some(format!("/api/v1/files/{}/thumbnail", file.id));
    }
    let rec =
        FileRecord { file: file.clone(), post: None, room: None, space: None, thumb: op.thumb.clone(), text: op.text };
    put(tx.files(), &tx.ids.key(file.id), &rec)?;
    Ok(Ok(Outcome::File(file)))
}

/// The records of `files` for a new post by `author`, checked before anything is
/// written: each must be their own upload, attached nowhere yet.
pub(super) fn attachable(tx: &Tx, files: &[FileId], author: UserId) -> Result<Result<Vec<FileRecord>, Refusal>, Fatal> {
    let mut out = Vec::with_capacity(files.len());
    for id in files {
        match get::<FileRecord>(tx.files(), "files", &tx.ids.key(id))? {
            Some(rec) if rec.file.uploader == author && rec.post.is_none() => out.push(rec),
            _ => return Ok(Err(Refusal::FileUnusable(*id))),
        }
    }
    Ok(Ok(out))
}

/// Attaches checked records (`attachable`) to `post`, in `room` of `space`: each enters
/// the space's library. Returns the files as the post carries them.
pub(super) fn attach(
    tx: &Tx,
    records: Vec<FileRecord>,
    post: PostId,
    room: RoomId,
    space: SpaceId,
) -> Result<Vec<File>, Fatal> {
    let mut out = Vec::with_capacity(records.len());
    // A collection's files belong to its edition.
    let edition = match records.is_empty() {
        true => None,
        false => get::<Space>(tx.spaces(), "spaces", &tx.ids.key(space))?.and_then(|s| s.edition),
    };
    for mut rec in records {
        let id = rec.file.id;
        if rec.file.edition.is_none() {
            rec.file.edition = edition.clone();
        }
        rec.post = Some(post);
        rec.room = Some(room);
        rec.space = Some(space);
        put(tx.files(), &tx.ids.key(id), &rec)?;
        tx.space_files().insert(&keys::pair(tx.ids.of(space), tx.ids.of(id))[..], &[][..])?;
        out.push(rec.file);
    }
    Ok(out)
}

/// The extractor's answer for a document: its text and language, or nothing readable.
/// The post it is attached to is named in the change feed, so search indexes the text.
#[derive(Clone, Debug)]
pub struct SetFileText {
    pub file: FileId,
    /// `None`: nothing could be read.
    pub text: Option<(Lang, String)>,
}

pub(super) fn set_file_text(tx: &Tx, fx: &mut Effects, op: &SetFileText) -> OpResult {
    let Some(mut rec) = get::<FileRecord>(tx.files(), "files", &tx.ids.key(op.file))? else {
        return Ok(Err(Refusal::NotFound("file")));
    };
    match &op.text {
        Some((lang, text)) => {
            rec.text = TextState::Read;
            rec.file.text_lang = Some(*lang);
            tx.file_texts().insert(tx.ids.key(op.file), text.as_bytes())?;
        }
        None => rec.text = TextState::Unreadable,
    }
    put(tx.files(), &tx.ids.key(op.file), &rec)?;
    if let Some(post) = rec.post {
        record_change(fx, post);
    }
    Ok(Ok(Outcome::Done))
}

/// What the library says of a file; what is `None` stays (an empty text clears it).
#[derive(Clone, Debug)]
pub struct DescribeFile {
    pub file: FileId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub edition: Option<String>,
    /// `Some(None)` clears the year.
    pub year: Option<Option<u16>>,
    /// The language the title and description are in (when either is given).
    pub title_lang: Option<Lang>,
}

pub(super) fn describe_file(tx: &Tx, fx: &mut Effects, op: &DescribeFile) -> OpResult {
    let Some(mut rec) = get::<FileRecord>(tx.files(), "files", &tx.ids.key(op.file))? else {
        return Ok(Err(Refusal::NotFound("file")));
    };
    let set = |slot: &mut Option<String>, v: &Option<String>| {
        if let Some(v) = v {
            *slot = (!v.is_empty()).then(|| v.clone());
        }
    };
    let before = (rec.file.title.clone(), rec.file.description.clone());
    set(&mut rec.file.title, &op.title);
    set(&mut rec.file.description, &op.description);
    if before != (rec.file.title.clone(), rec.file.description.clone()) {
        // Translations of what changed wait for a translator again.
        for t in rec.file.translations.values_mut() {
            t.stale = true;
        }
        if op.title_lang.is_some() {
            rec.file.title_lang = op.title_lang;
        }
    }
    set(&mut rec.file.edition, &op.edition);
    if let Some(y) = op.year {
        rec.file.year = y;
    }
    put(tx.files(), &tx.ids.key(op.file), &rec)?;
    // Search indexes its title and description with its text.
    if let Some(post) = rec.post {
        record_change(fx, post);
    }
    Ok(Ok(Outcome::File(rec.file)))
}

/// A translator's title and description of a file in another language.
#[derive(Clone, Debug)]
pub struct TranslateFile {
    pub file: FileId,
    pub lang: Lang,
    pub title: Option<String>,
    pub description: Option<String>,
    pub translator: UserId,
}

pub(super) fn translate_file(tx: &Tx, ctx: &Ctx, fx: &mut Effects, op: &TranslateFile) -> OpResult {
    let Some(mut rec) = get::<FileRecord>(tx.files(), "files", &tx.ids.key(op.file))? else {
        return Ok(Err(Refusal::NotFound("file")));
    };
    if rec.file.title_lang == Some(op.lang) {
        return Ok(Err(Refusal::SameLanguage));
    }
    let t = crate::model::FileTranslation {
        title: op.title.clone(),
        description: op.description.clone(),
        translator: op.translator,
        created_at: ctx.now.clone(),
        stale: false,
    };
    rec.file.translations.insert(op.lang, t);
    put(tx.files(), &tx.ids.key(op.file), &rec)?;
    if let Some(post) = rec.post {
        record_change(fx, post);
    }
    Ok(Ok(Outcome::File(rec.file)))
}

/// Forgets files (the collector's: uploads never attached, files of deleted posts):
/// their records, texts and places in their spaces' libraries, and their bytes in their
/// uploaders' quota. Their blobs go once nothing else points at them.
#[derive(Clone, Debug)]
pub struct DropFiles {
    pub files: Vec<FileId>,
}

pub(super) fn drop_files(tx: &Tx, op: &DropFiles) -> OpResult {
    for id in &op.files {
        let Some(rec) = get::<FileRecord>(tx.files(), "files", &tx.ids.key(id))? else {
            continue;
        };
        tx.files().remove(tx.ids.key(id))?;
        tx.file_texts().remove(tx.ids.key(id))?;
        if let Some(space) = rec.space {
            tx.space_files().remove(&keys::pair(tx.ids.of(space), tx.ids.of(*id))[..])?;
        }
        if let Some(mut user) = get::<UserRecord>(tx.users(), "users", &tx.ids.key(rec.file.uploader))? {
            user.file_bytes = user.file_bytes.saturating_sub(rec.file.size);
            put(tx.users(), &tx.ids.key(rec.file.uploader), &user)?;
        }
    }
    Ok(Ok(Outcome::Done))
}

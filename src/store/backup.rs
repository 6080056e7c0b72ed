//! Export and import: every tree, every key and value, as JSON lines.
//!
//! The first line is a header (`{"collective_brain_export": 2, "schema_version": N}`);
//! then one line per entry, `{"tree", "key", "text" | "hex"}`: the key in hex, the value
//! as text when it is UTF-8 (most values are JSON) and in hex otherwise. It is exact:
//! an import reproduces the store byte for byte, sessions, claims, nonces and the key of
//! its ids (`ids`) included.
//! After the trees, one line per uploaded file's blob (and thumbnail) that the `files`
//! tree names, `{"blob": SHA-256, "base64": ...}`, read from `data_dir/files` and written
//! back there on import, where each is checked against its name.
//! The last line is a trailer, `{"collective_brain_export_end": N, "sha256": H}`: the
//! number of entries and the SHA-256 of their lines (each with its newline). An import
//! refuses an input whose trailer is missing, does not match, or is followed by more, so
//! a truncated or altered backup never loads.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::engine::{KvEngine, KvTree, Tree};
use super::{Store, Trees, SCHEMA_VERSION};
use crate::error::StoreError;

/// The format's version (3: with blobs; version 2, without, is still read).
pub const EXPORT_VERSION: u32 = 3;

#[derive(Serialize, Deserialize)]
struct Header {
    collective_brain_export: u32,
    schema_version: u32,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    collective_brain_export_end: u64,
    sha256: String,
}

#[derive(Serialize, Deserialize)]
struct BlobEntry {
    blob: String,
    base64: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    tree: String,
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {detail}")]
    Format { line: usize, detail: String },
    #[error("the data dir is not empty: import only into a new one")]
    NotEmpty,
    #[error("the export is of schema version {0}; this build reads up to {SCHEMA_VERSION}")]
    TooNew(u32),
    #[error("the export is incomplete or altered: {0} (restore from a complete backup)")]
    Incomplete(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("reading: {0}")]
    Io(#[from] std::io::Error),
}

fn named(trees: &Trees) -> Vec<(&'static str, &Tree)> {
    vec![
        ("meta", &trees.meta),
        ("users", &trees.users),
        ("handles", &trees.handles),
        ("tokens", &trees.tokens),
        ("spaces", &trees.spaces),
        ("slugs", &trees.slugs),
        ("members", &trees.members),
        ("rooms", &trees.rooms),
        ("space_rooms", &trees.space_rooms),
        ("events", &trees.events),
        ("posts", &trees.posts),
        ("room_posts", &trees.room_posts),
        ("nonces", &trees.nonces),
        ("queue", &trees.queue),
        ("claims", &trees.claims),
        ("translated", &trees.translated),
        ("reads", &trees.reads),
        ("changes", &trees.changes),
        ("glossary", &trees.glossary),
        ("notifications", &trees.notifications),
        ("flags", &trees.flags),
        ("hidden", &trees.hidden),
        ("modlog", &trees.modlog),
        ("fresh_posts", &trees.fresh),
        ("fresh_queue", &trees.fresh_queue),
        ("invites", &trees.invites),
        ("watches", &trees.watches),
        ("join_requests", &trees.join_requests),
        ("files", &trees.files),
        ("file_texts", &trees.file_texts),
        ("space_files", &trees.space_files),
        ("outbox", &trees.outbox),
        ("email_tokens", &trees.email_tokens),
        ("mail_due", &trees.mail_due),
        ("translation_requests", &trees.translation_requests),
        ("title_queue", &trees.title_queue),
        ("memory", &trees.memory),
    ]
}

/// What an export holds of the accounts' secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    /// Password hashes and sign-in tokens: a backup that restores everything.
    Included,
    /// Neither: the `tokens` tree is left out and every password hash is blank (such an
    /// account signs in again after a password is set for it).
    Left,
}

/// An export's header and trees, taken at one point in time, with what its end needs:
/// the blobs its files name, then the trailer (`finish`, which may run while the store
/// goes on: blobs never change).
pub struct Snapshot {
    pub lines: Vec<u8>,
    n: u64,
    sum: Sha256,
    blobs: std::collections::BTreeSet<String>,
}

fn snapshot(trees: &Trees, secrets: Secrets) -> Result<Snapshot, StoreError> {
    let header = Header { collective_brain_export: EXPORT_VERSION, schema_version: SCHEMA_VERSION };
    let mut lines =
        serde_json::to_vec(&header).map_err(|e| StoreError::Corrupt { tree: "export", detail: e.to_string() })?;
    lines.push(b'\n');
    let mut n = 0;
    let mut sum = Sha256::new();
    let mut blobs = std::collections::BTreeSet::new();
    for (name, tree) in named(trees) {
        if secrets == Secrets::Left && name == "tokens" {
            continue;
        }
        for item in tree.iter() {
            let (k, v) = item?;
            if name == "users" {
                let rec: super::UserRecord = serde_json::from_slice(&v)
                    .map_err(|e| StoreError::Corrupt { tree: "users", detail: e.to_string() })?;
                blobs.extend(rec.avatar_blob);
            }
            if name == "files" {
                let rec: super::FileRecord = serde_json::from_slice(&v)
                    .map_err(|e| StoreError::Corrupt { tree: "files", detail: e.to_string() })?;
                blobs.insert(rec.file.sha256);
                blobs.extend(rec.thumb);
            }
            let v = if secrets == Secrets::Left && name == "users" { without_hash(&v)? } else { v.to_vec() };
            let (text, hex) = match std::str::from_utf8(&v) {
                Ok(t) => (Some(t.to_owned()), None),
                Err(_) => (None, Some(hex::encode(&v))),
            };
            let entry = Entry { tree: name.to_owned(), key: hex::encode(&k), text, hex };
            let line =
                serde_json::to_string(&entry).map_err(|e| StoreError::Corrupt { tree: name, detail: e.to_string() })?;
            lines.extend_from_slice(line.as_bytes());
            lines.push(b'\n');
            sum.update(line.as_bytes());
            sum.update(b"\n");
            n += 1;
        }
    }
    Ok(Snapshot { lines, n, sum, blobs })
}

/// Writes into `out`, and into the running checksum.
struct Summed<'a> {
    out: &'a mut dyn Write,
    sum: &'a mut Sha256,
}

impl Write for Summed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Snapshot {
    /// Writes the snapshot's lines (unless `lines_written`), then each blob from
    /// `files_dir` (streamed, never whole in memory twice), then the trailer. Returns
    /// the entries written.
    pub fn finish(mut self, files_dir: &std::path::Path, out: &mut dyn Write) -> std::io::Result<u64> {
        out.write_all(&self.lines)?;
        self.lines = Vec::new();
        for sha in std::mem::take(&mut self.blobs) {
            let path = files_dir.join(sha.get(..2).unwrap_or("none")).join(&sha);
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(blob = %sha, error = %e, "a file's blob is missing from the export");
                    continue;
                }
            };
            let mut w = Summed { out: &mut *out, sum: &mut self.sum };
            write!(w, "{{\"blob\":\"{sha}\",\"base64\":\"")?;
            {
                let mut enc = base64::write::EncoderWriter::new(&mut w, &base64::engine::general_purpose::STANDARD);
                std::io::copy(&mut file, &mut enc)?;
                enc.finish()?;
            }
            w.write_all(b"\"}\n")?;
            self.n += 1;
        }
        let trailer = Trailer { collective_brain_export_end: self.n, sha256: hex::encode(self.sum.finalize()) };
        let line = serde_json::to_string(&trailer).map_err(std::io::Error::other)?;
        writeln!(out, "{line}")?;
        out.flush()?;
        Ok(self.n)
    }
}

/// Imports an export into `data_dir`, which must not exist or be empty: the store is
/// built in a directory beside it and renamed into place only once complete and checked,
/// so a failed import leaves nothing behind.
pub async fn import_into(data_dir: &std::path::Path, input: &mut dyn BufRead) -> Result<u64, ImportError> {
    if data_dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(ImportError::NotEmpty);
    }
    let name = data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "data".into());
    let building = data_dir.with_file_name(format!(".{name}.importing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let result = async {
        let store = Store::open_for_maintenance(&building)?;
        let result = store.import(input);
        store.close().await?;
        result
    }
    .await;
    let n = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&building);
            return Err(e);
        }
    };
    if data_dir.exists() {
        std::fs::remove_dir(data_dir)?;
    }
    std::fs::rename(&building, data_dir)?;
    Ok(n)
}

/// A `users` value with its password hash and the key of its unsubscribe links blanked.
fn without_hash(v: &[u8]) -> Result<Vec<u8>, StoreError> {
    let bad = |e: serde_json::Error| StoreError::Corrupt { tree: "users", detail: e.to_string() };
    let mut rec: super::UserRecord = serde_json::from_slice(v).map_err(bad)?;
    rec.password_hash = String::new();
    rec.mail_key = None;
    serde_json::to_vec(&rec).map_err(bad)
}

impl Store {
    /// Where the server keeps uploaded files' blobs, beside the store (`files::Blobs`).
    pub fn files_dir(&self) -> std::path::PathBuf {
        self.sled_dir.parent().unwrap_or(&self.sled_dir).join("files")
    }

    /// Writes everything to `out`, the files' blobs included; returns the number of
    /// entries. Run it while nothing writes (the server stopped), or use
    /// [`Store::export_online`].
    pub fn export(&self, out: &mut dyn Write) -> Result<u64, StoreError> {
        let io = |e: std::io::Error| StoreError::Sled(sled::Error::Io(e));
        snapshot(&self.trees, Secrets::Included)?.finish(&self.files_dir(), out).map_err(io)
    }

    /// A consistent export while the server runs: its trees taken on the writer thread
    /// between two batches, so they are one point in time (writes wait meanwhile); the
    /// blobs they name and the trailer are written by [`Snapshot::finish`].
    pub async fn export_online(&self, secrets: Secrets) -> Result<Snapshot, StoreError> {
        let trees = self.trees.clone();
        self.writer.exclusive(move || snapshot(&trees, secrets)).await?
    }

    /// Loads an export into this store, which must be new (nothing but its schema
    /// version). Returns the number of entries. Reopen the store afterwards.
    pub fn import(&self, input: &mut dyn BufRead) -> Result<u64, ImportError> {
        let t = &self.trees;
        if !t.users.is_empty() || t.meta.contains_key("initialized").map_err(StoreError::from)? {
            return Err(ImportError::NotEmpty);
        }
        let mut lines = input.lines();
        let first = lines.next().ok_or(ImportError::Format { line: 1, detail: "empty input".into() })??;
        let header: Header = serde_json::from_str(&first)
            .map_err(|e| ImportError::Format { line: 1, detail: format!("header: {e}") })?;
        if !(2..=EXPORT_VERSION).contains(&header.collective_brain_export) {
            return Err(ImportError::Format {
                line: 1,
                detail: format!("not a Collective Brain export of version 2 to {EXPORT_VERSION}"),
            });
        }
        if header.schema_version > SCHEMA_VERSION {
            return Err(ImportError::TooNew(header.schema_version));
        }
        let trees = named(t);
        let mut n = 0;
        let mut sum = Sha256::new();
        let mut trailer: Option<Trailer> = None;
        for (i, line) in lines.enumerate() {
            let line = line?;
            let at = i + 2;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |detail: String| ImportError::Format { line: at, detail };
            if trailer.is_some() {
                return Err(ImportError::Incomplete(format!("line {at} follows the trailer")));
            }
            if line.starts_with(r#"{"collective_brain_export_end""#) {
                trailer = Some(serde_json::from_str(&line).map_err(|e| bad(format!("trailer: {e}")))?);
                continue;
            }
            sum.update(line.as_bytes());
            sum.update(b"\n");
            if line.starts_with(r#"{"blob""#) {
                let b: BlobEntry = serde_json::from_str(&line).map_err(|e| bad(format!("blob: {e}")))?;
                self.import_blob(&b).map_err(bad)?;
                n += 1;
                continue;
            }
            let e: Entry = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
            let tree = trees
                .iter()
                .find(|(name, _)| *name == e.tree)
                .ok_or_else(|| bad(format!("unknown tree {:?}", e.tree)))?
                .1;
            let key = hex::decode(&e.key).map_err(|e| bad(format!("key: {e}")))?;
            let value = match (e.text, e.hex) {
                (Some(text), None) => text.into_bytes(),
                (None, Some(h)) => hex::decode(h).map_err(|e| bad(format!("value: {e}")))?,
                _ => return Err(bad("an entry has either text or hex".into())),
            };
            tree.insert(key, value).map_err(StoreError::from)?;
            n += 1;
        }
        let trailer = trailer.ok_or_else(|| ImportError::Incomplete("it has no trailer: it was cut short".into()))?;
        if trailer.collective_brain_export_end != n {
            let expected = trailer.collective_brain_export_end;
            return Err(ImportError::Incomplete(format!("{n} entries where the trailer counts {expected}")));
        }
        if trailer.sha256 != hex::encode(sum.finalize()) {
            return Err(ImportError::Incomplete("its checksum does not match its entries".into()));
        }
        self.db.flush().map_err(StoreError::from)?;
        let io = |e| StoreError::Sled(sled::Error::Io(e));
        super::disk::DiskSync::open(&self.sled_dir).and_then(|mut d| d.sync()).map_err(io)?;
        // The entries went to sled directly, past the writer: copy the mirrored trees again.
        self.mirror.reload(&t.rooms, &t.spaces, &t.members)?;
        Ok(n)
    }

    /// Writes one blob of an export under `files_dir`, durably, once its bytes are
    /// checked against its name.
    fn import_blob(&self, b: &BlobEntry) -> Result<(), String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&b.base64).map_err(|e| format!("blob: {e}"))?;
        if hex::encode(Sha256::digest(&bytes)) != b.blob {
            return Err(format!("blob {} does not hold what its name says", b.blob));
        }
        let dir = self.files_dir().join(b.blob.get(..2).ok_or("blob: a short name")?);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let mut f = std::fs::File::create(dir.join(&b.blob))?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::File::open(&dir)?.sync_all()
        };
        write().map_err(|e| format!("blob {}: {e}", b.blob))
    }
}

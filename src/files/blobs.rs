//! Content-addressed blobs: each file's bytes under `data_dir/files/ab/<sha-256>`, stored
//! once however many uploads they came in. An upload is written to a temporary file while
//! it is hashed, synced, then renamed into place and the directory synced, all before
//! the upload is answered: a blob that is named anywhere is whole on disk.
//!
//! The blobs are this node's files. Several nodes sharing one community need them in a
//! shared object store behind these same calls (put, path, remove, list).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Bytes of an upload kept in memory for sniffing its type.
pub const HEAD: usize = 8 * 1024;
/// Chunks of an upload in flight between the request and the writing thread.
const CHUNKS_IN_FLIGHT: usize = 8;

/// The blob directory.
#[derive(Clone, Debug)]
pub struct Blobs {
    dir: PathBuf,
}

/// An upload received whole into a temporary file, not yet kept.
#[derive(Debug)]
pub struct Received {
    pub tmp: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// Its first bytes (up to [`HEAD`]).
    pub head: Vec<u8>,
}

/// Why an upload was not received.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the upload was cut short: {0}")]
    Body(String),
    #[error("writing the upload: {0}")]
    Io(#[from] io::Error),
}

impl Blobs {
    /// The blobs under `dir`, made if missing; temporary files a crash left are removed
    /// (nothing names them).
    pub fn open(dir: &Path) -> io::Result<Blobs> {
        fs::create_dir_all(dir.join("tmp"))?;
        for e in fs::read_dir(dir.join("tmp"))? {
            let _ = fs::remove_file(e?.path());
        }
        Ok(Blobs { dir: dir.to_owned() })
    }

    /// Where the blob of `sha256` is (whether or not it exists). A name that is not a
    /// SHA-256 in lowercase hex gets a path that exists nowhere.
    pub fn path(&self, sha256: &str) -> PathBuf {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return self.dir.join("none");
        }
        self.dir.join(&sha256[..2]).join(sha256)
    }

    pub fn exists(&self, sha256: &str) -> bool {
        self.path(sha256).is_file()
    }

    /// Streams `body` into a temporary file, hashing it on the way, and refuses it past
    /// `max` bytes. The writing happens on a blocking thread fed through a short queue, so
    /// an upload holds a few chunks in memory whatever its size.
    pub async fn receive<S, E>(&self, body: S, max: u64) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let tmp = self.dir.join("tmp").join(format!("{:016x}", rand::random::<u64>()));
        let (tx, mut rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
        let path = tmp.clone();
        let writer = tokio::task::spawn_blocking(move || -> io::Result<(String, u64, Vec<u8>)> {
            let mut file = io::BufWriter::with_capacity(256 * 1024, fs::File::create(&path)?);
            let mut hash = Sha256::new();
            let mut head = Vec::with_capacity(HEAD);
            let mut size = 0u64;
            while let Some(chunk) = rx.blocking_recv() {
                if head.len() < HEAD {
                    let take = (HEAD - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                hash.update(&chunk);
                file.write_all(&chunk)?;
                size += chunk.len() as u64;
            }
            let file = file.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok((hex::encode(hash.finalize()), size, head))
        });
        let mut body = std::pin::pin!(body);
        let mut seen = 0u64;
        let mut failed = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(c) => {
                    seen += c.len() as u64;
                    if seen > max {
                        failed = Some(ReceiveError::TooLarge(max));
                        break;
                    }
                    if tx.send(c).await.is_err() {
                        break; // the writer failed: its error is below
                    }
                }
                Err(e) => {
                    failed = Some(ReceiveError::Body(e.to_string()));
                    break;
                }
            }
        }
        drop(tx);
        let written = writer.await.map_err(|e| io::Error::other(e.to_string()));
        let result = match (failed, written) {
            (Some(e), _) => Err(e),
            (None, Err(e)) | (None, Ok(Err(e))) => Err(ReceiveError::Io(e)),
            (None, Ok(Ok((sha256, size, head)))) => return Ok(Received { tmp, sha256, size, head }),
        };
        let _ = fs::remove_file(&tmp);
        result
    }

    /// Moves a received upload into place under its hash (dropping it when the blob is
    /// there already), durably. Blocking.
    pub fn keep(&self, r: &Received) -> io::Result<()> {
        self.keep_file(&r.tmp, &r.sha256)
    }

    fn keep_file(&self, tmp: &Path, sha256: &str) -> io::Result<()> {
        let dest = self.path(sha256);
        if dest.is_file() {
            fs::remove_file(tmp)?;
            return Ok(());
        }
        let parent = dest.parent().ok_or_else(|| io::Error::other("blob path"))?;
        let new_dir = !parent.is_dir();
        fs::create_dir_all(parent)?;
        fs::rename(tmp, &dest)?;
        fs::File::open(parent)?.sync_all()?;
        if new_dir {
            fs::File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Stores `bytes` (a thumbnail, an image without its metadata) durably; returns its
    /// hash. Blocking.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        if self.exists(&sha256) {
            return Ok(sha256);
        }
        let tmp = self.dir.join("tmp").join(format!("{:016x}", rand::random::<u64>()));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        self.keep_file(&tmp, &sha256)?;
        Ok(sha256)
    }

    /// Drops a received upload that is not kept.
    pub fn discard(&self, r: &Received) {
        let _ = fs::remove_file(&r.tmp);
    }

    pub fn remove(&self, sha256: &str) -> io::Result<()> {
        fs::remove_file(self.path(sha256))
    }

    /// Every blob, with when it was written.
    pub fn list(&self) -> io::Result<Vec<(String, SystemTime)>> {
        let mut out = Vec::new();
        for dir in fs::read_dir(&self.dir)? {
            let dir = dir?;
            let name = dir.file_name();
            if name.len() != 2 || !dir.file_type()?.is_dir() {
                continue;
            }
            for e in fs::read_dir(dir.path())? {
                let e = e?;
                let modified = e.metadata()?.modified()?;
                out.push((e.file_name().to_string_lossy().into_owned(), modified));
            }
        }
        Ok(out)
    }

    /// Bytes of all blobs.
    pub fn total_bytes(&self) -> io::Result<u64> {
        let mut total = 0;
        for (sha, _) in self.list()? {
            total += fs::metadata(self.path(&sha))?.len();
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_is_kept_under_its_hash_once_and_an_oversized_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path()).unwrap();
        let chunks =
            || futures_util::stream::iter(vec![Ok::<_, io::Error>(Bytes::from("hello ")), Ok(Bytes::from("world"))]);
        let r = blobs.receive(chunks(), 100).await.unwrap();
        assert_eq!(r.size, 11);
        assert_eq!(r.sha256, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(r.head, b"hello world");
        blobs.keep(&r).unwrap();
        assert_eq!(fs::read(blobs.path(&r.sha256)).unwrap(), b"hello world");
        let again = blobs.receive(chunks(), 100).await.unwrap();
        blobs.keep(&again).unwrap();
        assert_eq!(blobs.list().unwrap().len(), 1, "stored once");
        assert!(matches!(blobs.receive(chunks(), 10).await, Err(ReceiveError::TooLarge(10))));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0, "no temporary file left");
        assert!(!blobs.path("../../etc/passwd").exists());
    }
}

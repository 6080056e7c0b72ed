//! What makes sled's flush durable.
//!
//! sled 0.34's `flush` writes its log buffer and waits for it with `sync_file_range`,
//! which starts and waits for the write-back of those pages but flushes neither the
//! disk's volatile write cache nor the file's metadata (the log file grows as sled adds
//! segments): after a power cut the data can be gone (sled issue #1452, open; the
//! `sync_file_range(2)` manual says as much). Values too large for a log segment go to
//! files under `blobs/`, which sled never syncs. So after each flush, before anything is
//! acknowledged, the writer calls [`DiskSync::sync`]: `fdatasync` on the log file, and
//! `fdatasync` on each blob file it has not synced yet, then on the directory when there
//! were new ones.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The store's files to sync after sled's flush.
pub struct DiskSync {
    log: File,
    blobs: PathBuf,
    /// Blob files already synced (sled never rewrites one; it removes them).
    synced: HashSet<OsString>,
}

impl DiskSync {
    /// For the sled database in `sled_dir` (its log is the file `db`, its large values
    /// in `blobs/`).
    pub fn open(sled_dir: &Path) -> io::Result<DiskSync> {
        // fsync needs no write access on Linux; sled keeps its own handle for writing.
        let log = File::open(sled_dir.join("db"))?;
        // The names sled created on a first open (its log, its config, `blobs/`), and its
        // own directory's name, must survive too.
        File::open(sled_dir)?.sync_all()?;
        if let Some(parent) = sled_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)?.sync_all()?;
        }
        Ok(DiskSync { log, blobs: sled_dir.join("blobs"), synced: HashSet::new() })
    }

    /// Makes what sled has flushed durable. Returns how many new blob files were synced.
    pub fn sync(&mut self) -> io::Result<usize> {
        self.log.sync_data()?;
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut present = HashSet::new();
        let mut new = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if !self.synced.contains(&name) {
                match File::open(entry.path()) {
                    Ok(f) => f.sync_data()?,
                    // Removed by sled since the listing: nothing to keep.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                new += 1;
            }
            present.insert(name);
        }
        if new > 0 {
            // The new files' names must survive too.
            File::open(&self.blobs)?.sync_all()?;
        }
        self.synced = present;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_the_log_and_each_new_blob_once() {
        let tmp = tempfile::tempdir().unwrap();
        let db = sled::open(tmp.path()).unwrap();
        let mut disk = DiskSync::open(tmp.path()).unwrap();
        db.insert("small", &b"a post"[..]).unwrap();
        db.flush().unwrap();
        assert_eq!(disk.sync().unwrap(), 0, "small values stay in the log");
        // A value over a quarter of a log segment (512 KiB) goes to a blob file.
        db.insert("large", vec![b'x'; 200 * 1024]).unwrap();
        db.flush().unwrap();
        assert_eq!(disk.sync().unwrap(), 1, "the new blob is synced");
        assert_eq!(disk.sync().unwrap(), 0, "and only once");
        let blobs = std::fs::read_dir(tmp.path().join("blobs")).unwrap().count();
        assert_eq!(blobs, 1);
    }
}

//! Scheduled online backups: every `backup_every_hours`, a whole export (password hashes
//! and sign-ins included, as `collective-brain export` writes it) into `backup_dir`,
//! written to a temporary file, synced and renamed; the newest `backup_keep` are kept.
//! Admins list them with their sizes and take one now from the browser.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::store::{Secrets, Snapshot};

const PREFIX: &str = "collective-brain-";
const SUFFIX: &str = ".ndjson";

/// One backup file.
#[derive(Clone, Debug, Serialize)]
pub struct BackupInfo {
    pub name: String,
    pub size: u64,
    pub created_at: String,
}

/// What `GET /admin/backups` answers.
#[derive(Clone, Debug, Serialize)]
pub struct Backups {
    pub dir: String,
    /// 0: no schedule (backups are taken by hand only).
    pub every_hours: u64,
    pub keep: usize,
    /// Newest first.
    pub backups: Vec<BackupInfo>,
}

/// The time in a backup's name (`collective-brain-20261205T190102Z.ndjson`), as RFC 3339.
fn time_of(name: &str) -> Option<String> {
    let t = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let d = |r: std::ops::Range<usize>| t.get(r).filter(|s| s.bytes().all(|b| b.is_ascii_digit()));
    Some(format!("{}-{}-{}T{}:{}:{}Z", d(0..4)?, d(4..6)?, d(6..8)?, d(9..11)?, d(11..13)?, d(13..15)?))
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("backup: {e}"))
}

/// Writes `bytes` as `dir/name`, durably: a temporary file, synced, renamed, the directory
/// synced. Only the server's user reads it (it holds password hashes).
fn write_durably(dir: &Path, name: &str, snapshot: Snapshot, files: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let f = options.open(&tmp)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
    snapshot.finish(files, &mut out)?;
    let f = out.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    let len = f.metadata()?.len();
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(len)
}

impl App {
    pub fn backup_dir(&self) -> PathBuf {
        self.config.backup_dir.clone().unwrap_or_else(|| self.config.data_dir.join("backups"))
    }

    /// The backups there are, newest first.
    pub fn backup_files(&self) -> ApiResult<Vec<BackupInfo>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(self.backup_dir()) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(e)),
        };
        for e in entries {
            let e = e.map_err(io)?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(created_at) = time_of(&name) {
                out.push(BackupInfo { size: e.metadata().map_err(io)?.len(), name, created_at });
            }
        }
        out.sort_by(|a, b| b.name.cmp(&a.name));
        Ok(out)
    }

    /// Takes a backup now, then keeps the newest `backup_keep`.
    pub async fn backup_now(&self) -> ApiResult<BackupInfo> {
        let snapshot = self.store.export_online(Secrets::Included).await?;
        let now = self.config.clock.now_rfc3339();
        let stamp: String = now.chars().filter(|c| c.is_ascii_digit()).take(14).collect();
        let name = format!("{PREFIX}{}T{}Z{SUFFIX}", &stamp[..8.min(stamp.len())], stamp.get(8..).unwrap_or(""));
        let dir = self.backup_dir();
        let (d, n, files) = (dir.clone(), name.clone(), self.store.files_dir());
        let len = tokio::task::spawn_blocking(move || write_durably(&d, &n, snapshot, &files))
            .await
            .map_err(ApiError::internal)?
            .map_err(io)?;
        for old in self.backup_files()?.into_iter().skip(self.config.backup_keep.max(1)) {
            if let Err(e) = std::fs::remove_file(dir.join(&old.name)) {
                tracing::warn!(file = %old.name, error = %e, "removing an old backup");
            }
        }
        tracing::info!(file = %name, bytes = len, "backup taken");
        Ok(BackupInfo { created_at: time_of(&name).unwrap_or(now), name, size: len })
    }

    /// Whether a scheduled backup is due: none yet, or the newest older than the period.
    pub fn backup_due(&self) -> ApiResult<bool> {
        if self.config.backup_every_hours == 0 {
            return Ok(false);
        }
        let newest = self.backup_files()?.first().and_then(|b| crate::clock::parse_ms(&b.created_at));
        let period = i64::try_from(self.config.backup_every_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
        Ok(newest.is_none_or(|t| self.config.clock.now_ms().saturating_sub(t) >= period))
    }

    /// `GET /admin/backups` (admins).
    pub fn backups(&self, viewer: Viewer) -> ApiResult<Backups> {
        check_admin(viewer)?;
        Ok(Backups {
            dir: self.backup_dir().display().to_string(),
            every_hours: self.config.backup_every_hours,
            keep: self.config.backup_keep,
            backups: self.backup_files()?,
        })
    }

    /// `POST /admin/backups` (admins): one now.
    pub async fn backup_by(&self, viewer: Viewer<'_>) -> ApiResult<BackupInfo> {
        let admin = check_admin(viewer)?;
        self.limiter.write(admin.id)?;
        self.backup_now().await
    }
}

fn check_admin(viewer: Viewer<'_>) -> ApiResult<&crate::model::User> {
    let u = signed_in(viewer)?;
    if !u.is_admin() {
        return Err(ApiError::forbidden("only admins manage backups"));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_backups_name_gives_its_time() {
        assert_eq!(super::time_of("collective-brain-20261205T190102Z.ndjson").as_deref(), Some("2026-12-05T19:01:02Z"));
        assert_eq!(super::time_of("collective-brain-2026.ndjson"), None);
        assert_eq!(super::time_of(".collective-brain-20261205T190102Z.ndjson.tmp"), None);
    }
}

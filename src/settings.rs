//! Settings as an operator gives them: a TOML file (`--config`), environment variables
//! and flags, each layer overriding the one before, on top of [`Config::default`]. The
//! documented example is `collective-brain.example.toml`, kept in sync by a test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::limits::Limits;
use crate::net::NetLimits;

/// Every setting, each optional: what is not given keeps its default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub languages: Option<Vec<String>>,
    pub max_frame_bytes: Option<usize>,
    pub max_post_bytes: Option<usize>,
    pub max_http_body_bytes: Option<usize>,
    pub room_buffer: Option<usize>,
    pub connection_queue: Option<usize>,
    pub max_subscriptions: Option<usize>,
    pub max_inflight_per_connection: Option<usize>,
    pub max_commit_batch: Option<usize>,
    pub cache_mb: Option<u64>,
    pub claim_lease_secs: Option<u64>,
    pub index_commit_ms: Option<u64>,
    pub index_idle: Option<bool>,
    pub web_dir: Option<PathBuf>,
    pub dictionaries: Option<PathBuf>,
    pub rate_limits: Option<bool>,
    pub max_connections: Option<usize>,
    pub max_connections_per_address: Option<usize>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    pub disk_reserve_mb: Option<u64>,
    pub token_idle_days: Option<u64>,
}

impl Settings {
    /// Parses a TOML file's text; unknown keys are an error, so typos do not pass silently.
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    pub fn load(path: &Path) -> Result<Settings, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Every setting at its default.
    pub fn defaults() -> Settings {
        let c = Config::default();
        Settings {
            data_dir: Some(c.data_dir),
            listen: Some(c.listen),
            languages: Some(c.languages),
            max_frame_bytes: Some(c.max_frame_bytes),
            max_post_bytes: Some(c.max_post_bytes),
            max_http_body_bytes: Some(c.max_http_body_bytes),
            room_buffer: Some(c.room_buffer),
            connection_queue: Some(c.connection_queue),
            max_subscriptions: Some(c.max_subscriptions),
            max_inflight_per_connection: Some(c.max_inflight_per_connection),
            max_commit_batch: Some(c.max_commit_batch),
            cache_mb: Some(c.cache_bytes / (1024 * 1024)),
            claim_lease_secs: Some(c.claim_lease.as_secs()),
            index_commit_ms: Some(u64::try_from(c.index_commit.as_millis()).unwrap_or(u64::MAX)),
            index_idle: Some(c.index_idle),
            web_dir: c.web_dir.clone(),
            dictionaries: Some(c.dictionaries.clone()),
            rate_limits: Some(true),
            max_connections: Some(c.net.max_connections),
            max_connections_per_address: Some(c.net.max_per_address),
            trusted_proxies: Some(c.net.trusted_proxies.clone()),
            disk_reserve_mb: Some(c.disk_reserve_bytes / (1024 * 1024)),
            token_idle_days: Some(c.token_idle.as_secs() / 86_400),
        }
    }

    /// `over`'s settings where it has them, ours elsewhere.
    pub fn overlay(self, over: Settings) -> Settings {
        Settings {
            data_dir: over.data_dir.or(self.data_dir),
            listen: over.listen.or(self.listen),
            languages: over.languages.or(self.languages),
            max_frame_bytes: over.max_frame_bytes.or(self.max_frame_bytes),
            max_post_bytes: over.max_post_bytes.or(self.max_post_bytes),
            max_http_body_bytes: over.max_http_body_bytes.or(self.max_http_body_bytes),
            room_buffer: over.room_buffer.or(self.room_buffer),
            connection_queue: over.connection_queue.or(self.connection_queue),
            max_subscriptions: over.max_subscriptions.or(self.max_subscriptions),
            max_inflight_per_connection: over.max_inflight_per_connection.or(self.max_inflight_per_connection),
            max_commit_batch: over.max_commit_batch.or(self.max_commit_batch),
            cache_mb: over.cache_mb.or(self.cache_mb),
            claim_lease_secs: over.claim_lease_secs.or(self.claim_lease_secs),
            index_commit_ms: over.index_commit_ms.or(self.index_commit_ms),
            index_idle: over.index_idle.or(self.index_idle),
            web_dir: over.web_dir.or(self.web_dir),
            dictionaries: over.dictionaries.or(self.dictionaries),
            rate_limits: over.rate_limits.or(self.rate_limits),
            max_connections: over.max_connections.or(self.max_connections),
            max_connections_per_address: over.max_connections_per_address.or(self.max_connections_per_address),
            trusted_proxies: over.trusted_proxies.or(self.trusted_proxies),
            disk_reserve_mb: over.disk_reserve_mb.or(self.disk_reserve_mb),
            token_idle_days: over.token_idle_days.or(self.token_idle_days),
        }
    }

    /// The configuration these settings describe, checked.
    pub fn into_config(self) -> Result<Config, String> {
        let d = Config::default();
        let max_frame_bytes = self.max_frame_bytes.unwrap_or(d.max_frame_bytes);
        let config = Config {
            data_dir: self.data_dir.unwrap_or(d.data_dir),
            listen: self.listen.unwrap_or(d.listen),
            languages: self.languages.unwrap_or(d.languages),
            max_frame_bytes,
            // By default a post may fill half a frame.
            max_post_bytes: self.max_post_bytes.unwrap_or_else(|| (max_frame_bytes / 2).max(1024)),
            max_http_body_bytes: self.max_http_body_bytes.unwrap_or(d.max_http_body_bytes),
            room_buffer: self.room_buffer.unwrap_or(d.room_buffer),
            connection_queue: self.connection_queue.unwrap_or(d.connection_queue),
            max_subscriptions: self.max_subscriptions.unwrap_or(d.max_subscriptions),
            max_inflight_per_connection: self.max_inflight_per_connection.unwrap_or(d.max_inflight_per_connection),
            max_commit_batch: self.max_commit_batch.unwrap_or(d.max_commit_batch),
            cache_bytes: self.cache_mb.map_or(d.cache_bytes, |mb| mb * 1024 * 1024),
            claim_lease: self.claim_lease_secs.map_or(d.claim_lease, Duration::from_secs),
            index_commit: self.index_commit_ms.map_or(d.index_commit, Duration::from_millis),
            index_idle: self.index_idle.unwrap_or(d.index_idle),
            web_dir: self.web_dir.or(d.web_dir),
            dictionaries: self.dictionaries.unwrap_or(d.dictionaries),
            limits: if self.rate_limits.unwrap_or(true) { Limits::default() } else { Limits::off() },
            net: NetLimits {
                max_connections: self.max_connections.unwrap_or(d.net.max_connections),
                max_per_address: self.max_connections_per_address.unwrap_or(d.net.max_per_address),
                trusted_proxies: self.trusted_proxies.unwrap_or_else(|| d.net.trusted_proxies.clone()),
                ..d.net.clone()
            },
            disk_reserve_bytes: self.disk_reserve_mb.map_or(d.disk_reserve_bytes, |mb| mb * 1024 * 1024),
            token_idle: self.token_idle_days.map_or(d.token_idle, |days| Duration::from_secs(days * 86_400)),
            ..d
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../collective-brain.example.toml");

    #[test]
    fn the_example_file_lists_every_setting_at_its_default() {
        let example = Settings::from_toml(EXAMPLE).expect("the example parses");
        assert_eq!(example, Settings::defaults(), "collective-brain.example.toml is out of sync with the defaults");
        let config = example.into_config().expect("valid");
        assert_eq!(config.max_post_bytes, Config::default().max_post_bytes);
    }

    #[test]
    fn layers_override_and_typos_are_refused() {
        let file = Settings::from_toml("room_buffer = 64\nrate_limits = false\n").unwrap();
        let flags = Settings { room_buffer: Some(128), ..Settings::default() };
        let c = file.overlay(flags).into_config().unwrap();
        assert_eq!(c.room_buffer, 128);
        assert_eq!(c.limits.writes, Limits::off().writes);
        assert!(Settings::from_toml("room_bufer = 64").unwrap_err().contains("room_bufer"));
        assert!(Settings::from_toml("room_buffer = \"big\"").is_err());
        assert!(Settings { languages: Some(vec!["xx".into()]), ..Settings::default() }.into_config().is_err());
    }
}

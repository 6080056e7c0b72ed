//! Settings as an operator gives them: a TOML file (`--config`), environment variables
//! and flags, each layer overriding the one before, on top of [`Config::default`]. Each
//! setting is declared once, here: its file key (serde), its flag and `CB_*` variable
//! (clap) and its help text. The documented example is `collective-brain.example.toml`,
//! kept in sync by a test. To add a setting: a field here, its default in `defaults`,
//! its use in `into_config` (and `Config`), and its line in the example file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::BoolishValueParser;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::limits::Limits;
use crate::model::Lang;
use crate::net::NetLimits;

/// Every setting, each optional: what is not given keeps its default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the store and the index live [default: ./data].
    #[arg(long, env = "CB_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long, env = "CB_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// The community's name, as the web client shows it [default: Collective Brain].
    #[arg(long, env = "CB_NAME")]
    pub name: Option<String>,
    /// The community's languages, comma-separated ISO 639-1 codes, most used first
    /// [default: en,fr,es,pt].
    #[arg(long, env = "CB_LANGUAGES", value_delimiter = ',')]
    pub languages: Option<Vec<Lang>>,
    /// Largest WebSocket message in bytes; larger closes the socket with 1009 [default: 65536].
    #[arg(long, env = "CB_MAX_FRAME_BYTES")]
    pub max_frame_bytes: Option<usize>,
    /// Largest post body in bytes of UTF-8 [default: half of max_frame_bytes].
    #[arg(long, env = "CB_MAX_POST_BYTES")]
    pub max_post_bytes: Option<usize>,
    /// Largest HTTP request body in bytes; larger gets 413 [default: 65536].
    #[arg(long, env = "CB_MAX_HTTP_BODY_BYTES")]
    pub max_http_body_bytes: Option<usize>,
    /// Largest uploaded file in bytes [default: 26214400].
    #[arg(long, env = "CB_MAX_FILE_BYTES")]
    pub max_file_bytes: Option<u64>,
    /// Events buffered per room; a subscriber further behind gets `lagged` [default: 1024].
    #[arg(long, env = "CB_ROOM_BUFFER")]
    pub room_buffer: Option<usize>,
    /// Frames queued per connection before its subscriptions stop reading [default: 512].
    #[arg(long, env = "CB_CONNECTION_QUEUE")]
    pub connection_queue: Option<usize>,
    /// Subscriptions one connection may hold at once [default: 256].
    #[arg(long, env = "CB_MAX_SUBSCRIPTIONS")]
    pub max_subscriptions: Option<usize>,
    /// Writes one connection may have awaiting their ack [default: 32].
    #[arg(long, env = "CB_MAX_INFLIGHT_PER_CONNECTION")]
    pub max_inflight_per_connection: Option<usize>,
    /// Most writes committed with one flush [default: 1024].
    #[arg(long, env = "CB_MAX_COMMIT_BATCH")]
    pub max_commit_batch: Option<usize>,
    /// sled's page cache in MiB [default: 256].
    #[arg(long, env = "CB_CACHE_MB")]
    pub cache_mb: Option<u64>,
    /// How long a translator's claim on a post holds, in seconds [default: 1200].
    #[arg(long, env = "CB_CLAIM_LEASE_SECS")]
    pub claim_lease_secs: Option<u64>,
    /// How often the search index commits while posts keep coming, in milliseconds
    /// (500 at least after a commit of 500 posts or more) [default: 200].
    #[arg(long, env = "CB_INDEX_COMMIT_MS")]
    pub index_commit_ms: Option<u64>,
    /// Write the search index at idle priority on Linux (on or off) [default: off].
    #[arg(long, env = "CB_INDEX_IDLE", value_parser = BoolishValueParser::new())]
    pub index_idle: Option<bool>,
    /// Serve the web client from this directory (e.g. ./web) instead of the embedded copy.
    #[arg(long, env = "CB_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Hunspell dictionaries for language tagging [default: /usr/share/hunspell].
    #[arg(long, env = "CB_DICTIONARIES")]
    pub dictionaries: Option<PathBuf>,
    /// Rate limits on registration, sign-in, writes and typing (on or off) [default: on].
    #[arg(long, env = "CB_RATE_LIMITS", value_parser = BoolishValueParser::new())]
    pub rate_limits: Option<bool>,
    /// Connections open at once, HTTP and WebSocket [default: 10000].
    #[arg(long, env = "CB_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Connections open at once from one address [default: 200].
    #[arg(long, env = "CB_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// Reverse proxies whose X-Forwarded-For names the client, comma-separated
    /// addresses [default: none].
    #[arg(long, env = "CB_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    /// Free disk space kept for the data dir, in MiB: below it writes are refused
    /// [default: 256].
    #[arg(long, env = "CB_DISK_RESERVE_MB")]
    pub disk_reserve_mb: Option<u64>,
    /// Days a sign-in may go unused before it expires [default: 30].
    #[arg(long, env = "CB_TOKEN_IDLE_DAYS")]
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
            name: Some(c.name),
            languages: Some(c.languages),
            max_frame_bytes: Some(c.max_frame_bytes),
            max_post_bytes: Some(c.max_post_bytes),
            max_http_body_bytes: Some(c.max_http_body_bytes),
            max_file_bytes: Some(c.max_file_bytes),
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
    pub fn overlay(self, over: Settings) -> Result<Settings, String> {
        let as_map = |s: &Settings| match serde_json::to_value(s) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            other => Err(format!("settings: {other:?}")),
        };
        let mut merged = as_map(&self)?;
        for (key, value) in as_map(&over)? {
            if !value.is_null() {
                merged.insert(key, value);
            }
        }
        serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| e.to_string())
    }

    /// The configuration these settings describe, checked.
    pub fn into_config(self) -> Result<Config, String> {
        let d = Config::default();
        let max_frame_bytes = self.max_frame_bytes.unwrap_or(d.max_frame_bytes);
        let config = Config {
            data_dir: self.data_dir.unwrap_or(d.data_dir),
            listen: self.listen.unwrap_or(d.listen),
            name: self.name.unwrap_or(d.name),
            languages: self.languages.unwrap_or(d.languages),
            max_frame_bytes,
            // By default a post may fill half a frame.
            max_post_bytes: self.max_post_bytes.unwrap_or_else(|| (max_frame_bytes / 2).max(1024)),
            max_http_body_bytes: self.max_http_body_bytes.unwrap_or(d.max_http_body_bytes),
            max_file_bytes: self.max_file_bytes.unwrap_or(d.max_file_bytes),
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
        let c = file.overlay(flags).unwrap().into_config().unwrap();
        assert_eq!(c.room_buffer, 128);
        assert_eq!(c.limits.writes, Limits::off().writes);
        assert!(Settings::from_toml("room_bufer = 64").unwrap_err().contains("room_bufer"));
        assert!(Settings::from_toml("room_buffer = \"big\"").is_err());
        assert!(Settings::from_toml("languages = [\"xx\"]").unwrap_err().contains("ISO 639-1"));
        assert!(Settings { languages: Some(vec![]), ..Settings::default() }.into_config().is_err());
    }

    #[test]
    fn every_setting_has_a_flag_and_an_environment_variable() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            settings: Settings,
        }
        let cmd = Cli::command();
        let keys = match serde_json::to_value(Settings::defaults()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        for key in keys {
            let arg = cmd.get_arguments().find(|a| a.get_id() == key.as_str());
            let arg = arg.unwrap_or_else(|| panic!("setting {key} has no flag"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(env, Some(format!("CB_{}", key.to_uppercase())), "setting {key}");
            assert!(arg.get_help().is_some(), "setting {key} has no help");
        }
        let parsed = Cli::try_parse_from(["cb", "--rate-limits", "off", "--languages", "fr,pt", "--name", "Cérebro"])
            .expect("parses");
        assert_eq!(parsed.settings.rate_limits, Some(false));
        assert_eq!(parsed.settings.languages, Some(["fr", "pt"].iter().filter_map(|l| Lang::parse(l)).collect()));
        assert!(Cli::try_parse_from(["cb", "--languages", "fr,portugues"]).is_err());
        assert_eq!(parsed.settings.name.as_deref(), Some("Cérebro"));
    }
}

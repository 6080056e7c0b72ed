//! Server configuration: one struct, documented fields, defaults. The command line and
//! the `CB_*` environment variables (see `main.rs`) fill it in.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::clock::Clock;
use crate::limits::Limits;
use crate::model::Lang;
use crate::net::NetLimits;

/// Everything the server can be told.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where sled (and later the search index) keep their files. Default `./data`.
    pub data_dir: PathBuf,
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// The community's name, as clients show it. Default `Collective Brain`.
    pub name: String,
    /// The community's languages (ISO 639-1), most used first: language tagging chooses
    /// among them. Default `en, fr, es, pt`.
    pub languages: Vec<Lang>,
    /// Password of the `admin` account created on first start; when `None` one is
    /// generated and written to `DATA_DIR/admin-password.txt` (mode 0600), never logged.
    pub admin_password: Option<String>,
    /// A bearer token that opens `/metrics` to a scraper (besides admins' own tokens).
    /// Environment only (`CB_METRICS_TOKEN`); `None` leaves `/metrics` to admins.
    pub metrics_token: Option<String>,
    /// Largest WebSocket message accepted; a larger one closes the socket with 1009.
    /// Default 64 KiB.
    pub max_frame_bytes: usize,
    /// Largest HTTP request body; larger gets 413 `too_large`. Default 64 KiB.
    pub max_http_body_bytes: usize,
    /// Largest uploaded file, in bytes (`GET /config` tells clients). Default 25 MiB.
    pub max_file_bytes: u64,
    /// Largest post body, in bytes of UTF-8. Default 32 KiB.
    pub max_post_bytes: usize,
    /// Events buffered per room for subscribers; a subscriber further behind than this
    /// gets `lagged`. Default 1024.
    pub room_buffer: usize,
    /// Frames queued for one connection's socket before its subscriptions stop reading
    /// (and so, past `room_buffer`, lag). Default 512.
    pub connection_queue: usize,
    /// Rooms one connection may subscribe to at once. Default 256.
    pub max_subscriptions: usize,
    /// Writes in flight for one connection (posts awaiting their ack). Default 32.
    pub max_inflight_per_connection: usize,
    /// Most writes the store commits with one flush (group commit). Default 1024.
    pub max_commit_batch: usize,
    /// sled's page cache, in bytes. Default 256 MiB.
    pub cache_bytes: u64,
    /// How long a translator's claim on a post holds. Default 20 minutes.
    pub claim_lease: Duration,
    /// How often the search index commits while posts keep coming: the most a post
    /// waits, after its ack, to be searchable (plus the commit itself). Default 200 ms.
    /// After a commit of 500 posts or more, the next waits 500 ms at least (`search`).
    pub index_commit: Duration,
    /// Write the search index at Linux's idle priority (`SCHED_IDLE`), so that acks and
    /// deliveries go first when the CPU is saturated. Default off: measured faster under
    /// load, but see docs/ARCHITECTURE.md for what it cost in memory on a saturated machine.
    pub index_idle: bool,
    /// Serve the web client from this directory instead of the embedded copy (while
    /// developing it). Default: none.
    pub web_dir: Option<PathBuf>,
    /// Hunspell dictionaries for language tagging (`crate::lexicon`): a language
    /// without its files here is tagged without one. Default `/usr/share/hunspell`.
    pub dictionaries: PathBuf,
    /// The clock (tests advance it instead of sleeping).
    pub clock: Clock,
    /// Rate limits on registration, sign-in, writes and typing.
    pub limits: Limits,
    /// Caps and timeouts on connections, and the trusted reverse proxies.
    pub net: NetLimits,
    /// A token unused for this long signs in no more. Default 30 days.
    pub token_idle: Duration,
    /// Free disk space kept on the data dir's file system: below it, writes are refused
    /// with `insufficient_storage` (reads go on) until space is freed. Default 256 MiB.
    pub disk_reserve_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            name: "Collective Brain".into(),
            languages: Lang::many(&["en", "fr", "es", "pt"]),
            admin_password: None,
            metrics_token: None,
            max_frame_bytes: 64 * 1024,
            max_http_body_bytes: 64 * 1024,
            max_file_bytes: 25 * 1024 * 1024,
            max_post_bytes: 32 * 1024,
            room_buffer: 1024,
            connection_queue: 512,
            max_subscriptions: 256,
            max_inflight_per_connection: 32,
            max_commit_batch: 1024,
            cache_bytes: 256 * 1024 * 1024,
            claim_lease: Duration::from_secs(20 * 60),
            index_commit: Duration::from_millis(200),
            index_idle: false,
            web_dir: None,
            dictionaries: PathBuf::from(crate::lexicon::DEFAULT_DIR),
            clock: Clock::default(),
            limits: Limits::default(),
            net: NetLimits::default(),
            disk_reserve_bytes: 256 * 1024 * 1024,
            token_idle: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl Config {
    /// A default configuration on the given data dir.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config { data_dir: data_dir.into(), ..Config::default() }
    }

    /// Checks what cannot be expressed in the types.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            return Err("name: 1 to 80 characters".into());
        }
        if self.languages.is_empty() {
            return Err("languages: at least one community language is needed".into());
        }
        if self.max_post_bytes + 1024 > self.max_frame_bytes {
            return Err("max_post_bytes must leave room for the frame around it (1 KiB under max_frame_bytes)".into());
        }
        for (name, v) in [
            ("room_buffer", self.room_buffer),
            ("connection_queue", self.connection_queue),
            ("max_subscriptions", self.max_subscriptions),
            ("max_inflight_per_connection", self.max_inflight_per_connection),
            ("max_commit_batch", self.max_commit_batch),
            ("max_connections", self.net.max_connections),
            ("max_connections_per_address", self.net.max_per_address),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.net.reserve >= self.net.max_connections {
            return Err("max_connections must be larger than the reserve kept for HTTP (64)".into());
        }
        Ok(())
    }
}

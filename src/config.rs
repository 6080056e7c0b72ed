//! Server configuration: one struct. Each setting is declared once, here: its file key
//! (serde, the field's name), its flag and `CB_*` variable, its help text and its default
//! (clap). Layers override each other in this order: defaults, the TOML file
//! (`--config`), environment variables, flags ([`Config::layered`]). The documented
//! example is `collective-brain.example.toml`, kept in sync by a test.
//!
//! To add a setting: a field here with its `#[arg]`, and its line in the example file.
//! Fields marked `skip` are not settings: what the process decides (the clock, secrets
//! read from the environment alone, rate-limit tables tests replace).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, FromArgMatches};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::limits::Limits;
use crate::model::Lang;
use crate::net::NetLimits;

const MIB: u64 = 1024 * 1024;

/// Everything the server can be told.
#[derive(Clone, Debug, Serialize, Deserialize, Args)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the store and the search index live.
    #[arg(long, env = "CB_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "CB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The community's name, as the web client shows it (1 to 80 characters).
    #[arg(long, env = "CB_NAME", default_value = "Collective Brain")]
    pub name: String,
    /// The community's languages, comma-separated ISO 639-1 codes, most used first:
    /// every post is tagged with one (or one of `tag_languages`) and needs a translation
    /// into the others.
    #[arg(long, env = "CB_LANGUAGES", value_delimiter = ',', default_values_t = Lang::many(&["en", "fr", "es", "pt"]))]
    pub languages: Vec<Lang>,
    /// Languages besides the community's that posts are tagged with, comma-separated:
    /// those their script settles (ar, ko) and those the tagger has models of (it, de).
    /// A post in one waits for translation into each community language, for
    /// translators whose pairs start from it.
    #[arg(long, env = "CB_TAG_LANGUAGES", value_delimiter = ',', default_values_t = Lang::many(&crate::lang::DEFAULT_ALSO))]
    pub tag_languages: Vec<Lang>,
    /// A chat post of fewer words than this waits for translation only once a reader
    /// asks for it ("Translate this"); forum posts always wait.
    #[arg(long, env = "CB_QUEUE_CHAT_MIN_WORDS", default_value_t = 20)]
    pub queue_chat_min_words: usize,
    /// Largest WebSocket message in bytes; larger closes the socket with 1009.
    #[arg(long, env = "CB_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,
    /// Largest post body in bytes of UTF-8 (at most max_frame_bytes - 1024).
    #[arg(long, env = "CB_MAX_POST_BYTES", default_value_t = 32 * 1024)]
    pub max_post_bytes: usize,
    /// Largest HTTP request body in bytes; larger gets 413 `too_large`.
    #[arg(long, env = "CB_MAX_HTTP_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_http_body_bytes: usize,
    /// Largest uploaded file in bytes (`GET /config` tells clients).
    #[arg(long, env = "CB_MAX_FILE_BYTES", default_value_t = 25 * MIB)]
    pub max_file_bytes: u64,
    /// The SMTP server that sends email: `smtp://host:port`,
    /// `smtps://user:password@host:port`, or `smtp://...?tls=starttls`. None: no email.
    #[arg(long, env = "CB_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of every email.
    #[arg(long, env = "CB_MAIL_FROM", default_value = "Collective Brain <noreply@localhost>")]
    pub mail_from: String,
    /// Seconds a mention, a reply or a direct message waits unseen, while its reader has
    /// no open socket, before it is emailed.
    #[arg(long, env = "CB_EMAIL_DELAY_SECS", default_value_t = 600)]
    pub email_delay_secs: u64,
    /// Most mails the outbox holds: past it, the oldest digests, then the oldest notices
    /// are dropped (never account mail).
    #[arg(long, env = "CB_OUTBOX_MAX", default_value_t = 20_000)]
    pub outbox_max: usize,
    /// Each member's storage for uploaded files, in MiB.
    #[arg(long, env = "CB_FILE_QUOTA_MB", default_value_t = 1024)]
    pub file_quota_mb: u64,
    /// Images of more pixels than this get no thumbnail (they are not decoded): a guard
    /// against decompression bombs.
    #[arg(long, env = "CB_MAX_IMAGE_PIXELS", default_value_t = 50_000_000)]
    pub max_image_pixels: u64,
    /// Memory of the process that reads one document's text, in MiB: a document that
    /// needs more gives no text.
    #[arg(long, env = "CB_EXTRACT_MEMORY_MB", default_value_t = 512)]
    pub extract_memory_mb: u64,
    /// Seconds the process that reads one document's text may take.
    #[arg(long, env = "CB_EXTRACT_TIMEOUT_SECS", default_value_t = 30)]
    pub extract_timeout_secs: u64,
    /// Events buffered per room; a subscriber further behind gets `lagged`.
    #[arg(long, env = "CB_ROOM_BUFFER", default_value_t = 1024)]
    pub room_buffer: usize,
    /// Frames queued for one connection's socket before its subscriptions stop reading
    /// (and so, past room_buffer, lag).
    #[arg(long, env = "CB_CONNECTION_QUEUE", default_value_t = 512)]
    pub connection_queue: usize,
    /// Subscriptions one connection may hold at once.
    #[arg(long, env = "CB_MAX_SUBSCRIPTIONS", default_value_t = 256)]
    pub max_subscriptions: usize,
    /// Writes one connection may have awaiting their ack.
    #[arg(long, env = "CB_MAX_INFLIGHT_PER_CONNECTION", default_value_t = 32)]
    pub max_inflight_per_connection: usize,
    /// Most writes committed with one flush (group commit).
    #[arg(long, env = "CB_MAX_COMMIT_BATCH", default_value_t = 1024)]
    pub max_commit_batch: usize,
    /// sled's page cache in MiB.
    #[arg(long, env = "CB_CACHE_MB", default_value_t = 256)]
    pub cache_mb: u64,
    /// How long a translator's claim on a post holds, in seconds.
    #[arg(long, env = "CB_CLAIM_LEASE_SECS", default_value_t = 20 * 60)]
    pub claim_lease_secs: u64,
    /// How often the search index commits while posts keep coming, in milliseconds: the
    /// most a post waits, after its ack, to be searchable (500 at least after a commit
    /// of 500 posts or more).
    #[arg(long, env = "CB_INDEX_COMMIT_MS", default_value_t = 200)]
    pub index_commit_ms: u64,
    /// Write the search index at Linux's idle priority (on or off): acks and deliveries
    /// go first on a saturated CPU (docs/ARCHITECTURE.md says what it can cost).
    #[arg(long, env = "CB_INDEX_IDLE", action = ArgAction::Set, value_parser = BoolishValueParser::new(), default_value_t = false)]
    pub index_idle: bool,
    /// Serve the web client from this directory (e.g. ./web) instead of the embedded copy.
    #[arg(long, env = "CB_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Hunspell dictionaries for language tagging: a language without its files here
    /// is tagged without one.
    #[arg(long, env = "CB_DICTIONARIES", default_value = crate::lexicon::DEFAULT_DIR)]
    pub dictionaries: PathBuf,
    /// Rate limits on registration, sign-in, writes and typing (on or off; off for load
    /// tests only).
    #[arg(long, env = "CB_RATE_LIMITS", action = ArgAction::Set, value_parser = BoolishValueParser::new(), default_value_t = true)]
    pub rate_limits: bool,
    /// Connections open at once, HTTP and WebSocket (the server raises its open-file
    /// limit to fit).
    #[arg(long, env = "CB_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Connections open at once from one address (trusted proxies excepted).
    #[arg(long, env = "CB_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 200)]
    pub max_connections_per_address: usize,
    /// Connections kept for HTTP (health checks, sign-in) when WebSockets take the rest.
    #[arg(long, env = "CB_HTTP_RESERVE", default_value_t = 64)]
    pub http_reserve: usize,
    /// Seconds to send a request's headers; also the most an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "CB_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a new WebSocket has to say `hello`.
    #[arg(long, env = "CB_HELLO_TIMEOUT_SECS", default_value_t = 10)]
    pub hello_timeout_secs: u64,
    /// A WebSocket from which nothing (not even a pong) came for this many seconds is
    /// closed; the server pings it at a third of it.
    #[arg(long, env = "CB_IDLE_TIMEOUT_SECS", default_value_t = 90)]
    pub idle_timeout_secs: u64,
    /// Reverse proxies whose X-Forwarded-For names the client, comma-separated addresses.
    #[arg(long, env = "CB_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// Free disk space kept for the data dir, in MiB: below it, writes are refused with
    /// `insufficient_storage` (reads go on) until space is freed.
    #[arg(long, env = "CB_DISK_RESERVE_MB", default_value_t = 256)]
    pub disk_reserve_mb: u64,
    /// Days a sign-in may go unused before it expires.
    #[arg(long, env = "CB_TOKEN_IDLE_DAYS", default_value_t = 30)]
    pub token_idle_days: u64,
    /// Where scheduled backups go [default: DATA_DIR/backups]; better on another disk.
    #[arg(long, env = "CB_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Hours between scheduled backups (whole online exports); 0: none, only by hand.
    #[arg(long, env = "CB_BACKUP_EVERY_HOURS", default_value_t = 24)]
    pub backup_every_hours: u64,
    /// Scheduled backups kept (the newest).
    #[arg(long, env = "CB_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    /// Where members reach the server (https://brain.example.org): invitation links and
    /// emailed links point there. Unset: links are relative to the page they are shown on.
    #[arg(long, env = "CB_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Password of the `admin` account created on first start, from `CB_ADMIN_PASSWORD`
    /// only; when `None` one is generated and written to `DATA_DIR/admin-password.txt`
    /// (mode 0600), never logged.
    #[arg(skip)]
    #[serde(skip)]
    pub admin_password: Option<String>,
    /// A bearer token that opens `/metrics` to a scraper (besides admins' own tokens),
    /// from `CB_METRICS_TOKEN` only; `None` leaves `/metrics` to admins.
    #[arg(skip)]
    #[serde(skip)]
    pub metrics_token: Option<String>,
    /// The clock (tests advance it instead of sleeping).
    #[arg(skip)]
    #[serde(skip)]
    pub clock: Clock,
    /// The rate limits' tables, when `rate_limits` is on.
    #[arg(skip)]
    #[serde(skip)]
    pub limits: Limits,
    /// The `collective-brain` program run (as `collective-brain extract`) to read each
    /// document's text; `None`: this process's own program.
    #[arg(skip)]
    #[serde(skip)]
    pub extractor: Option<PathBuf>,
}

impl Default for Config {
    /// Every setting at the default its `#[arg]` declares.
    fn default() -> Self {
        // The declared defaults alone: no environment variable is read here.
        let cmd = Config::augment_args(clap::Command::new("defaults")).mut_args(|a| a.env(None));
        match cmd.try_get_matches_from(["defaults"]).and_then(|m| Config::from_arg_matches(&m)) {
            Ok(c) => c,
            // A default that does not parse is a bug of this file, caught by its tests.
            Err(e) => unreachable!("the declared defaults parse: {e}"),
        }
    }
}

impl Config {
    /// A default configuration on the given data dir.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config { data_dir: data_dir.into(), ..Config::default() }
    }

    /// Parses a TOML file's text; unknown keys are an error, so typos do not pass silently.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The settings file at `file` (defaults without one), then what the environment and
    /// the command line of `matches` give, checked.
    pub fn layered(file: Option<&Path>, matches: &ArgMatches) -> Result<Config, String> {
        let given = Config::from_arg_matches(matches).map_err(|e| e.to_string())?;
        let config = match file {
            None => given,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let from_file = Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut merged = as_map(&from_file)?;
                for (key, value) in as_map(&given)? {
                    let source = matches.try_get_raw(&key).ok().and_then(|_| matches.value_source(&key));
                    if matches!(source, Some(ValueSource::EnvVariable | ValueSource::CommandLine)) {
                        merged.insert(key, value);
                    }
                }
                serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| e.to_string())?
            }
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks what cannot be expressed in the types.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            return Err("name: 1 to 80 characters".into());
        }
        if self.languages.is_empty() {
            return Err("languages: at least one community language is needed".into());
        }
        if let Some(l) =
            self.tag_languages.iter().find(|l| !crate::lang::taggable(l.as_str()) && !self.languages.contains(l))
        {
            return Err(format!(
                "tag_languages: posts cannot be tagged {l} (these can: {})",
                crate::lang::taggable_languages().collect::<Vec<_>>().join(", ")
            ));
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
            ("backup_keep", self.backup_keep),
            ("max_connections", self.max_connections),
            ("max_connections_per_address", self.max_connections_per_address),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.http_reserve >= self.max_connections {
            return Err("max_connections must be larger than http_reserve".into());
        }
        if let Some(u) = &self.smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(format!("smtp_url: {u:?} is not an smtp:// or smtps:// URL"));
            }
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("mail_from: {:?} is not an address (Name <user@host>)", self.mail_from));
        }
        if let Some(u) = &self.public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.chars().any(char::is_whitespace) {
                return Err(format!("public_url: {u:?} is not an http(s) URL"));
            }
        }
        if self.idle_timeout_secs < 3 || self.header_timeout_secs == 0 || self.hello_timeout_secs == 0 {
            return Err("timeouts: header and hello at least 1 s, idle at least 3 s".into());
        }
        Ok(())
    }

    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb.saturating_mul(MIB)
    }

    pub fn claim_lease(&self) -> Duration {
        Duration::from_secs(self.claim_lease_secs)
    }

    pub fn index_commit(&self) -> Duration {
        Duration::from_millis(self.index_commit_ms)
    }

    pub fn disk_reserve_bytes(&self) -> u64 {
        self.disk_reserve_mb.saturating_mul(MIB)
    }

    pub fn token_idle(&self) -> Duration {
        Duration::from_secs(self.token_idle_days.saturating_mul(86_400))
    }

    /// The rate limits in force: the tables, or none when `rate_limits` is off.
    pub fn rate_limits(&self) -> Limits {
        if self.rate_limits {
            self.limits.clone()
        } else {
            Limits::off()
        }
    }

    /// What the connection gate and the sockets are held to.
    pub fn net(&self) -> NetLimits {
        NetLimits {
            max_connections: self.max_connections,
            max_per_address: self.max_connections_per_address,
            reserve: self.http_reserve,
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            hello_timeout: Duration::from_secs(self.hello_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

fn as_map(c: &Config) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        other => Err(format!("settings: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    const EXAMPLE: &str = include_str!("../collective-brain.example.toml");

    #[derive(Parser)]
    struct Cli {
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        settings: Config,
    }

    fn layered(file: Option<&Path>, args: &[&str]) -> Result<Config, String> {
        let m = Cli::command().mut_args(|a| a.env(None)).try_get_matches_from(args).map_err(|e| e.to_string())?;
        Config::layered(file, &m)
    }

    #[test]
    fn the_example_file_lists_every_setting_at_its_default() {
        let example = Config::from_toml(EXAMPLE).expect("the example parses");
        assert_eq!(
            as_map(&example),
            as_map(&Config::default()),
            "collective-brain.example.toml is out of sync with the defaults"
        );
        let listed: Vec<&str> =
            EXAMPLE.lines().filter_map(|l| l.trim_start_matches("# ").split_once(" = ")).map(|(k, _)| k).collect();
        for key in as_map(&Config::default()).unwrap().keys() {
            assert!(listed.contains(&key.as_str()), "{key} is not in collective-brain.example.toml");
        }
        Config::default().validate().expect("the defaults are valid");
    }

    #[test]
    fn layers_override_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cb.toml");
        std::fs::write(&file, "room_buffer = 64\nconnection_queue = 8\nrate_limits = false\n").unwrap();
        let c = layered(Some(&file), &["cb", "--room-buffer", "128"]).unwrap();
        assert_eq!((c.room_buffer, c.connection_queue, c.rate_limits), (128, 8, false), "flag, file, file");
        assert_eq!(c.max_subscriptions, Config::default().max_subscriptions, "default");
        let c = layered(Some(&file), &["cb", "--connection-queue", "512"]).unwrap();
        assert_eq!(c.connection_queue, 512, "a flag at the default's value still wins over the file");
        assert_eq!(c.rate_limits().writes, Limits::off().writes);
        assert!(Config::from_toml("room_bufer = 64").unwrap_err().contains("room_bufer"));
        assert!(Config::from_toml("room_buffer = \"big\"").is_err());
        assert!(Config::from_toml("languages = [\"xx\"]").unwrap_err().contains("ISO 639-1"));
        assert!(layered(None, &["cb", "--languages", "fr,portugues"]).is_err());
        assert!(layered(None, &["cb", "--max-post-bytes", "70000"]).unwrap_err().contains("max_post_bytes"));
        assert!(layered(None, &["cb", "--tag-languages", "it,nl"]).unwrap_err().contains("cannot be tagged nl"));
        assert!(
            layered(None, &["cb", "--languages", "en,nl", "--tag-languages", "nl"]).is_ok(),
            "a community language"
        );
        std::fs::write(&file, "languages = []\n").unwrap();
        assert!(layered(Some(&file), &["cb"]).unwrap_err().contains("languages"));
    }

    #[test]
    fn every_setting_has_a_flag_and_an_environment_variable() {
        let cmd = Cli::command();
        for key in as_map(&Config::default()).unwrap().keys() {
            let arg = cmd.get_arguments().find(|a| a.get_id() == key.as_str());
            let arg = arg.unwrap_or_else(|| panic!("setting {key} has no flag"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(env, Some(format!("CB_{}", key.to_uppercase())), "setting {key}");
            assert!(arg.get_help().is_some(), "setting {key} has no help");
        }
        let parsed =
            layered(None, &["cb", "--rate-limits", "off", "--languages", "fr,pt", "--name", "Cérebro"]).unwrap();
        assert!(!parsed.rate_limits);
        assert_eq!(parsed.languages, Lang::many(&["fr", "pt"]));
        assert_eq!(parsed.name, "Cérebro");
    }
}

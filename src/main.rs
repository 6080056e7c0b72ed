//! The `collective-brain` command: parse the command line, start tracing, bind, hand the
//! server a shutdown future.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Subcommand};
use collective_brain::model::Role;
use collective_brain::service::Registration;
use collective_brain::store::Store;
use collective_brain::{App, Config};

/// jemalloc rather than glibc's malloc: the search index writes each new segment's
/// document store from a thread of its own, and glibc gives new threads arenas of their
/// own that keep what they freed. Measured with 40,000 posts of 4 KiB at full speed: RSS
/// about 290 MB with glibc, 160 MB with mimalloc, 70 MB with jemalloc, flat over time.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(clap::Parser)]
#[command(name = "collective-brain", version, about = "Real-time multilingual forum and chat server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Manage accounts while the server is stopped.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Write everything in the data dir to stdout as JSON lines (server stopped; while
    /// it runs, an admin uses GET /api/v1/admin/export).
    Export {
        #[arg(long, env = "CB_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Load an export from stdin into a new, empty data dir.
    Import {
        #[arg(long, env = "CB_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Read the whole store and check it (server stopped): every room's log, every
    /// record. Exits non-zero, saying what is wrong, on a damaged store.
    Verify {
        #[arg(long, env = "CB_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Rebuild the search index (DIR/index) from the store, while the server is stopped.
    Reindex {
        #[arg(long, env = "CB_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Email: `mail test --to ADDRESS` sends a test message with the server's SMTP
    /// settings (the settings file, CB_SMTP_URL, CB_MAIL_FROM) and says what happened.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Print the text of a document: what the server runs, in a process of its own, for
    /// each uploaded document.
    #[command(hide = true)]
    Extract {
        content_type: String,
        path: PathBuf,
        #[arg(long, default_value_t = 512)]
        memory_mb: u64,
        #[arg(long, default_value_t = 30)]
        cpu_secs: u64,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send a test message now.
    Test {
        #[arg(long)]
        to: String,
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Add {
        #[arg(long, env = "CB_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        #[arg(long)]
        handle: String,
        /// member, translator, moderator or admin; repeat for several.
        #[arg(long, value_parser = parse_role, default_value = "member")]
        role: Vec<Role>,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// A TOML settings file (see collective-brain.example.toml); env and flags override it.
    #[arg(long, env = "CB_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Config,
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("{s:?} is not a role: member, translator, moderator or admin"))
}

/// Defaults, then the settings file, then environment variables and flags (`matches`:
/// those of the command that carries the settings).
fn config(args: &ServeArgs, matches: &ArgMatches) -> anyhow::Result<Config> {
    let mut config = Config::layered(args.config.as_deref(), matches).map_err(anyhow::Error::msg)?;
    // Read from the environment only, never from a file or the command line, where
    // others could see it.
    config.admin_password = std::env::var("CB_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty());
    config.metrics_token = std::env::var("CB_METRICS_TOKEN").ok().filter(|t| !t.is_empty());
    Ok(config)
}

/// The log on stderr: lines of text, or with `CB_LOG_FORMAT=json` one JSON object a line
/// (`timestamp`, `level`, `target`, `message` and the event's fields) for log shippers.
/// `RUST_LOG` filters it (default `info,tantivy=warn`: the index's commits are not news).
fn init_logs() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    match std::env::var("CB_LOG_FORMAT").unwrap_or_default().as_str() {
        "" | "text" => logs.init(),
        "json" => logs.json().flatten_event(true).with_current_span(false).with_span_list(false).init(),
        other => anyhow::bail!("CB_LOG_FORMAT={other:?}: use text or json"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logs()?;
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli.command {
        None => serve(cli.serve, &matches).await,
        Some(Command::Serve(args)) => serve(*args, matches.subcommand_matches("serve").unwrap_or(&matches)).await,
        Some(Command::Export { data_dir }) => {
            let store =
                Store::open_for_maintenance(&data_dir).context("opening the data dir (is the server running?)")?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let n = store.export(&mut out)?;
            drop(out);
            store.close().await?;
            eprintln!("exported {n} entries");
            Ok(())
        }
        Some(Command::Verify { data_dir }) => {
            let started = std::time::Instant::now();
            let store = Store::open_for_maintenance(&data_dir).context("opening the data dir")?;
            let report = tokio::task::block_in_place(|| store.verify());
            store.close().await?;
            let r = report.context("verifying the store")?;
            eprintln!(
                "the store is whole: {} rooms, {} events, {} edited posts, {} users, read in {:.1?}",
                r.rooms,
                r.events,
                r.posts,
                r.users,
                started.elapsed()
            );
            Ok(())
        }
        Some(Command::Reindex { data_dir }) => {
            let started = std::time::Instant::now();
            let dir = data_dir.clone();
            let n = tokio::task::spawn_blocking(move || collective_brain::search::reindex(&dir))
                .await?
                .context("rebuilding the search index (is the server running?)")?;
            eprintln!("indexed {n} posts into {} in {:.1?}", data_dir.join("index").display(), started.elapsed());
            Ok(())
        }
        Some(Command::Extract { content_type, path, memory_mb, cpu_secs }) => {
            use std::io::Write;
            match collective_brain::files::extract::run_child(&content_type, &path, memory_mb, cpu_secs) {
                Ok(text) => {
                    std::io::stdout().lock().write_all(text.as_bytes())?;
                    Ok(())
                }
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(2)
                }
            }
        }
        Some(Command::Mail { command: MailCommand::Test { to, serve } }) => {
            let matches =
                matches.subcommand_matches("mail").and_then(|m| m.subcommand_matches("test")).unwrap_or(&matches);
            let config = config(&serve, matches)?;
            match collective_brain::service::mail::send_test(&config, &to).await {
                Ok(()) => {
                    println!("sent a test message to {to}");
                    Ok(())
                }
                Err(e) => bail!("the test message was not sent: {e}"),
            }
        }
        Some(Command::Import { data_dir }) => {
            let n = collective_brain::store::import_into(&data_dir, &mut std::io::stdin().lock()).await?;
            eprintln!("imported {n} entries into {}", data_dir.display());
            Ok(())
        }
        Some(Command::User { command: UserCommand::Add { data_dir, handle, role, password_stdin, display_name } }) => {
            debug_assert!(password_stdin);
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password).context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let app = App::open(Config::with_data_dir(data_dir))
                .await
                .context("opening the data dir (is the server running?)")?;
            let reg = Registration { handle, password, display_name, languages: None, invite: None };
            let result = app.create_user(reg, role).await;
            app.close().await?;
            match result {
                Ok(user) => {
                    println!("created {} ({}) with roles {:?}", user.handle, user.id, user.roles);
                    Ok(())
                }
                Err(e) => bail!("{}", e.message),
            }
        }
    }
}

async fn serve(args: ServeArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let config = config(&args, matches)?;
    // Each connection holds a socket: take the hard limit on open files, not the soft one.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::info!("open files limit: {n}"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open files limit"),
    }
    // jemalloc returns freed memory to the system as its allocations go on; without a
    // background thread an idle server keeps what a burst (2,000 clients that left)
    // freed. With one, it goes back within the decay time (10 s).
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "could not start jemalloc's background purging");
    }
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    tracing::info!("listening on {}", listener.local_addr()?);
    collective_brain::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}

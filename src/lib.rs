//! The Collective Brain server: a real-time multilingual forum and chat for the alumni of
//! the ILO Academy on Social and Solidarity Economy.
//!
//! Modules, in the order a frame flows through them:
//! - [`http`] and [`ws`]: thin adapters from HTTP requests and WebSocket frames;
//! - [`protocol`]: the wire frames; [`model`]: the plain data; [`error`]: the error codes;
//! - [`service`]: the verbs, with access rules and validation; [`lang`]: language tagging;
//! - [`store`]: sled behind a small API, one writer thread with group commit;
//! - [`search`]: the indexer that follows the store's change feed into the `index/` crate;
//! - [`hub`]: fan-out of already-serialized frames to subscribers;
//! - [`config`]: what the server can be told; [`web`]: the embedded web client.
//!
//! A write goes service -> store (durable) -> hub (published); nothing flows back.
//! [`run`] takes a bound listener and a shutdown future, so `main` and the tests start
//! the server the same way.

pub mod clock;
pub mod config;
pub mod error;
pub mod files;
pub mod http;
pub mod hub;
pub mod lang;
pub mod lang_eval;
pub mod lexicon;
pub mod limits;
pub mod memory;
pub mod model;
pub mod net;
pub mod protocol;
pub mod render;
pub mod search;
pub mod service;
pub mod store;
pub mod web;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use service::App;

/// How long shutdown waits for sockets to close before flushing anyway.
const SOCKET_DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` completes, then shuts down in order:
/// stop accepting, close every WebSocket with 1001, wait for them, stop the writer
/// after what it holds, flush.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = http::router(app.clone());
    let sweeper = tokio::spawn(sweep_claims(app.clone()));
    let disk = tokio::spawn(watch_disk(app.clone()));
    let backups = tokio::spawn(scheduled_backups(app.clone()));
    let collector = tokio::spawn(collect_files(app.clone()));
    let reader = tokio::spawn(read_documents(app.clone()));
    let sender = tokio::spawn(deliver_mail(app.clone()));
    let mailer = tokio::spawn(write_mail(app.clone()));
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most often: wait for some to close.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Some(admitted) = app.gate.admit(peer.ip()) else {
            app.metrics.refused_connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            continue;
        };
        // Frames are small and latency matters: no Nagle delay behind an unacknowledged one.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let (router, stop, header_timeout) = (router.clone(), app.shutdown.clone(), app.config.net().header_timeout);
        connections.spawn(async move {
            serve_connection(tcp, peer, router, header_timeout, stop).await;
            drop(admitted);
        });
    }
    app.shutdown.cancel();
    connections.close();
    if tokio::time::timeout(SOCKET_DRAIN, connections.wait()).await.is_err() {
        tracing::warn!("some HTTP connections did not close in time");
    }
    sweeper.abort();
    let _ = sweeper.await;
    disk.abort();
    backups.abort();
    collector.abort();
    reader.abort();
    sender.abort();
    mailer.abort();
    let _ = disk.await;
    app.shutdown.cancel();
    app.sockets.close();
    if tokio::time::timeout(SOCKET_DRAIN, app.sockets.wait()).await.is_err() {
        tracing::warn!("some WebSockets did not close in time");
    }
    if let Err(e) = app.close().await {
        tracing::error!(error = %e, "closing the store failed");
    }
    tracing::info!("shut down");
    Ok(())
}

/// How long the listener waits after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves one HTTP/1.1 connection (and hands a WebSocket upgrade to its handler): its
/// headers must come within `header_timeout`, and on shutdown it finishes the request in
/// progress, then closes.
async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    router: axum::Router,
    header_timeout: Duration,
    stop: CancellationToken,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        tower::ServiceExt::oneshot(router.clone(), req.map(axum::body::Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// How often the data dir's free space is looked at.
const DISK_CHECK: Duration = Duration::from_secs(1);

/// Refuses writes while the data dir's disk is below its reserve, and takes them again
/// once space is freed: a full disk never reaches the store. Records what is durable
/// (the store's watermark, `store::verify`) at the same pace.
async fn watch_disk(app: Arc<App>) {
    let mut tick = tokio::time::interval(DISK_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut mark = store::Watermark::default();
    loop {
        tick.tick().await;
        let store = app.store.clone();
        if let Ok(recorded) = tokio::task::spawn_blocking(move || store.record_watermark(mark)).await {
            match recorded {
                Ok(m) => {
                    mark = m;
                    app.metrics.watermark_failing.store(false, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => {
                    if !app.metrics.watermark_failing.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        tracing::warn!(error = %e, "cannot record the store's watermark");
                    }
                }
            }
        }
        let dir = app.store.dir().to_owned();
        let Ok(free) = tokio::task::spawn_blocking(move || fs4::available_space(dir)).await else { continue };
        let free = match free {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the data dir's free space");
                continue;
            }
        };
        app.metrics.disk_free.store(free, std::sync::atomic::Ordering::Relaxed);
        let low = free < app.config.disk_reserve_bytes();
        if app.store.set_disk_low(low) {
            if low {
                tracing::error!(
                    free,
                    reserve = app.config.disk_reserve_bytes(),
                    "disk below its reserve: writes refused"
                );
            } else {
                tracing::info!(free, "disk space is back: writes accepted");
            }
        }
    }
}

/// How often expired translation claims are looked for.
const CLAIM_SWEEP: Duration = Duration::from_secs(1);

/// Puts items whose claim expired back in the translators' queues, live.
async fn sweep_claims(app: Arc<App>) {
    let mut tick = tokio::time::interval(CLAIM_SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app.sweep_expired_claims().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(claims = n, "expired claims returned to the queue"),
            Err(e) => tracing::warn!(error = %e.message, "sweeping expired claims failed"),
        }
    }
}

/// How often the backup schedule is looked at.
const BACKUP_CHECK: Duration = Duration::from_secs(60);

/// Takes a backup whenever one is due (`backup_every_hours`): on a server that has none,
/// a minute after it starts.
async fn scheduled_backups(app: Arc<App>) {
    if app.config.backup_every_hours == 0 {
        return;
    }
    // The first look a minute after the start, when the server is busy no more.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + BACKUP_CHECK, BACKUP_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app.backup_due() {
            Ok(false) => {}
            Ok(true) => {
                if let Err(e) = app.backup_now().await {
                    tracing::error!(error = %e.message, "scheduled backup failed");
                }
            }
            Err(e) => tracing::warn!(error = %e.message, "looking at the backups failed"),
        }
    }
}

/// How often unattached uploads and unnamed blobs are collected (first a minute after
/// the start).
const COLLECT_EVERY: Duration = Duration::from_secs(3600);

async fn collect_files(app: Arc<App>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + BACKUP_CHECK, COLLECT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = app.collect_files().await {
            tracing::warn!(error = %e.message, "collecting files failed");
        }
    }
}

/// Sends the outbox's mail as it comes (and, at the start, what a stop left in it),
/// retrying what the SMTP server did not take when it is due.
async fn deliver_mail(app: Arc<App>) {
    if !app.sends_mail() {
        return;
    }
    loop {
        let wait = match app.deliver_mail().await {
            Ok(next) => next.unwrap_or(Duration::from_secs(60)).min(Duration::from_secs(60)),
            Err(e) => {
                tracing::warn!(error = %e.message, "sending mail failed");
                Duration::from_secs(5)
            }
        };
        let _ = tokio::time::timeout(wait, app.mail.notified()).await;
    }
}

/// Writes the notices and the digests that are due into the outbox, every tenth of the
/// delay (between 1 and 30 seconds).
async fn write_mail(app: Arc<App>) {
    if !app.sends_mail() {
        return;
    }
    let every = Duration::from_secs((app.config.email_delay_secs / 10).clamp(1, 30));
    loop {
        if let Err(e) = app.queue_notices().await {
            tracing::warn!(error = %e.message, "writing notices failed");
        }
        match app.queue_digests().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(digests = n, "digests written"),
            Err(e) => tracing::warn!(error = %e.message, "writing digests failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Reads documents' text as they are uploaded (and, at the start, those a stop left
/// waiting), off the request path.
async fn read_documents(app: Arc<App>) {
    loop {
        if let Err(e) = app.read_documents().await {
            tracing::warn!(error = %e.message, "reading documents failed");
        }
        // Woken by an upload; a look every minute catches a wake-up lost to a failure.
        let _ = tokio::time::timeout(Duration::from_secs(60), app.documents.notified()).await;
    }
}

/// Opens the data dir in `config` and serves until `shutdown`.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    config.validate().map_err(RunError::Config)?;
    let app = App::open(config).await?;
    let served = serve(listener, app.clone(), shutdown).await;
    release(app).await;
    served?;
    Ok(())
}

/// How long `run` waits for the last tasks holding the app (a forwarder being aborted, a
/// search on a blocking thread) before returning anyway.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// Waits until `app` is the last handle on the application, then drops it, so the data
/// dir's locks (sled's and the search index's) are free when `run` returns: a supervisor
/// or a test may start a new server on the same dir at once.
async fn release(app: Arc<App>) {
    let started = tokio::time::Instant::now();
    while Arc::strong_count(&app) > 1 {
        if started.elapsed() > RELEASE_WAIT {
            tracing::warn!(holders = Arc::strong_count(&app) - 1, "tasks still hold the app after shutdown");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(app);
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] error::StoreError),
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

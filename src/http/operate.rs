//! For operators: exports, health and metrics.

use super::*;

/// The export without secrets (password hashes and sign-ins left out), for admins.
pub(super) async fn export(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Response> {
    export_with(&app, &caller, Secrets::Left).await
}

#[derive(Deserialize)]
pub(super) struct ExportBody {
    password: String,
}

/// The whole export, password hashes and sign-ins included: asked for with the admin's
/// own password.
pub(super) async fn export_secrets(
    State(app): State<Arc<App>>,
    caller: Caller,
    Body(b): Body<ExportBody>,
) -> ApiResult<Response> {
    let user = signed_in(caller.user.as_ref())?;
    if !user.is_admin() {
        return Err(ApiError::forbidden("only admins export"));
    }
    app.confirm_password(user, "password", &b.password).await?;
    export_with(&app, &caller, Secrets::Included).await
}

/// A consistent export of everything, while the server runs (admins).
pub(super) async fn export_with(app: &App, caller: &Caller, secrets: Secrets) -> ApiResult<Response> {
    let user = signed_in(caller.user.as_ref())?;
    if !user.is_admin() {
        return Err(ApiError::forbidden("only admins export"));
    }
    let snapshot = app.store.export_online(secrets).await?;
    tracing::info!(admin = %user.handle, ?secrets, "online export");
    // The blobs are streamed after the trees: a few chunks in flight, whatever the size.
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(8);
    let files = app.store.files_dir();
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, ChannelWriter(tx.clone()));
        if let Err(e) = snapshot.finish(&files, &mut out) {
            tracing::error!(error = %e, "online export cut short");
            // The client sees the body end in an error, never a complete-looking export.
            let _ = tx.blocking_send(Err(e));
        }
    });
    let body = axum::body::Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Bytes written on a blocking thread, sent to a response body.
struct ChannelWriter(tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(bytes::Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `ok`; or 503 `degraded: ` and the reasons, `; `-separated, while the node serves but
/// needs an operator (`service::health`); or 500 when the store cannot be read at all.
pub(super) async fn healthz(State(app): State<Arc<App>>) -> Response {
    if let Err(e) = app.store.readable() {
        return (StatusCode::INTERNAL_SERVER_ERROR, format!("failing: the store cannot be read: {e}\n"))
            .into_response();
    }
    let problems = crate::service::health::problems(&app.health_readings());
    if problems.is_empty() {
        return "ok".into_response();
    }
    (StatusCode::SERVICE_UNAVAILABLE, format!("degraded: {}\n", problems.join("; "))).into_response()
}

/// Prometheus text format. Operational counters only: nothing here is about content.
/// Still, community-wide counts include private groups' activity, so they are for
/// operators: an admin's token, or the scraper's `CB_METRICS_TOKEN`.
pub(super) async fn metrics(State(app): State<Arc<App>>, headers: axum::http::HeaderMap) -> Response {
    if let Err(e) = metrics_access(&app, &headers) {
        return e.into_response();
    }
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let m = &app.metrics;
    let w = app.store.stats();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
    };
    metric("cb_websockets_open", "gauge", "WebSockets open now.", m.sockets_open.load(Relaxed).to_string());
    metric(
        "cb_websockets_total",
        "counter",
        "WebSockets accepted since start.",
        m.sockets_total.load(Relaxed).to_string(),
    );
    metric("cb_frames_in_total", "counter", "Client frames received.", m.frames_in.load(Relaxed).to_string());
    metric("cb_posts_acked_total", "counter", "Posts acked (on disk).", m.posts_acked.load(Relaxed).to_string());
    metric("cb_lagged_total", "counter", "Subscriptions ended with lagged.", m.lagged.load(Relaxed).to_string());
    metric("cb_hub_topics", "gauge", "Fan-out channels with subscribers.", app.hub.topic_count().to_string());
    metric(
        "cb_mail_outbox",
        "gauge",
        "Mails in the outbox (waiting, and refused for good).",
        app.store.outbox_len().to_string(),
    );
    metric(
        "cb_commits_total",
        "counter",
        "Store batches committed (one transaction each).",
        w.commits.load(Relaxed).to_string(),
    );
    metric(
        "cb_flushes_total",
        "counter",
        "Store flushes (one covers every batch applied meanwhile).",
        w.flushes.load(Relaxed).to_string(),
    );
    let apply = w.apply_micros.load(Relaxed) as f64 / 1e6;
    metric("cb_apply_seconds_total", "counter", "Time spent applying store batches.", format!("{apply:.6}"));
    metric(
        "cb_ops_committed_total",
        "counter",
        "Writes committed (posts acked among them).",
        w.ops.load(Relaxed).to_string(),
    );
    metric("cb_commit_failures_total", "counter", "Store batches that failed.", w.failures.load(Relaxed).to_string());
    let flush = w.flush_micros.load(Relaxed) as f64 / 1e6;
    metric("cb_flush_seconds_total", "counter", "Time spent flushing the store.", format!("{flush:.6}"));
    let max = w.flush_micros_max.load(Relaxed) as f64 / 1e6;
    metric("cb_flush_seconds_max", "gauge", "The longest store flush.", format!("{max:.6}"));
    metric(
        "cb_nonces_unfolded",
        "gauge",
        "New posts' nonces still only in their runs (folded into the nonces tree when the store is quiet).",
        w.nonces_unfolded.load(Relaxed).to_string(),
    );
    metric(
        "cb_nonces_folded_total",
        "counter",
        "New posts' nonces folded into the nonces tree.",
        w.nonces_folded.load(Relaxed).to_string(),
    );
    let head = app.store.change_head().get();
    let applied = app.search.applied.load(Relaxed);
    metric(
        "cb_changes_total",
        "counter",
        "Change records committed (the change feed's head; one per store batch that changed posts).",
        head.to_string(),
    );
    metric(
        "cb_index_lag_changes",
        "gauge",
        "Change records committed but not yet searchable.",
        head.saturating_sub(applied).to_string(),
    );
    metric(
        "cb_index_behind_seconds",
        "gauge",
        "Seconds since the search index last held every committed change (0 while it keeps up).",
        app.index_behind_secs().to_string(),
    );
    metric("cb_disk_free_bytes", "gauge", "Free bytes on the data dir's disk.", m.disk_free.load(Relaxed).to_string());
    metric(
        "cb_disk_reserve_bytes",
        "gauge",
        "The data dir's reserve: below it, writes are refused.",
        app.config.disk_reserve_bytes().to_string(),
    );
    let problems = crate::service::health::problems(&app.health_readings()).len();
    metric("cb_health_problems", "gauge", "Reasons /healthz says degraded (0: ok).", problems.to_string());
    let newest = app.backup_files().ok().and_then(|b| b.first().and_then(|b| crate::clock::parse_ms(&b.created_at)));
    metric(
        "cb_backup_newest_timestamp_seconds",
        "gauge",
        "When the newest backup in the backup dir was taken (0: none).",
        (newest.unwrap_or(0) / 1000).to_string(),
    );
    metric("cb_index_docs", "gauge", "Posts in the search index.", app.search.index.num_docs().to_string());
    metric("cb_store_queue", "gauge", "Writes waiting for the store writer.", app.store.writes_waiting().to_string());
    let _ = write!(
        out,
        "# HELP cb_translation_queue Posts waiting for a translation, by target language.\n# TYPE cb_translation_queue gauge\n"
    );
    for lang in &app.config.languages {
        // A store that cannot be read leaves the gauge out rather than lying.
        match app.store.queue_len(*lang) {
            Ok(n) => {
                let _ = writeln!(out, "cb_translation_queue{{lang=\"{lang}\"}} {n}");
            }
            Err(e) => tracing::warn!(error = %e, "queue length for metrics"),
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

fn metrics_access(app: &App, headers: &axum::http::HeaderMap) -> ApiResult<()> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized("metrics are for operators: send an admin's token or the metrics token")
        })?;
    if let Some(expected) = &app.config.metrics_token {
        if constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            return Ok(());
        }
    }
    match app.authenticate(token)? {
        Some(user) if user.is_admin() => Ok(()),
        Some(_) => Err(ApiError::forbidden("metrics are for admins")),
        None => Err(ApiError::unauthorized("invalid or revoked token")),
    }
}

/// Compares without an early exit, so the time taken says nothing of the secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The community's figures (admins and moderators).
pub(super) async fn stats(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<crate::service::Stats>> {
    Ok(Json(app.stats(caller.user.as_ref()).await?))
}

/// The backups there are (admins).
pub(super) async fn backups(State(app): State<Arc<App>>, caller: Caller) -> ApiResult<Json<crate::service::Backups>> {
    Ok(Json(app.backups(caller.user.as_ref())?))
}

/// A backup now (admins).
pub(super) async fn backup_now(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<crate::service::BackupInfo>)> {
    Ok((StatusCode::CREATED, Json(app.backup_by(caller.user.as_ref()).await?)))
}

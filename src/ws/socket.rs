//! The socket writer task: it owns the sending half and the live subscriptions, writes
//! what is ready in one flush, and closes the socket when its bell rings.

use super::*;

/// How long one flush to a client may take before the client is dropped.
pub(super) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Frames written per socket flush, at most.
pub(super) const WRITE_BATCH: usize = 64;

/// Bytes fed to the socket per flush, at most (past one frame).
pub(super) const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// How a socket closes when its bell rang.
pub(super) fn alarm_close(why: Alarm) -> Message {
    let (code, reason) = match why {
        Alarm::AccessChanged => (CLOSE_ACCESS_CHANGED, "access changed: reconnect"),
        Alarm::Revoked => (CLOSE_REVOKED, "signed out: sign in again"),
    };
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

/// Something the writer has to do.
pub(super) enum Next {
    Out(Out),
    Live(LiveItem),
}

/// Writes the connection's frames: those queued, and the live ones of its subscriptions,
/// batching whatever is ready into one flush.
pub(super) async fn write_loop(
    app: Arc<App>,
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Out>,
    bell: Arc<Bell>,
) {
    let mut live: SelectAll<LiveStream> = SelectAll::new();
    'outer: loop {
        let first = tokio::select! {
            biased;
            out = rx.recv() => match out {
                Some(o) => Next::Out(o),
                None => break,
            },
            Some(item) = live.next(), if !live.is_empty() => Next::Live(item),
        };
        let mut next = Some(first);
        let mut written = 0;
        let mut bytes = 0;
        let mut paced = Vec::new();
        let mut closing = false;
        while let Some(n) = next.take() {
            let message = match n {
                Next::Out(Out::Frame(m)) => Some(m),
                Next::Out(Out::Paced(m, p)) => {
                    paced.push(p);
                    Some(m)
                }
                Next::Out(Out::Live(stream)) => {
                    live.push(stream);
                    None
                }
                Next::Live(LiveItem::Frame(text)) => Some(Message::Text(text)),
                Next::Live(LiveItem::Lagged(topic)) => {
                    app.metrics.lagged.fetch_add(1, Ordering::Relaxed);
                    Some(Message::Text(Utf8Bytes::from(lagged_frame(topic))))
                }
            };
            // Once the bell rang, nothing but the close reaches the socket: not a live
            // frame published after an access change, nor a replay queued before it.
            let message = match (message, bell.rung()) {
                (Some(m), Some(why)) if !matches!(m, Message::Close(_)) => {
                    live.clear();
                    Some(alarm_close(why))
                }
                (m, _) => m,
            };
            if let Some(m) = message {
                closing = matches!(m, Message::Close(_));
                bytes += match &m {
                    Message::Text(t) => t.len(),
                    Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b.len(),
                    Message::Close(_) => 0,
                };
                if sink.feed(m).await.is_err() {
                    break 'outer;
                }
                written += 1;
            }
            if closing || written >= WRITE_BATCH || bytes >= WRITE_BATCH_BYTES {
                break;
            }
            // More that is ready now joins this flush; nothing here waits.
            next = match rx.try_recv() {
                Ok(o) => Some(Next::Out(o)),
                Err(_) if live.is_empty() => None,
                Err(_) => live.next().now_or_never().flatten().map(Next::Live),
            };
        }
        if written > 0 {
            match tokio::time::timeout(WRITE_TIMEOUT, sink.flush()).await {
                Ok(Ok(())) => {}
                _ => break,
            }
        }
        // Flushed: the replays' bytes are the kernel's now.
        drop(paced);
        if closing {
            break;
        }
    }
    drop(live);
    rx.close();
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// Turns a read error into how the connection ends: over-size messages close with
/// 1009, anything else means the client is gone or broke the protocol.
pub(super) fn classify(e: axum::Error) -> End {
    let inner = e.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => End::Close(CLOSE_TOO_BIG, "message too big"),
        Some(tungstenite::Error::Utf8(_)) => End::Close(1007, "text frame is not valid UTF-8"),
        Some(tungstenite::Error::Protocol(_)) => End::Close(1002, "protocol error"),
        _ => End::Gone,
    }
}

//! Replays: a subscription's log read from the store as fast as its socket drains,
//! within the connection's and the node's byte budgets, then handed to the live stream.

use super::*;

/// Events read from the store per step of a replay: few, so that a replay waiting for
/// its client holds little.
pub(super) const REPLAY_CHUNK: usize = 16;

/// A replayed frame's share of its connection's and of the node's replay budgets: a
/// replay reads the store only as fast as the socket drains, so a client that never
/// reads holds at most its connection's budget, and all of them the node's.
pub(super) struct Paced {
    pub(super) _conn: OwnedSemaphorePermit,
    pub(super) _node: OwnedSemaphorePermit,
}

/// Bytes one connection's replays may have queued and not yet flushed.
pub(super) const CONNECTION_REPLAY_BYTES: usize = 64 * 1024;

/// Waits for `len` bytes (or the whole budget, for a larger frame) of both budgets.
pub(super) async fn pace(conn: &Arc<Semaphore>, node: &Arc<Semaphore>, len: usize) -> Option<Paced> {
    let conn_n = u32::try_from(len.min(CONNECTION_REPLAY_BYTES)).unwrap_or(u32::MAX);
    let node_n = u32::try_from(len.min(crate::service::REPLAY_BYTES_PER_NODE)).unwrap_or(u32::MAX);
    let _conn = conn.clone().acquire_many_owned(conn_n).await.ok()?;
    let _node = node.clone().acquire_many_owned(node_n).await.ok()?;
    Some(Paced { _conn, _node })
}

/// What a live subscription yields to the writer.
pub(super) enum LiveItem {
    Frame(Utf8Bytes),
    /// The subscription fell behind the hub's buffer and ended.
    Lagged(Topic),
}

pub(super) type LiveStream = BoxStream<'static, LiveItem>;

/// A hub receiver with its release: the fields drop in order, the receiver first, so
/// the release sees the channel without it.
pub(super) struct Held {
    pub(super) rx: broadcast::Receiver<HubMsg>,
    pub(super) release: Release,
}

impl Held {
    pub(super) fn new(app: &Arc<App>, topic: Topic) -> Held {
        Held { rx: app.hub.subscribe(topic), release: Release(app.clone(), topic) }
    }
}

/// The live frames of `held` that `keep` accepts, until the subscription's handle aborts
/// (or a lag, reported once as the last item).
///
/// The abort is an `Abortable` (an atomic flag and waker, checked on every poll), not a
/// `CancellationToken`'s future: that one takes its notifier's lock on every poll, and a
/// live stream is polled once per delivery.
pub(super) fn live_stream(
    held: Held,
    cancel: AbortRegistration,
    keep: impl Fn(&HubMsg) -> bool + Send + 'static,
) -> LiveStream {
    let stream = futures_util::stream::unfold(Some((held, keep)), |state| async move {
        let (mut held, keep) = state?;
        loop {
            match held.rx.recv().await {
                Ok(msg) => {
                    if keep(&msg) {
                        return Some((LiveItem::Frame(msg.text), Some((held, keep))));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let topic = held.release.1;
                    drop(held);
                    return Some((LiveItem::Lagged(topic), None));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Abortable::new(stream, cancel).boxed()
}

/// Where a replay goes: the writer's queue, paced by the connection's budget.
pub(super) struct Replay {
    pub(super) out: mpsc::Sender<Out>,
    pub(super) budget: Arc<Semaphore>,
}

/// Replays `since+1..=head` from the log as the socket drains (`Paced`), says
/// `subscribed`, then hands the live subscription (events past `head`) to the writer.
#[allow(clippy::too_many_arguments)]
pub(super) async fn forward_room(
    app: Arc<App>,
    room: RoomId,
    since: u64,
    head: u64,
    held: Held,
    replay: Replay,
    me: Option<UserId>,
    cancel: AbortRegistration,
) {
    let Replay { out, budget } = replay;
    let mut next = since + 1;
    while next <= head {
        let chunk = match app.store.events(room, next, head, REPLAY_CHUNK) {
            Ok(c) => c,
            Err(e) => {
                let _ = out.send(Out::text(ServerFrame::error(&ApiError::from(e), None))).await;
                return;
            }
        };
        let Some(&(last, _)) = chunk.last() else { break };
        for (_, bytes) in chunk {
            let Ok(text) = Utf8Bytes::try_from(bytes) else { continue };
            let Some(paced) = pace(&budget, &app.replay_bytes, text.len()).await else { return };
            if out.send(Out::Paced(Message::Text(text), paced)).await.is_err() {
                return;
            }
        }
        next = last + 1;
    }
    let text = ServerFrame::Subscribed { room, head }.to_json();
    if out.send(Out::text(text)).await.is_err() {
        return;
    }
    // Log events past the replay; frames outside the log (typing) unless our own.
    let live =
        live_stream(
            held,
            cancel,
            move |msg| {
                if msg.seq != 0 {
                    msg.seq > head
                } else {
                    msg.from.is_none() || msg.from != me
                }
            },
        );
    let _ = out.send(Out::Live(live)).await;
}

/// The frame that tells a client its subscription to `topic` lagged and ended.
pub(super) fn lagged_frame(topic: Topic) -> String {
    match topic {
        Topic::Room(room) => ServerFrame::Lagged { room }.to_json(),
        Topic::Space(space) => ServerFrame::LaggedSpace { space }.to_json(),
        Topic::Session(_) => ServerFrame::Revoked.to_json(),
        Topic::User(_) => ServerFrame::LaggedUser { user: true }.to_json(),
        Topic::Queue(to) => ServerFrame::LaggedQueue { queue: to.as_str() }.to_json(),
    }
}

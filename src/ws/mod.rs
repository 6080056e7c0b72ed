//! The WebSocket adapter: one socket per client, frames decoded by `protocol`, verbs in
//! `service`.
//!
//! Each connection has two long-lived parts:
//! - the reader (this task), which decodes frames and answers the quick ones;
//! - the socket writer task, which owns the socket's sending half and every live
//!   subscription of the connection: it takes frames from a bounded queue and live frames
//!   straight from the hub's channels, and writes what is ready in one flush. A live frame
//!   goes from the hub to the socket with one task wake-up.
//!
//! A subscription starts with a short-lived task that replays the room's log from the
//! store through the queue, says `subscribed`, and hands its hub receiver to the writer
//! (through the same queue, so nothing overtakes the replay); the writer skips what the
//! replay already sent. Writes (post, edit, delete, create_room) run as tasks of their
//! own, at most `max_inflight_per_connection` at a time, so a client may pipeline posts
//! while each waits for its group commit. Every queue is bounded: a client that stops
//! reading stops its writer, and its subscriptions fall behind in the hub's channels
//! until they lag.

mod replay;
mod socket;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::stream::{AbortHandle as LiveHandle, AbortRegistration, Abortable, BoxStream, SelectAll};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;

use crate::error::{ApiError, ApiResult};
use crate::hub::{session_key, Alarm, Bell, HubMsg, Topic};
use crate::model::{EventKind, Lang, RoomId, SpaceId, User, UserId};
use crate::protocol::{ack_frame, ClientFrame, ServerFrame, PROTOCOL_VERSION};
use crate::service::{signed_in, token_hash, App, NewPost};
use crate::store::Turn;
use replay::*;
use socket::*;

/// Close code: the server is going away.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: the token this socket signed in with was revoked (logout).
pub const CLOSE_REVOKED: u16 = 4001;
/// Close code when the user's access changed (taken out of a space): reconnect, and
/// subscribe again to what is still readable.
pub const CLOSE_ACCESS_CHANGED: u16 = 4003;
/// Close code: the client broke a rule of the connection (no `hello` in time, silent too
/// long).
pub const CLOSE_POLICY: u16 = 1008;
/// Close code: a message over the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;

pub async fn upgrade(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // WebSockets may take all connections but a reserve, kept for HTTP (health checks,
    // sign-in) when the server is full.
    let Some(admitted) = app.gate.admit_socket(peer.ip()) else {
        let e = ApiError::new(crate::error::Code::Unavailable, "the server is full: try again in a minute");
        return axum::response::IntoResponse::into_response(e);
    };
    let client = app.gate.client_ip(peer.ip(), &headers);
    let max = app.config.max_frame_bytes;
    ws.max_message_size(max).max_frame_size(max).read_buffer_size(1024).write_buffer_size(16 * 1024).on_upgrade(
        move |socket| {
            let tracker = app.sockets.clone();
            tracker.track_future(async move {
                Connection::run(app, socket, client).await;
                drop(admitted);
            })
        },
    )
}

/// What the writer task takes from its queue.
enum Out {
    Frame(Message),
    /// A replayed frame, holding its bytes of the replay budgets until it is flushed.
    Paced(Message, Paced),
    /// A live subscription, ready to be relayed.
    Live(LiveStream),
}

impl Out {
    fn text(text: String) -> Out {
        Out::Frame(Message::Text(Utf8Bytes::from(text)))
    }
}

/// One subscription: its setup task (replay) and the switch that ends its live part.
struct Sub {
    setup: AbortHandle,
    cancel: LiveHandle,
}

impl Sub {
    fn new(setup: AbortHandle, cancel: LiveHandle) -> Sub {
        Sub { setup, cancel }
    }

    fn end(self) {
        self.setup.abort();
        self.cancel.abort();
    }
}

struct Connection {
    app: Arc<App>,
    out: mpsc::Sender<Out>,
    /// `None` until `hello`; then `Some(None)` for a guest.
    who: Option<Option<User>>,
    rooms: HashMap<RoomId, Sub>,
    spaces: HashMap<SpaceId, Sub>,
    queues: HashMap<Lang, Sub>,
    /// Ends the signed-in user's own stream.
    own: Option<LiveHandle>,
    /// The client's address (guests' searches are limited by it).
    peer: std::net::IpAddr,
    /// Rung when the signed-in user's access changes, they are suspended, or their own
    /// stream lags: the writer stops writing and the socket closes.
    bell: Arc<Bell>,
    /// The user whose bells this socket's is among.
    rung_for: Option<UserId>,
    /// Told when the token of this socket's `hello` is revoked.
    session: Option<(Topic, broadcast::Receiver<HubMsg>)>,
    inflight: Arc<Semaphore>,
    /// Bytes this connection's replays may have queued (`Paced`).
    replay_budget: Arc<Semaphore>,
    /// Ends when the last write sent on this socket has reached the store's queue: the
    /// next one waits for it, so one connection's writes take seqs in the order sent.
    last_write: Option<oneshot::Receiver<()>>,
}

/// Why the reader stopped.
enum End {
    /// The client closed or vanished.
    Gone,
    /// We close with this code.
    Close(u16, &'static str),
    /// The bell rang: the writer closes.
    Alarm(Alarm),
}

impl Connection {
    async fn run(app: Arc<App>, socket: WebSocket, peer: std::net::IpAddr) {
        app.metrics.sockets_total.fetch_add(1, Ordering::Relaxed);
        app.metrics.sockets_open.fetch_add(1, Ordering::Relaxed);
        let _open = OpenSocket(app.clone());
        let (sink, mut stream) = socket.split();
        let (out, out_rx) = mpsc::channel(app.config.connection_queue);
        let replay_budget = Arc::new(Semaphore::new(CONNECTION_REPLAY_BYTES));
        let bell = Arc::new(Bell::default());
        app.bells.open(&bell);
        let writer = tokio::spawn(write_loop(app.clone(), sink, out_rx, bell.clone()));
        let mut conn = Connection {
            inflight: Arc::new(Semaphore::new(app.config.max_inflight_per_connection)),
            replay_budget,
            app: app.clone(),
            out,
            who: None,
            rooms: HashMap::new(),
            spaces: HashMap::new(),
            queues: HashMap::new(),
            session: None,
            own: None,
            bell,
            rung_for: None,
            last_write: None,
            peer,
        };
        let bell = conn.bell.clone();
        let net = app.config.net();
        // Pings at a third of the idle timeout; a socket from which nothing came for the
        // whole of it is gone, whatever TCP says.
        let mut pings =
            tokio::time::interval_at(tokio::time::Instant::now() + net.idle_timeout / 3, net.idle_timeout / 3);
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heard = tokio::time::Instant::now();
        let hello_by = tokio::time::sleep(net.hello_timeout);
        tokio::pin!(hello_by);
        let end = loop {
            let msg = tokio::select! {
                _ = app.shutdown.cancelled() => break End::Close(CLOSE_GOING_AWAY, "server shutting down"),
                _ = &mut hello_by, if conn.who.is_none() => break End::Close(CLOSE_POLICY, "say hello first"),
                _ = pings.tick() => {
                    if heard.elapsed() >= net.idle_timeout {
                        break End::Close(CLOSE_POLICY, "idle: no frame or pong in time");
                    }
                    if conn.out.try_send(Out::Frame(Message::Ping(Default::default()))).is_err() {
                        // A full queue: the writer is stuck behind a client that does
                        // not read, and its own timeout will end it.
                    }
                    continue;
                }
                why = bell.wait() => break End::Alarm(why),
                _ = revoked(&mut conn.session) => {
                    let e = ApiError::unauthorized("your token was revoked: sign in again");
                    conn.send_error(&e, None).await;
                    break End::Close(CLOSE_REVOKED, "token revoked");
                }
                msg = stream.next() => msg,
            };
            heard = tokio::time::Instant::now();
            let ok = match msg {
                None | Some(Ok(Message::Close(_))) => break End::Gone,
                Some(Ok(Message::Text(text))) => {
                    app.metrics.frames_in.fetch_add(1, Ordering::Relaxed);
                    conn.on_text(&text).await
                }
                Some(Ok(Message::Binary(_))) => {
                    let e = ApiError::bad_request("binary frames are not part of the protocol: send JSON text frames");
                    conn.send_error(&e, None).await
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => true,
                Some(Err(e)) => break classify(e),
            };
            if !ok {
                break End::Gone;
            }
        };
        conn.unsubscribe_all();
        conn.end_session();
        conn.unring();
        app.bells.forget(&conn.bell);
        let close = match end {
            End::Close(code, reason) => {
                Some(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) })))
            }
            End::Alarm(why) => Some(alarm_close(why)),
            End::Gone => None,
        };
        if let Some(frame) = close {
            let _ = tokio::time::timeout(Duration::from_secs(1), conn.out.send(Out::Frame(frame))).await;
        }
        drop(conn);
        // The writer ends once every sender (ours, the forwarders', the writes') is gone.
        let _ = tokio::time::timeout(WRITE_TIMEOUT, writer).await;
    }

    /// Queues a frame for the socket; false when the socket is gone.
    async fn send(&self, text: String) -> bool {
        self.out.send(Out::text(text)).await.is_ok()
    }

    async fn send_error(&self, e: &ApiError, reference: Option<&str>) -> bool {
        self.send(ServerFrame::error(e, reference)).await
    }

    fn user(&self) -> Option<&User> {
        self.who.as_ref().and_then(|w| w.as_ref())
    }

    /// Handles one text frame; false when the socket is gone.
    async fn on_text(&mut self, text: &str) -> bool {
        let frame = match ClientFrame::parse(text) {
            Ok(f) => f,
            Err((e, nonce)) => return self.send_error(&e, nonce.as_deref()).await,
        };
        match frame {
            ClientFrame::Ping => return self.send(ServerFrame::Pong.to_json()).await,
            ClientFrame::Hello { token } => return self.hello(token.as_deref()).await,
            _ if self.who.is_none() => {
                let nonce = match &frame {
                    ClientFrame::Post { nonce, .. } | ClientFrame::CreateRoom { nonce, .. } => Some(nonce.as_str()),
                    _ => None,
                };
                return self.send_error(&ApiError::bad_request("send hello first"), nonce).await;
            }
            _ => {}
        }
        let result = match frame {
            ClientFrame::Subscribe { room, since } => self.subscribe(room, since),
            ClientFrame::Unsubscribe { room } => {
                self.unsubscribe(room);
                Ok(())
            }
            ClientFrame::SubscribeSpace { space } => self.subscribe_space(space),
            ClientFrame::UnsubscribeSpace { space } => {
                if let Some(h) = self.spaces.remove(&space) {
                    h.end();
                }
                Ok(())
            }
            ClientFrame::Typing { room } => self.app.typing(self.user(), room),
            ClientFrame::SubscribeQueue { to } => match self.subscribe_queue(to.as_deref()) {
                Ok(text) => return self.send(text).await,
                Err(e) => Err(e),
            },
            ClientFrame::Search { params, reference } => {
                let answer = self.app.search(self.user(), Some(self.peer), params).await;
                return match answer {
                    Ok(results) => {
                        let text = ServerFrame::SearchResults { reference: reference.as_deref(), results: &results };
                        self.send(text.to_json()).await
                    }
                    Err(e) => self.send_error(&e, reference.as_deref()).await,
                };
            }
            ClientFrame::Post { .. }
            | ClientFrame::CreateRoom { .. }
            | ClientFrame::Edit { .. }
            | ClientFrame::Delete { .. }
            | ClientFrame::React { .. }
            | ClientFrame::Read { .. } => return self.spawn_write(frame).await,
            ClientFrame::Ping | ClientFrame::Hello { .. } => Ok(()),
        };
        match result {
            Ok(()) => true,
            Err(e) => self.send_error(&e, None).await,
        }
    }

    async fn hello(&mut self, token: Option<&str>) -> bool {
        // Whatever the answer, the identity this socket had ends here, with everything
        // it was subscribed to: what the old one could read, the next one may not, and a
        // failed `hello` leaves the socket signed out with nothing to receive.
        self.unsubscribe_all();
        self.end_session();
        self.unring();
        self.who = None;
        let user = match token {
            None => None,
            Some(t) => {
                // Listen for revocation before checking the token, so a logout between
                // the two cannot be missed.
                let topic = Topic::Session(session_key(&token_hash(t)));
                self.session = Some((topic, self.app.hub.subscribe(topic)));
                let user = match self.app.authenticate(t) {
                    Ok(Some(u)) => u,
                    Ok(None) => {
                        self.end_session();
                        return self.send_error(&ApiError::unauthorized("invalid or revoked token"), None).await;
                    }
                    Err(e) => {
                        self.end_session();
                        return self.send_error(&e, None).await;
                    }
                };
                // Rung from now on; then checked again, so a suspension or removal
                // committed between the token check and here is not missed.
                self.app.bells.register(user.id, &self.bell);
                self.rung_for = Some(user.id);
                match self.app.authenticate(t) {
                    Ok(Some(u)) if u.id == user.id => Some(u),
                    _ => {
                        self.end_session();
                        self.unring();
                        return self.send_error(&ApiError::unauthorized("invalid or revoked token"), None).await;
                    }
                }
            }
        };
        let text = ServerFrame::Welcome { user: user.as_ref(), protocol: PROTOCOL_VERSION }.to_json();
        if let Some(u) = &user {
            // The user's own stream (read markers from their other devices), no subscribe
            // needed.
            let topic = Topic::User(u.id);
            let held = Held::new(&self.app, topic);
            let bell = self.bell.clone();
            let (cancel, registration) = LiveHandle::new_pair();
            // A lag here may have lost an access change: the socket closes, and the
            // client reconnects to what it may still read (and refetches notifications).
            let live = live_stream(held, registration, |_| true)
                .inspect(move |item| {
                    if matches!(item, LiveItem::Lagged(_)) {
                        bell.ring(Alarm::AccessChanged);
                    }
                })
                .boxed();
            if self.out.send(Out::Live(live)).await.is_err() {
                return false;
            }
            self.own = Some(cancel);
        }
        self.who = Some(user);
        self.send(text).await
    }

    fn subscribe(&mut self, room: RoomId, since: Option<u64>) -> ApiResult<()> {
        self.app.readable_room(self.user(), room)?;
        if !self.rooms.contains_key(&room) && self.subscriptions() >= self.app.config.max_subscriptions {
            return Err(subscription_limit(self.app.config.max_subscriptions));
        }
        let since = since.unwrap_or(0);
        // Subscribe to the live stream *before* reading the durable head: every event
        // past the head is then sure to arrive live, and those up to it come from the log.
        let held = Held::new(&self.app, Topic::Room(room));
        let head = self.app.store.durable_head(room);
        if since > head {
            return Err(ApiError::bad_request(format!("since {since} is past the room's head {head}")));
        }
        let me = self.user().map(|u| u.id);
        let (cancel, registration) = LiveHandle::new_pair();
        let replay = Replay { out: self.out.clone(), budget: self.replay_budget.clone() };
        let task = tokio::spawn(forward_room(self.app.clone(), room, since, head, held, replay, me, registration));
        match self.rooms.insert(room, Sub::new(task.abort_handle(), cancel)) {
            Some(old) => old.end(),
            None => {
                if let Some(user) = me {
                    self.app.presence.join(&self.app.hub, room, user);
                }
            }
        }
        Ok(())
    }

    fn unsubscribe(&mut self, room: RoomId) {
        if let Some(h) = self.rooms.remove(&room) {
            h.end();
            if let Some(user) = self.user().map(|u| u.id) {
                self.app.presence.leave(&self.app.hub, room, user);
            }
        }
    }

    fn subscribe_space(&mut self, space: SpaceId) -> ApiResult<()> {
        self.app.readable_space(self.user(), space)?;
        if !self.spaces.contains_key(&space) && self.subscriptions() >= self.app.config.max_subscriptions {
            return Err(subscription_limit(self.app.config.max_subscriptions));
        }
        let held = Held::new(&self.app, Topic::Space(space));
        let out = self.out.clone();
        let (cancel, registration) = LiveHandle::new_pair();
        let live = live_stream(held, registration, |_| true);
        let task = tokio::spawn(async move {
            let text = ServerFrame::SubscribedSpace { space }.to_json();
            if out.send(Out::text(text)).await.is_ok() {
                let _ = out.send(Out::Live(live)).await;
            }
        });
        if let Some(old) = self.spaces.insert(space, Sub::new(task.abort_handle(), cancel)) {
            old.end();
        }
        Ok(())
    }

    fn unsubscribe_all(&mut self) {
        let me = self.user().map(|u| u.id);
        for (room, h) in self.rooms.drain() {
            h.end();
            if let Some(user) = me {
                self.app.presence.leave(&self.app.hub, room, user);
            }
        }
        for (_, h) in self.spaces.drain() {
            h.end();
        }
        for (_, h) in self.queues.drain() {
            h.end();
        }
        if let Some(h) = self.own.take() {
            h.abort();
        }
    }

    /// Takes this socket's bell off its user's.
    fn unring(&mut self) {
        if let Some(user) = self.rung_for.take() {
            self.app.bells.unregister(user, &self.bell);
        }
    }

    fn end_session(&mut self) {
        if let Some((topic, rx)) = self.session.take() {
            drop(rx);
            self.app.hub.release(topic);
        }
    }

    fn subscriptions(&self) -> usize {
        self.rooms.len() + self.spaces.len() + self.queues.len()
    }

    /// Live queue items for the translator's pairs (into `to` only, when given).
    fn subscribe_queue(&mut self, to: Option<&str>) -> ApiResult<String> {
        let user = signed_in(self.user())?.clone();
        let targets = self.app.queue_targets(&user, to)?;
        for (to, froms) in &targets {
            let key = *to;
            if !self.queues.contains_key(&key) && self.subscriptions() >= self.app.config.max_subscriptions {
                return Err(subscription_limit(self.app.config.max_subscriptions));
            }
            let held = Held::new(&self.app, Topic::Queue(key));
            let (app, out, user) = (self.app.clone(), self.out.clone(), user.clone());
            let froms = froms.clone();
            let keep = move |msg: &HubMsg| match msg.scope {
                Some(scope) => froms.contains(&scope.from) && app.readable_space(Some(&user), scope.space).is_ok(),
                None => false,
            };
            let (cancel, registration) = LiveHandle::new_pair();
            let live = live_stream(held, registration, keep);
            let task = tokio::spawn(async move {
                let _ = out.send(Out::Live(live)).await;
            });
            if let Some(old) = self.queues.insert(key, Sub::new(task.abort_handle(), cancel)) {
                old.end();
            }
        }
        let to: Vec<&str> = targets.iter().map(|(t, _)| t.as_str()).collect();
        Ok(ServerFrame::SubscribedQueue { to }.to_json())
    }

    /// Runs a write as its own task, so the reader keeps reading while it waits for its
    /// group commit. Waits here when too many are in flight.
    async fn spawn_write(&mut self, frame: ClientFrame) -> bool {
        let Ok(permit) = self.inflight.clone().acquire_owned().await else { return false };
        let app = self.app.clone();
        let out = self.out.clone();
        let user = self.user().cloned();
        let turn = Turn::after(&mut self.last_write);
        tokio::spawn(async move {
            let text = write(&app, user.as_ref(), frame, turn).await;
            if !text.is_empty() {
                let _ = out.send(Out::text(text)).await;
            }
            drop(permit);
        });
        true
    }
}

fn subscription_limit(max: usize) -> ApiError {
    ApiError::bad_request(format!("subscription limit reached ({max} per connection): unsubscribe first"))
}

/// Performs a write frame; returns the frame to answer with (an ack, an event for
/// edits and deletes, or an error).
async fn write(app: &App, user: Option<&User>, frame: ClientFrame, mut turn: Turn) -> String {
    if !matches!(frame, ClientFrame::Post { .. } | ClientFrame::CreateRoom { .. }) {
        // Rare writes keep their order the simple way: after the one before, whole.
        turn.wait().await;
    }
    match frame {
        ClientFrame::Post { room, body, nonce, reply_to, lang, files } => {
            let p = NewPost { body, nonce: nonce.clone(), reply_to, lang, turn, files };
            match app.post(user, room, p).await {
                Ok(ack) => ack_frame(&nonce, &ack.post, ack.json.as_deref(), None),
                Err(e) => ServerFrame::error(&e, Some(&nonce)),
            }
        }
        ClientFrame::CreateRoom { space, title, body, nonce, lang, files } => {
            let p = NewPost { body, nonce: nonce.clone(), reply_to: None, lang, turn, files };
            match app.create_room(user, space, &title, p).await {
                Ok(ack) => ack_frame(&nonce, &ack.post, ack.json.as_deref(), ack.room.as_ref()),
                Err(e) => ServerFrame::error(&e, Some(&nonce)),
            }
        }
        ClientFrame::Edit { post, body, lang } => match app.edit(user, post, body, lang).await {
            Ok(c) => {
                ServerFrame::Event { room: c.post.room, seq: c.seq, kind: EventKind::Edit, post: &c.post }.to_json()
            }
            Err(e) => ServerFrame::error(&e, None),
        },
        ClientFrame::Delete { post } => match app.delete(user, post).await {
            Ok(c) => {
                ServerFrame::Event { room: c.post.room, seq: c.seq, kind: EventKind::Delete, post: &c.post }.to_json()
            }
            Err(e) => ServerFrame::error(&e, None),
        },
        ClientFrame::React { post, emoji, remove } => match app.react(user, post, &emoji, !remove).await {
            Ok(c) => {
                ServerFrame::Event { room: c.post.room, seq: c.seq, kind: EventKind::Reaction, post: &c.post }.to_json()
            }
            Err(e) => ServerFrame::error(&e, None),
        },
        ClientFrame::Read { room, seq } => match app.mark_read(user, room, seq).await {
            // Every socket of the user, this one included, hears it on the user's stream.
            Ok(_) => String::new(),
            Err(e) => ServerFrame::error(&e, None),
        },
        _ => ServerFrame::error(&ApiError::bad_request("not a write"), None),
    }
}

/// Counts a socket as open for as long as it lives.
struct OpenSocket(Arc<App>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.metrics.sockets_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Completes when the session's token is revoked; never without a session.
async fn revoked(session: &mut Option<(Topic, broadcast::Receiver<HubMsg>)>) {
    match session {
        Some((_, rx)) => {
            // Any message (or a lag, which only a flood of revocations could cause) means
            // the token is gone; a closed channel cannot happen while we hold a receiver.
            let _ = rx.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Releases a hub topic when a subscription ends, however it ends.
struct Release(Arc<App>, Topic);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.hub.release(self.1);
    }
}

//! The ceiling: the least a WebSocket broadcast server can do. tokio-tungstenite and one
//! tokio broadcast channel per room, nothing else: no sign-in, no storage, no JSON.
//!
//! Paths: `/r/N` subscribes to room N and broadcasts what it receives to room N;
//! `/p` only publishes, each message to the room named by its prefix (`N|...`); `/echo` answers every message with itself (the
//! ceiling's "ack" for the durable posting scenario); anything else is an idle socket.
//! Run as its own process (`load --ceiling-server PORT`), so its CPU and memory are its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

type Rooms = Arc<Mutex<HashMap<u32, broadcast::Sender<Utf8Bytes>>>>;

/// Serves until killed.
pub fn serve(port: u16) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let rooms: Rooms = Arc::default();
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            tokio::spawn(connection(stream, rooms.clone()));
        }
    });
}

enum Role {
    Subscriber(u32),
    Publisher,
    Echo,
    Idle,
}

fn room(rooms: &Rooms, n: u32) -> broadcast::Sender<Utf8Bytes> {
    let mut rooms = rooms.lock().expect("rooms");
    rooms.entry(n).or_insert_with(|| broadcast::channel(1024).0).clone()
}

async fn connection(stream: TcpStream, rooms: Rooms) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    // The error type is tungstenite's, fixed by its callback trait.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        path = req.uri().path().to_owned();
        Ok(resp)
    };
    // The same small buffers as the project's server, so memory compares like with like.
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(16 * 1024);
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await else {
        return;
    };
    let number = |p: &str| p.parse::<u32>().ok();
    let role = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "r", n] => number(n).map_or(Role::Idle, Role::Subscriber),
        ["", "p"] => Role::Publisher,
        ["", "echo"] => Role::Echo,
        _ => Role::Idle,
    };
    let (mut sink, mut source) = ws.split();
    match role {
        Role::Echo => {
            while let Some(Ok(msg)) = source.next().await {
                if msg.is_text() && sink.send(msg).await.is_err() {
                    break;
                }
            }
        }
        Role::Idle => while let Some(Ok(_)) = source.next().await {},
        Role::Publisher => {
            let mut known: HashMap<u32, broadcast::Sender<Utf8Bytes>> = HashMap::new();
            while let Some(Ok(msg)) = source.next().await {
                let Message::Text(text) = msg else { continue };
                let Some(n) = text.split_once('|').and_then(|(n, _)| n.parse().ok()) else { continue };
                let tx = known.entry(n).or_insert_with(|| room(&rooms, n));
                let _ = tx.send(text);
            }
        }
        Role::Subscriber(n) => {
            let tx = room(&rooms, n);
            let mut rx = tx.subscribe();
            let forward = tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(text) => {
                            // Batch what is already waiting into one flush.
                            if sink.feed(Message::Text(text)).await.is_err() {
                                break;
                            }
                            while let Ok(more) = rx.try_recv() {
                                if sink.feed(Message::Text(more)).await.is_err() {
                                    return;
                                }
                            }
                            if sink.flush().await.is_err() {
                                break;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            while let Some(Ok(msg)) = source.next().await {
                if let Message::Text(text) = msg {
                    let _ = tx.send(text);
                }
            }
            forward.abort();
        }
    }
}

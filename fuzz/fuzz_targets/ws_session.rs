//! Frames over a real WebSocket to a real server: whatever a client sends, the server
//! answers with JSON frames, keeps the socket open and keeps answering (a `ping` sent
//! after each input must get its `pong`). A panic in a connection task would drop the
//! socket without a close frame, which fails here.
//!
//! Input: byte 0 picks the socket (admin, member, guest without hello); the rest is one
//! frame, sent as text when it is UTF-8 and as a binary frame when not.
#![no_main]

use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Duration;

use collective_brain_fuzz::Live;
use libfuzzer_sys::fuzz_target;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

struct Sockets {
    live: Live,
    open: [Option<Socket>; 3],
}

static SOCKETS: OnceLock<Mutex<Sockets>> = OnceLock::new();

fn connect(live: &Live, who: usize) -> Socket {
    let (mut ws, _) = tungstenite::connect(format!("ws://{}/ws", live.addr)).expect("the server accepts a WebSocket");
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
    }
    let token = match who {
        0 => Some(&live.admin_token),
        1 => Some(&live.member_token),
        _ => None,
    };
    if let Some(t) = token {
        send(&mut ws, Message::text(serde_json::json!({"type": "hello", "token": t}).to_string())).expect("send hello");
        read_until(&mut ws, "welcome").unwrap_or_else(|end| panic!("no welcome: {end}"));
    }
    ws
}

/// Reads frames until one of type `wanted`; every frame must be a JSON object with a type.
/// Err when the socket ends first, with how it ended.
fn read_until(ws: &mut Socket, wanted: &str) -> Result<(), String> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_else(|e| panic!("a frame that is not JSON ({e}): {t}"));
                let kind = v["type"].as_str().unwrap_or_else(|| panic!("a frame without a type: {t}"));
                if kind == wanted {
                    return Ok(());
                }
            }
            Ok(Message::Close(frame)) => return Err(format!("closed: {frame:?}")),
            Ok(Message::Binary(b)) => panic!("the server sent a binary frame: {b:?}"),
            Ok(_) => {}
            // libFuzzer's timer signal interrupts blocking reads; nothing was consumed.
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("socket error: {e}")),
        }
    }
}

/// Sends a message; a write interrupted by libFuzzer's timer signal is finished by flushing.
fn send(ws: &mut Socket, msg: Message) -> tungstenite::Result<()> {
    let mut result = ws.send(msg);
    loop {
        match result {
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => result = ws.flush(),
            other => return other,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, frame)) = data.split_first() else { return };
    let sockets = SOCKETS.get_or_init(|| Mutex::new(Sockets { live: Live::start(), open: [None, None, None] }));
    let mut guard = sockets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let Sockets { live, open } = &mut *guard;
    let who = usize::from(first) % 3;
    let ws = open[who].get_or_insert_with(|| connect(live, who));
    let msg = match std::str::from_utf8(frame) {
        Ok(text) => Message::text(text),
        Err(_) => Message::binary(frame.to_vec()),
    };
    let sent = send(ws, msg).and_then(|()| send(ws, Message::text(r#"{"type":"ping"}"#)));
    let answered = match sent {
        Ok(()) => read_until(ws, "pong"),
        Err(e) => Err(format!("send failed: {e}")),
    };
    if let Err(end) = answered {
        // The only closes a single frame may cause are documented ones with a code; a
        // connection that just drops means the server's task for it died.
        let documented = end.contains("code: ") && !end.contains(&format!("{:?}", CloseCode::Error));
        assert!(documented, "the socket ended after {:?}: {end}", String::from_utf8_lossy(frame));
        open[who] = None;
        live.refresh_tokens();
    }
});

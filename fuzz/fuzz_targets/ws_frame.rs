//! The WebSocket frame parser alone: any text either parses into a frame or gives an
//! error frame that is JSON, of type `error`, carrying the frame's nonce when it had one.
#![no_main]

use collective_brain::protocol::{ClientFrame, ServerFrame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ClientFrame::parse(text) {
        Ok(frame) => {
            let _ = format!("{frame:?}");
        }
        Err((e, nonce)) => {
            let out = ServerFrame::error(&e, nonce.as_deref());
            let v: serde_json::Value = serde_json::from_str(&out).expect("the error frame is JSON");
            assert_eq!(v["type"], "error", "{out}");
            assert!(v["code"].is_string() || v["error"]["code"].is_string(), "the error has a code: {out}");
        }
    }
});

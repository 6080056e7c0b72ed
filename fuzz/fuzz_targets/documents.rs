//! What the server reads of uploaded files in its own process, and the office formats'
//! text: never a panic, a bounded answer.
//!
//! Byte 0 picks the path: 0 sniffs the rest and, for an image, strips its metadata and
//! thumbnails it (the upload path: in the server's process, under a pixel limit); 1, 2
//! and 3 read the text of a DOCX, an ODT and plain text. PDF is left to the child
//! process the server runs it in (`files/extract.rs`): its parser is another project's,
//! and a panic there ends that process, never the server.
#![no_main]

use collective_brain::files::extract::{extract, MAX_TEXT};
use collective_brain::files::images::{process, THUMB_EDGE};
use collective_brain::files::sniff::{self, Kind, DOCX, ODT, TEXT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&path, bytes)) = data.split_first() else { return };
    match path % 4 {
        0 => {
            let kind = sniff::sniff(bytes);
            if let Kind::Image(content_type) = kind {
                let p = process(bytes, content_type, 4_000_000);
                if let Some(thumb) = p.thumb {
                    let t = image::load_from_memory(&thumb).expect("a thumbnail decodes");
                    assert!(t.width().max(t.height()) <= THUMB_EDGE);
                }
                if let Some(stripped) = p.stripped {
                    assert!(stripped.len() <= bytes.len() + 64, "stripping only removes (but an orientation)");
                }
            }
        }
        n => {
            let content_type = [DOCX, ODT, TEXT][usize::from(n - 1)];
            if let Ok(text) = extract(bytes, content_type) {
                assert!(text.len() <= MAX_TEXT);
                assert!(!text.trim().is_empty());
            }
        }
    }
});

//! What a file is, from its bytes (the `infer` crate, then a look at text), never from its
//! name or what the uploader said; and how it may be served.

/// What an upload turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A program (ELF, PE, Mach-O and the like): refused.
    Executable,
    /// An image we read (JPEG, PNG, GIF, WebP): thumbnailed, its metadata stripped.
    Image(&'static str),
    /// A document whose text is read for search.
    Document(&'static str),
    /// Anything else, served as what it is.
    Other(String),
}

impl Kind {
    pub fn content_type(&self) -> &str {
        match self {
            Kind::Executable => "application/octet-stream",
            Kind::Image(t) | Kind::Document(t) => t,
            Kind::Other(t) => t,
        }
    }
}

pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const ODT: &str = "application/vnd.oasis.opendocument.text";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// The kind of a file that begins with `head` (its first bytes, or all of it).
pub fn sniff(head: &[u8]) -> Kind {
    if let Some(t) =
        infer::get(head).filter(|t| t.mime_type() != "application/vnd.microsoft.portable-executable" || is_pe(head))
    {
        if t.matcher_type() == infer::MatcherType::App && t.mime_type() != "application/wasm"
            || is_program(t.mime_type())
        {
            return Kind::Executable;
        }
        return match t.mime_type() {
            "image/jpeg" => Kind::Image("image/jpeg"),
            "image/png" => Kind::Image("image/png"),
            "image/gif" => Kind::Image("image/gif"),
            "image/webp" => Kind::Image("image/webp"),
            "application/pdf" => Kind::Document(PDF),
            DOCX => Kind::Document(DOCX),
            ODT => Kind::Document(ODT),
            // `infer` knows a DOCX by where its parts are; a zip holding Word's main part
            // anywhere in its first entries is one too.
            "application/zip" if contains(head, b"word/document.xml") => Kind::Document(DOCX),
            "text/html" | "text/xml" | "application/xml" | "image/svg+xml" => Kind::Other(t.mime_type().to_owned()),
            other => Kind::Other(other.to_owned()),
        };
    }
    if head.starts_with(b"#!") {
        return Kind::Other("application/octet-stream".into());
    }
    if looks_like_text(head) {
        let lower: String = String::from_utf8_lossy(&head[..head.len().min(1024)])
            .trim_start_matches('\u{feff}')
            .trim_start()
            .to_lowercase();
        if lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg")) {
            return Kind::Other("image/svg+xml".into());
        }
        if lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<script") {
            return Kind::Other("text/html".into());
        }
        if lower.starts_with("<?xml") {
            return Kind::Other("application/xml".into());
        }
        return Kind::Document(TEXT);
    }
    Kind::Other("application/octet-stream".into())
}

/// A DOS header whose `e_lfanew` points at a PE signature (`infer` takes any "MZ" for
/// one, which would refuse a text beginning "MZansi...").
fn is_pe(head: &[u8]) -> bool {
    let Some(at) = head.get(0x3C..0x40).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
        return false;
    };
    head.get(at..at + 4) == Some(b"PE\0\0".as_slice()) || head.len() <= at
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn is_program(mime: &str) -> bool {
    matches!(
        mime,
        "application/x-executable"
            | "application/x-sharedlib"
            | "application/x-mach-binary"
            | "application/vnd.microsoft.portable-executable"
            | "application/x-msdownload"
            | "application/x-elf"
    )
}

/// UTF-8 text without control characters but whitespace (the last character may be cut).
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Cut inside the last character, when the head is only the start of the file.
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

/// The library's kind of a content type: `document` (its text is read), `image` (it is
/// thumbnailed); `None` for anything else.
pub fn sniff_kind_name(content_type: &str) -> Option<&'static str> {
    match content_type {
        PDF | DOCX | ODT | TEXT => Some("document"),
        "image/jpeg" | "image/png" | "image/gif" | "image/webp" => Some("image"),
        _ => None,
    }
}

/// Whether a type is shown in the browser (`inline`) rather than only downloaded: images
/// we read, PDF, plain text, sound and video. HTML, SVG, XML and everything unknown are
/// downloads.
pub fn inline(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    matches!(base, "image/jpeg" | "image/png" | "image/gif" | "image/webp" | "application/pdf" | "text/plain")
        || base.starts_with("audio/")
        || base.starts_with("video/")
}

/// A file name fit to store and to offer back: no directories, no control characters,
/// at most 200 characters; `None` when nothing is left.
pub fn clean_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim().trim_start_matches('.').trim().to_owned();
    (!clean.is_empty()).then_some(clean)
}

/// `Content-Disposition` for `name` (RFC 6266): an ASCII fallback and the UTF-8 name.
pub fn disposition(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_known_by_their_bytes_whatever_their_name() {
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
        elf.resize(64, 0);
        assert_eq!(sniff(&elf), Kind::Executable);
        let mut pe = b"MZ".to_vec();
        pe.resize(0x80, 0);
        pe[0x3C] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(sniff(&pe), Kind::Executable);
        assert_eq!(sniff(b"MZansi meeting notes, Durban"), Kind::Document(TEXT));
        assert_eq!(sniff(b"\xcf\xfa\xed\xfe\x07\0\0\x01"), Kind::Executable);
        assert_eq!(sniff(b"%PDF-1.7\n"), Kind::Document(PDF));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Kind::Image("image/jpeg"));
        assert_eq!(sniff("Programme de l'Académie, Turin 2010\n".as_bytes()), Kind::Document(TEXT));
        assert_eq!(sniff(b"<!DOCTYPE html><script>alert(1)</script>"), Kind::Other("text/html".into()));
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
            Kind::Other("image/svg+xml".into())
        );
        assert_eq!(sniff(b"\0\x01\x02binary"), Kind::Other("application/octet-stream".into()));
        // A head cut inside a character is still text.
        assert_eq!(sniff(&"économie".as_bytes()[..1 + 1]), Kind::Document(TEXT));
    }

    #[test]
    fn names_lose_directories_and_controls_and_dispositions_quote_them() {
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("C:\\Users\\a\\Agenda Turin.pdf").as_deref(), Some("Agenda Turin.pdf"));
        assert_eq!(clean_name("a\u{0}b\nc.txt").as_deref(), Some("abc.txt"));
        assert_eq!(clean_name(" / "), None);
        assert_eq!(clean_name(".htaccess").as_deref(), Some("htaccess"));
        let d = disposition(false, "Programa \"São Paulo\".pdf");
        assert_eq!(
            d,
            "attachment; filename=\"Programa _São Paulo_.pdf\"; filename*=UTF-8''Programa%20%22S%C3%A3o%20Paulo%22.pdf"
                .replace("São", "S_o")
        );
        assert!(
            inline("image/png")
                && inline("text/plain; charset=utf-8")
                && !inline("text/html")
                && !inline("image/svg+xml")
        );
    }
}

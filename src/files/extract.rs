//! The text of documents, for search: PDF (`pdf-extract`), DOCX and ODT (their XML, read
//! from the zip with a cap on what is inflated), plain text. It runs in a child process
//! (`collective-brain extract TYPE FILE`, see `main.rs`) that limits its own memory and
//! CPU time before reading anything, and that the server kills past a wall-clock limit
//! (`service::files`): a hostile document (a zip bomb, a PDF that loops or panics the
//! parser) ends that process, never the server, and leaves an entry in the log.

use std::io::Read;

use super::sniff::{DOCX, ODT, PDF, TEXT};

/// Text kept of one document, in bytes: about 300 pages.
pub const MAX_TEXT: usize = 1 << 20;
/// Bytes inflated from a document's XML at most (a zip bomb stops here).
const MAX_XML: u64 = 64 << 20;

/// The text of a document of `content_type`, whitespace tidied, at most [`MAX_TEXT`]
/// bytes; an error says why there is none.
pub fn extract(bytes: &[u8], content_type: &str) -> Result<String, String> {
    let raw = match content_type {
        PDF => pdf_extract::extract_text_from_mem(bytes).map_err(|e| format!("PDF: {e}"))?,
        DOCX => office_text(bytes, "word/document.xml", b"p", &[b"t"], &[b"tab"])?,
        ODT => office_text(bytes, "content.xml", b"p", &[b"p", b"h", b"span", b"a", b"s"], &[b"tab"])?,
        TEXT => String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_TEXT * 2)]).into_owned(),
        other => return Err(format!("no text is read from {other}")),
    };
    let text = tidy(&raw);
    if text.trim().is_empty() {
        return Err("no text in it (a scan?)".into());
    }
    Ok(text)
}

/// The text of an office document's XML part `name`: the text inside elements named in
/// `text_in` (any namespace), a line break after each `para` element, a tab for `tab`.
fn office_text(bytes: &[u8], name: &str, para: &[u8], text_in: &[&[u8]], tab: &[&[u8]]) -> Result<String, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("zip: {e}"))?;
    let part = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    // Parsed as it is inflated, never whole in memory.
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(part.take(MAX_XML)));
    let mut out = String::new();
    let mut depth_in_text = 0usize;
    let mut buf = Vec::new();
    loop {
        use quick_xml::events::Event;
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                if text_in.contains(&e.local_name().as_ref()) {
                    depth_in_text += 1;
                }
            }
            Ok(Event::Empty(e)) => {
                let n = e.local_name();
                if tab.contains(&n.as_ref()) {
                    out.push('\t');
                } else if n.as_ref() == para || n.as_ref() == b"line-break" || n.as_ref() == b"br" {
                    out.push('\n');
                } else if n.as_ref() == b"s" {
                    out.push(' ');
                }
            }
            Ok(Event::End(e)) => {
                let n = e.local_name();
                if text_in.contains(&n.as_ref()) {
                    depth_in_text = depth_in_text.saturating_sub(1);
                }
                if n.as_ref() == para || n.as_ref() == b"h" {
                    out.push('\n');
                }
            }
            Ok(Event::Text(t)) if depth_in_text > 0 => {
                out.push_str(&String::from_utf8_lossy(&t));
            }
            Ok(Event::GeneralRef(r)) if depth_in_text > 0 => {
                // &amp; &lt; and friends, and numeric character references.
                let name = String::from_utf8_lossy(&r);
                out.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
                if let Some(c) = r.resolve_char_ref().ok().flatten() {
                    out.push(c);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("{name}: {e}")),
        }
        if out.len() > MAX_TEXT * 2 {
            break;
        }
        buf.clear();
    }
    Ok(out)
}

/// Lines trimmed, runs of blank lines made one, at most [`MAX_TEXT`] bytes (cut at a
/// character's edge).
fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_TEXT));
    let mut blank = true;
    for line in raw.lines() {
        let line: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        out.push_str(&line);
        out.push('\n');
        blank = false;
        if out.len() >= MAX_TEXT {
            break;
        }
    }
    if out.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// The child process's side: limits its own memory and CPU time, then prints the text
/// of `path` (of `content_type`) on standard output. Run by `collective-brain extract`.
pub fn run_child(content_type: &str, path: &std::path::Path, memory_mb: u64, cpu_secs: u64) -> Result<String, String> {
    let bytes = memory_mb.saturating_mul(1024 * 1024);
    rlimit::setrlimit(rlimit::Resource::AS, bytes, bytes).map_err(|e| format!("memory limit: {e}"))?;
    rlimit::setrlimit(rlimit::Resource::CPU, cpu_secs, cpu_secs).map_err(|e| format!("CPU limit: {e}"))?;
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    extract(&data, content_type)
}

/// Test documents, made here rather than shipped: a PDF, a DOCX and an ODT holding lines
/// of text (tests, benchmarks).
pub mod samples {
    use std::io::Write;

    fn zip(parts: &[(&str, String)]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut out);
            for (name, body) in parts {
                // ODT's `mimetype` is stored, first, as readers look for it there.
                let method =
                    if *name == "mimetype" { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
                let opts = zip::write::SimpleFileOptions::default().compression_method(method);
                let _ = z.start_file(*name, opts);
                let _ = z.write_all(body.as_bytes());
            }
            let _ = z.finish();
        }
        out.into_inner()
    }

    fn escape(t: &str) -> String {
        t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }

    pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", escape(p)))
            .collect();
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
        );
        let types = "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>".to_owned();
        zip(&[("[Content_Types].xml", types), ("word/document.xml", doc)])
    }

    /// A PDF of `lines` (Latin-1 text in Helvetica, WinAnsi: other characters become `?`),
    /// 50 lines a page: objects 1 (catalog), 2 (pages), 3 (font), then each page's content
    /// and page.
    pub fn pdf(lines: &[&str]) -> Vec<u8> {
        let pages: Vec<&[&str]> = lines.chunks(50).collect();
        let kids: Vec<String> = (0..pages.len()).map(|k| format!("{} 0 R", 5 + 2 * k)).collect();
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).into_bytes(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        ];
        for (k, page) in pages.iter().enumerate() {
            let mut content = b"BT /F1 9 Tf 40 800 Td 12 TL\n".to_vec();
            for l in page.iter() {
                content.push(b'(');
                for c in l.chars() {
                    match c {
                        '(' | ')' | '\\' => content.extend_from_slice(&[b'\\', c as u8]),
                        c if (c as u32) < 256 => content.extend_from_slice(format!("\\{:03o}", c as u32).as_bytes()),
                        _ => content.push(b'?'),
                    }
                }
                content.extend_from_slice(b") Tj T*\n");
            }
            content.extend_from_slice(b"ET\n");
            let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
            stream.extend_from_slice(&content);
            stream.extend_from_slice(b"endstream");
            objects.push(stream);
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
                    4 + 2 * k
                )
                .into_bytes(),
            );
        }
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        out
    }

    pub fn odt(paragraphs: &[&str]) -> Vec<u8> {
        let body: String = paragraphs.iter().map(|p| format!("<text:p>{}</text:p>", escape(p))).collect();
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>{body}</office:text></office:body></office:document-content>"
        );
        zip(&[("mimetype", "application/vnd.oasis.opendocument.text".to_owned()), ("content.xml", doc)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_documents_and_text_are_read_and_broken_ones_give_nothing() {
        let docx = samples::docx(&["Économie sociale & solidaire", "Séance 2 : coopératives"]);
        assert_eq!(super::super::sniff::sniff(&docx), super::super::sniff::Kind::Document(DOCX));
        assert_eq!(extract(&docx, DOCX).unwrap(), "Économie sociale & solidaire\nSéance 2 : coopératives\n");
        let odt = samples::odt(&["Economia social", "Cooperativas de crédito"]);
        assert_eq!(super::super::sniff::sniff(&odt), super::super::sniff::Kind::Document(ODT));
        assert_eq!(extract(&odt, ODT).unwrap(), "Economia social\nCooperativas de crédito\n");
        assert_eq!(extract("  a   b \n\n\n c".as_bytes(), TEXT).unwrap(), "a b\n\nc\n");
        assert!(extract(b"PK\x03\x04 not a zip", DOCX).is_err());
        assert!(extract(b"%PDF-1.4 broken", PDF).is_err());
        assert!(extract(b"   \n ", TEXT).is_err());
        let long = "palavra ".repeat(MAX_TEXT);
        assert!(extract(long.as_bytes(), TEXT).unwrap().len() <= MAX_TEXT);
    }
}

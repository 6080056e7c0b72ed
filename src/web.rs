//! The web client: the files of `web/`, embedded in the binary and served at `/` and
//! `/assets/...`, or read from a directory while developing (`--web-dir`).
//!
//! Every page is sent with a Content-Security-Policy that allows only this origin's
//! scripts, styles and sockets: even if user text ever reached the DOM as HTML, no
//! script of it could run. Each file carries an `ETag` (a hash of its bytes) and
//! `Cache-Control: no-cache`, so a returning browser revalidates and gets `304 Not
//! Modified` with no body; the HTTP layer compresses what is sent (gzip or brotli).

use std::path::Path;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The embedded files: path under `web/`, content.
pub const FILES: &[(&str, &[u8])] = &[
    ("index.html", include_bytes!("../web/index.html")),
    ("style.css", include_bytes!("../web/style.css")),
    ("app.js", include_bytes!("../web/app.js")),
    ("admin.js", include_bytes!("../web/admin.js")),
    ("people.js", include_bytes!("../web/people.js")),
    ("desk.js", include_bytes!("../web/desk.js")),
    ("search.js", include_bytes!("../web/search.js")),
    ("notifications.js", include_bytes!("../web/notifications.js")),
    ("files.js", include_bytes!("../web/files.js")),
    ("dom.js", include_bytes!("../web/dom.js")),
    ("api.js", include_bytes!("../web/api.js")),
    ("socket.js", include_bytes!("../web/socket.js")),
    ("i18n.js", include_bytes!("../web/i18n.js")),
    ("i18n/en.js", include_bytes!("../web/i18n/en.js")),
    ("i18n/fr.js", include_bytes!("../web/i18n/fr.js")),
    ("i18n/es.js", include_bytes!("../web/i18n/es.js")),
    ("i18n/pt.js", include_bytes!("../web/i18n/pt.js")),
    ("i18n/admin-en.js", include_bytes!("../web/i18n/admin-en.js")),
    ("i18n/admin-fr.js", include_bytes!("../web/i18n/admin-fr.js")),
    ("i18n/admin-es.js", include_bytes!("../web/i18n/admin-es.js")),
    ("i18n/admin-pt.js", include_bytes!("../web/i18n/admin-pt.js")),
    ("i18n/people-en.js", include_bytes!("../web/i18n/people-en.js")),
    ("i18n/people-fr.js", include_bytes!("../web/i18n/people-fr.js")),
    ("i18n/people-es.js", include_bytes!("../web/i18n/people-es.js")),
    ("i18n/people-pt.js", include_bytes!("../web/i18n/people-pt.js")),
    ("i18n/desk-en.js", include_bytes!("../web/i18n/desk-en.js")),
    ("i18n/desk-fr.js", include_bytes!("../web/i18n/desk-fr.js")),
    ("i18n/desk-es.js", include_bytes!("../web/i18n/desk-es.js")),
    ("i18n/desk-pt.js", include_bytes!("../web/i18n/desk-pt.js")),
    ("i18n/files-en.js", include_bytes!("../web/i18n/files-en.js")),
    ("i18n/errors-en.js", include_bytes!("../web/i18n/errors-en.js")),
    ("i18n/errors-fr.js", include_bytes!("../web/i18n/errors-fr.js")),
    ("i18n/errors-es.js", include_bytes!("../web/i18n/errors-es.js")),
    ("i18n/errors-pt.js", include_bytes!("../web/i18n/errors-pt.js")),
    ("i18n/files-fr.js", include_bytes!("../web/i18n/files-fr.js")),
    ("i18n/files-es.js", include_bytes!("../web/i18n/files-es.js")),
    ("i18n/files-pt.js", include_bytes!("../web/i18n/files-pt.js")),
    ("favicon.svg", include_bytes!("../web/favicon.svg")),
];

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The ETag of some bytes: the first 16 bytes of their SHA-256, quoted.
fn etag(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// The ETags of the embedded files, in `FILES` order, hashed once.
fn embedded_etags() -> &'static [String] {
    static ETAGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ETAGS.get_or_init(|| FILES.iter().map(|(_, b)| etag(b)).collect())
}

/// Whether an `If-None-Match` header names `tag` (or `*`).
fn matches(if_none_match: Option<&HeaderValue>, tag: &str) -> bool {
    let Some(v) = if_none_match.and_then(|v| v.to_str().ok()) else { return false };
    v.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == tag || t == "*")
}

/// The file at `path` (relative to `web/`), from `dir` when given, else embedded; `304`
/// when the client's `If-None-Match` names its current ETag.
pub fn serve(dir: Option<&Path>, path: &str, if_none_match: Option<&HeaderValue>) -> Response {
    // Only plain relative names: no `..`, no absolute paths, no backslashes.
    let clean = !path.is_empty()
        && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !path.contains('\\');
    let body: Option<(Vec<u8>, String)> = if !clean {
        None
    } else if let Some(dir) = dir {
        std::fs::read(dir.join(path)).ok().map(|b| {
            let tag = etag(&b);
            (b, tag)
        })
    } else {
        FILES.iter().position(|(p, _)| *p == path).map(|i| (FILES[i].1.to_vec(), embedded_etags()[i].clone()))
    };
    match body {
        Some((b, tag)) => {
            let fresh = matches(if_none_match, &tag);
            let mut r = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { b.into_response() };
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&tag) {
                h.insert(header::ETAG, v);
            }
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_web_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let p = e.map(|e| e.path()).unwrap_or_default();
                let name = p.strip_prefix(&root).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_default();
                if name == "tests" || name.starts_with("tests/") || name == "node_modules" {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else {
                    on_disk.push(name);
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "web/ and web::FILES differ");
    }

    /// The keys of a catalogue module (`"key": "text",` lines).
    fn keys(js: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(js);
        let mut k: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"').and_then(|r| r.split_once("\":")).map(|(k, _)| k.to_owned()))
            .collect();
        k.sort();
        k
    }

    #[test]
    fn the_four_catalogues_have_the_same_strings() {
        let file = |p: &str| FILES.iter().find(|(f, _)| *f == p).map(|(_, b)| *b).unwrap_or_default();
        let en = keys(file("i18n/en.js"));
        assert!(en.len() > 50, "{} keys", en.len());
        let mut all = en.clone();
        for l in ["fr", "es", "pt"] {
            assert_eq!(keys(file(&format!("i18n/{l}.js"))), en, "i18n/{l}.js differs from i18n/en.js");
        }
        // The parts loaded with a page.
        for part in ["admin", "people", "desk", "files", "errors"] {
            let part_en = keys(file(&format!("i18n/{part}-en.js")));
            assert!(part_en.len() > 10, "{part}: {} keys", part_en.len());
            for l in ["fr", "es", "pt"] {
                assert_eq!(keys(file(&format!("i18n/{part}-{l}.js"))), part_en, "i18n/{part}-{l}.js differs");
            }
            all.extend(part_en);
        }
        let en = all;
        // Every key the client uses exists.
        let app = [
            file("app.js"),
            file("admin.js"),
            file("people.js"),
            file("desk.js"),
            file("search.js"),
            file("notifications.js"),
            file("files.js"),
            file("api.js"),
        ]
        .map(String::from_utf8_lossy)
        .join("\n");
        let mut parts = app.split("t(\"");
        let mut before = parts.next().unwrap_or_default();
        for part in parts {
            // `t("...")` itself, not `import("...")` or `x.t("...")`.
            let called = !before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
            if let Some((key, _)) = part.split_once('"').filter(|_| called) {
                if key.contains('.') && !key.ends_with('.') {
                    assert!(en.contains(&key.to_owned()), "the client uses {key:?}, missing from the catalogues");
                }
            }
            before = part;
        }
    }

    #[test]
    fn paths_cannot_leave_the_directory() {
        for p in ["../Cargo.toml", "/etc/passwd", "a//b", "i18n/../../x", "", "a\\b"] {
            assert_eq!(serve(None, p, None).status(), StatusCode::NOT_FOUND, "{p}");
        }
        assert_eq!(serve(None, "app.js", None).status(), StatusCode::OK);
    }

    #[test]
    fn every_error_code_and_field_error_of_the_server_has_words_in_the_catalogues() {
        let file = |p: &str| FILES.iter().find(|(f, _)| *f == p).map(|(_, b)| *b).unwrap_or_default();
        // Field errors' words are a part of their own, loaded with the first one.
        let mut en = keys(file("i18n/en.js"));
        en.extend(keys(file("i18n/errors-en.js")));
        let codes = [
            crate::error::Code::BadRequest,
            crate::error::Code::Unauthorized,
            crate::error::Code::Forbidden,
            crate::error::Code::NotFound,
            crate::error::Code::Conflict,
            crate::error::Code::TooLarge,
            crate::error::Code::RateLimited,
            crate::error::Code::Unavailable,
            crate::error::Code::InsufficientStorage,
            crate::error::Code::Internal,
        ];
        for code in codes {
            let name = serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            assert!(en.contains(&format!("error.{name}")), "no words for the error code {name}");
        }
        // Every `ApiError::field("name", ...)` of the server's code.
        let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        let mut fields = std::collections::BTreeSet::new();
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let p = e.map(|e| e.path()).unwrap_or_default();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    for part in text.split("ApiError::field(\"").skip(1) {
                        if let Some((name, _)) = part.split_once('"') {
                            fields.insert(name.to_owned());
                        }
                    }
                }
            }
        }
        assert!(fields.len() > 10, "{fields:?}");
        for f in fields {
            assert!(en.contains(&format!("error.field.{f}")), "no words for the field error of {f:?}");
        }
    }
}

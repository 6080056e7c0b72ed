//! Field checks with clear messages. Each returns the cleaned value or a `bad_request`
//! naming the field.

use crate::error::{ApiError, ApiResult};
use crate::lang::is_iso639_1;

pub const HANDLE_MIN: usize = 3;
pub const HANDLE_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;
pub const DISPLAY_NAME_MAX: usize = 64;
pub const TITLE_MAX: usize = 200;
pub const NONCE_MAX: usize = 64;
pub const SLUG_MAX: usize = 48;
pub const SPACE_NAME_MAX: usize = 100;
pub const LANGUAGES_MAX: usize = 8;

/// Handles: 3 to 32 of `a-z 0-9 _ . -`, starting with a letter or digit. Case is kept
/// for display; uniqueness ignores it.
pub fn handle(h: &str) -> ApiResult<String> {
    let n = h.chars().count();
    if !(HANDLE_MIN..=HANDLE_MAX).contains(&n) {
        return Err(ApiError::field("handle", format!("must be {HANDLE_MIN} to {HANDLE_MAX} characters long")));
    }
    if !h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err(ApiError::field("handle", "may contain only letters a-z, digits, '_', '.' and '-'"));
    }
    if !h.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(ApiError::field("handle", "must start with a letter or a digit"));
    }
    Ok(h.to_owned())
}

pub fn password(p: &str) -> ApiResult<()> {
    let n = p.chars().count();
    if n < PASSWORD_MIN {
        return Err(ApiError::field("password", format!("must be at least {PASSWORD_MIN} characters long")));
    }
    if p.len() > PASSWORD_MAX {
        return Err(ApiError::field("password", format!("must be at most {PASSWORD_MAX} bytes long")));
    }
    Ok(())
}

/// Trims; 1 to 64 characters, no control characters.
pub fn display_name(d: &str) -> ApiResult<String> {
    let d = d.trim();
    if d.is_empty() {
        return Err(ApiError::field("display_name", "must not be empty"));
    }
    if d.chars().count() > DISPLAY_NAME_MAX {
        return Err(ApiError::field("display_name", format!("must be at most {DISPLAY_NAME_MAX} characters long")));
    }
    if d.chars().any(char::is_control) {
        return Err(ApiError::field("display_name", "must not contain control characters"));
    }
    Ok(d.to_owned())
}

/// ISO 639-1 codes, deduplicated in order, at most 8.
pub fn languages(field: &'static str, langs: &[String]) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for l in langs {
        if !is_iso639_1(l) {
            return Err(ApiError::field(field, format!("{l:?} is not an ISO 639-1 code such as \"en\" or \"pt\"")));
        }
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    if out.len() > LANGUAGES_MAX {
        return Err(ApiError::field(field, format!("at most {LANGUAGES_MAX} languages")));
    }
    Ok(out)
}

pub fn lang(l: &str) -> ApiResult<String> {
    if !is_iso639_1(l) {
        return Err(ApiError::field("lang", format!("{l:?} is not an ISO 639-1 code such as \"en\" or \"pt\"")));
    }
    Ok(l.to_owned())
}

/// A post body: not blank, at most `max` bytes.
pub fn body(b: &str, max: usize) -> ApiResult<()> {
    if b.trim().is_empty() {
        return Err(ApiError::field("body", "must not be empty"));
    }
    if b.len() > max {
        return Err(ApiError::too_large(format!("body: {} bytes is over the limit of {max}", b.len())));
    }
    Ok(())
}

pub fn title(t: &str) -> ApiResult<String> {
    let t = t.trim();
    if t.is_empty() {
        return Err(ApiError::field("title", "must not be empty"));
    }
    if t.chars().count() > TITLE_MAX {
        return Err(ApiError::field("title", format!("must be at most {TITLE_MAX} characters long")));
    }
    if t.chars().any(char::is_control) {
        return Err(ApiError::field("title", "must not contain control characters"));
    }
    Ok(t.to_owned())
}

pub fn nonce(n: &str) -> ApiResult<()> {
    if n.is_empty() || n.len() > NONCE_MAX {
        return Err(ApiError::field("nonce", format!("must be 1 to {NONCE_MAX} bytes long")));
    }
    Ok(())
}

/// A reaction: an emoji or a short code, 1 to 32 bytes, no spaces or control characters.
pub fn reaction(e: &str) -> ApiResult<String> {
    if e.is_empty() || e.len() > 32 {
        return Err(ApiError::field("emoji", "must be 1 to 32 bytes long"));
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::field("emoji", "must not contain spaces or control characters"));
    }
    Ok(e.to_owned())
}

pub fn slug(s: &str) -> ApiResult<String> {
    if s.is_empty() || s.len() > SLUG_MAX {
        return Err(ApiError::field("slug", format!("must be 1 to {SLUG_MAX} characters long")));
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(ApiError::field("slug", "may contain only a-z, 0-9 and '-'"));
    }
    Ok(s.to_owned())
}

pub fn space_name(n: &str) -> ApiResult<String> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > SPACE_NAME_MAX {
        return Err(ApiError::field("name", format!("must be 1 to {SPACE_NAME_MAX} characters long")));
    }
    Ok(n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert!(handle("ana_maria").is_ok());
        assert!(handle("Zé").is_err());
        assert!(handle("ab").is_err());
        assert!(handle("_lead").is_err());
        assert!(handle(&"a".repeat(33)).is_err());
        assert_eq!(handle("a b").unwrap_err().field, Some("handle"));
    }

    #[test]
    fn bodies() {
        assert!(body("  ", 10).is_err());
        assert_eq!(body("0123456789x", 10).unwrap_err().code, crate::error::Code::TooLarge);
        assert!(body("olá", 10).is_ok());
    }

    #[test]
    fn language_lists() {
        assert_eq!(languages("languages", &["pt".into(), "en".into(), "pt".into()]).unwrap(), vec!["pt", "en"]);
        assert!(languages("languages", &["portuguese".into()]).is_err());
    }
}

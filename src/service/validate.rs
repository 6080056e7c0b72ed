//! Field checks with clear messages. Each returns the cleaned value or a `bad_request`
//! naming the field.

use crate::error::{ApiError, ApiResult};
use crate::model::Lang;

pub const HANDLE_MIN: usize = 3;
pub const HANDLE_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 10;
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

/// At least 10 characters, at most 1 KiB, not one of the passwords that attackers try
/// first, and more than one character repeated.
pub fn password(p: &str) -> ApiResult<()> {
    let n = p.chars().count();
    if n < PASSWORD_MIN {
        return Err(ApiError::field("password", format!("must be at least {PASSWORD_MIN} characters long")));
    }
    if p.len() > PASSWORD_MAX {
        return Err(ApiError::field("password", format!("must be at most {PASSWORD_MAX} bytes long")));
    }
    let lower = p.to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 3 || COMMON_PASSWORDS.contains(&lower.as_str()) || is_run(&lower) {
        return Err(ApiError::field("password", "is too easy to guess: choose a phrase of a few words"));
    }
    Ok(())
}

/// Passwords of 10 characters or more among the most common in public breach lists
/// (the lists of the most used passwords that password managers and NIST SP 800-63B
/// recommend checking against), lower-cased.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "0987654321",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "asdfghjkl1",
    "zxcvbnm123",
    "password12",
    "password123",
    "password1234",
    "password!1",
    "passw0rd12",
    "p@ssw0rd12",
    "iloveyou12",
    "iloveyou123",
    "football123",
    "baseball123",
    "princess12",
    "sunshine12",
    "welcome123",
    "welcome1234",
    "letmein123",
    "monkey1234",
    "dragon1234",
    "master1234",
    "abc1234567",
    "abcdefghij",
    "abcd123456",
    "admin12345",
    "administrator",
    "changeme123",
    "trustno1234",
    "superman123",
    "q1w2e3r4t5",
    "1a2b3c4d5e",
    "11223344556",
    "1122334455",
    "qazwsxedcrfv",
    "michael123",
    "jennifer12",
    "computer12",
    "whatever12",
    "starwars12",
    "1234qwerty",
    "123qweasdzxc",
    "qweasdzxc123",
    "collectivebrain",
    "collective brain",
    "solidarity",
    "solidarity123",
];

/// Whether `p` is a run of consecutive characters (`0123456789`, `abcdefghijk`, or backwards).
fn is_run(p: &str) -> bool {
    let c: Vec<u32> = p.chars().map(u32::from).collect();
    let up = c.windows(2).all(|w| w[1] == w[0] + 1);
    let down = c.windows(2).all(|w| w[0] == w[1] + 1);
    up || down
}

/// Characters that show nothing: zero-width ones, joiners, bidi controls, the BOM, and
/// the like. A name or a body made only of them is empty to the reader.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

/// Bidi overrides and isolates, which reorder what follows them: a name with them can
/// show as another.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A name's skeleton for telling look-alikes apart: lower-cased, invisible characters
/// dropped, and common confusables (Cyrillic and Greek letters that look Latin, digits
/// that look like letters, full-width forms) folded to one Latin letter.
pub fn skeleton(name: &str) -> String {
    name.chars()
        .filter(|c| !is_invisible(*c) && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'а' | 'α' | '@' => 'a',
            'в' | 'β' => 'b',
            'с' | 'ϲ' => 'c',
            'е' | 'ε' | 'ё' => 'e',
            'һ' => 'h',
            'i' | 'і' | 'ї' | 'ι' | '1' | 'l' | '|' | 'ı' => 'l',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'п' | 'η' => 'n',
            'о' | 'ο' | '0' | 'σ' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' | '5' | '$' => 's',
            'т' | 'τ' => 't',
            'υ' | 'ц' => 'u',
            'ѵ' | 'ν' => 'v',
            'ш' | 'ω' => 'w',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect()
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
    if d.chars().any(is_bidi_control) {
        return Err(ApiError::field("display_name", "must not contain text direction controls"));
    }
    if d.chars().all(|c| is_invisible(c) || c.is_whitespace()) {
        return Err(ApiError::field("display_name", "must have visible characters"));
    }
    Ok(d.to_owned())
}

/// ISO 639-1 codes, deduplicated in order, at most 8.
pub fn languages(field: &'static str, langs: &[String]) -> ApiResult<Vec<Lang>> {
    let mut out: Vec<Lang> = Vec::new();
    for l in langs {
        let l: Lang = l.parse().map_err(|e: String| ApiError::field(field, e))?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if out.len() > LANGUAGES_MAX {
        return Err(ApiError::field(field, format!("at most {LANGUAGES_MAX} languages")));
    }
    Ok(out)
}

pub fn lang(l: &str) -> ApiResult<Lang> {
    l.parse().map_err(|e: String| ApiError::field("lang", e))
}

/// ISO 3166-1 alpha-2: the countries and territories, sorted.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ \
FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE \
JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR \
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU \
RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A country: an ISO 3166-1 alpha-2 code, in either case; upper case out.
pub fn country(field: &'static str, c: &str) -> ApiResult<String> {
    let up = c.trim().to_ascii_uppercase();
    if up.len() == 2 && COUNTRIES.split(' ').any(|k| k == up) {
        Ok(up)
    } else {
        Err(ApiError::field(field, format!("{c:?} is not an ISO 3166 country code such as \"SN\" or \"BR\"")))
    }
}

/// A short line of text (an organisation, a sector): trimmed, visible, at most `max`
/// characters; empty is none.
pub fn line(field: &'static str, text: &str, max: usize) -> ApiResult<Option<String>> {
    let t = text.trim();
    if t.chars().count() > max || t.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(ApiError::field(field, format!("at most {max} characters, no control characters")));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// A list of short lines (areas of expertise, editions): at most `items`, each a `line`
/// of at most `max` characters; empty ones dropped, duplicates too.
pub fn lines(field: &'static str, list: &[String], items: usize, max: usize) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for l in list {
        if let Some(l) = line(field, l, max)? {
            if !out.iter().any(|o| o.to_lowercase() == l.to_lowercase()) {
                out.push(l);
            }
        }
    }
    if out.len() > items {
        return Err(ApiError::field(field, format!("at most {items}")));
    }
    Ok(out)
}

/// A post body: not blank, at most `max` bytes.
pub fn body(b: &str, max: usize) -> ApiResult<()> {
    if b.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
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
    fn countries() {
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        assert!(COUNTRIES.split(' ').collect::<Vec<_>>().windows(2).all(|w| w[0] < w[1]));
        assert_eq!(country("country", "sn").unwrap(), "SN");
        for bad in ["XX", "SEN", "", "Brasil"] {
            assert!(country("country", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn language_lists() {
        assert_eq!(languages("languages", &["pt".into(), "en".into(), "pt".into()]).unwrap(), vec!["pt", "en"]);
        assert!(languages("languages", &["portuguese".into()]).is_err());
    }
}

#[cfg(test)]
mod account_tests {
    use super::*;

    #[test]
    fn passwords_must_be_long_and_not_common() {
        assert!(password("correct horse battery").is_ok());
        for weak in ["short", "123456789", "1234567890", "Password123", "aaaaaaaaaaaa", "abababababab", "abcdefghijklm"]
        {
            assert!(password(weak).is_err(), "{weak} was accepted");
        }
    }

    #[test]
    fn names_and_bodies_must_show_something() {
        assert!(display_name("Ana María").is_ok());
        for bad in ["\u{200B}\u{200B}", "\u{202E}nimda", " \u{2060} ", "Ana\u{202E}"] {
            assert!(display_name(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(body("\u{200B}\u{FEFF} \u{200D}", 100).is_err());
        assert!(body("ok\u{200B}", 100).is_ok());
    }

    #[test]
    fn look_alike_names_share_a_skeleton() {
        assert_eq!(skeleton("аdmin"), skeleton("admin"), "Cyrillic a");
        assert_eq!(skeleton("ADM1N"), skeleton("admin"));
        assert_eq!(skeleton("ad\u{200B}min"), skeleton("admin"));
        assert_ne!(skeleton("ana"), skeleton("admin"));
    }
}

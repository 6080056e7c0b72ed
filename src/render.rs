//! Bodies are Markdown; clients show the HTML the server renders here, once, when a post,
//! a translation or an edit is written. pulldown-cmark renders, ammonia sanitizes.
//!
//! What comes out holds no script, no event handler, no style, no frame, object or form:
//! paragraphs, emphasis, strike-through, links, lists, quotes, code, headings and rules.
//! Raw HTML in the source is shown as text, never as markup. Links keep `http`, `https`
//! and `mailto` only, open in a new tab and carry `rel="nofollow noopener ugc"`; the only
//! relative links are the mentions: `@handle` of a member becomes a link to `#/u/handle`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

/// The sanitizer's policy (immutable, built once).
fn policy() -> &'static ammonia::Builder<'static> {
    static POLICY: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    POLICY.get_or_init(|| {
        let tags: HashSet<&str> = [
            "p",
            "br",
            "em",
            "strong",
            "del",
            "a",
            "ul",
            "ol",
            "li",
            "blockquote",
            "code",
            "pre",
            "hr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
        ]
        .into_iter()
        .collect();
        let attributes: HashMap<&str, HashSet<&str>> =
            [("a", ["href", "class"].into_iter().collect()), ("ol", ["start"].into_iter().collect())]
                .into_iter()
                .collect();
        let mut b = ammonia::Builder::empty();
        b.tags(tags)
            .tag_attributes(attributes)
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::Custom(Box::new(only_app_links)))
            .link_rel(Some("nofollow noopener ugc"))
            .set_tag_attribute_value("a", "target", "_blank")
            .clean_content_tags(["script", "style"].into_iter().collect())
            .strip_comments(true);
        b
    })
}

/// Relative links survive only as links inside the web client (`#/...`: mentions).
fn only_app_links(url: &str) -> Option<Cow<'_, str>> {
    url.starts_with("#/").then_some(Cow::Borrowed(url))
}

/// The safe HTML of a Markdown body. `is_member` says which `@handle`s name members
/// (the others stay text).
pub fn html(markdown: &str, is_member: impl Fn(&str) -> bool) -> String {
    if let Some(p) = plain(markdown, &is_member) {
        return p;
    }
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut in_link = 0usize;
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            // Raw HTML is text: nobody's markup reaches a reader.
            Event::Html(t) | Event::InlineHtml(t) => events.push(Event::Text(t)),
            Event::Start(Tag::Link { .. }) => {
                in_link += 1;
                events.push(event);
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                events.push(event);
            }
            // Images would load from anywhere; their text stays.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            Event::Text(t) if in_link == 0 => mentions(t, &is_member, &mut events),
            other => events.push(other),
        }
    }
    let mut raw = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut raw, events.into_iter());
    policy().clean(&raw).to_string()
}

/// A body that Markdown leaves as it is, rendered without the parser and the sanitizer
/// (most chat lines: "Bom dia Marc, até amanhã!"): one line whose characters mean nothing
/// to Markdown or HTML, that starts as no block does, and that names no member. It comes
/// out exactly as the full path renders it (a property test checks), for a fraction of
/// the time.
fn plain(markdown: &str, is_member: &impl Fn(&str) -> bool) -> Option<String> {
    let text = markdown.trim_end_matches(' ');
    let first = text.chars().next()?;
    if first.is_ascii_digit() || matches!(first, '-' | '+' | '=' | ' ') {
        return None;
    }
    let inert = |c: char| {
        if c.is_ascii() {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    ' ' | ','
                        | '.'
                        | ';'
                        | ':'
                        | '?'
                        | '!'
                        | '\''
                        | '"'
                        | '%'
                        | '/'
                        | '('
                        | ')'
                        | '-'
                        | '+'
                        | '='
                        | '$'
                        | '^'
                        | '{'
                        | '}'
                        | '@'
                )
        } else {
            !c.is_whitespace() && !c.is_control() && !matches!(c, '\u{FFFD}')
        }
    };
    if !text.chars().all(inert) || text.contains("  ") {
        return None;
    }
    if text.contains('@') {
        // Only when no `@handle` in it is a member's (which would become a link).
        let mut events = Vec::new();
        mentions(CowStr::Borrowed(text), is_member, &mut events);
        if !matches!(events[..], [Event::Text(_)]) {
            return None;
        }
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("<p>");
    out.push_str(text);
    out.push_str("</p>\n");
    Some(out)
}

fn is_handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Splits a text at the `@handle`s of members, each becoming a link. A handle is read as
/// notifications read it (`service::notifications::mentions`): after a character that is not a letter,
/// a digit or `_`, letters, digits, `_`, `.` and `-`, less a trailing `.` or `-` (the
/// end of a sentence).
fn mentions<'a>(text: CowStr<'a>, is_member: &impl Fn(&str) -> bool, out: &mut Vec<Event<'a>>) {
    let s: &str = &text;
    let mut rest_from = 0;
    let mut found = false;
    let mut i = 0;
    while let Some(at) = s[i..].find('@').map(|p| p + i) {
        let before_ok = s[..at].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let mut len = s[at + 1..].find(|c: char| !is_handle_char(c)).unwrap_or(s.len() - at - 1);
        while len > 0 && s[at + 1..at + 1 + len].ends_with(['.', '-']) {
            len -= 1;
        }
        let handle = &s[at + 1..at + 1 + len];
        if before_ok && (3..=32).contains(&handle.len()) && is_member(handle) {
            if at > rest_from {
                out.push(Event::Text(CowStr::from(s[rest_from..at].to_owned())));
            }
            out.push(Event::Html(CowStr::from(format!(r##"<a href="#/u/{handle}" class="mention">@{handle}</a>"##))));
            rest_from = at + 1 + len;
            found = true;
        }
        i = at + 1 + len;
        if i >= s.len() {
            break;
        }
    }
    if !found {
        out.push(Event::Text(text));
    } else if rest_from < s.len() {
        out.push(Event::Text(CowStr::from(s[rest_from..].to_owned())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tags of an HTML text (what is between `<` and `>`), escaped text left out.
    fn tags(html: &str) -> Vec<String> {
        html.split('<').skip(1).filter_map(|t| t.split_once('>').map(|(tag, _)| tag.to_owned())).collect()
    }

    fn render(md: &str) -> String {
        html(md, |h| h == "ana" || h == "marc_01")
    }

    #[test]
    fn markdown_renders() {
        assert_eq!(render("**Bom dia**, *todos*"), "<p><strong>Bom dia</strong>, <em>todos</em></p>\n");
        assert_eq!(render("- un\n- deux"), "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>\n");
        assert_eq!(render("`code` ~~old~~"), "<p><code>code</code> <del>old</del></p>\n");
        let link = render("[ILO](https://www.ilo.org/)");
        assert_eq!(
            link,
            "<p><a href=\"https://www.ilo.org/\" target=\"_blank\" rel=\"nofollow noopener ugc\">ILO</a></p>\n"
        );
    }

    #[test]
    fn members_handles_become_links_and_others_stay_text() {
        let out = render("Merci @ana et @nobody, cc @marc_01. mail@ana.org");
        assert!(
            out.contains(r##"<a href="#/u/ana" class="mention" target="_blank" rel="nofollow noopener ugc">@ana</a>"##),
            "{out}"
        );
        assert!(out.contains(r##"href="#/u/marc_01""##), "{out}");
        assert!(!out.contains("#/u/nobody"), "{out}");
        assert!(
            out.contains("mail@ana.org") && !out.contains("href=\"#/u/ana.org"),
            "an address is not a mention: {out}"
        );
        assert!(!render("[@ana](https://x.example)").contains("#/u/ana"), "not inside another link");
        // Handles with dots and dashes, and a full stop after one.
        let dotted = html("Thanks @ana.maria-lopes. And @ana.", |h| h == "ana.maria-lopes" || h == "ana");
        assert!(dotted.contains(r##"href="#/u/ana.maria-lopes""##), "{dotted}");
        assert!(
            dotted.contains(r##"href="#/u/ana""##) && dotted.contains("</a>.</p>"),
            "a full stop is not the handle's: {dotted}"
        );
    }

    /// The full path, without the shortcut for plain lines.
    fn full(md: &str) -> String {
        let mut events = Vec::new();
        for event in Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH) {
            match event {
                Event::Html(t) | Event::InlineHtml(t) => events.push(Event::Text(t)),
                Event::Text(t) => mentions(t, &|h: &str| h == "ana", &mut events),
                other => events.push(other),
            }
        }
        let mut raw = String::new();
        pulldown_cmark::html::push_html(&mut raw, events.into_iter());
        policy().clean(&raw).to_string()
    }

    #[test]
    fn plain_lines_take_the_shortcut_and_render_as_the_parser_would() {
        for line in
            ["Bom dia Marc, até amanhã!", "Ça marche (vraiment) : 100% \"sûr\"?", "durable 17 42 xyz", "안녕하세요 👍"]
        {
            assert!(plain(line, &|_: &str| false).is_some(), "{line}");
            assert_eq!(render(line), full(line), "{line}");
        }
        for md in ["1. first", "- item", "a\nb", "**b**", "hi @ana!", "a & b", "<b>", "    code", "hi  \n"] {
            assert!(plain(md, &|h: &str| h == "ana").is_none(), "{md:?}");
        }
        for line in ["@@T=0000000001;7;xxxx", "write to ana@coop.org", "cc @nobody"] {
            assert!(plain(line, &|h: &str| h == "ana").is_some(), "{line}");
            assert_eq!(html(line, |h| h == "ana"), full(line), "{line}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_shortcut_never_differs_from_the_parser(line in "(@ana|@an|[a-zA-Z0-9 ,.;:?!'\"%/()+=$^{}\\-é€👍\u{00a0}\t*_#>`~\\[\\]@&<|]){1,30}") {
            let member = |h: &str| h == "ana";
            if let Some(p) = plain(&line, &member) {
                proptest::prop_assert_eq!(p, full(&line));
            }
        }
    }

    #[test]
    fn nothing_active_survives() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)><circle/></svg>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[click](vbscript:msgbox(1))",
            "![x](https://evil.example/pixel.png)",
            "<iframe src=https://evil.example></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<form action=https://evil.example><button>go</button></form>",
            "<b onmouseover=alert(1)>hover</b>",
            "<<script>script>alert(1)<</script>/script>",
            "[a](https://ok.example \"title\" onclick=alert(1))",
            "<a href=\"/api/v1/admin/export\">export</a>",
            "[rel](/api/v1/admin/export)",
            "[x](//evil.example)",
            "<!-- <script>alert(1)</script> -->",
            "```\n<script>alert(1)</script>\n```",
        ];
        for p in payloads {
            let out = render(p);
            for tag in tags(&out) {
                let name = tag.trim_start_matches('/').split([' ', '>']).next().unwrap_or_default().to_owned();
                let allowed = ["p", "a", "code", "pre", "em", "strong", "del", "br", "hr"];
                assert!(allowed.contains(&name.as_str()), "{p:?}: tag {tag} in {out}");
                let lower = tag.to_lowercase();
                assert!(!lower.contains(" on") && !lower.contains("style="), "{p:?}: attribute in {tag}");
                if let Some(at) = lower.find("href=\"") {
                    let href = &lower[at + 6..];
                    assert!(
                        href.starts_with("https://") || href.starts_with("http://") || href.starts_with("#/"),
                        "{p:?}: link {tag}"
                    );
                }
            }
        }
        // Raw HTML is shown, as text.
        assert_eq!(render("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    }
}

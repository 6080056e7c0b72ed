//! The search verb and the glossary: a query in any language, answered only from what
//! the caller may read.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use collective_brain_index::{Concept, SearchQuery, Sort};
use serde::{Deserialize, Serialize};

use super::{signed_in, App, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::model::{Lang, Role, SearchHit, SearchParams, SearchResults, SpaceId, Visibility};

/// Longest query, in characters.
const MAX_QUERY: usize = 256;
/// Threads per page: default and most.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 50;
/// Snippet length, in characters.
const SNIPPET: usize = 200;
/// Characters of a document's text a snippet is looked for in.
const SNIPPET_TEXT: usize = 100_000;
/// Deepest page reachable, in thread groups.
const MAX_OFFSET: usize = 500;

/// A new glossary concept, as clients send it.
#[derive(Clone, Debug, Deserialize)]
pub struct NewConcept {
    /// Letters, digits, `_` and `-`; reusing an id replaces that concept.
    pub id: String,
    /// Names by language code; synonyms as several entries.
    pub terms: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    o: usize,
}

fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::field(field, message)
}

/// Milliseconds of an RFC 3339 time or a date (`end` = the day after it).
pub(super) fn time_ms(field: &'static str, s: &str, end: bool) -> ApiResult<i64> {
    if let Some(ms) = crate::clock::parse_ms(s) {
        return Ok(ms);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| bad(field, "expected an RFC 3339 time or a date YYYY-MM-DD"))?;
    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
    Ok(d.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp_millis()))
}

impl App {
    /// Searches what `viewer` may read. Privacy is in the index query itself: only the
    /// caller's readable spaces are matched, counted and paged.
    pub async fn search(
        self: &Arc<Self>,
        viewer: Viewer<'_>,
        from: Option<std::net::IpAddr>,
        p: SearchParams,
    ) -> ApiResult<SearchResults> {
        self.limiter.search(viewer.map(|u| u.id), from)?;
        let text = p.q.trim().to_owned();
        if text.is_empty() {
            return Err(bad("q", "a query is required"));
        }
        if text.chars().count() > MAX_QUERY {
            return Err(bad("q", format!("at most {MAX_QUERY} characters")));
        }
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad("limit", format!("1 to {MAX_LIMIT}")));
        }
        let lang =
            p.lang.as_deref().map(super::validate::lang).transpose().map_err(|_| bad("lang", "not a language code"))?;
        let sort = match p.sort.as_deref() {
            None | Some("relevance") => Sort::Relevance,
            Some("recent") => Sort::Recent,
            Some(_) => return Err(bad("sort", "relevance or recent")),
        };
        let files = match p.kind.as_deref() {
            None | Some("") => None,
            Some("post") => Some(false),
            Some("file") => Some(true),
            Some(_) => return Err(bad("kind", "post or file")),
        };
        let from_ms = p.from.as_deref().map(|s| time_ms("from", s, false)).transpose()?;
        let to_ms = p.to.as_deref().map(|s| time_ms("to", s, true)).transpose()?;
        let offset = match p.cursor.as_deref() {
            None => 0,
            Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
                .map(|c| c.o)
                .filter(|o| *o <= MAX_OFFSET)
                .ok_or_else(|| bad("cursor", "not a cursor from this search"))?,
        };
        if let Some(s) = p.space {
            // A private space is `not_found` to non-members, as everywhere.
            self.readable_space(viewer, s)?;
        }
        // Everyone reads public spaces; members read their private ones.
        // A space whose visibility changed may have posts indexed under the other one
        // until the indexer has been through them again.
        let (mut private, mut closed) = (Vec::new(), Vec::new());
        for s in self.store.spaces()? {
            match s.visibility {
                Visibility::Private if self.can_read(viewer, &s)? => private.push(s.id.0),
                Visibility::Private if s.visibility_changed => closed.push(s.id.0),
                Visibility::Public if s.visibility_changed => private.push(s.id.0),
                _ => {}
            }
        }
        let query = SearchQuery {
            text: text.clone(),
            public: true,
            private_spaces: private,
            closed_spaces: closed,
            space: p.space.map(|s| s.0),
            author: p.author.map(|a| a.0),
            lang: lang.map(|l| l.to_string()),
            from_ms,
            to_ms,
            sort,
            offset,
            limit,
            files,
        };
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.run_search(&query))
            .await
            .map_err(|_| ApiError::internal("search failed"))?
    }

    fn run_search(&self, q: &SearchQuery) -> ApiResult<SearchResults> {
        let index = &self.search.index;
        let page = index.search(q).map_err(|e| {
            tracing::error!(error = %e, "search failed");
            ApiError::internal("search failed")
        })?;
        let plan = index.plan(&q.text).map_err(|_| ApiError::internal("search failed"))?;
        let mut hits = Vec::with_capacity(page.threads.len());
        for t in page.threads {
            if t.post & collective_brain_index::FILE != 0 {
                if let Some(hit) = self.file_hit(q, &plan, &t)? {
                    hits.push(hit);
                }
                continue;
            }
            // The store has the last word: a post deleted since the index's last commit
            // is left out rather than shown.
            let Some(rec) = self.store.post(crate::model::PostId(t.post))? else { continue };
            let readable = self.store.space(SpaceId(t.space))?.is_some_and(|s| match s.visibility {
                Visibility::Public => q.public,
                Visibility::Private => q.private_spaces.contains(&s.id.0),
            });
            if rec.post.deleted || rec.post.hidden || !readable {
                continue;
            }
            let room = self.store.room(rec.post.room)?;
            let title = room.and_then(|r| r.title);
            let mut versions: Vec<(&str, &str)> = vec![(rec.post.lang.as_str(), rec.post.body.as_str())];
            for (l, tr) in &rec.post.translations {
                versions.push((l.as_str(), tr.body.as_str()));
            }
            let h = index.highlight(&plan, &versions, SNIPPET);
            let (snippet, snippet_parts, matched_lang) = match h {
                Some(h) => (h.snippet, h.parts, Lang::parse(&h.lang).unwrap_or(rec.post.lang)),
                None => (String::new(), Vec::new(), rec.post.lang),
            };
            hits.push(SearchHit {
                kind: "post",
                file: None,
                room: rec.post.room,
                space: SpaceId(t.space),
                title,
                snippet,
                snippet_parts,
                matched_lang,
                score: t.score,
                also: t.also.iter().map(|p| crate::model::PostId(*p).to_string()).collect(),
                post: rec.post,
            });
        }
        let next = (page.more && q.offset + q.limit <= MAX_OFFSET).then(|| {
            let c = serde_json::to_vec(&Cursor { o: q.offset + q.limit }).unwrap_or_default();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c)
        });
        Ok(SearchResults { hits, total: page.total, next })
    }

    /// A document's hit, when the store still says the caller may read it (its post's
    /// room readable, the post neither deleted nor hidden, the text read).
    fn file_hit(
        &self,
        q: &SearchQuery,
        plan: &collective_brain_index::Plan,
        t: &collective_brain_index::ThreadHit,
    ) -> ApiResult<Option<SearchHit>> {
        let id = crate::model::FileId(t.post & !collective_brain_index::FILE);
        let Some(rec) = self.store.file(id)? else { return Ok(None) };
        let (Some(post), Some(space)) = (rec.post, rec.space) else { return Ok(None) };
        let readable = self.store.space(space)?.is_some_and(|s| match s.visibility {
            Visibility::Public => q.public,
            Visibility::Private => q.private_spaces.contains(&s.id.0),
        });
        let Some(prec) = self.store.post(post)? else { return Ok(None) };
        if !readable || prec.post.deleted || prec.post.hidden {
            return Ok(None);
        }
        let text = self.store.file_text(id)?.unwrap_or_default();
        let lang = rec.file.text_lang.unwrap_or(prec.post.lang);
        // The snippet is looked for in the document's first part (a long one is cut).
        let head = text.char_indices().nth(SNIPPET_TEXT).map_or(text.as_str(), |(i, _)| &text[..i]);
        let h = self.search.index.highlight(plan, &[(lang.as_str(), head), ("und", rec.file.name.as_str())], SNIPPET);
        let (snippet, snippet_parts) = match h {
            Some(h) => (h.snippet, h.parts),
            None => (head.chars().take(SNIPPET).collect(), Vec::new()),
        };
        let title = self.store.room(prec.post.room)?.and_then(|r| r.title);
        Ok(Some(SearchHit {
            kind: "file",
            room: prec.post.room,
            space,
            title,
            snippet,
            snippet_parts,
            matched_lang: lang,
            score: t.score,
            also: Vec::new(),
            file: Some(rec.file),
            post: prec.post,
        }))
    }

    /// The glossary that expands queries: shipped concepts and those added here.
    pub fn glossary(&self) -> ApiResult<Vec<Concept>> {
        self.search.index.concepts().map_err(|_| ApiError::internal("glossary unavailable"))
    }

    /// Adds (or replaces) a glossary concept: admins and translators.
    pub async fn add_concept(&self, viewer: Viewer<'_>, c: NewConcept) -> ApiResult<Concept> {
        let user = signed_in(viewer)?;
        if !user.roles.iter().any(|r| matches!(r, Role::Admin | Role::Translator)) {
            return Err(ApiError::forbidden("only admins and translators edit the glossary"));
        }
        let id = c.id.trim();
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(bad("id", "1 to 64 letters, digits, '_' or '-'"));
        }
        let mut terms = BTreeMap::new();
        for (lang, names) in c.terms {
            let lang =
                super::validate::lang(&lang).map_err(|_| bad("terms", format!("{lang:?} is not a language code")))?;
            let mut clean = Vec::new();
            for n in names {
                let n = n.trim();
                if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
                    return Err(bad("terms", "each name: 1 to 100 characters, no control characters"));
                }
                clean.push(n.to_owned());
            }
            if clean.len() > 10 {
                return Err(bad("terms", "at most 10 names per language"));
            }
            if !clean.is_empty() {
                terms.insert(lang.to_string(), clean);
            }
        }
        if terms.len() < 2 {
            return Err(bad("terms", "names in at least two languages"));
        }
        let concept = Concept { id: id.to_owned(), terms };
        self.store.run(crate::store::PutConcept { concept: concept.clone() }).await?;
        self.search.index.add_concept(concept.clone()).map_err(|_| ApiError::internal("glossary unavailable"))?;
        Ok(concept)
    }
}

//! Scoring statistics from public documents only.
//!
//! BM25 weighs a term by how many documents hold it and a field's length by the average
//! length. Taken over the whole index, a private group's posts would move the scores, and
//! so the order, of what everyone else sees: an outsider could learn that a word is used
//! in a group they cannot read. So every search scores with statistics over the public
//! documents alone, which everyone may read: private posts are scored too (for their
//! members), but nothing about them moves anyone's scores.

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::collector::Count;
use tantivy::index::SegmentId;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, Term, TERMINATED};

/// Per segment (immutable until merged away): its public documents, and their tokens per
/// field.
#[derive(Default)]
pub(crate) struct PublicCache {
    segments: Mutex<HashMap<SegmentId, Segment>>,
}

#[derive(Default, Clone)]
struct Segment {
    docs: Option<u64>,
    tokens: HashMap<Field, u64>,
}

/// Statistics over the public documents of one searcher's snapshot.
pub(crate) struct PublicStats<'a> {
    pub searcher: &'a Searcher,
    pub acl: Field,
    pub cache: &'a PublicCache,
}

impl PublicStats<'_> {
    fn public(&self) -> Term {
        Term::from_field_text(self.acl, "public")
    }

    /// Runs `f` on each live segment's cached figures, computing what is missing.
    fn per_segment(&self, field: Option<Field>, mut f: impl FnMut(&Segment)) -> tantivy::Result<()> {
        let mut cache = self.cache.segments.lock().map_err(|_| tantivy::TantivyError::Poisoned)?;
        let live: Vec<SegmentId> = self.searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        cache.retain(|id, _| live.contains(id));
        for seg in self.searcher.segment_readers() {
            let entry = cache.entry(seg.segment_id()).or_default();
            let need_docs = entry.docs.is_none();
            let need_field = field.is_some_and(|fl| !entry.tokens.contains_key(&fl));
            if need_docs || need_field {
                // A field without norms (ids, the acl) counts one token a document.
                let norms = match field {
                    Some(fl) if need_field => Some((fl, seg.fieldnorms_readers().get_field(fl)?)),
                    _ => None,
                };
                let (mut docs, mut tokens) = (0u64, 0u64);
                let inverted = seg.inverted_index(self.acl)?;
                if let Some(mut postings) = inverted.read_postings(&self.public(), IndexRecordOption::Basic)? {
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        docs += 1;
                        match &norms {
                            Some((_, Some(r))) => tokens += u64::from(r.fieldnorm(doc)),
                            Some((_, None)) => tokens += 1,
                            None => {}
                        }
                        doc = postings.advance();
                    }
                }
                entry.docs = Some(docs);
                if let Some((fl, _)) = norms {
                    entry.tokens.insert(fl, tokens);
                }
            }
            f(entry);
        }
        Ok(())
    }
}

impl Bm25StatisticsProvider for PublicStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut total = 0;
        self.per_segment(Some(field), |s| total += s.tokens.get(&field).copied().unwrap_or(0))?;
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        let mut total = 0;
        self.per_segment(None, |s| total += s.docs.unwrap_or(0))?;
        Ok(total.max(1))
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let both: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic))),
            (Occur::Must, Box::new(TermQuery::new(self.public(), IndexRecordOption::Basic))),
        ];
        Ok(self.searcher.search(&BooleanQuery::new(both), &Count)? as u64)
    }
}

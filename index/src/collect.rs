//! One pass over the matching documents: access, count and page together.
//!
//! Access used to be part of the query as exclusions (`MustNot` on the `acl` terms of the
//! private spaces the caller is not in), with a second collector for the count. Excluding
//! makes tantivy *seek* a union of those posting lists once for every matching document,
//! which cost more than the text itself (a fifth of a query's time at 1M posts). Here
//! every document the query produces is checked, before anything else is done with it,
//! against those spaces through the `space` fast field: a document of a space the caller
//! cannot read is never counted, ranked or paged, the same guarantee the exclusion gave
//! (the index's and the server's isolation tests check it), in a single pass.

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector, TopNComputer};
use tantivy::columnar::Column;
use tantivy::fastfield::AliveBitSet;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// How the page is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rank {
    /// By relevance score, best first.
    Score,
    /// By the `created` fast field (microseconds, unique per post), newest first.
    Newest,
}

/// The readable documents matching a query: how many, and the best `limit` of them.
pub(crate) struct Readable<'a> {
    pub limit: usize,
    pub rank: Rank,
    /// Per segment (by ordinal): the documents the caller may not read, as a bitset.
    pub excluded: &'a [Option<Arc<Vec<u64>>>],
}

/// What a search collects: the count of readable matches, and the page's documents with
/// their scores (0 when ranked by recency), best first.
pub(crate) type Found = (usize, Vec<(Score, DocAddress)>);

/// A score as an integer of the same order (`f32::total_cmp`'s).
fn score_key(s: Score) -> u64 {
    let bits = s.to_bits();
    u64::from(if bits >> 31 == 1 { !bits } else { bits | 0x8000_0000 })
}

fn key_score(k: u64) -> Score {
    #[allow(clippy::cast_possible_truncation)]
    let bits = k as u32;
    Score::from_bits(if bits >> 31 == 1 { bits & 0x7fff_ffff } else { !bits })
}

/// One segment's count and page so far.
pub(crate) struct SegmentReadable {
    rank: Rank,
    count: usize,
    top: Option<TopNComputer<u64, DocId>>,
    /// The `post` column, when ranking by recency.
    created: Option<Column<i64>>,
    excluded: Option<Arc<Vec<u64>>>,
    segment: SegmentOrdinal,
    alive: Option<AliveBitSet>,
}

impl SegmentReadable {
    /// Whether the caller may read `doc` (and it is not deleted).
    #[inline]
    fn readable(&self, doc: DocId) -> bool {
        if self.alive.as_ref().is_some_and(|a| a.is_deleted(doc)) {
            return false;
        }
        match &self.excluded {
            None => true,
            Some(bits) => {
                let d = doc as usize;
                // Beyond the bitset (cannot happen: it spans the segment) counts as excluded.
                bits.get(d / 64).is_some_and(|w| w & (1 << (d % 64)) == 0)
            }
        }
    }
}

/// A segment's count and page, ranked by key.
pub(crate) type SegmentFound = (usize, Vec<(u64, DocAddress)>);

impl SegmentCollector for SegmentReadable {
    type Fruit = SegmentFound;

    #[inline]
    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.readable(doc) {
            return;
        }
        self.count += 1;
        let key = match (&self.rank, &self.created) {
            (Rank::Score, _) => score_key(score),
            // Flipping the sign bit orders an i64 as a u64.
            (Rank::Newest, Some(col)) => col.first(doc).map_or(0, |t| (t as u64) ^ (1 << 63)),
            (Rank::Newest, None) => 0,
        };
        if let Some(top) = &mut self.top {
            top.push(key, doc);
        }
    }

    fn harvest(self) -> SegmentFound {
        let segment = self.segment;
        let docs = match self.top {
            Some(top) => top
                .into_sorted_vec()
                .into_iter()
                .map(|c| (c.feature, DocAddress { segment_ord: segment, doc_id: c.doc }))
                .collect(),
            None => Vec::new(),
        };
        (self.count, docs)
    }
}

/// The documents of `spaces` in `reader`'s segment, as a bitset over its documents, read
/// from their `acl` terms.
pub(crate) fn space_bits(
    reader: &SegmentReader,
    acl: tantivy::schema::Field,
    space_terms: impl Iterator<Item = String>,
) -> tantivy::Result<Vec<u64>> {
    use tantivy::DocSet;
    let mut bits = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
    let inverted = reader.inverted_index(acl)?;
    for t in space_terms {
        let term = tantivy::Term::from_field_text(acl, &t);
        if let Some(mut postings) = inverted.read_postings(&term, tantivy::schema::IndexRecordOption::Basic)? {
            let mut doc = postings.doc();
            while doc != tantivy::TERMINATED {
                let d = doc as usize;
                if let Some(w) = bits.get_mut(d / 64) {
                    *w |= 1 << (d % 64);
                }
                doc = postings.advance();
            }
        }
    }
    Ok(bits)
}

impl Collector for Readable<'_> {
    type Fruit = Found;
    type Child = SegmentReadable;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentReadable> {
        let ff = reader.fast_fields();
        Ok(SegmentReadable {
            rank: self.rank,
            count: 0,
            top: (self.limit > 0).then(|| TopNComputer::new(self.limit)),
            created: if self.rank == Rank::Newest { Some(ff.i64("created")?) } else { None },
            excluded: self.excluded.get(segment as usize).cloned().flatten(),
            segment,
            alive: reader.alive_bitset().cloned(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.rank == Rank::Score
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFound>) -> tantivy::Result<Found> {
        let mut count = 0;
        let mut all = Vec::new();
        for (n, docs) in fruits {
            count += n;
            all.extend(docs);
        }
        all.sort_unstable_by(|a: &(u64, DocAddress), b| {
            b.0.cmp(&a.0).then_with(|| a.1.segment_ord.cmp(&b.1.segment_ord)).then_with(|| a.1.doc_id.cmp(&b.1.doc_id))
        });
        all.truncate(self.limit);
        let score = |k| if self.rank == Rank::Score { key_score(k) } else { 0.0 };
        Ok((count, all.into_iter().map(|(k, addr)| (score(k), addr)).collect()))
    }

    /// Every matching document passes through `collect` (no pruning: the count needs
    /// them all), so the alive and access checks are done there once.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFound> {
        let mut child = self.for_segment(segment, reader)?;
        if self.requires_scoring() {
            weight.for_each(reader, &mut |doc, score| child.collect(doc, score))?;
        } else {
            weight.for_each_no_score(reader, &mut |docs| {
                for &doc in docs {
                    child.collect(doc, 0.0);
                }
            })?;
        }
        Ok(child.harvest())
    }
}

#[cfg(test)]
mod tests {
    use super::{key_score, score_key};

    #[test]
    fn score_keys_keep_the_order_of_scores() {
        let scores = [f32::MIN, -3.5, -0.0, 0.0, 1e-9, 0.5, 1.0, 7.25, f32::MAX];
        for w in scores.windows(2) {
            assert!(score_key(w[0]) <= score_key(w[1]), "{} vs {}", w[0], w[1]);
        }
        for s in scores {
            assert_eq!(key_score(score_key(s)).to_bits(), s.to_bits());
        }
    }
}

//! A stemming token filter that remembers its stems.
//!
//! Words repeat (a few thousand make up most of any text), and a Snowball stemmer costs
//! more than a hash lookup: profiling bulk indexing put a seventh of the indexing threads'
//! time in the stemmers. Each analyzer clone (tantivy clones one per field per segment
//! being written) keeps its own bounded map from word to stem, so nothing is shared
//! between threads. The map hashes with foldhash (seeded per process), which costs a
//! fraction of std's SipHash on words this short.

use foldhash::HashMap;
use rust_stemmers::{Algorithm, Stemmer};
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per analyzer clone at most; past it the map starts again.
const REMEMBERED: usize = 50_000;

/// The filter: stems every token with `algorithm`.
#[derive(Clone, Copy)]
pub struct CachedStemmer(pub Algorithm);

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter { algorithm: self.0, inner: tokenizer, stems: HashMap::default() }
    }
}

pub struct CachedStemmerFilter<T> {
    algorithm: Algorithm,
    inner: T,
    stems: HashMap<String, String>,
}

impl<T: Clone> Clone for CachedStemmerFilter<T> {
    /// A clone starts with an empty memory (so clones never share one).
    fn clone(&self) -> Self {
        CachedStemmerFilter { algorithm: self.algorithm, inner: self.inner.clone(), stems: HashMap::default() }
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if self.stems.len() >= REMEMBERED {
            self.stems.clear();
        }
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: Stemmer::create(self.algorithm),
            stems: &mut self.stems,
        }
    }
}

pub struct CachedStemmerStream<'a, T> {
    tail: T,
    stemmer: Stemmer,
    stems: &'a mut HashMap<String, String>,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.stems.get(&token.text) {
            token.text.clear();
            token.text.push_str(stem);
        } else {
            let stem = self.stemmer.stem(&token.text).into_owned();
            let word = std::mem::replace(&mut token.text, stem.clone());
            if self.stems.len() < REMEMBERED {
                self.stems.insert(word, stem);
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

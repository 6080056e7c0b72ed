//! The language fields' analysis, with a memory of the words it has analysed.
//!
//! Words repeat (a few thousand make up most of any text), and analysing one costs a
//! chain of token filters: lower-casing, a stop word lookup, accent folding and a
//! Snowball stemmer, each rewriting the token. Profiling bulk indexing put a seventh of
//! the indexing threads' time in the stemmers alone, and as much again in the rest of
//! the chain. So [`CachedWords`] splits the text into words exactly as tantivy's
//! `SimpleTokenizer` does and looks each word up, as written, in a bounded map from
//! word to what the chain makes of it (a term, or nothing for a stop word); the chain
//! runs only for words it has not seen. The result is the chain's, token for token
//! (offsets and positions included; a unit test compares them over the parallel
//! corpus).
//!
//! Each analyzer clone (tantivy clones one per field per segment being written) keeps
//! its own memory, so nothing is shared between threads. The map hashes with foldhash
//! (seeded per process), which costs a fraction of std's SipHash on words this short.

use foldhash::HashMap;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// Words remembered per analyzer clone at most; past it the map starts again.
const REMEMBERED: usize = 50_000;

/// Splits text into words (maximal runs of alphanumeric characters), drops words of
/// `max_word` bytes or more, and gives each remaining word what `chain` (a raw-token
/// analyzer: the whole word is one token) makes of it.
pub struct CachedWords {
    chain: TextAnalyzer,
    max_word: usize,
    memory: HashMap<String, Option<String>>,
}

impl CachedWords {
    pub fn new(chain: TextAnalyzer, max_word: usize) -> Self {
        CachedWords { chain, max_word, memory: HashMap::default() }
    }
}

impl Clone for CachedWords {
    /// A clone starts with an empty memory (so clones never share one).
    fn clone(&self) -> Self {
        CachedWords::new(self.chain.clone(), self.max_word)
    }
}

impl Tokenizer for CachedWords {
    type TokenStream<'a> = CachedWordsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CachedWordsStream<'a> {
        if self.memory.len() >= REMEMBERED {
            self.memory.clear();
        }
        CachedWordsStream {
            text,
            chars: text.char_indices(),
            chain: &mut self.chain,
            max_word: self.max_word,
            memory: &mut self.memory,
            token: Token::default(),
        }
    }
}

pub struct CachedWordsStream<'a> {
    text: &'a str,
    chars: std::str::CharIndices<'a>,
    chain: &'a mut TextAnalyzer,
    max_word: usize,
    memory: &'a mut HashMap<String, Option<String>>,
    token: Token,
}

impl CachedWordsStream<'_> {
    /// The next word's byte range, if any.
    fn next_word(&mut self) -> Option<(usize, usize)> {
        let from = loop {
            let (i, c) = self.chars.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        let mut to = self.text.len();
        for (i, c) in self.chars.by_ref() {
            if !c.is_alphanumeric() {
                to = i;
                break;
            }
        }
        Some((from, to))
    }
}

impl TokenStream for CachedWordsStream<'_> {
    fn advance(&mut self) -> bool {
        while let Some((from, to)) = self.next_word() {
            // Every word takes a position, kept or not, as in the filter chain.
            self.token.position = self.token.position.wrapping_add(1);
            let text = self.text;
            let word = &text[from..to];
            if word.len() >= self.max_word {
                continue;
            }
            let t = &mut self.token;
            let kept = match self.memory.get(word) {
                Some(Some(term)) => {
                    t.text.clear();
                    t.text.push_str(term);
                    true
                }
                Some(None) => false,
                None => {
                    let mut stream = self.chain.token_stream(word);
                    let term = stream.advance().then(|| stream.token().text.clone());
                    drop(stream);
                    if let Some(term) = &term {
                        t.text.clear();
                        t.text.push_str(term);
                    }
                    let kept = term.is_some();
                    if self.memory.len() >= REMEMBERED {
                        self.memory.clear();
                    }
                    self.memory.insert(word.to_owned(), term);
                    kept
                }
            };
            if kept {
                t.offset_from = from;
                t.offset_to = to;
                t.position_length = 1;
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

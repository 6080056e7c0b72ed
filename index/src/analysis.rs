//! Text analysis: one analyzer per language field, the character n-gram analyzer, and
//! the helpers that run them outside an index (query building, highlighting).
//!
//! Every analyzer lower-cases and accent-folds before anything else that compares
//! words, so "economia" and "economía" are the same term in every field. The language
//! fields then drop that language's stop words and stem; the n-gram field cuts each word
//! into overlapping pieces that cognates share (cooperative / coopérative / cooperativa).

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
    TextAnalyzer, Token, TokenStream, Tokenizer, TokenizerManager,
};

use crate::stem::CachedWords;

/// The language fields of the index. Any other language goes to `xx`.
pub const FIELD_LANGS: [&str; 9] = ["en", "fr", "es", "pt", "it", "de", "ar", "ko", "xx"];

/// Words longer than this (in bytes) are not indexed: they are noise (URLs, hashes).
const MAX_WORD: usize = 48;

/// The character n-gram length for alphabetic scripts. Four is where cognates across
/// en/fr/es/pt share most pieces and unrelated words few (measured in docs/SEARCH.md).
pub const GRAM: usize = 4;

/// The field language for a post's language code.
pub fn field_lang(code: &str) -> &'static str {
    FIELD_LANGS.iter().copied().find(|l| *l == code && *l != "xx").unwrap_or("xx")
}

/// The analyzer name of a language field.
pub fn analyzer_name(field_lang: &str) -> String {
    format!("cb_{field_lang}")
}

/// The analyzer name of the n-gram field.
pub const GRAMS: &str = "cb_grams";

fn stemmed(lang: Language, stop: bool) -> TextAnalyzer {
    TextAnalyzer::from(CachedWords::new(stemming_chain(lang, stop), MAX_WORD))
}

/// What a stemmed language field makes of one word: lower-cased, dropped if a stop
/// word, folded, stemmed. [`CachedWords`] splits the text and remembers the results.
fn stemming_chain(lang: Language, stop: bool) -> TextAnalyzer {
    let b = TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser);
    // Stop words are matched before folding: the lists are written with their accents.
    if stop {
        if let Some(sw) = StopWordFilter::new(lang) {
            return b.filter(sw).filter(AsciiFoldingFilter).filter(Stemmer::new(lang)).build();
        }
    }
    b.filter(AsciiFoldingFilter).filter(Stemmer::new(lang)).build()
}

/// The analyzer for one field language.
pub fn analyzer(field_lang: &str) -> TextAnalyzer {
    match field_lang {
        "en" => stemmed(Language::English, true),
        "fr" => stemmed(Language::French, true),
        "es" => stemmed(Language::Spanish, true),
        "pt" => stemmed(Language::Portuguese, true),
        "it" => stemmed(Language::Italian, true),
        "de" => stemmed(Language::German, true),
        "ar" => stemmed(Language::Arabic, false),
        // Korean attaches particles to words: character bigrams of Hangul find the
        // stem inside the word; other scripts in a Korean post are whole folded words.
        "ko" => TextAnalyzer::builder(Grams { latin: None })
            .filter(RemoveLongFilter::limit(MAX_WORD))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
        _ => TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_WORD))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    }
}

/// The n-gram analyzer: GRAM-grams of every alphabetic word, bigrams of CJK words.
pub fn grams_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(Grams { latin: Some(GRAM) }).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// Registers every analyzer with an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    for l in FIELD_LANGS {
        manager.register(&analyzer_name(l), analyzer(l));
    }
    manager.register(GRAMS, grams_analyzer());
}

/// One analysed token: its term and where it came from in the text (bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub from: usize,
    pub to: usize,
    /// The word's position (stop words removed keep theirs, so phrases stay aligned).
    pub position: usize,
}

/// Runs `analyzer` over `text`.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push(Term { text: t.text.clone(), from: t.offset_from, to: t.offset_to, position: t.position });
    }
    out
}

/// Lower-cases and accent-folds `text` word by word, joined by single spaces: the form in
/// which glossary terms are compared.
pub fn fold(text: &str) -> String {
    let mut a = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build();
    analyze(&mut a, text).into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

/// Scripts written without spaces between words, or whose words are single syllables
/// best matched in pairs.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF // Hangul
        | 0x3040..=0x30FF // kana
        | 0x4E00..=0x9FFF | 0x3400..=0x4DBF // CJK ideographs
    )
}

/// Cuts words into character n-grams. `latin: Some(n)`: n-grams of alphabetic words
/// (words shorter than n but at least 3 characters are kept whole); `None`: whole
/// words. CJK runs always give bigrams (a single character alone). Offsets are the
/// word's, so a highlight marks the whole word.
#[derive(Clone, Debug)]
pub struct Grams {
    pub latin: Option<usize>,
}

/// One word of a text, ready to be cut into grams.
struct GramWord {
    /// The word's offsets in the text (every gram carries them).
    from: usize,
    to: usize,
    /// Where its text starts in `GramStream::keys`.
    key_start: usize,
    /// Where its character boundaries start in `GramStream::bounds`: `chars + 1`
    /// entries, the last being the key's length.
    bounds_start: usize,
    chars: usize,
    cjk: bool,
}

/// The grams of one text, cut as they are asked for: the words' keys are kept in one
/// buffer and each gram is written into the current token's reused string, so a text
/// costs a few allocations rather than one per gram.
pub struct GramStream {
    latin: Option<usize>,
    keys: String,
    bounds: Vec<usize>,
    words: Vec<GramWord>,
    /// The word being cut, and the next piece of it: 0 and 1 the marked starts (`^`),
    /// then the grams from offset `piece - 2`.
    word: usize,
    piece: usize,
    current: Token,
}

impl Tokenizer for Grams {
    type TokenStream<'a> = GramStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream {
        let mut keys = String::with_capacity(text.len() + 8);
        let mut bounds = Vec::with_capacity(text.len() + 8);
        let mut cut = Vec::new();
        for (from, word) in words(text) {
            // As in the language fields: overlong "words" are noise, and would make
            // thousands of grams each.
            if word.len() > MAX_WORD {
                continue;
            }
            let cjk = word.chars().all(is_cjk);
            let key_start = keys.len();
            if cjk || self.latin.is_none() {
                keys.push_str(word);
            } else {
                skeleton_into(word, &mut keys);
                let key = &keys[key_start..];
                if key.len() <= *FUNCTION_WORD_MAX && FUNCTION_WORDS.contains(key) {
                    keys.truncate(key_start);
                    continue;
                }
            }
            let bounds_start = bounds.len();
            bounds.extend(keys[key_start..].char_indices().map(|(o, _)| o));
            let chars = bounds.len() - bounds_start;
            bounds.push(keys.len() - key_start);
            cut.push(GramWord { from, to: from + word.len(), key_start, bounds_start, chars, cjk });
        }
        GramStream {
            latin: self.latin,
            keys,
            bounds,
            words: cut,
            word: 0,
            piece: 0,
            current: Token { position: usize::MAX, ..Token::default() },
        }
    }
}

impl GramStream {
    /// The next piece of the current word as (start, end) in its key, or None when the
    /// word has no more.
    fn piece(&self, w: &GramWord) -> Option<(usize, usize)> {
        let b = &self.bounds[w.bounds_start..=w.bounds_start + w.chars];
        let n = if w.cjk { Some(2) } else { self.latin };
        match n {
            Some(n) if w.chars > n => {
                if !w.cjk && self.piece == 0 {
                    // The word's start, marked: roots are what cognates share most.
                    return Some((0, b[(n - 1).min(w.chars)]));
                }
                let skip = usize::from(!w.cjk);
                let i = self.piece - skip;
                (i + n <= w.chars).then(|| (b[i], b[i + n]))
            }
            Some(_) if w.cjk || w.chars >= 3 => (self.piece == 0).then(|| (0, b[w.chars])),
            Some(_) => None,
            None => (self.piece == 0).then(|| (0, b[w.chars])),
        }
    }
}

impl TokenStream for GramStream {
    fn advance(&mut self) -> bool {
        while let Some(w) = self.words.get(self.word) {
            match self.piece(w) {
                Some((start, end)) => {
                    let key = &self.keys[w.key_start..];
                    let marked = !w.cjk && self.latin.is_some_and(|n| w.chars > n) && self.piece == 0;
                    let t = &mut self.current;
                    t.text.clear();
                    if marked {
                        t.text.push('^');
                    }
                    t.text.push_str(&key[start..end]);
                    t.offset_from = w.from;
                    t.offset_to = w.to;
                    t.position = t.position.wrapping_add(1);
                    t.position_length = 1;
                    self.piece += 1;
                    return true;
                }
                None => {
                    self.word += 1;
                    self.piece = 0;
                }
            }
        }
        false
    }
    fn token(&self) -> &Token {
        &self.current
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

/// The function words of `index/function-words.txt`, in their skeleton spelling: left
/// out of the n-gram field (at indexing and in queries alike).
static FUNCTION_WORDS: std::sync::LazyLock<foldhash::HashSet<String>> = std::sync::LazyLock::new(|| {
    include_str!("../function-words.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split_whitespace().skip(1))
        .map(skeleton)
        .collect()
});

/// The longest function word's skeleton, in bytes: longer words are not looked up.
static FUNCTION_WORD_MAX: std::sync::LazyLock<usize> =
    std::sync::LazyLock::new(|| FUNCTION_WORDS.iter().map(String::len).max().unwrap_or(0));

/// A word's spelling with the differences between cognates in en/fr/es/pt/it smoothed
/// away: lower-cased, accents folded, then `ph`->`f`, `th`->`t`, `ch`->`c`, `qu`->`cu`,
/// `y`->`i`, `k`->`c`, `z`->`s`, and doubled letters single ("philosophy",
/// "philosophie", "filosofía" -> "filosofi", "filosofie", "filosofia").
pub fn skeleton(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    skeleton_into(word, &mut out);
    out
}

/// One lower-cased character folded: at most two characters (`œ` -> `oe`).
fn fold_char(c: char) -> ([char; 2], usize) {
    let one = |c| ([c, ' '], 1);
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => one('a'),
        'ç' => one('c'),
        'è' | 'é' | 'ê' | 'ë' => one('e'),
        'ì' | 'í' | 'î' | 'ï' => one('i'),
        'ñ' => one('n'),
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => one('o'),
        'ù' | 'ú' | 'û' | 'ü' => one('u'),
        'ý' | 'ÿ' | 'y' => one('i'),
        'œ' => (['o', 'e'], 2),
        'æ' => (['a', 'e'], 2),
        'ß' => (['s', 's'], 2),
        'k' => one('c'),
        'z' => one('s'),
        c => one(c),
    }
}

/// The characters of a word lower-cased and folded as [`fold_char`] does, with a fast
/// path for ASCII (most letters of most words in the community's languages).
struct Folded<'a> {
    chars: std::str::Chars<'a>,
    /// What one non-ASCII character became (lower-casing gives at most 3, folding
    /// at most 2 each), and how much of it is given out.
    pending: [char; 6],
    len: u8,
    at: u8,
}

impl Iterator for Folded<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        if self.at < self.len {
            let c = self.pending[usize::from(self.at)];
            self.at += 1;
            return Some(c);
        }
        let c = self.chars.next()?;
        if c.is_ascii() {
            return Some(match c.to_ascii_lowercase() {
                'y' => 'i',
                'k' => 'c',
                'z' => 's',
                c => c,
            });
        }
        let mut len = 0;
        for l in c.to_lowercase() {
            let (folded, n) = fold_char(l);
            for f in &folded[..n] {
                if let Some(slot) = self.pending.get_mut(len) {
                    *slot = *f;
                    len += 1;
                }
            }
        }
        // At most 6, by the bound above.
        self.len = u8::try_from(len).unwrap_or(6);
        self.at = 1;
        (len > 0).then_some(self.pending[0]).or_else(|| self.next())
    }
}

/// [`skeleton`], appended to `out` in one pass with no buffer of its own (it runs on
/// every word indexed).
pub fn skeleton_into(word: &str, out: &mut String) {
    let mut it = Folded { chars: word.chars(), pending: [' '; 6], len: 0, at: 0 }.peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = it.next() {
        let next = it.peek().copied();
        let c = match (c, next) {
            ('p', Some('h')) => {
                it.next();
                'f'
            }
            ('t' | 'c', Some('h')) => {
                it.next();
                c
            }
            ('q', Some('u')) => 'c',
            _ => c,
        };
        if prev == Some(c) && c.is_alphabetic() {
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
}

/// The words of `text`: maximal runs of alphanumeric characters, split further where
/// the script changes between CJK and the rest, with their byte offsets.
pub fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let alnum = c.is_alphanumeric();
        match start {
            Some((s, cjk)) if alnum && is_cjk(c) == cjk => {
                let _ = s;
            }
            Some((s, _)) => {
                out.push((s, &text[s..i]));
                start = alnum.then(|| (i, is_cjk(c)));
            }
            None if alnum => start = Some((i, is_cjk(c))),
            None => {}
        }
    }
    if let Some((s, _)) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(mut a: TextAnalyzer, text: &str) -> Vec<String> {
        analyze(&mut a, text).into_iter().map(|t| t.text).collect()
    }

    /// The grams as the first, eager version cut them (one `String` per gram): the
    /// streaming tokenizer must give exactly these, offsets and positions included.
    fn eager_grams(latin: Option<usize>, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut position = 0;
        for (from, word) in words(text) {
            if word.len() > MAX_WORD {
                continue;
            }
            let to = from + word.len();
            let cjk = word.chars().all(is_cjk);
            let key = if cjk || latin.is_none() { word.to_owned() } else { skeleton(word) };
            if !cjk && latin.is_some() && FUNCTION_WORDS.contains(&key) {
                continue;
            }
            let chars: Vec<(usize, char)> = key.char_indices().collect();
            let n = if cjk { Some(2) } else { latin };
            let mut push = |s: &str| {
                out.push((s.to_owned(), from, to, position));
                position += 1;
            };
            match n {
                Some(n) if chars.len() > n => {
                    if !cjk {
                        let end = chars.get(n - 1).map_or(key.len(), |(o, _)| *o);
                        push(&format!("^{}", &key[..end]));
                    }
                    for i in 0..=chars.len() - n {
                        let end = chars.get(i + n).map_or(key.len(), |(o, _)| *o);
                        push(&key[chars[i].0..end]);
                    }
                }
                Some(_) if cjk || chars.len() >= 3 => push(&key),
                Some(_) => {}
                None => push(&key),
            }
        }
        out
    }

    #[test]
    fn streamed_grams_equal_the_eager_ones() {
        let texts = [
            "Economía social y solidaria: cooperativas de mujeres en Puebla",
            "L'économie sociale et solidaire, coopérative ouvrière à Agadir",
            "Trabalho decente e economia informal em Campinas, São Paulo",
            "a an the of by aaa abcd abcde Philosophy théâtre quête",
            "사회적경제 협동조합은 서울에서, 社会的企業 と 協同組合",
            "الاقتصاد الاجتماعي والتضامني",
            "x",
            "",
            "Straße Ærø œuvre ﬁnance 12345 mixed숫자words",
            &"z".repeat(60),
        ];
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/eval/parallel/ntrex.tsv");
        let corpus = std::fs::read_to_string(path).expect(path);
        for latin in [Some(GRAM), None] {
            for text in texts.iter().copied().chain(corpus.lines()) {
                let mut stream = Grams { latin }.token_stream(text);
                let mut got = Vec::new();
                while stream.advance() {
                    let t = stream.token();
                    got.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
                }
                assert_eq!(got, eager_grams(latin, text), "{latin:?} {text}");
            }
        }
    }

    /// The language fields' analysis as a plain tantivy filter chain: what
    /// `CachedWords` must give, token for token.
    fn chain_reference(lang: Language, stop: bool) -> TextAnalyzer {
        let b = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_WORD))
            .filter(LowerCaser);
        match StopWordFilter::new(lang).filter(|_| stop) {
            Some(sw) => b.filter(sw).filter(AsciiFoldingFilter).filter(Stemmer::new(lang)).build(),
            None => b.filter(AsciiFoldingFilter).filter(Stemmer::new(lang)).build(),
        }
    }

    #[test]
    fn remembered_analysis_equals_the_filter_chain() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/eval/parallel/ntrex.tsv");
        let corpus = std::fs::read_to_string(path).expect(path);
        let long = "x".repeat(MAX_WORD - 1) + " " + &"y".repeat(MAX_WORD) + " Économie LES les";
        for (code, lang, stop) in [
            ("en", Language::English, true),
            ("fr", Language::French, true),
            ("es", Language::Spanish, true),
            ("pt", Language::Portuguese, true),
            ("it", Language::Italian, true),
            ("de", Language::German, true),
            ("ar", Language::Arabic, false),
        ] {
            // One analyzer for every line, as an indexing thread uses it: the second
            // time a word comes, it comes from memory.
            let mut ours = analyzer(code);
            let mut reference = chain_reference(lang, stop);
            let mut tokens = 0;
            for line in corpus.lines().chain([long.as_str(), "", "  ,. "]) {
                let mut a = ours.token_stream(line);
                let mut b = reference.token_stream(line);
                loop {
                    let (x, y) = (a.advance(), b.advance());
                    assert_eq!(x, y, "{code}: {line}");
                    if !x {
                        break;
                    }
                    let (s, t) = (a.token(), b.token());
                    assert_eq!(
                        (&s.text, s.offset_from, s.offset_to, s.position, s.position_length),
                        (&t.text, t.offset_from, t.offset_to, t.position, t.position_length),
                        "{code}: {line}"
                    );
                    tokens += 1;
                }
            }
            assert!(tokens > 100_000, "{code}: {tokens}");
        }
    }

    #[test]
    fn accents_fold_before_stemming() {
        assert_eq!(terms(analyzer("es"), "economía"), terms(analyzer("es"), "economia"));
        assert_eq!(terms(analyzer("pt"), "Economia Solidária"), terms(analyzer("pt"), "economia solidaria"));
        assert_eq!(terms(analyzer("fr"), "coopératives"), terms(analyzer("fr"), "cooperative"));
    }

    #[test]
    fn stop_words_are_dropped() {
        assert_eq!(terms(analyzer("pt"), "cooperativas de mulheres").len(), 2);
        assert!(terms(analyzer("en"), "the and of").is_empty());
    }

    #[test]
    fn grams_of_cognates_overlap() {
        let g = |s| terms(grams_analyzer(), s);
        let en: std::collections::HashSet<_> = g("cooperative").into_iter().collect();
        let fr: std::collections::HashSet<_> = g("coopérative").into_iter().collect();
        assert_eq!(en, fr);
        assert_eq!(g("la"), Vec::<String>::new());
        assert_eq!(g("ILO"), vec!["ilo"]);
        assert_eq!(g("협동조합"), vec!["협동", "동조", "조합"]);
    }

    /// The first, two-pass version of `skeleton`.
    fn skeleton_reference(word: &str) -> String {
        let mut folded = String::with_capacity(word.len());
        for c in word.chars().flat_map(char::to_lowercase) {
            match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => folded.push('a'),
                'ç' => folded.push('c'),
                'è' | 'é' | 'ê' | 'ë' => folded.push('e'),
                'ì' | 'í' | 'î' | 'ï' => folded.push('i'),
                'ñ' => folded.push('n'),
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => folded.push('o'),
                'ù' | 'ú' | 'û' | 'ü' => folded.push('u'),
                'ý' | 'ÿ' | 'y' => folded.push('i'),
                'œ' => folded.push_str("oe"),
                'æ' => folded.push_str("ae"),
                'ß' => folded.push_str("ss"),
                'k' => folded.push('c'),
                'z' => folded.push('s'),
                c => folded.push(c),
            }
        }
        let mut out = String::with_capacity(folded.len());
        let mut prev: Option<char> = None;
        let mut it = folded.chars().peekable();
        while let Some(c) = it.next() {
            let next = it.peek().copied();
            let c = match (c, next) {
                ('p', Some('h')) => {
                    it.next();
                    'f'
                }
                ('t' | 'c', Some('h')) => {
                    it.next();
                    c
                }
                ('q', Some('u')) => 'c',
                _ => c,
            };
            if prev == Some(c) && c.is_alphabetic() {
                continue;
            }
            out.push(c);
            prev = Some(c);
        }
        out
    }

    #[test]
    fn the_one_pass_skeleton_equals_the_first_version() {
        let text = "Philosophy philosophie filosofía Straße Ærø œuvre QUÊTE théâtre chaque Zuckerberg \
                    kayak Yyy aaa bookkeeping quququ phph chhh ﬁnance İstanbul Ǆemal 사회적경제 Σίσυφος \
                    الاقتصاد x ß ẞ Ω";
        for (_, w) in words(text) {
            assert_eq!(skeleton(w), skeleton_reference(w), "{w}");
        }
        // And every word of the parallel corpus, in all its languages and scripts.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/eval/parallel/ntrex.tsv");
        let corpus = std::fs::read_to_string(path).expect(path);
        let mut checked = 0;
        for (_, w) in words(&corpus) {
            assert_eq!(skeleton(w), skeleton_reference(w), "{w}");
            checked += 1;
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn function_words_make_no_grams() {
        let g = |s| terms(grams_analyzer(), s);
        assert_eq!(g("The economy of the cooperatives"), g("economy cooperatives"));
        assert_eq!(g("Économie des coopératives et des mutuelles"), g("économie coopératives mutuelles"));
        assert!(g("para que não").is_empty(), "{:?}", g("para que não"));
        // Only whole words: a word that starts like one keeps its grams.
        assert!(!g("thereby").is_empty());
    }

    #[test]
    fn words_split_on_script_changes() {
        let w: Vec<&str> = words("abc협동조합은, x").into_iter().map(|(_, w)| w).collect();
        assert_eq!(w, vec!["abc", "협동조합은", "x"]);
    }

    #[test]
    fn fold_joins_words() {
        assert_eq!(fold("Économie  sociale et SOLIDAIRE!"), "economie sociale et solidaire");
        assert_eq!(field_lang("ru"), "xx");
        assert_eq!(field_lang("xx"), "xx");
        assert_eq!(field_lang("ko"), "ko");
    }
}

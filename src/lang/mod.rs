//! Language tagging: every post gets `lang`, `lang_source` and `lang_confidence`.
//!
//! A `lang` sent by the client always wins. Arabic and Korean are settled by their
//! script; whatlang, restricted to the community's languages and the other tagged ones
//! it has models of (Italian, German), decides when it is reliable; short text goes to
//! lingua over the same languages, with priors (`Tagger`). docs/LANGUAGE.md has the
//! measurements.

mod tables;

use crate::model::{Lang, LangSource};
use tables::{FUNCTION_WORDS, SHARED_ENDINGS, SHARED_LETTERS, SHARED_PAIRS, SHARED_WORDS};

/// Whether `code` is an ISO 639-1 language code (two lower-case letters, assigned).
pub fn is_iso639_1(code: &str) -> bool {
    Lang::parse(code).is_some()
}

/// ISO 639-1 to whatlang, for the languages whatlang detects.
fn to_whatlang(code: &str) -> Option<whatlang::Lang> {
    use whatlang::Lang::*;
    Some(match code {
        "en" => Eng,
        "fr" => Fra,
        "es" => Spa,
        "pt" => Por,
        "it" => Ita,
        "de" => Deu,
        "ar" => Ara,
        "ko" => Kor,
        "nl" => Nld,
        "ru" => Rus,
        "zh" => Cmn,
        "ja" => Jpn,
        "tr" => Tur,
        "pl" => Pol,
        "sv" => Swe,
        "hi" => Hin,
        "uk" => Ukr,
        "ro" => Ron,
        "el" => Ell,
        "he" => Heb,
        "fa" => Pes,
        "id" => Ind,
        "vi" => Vie,
        "th" => Tha,
        "ca" => Cat,
        "cs" => Ces,
        "hu" => Hun,
        "fi" => Fin,
        "da" => Dan,
        "nb" => Nob,
        _ => return None,
    })
}

/// ISO 639-1 to lingua, for the languages this build carries models for.
fn to_lingua(code: &str) -> Option<lingua::Language> {
    use lingua::Language::*;
    Some(match code {
        "en" => English,
        "fr" => French,
        "es" => Spanish,
        "pt" => Portuguese,
        "it" => Italian,
        "de" => German,
        "ar" => Arabic,
        "ko" => Korean,
        _ => return None,
    })
}

/// A post's language decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub lang: Lang,
    pub source: LangSource,
    pub confidence: f64,
}

/// What is known besides the text itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence<'a> {
    /// The client's own statement: it always wins.
    pub declared: Option<Lang>,
    /// The languages the author says they write, most used first.
    pub author: &'a [Lang],
    /// The language most of the room's recent posts are in.
    pub room: Option<Lang>,
}

/// How much less likely a language the author did not declare is, a priori.
const UNDECLARED_PRIOR: f64 = 0.01;
/// How likely a language outside the community's is, a priori, against one of the
/// community's, when the author declared none: members write mostly the community's.
const OUTSIDE_PRIOR: f64 = 0.5;
/// How much more likely the room's current language is, a priori.
const ROOM_PRIOR: f64 = 2.0;
/// Detection reads at most this much of a post: enough for any language, and long posts
/// cost no more than short ones.
const DETECT_BYTES: usize = 240;
/// lingua's probability above which the text alone decides.
const CONFIDENT: f64 = 0.9;

/// Tags text with one of the community's languages or of those tagged besides.
///
/// 1. A declared language wins; then a script that settles one (Arabic, Korean).
/// 2. whatlang, restricted to the community's languages and the Latin ones tagged
///    besides, decides when it calls itself reliable (right 99.9% of the time then, and
///    it is for nearly every sentence): cheap, so long posts cost little.
/// 3. Otherwise (short text) lingua's probabilities over the same languages are
///    combined with priors: the author's declared languages (others count 100 times
///    less; with none declared, a language outside the community's counts half), the
///    room's current language (twice as likely), letters only one of the
///    languages writes (five times), words only one of them writes (four times), and
///    word endings or letter pairs only one of the author's languages writes (twice). The
///    most probable language wins; its normalized score is the confidence.
pub struct Tagger {
    whatlang: Option<whatlang::Detector>,
    /// (ISO 639-1, whatlang) for the community's and `outside` languages whatlang knows.
    known: Vec<(Lang, whatlang::Lang)>,
    lingua: Option<lingua::LanguageDetector>,
    /// (ISO 639-1, lingua) for the community's and `outside` languages lingua knows.
    lingua_known: Vec<(Lang, lingua::Language)>,
    community: Vec<Lang>,
    /// Languages outside the community's that the models tell (Italian, German): posts
    /// in them wait for translation into each community language.
    outside: Vec<Lang>,
    /// Languages outside the community's that posts are tagged with when their script
    /// settles it (Arabic, Korean), as `outside`.
    scripts: Vec<Lang>,
    /// Dictionaries of the community's languages, if the machine has them.
    lexicon: crate::lexicon::Lexicon,
}

/// The languages told apart by their script alone, with the letters that write them and
/// how many Latin letters one of them is worth (a Hangul block is a syllable of two or
/// three letters: weighed so, a Korean sentence full of names in brackets stays Korean).
const SCRIPT_LANGUAGES: &[Script] = &[("ar", is_arabic, 1), ("ko", is_hangul, 3)];

/// A language's code, whether a character is one of its script's letters, and its weight.
type Script = (&'static str, fn(char) -> bool, usize);
/// The weighed share of a script's letters above which it settles the language.
const SCRIPT_SHARE: f64 = 0.4;

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7AF}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}')
}

/// Of the languages a script settles, the one whose letters make more than
/// `SCRIPT_SHARE` of `text`'s (weighed), with that share.
fn by_script(text: &str, allowed: &[Lang]) -> Option<(Lang, f64)> {
    SCRIPT_LANGUAGES.iter().find_map(|&(code, is, weight)| {
        let lang = allowed.iter().find(|l| l.as_str() == code)?;
        let (mut ours, mut others) = (0usize, 0usize);
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            if is(c) {
                ours += weight;
            } else {
                others += 1;
            }
        }
        let share = ours as f64 / (ours + others).max(1) as f64;
        (share > SCRIPT_SHARE).then_some((*lang, share))
    })
}

/// The languages the tagger can tell by their script alone.
pub fn script_languages() -> impl Iterator<Item = &'static str> {
    SCRIPT_LANGUAGES.iter().map(|(code, _, _)| *code)
}

fn is_script_language(code: &str) -> bool {
    script_languages().any(|c| c == code)
}

/// Whether posts can be tagged with `code`: its script settles it, or this build carries
/// a model of it (it tells it from the community's languages).
pub fn taggable(code: &str) -> bool {
    is_script_language(code) || to_lingua(code).is_some()
}

/// Every language posts can be tagged with (`taggable`).
pub fn taggable_languages() -> impl Iterator<Item = &'static str> {
    LINGUA_CODES.iter().copied().chain(script_languages().filter(|c| !LINGUA_CODES.contains(c)))
}

/// The languages posts are tagged with besides the community's, by default (the server's
/// `tag_languages`): the alumni's other languages.
pub const DEFAULT_ALSO: [&str; 4] = ["ar", "ko", "it", "de"];

/// The languages this build carries lingua models of.
const LINGUA_CODES: &[&str] = &["en", "fr", "es", "pt", "it", "de", "ar", "ko"];

impl Tagger {
    /// The server's tagger: the community's languages and `also`, with what `dictionaries`
    /// has of their Hunspell dictionaries for the word prior; returns the files read too.
    pub fn load(
        community: &[Lang],
        also: &[Lang],
        dictionaries: &std::path::Path,
    ) -> (Self, Vec<(Lang, Vec<std::path::PathBuf>)>) {
        let all: Vec<Lang> = community.iter().chain(also).copied().collect();
        let (lexicon, read) = crate::lexicon::Lexicon::load(dictionaries, &all);
        (Tagger::with_lexicon(community, lexicon).also_tagging(also), read)
    }

    /// A tagger with dictionaries for the word prior (`crate::lexicon`).
    pub fn with_lexicon(community: &[Lang], lexicon: crate::lexicon::Lexicon) -> Self {
        Tagger { lexicon, ..Tagger::new(community) }
    }

    pub fn new(community: &[Lang]) -> Self {
        Tagger::build(community, &[], crate::lexicon::Lexicon::default())
    }

    fn build(community: &[Lang], outside: &[Lang], lexicon: crate::lexicon::Lexicon) -> Self {
        let modelled: Vec<Lang> = community.iter().chain(outside).copied().collect();
        let known: Vec<(Lang, whatlang::Lang)> =
            modelled.iter().filter_map(|c| to_whatlang(c.as_str()).map(|l| (*c, l))).collect();
        let whatlang = if known.is_empty() {
            None
        } else {
            Some(whatlang::Detector::with_allowlist(known.iter().map(|(_, l)| *l).collect()))
        };
        let lingua_known: Vec<(Lang, lingua::Language)> =
            modelled.iter().filter_map(|c| to_lingua(c.as_str()).map(|l| (*c, l))).collect();
        let lingua = if lingua_known.len() >= 2 {
            let langs: Vec<lingua::Language> = lingua_known.iter().map(|(_, l)| *l).collect();
            Some(lingua::LanguageDetectorBuilder::from_languages(&langs).build())
        } else {
            None
        };
        Tagger {
            whatlang,
            known,
            lingua,
            lingua_known,
            community: community.to_vec(),
            outside: outside.to_vec(),
            scripts: community.iter().copied().filter(|l| is_script_language(l.as_str())).collect(),
            lexicon,
        }
    }

    /// Tags posts with `also` too, besides the community's languages: those a script
    /// settles (`script_languages`) and those the models tell (`taggable`).
    pub fn also_tagging(self, also: &[Lang]) -> Self {
        let mut scripts = self.scripts;
        let mut outside = self.outside;
        for l in also.iter().filter(|l| !self.community.contains(l)) {
            if is_script_language(l.as_str()) {
                if !scripts.contains(l) {
                    scripts.push(*l);
                }
            } else if to_lingua(l.as_str()).is_some() && !outside.contains(l) {
                outside.push(*l);
            }
        }
        Tagger { scripts, ..Tagger::build(&self.community, &outside, self.lexicon) }
    }

    /// Every language this tagger may tag a post with.
    pub fn languages(&self) -> Vec<Lang> {
        let mut all = self.community.clone();
        all.extend(&self.outside);
        all.extend(self.scripts.iter().filter(|l| !self.community.contains(l)));
        all
    }

    /// Loads the short-text models now rather than on the first short post.
    pub fn warm_up(&self) {
        if let Some(l) = &self.lingua {
            let _ = l.detect_language_of("warm up");
        }
    }

    /// Decides the language of `text`.
    pub fn tag(&self, text: &str, ev: &Evidence) -> Tag {
        if let Some(l) = ev.declared {
            return Tag { lang: l, source: LangSource::Declared, confidence: 1.0 };
        }
        let text = head(text, DETECT_BYTES);
        // Arabic or Korean letters settle it: no other language of the set writes them.
        if let Some((lang, share)) = by_script(text, &self.scripts) {
            return Tag { lang, source: LangSource::Detected, confidence: share };
        }
        let author: Vec<Lang> =
            ev.author.iter().copied().filter(|l| self.community.contains(l) || self.outside.contains(l)).collect();
        let guess = self.whatlang.as_ref().and_then(|d| d.detect(text)).and_then(|info| {
            let code = self.known.iter().find(|(_, l)| *l == info.lang())?.0;
            Some((code, info.confidence(), info.is_reliable()))
        });
        if let Some((code, confidence, true)) = &guess {
            // Reliable is right 99.9% of the time, even against the author's languages.
            return Tag { lang: *code, source: LangSource::Detected, confidence: *confidence };
        }
        // Words tell the author's languages apart, or, with none declared, the community's.
        let rivals: Vec<&str> = if author.is_empty() {
            self.community.iter().chain(&self.outside).map(Lang::as_str).collect()
        } else {
            author.iter().map(Lang::as_str).collect()
        };
        if let Some(scores) = self.short_text_scores(text, &rivals) {
            return self.combine(&scores, &author, ev.room);
        }
        // No model for these languages, or no letters to go on.
        match (guess, author.first()) {
            (Some((code, confidence, _)), Some(_)) if author.contains(&code) => {
                Tag { lang: code, source: LangSource::Author, confidence }
            }
            (_, Some(first)) => Tag { lang: *first, source: LangSource::Author, confidence: 0.5 },
            (Some((code, confidence, _)), None) => Tag { lang: code, source: LangSource::Detected, confidence },
            (None, None) => Tag {
                lang: self.community.first().copied().unwrap_or(Lang::EN),
                source: LangSource::Detected,
                confidence: 0.0,
            },
        }
    }

    /// lingua's probabilities over the community languages it knows, if it has any
    /// opinion.
    fn short_text_scores(&self, text: &str, rivals: &[&str]) -> Option<Vec<(Lang, f64)>> {
        let lingua = self.lingua.as_ref()?;
        // Typographic apostrophes and quotes split words the models know ("C’est").
        let text: String = text.chars().map(|c| if matches!(c, '’' | '‘' | 'ʼ') { '\'' } else { c }).collect();
        let values = lingua.compute_language_confidence_values(&*without_names(&text));
        let spelled_only_by = spelled_only_by(&self.lexicon, &text, rivals);
        let scores: Vec<(Lang, f64)> = self
            .lingua_known
            .iter()
            .map(|&(lang, l)| {
                let code = lang.as_str();
                let p = values.iter().find(|(v, _)| *v == l).map_or(0.0, |(_, p)| *p);
                let prior = orthography(&text, code)
                    * words_prior(&text, code, rivals)
                    * spellings(&text, code, rivals)
                    * if spelled_only_by.contains(&code) { LEXICON_PRIOR } else { 1.0 };
                (lang, p * prior)
            })
            .collect();
        if scores.iter().all(|(_, p)| *p <= 0.0) {
            None
        } else {
            Some(scores)
        }
    }

    fn combine(&self, scores: &[(Lang, f64)], author: &[Lang], room: Option<Lang>) -> Tag {
        let (top, p_top) = best(scores.iter().map(|(c, p)| (c, *p)));
        let weighted: Vec<(&Lang, f64)> = scores
            .iter()
            .map(|(c, p)| {
                let mut w = *p;
                if !author.is_empty() && !author.contains(c) {
                    w *= UNDECLARED_PRIOR;
                } else if author.is_empty() && self.outside.contains(c) {
                    w *= OUTSIDE_PRIOR;
                }
                if room == Some(*c) {
                    w *= ROOM_PRIOR;
                }
                (c, w)
            })
            .collect();
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let (lang, w) = best(weighted.iter().map(|(c, w)| (*c, *w)));
        let confidence = if total > 0.0 { w / total } else { 0.0 };
        let source = if lang == top && p_top >= CONFIDENT || author.is_empty() {
            LangSource::Detected
        } else {
            LangSource::Author
        };
        Tag { lang: *lang, source, confidence }
    }
}

/// How much more likely a language is when a word of the text is in its dictionary and
/// in no other rival's.
const LEXICON_PRIOR: f64 = 3.0;
/// Texts of more words than this get no dictionary prior: their letters decide, and the
/// look-ups would cost more than they tell.
const LEXICON_WORDS: usize = 6;

/// The rivals that spell a word of the text no other rival's dictionary spells (each
/// then `LEXICON_PRIOR` times more likely). None when a rival has no dictionary (a vote
/// only some languages can cast would favour them), or the text is long. Each word is
/// looked up once per rival.
fn spelled_only_by<'a>(lexicon: &crate::lexicon::Lexicon, text: &str, rivals: &[&'a str]) -> Vec<&'a str> {
    if rivals.len() < 2 || !lexicon.covers(rivals) {
        return Vec::new();
    }
    let words: Vec<&str> = text.split(|c: char| !c.is_alphabetic()).filter(|w| w.chars().count() >= 3).collect();
    if words.len() > LEXICON_WORDS {
        return Vec::new();
    }
    let mut only = Vec::new();
    for w in words {
        let knowing: Vec<&str> = rivals.iter().copied().filter(|r| lexicon.knows(r, w)).collect();
        if let [one] = knowing[..] {
            if !only.contains(&one) {
                only.push(one);
            }
        }
    }
    only
}

/// The function-word prior, from the words outside double quotes when they have any
/// function word, else from all: the writer's own small words say more than those of
/// what they quote (`« "Peppa the pig", oui. »` is French; `"Foi o melhor que
/// aconteceu", disse Jaynes.` has nothing but a verb and a name outside its quote).
fn words_prior(text: &str, code: &str, rivals: &[&str]) -> f64 {
    let outside = without_quotes(text);
    if let std::borrow::Cow::Owned(outside) = &outside {
        if has_function_word(outside, rivals) {
            return function_words(outside, code, rivals);
        }
    }
    function_words(text, code, rivals)
}

/// Whether `text` has a function word of any language in `rivals`.
fn has_function_word(text: &str, rivals: &[&str]) -> bool {
    rivals.iter().any(|code| function_words(text, code, rivals) > 1.0)
}

/// `text` without what it quotes between double quotes, when a letter is left outside
/// them; else `text` as it is (a line that is all quote, or an unclosed quote).
fn without_quotes(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['"', '“', '”']) {
        return text.into();
    }
    let mut outside = String::with_capacity(text.len());
    let mut quoted = String::new();
    let (mut open, mut closed) = (false, false);
    for c in text.chars() {
        match (c, open) {
            ('"' | '“', false) => open = true,
            ('"' | '”', true) => {
                (open, closed) = (false, true);
                quoted.clear();
                outside.push(' ');
            }
            (_, true) => quoted.push(c),
            (_, false) => outside.push(c),
        }
    }
    if !closed || !outside.chars().any(char::is_alphabetic) {
        return text.into();
    }
    // An unclosed quote at the end keeps its words.
    outside.push_str(&quoted);
    outside.into()
}

/// `text` without its capitalized words (names: "Trump da un mitin en West Virginia" is
/// Spanish in its small words, English in its names), when at least two words with
/// letters are left; else `text` as it is (title case, or names only).
fn without_names(text: &str) -> std::borrow::Cow<'_, str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let kept: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| {
            let letters = w.trim_start_matches(|c: char| !c.is_alphabetic());
            !letters.is_empty() && !letters.starts_with(char::is_uppercase)
        })
        .collect();
    if kept.len() == words.len() || kept.len() < 2 {
        text.into()
    } else {
        kept.join(" ").into()
    }
}

/// Letters that, among the languages with models here, only one language writes: a
/// strong hint when they appear (Spanish ñ ¿ ¡, Portuguese ã õ, French ë ï î û œ).
fn orthography(text: &str, code: &str) -> f64 {
    const ONLY: &[(&str, &[char])] =
        &[("es", &['ñ', 'Ñ', '¿', '¡']), ("pt", &['ã', 'õ', 'Ã', 'Õ']), ("fr", &['ë', 'ï', 'î', 'û', 'œ', 'Œ'])];
    for (lang, letters) in ONLY {
        if text.contains(*letters) {
            return if *lang == code { ORTHOGRAPHY_PRIOR } else { 1.0 };
        }
    }
    1.0
}

/// How much more likely a language is when the text has letters only it writes.
const ORTHOGRAPHY_PRIOR: f64 = 5.0;

/// How much more likely a language is when a word of the text ends, or is spelled, as
/// only it among the rivals writes.
const ENDING_PRIOR: f64 = 2.0;

/// Whether `langs` has `code` and no other language of `rivals`.
fn only_among(langs: &[&str], code: &str, rivals: &[&str]) -> bool {
    langs.contains(&code) && !rivals.iter().any(|r| *r != code && langs.contains(r))
}

/// The spelling prior of `code` among `rivals`: letters (`ORTHOGRAPHY_PRIOR`) and word
/// endings or letter pairs (`ENDING_PRIOR`) that, of the rivals, only `code` writes.
fn spellings(text: &str, code: &str, rivals: &[&str]) -> f64 {
    let mut prior = 1.0;
    if SHARED_LETTERS
        .iter()
        .any(|(c, langs)| only_among(langs, code, rivals) && text.contains([*c, c.to_uppercase().next().unwrap_or(*c)]))
    {
        prior *= ORTHOGRAPHY_PRIOR;
    }
    let hit = text.split(|c: char| !c.is_alphabetic()).any(|w| {
        let n = w.chars().count();
        if n < 4 || w.starts_with(char::is_uppercase) {
            return false;
        }
        let w = if w.chars().any(char::is_uppercase) { w.to_lowercase() } else { w.to_owned() };
        SHARED_ENDINGS
            .iter()
            .any(|(end, langs)| n >= end.chars().count() + 2 && w.ends_with(end) && only_among(langs, code, rivals))
            || SHARED_PAIRS.iter().any(|(pair, langs)| w.contains(pair) && only_among(langs, code, rivals))
    });
    if hit {
        prior *= ENDING_PRIOR;
    }
    prior
}

/// How much more likely a language is when the text has a word only it writes.
const FUNCTION_WORD_PRIOR: f64 = 4.0;

/// The function-word prior of `code` for `text`: `FUNCTION_WORD_PRIOR` when a word of
/// the text is one only `code` writes (of all the languages with models, or of
/// `rivals` for the shared words), else 1.
fn function_words(text: &str, code: &str, rivals: &[&str]) -> f64 {
    let only = FUNCTION_WORDS.iter().find(|(c, _)| *c == code).map_or(&[][..], |(_, w)| *w);
    let is_hit = |w: &str| {
        only.contains(&w)
            || SHARED_WORDS.iter().any(|(word, langs)| {
                *word == w && langs.contains(&code) && !rivals.iter().any(|r| *r != code && langs.contains(r))
            })
    };
    let hit =
        text.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty() && w.len() <= 12).any(|w| {
            let w = w.trim_matches('\'');
            // Most words are already lower case; only the others pay for a copy.
            if w.chars().any(char::is_uppercase) {
                is_hit(&w.to_lowercase())
            } else {
                is_hit(w)
            }
        });
    if hit {
        FUNCTION_WORD_PRIOR
    } else {
        1.0
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn best<'a>(mut it: impl Iterator<Item = (&'a Lang, f64)>) -> (&'a Lang, f64) {
    let mut top = it.next().map_or((None, f64::MIN), |(c, p)| (Some(c), p));
    for (c, p) in it {
        if p > top.1 {
            top = (Some(c), p);
        }
    }
    (top.0.unwrap_or(&Lang::EN), top.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagger() -> Tagger {
        Tagger::new(&Lang::many(&["en", "fr", "es", "pt"]))
    }

    /// Arabic and Korean letters settle the language, whatever the author declares; a
    /// name in another script inside a Latin sentence does not.
    #[test]
    fn arabic_and_korean_are_told_by_their_script() {
        let t = tagger().also_tagging(&Lang::many(&["ar", "ko"]));
        let fr = Lang::many(&["fr"]);
        let author = Evidence { author: &fr, ..Evidence::default() };
        for (text, want) in [
            ("التعاونيات تخلق فرص عمل في المغرب", "ar"),
            ("사회적경제 아카데미에서 만나요!", "ko"),
            ("안녕", "ko"),
            ("La coopérative de 서울 accueille la réunion", "fr"),
        ] {
            assert_eq!(t.tag(text, &author).lang.as_str(), want, "{text}");
        }
        assert_eq!(t.languages().iter().map(Lang::as_str).collect::<Vec<_>>(), ["en", "fr", "es", "pt", "ar", "ko"]);
        // Without them, a Korean post gets a community language (what the setting is for).
        assert_ne!(tagger().tag("사회적경제 아카데미에서 만나요!", &Evidence::default()).lang.as_str(), "ko");
    }

    /// Italian and German, tagged besides the community's languages, are told apart from
    /// them by the models and their own words; without them, such a post gets a community
    /// language.
    #[test]
    fn italian_and_german_are_told_from_the_community_s_languages() {
        let t = tagger().also_tagging(&Lang::many(&["it", "de"]));
        assert_eq!(t.languages().iter().map(Lang::as_str).collect::<Vec<_>>(), ["en", "fr", "es", "pt", "it", "de"]);
        for (text, want) in [
            ("Grazie a tutti per la riunione di ieri a Torino", "it"),
            ("Vielen Dank für das Treffen gestern in Luxemburg", "de"),
            ("Thanks everyone for the meeting yesterday", "en"),
            ("Gracias a todos por la reunión de ayer", "es"),
            ("Merci à tous pour la réunion d'hier", "fr"),
            ("Obrigada a todos pela reunião de ontem", "pt"),
        ] {
            assert_eq!(t.tag(text, &Evidence::default()).lang.as_str(), want, "{text}");
        }
        // An Italian author's chat line; the same line from an author of French and
        // Spanish stays theirs.
        let it = Lang::many(&["it", "en"]);
        assert_eq!(t.tag("Che bello!", &Evidence { author: &it, ..Evidence::default() }).lang.as_str(), "it");
        assert_ne!(tagger().tag("Grazie a tutti per la riunione di ieri", &Evidence::default()).lang.as_str(), "it");
        assert!(taggable("it") && taggable("ko") && !taggable("nl"));
        assert!(LINGUA_CODES.iter().all(|c| to_lingua(c).is_some()));
    }

    #[test]
    fn the_rooms_language_tips_ambiguous_short_text() {
        let t = tagger();
        for room in Lang::many(&["fr", "es", "pt", "en"]) {
            let tag = t.tag("Total", &Evidence { room: Some(room), ..Evidence::default() });
            assert_eq!(tag.lang, room, "{tag:?}");
        }
    }

    /// Each text, written by an author who declares these two languages, is tagged `want`.
    fn tags_with_the_authors_languages(cases: &[(&str, [&str; 2], &str)]) {
        let t = tagger();
        for (text, author, want) in cases {
            let author = author.map(|l| Lang::parse(l).unwrap());
            let tag = t.tag(text, &Evidence { author: &author, ..Evidence::default() });
            assert_eq!(tag.lang, *want, "{text}: {tag:?}");
        }
    }

    #[test]
    fn words_only_one_language_writes_decide_chat_lines() {
        // Each of these was tagged with the author's other language before function
        // words counted (NTREX headlines; docs/LANGUAGE.md).
        tags_with_the_authors_languages(&[
            ("C\u{2019}est normal.", ["fr", "pt"], "fr"),
            ("É normal.", ["pt", "fr"], "pt"),
            ("Yo no lo filtré\u{201d}.", ["es", "fr"], "es"),
            ("Europa vence a Ryder Cup em Paris", ["pt", "fr"], "pt"),
        ]);
        let all = ["en", "fr", "es", "pt"];
        assert_eq!(function_words("Qui est là ?", "fr", &all), FUNCTION_WORD_PRIOR);
        assert_eq!(function_words("QUI EST LÀ", "fr", &all), FUNCTION_WORD_PRIOR);
        assert_eq!(function_words("Qui est là ?", "es", &all), 1.0);
        assert_eq!(function_words("la casa", "es", &all), 1.0, "la is French too");
    }

    #[test]
    fn names_do_not_decide_short_text() {
        // Tagged English for its names before they were left out (NTREX headlines).
        let t = tagger();
        let author = Lang::many(&["en", "pt"]);
        let tag = t.tag("Dianne Feinstein, a fuga partiu de si?", &Evidence { author: &author, ..Evidence::default() });
        assert_eq!(tag.lang, "pt", "{tag:?}");
        assert_eq!(without_names("Dianne Feinstein, a fuga partiu de si?"), "a fuga partiu de si?");
        // Title case, names only, or one word left: the text as it is.
        assert_eq!(without_names("Welsh AMs Worried About Looking"), "Welsh AMs Worried About Looking");
        assert_eq!(without_names("Elite League: Dundee Stars 5-3"), "Elite League: Dundee Stars 5-3");
        assert_eq!(without_names("Obrigado Maria"), "Obrigado Maria");
    }

    #[test]
    fn shared_words_tell_the_authors_two_languages_apart() {
        // Both tagged with the author's other language before (NTREX headlines).
        tags_with_the_authors_languages(&[
            ("Trump da un mitin en West Virginia", ["en", "es"], "es"),
            ("Sismos e tsunamis na Indonésia", ["pt", "fr"], "pt"),
        ]);
        // "la" is Spanish against Portuguese, and nothing against French.
        assert_eq!(function_words("la casa", "es", &["es", "pt"]), FUNCTION_WORD_PRIOR);
        assert_eq!(function_words("la casa", "es", &["es", "fr"]), 1.0);
        assert_eq!(function_words("la casa", "es", &["en", "fr", "es", "pt"]), 1.0);
    }

    #[test]
    fn word_endings_tell_the_authors_two_languages_apart() {
        // Tagged with the author's other language before endings counted (lingua word
        // pairs): no Portuguese word ends in -dad or -d, and no Spanish one in -m.
        tags_with_the_authors_languages(&[
            ("clientes totalidad", ["pt", "es"], "es"),
            ("verdad fotos", ["pt", "es"], "es"),
            ("inform respond", ["pt", "en"], "en"),
        ]);
        assert_eq!(spellings("dignidad", "es", &["es", "pt"]), ENDING_PRIOR);
        assert_eq!(spellings("dignidad", "pt", &["es", "pt"]), 1.0);
        assert_eq!(spellings("solution familiar", "en", &["en", "fr"]), ENDING_PRIOR);
        // Between Spanish and English a final -d says nothing; ç is French or Portuguese.
        assert_eq!(spellings("usted", "es", &["es", "en"]), 1.0);
        assert_eq!(spellings("ação", "pt", &["es", "pt"]), ORTHOGRAPHY_PRIOR);
        assert_eq!(spellings("ça", "fr", &["fr", "pt"]), 1.0);
        // Names do not count.
        assert_eq!(spellings("Madrid", "es", &["es", "pt"]), 1.0);
    }

    #[test]
    fn the_words_outside_a_quote_speak_for_the_writer() {
        let t = tagger();
        let author = Lang::many(&["en", "fr"]);
        let tag = t.tag("« \"Peppa the pig\", oui. »", &Evidence { author: &author, ..Evidence::default() });
        assert_eq!(tag.lang, "fr", "{tag:?}");
        assert_eq!(without_quotes("« \"Peppa the pig\", oui. »"), "«  , oui. »");
        // All quote, or a quote left open: the text as it is.
        assert_eq!(without_quotes("\"No, no, no.\""), "\"No, no, no.\"");
        assert_eq!(without_quotes("\"No, no, no."), "\"No, no, no.");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let s = "é".repeat(200);
        let h = head(&s, DETECT_BYTES);
        assert!(h.len() <= DETECT_BYTES && s.starts_with(h));
        assert_eq!(head("short", DETECT_BYTES), "short");
    }

    #[test]
    fn sentences_are_detected() {
        let t = tagger();
        let tag = t.tag(
            "Les coopératives de femmes au Sénégal ont créé des emplois décents dans la transformation des produits agricoles.",
            &Evidence::default(),
        );
        assert_eq!((tag.lang.as_str(), tag.source), ("fr", LangSource::Detected));
        let tag = t.tag(
            "As cooperativas de mulheres em Moçambique organizaram a comercialização conjunta da produção agrícola.",
            &Evidence { author: &[Lang::EN], ..Evidence::default() },
        );
        assert_eq!((tag.lang.as_str(), tag.source), ("pt", LangSource::Detected));
    }

    #[test]
    fn declared_wins_and_short_text_falls_back_to_the_author() {
        let t = tagger();
        let declared = Evidence { declared: Lang::parse("es"), ..Evidence::default() };
        assert_eq!(t.tag("ok", &declared).source, LangSource::Declared);
        let author = Lang::many(&["pt", "en"]);
        let tag = t.tag("obrigada", &Evidence { author: &author, ..Evidence::default() });
        assert_eq!(tag.lang, "pt");
        let tag = t.tag("ok", &Evidence { author: &author, ..Evidence::default() });
        assert!(["pt", "en"].contains(&tag.lang.as_str()), "{tag:?}");
        let tag = t.tag("ok", &Evidence::default());
        assert!(["en", "fr", "es", "pt"].contains(&tag.lang.as_str()));
        assert!((0.0..=1.0).contains(&tag.confidence));
    }
}

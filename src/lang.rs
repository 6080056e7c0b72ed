//! Language tagging: every post gets `lang`, `lang_source` and `lang_confidence`.
//!
//! whatlang, restricted to the community's languages, decides when it is reliable. When
//! it is not (short chat text), the author's declared languages decide: the detector's
//! guess if it is one of them, else the author's first language. A `lang` sent by the
//! client always wins. The accuracy work on short text belongs to the language issue.

use crate::model::LangSource;

/// ISO 639-1 codes, for validating what clients and configuration send.
const ISO639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy \
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik \
io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt \
my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so \
sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// Whether `code` is an ISO 639-1 language code (two lower-case letters, assigned).
pub fn is_iso639_1(code: &str) -> bool {
    code.len() == 2 && ISO639_1.split(' ').any(|c| c == code)
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

/// A post's language decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub lang: String,
    pub source: LangSource,
    pub confidence: f64,
}

/// Tags text with one of the community's languages.
pub struct Tagger {
    detector: Option<whatlang::Detector>,
    /// (ISO 639-1, whatlang) for the community languages whatlang knows.
    known: Vec<(String, whatlang::Lang)>,
    community: Vec<String>,
}

impl Tagger {
    pub fn new(community: &[String]) -> Self {
        let known: Vec<(String, whatlang::Lang)> =
            community.iter().filter_map(|c| to_whatlang(c).map(|l| (c.clone(), l))).collect();
        let detector = if known.is_empty() {
            None
        } else {
            Some(whatlang::Detector::with_allowlist(known.iter().map(|(_, l)| *l).collect()))
        };
        Tagger { detector, known, community: community.to_vec() }
    }

    /// Decides the language of `text` written by an author who declared `author_langs`.
    pub fn tag(&self, text: &str, declared: Option<&str>, author_langs: &[String]) -> Tag {
        if let Some(l) = declared {
            return Tag { lang: l.to_owned(), source: LangSource::Declared, confidence: 1.0 };
        }
        let guess = self.detector.as_ref().and_then(|d| d.detect(text)).and_then(|info| {
            let code = self.known.iter().find(|(_, l)| *l == info.lang())?.0.clone();
            Some((code, info.confidence(), info.is_reliable()))
        });
        if let Some((code, confidence, true)) = &guess {
            return Tag { lang: code.clone(), source: LangSource::Detected, confidence: *confidence };
        }
        let author_community: Vec<&String> = author_langs.iter().filter(|l| self.community.contains(l)).collect();
        match (&guess, author_community.first()) {
            // The unreliable guess is one the author writes in: take it.
            (Some((code, confidence, _)), Some(_)) if author_community.contains(&code) => {
                Tag { lang: code.clone(), source: LangSource::Author, confidence: *confidence }
            }
            // Otherwise the author's first language, as a prior of even odds.
            (_, Some(first)) => Tag { lang: (*first).clone(), source: LangSource::Author, confidence: 0.5 },
            (Some((code, confidence, _)), None) => {
                Tag { lang: code.clone(), source: LangSource::Detected, confidence: *confidence }
            }
            (None, None) => Tag {
                lang: self.community.first().cloned().unwrap_or_else(|| "en".into()),
                source: LangSource::Detected,
                confidence: 0.0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagger() -> Tagger {
        Tagger::new(&["en", "fr", "es", "pt"].map(String::from))
    }

    #[test]
    fn iso_codes() {
        assert!(is_iso639_1("pt"));
        assert!(is_iso639_1("ko"));
        assert!(!is_iso639_1("xx"));
        assert!(!is_iso639_1("eng"));
        assert!(!is_iso639_1("PT"));
    }

    #[test]
    fn sentences_are_detected() {
        let t = tagger();
        let tag = t.tag(
            "Les coopératives de femmes au Sénégal ont créé des emplois décents dans la transformation des produits agricoles.",
            None,
            &[],
        );
        assert_eq!((tag.lang.as_str(), tag.source), ("fr", LangSource::Detected));
        let tag = t.tag(
            "As cooperativas de mulheres em Moçambique organizaram a comercialização conjunta da produção agrícola.",
            None,
            &["en".into()],
        );
        assert_eq!((tag.lang.as_str(), tag.source), ("pt", LangSource::Detected));
    }

    #[test]
    fn declared_wins_and_short_text_falls_back_to_the_author() {
        let t = tagger();
        assert_eq!(t.tag("ok", Some("es"), &[]).source, LangSource::Declared);
        let tag = t.tag("ok", None, &["pt".into(), "en".into()]);
        assert_eq!(tag.source, LangSource::Author);
        assert!(["pt", "en"].contains(&tag.lang.as_str()));
        let tag = t.tag("ok", None, &[]);
        assert!(["en", "fr", "es", "pt"].contains(&tag.lang.as_str()));
        assert!((0.0..=1.0).contains(&tag.confidence));
    }
}

//! Word knowledge for short-text tagging: which of the community's languages spell a
//! word, from the system's Hunspell dictionaries (Debian's `hunspell-en-us`,
//! `hunspell-fr`, `hunspell-es`, `hunspell-pt-pt`, `hunspell-pt-br`, `hunspell-it`,
//! `hunspell-de-de`), read with
//! `spellbook`. Letter statistics cannot tell `datos` (Spanish) from `dados`
//! (Portuguese, and Spanish too) or `concursantes` from `concorrentes`; a dictionary
//! can. The dictionaries are data on the machine, not part of this repository: without
//! them tagging works as before, a little less sure on two-word posts.

use crate::model::Lang;
use std::path::{Path, PathBuf};

/// Where Debian installs Hunspell dictionaries.
pub const DEFAULT_DIR: &str = "/usr/share/hunspell";

/// The dictionary files read for a language (any of them spelling a word is enough:
/// European and Brazilian Portuguese both count as `pt`).
fn files_of(lang: &str) -> &'static [&'static str] {
    match lang {
        "en" => &["en_US"],
        "fr" => &["fr_FR"],
        "es" => &["es_ES"],
        "pt" => &["pt_PT", "pt_BR"],
        "it" => &["it_IT"],
        "de" => &["de_DE"],
        _ => &[],
    }
}

/// The dictionaries of some languages.
#[derive(Default)]
pub struct Lexicon {
    langs: Vec<(Lang, Vec<spellbook::Dictionary>)>,
}

impl Lexicon {
    /// Loads what `dir` has for `langs`; returns the lexicon and, per language, the
    /// files it read (a language with none is left out).
    pub fn load(dir: &Path, langs: &[Lang]) -> (Lexicon, Vec<(Lang, Vec<PathBuf>)>) {
        let mut lexicon = Lexicon::default();
        let mut read = Vec::new();
        for lang in langs {
            let mut dicts = Vec::new();
            let mut paths = Vec::new();
            for name in files_of(lang.as_str()) {
                let aff = dir.join(format!("{name}.aff"));
                let dic = dir.join(format!("{name}.dic"));
                let (Ok(a), Ok(d)) = (std::fs::read_to_string(&aff), std::fs::read_to_string(&dic)) else { continue };
                match spellbook::Dictionary::new(a.trim_start_matches('\u{feff}'), d.trim_start_matches('\u{feff}')) {
                    Ok(dict) => {
                        dicts.push(dict);
                        paths.push(dic);
                    }
                    Err(e) => tracing::warn!(file = %aff.display(), error = %e, "dictionary not read"),
                }
            }
            if !dicts.is_empty() {
                lexicon.langs.push((*lang, dicts));
                read.push((*lang, paths));
            }
        }
        (lexicon, read)
    }

    /// Whether every one of `langs` has a dictionary here.
    pub fn covers(&self, langs: &[&str]) -> bool {
        langs.iter().all(|l| self.langs.iter().any(|(c, _)| c == l))
    }

    /// Whether `lang`'s dictionaries spell `word` (false without a dictionary).
    pub fn knows(&self, lang: &str, word: &str) -> bool {
        self.langs.iter().find(|(c, _)| *c == lang).is_some_and(|(_, dicts)| dicts.iter().any(|d| d.check(word)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{Evidence, Tagger};

    /// Two tiny dictionaries: Spanish writes `datos`, Portuguese `dados`, both `cursos`.
    fn tiny() -> (tempfile::TempDir, Vec<Lang>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, words) in [("es_ES", "datos\ncursos\n"), ("pt_PT", "dados\ncursos\n")] {
            std::fs::write(dir.path().join(format!("{name}.aff")), "SET UTF-8\n").unwrap();
            std::fs::write(dir.path().join(format!("{name}.dic")), format!("2\n{words}")).unwrap();
        }
        (dir, Lang::many(&["es", "pt"]))
    }

    #[test]
    fn reads_the_dictionaries_there_are() {
        let (dir, langs) = tiny();
        let mut with_fr = langs.clone();
        with_fr.extend(Lang::parse("fr"));
        let (lexicon, read) = Lexicon::load(dir.path(), &with_fr);
        assert_eq!(read.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["es", "pt"], "no French files");
        assert!(lexicon.knows("es", "datos") && !lexicon.knows("pt", "datos"));
        assert!(lexicon.knows("pt", "cursos") && lexicon.knows("es", "cursos"));
        assert!(!lexicon.knows("fr", "datos"));
        assert!(lexicon.covers(&["es", "pt"]) && !lexicon.covers(&["es", "fr"]));
        let (none, read) = Lexicon::load(&dir.path().join("missing"), &langs);
        assert!(read.is_empty() && !none.covers(&["es"]));
    }

    #[test]
    fn a_word_only_one_of_the_authors_languages_spells_decides_a_short_post() {
        // lingua's letters alone take `cursos datos` for Portuguese (docs/LANGUAGE.md).
        let (dir, langs) = tiny();
        let community = Lang::many(&["en", "fr", "es", "pt"]);
        let author = Lang::many(&["pt", "es"]);
        let ev = Evidence { author: &author, ..Evidence::default() };
        let plain = Tagger::new(&community);
        assert_eq!(plain.tag("cursos datos", &ev).lang, "pt");
        let (lexicon, _) = Lexicon::load(dir.path(), &langs);
        let with = Tagger::with_lexicon(&community, lexicon);
        assert_eq!(with.tag("cursos datos", &ev).lang, "es");
        assert_eq!(with.tag("cursos dados", &ev).lang, "pt");
    }
}

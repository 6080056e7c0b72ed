//! What every client learns first (`GET /config`): the community's name, its languages,
//! the interface's languages, how people join, and the limits a client should know
//! before it sends anything.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::model::Lang;

/// The languages the web client's interface is written in (`web/i18n/`).
pub const UI_LANGUAGES: [&str; 4] = ["en", "fr", "es", "pt"];

/// The welcome text a guest reads first, per interface language.
const WELCOME: [(&str, &str); 4] = [
    (
        "en",
        "The Collective Brain is where alumni of the ILO Academy on Social and Solidarity \
         Economy keep working together between editions: a forum, live chat, private working \
         groups, news, and the collections of past Academies. Everyone writes in their own \
         language, and volunteer translators carry posts into the others. Alumni of every \
         edition are welcome: create an account and introduce yourself.",
    ),
    (
        "fr",
        "Le Collective Brain est l'espace où les anciens de l'Académie de l'OIT sur \
         l'économie sociale et solidaire continuent de travailler ensemble entre deux \
         éditions : un forum, un chat en direct, des groupes de travail privés, des \
         nouvelles et les collections des Académies passées. Chacun écrit dans sa langue, \
         et des traducteurs bénévoles portent les messages dans les autres. Les anciens de \
         toutes les éditions sont les bienvenus : créez un compte et présentez-vous.",
    ),
    (
        "es",
        "El Collective Brain es el lugar donde las y los exalumnos de la Academia de la OIT \
         sobre Economía Social y Solidaria siguen trabajando juntos entre ediciones: un foro, \
         un chat en vivo, grupos de trabajo privados, noticias y las colecciones de las \
         Academias anteriores. Cada persona escribe en su idioma, y traductores voluntarios \
         llevan los mensajes a los demás. Son bienvenidos exalumnos de todas las ediciones: \
         cree una cuenta y preséntese.",
    ),
    (
        "pt",
        "O Collective Brain é o espaço onde ex-participantes da Academia da OIT sobre \
         Economia Social e Solidária continuam a trabalhar juntos entre as edições: um fórum, \
         um chat ao vivo, grupos de trabalho privados, notícias e as coleções das Academias \
         anteriores. Cada pessoa escreve na sua língua, e tradutores voluntários levam as \
         mensagens para as outras. Ex-participantes de todas as edições são bem-vindos: crie \
         uma conta e apresente-se.",
    ),
];

/// The answer of `GET /config`.
#[derive(Clone, Debug, Serialize)]
pub struct CommunityConfig {
    pub name: String,
    /// The community's languages, most used first: posts are tagged with one of them and
    /// translated into the others.
    pub languages: Vec<Lang>,
    pub ui_languages: Vec<&'static str>,
    /// How people join: `open` (anyone may register).
    pub signup: &'static str,
    /// Whether the server sends email.
    pub email: bool,
    pub max_file_bytes: u64,
    pub welcome: BTreeMap<&'static str, &'static str>,
    /// Extension: the largest post body, in bytes of UTF-8.
    pub max_post_bytes: usize,
    /// Extension: the shortest password accepted, in characters.
    pub min_password_chars: usize,
}

impl CommunityConfig {
    pub fn new(config: &Config) -> Self {
        CommunityConfig {
            name: config.name.clone(),
            languages: config.languages.clone(),
            ui_languages: UI_LANGUAGES.to_vec(),
            signup: "open",
            email: false,
            max_file_bytes: config.max_file_bytes,
            welcome: WELCOME.into_iter().collect(),
            max_post_bytes: config.max_post_bytes,
            min_password_chars: super::validate::PASSWORD_MIN,
        }
    }
}

//! What every client learns first (`GET /config`): the community's name, its languages,
//! the interface's languages, how people join, and the limits a client should know
//! before it sends anything; and what admins change of it from the browser
//! (`PATCH /config`: the name, the sign-up mode, the welcome texts).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{validate, App};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::model::{CommunitySettings, Lang, Signup, User};

/// The longest welcome text, in characters.
const WELCOME_MAX_CHARS: usize = 4000;

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
    /// How people join: `open`, `approval` or `invite`.
    pub signup: Signup,
    /// Whether the server sends email.
    pub email: bool,
    pub max_file_bytes: u64,
    /// The front door's text per language: the admins' where they wrote one, else the
    /// built-in text.
    pub welcome: BTreeMap<String, String>,
    /// Extension: the welcome texts admins wrote (none: the built-in ones are shown).
    pub welcome_custom: BTreeMap<Lang, String>,
    /// Extension: the largest post body, in bytes of UTF-8.
    pub max_post_bytes: usize,
    /// Extension: the shortest password accepted, in characters.
    pub min_password_chars: usize,
}

impl CommunityConfig {
    /// The server's settings with what admins set over them.
    pub fn new(config: &Config, set: CommunitySettings) -> Self {
        let mut welcome: BTreeMap<String, String> =
            WELCOME.into_iter().map(|(l, t)| (l.to_owned(), t.to_owned())).collect();
        for (lang, text) in &set.welcome {
            welcome.insert(lang.to_string(), text.clone());
        }
        CommunityConfig {
            name: set.name.unwrap_or_else(|| config.name.clone()),
            languages: config.languages.clone(),
            ui_languages: UI_LANGUAGES.to_vec(),
            signup: set.signup,
            email: config.smtp_url.is_some(),
            max_file_bytes: config.max_file_bytes,
            welcome,
            welcome_custom: set.welcome,
            max_post_bytes: config.max_post_bytes,
            min_password_chars: super::validate::PASSWORD_MIN,
        }
    }
}

/// What `PATCH /config` may change; what is left out stays. A `welcome` text that is
/// empty goes back to the built-in one.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityPatch {
    pub name: Option<String>,
    pub signup: Option<Signup>,
    pub welcome: Option<BTreeMap<String, String>>,
}

impl App {
    /// `GET /config`.
    pub fn community(&self) -> ApiResult<CommunityConfig> {
        Ok(CommunityConfig::new(&self.config, self.store.community()?))
    }

    /// How people join now.
    pub fn signup_mode(&self) -> ApiResult<Signup> {
        Ok(self.store.community()?.signup)
    }

    /// Admins change the name, the sign-up mode and the welcome texts.
    pub async fn set_community(&self, actor: &User, patch: CommunityPatch) -> ApiResult<CommunityConfig> {
        if !actor.is_admin() {
            return Err(ApiError::forbidden("only admins change the community's settings"));
        }
        let mut set = self.store.community()?;
        if let Some(name) = patch.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
                return Err(ApiError::field("name", "1 to 80 characters"));
            }
            set.name = Some(name.to_owned());
        }
        if let Some(signup) = patch.signup {
            set.signup = signup;
        }
        if let Some(texts) = patch.welcome {
            for (lang, text) in texts {
                let lang = validate::lang(&lang)
                    .map_err(|_| ApiError::field("welcome", format!("{lang:?} is not a language code")))?;
                let text = text.trim();
                if text.chars().count() > WELCOME_MAX_CHARS {
                    return Err(ApiError::field("welcome", format!("at most {WELCOME_MAX_CHARS} characters")));
                }
                if text.is_empty() {
                    set.welcome.remove(&lang);
                } else {
                    set.welcome.insert(lang, text.to_owned());
                }
            }
        }
        self.limiter.write(actor.id)?;
        self.store.run(crate::store::SetCommunity { settings: set }).await?;
        self.community()
    }
}

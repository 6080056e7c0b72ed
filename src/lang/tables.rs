//! The language tagger's tables: the letters, endings,
//! letter pairs and function words that tell the community's languages apart (each
//! entry names the languages that share it).

/// Letters that two or three of the languages write, with the languages that do: among
/// the four they decide little, but between the author's two they may (ç, ê, â and ô are
/// Portuguese and French, not Spanish).
pub(super) const SHARED_LETTERS: &[(char, &[&str])] = &[
    ('ç', &["fr", "pt"]),
    ('ê', &["fr", "pt"]),
    ('â', &["fr", "pt"]),
    ('ô', &["fr", "pt"]),
    ('à', &["fr", "pt", "it"]),
    ('á', &["es", "pt"]),
    ('í', &["es", "pt", "it"]),
    ('ó', &["es", "pt", "it"]),
    ('ú', &["es", "pt", "it"]),
    ('ü', &["es", "de", "fr"]),
    ('è', &["fr", "it"]),
    ('ù', &["fr", "it"]),
    ('ì', &["it"]),
    ('ò', &["it"]),
    ('ä', &["de"]),
    ('ö', &["de"]),
    ('ß', &["de"]),
];

/// Word endings, and letter pairs inside words, that some of the languages write and
/// others never do natively, with the languages that do. lingua's letter statistics do
/// not see where a word ends, so "totalidad" scores Portuguese ("idad" is in "idade"),
/// but no Portuguese word ends in -dad, -d or -n, and no Spanish one in -m or -u.
pub(super) const SHARED_ENDINGS: &[(&str, &[&str])] = &[
    ("dad", &["es"]),
    ("ción", &["es"]),
    ("cion", &["es"]),
    ("ciones", &["es"]),
    ("ón", &["es"]),
    ("ía", &["es"]),
    ("aje", &["es"]),
    ("dade", &["pt"]),
    ("agem", &["pt"]),
    ("ble", &["es", "en", "fr"]),
    ("vel", &["pt", "en", "fr"]),
    ("n", &["es", "en", "fr", "de", "it"]),
    ("d", &["es", "en", "fr", "de"]),
    ("m", &["pt", "en", "fr", "de"]),
    ("u", &["pt", "en", "fr", "de", "it"]),
    ("ei", &["pt", "de", "it"]),
    ("ar", &["en", "es", "pt", "it", "de"]),
    ("ing", &["en"]),
    ("ly", &["en"]),
    ("eux", &["fr"]),
    ("eau", &["fr"]),
    ("eaux", &["fr"]),
    ("oir", &["fr"]),
    ("zione", &["it"]),
    ("zioni", &["it"]),
    ("ità", &["it"]),
    ("ung", &["de"]),
    ("heit", &["de"]),
    ("keit", &["de"]),
    ("schaft", &["de"]),
    ("lich", &["de"]),
];

/// Letter pairs inside words, as `SHARED_ENDINGS`: Portuguese writes no "ll", Spanish
/// no "lh" or "nh".
pub(super) const SHARED_PAIRS: &[(&str, &[&str])] = &[
    ("ll", &["es", "en", "fr", "de", "it"]),
    ("lh", &["pt"]),
    ("nh", &["pt", "en", "fr"]),
    ("gli", &["it"]),
    ("sch", &["de", "en", "it"]),
    ("tz", &["de", "en"]),
];

/// Short words that, among the languages with models here, only one language writes
/// (spelled as that language writes them, accents kept, lower case): in chat-length text
/// they often say more than the letter statistics ("C'est normal.", "É normal.", "Yo no
/// lo sé"). Words two of them share are left out ("la", "no", "en", "de", "que", "a",
/// "está"), and so are those another of them uses as a common word ("le", "es", "tu" and
/// "has" are Spanish too, "son" French, "o", "mais", "dos" and "pelo" Spanish or French,
/// "à" Portuguese, "do" and "da" English and Spanish, "um" English).
pub(super) const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "of", "is", "it", "that", "with", "this", "are", "were", "you", "have", "what", "which",
            "to", "from", "they", "we", "be", "would", "there", "their", "i'm", "it's", "don't", "thanks", "when",
            "where", "because", "about", "should", "could", "been", "but", "our", "your", "who",
        ],
    ),
    (
        "fr",
        &[
            "les", "une", "et", "est", "sont", "dans", "pour", "avec", "pas", "ce", "c'est", "je", "j'ai", "elle",
            "nous", "vous", "ils", "oui", "au", "aux", "cette", "très", "être", "où", "ça", "n'est", "d'un", "d'une",
            "merci", "bonjour", "quand", "comme", "aussi", "donc", "leur", "leurs", "ces", "sans", "chez", "avoir",
            "déjà", "beaucoup", "peut",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "y", "sus", "yo", "muy", "pero", "también", "qué", "hay", "gracias", "hola", "donde", "dónde",
            "cuando", "cuándo", "cómo", "hasta", "mucho", "muchos", "nosotros", "usted", "ustedes", "aquí", "ahora",
            "entonces", "siempre", "mismo", "ese", "eso",
        ],
    ),
    (
        "pt",
        &[
            "não", "é", "em", "uma", "com", "ao", "eu", "você", "isso", "já", "ele", "ela", "sim", "pela", "muito",
            "tem", "também", "obrigado", "obrigada", "olá", "onde", "então", "agora", "mesmo", "nós", "vocês", "aqui",
            "até", "depois", "ainda", "nossa", "nosso",
        ],
    ),
    (
        "it",
        &[
            "di", "che", "della", "delle", "degli", "dei", "dello", "nel", "nella", "nelle", "negli", "nei", "sono",
            "è", "gli", "anche", "questo", "questa", "questi", "queste", "grazie", "ciao", "molto", "molti", "perché",
            "più", "già", "ancora", "essere", "hanno", "abbiamo", "siamo", "dove", "alla", "alle", "allo", "agli",
            "dalla", "dalle", "dal", "sulla", "sul", "loro", "noi", "voi", "tutti", "tutto", "quello", "quella",
            "nostro", "nostra", "stato", "stata", "oggi", "ho", "hai",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "einer", "dem", "den", "mit", "auf",
            "sich", "auch", "wir", "ich", "sie", "zu", "von", "für", "werden", "wird", "sind", "haben", "hat", "bei",
            "nach", "aus", "oder", "aber", "wie", "noch", "über", "uns", "unsere", "unser", "danke", "hallo", "heute",
            "im", "zum", "zur", "vom", "dass", "diese", "dieser", "kann", "können", "mehr", "schon", "sehr", "ihr",
            "ihre", "wurde", "wurden", "gegen", "unter",
        ],
    ),
];

/// Common short words that several of the languages write, with the languages that do.
/// Among the four they decide nothing, but between two they may: "la", "en" and "un"
/// are Spanish, not Portuguese or English; "do" and "as" Portuguese, not Spanish. So a
/// word of this list counts for a language when no other language in the running (the
/// author's, or the community's when the author declared none) writes it.
pub(super) const SHARED_WORDS: &[(&str, &[&str])] = &[
    ("la", &["fr", "es", "it"]),
    ("le", &["fr", "es", "it"]),
    ("de", &["fr", "es", "pt"]),
    ("en", &["fr", "es"]),
    ("un", &["fr", "es", "it"]),
    ("que", &["fr", "es", "pt"]),
    ("no", &["en", "es", "pt", "it"]),
    ("se", &["fr", "es", "pt", "it"]),
    ("es", &["es", "fr", "de"]),
    ("son", &["fr", "es"]),
    ("si", &["fr", "es", "it"]),
    ("por", &["es", "pt"]),
    ("para", &["es", "pt"]),
    ("como", &["es", "pt", "it"]),
    ("mais", &["fr", "pt"]),
    ("ou", &["fr", "pt"]),
    ("o", &["es", "pt", "it"]),
    ("os", &["es", "pt"]),
    ("as", &["en", "pt"]),
    ("do", &["en", "pt"]),
    ("da", &["es", "pt", "it"]),
    ("dos", &["es", "pt"]),
    ("e", &["pt", "it"]),
    ("na", &["pt"]),
    ("nos", &["fr", "es", "pt"]),
    ("um", &["en", "pt"]),
    ("in", &["en", "it", "de"]),
    ("on", &["en", "fr"]),
    ("an", &["en", "fr", "de"]),
    ("for", &["en"]),
    ("at", &["en"]),
    ("by", &["en"]),
    ("not", &["en"]),
    ("sur", &["fr"]),
    ("ne", &["fr", "it"]),
    ("al", &["es", "it"]),
    ("las", &["es"]),
    ("ya", &["es"]),
    ("fue", &["es"]),
    ("este", &["es", "pt"]),
    ("entre", &["fr", "es", "pt"]),
    ("esta", &["es", "pt"]),
    ("está", &["es", "pt"]),
    ("era", &["es", "pt", "it"]),
    ("seu", &["pt"]),
    ("sua", &["pt"]),
    ("foi", &["pt"]),
    ("são", &["pt"]),
    ("il", &["fr", "it"]),
    ("qui", &["fr", "it"]),
    ("des", &["fr", "de"]),
    ("du", &["fr", "de"]),
    ("non", &["fr", "it"]),
    ("ma", &["fr", "it"]),
    ("del", &["es", "it"]),
    ("con", &["es", "it"]),
    ("una", &["es", "it"]),
    ("su", &["es", "it"]),
    ("lo", &["es", "it"]),
    ("quando", &["pt", "it"]),
    ("das", &["pt", "de"]),
    ("was", &["en", "de"]),
    ("will", &["en", "de"]),
    ("am", &["en", "de"]),
    ("so", &["en", "de"]),
    ("man", &["en", "de"]),
    ("per", &["en", "it"]),
    ("come", &["en", "it"]),
];

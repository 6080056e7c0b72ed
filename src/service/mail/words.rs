//! The words of every email and of the unsubscribe page, in the interface languages.
//! `{name}`-style holes are filled by the caller.

/// The words for `what` in `lang` (English for a language without them).
pub fn word(lang: &str, what: &str) -> &'static str {
    match lang {
        "fr" => fr(what),
        "es" => es(what),
        "pt" => pt(what),
        _ => None,
    }
    .or_else(|| en(what))
    .unwrap_or("")
}

fn en(what: &str) -> Option<&'static str> {
    Some(match what {
        "verify_subject" => "Confirm your address",
        "verify_text" => "To confirm that this address is yours on {name}, open this link (it works for 7 days):",
        "reset_subject" => "Choose a new password",
        "reset_text" => "Someone (you, we hope) asked for a new password for your {name} account. This link works once, for an hour:",
        "invite_subject" => "You are invited to join {name}",
        "invite_text" => "You are invited to join {name}, where the SSE Academy's alumni work together. Create your account with this link:",
        "mention" => "{who} mentioned you in {where}",
        "reply" => "{who} replied to you in {where}",
        "dm" => "{who} wrote to you",
        "watched" => "{who} wrote in {where}",
        "many_subject" => "{n} new messages for you on {name}",
        "notices_intro" => "While you were away:",
        "open" => "Open it",
        "notices_footer" => "You get these emails for mentions, replies and direct messages you have not seen. Choose which emails you get in your profile: {settings}",
        "digest_daily_subject" => "Your daily summary of {name}",
        "digest_weekly_subject" => "Your weekly summary of {name}",
        "digest_intro" => "What happened on {name} since {since}:",
        "digest_new" => "New threads",
        "digest_active" => "Most active discussions",
        "digest_waiting" => "Waiting for you",
        "digest_posts" => "{n} new posts",
        "digest_footer" => "You get this summary because you chose it in your profile: {settings}",
        "original_in" => "in {lang}",
        "translated_from" => "translated from {lang}",
        "direct" => "a direct conversation",
        "stop" => "Stop these emails",
        "unsub_title" => "Stop these emails?",
        "unsub_notices" => "You will get no more emails about mentions, replies and direct messages.",
        "unsub_digest" => "You will get no more summaries.",
        "unsub_all" => "You will get no more notices or summaries by email.",
        "unsub_done" => "Done. You can turn them on again in your profile.",
        "unsub_bad" => "This link is not valid (it may be from an address that changed since).",
        "test_subject" => "A test message from {name}",
        "test_text" => "If you read this, {name} can send email.",
        _ => return None,
    })
}

fn fr(what: &str) -> Option<&'static str> {
    Some(match what {
        "verify_subject" => "Confirmez votre adresse",
        "verify_text" => "Pour confirmer que cette adresse est la vôtre sur {name}, ouvrez ce lien (valable 7 jours) :",
        "reset_subject" => "Choisir un nouveau mot de passe",
        "reset_text" => "Quelqu'un (vous, espérons-le) a demandé un nouveau mot de passe pour votre compte {name}. Ce lien marche une fois, pendant une heure :",
        "invite_subject" => "Vous êtes invité·e à rejoindre {name}",
        "invite_text" => "Vous êtes invité·e à rejoindre {name}, où les anciens de l'Académie ESS travaillent ensemble. Créez votre compte avec ce lien :",
        "mention" => "{who} vous a mentionné·e dans {where}",
        "reply" => "{who} vous a répondu dans {where}",
        "dm" => "{who} vous a écrit",
        "watched" => "{who} a écrit dans {where}",
        "many_subject" => "{n} nouveaux messages pour vous sur {name}",
        "notices_intro" => "Pendant votre absence :",
        "open" => "Ouvrir",
        "notices_footer" => "Vous recevez ces courriels pour les mentions, réponses et messages directs que vous n'avez pas vus. Choisissez lesquels vous recevez dans votre profil : {settings}",
        "digest_daily_subject" => "Votre résumé quotidien de {name}",
        "digest_weekly_subject" => "Votre résumé hebdomadaire de {name}",
        "digest_intro" => "Ce qui s'est passé sur {name} depuis le {since} :",
        "digest_new" => "Nouvelles discussions",
        "digest_active" => "Discussions les plus actives",
        "digest_waiting" => "Vous attendent",
        "digest_posts" => "{n} nouveaux messages",
        "digest_footer" => "Vous recevez ce résumé parce que vous l'avez choisi dans votre profil : {settings}",
        "original_in" => "en {lang}",
        "translated_from" => "traduit de : {lang}",
        "direct" => "une conversation privée",
        "stop" => "Ne plus recevoir ces courriels",
        "unsub_title" => "Ne plus recevoir ces courriels ?",
        "unsub_notices" => "Vous ne recevrez plus de courriels pour les mentions, réponses et messages directs.",
        "unsub_digest" => "Vous ne recevrez plus de résumés.",
        "unsub_all" => "Vous ne recevrez plus ni avis ni résumés par courriel.",
        "unsub_done" => "C'est fait. Vous pouvez les réactiver dans votre profil.",
        "unsub_bad" => "Ce lien n'est pas valable (il vient peut-être d'une adresse changée depuis).",
        "test_subject" => "Un message d'essai de {name}",
        "test_text" => "Si vous lisez ceci, {name} sait envoyer des courriels.",
        _ => return None,
    })
}

fn es(what: &str) -> Option<&'static str> {
    Some(match what {
        "verify_subject" => "Confirme su dirección",
        "verify_text" => "Para confirmar que esta dirección es suya en {name}, abra este enlace (válido 7 días):",
        "reset_subject" => "Elegir una nueva contraseña",
        "reset_text" => "Alguien (usted, esperamos) pidió una nueva contraseña para su cuenta de {name}. Este enlace funciona una vez, durante una hora:",
        "invite_subject" => "Le invitan a unirse a {name}",
        "invite_text" => "Le invitan a unirse a {name}, donde los antiguos alumnos de la Academia ESS trabajan juntos. Cree su cuenta con este enlace:",
        "mention" => "{who} le mencionó en {where}",
        "reply" => "{who} le respondió en {where}",
        "dm" => "{who} le escribió",
        "watched" => "{who} escribió en {where}",
        "many_subject" => "{n} mensajes nuevos para usted en {name}",
        "notices_intro" => "Mientras no estaba:",
        "open" => "Abrir",
        "notices_footer" => "Recibe estos correos por las menciones, respuestas y mensajes directos que no ha visto. Elija cuáles recibe en su perfil: {settings}",
        "digest_daily_subject" => "Su resumen diario de {name}",
        "digest_weekly_subject" => "Su resumen semanal de {name}",
        "digest_intro" => "Lo que pasó en {name} desde el {since}:",
        "digest_new" => "Nuevos hilos",
        "digest_active" => "Conversaciones más activas",
        "digest_waiting" => "Le esperan",
        "digest_posts" => "{n} mensajes nuevos",
        "digest_footer" => "Recibe este resumen porque lo eligió en su perfil: {settings}",
        "original_in" => "en {lang}",
        "translated_from" => "traducido de: {lang}",
        "direct" => "una conversación privada",
        "stop" => "Dejar de recibir estos correos",
        "unsub_title" => "¿Dejar de recibir estos correos?",
        "unsub_notices" => "No recibirá más correos por menciones, respuestas y mensajes directos.",
        "unsub_digest" => "No recibirá más resúmenes.",
        "unsub_all" => "No recibirá más avisos ni resúmenes por correo.",
        "unsub_done" => "Hecho. Puede volver a activarlos en su perfil.",
        "unsub_bad" => "Este enlace no es válido (quizás viene de una dirección que cambió).",
        "test_subject" => "Un mensaje de prueba de {name}",
        "test_text" => "Si lee esto, {name} puede enviar correos.",
        _ => return None,
    })
}

fn pt(what: &str) -> Option<&'static str> {
    Some(match what {
        "verify_subject" => "Confirme o seu endereço",
        "verify_text" => "Para confirmar que este endereço é seu em {name}, abra este link (válido 7 dias):",
        "reset_subject" => "Escolher uma nova palavra-passe",
        "reset_text" => "Alguém (você, esperamos) pediu uma nova palavra-passe para a sua conta de {name}. Este link funciona uma vez, durante uma hora:",
        "invite_subject" => "Convidam-no a entrar em {name}",
        "invite_text" => "Convidam-no a entrar em {name}, onde os antigos alunos da Academia ESS trabalham juntos. Crie a sua conta com este link:",
        "mention" => "{who} mencionou-o em {where}",
        "reply" => "{who} respondeu-lhe em {where}",
        "dm" => "{who} escreveu-lhe",
        "watched" => "{who} escreveu em {where}",
        "many_subject" => "{n} mensagens novas para si em {name}",
        "notices_intro" => "Enquanto esteve fora:",
        "open" => "Abrir",
        "notices_footer" => "Recebe estes emails pelas menções, respostas e mensagens diretas que não viu. Escolha quais recebe no seu perfil: {settings}",
        "digest_daily_subject" => "O seu resumo diário de {name}",
        "digest_weekly_subject" => "O seu resumo semanal de {name}",
        "digest_intro" => "O que aconteceu em {name} desde {since}:",
        "digest_new" => "Novos tópicos",
        "digest_active" => "Conversas mais ativas",
        "digest_waiting" => "À sua espera",
        "digest_posts" => "{n} mensagens novas",
        "digest_footer" => "Recebe este resumo porque o escolheu no seu perfil: {settings}",
        "original_in" => "em {lang}",
        "translated_from" => "traduzido de: {lang}",
        "direct" => "uma conversa privada",
        "stop" => "Deixar de receber estes emails",
        "unsub_title" => "Deixar de receber estes emails?",
        "unsub_notices" => "Não receberá mais emails sobre menções, respostas e mensagens diretas.",
        "unsub_digest" => "Não receberá mais resumos.",
        "unsub_all" => "Não receberá mais avisos nem resumos por email.",
        "unsub_done" => "Feito. Pode voltar a ativá-los no seu perfil.",
        "unsub_bad" => "Este link não é válido (talvez venha de um endereço que mudou entretanto).",
        "test_subject" => "Uma mensagem de teste de {name}",
        "test_text" => "Se lê isto, {name} consegue enviar emails.",
        _ => return None,
    })
}

/// A language's own name (what its speakers call it), or its code.
pub fn language_name(code: &str) -> String {
    match code {
        "en" => "English",
        "fr" => "français",
        "es" => "español",
        "pt" => "português",
        "ar" => "العربية",
        "ko" => "한국어",
        "it" => "italiano",
        "de" => "Deutsch",
        other => return other.to_owned(),
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key English has, each interface language has too.
    #[test]
    fn every_language_has_every_word() {
        let keys = [
            "verify_subject",
            "verify_text",
            "reset_subject",
            "reset_text",
            "invite_subject",
            "invite_text",
            "mention",
            "reply",
            "dm",
            "watched",
            "many_subject",
            "notices_intro",
            "open",
            "notices_footer",
            "digest_daily_subject",
            "digest_weekly_subject",
            "digest_intro",
            "digest_new",
            "digest_active",
            "digest_waiting",
            "digest_posts",
            "digest_footer",
            "original_in",
            "translated_from",
            "direct",
            "stop",
            "unsub_title",
            "unsub_notices",
            "unsub_digest",
            "unsub_all",
            "unsub_done",
            "unsub_bad",
            "test_subject",
            "test_text",
        ];
        for k in keys {
            assert!(en(k).is_some(), "en {k}");
            for (lang, f) in [("fr", fr as fn(&str) -> Option<&'static str>), ("es", es), ("pt", pt)] {
                assert!(f(k).is_some(), "{lang} lacks {k}");
            }
        }
        assert_eq!(word("de", "stop"), "Stop these emails");
        assert_eq!(word("fr", "nothing"), "");
    }
}

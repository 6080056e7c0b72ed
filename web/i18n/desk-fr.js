// French strings of the translators' desk (web/desk.js), loaded with it.
export default {
  "desk.title": "Bureau des traducteurs",
  "desk.not_translator": "Le bureau est réservé aux traducteurs. Demandez le rôle de traducteur à un administrateur.",
  "desk.no_pairs": "Déclarez d'abord vos paires de langues dans",
  "desk.into": "Traduire vers",
  "desk.empty": "Rien n'attend de traduction vers cette langue.",
  "desk.original": "Original ({lang})",
  "desk.claim": "Prendre",
  "desk.submit": "Publier la traduction",
  "desk.release": "Libérer",
  "desk.draft": "Traduction en {lang}",
  "desk.until": "À vous jusqu'à {time}",
  "desk.published": "Publié. Merci !",
  "desk.files": "Titres et descriptions des documents",
  "desk.files_empty": "Aucun document n'attend son titre dans cette langue.",
  "desk.file_title": "Titre en {lang}",
  "desk.file_description": "Description en {lang}",
};

// Spanish strings of the translators' desk (web/desk.js), loaded with it.
export default {
  "desk.title": "Mesa de traducción",
  "desk.not_translator": "La mesa es para traductores. Pida el rol de traductor a un administrador.",
  "desk.no_pairs": "Declare primero sus pares de idiomas en",
  "desk.into": "Traducir al",
  "desk.empty": "Nada espera traducción a este idioma.",
  "desk.original": "Original ({lang})",
  "desk.claim": "Tomar",
  "desk.submit": "Publicar la traducción",
  "desk.release": "Liberar",
  "desk.draft": "Traducción al {lang}",
  "desk.until": "Suyo hasta {time}",
  "desk.published": "Publicada. ¡Gracias!",
  "desk.files": "Títulos y descripciones de documentos",
  "desk.files_empty": "Ningún documento espera su título en este idioma.",
  "desk.file_title": "Título en {lang}",
  "desk.file_description": "Descripción en {lang}",
};

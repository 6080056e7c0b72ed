// English strings of the translators' desk (web/desk.js), loaded with it.
export default {
  "desk.title": "Translators' desk",
  "desk.not_translator": "The desk is for translators. Ask an admin for the translator role.",
  "desk.no_pairs": "Declare your language pairs first in",
  "desk.into": "Translate into",
  "desk.empty": "Nothing waits for a translation into this language.",
  "desk.original": "Original ({lang})",
  "desk.claim": "Claim",
  "desk.submit": "Publish the translation",
  "desk.release": "Release",
  "desk.draft": "Translation into {lang}",
  "desk.until": "Yours until {time}",
  "desk.published": "Published. Thank you!",
  "desk.files": "Documents' titles and descriptions",
  "desk.files_empty": "No document waits for its title in this language.",
  "desk.file_title": "Title in {lang}",
  "desk.file_description": "Description in {lang}",
};

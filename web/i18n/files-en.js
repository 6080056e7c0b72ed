// English strings of the files pages (web/files.js), loaded with them.
export default {
  "files.unavailable": "unavailable",
  "files.open": "{name}: show it whole",
  "files.remove": "Remove {name}",
  "files.too_big": "Too large: a file is at most {max}.",
  "files.failed": "The upload failed: check your connection and try again.",
  "files.library_of": "Library of {name}",
  "files.any_language": "Any language",
  "files.find": "Find by name or thread",
  "files.language": "Language of the text",
  "files.find_go": "Find",
  "files.more": "More",
  "files.back": "Back to the threads",
  "files.in_chat": "in the chat",
  "files.empty": "No files here yet. Attach one to a post with 📎 and it appears here.",
};

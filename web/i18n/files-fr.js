// French strings of the files pages (web/files.js), loaded with them.
export default {
  "files.unavailable": "indisponible",
  "files.open": "{name} : l'afficher en entier",
  "files.remove": "Retirer {name}",
  "files.too_big": "Trop volumineux : un fichier fait au plus {max}.",
  "files.failed": "L'envoi a échoué : vérifiez votre connexion et réessayez.",
  "files.library_of": "Bibliothèque de {name}",
  "files.any_language": "Toutes les langues",
  "files.find": "Chercher par nom ou par fil",
  "files.language": "Langue du texte",
  "files.find_go": "Chercher",
  "files.more": "Plus",
  "files.back": "Retour aux fils",
  "files.in_chat": "dans la discussion",
  "files.empty": "Aucun fichier ici pour l'instant. Joignez-en un à un message avec 📎 et il apparaîtra ici.",
};

// Spanish strings of the files pages (web/files.js), loaded with them.
export default {
  "files.unavailable": "no disponible",
  "files.open": "{name}: verlo entero",
  "files.remove": "Quitar {name}",
  "files.too_big": "Demasiado grande: un archivo tiene como máximo {max}.",
  "files.failed": "La subida falló: revise su conexión e inténtelo de nuevo.",
  "files.library_of": "Biblioteca de {name}",
  "files.any_language": "Cualquier idioma",
  "files.find": "Buscar por nombre o hilo",
  "files.language": "Idioma del texto",
  "files.find_go": "Buscar",
  "files.more": "Más",
  "files.back": "Volver a los hilos",
  "files.in_chat": "en el chat",
  "files.empty": "Aún no hay archivos. Adjunte uno a un mensaje con 📎 y aparecerá aquí.",
};

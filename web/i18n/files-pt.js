// Portuguese strings of the files pages (web/files.js), loaded with them.
export default {
  "files.unavailable": "indisponível",
  "files.open": "{name}: ver inteiro",
  "files.remove": "Retirar {name}",
  "files.too_big": "Grande demais: um ficheiro tem no máximo {max}.",
  "files.failed": "O envio falhou: verifique a sua ligação e tente de novo.",
  "files.library_of": "Biblioteca de {name}",
  "files.any_language": "Qualquer língua",
  "files.find": "Procurar por nome ou tópico",
  "files.language": "Língua do texto",
  "files.find_go": "Procurar",
  "files.more": "Mais",
  "files.back": "Voltar aos tópicos",
  "files.in_chat": "no chat",
  "files.empty": "Ainda não há ficheiros. Anexe um a uma mensagem com 📎 e ele aparece aqui.",
};

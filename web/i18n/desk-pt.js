// Portuguese strings of the translators' desk (web/desk.js), loaded with it.
export default {
  "desk.title": "Mesa de tradução",
  "desk.not_translator": "A mesa é para tradutores. Peça o papel de tradutor a um administrador.",
  "desk.no_pairs": "Declare primeiro os seus pares de línguas em",
  "desk.into": "Traduzir para",
  "desk.empty": "Nada aguarda tradução para esta língua.",
  "desk.original": "Original ({lang})",
  "desk.claim": "Assumir",
  "desk.submit": "Publicar a tradução",
  "desk.release": "Libertar",
  "desk.draft": "Tradução para {lang}",
  "desk.until": "Sua até {time}",
  "desk.published": "Publicada. Obrigado!",
  "desk.files": "Títulos e descrições de documentos",
  "desk.files_empty": "Nenhum documento espera o seu título nesta língua.",
  "desk.file_title": "Título em {lang}",
  "desk.file_description": "Descrição em {lang}",
};

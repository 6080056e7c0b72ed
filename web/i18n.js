// The interface languages: one catalogue per language, chosen from the browser's
// languages and switchable (the choice is remembered).

import en from "./i18n/en.js";
import fr from "./i18n/fr.js";
import es from "./i18n/es.js";
import pt from "./i18n/pt.js";

export const CATALOGUES = { en, fr, es, pt };
const KEY = "cb.ui-lang";

let current = "en";

export function detect() {
  const saved = localStorage.getItem(KEY);
  if (saved && CATALOGUES[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || "en"]) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (CATALOGUES[base]) return base;
  }
  return "en";
}

export function setLang(lang, remember = true) {
  current = CATALOGUES[lang] ? lang : "en";
  if (remember) localStorage.setItem(KEY, current);
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

/** The string `key` in the current language, with `{name}` placeholders filled. */
export function t(key, vars = {}) {
  // A count picks its plural form when the catalogue has one ("thread.posts.one").
  if (typeof vars.n === "number") {
    const form = `${key}.${new Intl.PluralRules(current).select(vars.n)}`;
    if (CATALOGUES[current][form] !== undefined) key = form;
  }
  const s = CATALOGUES[current][key] ?? CATALOGUES.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** A language code's name in the interface language. */
export function langName(code) {
  try {
    return new Intl.DisplayNames([current], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

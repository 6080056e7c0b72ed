// The interface languages: one catalogue per language, chosen from the browser's
// languages and switchable (the choice is remembered). Only the catalogue in use is
// downloaded.

const AVAILABLE = ["en", "fr", "es", "pt"];
export const CATALOGUES = {};
const KEY = "cb.ui-lang";

let current = "en";
// Parts of the catalogue loaded on demand (`admin`), kept in every language switched to.
const parts = new Set();

export function detect() {
  const saved = localStorage.getItem(KEY);
  if (saved && AVAILABLE.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || "en"]) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (AVAILABLE.includes(base)) return base;
  }
  return "en";
}

/** Switches the interface to `lang`, loading its catalogue the first time. */
export async function setLang(lang, remember = true) {
  const next = AVAILABLE.includes(lang) ? lang : "en";
  if (!CATALOGUES[next]) CATALOGUES[next] = (await import(`./i18n/${next}.js`)).default;
  for (const part of parts) await loadPart(part, next);
  current = next;
  if (remember) localStorage.setItem(KEY, current);
  document.documentElement.lang = current;
}

async function loadPart(part, l) {
  const key = `${part}-${l}`;
  if (CATALOGUES[key]) return;
  CATALOGUES[key] = (await import(`./i18n/${key}.js`)).default;
  Object.assign(CATALOGUES[l], CATALOGUES[key]);
}

/** Adds the strings of a page loaded on demand (`web/i18n/PART-LANG.js`). */
export async function addStrings(part) {
  parts.add(part);
  await loadPart(part, current);
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
  const s = CATALOGUES[current][key] ?? (CATALOGUES.en || {})[key] ?? key;
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

// Building the DOM without HTML strings: user text only ever becomes text nodes.

/** h("a", {href: "#/", class: "x", on: {click: f}}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "on") {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === "class") {
      el.className = v;
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (k in el && typeof v !== "string") {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function when(iso) {
  try {
    return new Date(iso).toLocaleString(document.documentElement.lang || undefined, {
      dateStyle: "short",
      timeStyle: "short",
    });
  } catch {
    return iso;
  }
}

/** How long ago, in words of the page's language ("5 min ago", "il y a 2 heures"), for
 * the last week; the date past that. */
export function ago(iso, now = Date.now()) {
  const lang = document.documentElement.lang || undefined;
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  const units = [
    ["second", 60],
    ["minute", 3600],
    ["hour", 86400],
    ["day", 7 * 86400],
  ];
  try {
    const fmt = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
    for (const [unit, limit] of units) {
      if (Math.abs(seconds) < limit) {
        const size = { second: 1, minute: 60, hour: 3600, day: 86400 }[unit];
        return fmt.format(Math.round(seconds / size), unit);
      }
    }
  } catch {
    // An engine without RelativeTimeFormat: the date.
  }
  return when(iso);
}

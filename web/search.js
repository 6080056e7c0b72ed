// Search across languages: the form, and pages of threads whose posts match, each with
// its best snippet in the language it matched in. Loaded when it is opened.

import { h } from "./dom.js";
import { get } from "./api.js";
import { t, langName } from "./i18n.js";

function renderSnippet(hit) {
  const p = h("p", { class: "snippet", lang: hit.matched_lang });
  const parts = hit.snippet_parts && hit.snippet_parts.length ? hit.snippet_parts : [{ text: hit.snippet }];
  for (const part of parts) p.append(part.mark ? h("mark", {}, part.text) : part.text);
  return p;
}

/** A document's hit opens the document itself (web/files.js). */
function openFile(f) {
  const b = h("button", { type: "button", class: "link open-file" }, `⬇ ${f.name}`);
  b.addEventListener("click", () => import("./files.js").then((m) => m.download(f)));
  return b;
}

export async function searchPage(main, app, query) {
  const { state, title, field } = app;
  title(main, t("search.title"));
  const params = new URLSearchParams(query || "");
  const q = params.get("q") || "";
  if (!state.spaces.length) state.spaces = await get("/spaces");
  const form = h(
    "form",
    { class: "card search", id: "search-form", role: "search" },
    field("search-q", t("search.query"), h("input", { type: "search", value: q, required: true })),
    field(
      "search-lang",
      t("search.lang"),
      h("select", {}, h("option", { value: "" }, t("search.any")), state.config.languages.map((l) => h("option", { value: l, selected: params.get("lang") === l }, langName(l)))),
    ),
    field(
      "search-space",
      t("search.space"),
      h("select", {}, h("option", { value: "" }, t("search.all_spaces")), state.spaces.map((s) => h("option", { value: s.id, selected: params.get("space") === s.id }, s.name))),
    ),
    field(
      "search-sort",
      t("search.sort"),
      h(
        "select",
        {},
        h("option", { value: "relevance" }, t("search.relevance")),
        h("option", { value: "recent", selected: params.get("sort") === "recent" }, t("search.recent")),
      ),
    ),
    h("button", { type: "submit" }, t("search.go")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams({ q: form.querySelector("#search-q").value });
    const l = form.querySelector("#search-lang").value;
    if (l) next.set("lang", l);
    const sp = form.querySelector("#search-space").value;
    if (sp) next.set("space", sp);
    const s = form.querySelector("#search-sort").value;
    if (s !== "relevance") next.set("sort", s);
    location.hash = `#/search?${next}`;
  });
  main.append(form);
  if (!q.trim()) return;
  const results = h("ol", { class: "results", id: "results" });
  main.append(results);
  let cursor = null;
  const more = h("button", { type: "button", hidden: true }, t("search.more"));
  main.append(more);
  const load = async () => {
    const p = new URLSearchParams(params);
    p.set("limit", "20");
    if (cursor) p.set("cursor", cursor);
    const v = await get(`/search?${p}`);
    if (!cursor) results.before(h("p", { class: "meta", id: "search-total" }, t("search.total", { n: v.total })));
    for (const hit of v.hits) {
      results.append(
        h(
          "li",
          { class: "hit" },
          h("a", { href: `#/room/${hit.room}` }, hit.kind === "file" ? `${hit.file.name} · ${hit.title || t("room.chat")}` : hit.title || t("room.chat")),
          " ",
          h("span", { class: "tag lang", title: langName(hit.matched_lang) }, hit.matched_lang),
          renderSnippet(hit),
          hit.kind === "file" ? openFile(hit.file) : null,
        ),
      );
    }
    cursor = v.next;
    more.hidden = !cursor;
  };
  more.addEventListener("click", load);
  await load();
}

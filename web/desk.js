// The translators' desk: what waits for a translation into the translator's languages,
// live, with a claim and an editor beside the original. Loaded when it is opened.

import { h, clear, when } from "./dom.js";
import { get, post, userName } from "./api.js";
import { t, langName, addStrings } from "./i18n.js";

// What the page uses of the client's shell (app.js).
let app = null;

export async function deskPage(main, shell) {
  app = shell;
  await addStrings("desk");
  const { state, title, field, isTranslator } = app;
  title(main, t("desk.title"));
  if (!isTranslator()) {
    main.append(h("p", {}, t("desk.not_translator")));
    if (state.me) main.append(await recognition());
    return;
  }
  const targets = [...new Set(state.me.translator_pairs ? state.me.translator_pairs.map((p) => p.to) : [])];
  if (!targets.length) {
    main.append(h("p", {}, t("desk.no_pairs"), " ", h("a", { href: "#/profile" }, t("nav.profile"))));
    return;
  }
  if (state.me.translator_paused) {
    main.append(h("p", { id: "desk-paused" }, t("desk.paused"), " ", h("a", { href: "#/profile" }, t("nav.profile"))));
    return;
  }
  const to = h("select", { id: "desk-to" }, targets.map((l) => h("option", { value: l }, langName(l))));
  const list = h("ul", { class: "queue", id: "queue" });
  main.append(field("desk-to", t("desk.into"), to), list);
  const docs = h("ul", { class: "queue", id: "desk-files" });
  main.append(h("h2", {}, t("desk.files")), docs);
  const load = async () => {
    clear(list);
    const items = await get(`/translations/queue?to=${to.value}`);
    if (!items.length) list.append(h("li", {}, t("desk.empty")));
    for (const item of items) list.append(queueItem(item, load));
    clear(docs);
    const files = await get(`/translations/files?to=${to.value}`);
    if (!files.length) docs.append(h("li", {}, t("desk.files_empty")));
    for (const e of files) docs.append(fileItem(e, to.value));
  };
  to.addEventListener("change", load);
  state.live.followQueue(to.value, () => load());
  await load();
  main.append(await recognition());
}

/** Who has translated how much, and how far each language has come (over what the
 * reader can read). */
async function recognition() {
  const [people, coverage] = await Promise.all([get("/translations/translators"), get("/translations/coverage")]);
  const col = (key) => h("th", { scope: "col" }, t(key));
  const table = h(
    "table",
    { id: "coverage" },
    h("thead", {}, h("tr", {}, col("desk.language"), col("desk.translated"), col("desk.waiting"))),
    h("tbody", {}, coverage.map((c) => h("tr", {}, h("th", { scope: "row" }, langName(c.lang)), h("td", {}, String(c.translated)), h("td", {}, String(c.waiting))))),
  );
  const list = h(
    "ol",
    { id: "translators" },
    people.map((p) =>
      h("li", {}, h("strong", {}, p.user.display_name), " · ", t("desk.count", { n: p.translations }), " (", Object.entries(p.languages).map(([l, n]) => `${langName(l)} ${n}`).join(", "), ")"),
    ),
  );
  if (!people.length) list.append(h("li", {}, t("desk.nobody_yet")));
  return h("section", { id: "recognition" }, h("h2", {}, t("desk.recognition")), h("h3", {}, t("desk.coverage")), table, h("h3", {}, t("desk.translators")), list);
}

/** A document's title and description, given in `lang` beside the original. */
function fileItem(e, lang) {
  const f = e.file;
  const li = h("li", { class: "item side-by-side", "data-file": f.id });
  const out = h("p", { class: "error", role: "alert" });
  const title = h("input", { id: `ft-${f.id}`, lang, maxlength: 200, value: (f.translations?.[lang]?.title) || "" });
  const description = h("textarea", { id: `fd-${f.id}`, lang, rows: 3, maxlength: 2000 }, (f.translations?.[lang]?.description) || "");
  const submit = h("button", { type: "button", class: "submit" }, t("desk.submit"));
  submit.addEventListener("click", async () => {
    try {
      await post(`/files/${f.id}/translations`, { lang, title: title.value, description: description.value });
      li.remove();
      app.notify(t("desk.published"));
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  });
  li.append(
    h("div", { class: "original", lang: f.title_lang || undefined }, h("h3", {}, f.title || f.name), f.description ? h("p", {}, f.description) : null, h("p", { class: "meta" }, f.name, " · ", h("a", { href: `#/room/${e.room}` }, e.title || f.name))),
    h("div", { class: "draft" }, h("label", { for: title.id }, t("desk.file_title", { lang: langName(lang) })), title, h("label", { for: description.id }, t("desk.file_description", { lang: langName(lang) })), description, submit, out),
  );
  return li;
}

/** Where a queue item was written: the space, the thread (a link to the post), who wrote
 * it and its place in the thread. */
function context(item) {
  const p = item.post;
  const where = item.room_title ? t("desk.in_thread", { title: item.room_title, n: item.position || 1 }) : t("desk.in_chat");
  return h(
    "p",
    { class: "meta context" },
    item.space ? `${item.space.name} · ` : "",
    h("a", { href: `#/p/${p.id}`, lang: p.lang }, where),
    item.author && item.author.display_name ? ` · ${item.author.display_name}` : "",
  );
}

/** The posts before `item`'s in its room (up to three), each with its translation into
 * the language being translated into when there is one: what the sentence answers. */
async function before(item) {
  const box = h("div", { class: "before" }, h("h4", {}, t("desk.before")));
  let posts = [];
  try {
    posts = await get(`/rooms/${item.room}/posts?before_seq=${item.post.seq}&limit=3`);
  } catch {
    return null;
  }
  if (!posts.length) return null;
  for (const b of posts) {
    const tr = (b.translations || {})[item.needed];
    const who = h("p", { class: "meta" });
    userName(b.author).then((name) => (who.textContent = name));
    box.append(
      h(
        "blockquote",
        { class: "earlier" },
        who,
        h("p", { lang: b.lang }, b.deleted ? t("post.deleted") : b.body),
        tr && !tr.stale ? h("p", { lang: item.needed, class: "translated" }, tr.body) : null,
      ),
    );
  }
  return box;
}

/** A thread's title to give in `item.needed`, with the thread's first post for its sense.
 * Titles are short: no claim, the newest published one stands. */
function titleItem(item) {
  const p = item.post;
  const li = h("li", { class: "item side-by-side title-item", dataset: { room: item.room } });
  const out = h("p", { class: "error", role: "alert" });
  const input = h("input", { id: `tt-${item.room}`, lang: item.needed, maxlength: 200, required: true });
  const submit = h("button", { type: "button", class: "submit" }, t("desk.submit"));
  submit.addEventListener("click", async () => {
    try {
      await post(`/rooms/${item.room}/title-translations`, { lang: item.needed, title: input.value });
      li.remove();
      app.notify(t("desk.published"));
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  });
  li.append(
    h(
      "div",
      { class: "original" },
      h("h3", {}, t("desk.thread_title", { lang: langName(p.lang) })),
      h("p", { class: "thread-title", lang: p.lang }, item.room_title),
      h("p", { class: "meta context" }, item.space ? `${item.space.name} · ` : "", h("a", { href: `#/room/${item.room}` }, t("desk.title_opening"))),
      h("div", { class: "body", lang: p.lang }, p.body),
    ),
    h("div", { class: "draft" }, h("label", { for: input.id }, t("desk.title_draft", { lang: langName(item.needed) })), input, submit, out),
  );
  return li;
}

/** The translation memory's matches for the post's sentences: the exact ones fill an
 * empty draft, each match is one click ("Use") from the draft. */
async function memory(item, draft) {
  let found = [];
  try {
    found = await get(`/translations/suggestions?post=${item.post.id}&lang=${item.needed}`);
  } catch {
    return null;
  }
  if (!found.length) return null;
  const box = h("div", { class: "suggestions", id: `memory-${item.post.id}` }, h("h4", {}, t("desk.memory")));
  const exact = new Map();
  for (const s of found) if (s.score >= 0.999 && !exact.has(s.sentence)) exact.set(s.sentence, s.target);
  if (exact.size && !draft.value) {
    draft.value = [...exact.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]).join(" ");
    box.append(h("p", { class: "note", role: "status" }, t("desk.prefilled")));
  }
  const list = h("ul", {});
  for (const s of found) {
    const use = h("button", { type: "button", class: "link use" }, t("desk.use"));
    use.addEventListener("click", () => {
      const at = draft.selectionStart ?? draft.value.length;
      draft.value = `${draft.value.slice(0, at)}${s.target}${draft.value.slice(at)}`;
      draft.focus();
    });
    list.append(h("li", { class: "suggestion" }, h("span", { class: "tag" }, `${Math.round(s.score * 100)}%`), " ", h("span", { lang: item.post.lang }, s.source), " → ", h("span", { lang: item.needed, class: "target" }, s.target), " ", use));
  }
  box.append(list);
  return box;
}

/** Lower case without accents, for finding terms in a text. */
const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

let glossary = null;

/** The glossary's concepts named in the original, marked there, each with its approved
 * terms in the language being translated into; and a form that adds a term pair. Returns
 * the concepts found: `{source, targets}`. */
async function glossaryBox(item, original) {
  const p = item.post;
  glossary = glossary || (await get("/glossary").catch(() => []));
  const text = fold(p.body);
  const found = [];
  for (const c of glossary) {
    const source = (c.terms[p.lang] || []).find((x) => new RegExp(`(^|\\P{L})${escape(fold(x))}(\\P{L}|$)`, "u").test(text));
    const targets = c.terms[item.needed] || [];
    if (source && targets.length) found.push({ source, targets });
  }
  const body = original.querySelector(".body");
  if (found.length) body.replaceChildren(...marked(p.body, found.map((f) => f.source)));
  const box = h("div", { class: "glossary" }, h("h4", {}, t("desk.glossary")));
  if (found.length) box.append(h("ul", {}, found.map((f) => h("li", {}, h("mark", { lang: p.lang }, f.source), " → ", h("span", { lang: item.needed }, f.targets.join(" · "))))));
  const src = h("input", { id: `gs-${p.id}`, lang: p.lang, maxlength: 100 });
  const tgt = h("input", { id: `gt-${p.id}`, lang: item.needed, maxlength: 100 });
  const said = h("p", { role: "status" });
  const add = h("button", { type: "button", class: "link add-term" }, t("desk.glossary_add"));
  add.addEventListener("click", async () => {
    const id = `${fold(src.value).replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 56) || "term"}-${Date.now() % 100000}`;
    try {
      const c = await post("/glossary", { id, terms: { [p.lang]: [src.value.trim()], [item.needed]: [tgt.value.trim()] } });
      glossary.push(c);
      said.textContent = t("desk.glossary_added");
    } catch (e) {
      said.textContent = app.errorText(e);
    }
  });
  box.append(
    h("details", {}, h("summary", {}, t("desk.glossary_add")), h("label", { for: src.id }, t("desk.glossary_term", { lang: langName(p.lang) })), src, h("label", { for: tgt.id }, t("desk.glossary_term", { lang: langName(item.needed) })), tgt, add, said),
  );
  original.append(box);
  return found;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `text` as nodes, each of `terms` (found case- and accent-blind) in a <mark>. */
function marked(text, terms) {
  const folded = fold(text);
  const spans = [];
  for (const term of terms) {
    const f = fold(term);
    for (let at = folded.indexOf(f); at >= 0; at = folded.indexOf(f, at + f.length)) spans.push([at, at + f.length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const out = [];
  let from = 0;
  for (const [a, b] of spans) {
    if (a < from) continue;
    out.push(document.createTextNode(text.slice(from, a)), h("mark", {}, text.slice(a, b)));
    from = b;
  }
  out.push(document.createTextNode(text.slice(from)));
  return out;
}

function queueItem(item, reload) {
  if (item.kind === "title") return titleItem(item);
  const p = item.post;
  const li = h("li", { class: "item", dataset: { post: p.id } });
  const original = h("div", { class: "original" }, h("h3", {}, t("desk.original", { lang: langName(p.lang) })), context(item), h("div", { class: "body", lang: p.lang }, p.body));
  const claim = h("button", { type: "button", class: "claim" }, t("desk.claim"));
  const out = h("p", { class: "error", role: "alert" });
  li.append(original, claim, out);
  const openEditor = (until) => {
    claim.remove();
    before(item).then((box) => box && original.insertBefore(box, original.querySelector(".body")));
    const draft = h("textarea", { rows: 5, lang: item.needed, id: `draft-${p.id}` });
    const submit = h("button", { type: "button", class: "submit" }, t("desk.submit"));
    const release = h("button", { type: "button", class: "link" }, t("desk.release"));
    li.append(
      h(
        "div",
        { class: "draft" },
        h("label", { for: draft.id }, t("desk.draft", { lang: langName(item.needed) })),
        draft,
        h("p", { class: "meta" }, t("desk.until", { time: when(until) })),
        submit,
        " ",
        release,
      ),
    );
    li.classList.add("side-by-side");
    memory(item, draft).then((box) => box && li.querySelector(".draft").prepend(box));
    let terms = [];
    glossaryBox(item, original).then((found) => (terms = found));
    let warned = false;
    submit.addEventListener("click", async () => {
      // An approved term left out is worth a second look, not a refusal.
      const missing = terms.filter((c) => !c.targets.some((x) => fold(draft.value).includes(fold(x))));
      if (missing.length && !warned) {
        warned = true;
        out.textContent = t("desk.glossary_missing", { terms: missing.map((c) => c.targets[0]).join(", ") });
        submit.textContent = t("desk.publish_anyway");
        return;
      }
      try {
        await post(`/posts/${p.id}/translations`, { lang: item.needed, body: draft.value });
        li.remove();
        app.notify(t("desk.published"));
      } catch (e) {
        out.textContent = app.errorText(e);
      }
    });
    release.addEventListener("click", async () => {
      try {
        await post("/translations/release", { post: p.id, lang: item.needed });
      } finally {
        reload();
      }
    });
  };
  if (item.claimed_until) openEditor(item.claimed_until);
  claim.addEventListener("click", async () => {
    try {
      const c = await post("/translations/claim", { post: p.id, lang: item.needed });
      openEditor(c.expires_at);
    } catch (e) {
      out.textContent = app.errorText(e);
    }
  });
  return li;
}

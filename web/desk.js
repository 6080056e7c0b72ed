// The translators' desk: what waits for a translation into the translator's languages,
// live, with a claim and an editor beside the original. Loaded when it is opened.

import { h, clear, when } from "./dom.js";
import { get, post } from "./api.js";
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
    return;
  }
  const targets = [...new Set(state.me.translator_pairs ? state.me.translator_pairs.map((p) => p.to) : [])];
  if (!targets.length) {
    main.append(h("p", {}, t("desk.no_pairs"), " ", h("a", { href: "#/profile" }, t("nav.profile"))));
    return;
  }
  const to = h("select", { id: "desk-to" }, targets.map((l) => h("option", { value: l }, langName(l))));
  const list = h("ul", { class: "queue", id: "queue" });
  main.append(field("desk-to", t("desk.into"), to), list);
  const load = async () => {
    clear(list);
    const items = await get(`/translations/queue?to=${to.value}`);
    if (!items.length) list.append(h("li", {}, t("desk.empty")));
    for (const item of items) list.append(queueItem(item, load));
  };
  to.addEventListener("change", load);
  state.live.followQueue(to.value, () => load());
  await load();
}

function queueItem(item, reload) {
  const p = item.post;
  const li = h("li", { class: "item", dataset: { post: p.id } });
  const original = h("div", { class: "original" }, h("h3", {}, t("desk.original", { lang: langName(p.lang) })), h("div", { class: "body", lang: p.lang }, p.body));
  const claim = h("button", { type: "button", class: "claim" }, t("desk.claim"));
  const out = h("p", { class: "error", role: "alert" });
  li.append(original, claim, out);
  const openEditor = (until) => {
    claim.remove();
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
    submit.addEventListener("click", async () => {
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

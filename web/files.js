// Files: uploads from the composer (a progress bar each, drag-and-drop), the files a post
// carries (images shown, documents offered), and each space's library. Loaded when a
// post with files is shown or a file is picked. Files are fetched with the reader's
// token and shown from memory (blob: URLs): a link alone could not carry it.

import { h, when } from "./dom.js";
import { get, patch, session } from "./api.js";
import { t, langName, addStrings } from "./i18n.js";

const ready = addStrings("files");

/** A size in the reader's units. */
function size(n) {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: i ? 1 : 0 }).format(n)} ${units[i]}`;
}

/** The bytes of `url` (an API path) as a blob: URL, with the reader's token. */
async function blobUrl(url) {
  const headers = session.token ? { Authorization: `Bearer ${session.token}` } : {};
  const r = await fetch(url, { headers });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return URL.createObjectURL(await r.blob());
}

/** Saves a file under its name. */
export async function download(f) {
  const a = h("a", { href: await blobUrl(`/api/v1/files/${f.id}`), download: f.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

/** The files of a post in `el`: images as thumbnails (the original on click), other files
 * as links that download them. */
export async function render(el, files) {
  await ready;
  for (const f of files) {
    if (f.thumbnail) {
      const img = h("img", { alt: f.name, loading: "lazy", class: "thumb" });
      if (f.width && f.height) {
        img.width = Math.min(f.width, 320);
        img.height = Math.round((img.width * f.height) / f.width);
      }
      blobUrl(f.thumbnail).then((u) => (img.src = u), () => (img.alt = `${f.name} (${t("files.unavailable")})`));
      const open = h("button", { type: "button", class: "file image", title: t("files.open", { name: f.name }) }, img);
      open.addEventListener("click", async () => {
        if (open.classList.toggle("full") && !img.dataset.full) {
          img.dataset.full = "1";
          img.src = await blobUrl(`/api/v1/files/${f.id}`);
        }
      });
      el.append(open);
    } else {
      const link = h("button", { type: "button", class: "file doc" }, f.name, " ", h("span", { class: "meta" }, size(f.size)));
      link.addEventListener("click", () => download(f).catch(() => (link.title = t("files.unavailable"))));
      el.append(link);
    }
  }
}

/** Uploads `picked` (a FileList) into `tray`, each with its progress; each finished one
 * is an `li` with `data-file` set to its id. */
export async function attach(picked, tray, maxBytes) {
  await ready;
  for (const file of picked) {
    const bar = h("progress", { max: 100, value: 0 });
    const status = h("span", { class: "meta" });
    const remove = h("button", { type: "button", class: "link", "aria-label": t("files.remove", { name: file.name }) }, "✕");
    const li = h("li", { class: "upload" }, h("span", {}, file.name), " ", bar, " ", status, " ", remove);
    tray.append(li);
    remove.addEventListener("click", () => {
      xhr.abort();
      li.remove();
    });
    const xhr = new XMLHttpRequest();
    if (file.size > maxBytes) {
      bar.remove();
      li.classList.add("failed");
      status.textContent = t("files.too_big", { max: size(maxBytes) });
      continue;
    }
    xhr.open("POST", `/api/v1/files?name=${encodeURIComponent(file.name)}`);
    if (session.token) xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      bar.remove();
      if (xhr.status === 201 && body) {
        li.dataset.file = body.id;
        li.dataset.name = body.name;
        status.textContent = `✓ ${size(body.size)}`;
      } else {
        li.classList.add("failed");
        const code = (body && body.error && body.error.code) || "internal";
        status.textContent = t(`error.${code}`) + (body && body.error && body.error.message ? ` (${body.error.message})` : "");
      }
    });
    xhr.addEventListener("error", () => {
      bar.remove();
      li.classList.add("failed");
      status.textContent = t("files.failed");
    });
    xhr.send(file);
  }
}

/** A space's library: its files, newest first, found by name or thread and filtered by
 * language, each with where it was posted. */
export async function libraryPage(main, app, id) {
  await ready;
  const sp = await get(`/spaces/${id}`);
  app.title(main, t("files.library_of", { name: (sp.names || {})[document.documentElement.lang] || sp.name }));
  const params = new URLSearchParams();
  const q = h("input", { type: "search", name: "q" });
  const lang = h("select", { name: "lang" }, h("option", { value: "" }, t("files.any_language")), app.state.config.languages.map((l) => h("option", { value: l }, langName(l))));
  const kind = h("select", { name: "type" }, ["", "document", "image", "other"].map((k) => h("option", { value: k }, t(`files.type.${k || "any"}`))));
  const year = h("input", { name: "year", inputmode: "numeric", size: 5, maxlength: 4 });
  const form = h(
    "form",
    { class: "card", id: "library-form", role: "search" },
    app.field("library-q", t("files.find"), q),
    h("div", { class: "filters" }, app.field("library-lang", t("files.language"), lang), app.field("library-type", t("files.type"), kind), app.field("library-year", t("files.year"), year)),
    h("button", { type: "submit" }, t("files.find_go")),
  );
  const list = h("ul", { class: "library", id: "library" });
  const out = h("p", { class: "meta", role: "status" });
  const more = h("button", { type: "button", class: "link", hidden: true }, t("files.more"));
  main.append(h("p", {}, h("a", { href: `#/space/${id}` }, t("files.back"))), sp.edition ? h("p", { class: "meta" }, t("files.collection", { edition: sp.edition })) : null, form, list, out, more);
  const me = app.state.me;
  const mayDescribe = (f) => me && (f.uploader === me.id || me.roles.includes("moderator") || me.roles.includes("admin"));
  let before = null;
  const item = (e) => {
    const f = e.file;
    const mine = (f.translations || {})[document.documentElement.lang];
    const name = h("button", { type: "button", class: "link file-name" }, (mine && mine.title) || f.title || f.name);
    name.addEventListener("click", () => download(f).catch((err) => (out.textContent = app.errorText(err))));
    const facts = [f.title ? f.name : null, size(f.size), f.text_lang ? langName(f.text_lang) : null, f.edition, f.year, when(f.created_at)];
    const li = h(
      "li",
      { class: "library-item", "data-file": f.id },
      name,
      " ",
      h("span", { class: "meta" }, facts.filter(Boolean).join(" · ")),
      " ",
      h("a", { href: `#/room/${e.room}` }, e.title || t("files.in_chat")),
      f.description ? h("p", { class: "meta description" }, (mine && mine.description) || f.description) : null,
    );
    if (mayDescribe(f)) li.append(describeForm(f, li, app, () => li.replaceWith(item({ ...e, file: f }))));
    return li;
  };
  const load = async () => {
    const p = new URLSearchParams(params);
    p.set("limit", "50");
    if (before) p.set("before", before);
    try {
      const page = await get(`/spaces/${id}/library?${p}`);
      for (const e of page) list.append(item(e));
      before = page.length === 50 ? page[page.length - 1].file.created_at : null;
      more.hidden = !before;
      if (!list.children.length) out.textContent = t("files.empty");
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    for (const [k, el] of [["q", q], ["lang", lang], ["type", kind], ["year", year]]) {
      params.delete(k);
      if (el.value.trim()) params.set(k, el.value.trim());
    }
    list.textContent = "";
    out.textContent = "";
    before = null;
    load();
  });
  more.addEventListener("click", load);
  await load();
}

/** A file's title, description, edition and year, edited in place. */
function describeForm(f, li, app, redraw) {
  const input = (name, label, value, attrs = {}) => app.field(`${name}-${f.id}`, label, h("input", { name, value: value ?? "", ...attrs }));
  const description = h("textarea", { name: "description", rows: 2, maxlength: 2000 }, f.description || "");
  const out = h("p", { class: "meta", role: "status" });
  const form = h(
    "form",
    { class: "describe" },
    input("title", t("files.title"), f.title, { maxlength: 200 }),
    app.field(`description-${f.id}`, t("files.description"), description),
    h("div", { class: "filters" }, input("edition", t("files.edition"), f.edition, { maxlength: 60 }), input("year", t("files.year"), f.year, { inputmode: "numeric", size: 5, maxlength: 4 })),
    h("button", { type: "submit" }, t("files.save")),
    out,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (n) => form.querySelector(`[name=${n}]`).value.trim();
    try {
      const saved = await patch(`/files/${f.id}`, { title: v("title"), description: v("description"), edition: v("edition"), year: v("year") ? Number(v("year")) : null });
      Object.assign(f, saved);
      redraw();
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  });
  return h("details", { class: "describe" }, h("summary", {}, t("files.describe")), form);
}

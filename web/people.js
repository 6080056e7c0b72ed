// People: one's own profile (name, languages, who they are, translation pairs), another
// member's profile, and the member directory, found across languages. Loaded when
// one of these pages is opened.

import { h } from "./dom.js";
import { api, get, post, put, patch, session } from "./api.js";
import { t, lang, langName, addStrings } from "./i18n.js";

// What the pages use of the client's shell (app.js).
let app = null;

async function ready(shell) {
  app = shell;
  await addStrings("people");
}

/** A country's name in the interface's language. */
function countryName(code) {
  try {
    return new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "region" }).of(code) || code;
  } catch {
    return code;
  }
}

const splitList = (text) => text.split(/[,;\n]/).map((x) => x.trim()).filter(Boolean);

// ---- my profile ----

export async function profilePage(main, shell) {
  await ready(shell);
  const { state, title, field, langChecks, checked, showError } = app;
  title(main, t("profile.title"));
  if (!state.me) {
    location.hash = "#/signin";
    return;
  }
  const me = await get("/me");
  state.me = me;
  const out = h("p", { class: "meta", role: "status" });
  const text = (id, label, value, attrs = {}) => field(id, label, h("input", { value: value || "", ...attrs }));
  const form = h(
    "form",
    { class: "card", id: "profile-form" },
    field("profile-name", t("auth.name"), h("input", { value: me.display_name, maxlength: 64, "data-field": "display_name" })),
    langChecks("profile-lang", me.languages),
    text("profile-country", t("people.country"), me.country, { maxlength: 2, size: 3, "data-field": "country", placeholder: "SN" }),
    text("profile-org", t("people.organization"), me.organization, { maxlength: 120, "data-field": "organization" }),
    text("profile-sector", t("people.sector"), me.sector, { maxlength: 80, "data-field": "sector" }),
    text("profile-expertise", t("people.expertise_edit"), (me.expertise || []).join(", "), { "data-field": "expertise" }),
    text("profile-editions", t("people.editions_edit"), (me.editions || []).join(", "), { "data-field": "editions", placeholder: "Turin 2010, Lisbon 2021" }),
    field("profile-bio", t("people.bio"), h("textarea", { rows: 5, maxlength: 4000, "data-field": "bio" }, me.bio || "")),
    field(
      "profile-visibility",
      t("people.visibility"),
      h(
        "select",
        { "data-field": "profile_visibility" },
        ["members", "public"].map((v) => h("option", { value: v, selected: me.profile_visibility === v }, t(`people.visibility.${v}`))),
      ),
    ),
    h("button", { type: "submit" }, t("profile.save")),
  );
  const value = (id) => form.querySelector(`#${id}`).value;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      state.me = await patch("/me", {
        display_name: value("profile-name"),
        languages: checked(form, "profile-lang"),
        country: value("profile-country"),
        organization: value("profile-org"),
        sector: value("profile-sector"),
        expertise: splitList(value("profile-expertise")),
        editions: splitList(value("profile-editions")),
        bio: value("profile-bio"),
        profile_visibility: value("profile-visibility"),
      });
      for (const el of form.querySelectorAll(".field-error")) el.remove();
      out.textContent = t("profile.saved");
    } catch (err) {
      showError(form, out, err);
    }
  });
  main.append(pictureForm(me), emailForm(me), form, h("p", {}, h("a", { href: `#/u/${me.handle}` }, t("people.see_mine"))));
  if (app.isTranslator()) main.append(pairsForm(me, out));
  main.append(myData(me), out);
}

/** My address: set or changed, verified by the link mailed to it; the sign-in page's
 * "forgot" asks for a reset link to it. */
function emailForm(me) {
  if (!app.state.config.email) return h("p", { class: "meta" }, t("people.no_email"));
  const out = h("p", { class: "meta", role: "status" }, me.email ? t(me.email_verified ? "people.email_verified" : "people.email_waiting") : "");
  const input = h("input", { type: "email", value: me.email || "", "data-field": "email", autocomplete: "email" });
  const form = h("form", { class: "card", id: "email-form" }, app.field("profile-email", t("people.email"), input), h("button", { type: "submit" }, t("profile.save")), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const me2 = await patch("/me", { email: input.value });
      out.textContent = me2.email ? t("people.email_sent", { email: me2.email }) : t("profile.saved");
    } catch (err) {
      app.showError(form, out, err);
    }
  });
  if (me.email) form.append(mailChoices(me));
  return form;
}

/** Which email a member gets: notices of what they missed, and the summary. */
function mailChoices(me) {
  const set = me.email_settings || { notifications: "immediate", digest: "weekly" };
  const choice = (name, values) =>
    app.field(
      `mail-${name}`,
      t(`people.mail_${name === "notifications" ? "notices" : "digest"}`),
      h("select", { id: `mail-${name}` }, values.map((v) => h("option", { value: v, selected: set[name] === v }, t(`people.mail_${name === "notifications" ? "notices" : "digest"}.${v}`)))),
    );
  const out = h("span", { class: "meta", role: "status" });
  const box = h("div", { id: "mail-choices" }, choice("notifications", ["immediate", "digest", "off"]), choice("digest", ["daily", "weekly", "off"]), out);
  box.addEventListener("change", async () => {
    try {
      me.email_settings = await put("/me/email-settings", { notifications: box.querySelector("#mail-notifications").value, digest: box.querySelector("#mail-digest").value });
      out.textContent = t("profile.saved");
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  });
  return box;
}

/** The pages of mailed links: `verify-email` opens at once; `reset-password` asks for the
 * login (no token) or for the new password (a token). */
export async function accountPage(main, shell, kind, token) {
  await ready(shell);
  app.title(main, t(`people.${kind}`));
  const out = h("p", { class: "meta", role: "status" });
  if (kind === "verify-email") {
    try {
      await post("/auth/verify-email", { token });
      out.textContent = t("people.verified");
    } catch (err) {
      out.textContent = app.errorText(err);
    }
    main.append(out);
    return;
  }
  const field = token
    ? app.field("reset-password-new", t("auth.password"), h("input", { type: "password", autocomplete: "new-password", required: true, "data-field": "password" }))
    : app.field("reset-login", t("people.reset_login"), h("input", { required: true, autocomplete: "username" }));
  const form = h("form", { class: "card", id: "reset-form" }, field, h("button", { type: "submit" }, t("people.reset_go")), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = form.querySelector("input").value;
    try {
      if (token) {
        await post("/auth/password-reset/confirm", { token, password: value });
        out.textContent = t("people.reset_done");
      } else {
        await post("/auth/password-reset", { login: value });
        out.textContent = t("people.reset_sent");
      }
    } catch (err) {
      app.showError(form, out, err);
    }
  });
  main.append(form);
}

/** My picture: an image uploaded, made into a small square by the server; or initials. */
function pictureForm(me) {
  const out = h("p", { class: "meta", role: "status" });
  const face = h("span", { class: "avatar big", "aria-hidden": "true" });
  app.showAvatar(face, me.display_name, me.id);
  const picker = h("input", { type: "file", accept: "image/jpeg,image/png,image/gif,image/webp", id: "picture" });
  const remove = h("button", { type: "button", class: "link", hidden: !me.avatar }, t("people.picture_remove"));
  const set = async (file) => {
    try {
      app.state.me = await patch("/me", { avatar: file });
      out.textContent = t("profile.saved");
      location.reload();
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  };
  picker.addEventListener("change", async () => {
    const f = picker.files[0];
    if (!f) return;
    const r = await fetch(`/api/v1/files?name=${encodeURIComponent(f.name)}`, { method: "POST", headers: { Authorization: `Bearer ${session.token}` }, body: f });
    const body = await r.json().catch(() => null);
    if (r.status === 201) await set(body.id);
    else out.textContent = t(`error.${(body && body.error && body.error.code) || "internal"}`);
  });
  remove.addEventListener("click", () => set(""));
  return h("div", { class: "card picture" }, face, " ", app.field("picture", t("people.picture"), picker), remove, out);
}

/** Downloading everything stored about me, and erasing my account. */
function myData(me) {
  const out = h("p", { class: "meta", role: "status" });
  const download = h("button", { type: "button", id: "export-me" }, t("people.export"));
  download.addEventListener("click", async () => {
    try {
      const data = await get("/me/export");
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const a = h("a", { href: url, download: `collective-brain-${me.handle}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      out.textContent = t("people.exported");
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  });
  const form = h(
    "form",
    { id: "erase-form" },
    h("h3", {}, t("people.erase")),
    h("p", { class: "meta" }, t("people.erase_what")),
    app.field("erase-password", t("auth.password"), h("input", { type: "password", autocomplete: "current-password", required: true, "data-field": "password" })),
    h("p", {}, h("label", {}, h("input", { type: "checkbox", id: "erase-posts" }), " ", t("people.erase_posts"))),
    h("button", { type: "submit", class: "danger" }, t("people.erase_confirm")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("DELETE", "/me", { password: form.querySelector("#erase-password").value, delete_posts: form.querySelector("#erase-posts").checked });
      session.token = null;
      app.state.me = null;
      location.hash = "#/";
      location.reload();
    } catch (err) {
      app.showError(form, out, err);
    }
  });
  return h("section", { class: "card", id: "my-data" }, h("h2", {}, t("people.my_data")), h("p", {}, download), form, out);
}

function pairsForm(me, out) {
  const { state, errorText, chrome, OTHER_LANGS } = app;
  // Pairs from lists of languages named in the interface's language.
  // From any language members write; into the community's (what posts are translated into).
  const langs = [...new Set([...state.config.languages, ...OTHER_LANGS])];
  const into = state.config.languages;
  const rows = h("ul", { class: "pairs", id: "pairs-list" });
  let n = 0;
  const addRow = (from = langs[0], to = into[1] || into[0]) => {
    n += 1;
    const pick = (id, label, value) =>
      h(
        "label",
        {},
        label,
        " ",
        h("select", { id, class: id.startsWith("pair-from") ? "pair-from" : "pair-to" }, (id.startsWith("pair-from") ? langs : into).map((l) => h("option", { value: l, selected: l === value }, langName(l)))),
      );
    const remove = h("button", { type: "button", class: "link remove-pair" }, t("profile.pair_remove"));
    const li = h("li", { class: "pair" }, pick(`pair-from-${n}`, t("profile.pair_from"), from), " → ", pick(`pair-to-${n}`, t("profile.pair_to"), to), " ", remove);
    remove.addEventListener("click", () => li.remove());
    rows.append(li);
  };
  for (const p of me.translator_pairs || []) addRow(p.from, p.to);
  const add = h("button", { type: "button", class: "link", id: "add-pair" }, t("profile.pair_add"));
  add.addEventListener("click", () => addRow());
  const paused = h("input", { type: "checkbox", id: "pairs-paused", checked: Boolean(me.translator_paused) });
  const pf = h("form", { class: "card", id: "pairs-form" }, h("h2", {}, t("profile.pairs")), rows, h("p", {}, add), h("p", {}, paused, " ", h("label", { for: "pairs-paused" }, t("people.pause_queue"))), h("button", { type: "submit" }, t("profile.save")));
  pf.addEventListener("submit", async (e) => {
    e.preventDefault();
    const list = [...rows.querySelectorAll("li.pair")].map((li) => ({ from: li.querySelector(".pair-from").value, to: li.querySelector(".pair-to").value }));
    try {
      state.me = await put("/me/translator", { pairs: list, paused: paused.checked });
      out.textContent = t("profile.saved");
      chrome();
    } catch (err) {
      out.textContent = errorText(err);
    }
  });
  return pf;
}

// ---- a member ----

/** The lines of a profile: where from, where they work, what they know. */
function facts(u) {
  const dl = h("dl", { class: "facts" });
  const row = (label, value) => {
    if (value && (!Array.isArray(value) || value.length)) dl.append(h("dt", {}, label), h("dd", {}, Array.isArray(value) ? value.join(" · ") : value));
  };
  row(t("people.country"), u.country ? countryName(u.country) : null);
  row(t("people.organization"), u.organization);
  row(t("people.sector"), u.sector);
  row(t("people.expertise"), u.expertise);
  row(t("people.editions"), u.editions);
  row(t("profile.languages"), (u.languages || []).map(langName));
  return dl;
}

export async function personPage(main, shell, handle) {
  await ready(shell);
  const found = await get(`/users?q=${encodeURIComponent(handle)}&limit=100`);
  const u = found.users.find((x) => x.handle === handle);
  if (!u) {
    app.title(main, t("error.notfound"));
    main.append(h("p", {}, app.state.me ? t("error.not_found") : t("people.signin_to_see")));
    return;
  }
  app.title(main, u.display_name);
  main.append(h("p", { class: "meta" }, `@${u.handle}`), facts(u));
  const me = app.state.me;
  if (me && me.id !== u.id) {
    const out = h("p", { class: "meta", role: "status" });
    const write = h("button", { type: "button", id: "message-person" }, t("people.message"));
    write.addEventListener("click", async () => {
      try {
        const dm = await post("/dms", { users: [u.id] });
        location.hash = `#/room/${dm.id}`;
      } catch (err) {
        out.textContent = app.errorText(err);
      }
    });
    main.append(h("p", {}, write), out);
  }
  if (u.bio_html) {
    const bio = h("div", { class: "bio body" });
    // Sanitized by the server (render.rs), as post bodies are.
    bio.innerHTML = u.bio_html;
    main.append(bio);
  }
}

// ---- the directory ----

export async function directoryPage(main, shell, query) {
  await ready(shell);
  const { title, state } = app;
  title(main, t("people.title"));
  const params = new URLSearchParams(query || "");
  const input = (id, name, label, attrs = {}) => app.field(id, label, h("input", { name, value: params.get(name) || "", ...attrs }));
  const langs = [...new Set([...state.config.languages, ...app.OTHER_LANGS])];
  const form = h(
    "form",
    { class: "card", id: "directory-form", role: "search" },
    input("people-q", "q", t("people.search"), { type: "search", placeholder: t("people.search_example") }),
    h(
      "div",
      { class: "filters" },
      input("people-expertise", "expertise", t("people.expertise")),
      input("people-country", "country", t("people.country"), { maxlength: 2, size: 3, placeholder: "SN" }),
      input("people-edition", "edition", t("people.edition")),
      app.field(
        "people-language",
        t("people.language"),
        h("select", { name: "language" }, h("option", { value: "" }, t("people.any")), langs.map((l) => h("option", { value: l, selected: params.get("language") === l }, langName(l)))),
      ),
    ),
    h("button", { type: "submit" }, t("people.find")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const el of form.querySelectorAll("input, select")) if (el.value.trim()) next.set(el.name, el.value.trim());
    location.hash = `#/people?${next}`;
  });
  main.append(form);
  if (!state.me) main.append(h("p", { class: "meta" }, t("people.guest_note")));
  const list = h("ul", { class: "people", id: "people" });
  main.append(list);
  const out = h("p", { class: "meta", role: "status" });
  main.append(out);
  let cursor = null;
  const more = h("button", { type: "button", class: "link", id: "people-more", hidden: true }, t("people.more"));
  main.append(more);
  const load = async () => {
    const q = new URLSearchParams(params);
    if (cursor) q.set("cursor", cursor);
    try {
      const page = await get(`/users?${q}`);
      for (const u of page.users) {
        list.append(
          h(
            "li",
            { class: "person" },
            h("a", { href: `#/u/${u.handle}` }, u.display_name),
            " ",
            h("span", { class: "meta" }, [u.organization, u.country ? countryName(u.country) : null].filter(Boolean).join(" · ")),
            u.expertise && u.expertise.length ? h("p", { class: "meta expertise" }, u.expertise.join(" · ")) : null,
          ),
        );
      }
      cursor = page.next;
      more.hidden = !cursor;
      if (!list.children.length) out.textContent = t("people.none");
    } catch (err) {
      out.textContent = app.errorText(err);
    }
  };
  more.addEventListener("click", load);
  await load();
  if (state.me) await groupsSection(main);
}

/** The working groups that welcome requests: each described, with how many are in it,
 * and a request to join (with a word on why) for those not in it yet. */
async function groupsSection(main) {
  const groups = await get("/groups");
  if (!groups.length) return;
  const ui = lang();
  const list = h("ul", { class: "people", id: "groups" });
  for (const g of groups) {
    const sp = g.space;
    const name = (sp.names || {})[ui] || sp.name;
    const about = (sp.descriptions || {})[ui] || Object.values(sp.descriptions || {})[0] || "";
    const out = h("p", { class: "meta", role: "status" });
    const li = h("li", { class: "group", "data-space": sp.id }, h("strong", {}, name), " ", h("span", { class: "meta" }, t("people.group_size", { n: g.members })));
    if (about) li.append(h("p", { class: "meta" }, about));
    if (g.member) {
      li.append(h("a", { href: sp.kind === "chat" ? `#/room/${sp.room}` : `#/space/${sp.id}` }, t("people.open_group")));
    } else if (g.requested) {
      out.textContent = t("people.asked");
    } else {
      const why = h("input", { maxlength: 500, class: "join-message" });
      const form = h("form", { class: "ask-join" }, app.field(`join-${sp.id}`, t("people.ask_message"), why), h("button", { type: "submit" }, t("people.ask_join")));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await post(`/spaces/${sp.id}/join-requests`, { message: why.value });
          form.remove();
          out.textContent = t("people.asked");
        } catch (err) {
          app.showError(form, out, err);
        }
      });
      li.append(form);
    }
    li.append(out);
    list.append(li);
  }
  main.append(h("h2", {}, t("people.groups")), h("p", { class: "meta" }, t("people.groups_note")), list);
}

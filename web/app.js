// The Collective Brain web client: routing, views, and reading across languages.
// No build step: plain modules, served by the server from web/.

import { h, clear, when, ago } from "./dom.js";
import { api, get, post, put, patch, session, userName, userOf, imageUrl, ApiError } from "./api.js";
import { Live } from "./socket.js";
import { t, detect, setLang, lang as uiLang, langName } from "./i18n.js";

// Languages a member may say they read, besides the community's own.
const OTHER_LANGS = ["en", "fr", "es", "pt", "it", "de", "ar", "ko"];

const state = {
  // What the server says first (GET /config): name, languages, limits, welcome texts.
  config: { name: null, languages: ["en", "fr", "es", "pt"], welcome: {} },
  me: null,
  live: null,
  spaces: [],
  leave: null, // cleanup of the current view
};

const view = () => document.getElementById("view");

// ---- start ----

async function start() {
  // The catalogue, the community's settings and the reader's account, at once: on a
  // slow link each round trip counts.
  const [, config, me] = await Promise.all([
    setLang(detect(), false),
    get("/config").catch(() => null),
    session.token ? get("/me").catch(() => undefined) : Promise.resolve(null),
  ]);
  if (config) state.config = config;
  if (me === undefined) session.token = null;
  else state.me = me;
  const select = document.getElementById("ui-lang");
  select.value = uiLang();
  select.addEventListener("change", async () => {
    await setLang(select.value);
    chrome();
    route();
  });
  connect();
  chrome();
  window.addEventListener("hashchange", route);
  route();
}

function connect() {
  if (state.live) state.live.stop();
  const live = new Live(session.token);
  live.addEventListener("state", () => showConn());
  live.addEventListener("signed-out", () => signOut());
  live.addEventListener("refused", (e) => {
    const key = `error.${e.detail.code}`;
    notify(t(key) === key ? e.detail.message : t(key));
  });
  live.addEventListener("notification", () => countUnread());
  live.addEventListener("notifications_read", () => countUnread());
  live.addEventListener("lagged", () => countUnread());
  live.addEventListener("resync", () => countUnread());
  state.live = live;
  live.start();
  showConn();
}

function showConn() {
  const el = document.getElementById("conn");
  const s = state.live ? state.live.state : "offline";
  el.dataset.state = s;
  el.textContent = t(`conn.${s}`);
}

function chrome() {
  document.title = state.config.name || t("app.title");
  document.getElementById("brand").textContent = state.config.name || t("app.title");
  document.getElementById("ui-lang-label").textContent = t("nav.language");
  const skip = document.querySelector(".skip");
  skip.textContent = t("nav.skip");
  // Moves focus to the page's content; the hash stays the route.
  skip.onclick = (e) => {
    e.preventDefault();
    view().focus();
  };
  const nav = clear(document.getElementById("nav"));
  const link = (href, key) => h("a", { href }, t(key));
  nav.append(link("#/", "nav.spaces"), link("#/search", "nav.search"), link("#/people", "nav.people"));
  if (state.me) {
    const bell = link("#/notifications", "nav.notifications");
    bell.id = "nav-notifications";
    bell.append(" ", h("span", { class: "tag unread", id: "unread-count", hidden: true }));
    nav.append(bell);
    countUnread();
    if (isTranslator()) nav.append(link("#/desk", "nav.desk"));
    if (state.me.roles.includes("moderator") || state.me.roles.includes("admin")) nav.append(link("#/admin", "nav.admin"));
    nav.append(link("#/profile", "nav.profile"));
    nav.append(h("button", { type: "button", class: "link", on: { click: signOut } }, t("nav.signout")));
  } else {
    nav.append(link("#/signin", "nav.signin"));
  }
  showConn();
}

async function countUnread() {
  const badge = document.getElementById("unread-count");
  if (!badge || !state.me) return;
  try {
    const list = await get("/notifications?unread=true&limit=200");
    badge.textContent = String(list.length);
    badge.hidden = list.length === 0;
  } catch {
    badge.hidden = true;
  }
}

function isTranslator() {
  return state.me && state.me.roles.includes("translator");
}

function readerLangs() {
  return state.me && state.me.languages.length ? state.me.languages : [uiLang()];
}

async function signOut() {
  try {
    if (session.token) await post("/auth/logout");
  } catch {
    // Signed out anyway.
  }
  session.token = null;
  state.me = null;
  connect();
  chrome();
  location.hash = "#/";
}

function notify(message) {
  const box = h("p", { class: "notice", role: "alert" }, message);
  view().prepend(box);
  setTimeout(() => box.remove(), 6000);
}

/** An error in the reader's language where the interface knows it, else the server's words. */
function errorText(e) {
  if (e instanceof ApiError) {
    const suspended = e.code === "forbidden" && /^suspended until (\S+)/.exec(e.message);
    if (suspended) return t("error.suspended", { date: when(suspended[1]) });
    if (e.code === "conflict" && /^handle /.test(e.message)) return t("error.handle_taken");
    if (e.code === "unauthorized" && /^wrong handle or password/.test(e.message)) return t("error.wrong_login");
    const key = e.field ? `error.field.${e.field}` : `error.${e.code}`;
    const text = t(key);
    return text === key ? e.message : text;
  }
  return String(e.message || e);
}

/** Shows an error next to the field of `form` it is about (`data-field`), or in `out`. */
function showError(form, out, e) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const name = e instanceof ApiError ? e.field || (e.code === "conflict" && /^handle /.test(e.message) ? "handle" : null) : null;
  const input = name && form.querySelector(`[data-field="${name}"]`);
  if (!input) {
    out.textContent = errorText(e);
    return;
  }
  out.textContent = "";
  const msg = h("p", { class: "field-error", id: `${input.id}-error`, role: "alert" }, errorText(e));
  input.parentElement.after(msg);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", msg.id);
  input.focus();
}

// ---- routing ----

const routes = [
  [/^#\/?$/, home],
  [/^#\/signin$/, signIn],
  [/^#\/join\/([\w-]+)$/, signIn],
  [/^#\/admin$/, admin],
  [/^#\/group\/([\w-]+)$/, group],
  [/^#\/space\/([\w-]+)$/, space],
  [/^#\/library\/([\w-]+)$/, library],
  [/^#\/room\/([\w-]+)$/, room],
  [/^#\/p\/([\w-]+)$/, postLink],
  [/^#\/search(?:\?(.*))?$/, search],
  [/^#\/desk$/, desk],
  [/^#\/profile$/, profile],
  [/^#\/people(?:\?(.*))?$/, people],
  [/^#\/(verify-email|reset-password)(?:\?(.*))?$/, account],
  [/^#\/u\/([\w.-]+)$/, person],
  [/^#\/notifications$/, notifications],
];

let routed = false;

async function route() {
  if (state.leave) {
    state.leave();
    state.leave = null;
  }
  const hash = location.hash || "#/";
  const main = clear(view());
  for (const [re, fn] of routes) {
    const m = hash.match(re);
    if (m) {
      try {
        await fn(main, ...m.slice(1));
      } catch (e) {
        main.append(h("p", { class: "error", role: "alert" }, errorText(e)));
      }
      // After a move (not the first page), focus goes to the new page's heading, so a
      // screen reader announces it and Tab starts from there.
      const heading = main.querySelector("h1");
      if (routed && heading && !main.contains(document.activeElement)) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
      routed = true;
      return;
    }
  }
  main.append(h("h1", {}, t("error.notfound")));
}

function title(main, text) {
  document.title = `${text} · ${state.config.name || t("app.title")}`;
  main.append(h("h1", {}, text));
}

// ---- home: the spaces ----

async function home(main) {
  const welcome = state.me ? null : state.config.welcome[uiLang()] || state.config.welcome.en;
  if (welcome) main.append(h("p", { class: "welcome", id: "welcome" }, welcome));
  title(main, t("spaces.title"));
  state.spaces = await get("/spaces");
  const list = h("ul", { class: "spaces" });
  const archive = h("ul", { class: "spaces archived" });
  const ui = uiLang();
  for (const s of state.spaces) {
    const href = s.kind === "chat" ? `#/room/${s.room}` : `#/space/${s.id}`;
    const about = (s.descriptions || {})[ui] || (s.descriptions || {}).en;
    const activity = s.kind === "forum" ? [t("space.threads", { n: s.threads || 0 })] : [];
    if (s.last_activity_at) activity.push(t("space.active", { when: ago(s.last_activity_at) }));
    (s.archived ? archive : list).append(
      h(
        "li",
        {},
        h("a", { href }, spaceName(s)),
        " ",
        h("span", { class: "tag" }, t(`space.${s.kind}`)),
        s.visibility === "private" ? h("span", { class: "tag private" }, t("space.private")) : null,
        s.unread ? h("span", { class: "tag unread" }, t("space.unread", { n: s.unread })) : null,
        about ? h("p", { class: "about" }, about) : null,
        activity.length ? h("p", { class: "meta" }, activity.join(" · ")) : null,
      ),
    );
  }
  main.append(list);
  if (!state.spaces.length) main.append(h("p", { class: "meta" }, t("spaces.none")));
  if (archive.children.length) main.append(h("h2", {}, t("spaces.archive")), archive);
  if (!state.me) main.append(h("p", { id: "join-how" }, howToJoin(), " ", h("a", { href: "#/signin" }, t("spaces.signin"))));
  else await conversations(main);
}

/** A space's name in the interface's language, when it has one. */
function spaceName(s) {
  return (s.names || {})[uiLang()] || s.name;
}

/** The reader's direct conversations, named by who else is in them. */
async function conversations(main) {
  const dms = await get("/dms");
  if (!dms.length) return;
  const list = h("ul", { class: "spaces", id: "dms" });
  for (const dm of dms) {
    const a = h("a", { href: `#/room/${dm.id}` }, "…");
    Promise.all(dm.members.filter((m) => m !== state.me.id).map(userName)).then((names) => (a.textContent = names.join(", ")));
    list.append(h("li", {}, a, dm.unread ? h("span", { class: "tag unread" }, t("space.unread", { n: dm.unread })) : null));
  }
  main.append(h("h2", {}, t("dms.title")), list);
}

// ---- sign in / sign up ----

function field(id, label, input) {
  input.id = id;
  return h("p", { class: "field" }, h("label", { for: id }, label), input);
}

function langChecks(name, selected) {
  return h(
    "fieldset",
    { class: "langs" },
    h("legend", {}, t("profile.languages")),
    [...new Set([...state.config.languages, ...OTHER_LANGS])].map((l) =>
      h(
        "label",
        {},
        h("input", { type: "checkbox", name, value: l, checked: selected.includes(l) }),
        " ",
        langName(l),
      ),
    ),
  );
}

function checked(form, name) {
  return [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
}

/** How people join, in a sentence for guests. */
function howToJoin() {
  return t(`join.${state.config.signup || "open"}`);
}

async function signIn(main, code = null) {
  title(main, t("auth.title"));
  const mode = state.config.signup || "open";
  const inviteInput = h("input", { autocomplete: "off", value: code || "", required: mode === "invite" && !code, "data-field": "invite" });
  const out = h("p", { class: "error", role: "alert" });
  const inForm = h(
    "form",
    { class: "card", id: "signin-form" },
    h("h2", {}, t("auth.signin")),
    field("in-handle", t("auth.handle"), h("input", { autocomplete: "username", required: true })),
    field("in-password", t("auth.password"), h("input", { type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, t("auth.signin")),
    state.config.email ? h("p", {}, h("a", { href: "#/reset-password" }, t("auth.forgot"))) : null,
  );
  const upForm = h(
    "form",
    { class: "card", id: "signup-form" },
    h("h2", {}, t("auth.signup")),
    field("up-handle", t("auth.handle"), h("input", { autocomplete: "username", required: true, "data-field": "handle" })),
    field("up-name", t("auth.name"), h("input", { autocomplete: "name", "data-field": "display_name" })),
    field(
      "up-password",
      t("auth.password"),
      h("input", {
        type: "password",
        autocomplete: "new-password",
        required: true,
        minlength: state.config.min_password_chars || 10,
        "data-field": "password",
      }),
    ),
    langChecks("up-lang", [uiLang()]),
    code || mode === "invite" ? field("up-invite", t("auth.invite"), inviteInput) : null,
    h("p", { class: "meta", id: "join-how" }, code ? t("join.invited") : howToJoin()),
    h("button", { type: "submit" }, t("auth.signup")),
  );
  const done = async (answer) => {
    session.token = answer.token;
    state.me = answer.user;
    connect();
    chrome();
    location.hash = "#/";
  };
  inForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await done(await post("/auth/login", { handle: inForm.querySelector("#in-handle").value, password: inForm.querySelector("#in-password").value }));
    } catch (err) {
      out.textContent = errorText(err);
    }
  });
  upForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      handle: upForm.querySelector("#up-handle").value,
      password: upForm.querySelector("#up-password").value,
      languages: checked(upForm, "up-lang"),
    };
    const name = upForm.querySelector("#up-name").value.trim();
    if (name) body.display_name = name;
    const invite = inviteInput.value.trim();
    if (invite) body.invite = invite;
    try {
      const answer = await post("/auth/register", body);
      if (answer.pending) {
        upForm.replaceChildren(h("h2", {}, t("auth.signup")), h("p", { class: "notice", id: "pending", role: "status" }, t("join.pending")));
        return;
      }
      await done(answer);
    } catch (err) {
      showError(upForm, out, err);
    }
  });
  main.append(out, h("div", { class: "two" }, inForm, upForm));
}

// ---- a forum space: its threads ----

async function space(main, id) {
  const s = await get(`/spaces/${id}`);
  title(main, s.name);
  if (s.kind === "chat") {
    location.hash = `#/room/${s.room}`;
    return;
  }
  main.append(h("p", {}, s.visibility === "private" ? [h("a", { href: `#/group/${id}`, id: "group-members" }, t("space.members")), " · "] : null, h("a", { href: `#/library/${id}`, id: "library-link" }, t("space.library"))));
  if (state.me && s.watch) main.append(watchControl(s, `/spaces/${id}/watch`));
  const rooms = await get(`/spaces/${id}/rooms`);
  const list = h("ul", { class: "threads" });
  for (const r of rooms) {
    list.append(
      h(
        "li",
        {},
        h("a", { href: `#/room/${r.id}`, lang: r.title ? threadTitle(r).lang : undefined }, r.title ? threadTitle(r).text : r.id),
        " ",
        h("span", { class: "meta" }, t("thread.posts", { n: r.post_count }), " · ", when(r.last_activity_at)),
        r.unread ? h("span", { class: "tag unread" }, t("space.unread", { n: r.unread })) : null,
      ),
    );
  }
  if (!rooms.length) list.append(h("li", {}, t("thread.none")));
  main.append(list);
  if (!state.me) return;
  const out = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "card", id: "new-thread" },
    h("h2", {}, t("thread.new")),
    field("thread-title", t("thread.title"), h("input", { required: true, maxlength: 200, "data-field": "title" })),
    field("thread-body", t("thread.body"), h("textarea", { required: true, rows: 5, "data-field": "body" })),
    h("button", { type: "submit" }, t("thread.create")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const v = await post(`/spaces/${id}/rooms`, {
        title: form.querySelector("#thread-title").value,
        body: form.querySelector("#thread-body").value,
        nonce: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()),
      });
      location.hash = `#/room/${v.room.id}`;
    } catch (err) {
      showError(form, out, err);
    }
  });
  main.append(form, out);
}

// ---- a room: a thread or a chat, live ----

/** A thread's title as this reader sees it first: the original when they read its
 * language, else a translation into one they read (`translated`), else the original. */
function threadTitle(r) {
  const langs = readerLangs();
  const tr = r.title_translations || {};
  if (!r.title_lang || langs.includes(r.title_lang)) return { text: r.title, lang: r.title_lang };
  const l = langs.find((x) => tr[x] && !tr[x].stale) || langs.find((x) => tr[x]);
  return l ? { text: tr[l].title, lang: l, translated: true } : { text: r.title, lang: r.title_lang };
}

/** Which version of a post this reader sees first. */
function chooseVersion(p) {
  const langs = readerLangs();
  if (p.deleted || langs.includes(p.lang)) return null;
  const tl = langs.find((l) => p.translations && p.translations[l]);
  return tl ? tl : undefined; // null: original is fine; undefined: nothing readable yet
}

// A body as the server rendered it: `html` is Markdown rendered and sanitized on the
// server (no script, handler, style or frame survives there), the only user text this
// client ever inserts as markup. Without it (an older server), the plain text.
function showBody(el, version) {
  if (typeof version.html === "string" && version.html !== "") el.innerHTML = version.html;
  else el.textContent = version.body;
}

function renderPost(p, el) {
  const box = el || h("article", { class: "post" });
  clear(box);
  box.dataset.post = p.id;
  box.dataset.seq = p.seq;
  box.dataset.author = p.author;
  box.dataset.at = p.created_at;
  const who = h("span", { class: "author" }, p.author);
  const face = h("span", { class: "avatar", "aria-hidden": "true" });
  userName(p.author).then((n) => {
    who.textContent = n;
    avatar(face, n, p.author);
  });
  box.append(
    h(
      "header",
      {},
      face,
      who,
      " ",
      h("time", { datetime: p.created_at, title: when(p.created_at) }, ago(p.created_at)),
      " ",
      h("span", { class: "tag lang", title: langName(p.lang) }, p.lang),
      p.edited_at && !p.deleted ? editedMark(p) : null,
    ),
  );
  if (p.deleted) {
    box.append(h("p", { class: "body deleted" }, t("post.deleted")));
    return box;
  }
  if (p.hidden) {
    box.append(h("p", { class: "body deleted" }, t("post.hidden")));
    box.append(moderationTools(p));
    return box;
  }
  box.classList.toggle("mentions-me", Boolean(state.me && p.html && p.html.includes(`href="#/u/${state.me.handle}"`)));
  const tl = chooseVersion(p);
  const body = h("div", { class: "body", lang: p.lang, dir: "auto" });
  showBody(body, p);
  box.append(body);
  if (tl) {
    const tr = p.translations[tl];
    let showing = "translation";
    body.lang = tl;
    showBody(body, tr);
    body.classList.add("translated");
    const by = h("span", {}, tr.translator);
    userName(tr.translator).then((n) => (by.textContent = n));
    const toggle = h("button", { type: "button", class: "link toggle" }, t("post.show_original"));
    toggle.addEventListener("click", () => {
      showing = showing === "translation" ? "original" : "translation";
      body.lang = showing === "translation" ? tl : p.lang;
      showBody(body, showing === "translation" ? tr : p);
      toggle.textContent = t(showing === "translation" ? "post.show_original" : "post.show_translation");
    });
    box.append(
      h(
        "p",
        { class: "note" },
        t("post.translated", { from: langName(p.lang), to: langName(tl) }),
        " ",
        by,
        tr.stale ? h("span", { class: "tag stale" }, t("post.stale")) : null,
        " ",
        toggle,
      ),
    );
  } else if (tl === undefined) {
    const note = t("post.awaiting", { lang: langName(p.lang) });
    // In a chat it is a mark with the words on hover, beside the line.
    const line = h("p", { class: "note awaiting", title: note }, h("span", { class: "awaiting-text" }, note));
    // A reader asks for it in their language (a short chat post waits only so).
    const want = state.me && readerLangs().find((l) => state.config.languages.includes(l));
    if (want && (requested.get(p.id) || []).includes(want)) line.append(" ", h("span", { class: "requested" }, t("post.requested")));
    else if (want) {
      const ask = h("button", { type: "button", class: "link request" }, t("post.request"));
      ask.addEventListener("click", async () => {
        try {
          await post(`/posts/${p.id}/translation-requests`, { lang: want });
          ask.replaceWith(t("post.requested"));
        } catch (e) {
          ask.replaceWith(errorText(e));
        }
      });
      line.append(" ", ask);
    }
    box.append(line);
  }
  if (p.reply_to) box.prepend(replyLink(p.reply_to));
  if (p.files && p.files.length) {
    const files = h("div", { class: "files" });
    box.append(files);
    import("./files.js").then((m) => m.render(files, p.files));
  }
  box.append(reactionsLine(p), postActions(p, body), moderationTools(p));
  return box;
}

/** A member's initials on a colour of their own (from their id), for telling authors apart at a glance. */
function avatar(el, name, id) {
  const words = String(name).split(/\s+/).filter(Boolean);
  el.textContent = words.length > 1 ? words[0][0] + words[words.length - 1][0] : String(name).slice(0, 2);
  let hash = 0;
  for (const c of String(id)) hash = (hash * 31 + c.charCodeAt(0)) % 360;
  // Set through the CSSOM: the page's CSP allows no style attribute.
  el.style.backgroundColor = `hsl(${hash} 50% 30%)`;
  // Their picture, when they set one.
  userOf(id)
    .then((u) => u && u.avatar && imageUrl(u.avatar))
    .then((src) => src && el.replaceChildren(h("img", { src, alt: "" })), () => {});
}

/** Marks a post that follows its author's previous one within five minutes: its
 * header is left out, so a quick exchange reads as one block. */
function groupWithPrevious(el) {
  const prev = el.previousElementSibling;
  const near =
    prev &&
    prev.dataset.author === el.dataset.author &&
    Date.parse(el.dataset.at) - Date.parse(prev.dataset.at) < 5 * 60 * 1000;
  el.classList.toggle("grouped", Boolean(near));
}

// The emoji offered for a reaction; any other a post already has is shown too.
const REACTIONS = ["👍", "❤️", "🎉", "🙏", "😄"];
// This session's own reactions ("post|emoji"), to toggle them and show them as mine.
const mine = new Set();
// Posts readers asked to have translated: post id -> languages.
const requested = new Map();

/** `@` in a composer offers the handles of the room's participants: arrows choose,
 * Enter or Tab inserts, Escape closes. */
function mentionsHelper(input, participants) {
  const box = h("ul", { class: "mention-list", id: `${input.id}-mentions`, role: "listbox", hidden: true });
  input.setAttribute("aria-controls", box.id);
  input.setAttribute("aria-autocomplete", "list");
  input.after(box);
  let options = [];
  let active = 0;
  const close = () => {
    box.hidden = true;
    options = [];
    input.removeAttribute("aria-activedescendant");
  };
  const pick = (handle) => {
    const caret = input.selectionStart;
    const before = input.value.slice(0, caret).replace(/@[\w.-]*$/, `@${handle} `);
    input.value = before + input.value.slice(caret);
    input.setSelectionRange(before.length, before.length);
    close();
    input.focus();
  };
  const draw = () => {
    clear(box);
    options.forEach((u, i) => {
      const li = h("li", { id: `${box.id}-${i}`, role: "option", "aria-selected": String(i === active) }, `@${u.handle}`, " ", h("span", { class: "meta" }, u.display_name));
      li.addEventListener("mousedown", (e) => {
        e.preventDefault();
        pick(u.handle);
      });
      box.append(li);
    });
    box.hidden = options.length === 0;
    if (options.length) input.setAttribute("aria-activedescendant", `${box.id}-${active}`);
  };
  input.addEventListener("input", async () => {
    const m = /(?:^|\s)@([\w.-]{0,32})$/.exec(input.value.slice(0, input.selectionStart));
    if (!m) return close();
    const typed = m[1].toLowerCase();
    const users = (await Promise.all(participants().map(userOf))).filter(Boolean);
    options = users
      .filter((u) => !state.me || u.id !== state.me.id)
      .filter((u) => u.handle.toLowerCase().startsWith(typed) || (u.display_name || "").toLowerCase().startsWith(typed))
      .slice(0, 8);
    active = 0;
    draw();
  });
  input.addEventListener("keydown", (e) => {
    if (box.hidden || !options.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      draw();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      e.stopImmediatePropagation();
      pick(options[active].handle);
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}

/** "(edited)": opens the post's earlier versions. */
function editedMark(p) {
  const b = h("button", { type: "button", class: "link meta edited", "aria-expanded": "false" }, t("post.edited"));
  b.addEventListener("click", async () => {
    const box = b.closest("article");
    const open = box.querySelector(".history");
    if (open) {
      open.remove();
      b.setAttribute("aria-expanded", "false");
      return;
    }
    try {
      const versions = await get(`/posts/${p.id}/history`);
      const list = h("ol", { class: "history" });
      for (const v of versions) {
        const body = h("div", { class: "body", lang: v.lang, dir: "auto" });
        showBody(body, v);
        list.append(h("li", {}, h("time", { datetime: v.written_at, class: "meta" }, when(v.written_at)), body));
      }
      b.closest("header").after(list);
      b.setAttribute("aria-expanded", "true");
    } catch (err) {
      notify(errorText(err));
    }
  });
  return b;
}

/** "In reply to": scrolls to the post answered, when it is on the page. */
function replyLink(parentId) {
  const a = h("a", { href: `#/p/${parentId}`, class: "reply-to meta" }, `↩ ${t("post.in_reply_to")}`);
  const parent = document.querySelector(`[data-post="${CSS.escape(parentId)}"]`);
  const author = parent && parent.querySelector(".author");
  if (author) a.append(" ", author.textContent);
  a.addEventListener("click", (e) => {
    const target = document.querySelector(`[data-post="${CSS.escape(parentId)}"]`);
    if (!target) return;
    e.preventDefault();
    target.scrollIntoView({ block: "center" });
    target.classList.add("highlight");
    setTimeout(() => target.classList.remove("highlight"), 2000);
  });
  return h("p", { class: "reply-line" }, a);
}

/** Reaction counts, each a button that adds or takes back the reader's own. */
function reactionsLine(p) {
  const line = h("p", { class: "reactions" });
  const counts = p.reactions || {};
  const emojis = [...new Set([...Object.keys(counts), ...(state.me ? REACTIONS : [])])];
  for (const emoji of emojis) {
    const n = counts[emoji] || 0;
    if (!state.me) {
      line.append(h("span", { class: "reaction" }, `${emoji} ${n}`), " ");
      continue;
    }
    const key = `${p.id}|${emoji}`;
    const b = h(
      "button",
      { type: "button", class: `reaction${mine.has(key) ? " mine" : ""}${n ? "" : " empty"}`, "aria-label": t("post.react", { emoji }), "aria-pressed": String(mine.has(key)) },
      n ? `${emoji} ${n}` : emoji,
    );
    b.addEventListener("click", async () => {
      const path = `/posts/${p.id}/reactions/${encodeURIComponent(emoji)}`;
      // Marked at once: the live event that follows draws it as the reader's own.
      const had = mine.has(key);
      if (had) mine.delete(key);
      else mine.add(key);
      try {
        if (had) await api("DELETE", path);
        else await put(path, {});
      } catch (err) {
        if (had) mine.add(key);
        else mine.delete(key);
        notify(errorText(err));
      }
    });
    line.append(b, " ");
  }
  return line;
}

/** Reply (everyone signed in), edit and delete (the author, and moderators). */
function postActions(p, body) {
  const bar = h("p", { class: "actions" });
  if (!state.me || p.deleted || p.hidden) return bar;
  const reply = h("button", { type: "button", class: "link reply" }, t("post.reply"));
  reply.addEventListener("click", () => document.dispatchEvent(new CustomEvent("reply-to", { detail: p })));
  const link = h("a", { href: `#/p/${p.id}`, class: "permalink" }, t("post.link"));
  bar.append(reply, " ", link, " ");
  const mod = state.me.roles.includes("moderator") || state.me.roles.includes("admin");
  if (p.author === state.me.id || mod) {
    if (p.author === state.me.id) {
      const edit = h("button", { type: "button", class: "link edit" }, t("post.edit"));
      edit.addEventListener("click", () => editInPlace(p, body, bar));
      bar.append(edit, " ");
    }
    const del = h("button", { type: "button", class: "link delete" }, t("post.delete"));
    del.addEventListener("click", async () => {
      if (!window.confirm(t("post.delete_confirm"))) return;
      try {
        await api("DELETE", `/posts/${p.id}`);
      } catch (err) {
        notify(errorText(err));
      }
    });
    bar.append(del);
  }
  return bar;
}

/** Replaces a post's body with an editor; the saved edit comes back live as an event. */
function editInPlace(p, body, bar) {
  const area = h("textarea", { class: "edit-body", rows: 3, maxlength: 16000 });
  area.value = p.body;
  const save = h("button", { type: "submit" }, t("post.save"));
  const cancel = h("button", { type: "button", class: "link" }, t("post.cancel"));
  const form = h("form", { class: "edit-form" }, area, " ", save, " ", cancel);
  const restore = () => {
    form.replaceWith(body);
    bar.hidden = false;
  };
  cancel.addEventListener("click", restore);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await patch(`/posts/${p.id}`, { body: area.value });
      restore();
    } catch (err) {
      notify(errorText(err));
    }
  });
  body.replaceWith(form);
  bar.hidden = true;
  area.focus();
}

/** Flag (members), hide or restore (moderators), for one post. */
function moderationTools(p) {
  const bar = h("p", { class: "tools-line" });
  if (!state.me) return bar;
  const out = h("span", { class: "meta", role: "status" });
  if (!p.hidden && p.author !== state.me.id) {
    const flag = h("button", { type: "button", class: "link flag" }, t("post.flag"));
    flag.addEventListener("click", () => {
      flag.remove();
      const reason = h("input", { id: `flag-${p.id}`, maxlength: 500, required: true });
      const form = h(
        "form",
        { class: "flag-form" },
        h("label", { for: reason.id }, t("post.flag_reason")),
        " ",
        reason,
        " ",
        h("button", { type: "submit" }, t("post.flag_send")),
      );
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await post(`/posts/${p.id}/flags`, { reason: reason.value });
          form.replaceWith(h("span", { class: "meta" }, t("post.flagged")));
        } catch (err) {
          out.textContent = errorText(err);
        }
      });
      bar.prepend(form);
      reason.focus();
    });
    bar.append(flag, " ");
  }
  if (state.me.roles.includes("moderator") || state.me.roles.includes("admin")) {
    const act = h("button", { type: "button", class: "link moderate" }, t(p.hidden ? "post.restore" : "post.hide"));
    act.addEventListener("click", async () => {
      try {
        await post(`/posts/${p.id}/${p.hidden ? "restore" : "hide"}`, {});
      } catch (err) {
        out.textContent = errorText(err);
      }
    });
    bar.append(act, " ");
  }
  bar.append(out);
  return bar;
}

// Posts a room opens with (its newest), and loads each time the reader goes further back.
const WINDOW = 50;

/** Pinning a thread, for moderators and the space's coordinators. */
async function pinControl(main, r) {
  const sp = await get(`/spaces/${r.space}`).catch(() => null);
  const me = state.me;
  if (!sp || !(me.roles.includes("moderator") || me.roles.includes("admin") || (sp.coordinators || []).includes(me.id))) return;
  let pinned = Boolean(r.pinned);
  const b = h("button", { type: "button", class: "link", id: "pin" }, t(pinned ? "room.unpin" : "room.pin"));
  b.addEventListener("click", async () => {
    try {
      await put(`/rooms/${r.id}/pin`, { pinned: !pinned });
      pinned = !pinned;
      b.textContent = t(pinned ? "room.unpin" : "room.pin");
    } catch (err) {
      notify(errorText(err));
    }
  });
  const anchor = main.querySelector("p.watch") || main.querySelector("h1");
  anchor.after(h("p", {}, b));
}

/** How the reader follows a room (or a space's rooms): watching, normal or muted. */
function watchControl(r, path) {
  const pick = h("select", { id: "watch-level" }, ["watching", "normal", "muted"].map((l) => h("option", { value: l, selected: r.watch === l }, t(`watch.${l}`))));
  const out = h("span", { class: "meta", role: "status" });
  pick.addEventListener("change", async () => {
    try {
      await put(path, { level: pick.value });
      out.textContent = t("profile.saved");
    } catch (err) {
      out.textContent = errorText(err);
    }
  });
  return h("p", { class: "watch" }, h("label", { for: "watch-level" }, t("watch.label")), " ", pick, " ", out);
}

/** Under a translated title, the original one click away. */
function titleToggle(main, r, shown) {
  const h1 = main.querySelector("h1");
  h1.lang = shown.lang;
  let original = false;
  const toggle = h("button", { type: "button", class: "link toggle", id: "title-toggle" }, t("post.show_original"));
  toggle.addEventListener("click", () => {
    original = !original;
    h1.textContent = original ? r.title : shown.text;
    h1.lang = original ? r.title_lang : shown.lang;
    toggle.textContent = t(original ? "post.show_translation" : "post.show_original");
  });
  main.append(h("p", { class: "meta" }, toggle));
}

/** `#/p/ID`: the post's room, scrolled to the post and highlighted. */
async function postLink(main, id) {
  const p = await get(`/posts/${id}`);
  await room(main, p.room, p);
}

async function room(main, id, focus = null) {
  const r = await get(`/rooms/${id}`);
  let name = r.title || (state.spaces.find((s) => s.room === id) || {}).name;
  if (!name) name = await get(`/spaces/${r.space}`).then((sp) => sp.name, () => t("room.chat"));
  if (r.title) {
    // A thread: the way back to its space.
    const back = h("a", { href: `#/space/${r.space}`, class: "crumb" }, "← ");
    get(`/spaces/${r.space}`).then((sp) => back.append(sp.name), () => back.append(t("nav.spaces")));
    main.append(h("nav", { class: "crumbs", "aria-label": t("room.crumbs") }, back));
  }
  const heading = r.title ? threadTitle(r) : null;
  title(main, heading ? heading.text : name);
  if (heading && heading.translated) titleToggle(main, r, heading);
  if (state.me && r.watch) main.append(watchControl(r, `/rooms/${r.id}/watch`));
  if (state.me && r.title) pinControl(main, r);
  if (state.me) {
    // From the top of a room to its composer in one step.
    const write = h("a", { href: "#composer", class: "to-composer" }, t("room.write"));
    write.addEventListener("click", (e) => {
      e.preventDefault();
      const box = document.getElementById("composer");
      if (box) box.focus();
    });
    main.append(write);
  }
  const older = h("button", { type: "button", class: "link older", id: "older", hidden: true }, t("room.older"));
  const list = h("div", { class: `posts${r.title ? "" : " chat"}`, id: "posts", role: "log", "aria-live": "polite" });
  const typingLine = h("p", { class: "typing", "aria-live": "polite" });
  const jump = h("button", { type: "button", class: "jump", id: "jump", hidden: true });
  main.append(older, list, typingLine, jump);
  const shown = new Map(); // post id -> element
  const typers = new Map();
  const showTyping = () => {
    const names = [...typers.keys()];
    typingLine.textContent = names.length ? t("room.typing", { who: names.join(", ") }) : "";
  };
  // Posts stay in their order in the room whatever order they arrive in: a window of the
  // newest, older pages above it, edits of either in place.
  let oldest = Infinity;
  const latest = new Map(); // post id -> the post as last seen
  const place = (p) => {
    latest.set(p.id, p);
    const el = shown.get(p.id);
    if (el) {
      renderPost(p, el);
      return false;
    }
    const fresh = renderPost(p);
    shown.set(p.id, fresh);
    const next = [...list.children].find((c) => Number(c.dataset.seq) > p.seq) || null;
    list.insertBefore(fresh, next);
    oldest = Math.min(oldest, p.seq);
    for (const e of [fresh, fresh.nextElementSibling]) if (e) groupWithPrevious(e);
    return next === null;
  };
  const nearBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  const toBottom = () => window.scrollTo(0, document.documentElement.scrollHeight);
  let unseen = 0;
  const showJump = () => {
    jump.hidden = unseen === 0;
    jump.textContent = t("room.new_messages", { n: unseen });
  };
  jump.addEventListener("click", () => {
    unseen = 0;
    showJump();
    toBottom();
  });
  const onScroll = () => {
    if (unseen && nearBottom()) {
      unseen = 0;
      showJump();
    }
  };
  window.addEventListener("scroll", onScroll, { passive: true });
  // The reader's own reactions on the posts shown (the posts themselves say only how
  // many), asked once per post.
  const asked = new Set();
  const markMine = async () => {
    if (!state.me) return;
    const ids = [...shown.keys()].filter((pid) => !asked.has(pid));
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      chunk.forEach((pid) => asked.add(pid));
      const ask = (path) => get(`${path}?posts=${chunk.join(",")}`).catch(() => ({}));
      const [found, asks] = await Promise.all([ask("/me/reactions"), ask("/translation-requests")]);
      for (const [pid, emojis] of Object.entries(found)) emojis.forEach((e) => mine.add(`${pid}|${e}`));
      for (const [pid, langs] of Object.entries(asks)) requested.set(pid, langs);
      for (const pid of new Set([...Object.keys(found), ...Object.keys(asks)])) {
        if (shown.has(pid) && latest.has(pid)) renderPost(latest.get(pid), shown.get(pid));
      }
    }
  };
  const loadOlder = async () => {
    if (older.disabled || oldest <= 1) return;
    older.disabled = true;
    const from = Math.max(0, oldest - 1 - WINDOW);
    const height = document.documentElement.scrollHeight;
    try {
      const posts = await get(`/rooms/${id}/posts?after_seq=${from}&limit=${WINDOW}`);
      const edge = oldest;
      for (const p of posts) if (p.seq < edge) place(p);
      // The reader stays on what they were reading.
      window.scrollBy(0, document.documentElement.scrollHeight - height);
      older.hidden = from === 0;
      markMine();
    } catch (err) {
      notify(errorText(err));
    }
    older.disabled = false;
  };
  older.addEventListener("click", loadOlder);
  // A linked post older than the window: the posts from it on are loaded first.
  const showFocus = async () => {
    if (!shown.has(focus.id)) {
      const posts = await get(`/rooms/${id}/posts?after_seq=${Math.max(0, focus.seq - 1)}&limit=${WINDOW}`).catch(() => []);
      for (const p of posts) if (!shown.has(p.id)) place(p);
      older.hidden = focus.seq <= 1;
    }
    const el = shown.get(focus.id);
    if (!el) return;
    el.scrollIntoView({ block: "center" });
    el.classList.add("highlight");
    el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
  };
  // A thread opens at the reader's first unread post (when there are not too many), a
  // chat at its newest; both mark where the reader stopped with a "New" line.
  const read = typeof r.read_seq === "number" ? r.read_seq : null;
  const unreadFrom = read !== null && read > 0 && read < r.last_seq && r.last_seq - read <= 500 ? read : null;
  const newest = Math.max(0, r.last_seq - WINDOW);
  const since = r.title && unreadFrom !== null ? Math.min(unreadFrom, newest) : newest;
  let opened = false;
  const live = state.live;
  let lastSeq = 0;
  live.subscribe(id, since, (f) => {
    if (f.type === "subscribed" && !opened) {
      if (!document.body.contains(list)) return;
      opened = true;
      older.hidden = since === 0;
      const firstUnread = unreadFrom !== null && [...list.children].find((c) => Number(c.dataset.seq) > unreadFrom);
      if (firstUnread) list.insertBefore(h("p", { class: "new-divider", id: "new-divider" }, t("room.new_divider")), firstUnread);
      markMine();
      if (focus) showFocus();
      else if (firstUnread && r.title) firstUnread.previousElementSibling.scrollIntoView({ block: "start" });
      else toBottom();
      // Scrolling up to the top loads earlier posts, as the button does.
      if ("IntersectionObserver" in window) {
        const seen = new IntersectionObserver((entries) => {
          if (entries.some((e) => e.isIntersecting) && !older.hidden) loadOlder();
        });
        seen.observe(older);
        const prevLeave = state.leave;
        state.leave = () => {
          seen.disconnect();
          if (prevLeave) prevLeave();
        };
      }
    } else if (f.type === "event") {
      const p = f.post;
      lastSeq = f.seq;
      const follow = nearBottom();
      const appended = place(p);
      if (opened && appended) {
        if (follow || (state.me && p.author === state.me.id)) toBottom();
        else {
          unseen += 1;
          showJump();
        }
      }
      if (state.me && document.visibilityState === "visible") live.read(id, lastSeq);
    } else if (f.type === "typing") {
      userName(f.user).then((n) => {
        clearTimeout(typers.get(n));
        typers.set(
          n,
          setTimeout(() => {
            typers.delete(n);
            showTyping();
          }, 4000),
        );
        showTyping();
      });
    }
  });
  state.leave = () => {
    live.unsubscribe(id);
    window.removeEventListener("scroll", onScroll);
  };

  if (!state.me) {
    main.append(h("p", {}, h("a", { href: "#/signin" }, t("room.signin"))));
    return;
  }
  const input = h("textarea", { id: "composer", rows: 2, maxlength: 16000 });
  const pendingList = h("ul", { class: "pending", "aria-live": "polite" });
  // Files: picked or dropped, uploaded at once (web/files.js), sent with the next post.
  const tray = h("ul", { class: "uploads", id: "uploads", "aria-live": "polite" });
  const picker = h("input", { type: "file", multiple: true, id: "attach", class: "visually-hidden" });
  const upload = (list) => list.length && import("./files.js").then((m) => m.attach(list, tray, state.config.max_file_bytes));
  picker.addEventListener("change", () => upload(picker.files).then(() => (picker.value = "")));
  const form = h(
    "form",
    { class: "composer", id: "composer-form" },
    h("label", { for: "composer", class: "visually-hidden" }, t("room.message")),
    input,
    picker,
    h("label", { for: "attach", class: "attach", title: t("files.attach") }, "📎"),
    h("button", { type: "submit" }, t("room.send")),
  );
  form.addEventListener("dragover", (e) => e.preventDefault());
  form.addEventListener("drop", (e) => {
    e.preventDefault();
    upload(e.dataTransfer.files);
  });
  const pending = new Map();
  const onAck = (e) => {
    const li = pending.get(e.detail.nonce);
    if (li) {
      li.remove();
      pending.delete(e.detail.nonce);
    }
  };
  live.addEventListener("ack", onAck);
  const prev = state.leave;
  state.leave = () => {
    prev();
    live.removeEventListener("ack", onAck);
    document.removeEventListener("reply-to", onReply);
  };
  // Replying: the post answered, shown above the composer until sent or cancelled.
  let replyTo = null;
  const replyNote = h("p", { class: "replying meta", hidden: true });
  const onReply = (e) => {
    const p = e.detail;
    if (p.room !== id) return;
    replyTo = p.id;
    clear(replyNote);
    const who = h("span", {}, p.author);
    userName(p.author).then((n) => (who.textContent = n));
    const cancel = h("button", { type: "button", class: "link" }, t("post.cancel"));
    cancel.addEventListener("click", () => {
      replyTo = null;
      replyNote.hidden = true;
    });
    replyNote.append(t("room.replying_to", { who: "" }), who, " ", cancel);
    replyNote.hidden = false;
    const quote = p.body.split("\n").slice(0, 3).map((l) => `> ${l}`).join("\n");
    if (!input.value.startsWith(quote)) input.value = `${quote}\n\n${input.value}`;
    input.focus();
  };
  document.addEventListener("reply-to", onReply);
  // The room's authors, and in a private group its members too.
  let members = [];
  get(`/spaces/${r.space}`)
    .then((sp) => (sp.visibility === "private" ? get(`/spaces/${r.space}/members`) : []))
    .then((users) => (members = users.map((u) => u.id)), () => {});
  mentionsHelper(input, () => [...new Set([...[...list.children].map((c) => c.dataset.author), ...members].filter(Boolean))]);
  const send = () => {
    const done = [...tray.querySelectorAll("li[data-file]")];
    // A post of files alone is named by them.
    const body = input.value.trim() || done.map((li) => li.dataset.name).join(", ");
    if (!body || tray.querySelector("li:not([data-file]):not(.failed)")) return;
    const extra = replyTo ? { reply_to: replyTo } : {};
    if (done.length) extra.files = done.map((li) => li.dataset.file);
    tray.textContent = "";
    const nonce = live.post(id, body, extra);
    replyTo = null;
    replyNote.hidden = true;
    const li = h("li", { class: "pending-post" }, t("room.sending"), " ", h("span", {}, body));
    pending.set(nonce, li);
    pendingList.append(li);
    input.value = "";
  };
  let lastTyping = 0;
  input.addEventListener("input", () => {
    if (Date.now() - lastTyping > 3000) {
      lastTyping = Date.now();
      live.typing(id);
    }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  main.append(pendingList, replyNote, tray, form);
}

async function library(main, id) {
  const m = await import("./files.js");
  await m.libraryPage(main, { state, title, field, errorText }, id);
}

// ---- search (web/search.js, loaded when opened) ----

async function search(main, query) {
  const m = await import("./search.js");
  await m.searchPage(main, { state, title, field, errorText }, query);
}

// ---- the translators' desk (web/desk.js, loaded when opened) ----

async function desk(main) {
  const { deskPage } = await import("./desk.js");
  await deskPage(main, { state, title, field, errorText, notify, isTranslator });
}

// ---- notifications (web/notifications.js, loaded when opened) ----

async function notifications(main) {
  const m = await import("./notifications.js");
  await m.notificationsPage(main, { state, title, route, countUnread });
}

// ---- my profile ----

// ---- people: profiles and the directory (web/people.js, loaded when opened) ----

async function peopleModule() {
  const m = await import("./people.js");
  const app = { state, title, field, langChecks, checked, showError, errorText, chrome, isTranslator, OTHER_LANGS, showAvatar: avatar };
  return [m, app];
}

async function profile(main) {
  const [m, app] = await peopleModule();
  await m.profilePage(main, app);
}

async function people(main, query) {
  const [m, app] = await peopleModule();
  await m.directoryPage(main, app, query);
}

/** The pages of mailed links: an address verified, a new password (web/people.js). */
async function account(main, kind, query) {
  const [m, app] = await peopleModule();
  await m.accountPage(main, app, kind, new URLSearchParams(query || "").get("token"));
}

async function person(main, handle) {
  const [m, app] = await peopleModule();
  await m.personPage(main, app, handle);
}

// ---- running the community (web/admin.js, loaded only by those who open it) ----

async function admin(main) {
  const { adminPage } = await import("./admin.js");
  await adminPage(main, { state, title, field, checked, showError, errorText, chrome });
}

async function group(main, id) {
  const { groupPage } = await import("./admin.js");
  await groupPage(main, { state, title, field, checked, showError, errorText, chrome }, id);
}

start();

// For tests and debugging: the live connection.
window.collectiveBrain = state;
export { api };

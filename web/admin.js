// Running the community from the browser: the community's name, how people join and
// the welcome texts (admins), invitation links for a cohort, and new accounts waiting
// for approval (admins and moderators). Loaded only when someone opens it.

import { h, when } from "./dom.js";
import { api, get, post, put, patch, userName } from "./api.js";
import { t, langName, addStrings } from "./i18n.js";

// What the page uses of the client's shell (app.js), given by adminPage.
let ctx = null;

export async function adminPage(main, app) {
  const { state, title } = app;
  ctx = app;
  await addStrings("admin");
  title(main, t("admin.title"));
  if (!state.me || !(state.me.roles.includes("moderator") || state.me.roles.includes("admin"))) {
    main.append(h("p", {}, t("error.forbidden")));
    return;
  }
  const isAdmin = state.me.roles.includes("admin");
  const [config, signups, invites, spaces, review] = await Promise.all([
    get("/config"),
    get("/admin/signups"),
    get("/invites"),
    get("/spaces"),
    get("/moderation/review"),
  ]);
  state.config = config;
  if (isAdmin) main.append(communityForm(config));
  main.append(signupList(signups), inviteSection(invites, spaces), groupsSection(spaces, isAdmin));
  if (isAdmin) main.append(spacesSection(spaces, config.ui_languages));
  main.append(reviewSection(review), memberTools(isAdmin));
  if (isAdmin) main.append(await logSection());
  main.append(await figuresSection());
  if (isAdmin) main.append(await backupsSection(), await mailSection());
}

// ---- email ----

/** The outbox: how much waits, and the mail the SMTP server refused (forgotten by hand). */
async function mailSection() {
  const m = await get("/admin/mail");
  const card = h("section", { class: "card", id: "mail-card" }, h("h2", {}, t("admin.mail")));
  if (!m.email) {
    card.append(h("p", {}, t("admin.mail_off")));
    return card;
  }
  const out = h("p", { class: "meta", role: "status" });
  const list = h("ul", { id: "mail-failed" });
  for (const f of m.failed) {
    const forget = h("button", { type: "button" }, t("admin.mail_forget"));
    const item = h("li", {}, when(f.created_at), " · ", f.to, " · ", h("strong", {}, f.subject), h("p", { class: "meta" }, f.error), forget);
    forget.addEventListener("click", async () => {
      try {
        await api("DELETE", `/admin/mail/${f.id}`);
        item.remove();
      } catch (err) {
        out.textContent = ctx.errorText(err);
      }
    });
    list.append(item);
  }
  card.append(h("p", { id: "mail-waiting" }, t("admin.mail_waiting", { n: m.waiting })));
  if (m.failed.length) card.append(h("h3", {}, t("admin.mail_failed")), list);
  card.append(out);
  return card;
}

// ---- backups ----

function size(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u += 1;
  }
  return `${n.toFixed(u ? 1 : 0)} ${units[u]}`;
}

async function backupsSection() {
  const b = await get("/admin/backups");
  const out = h("p", { class: "meta", role: "status" });
  const list = h("ul", { id: "backups" });
  const row = (f) => h("li", {}, when(f.created_at), " · ", size(f.size), " ", h("span", { class: "meta" }, f.name));
  for (const f of b.backups) list.append(row(f));
  if (!b.backups.length) list.append(h("li", { class: "meta", id: "backups-none" }, t("admin.backups_none")));
  const now = h("button", { type: "button", id: "backup-now" }, t("admin.backup_now"));
  now.addEventListener("click", async () => {
    now.disabled = true;
    try {
      const f = await post("/admin/backups");
      const none = list.querySelector("#backups-none");
      if (none) none.remove();
      list.prepend(row(f));
      out.textContent = t("admin.backup_taken", { size: size(f.size) });
    } catch (err) {
      out.textContent = ctx.errorText(err);
    } finally {
      now.disabled = false;
    }
  });
  const schedule = b.every_hours ? t("admin.backups_schedule", { hours: b.every_hours, keep: b.keep, dir: b.dir }) : t("admin.backups_off", { dir: b.dir });
  return h("section", { class: "card", id: "backups-card" }, h("h2", {}, t("admin.backups")), h("p", {}, schedule), list, h("p", {}, now), out);
}

// ---- figures for reports ----

/** A bar `percent` wide (set through the CSSOM: the page's CSP allows no style attribute). */
function bar(percent) {
  const el = h("span", { class: "bar", "aria-hidden": "true" });
  el.style.width = `${(percent / 10).toFixed(1)}rem`;
  return el;
}

/** A table whose numeric column is drawn as bars too (the numbers stay, for every reader). */
function barTable(id, heads, rows, barColumn) {
  const max = Math.max(1, ...rows.map((r) => r[barColumn]));
  return h(
    "table",
    { id, class: "figures" },
    h("thead", {}, h("tr", {}, heads.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          r.map((cell, i) =>
            h("td", {}, i === barColumn ? bar((100 * cell) / max) : null, String(cell)),
          ),
        ),
      ),
    ),
  );
}

async function figuresSection() {
  const st = await get("/admin/stats");
  const monthName = (m) => new Date(`${m}-01T00:00:00Z`).toLocaleDateString(document.documentElement.lang || undefined, { year: "numeric", month: "short", timeZone: "UTC" });
  const hours = (s) => (s == null ? "–" : (s / 3600).toFixed(1));
  return h(
    "section",
    { class: "card", id: "figures" },
    h("h2", {}, t("admin.figures")),
    h("p", {}, t("admin.figures_members", { n: st.members })),
    h("h3", {}, t("admin.figures_months")),
    barTable("figures-months", [t("admin.figures_month"), t("admin.figures_active"), t("admin.figures_posts")], st.months.map((m) => [monthName(m.month), m.active_members, m.posts]), 1),
    h("h3", {}, t("admin.figures_languages")),
    barTable("figures-languages", [t("admin.figures_language"), t("admin.figures_posts")], Object.entries(st.by_language).map(([l, n]) => [langName(l), n]), 1),
    h("h3", {}, t("admin.figures_spaces")),
    barTable("figures-spaces", [t("admin.figures_space"), t("admin.figures_threads"), t("admin.figures_posts")], st.by_space.map((f) => [f.name, f.threads, f.posts]), 2),
    h("h3", {}, t("admin.figures_translation")),
    barTable(
      "figures-coverage",
      [t("admin.figures_language"), t("admin.figures_translated"), t("admin.figures_waiting"), t("admin.figures_median")],
      st.coverage.map((c) => [langName(c.lang), c.translated, c.waiting, hours(c.median_seconds)]),
      1,
    ),
    h("p", { class: "meta" }, t("admin.figures_note")),
  );
}

// ---- working groups ----

/** A slug from a name: letters and digits, dashes between. */
function slugOf(name) {
  const base = name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return base.length >= 3 ? base : `group-${Date.now() % 100000}`;
}

/** A member found by handle, through the directory; null when there is none. */
async function byHandle(handle) {
  const h0 = handle.trim().replace(/^@/, "");
  if (!h0) return null;
  const found = await get(`/users?q=${encodeURIComponent(h0)}&limit=100`);
  return found.users.find((u) => u.handle.toLowerCase() === h0.toLowerCase()) || null;
}

function groupsSection(spaces, isAdmin) {
  const out = h("p", { class: "meta", role: "status" });
  const list = h("ul", { class: "groups", id: "groups" });
  const mine = spaces.filter((s) => s.visibility === "private");
  for (const g of mine) list.append(h("li", {}, h("a", { href: `#/group/${g.id}` }, g.name), " ", g.kind === "chat" ? h("span", { class: "tag" }, t("admin.group_chat")) : null));
  if (!mine.length) list.append(h("li", { class: "meta" }, t("admin.groups_none")));
  const section = h("section", { class: "card", id: "groups-card" }, h("h2", {}, t("admin.groups")), list);
  if (isAdmin) {
    const form = h(
      "form",
      { id: "group-form" },
      ctx.field("group-name", t("admin.group_name"), h("input", { required: true, maxlength: 80, "data-field": "name" })),
      ctx.field(
        "group-kind",
        t("admin.group_kind"),
        h("select", {}, h("option", { value: "forum" }, t("admin.group_forum")), h("option", { value: "chat" }, t("admin.group_chat"))),
      ),
      ctx.field(
        "group-visibility",
        t("admin.group_visibility"),
        h("select", {}, h("option", { value: "private" }, t("admin.group_private")), h("option", { value: "public" }, t("admin.group_public"))),
      ),
      h("button", { type: "submit" }, t("admin.group_create")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = form.querySelector("#group-name").value.trim();
      const visibility = form.querySelector("#group-visibility").value;
      try {
        const g = await post("/spaces", { slug: slugOf(name), name, kind: form.querySelector("#group-kind").value, visibility, post_policy: "members" });
        location.hash = visibility === "private" ? `#/group/${g.id}` : g.kind === "chat" ? `#/room/${g.room}` : `#/space/${g.id}`;
      } catch (err) {
        ctx.showError(form, out, err);
      }
    });
    section.append(form);
  }
  section.append(out);
  return section;
}

/** `#/group/ID`: a working group's members and coordinators. */
export async function groupPage(main, app, id) {
  ctx = app;
  await addStrings("admin");
  const { state, title } = app;
  const [g, members] = await Promise.all([get(`/spaces/${id}`), get(`/spaces/${id}/members`)]);
  title(main, g.name);
  const me = state.me;
  const manages = me && (me.roles.includes("admin") || me.roles.includes("moderator") || (g.coordinators || []).includes(me.id));
  const isAdmin = me && me.roles.includes("admin");
  const out = h("p", { class: "meta", role: "status" });
  main.append(h("p", {}, h("a", { href: g.kind === "chat" ? `#/room/${g.room}` : `#/space/${g.id}` }, t("admin.group_open"))));
  const list = h("ul", { class: "members", id: "members" });
  const coords = new Set(g.coordinators || []);
  const row = (u) => {
    const li = h("li", { class: "member" }, h("a", { href: `#/u/${u.handle}` }, u.display_name), ` @${u.handle} `);
    if (isAdmin) {
      const box = h("input", { type: "checkbox", class: "coordinator", value: u.id, checked: coords.has(u.id), id: `coord-${u.id}` });
      li.append(h("label", { for: box.id }, box, " ", t("admin.coordinator")), " ");
    } else if (coords.has(u.id)) {
      li.append(h("span", { class: "tag" }, t("admin.coordinator")), " ");
    }
    if (manages) {
      const remove = h("button", { type: "button", class: "link remove-member" }, t("admin.member_remove"));
      remove.addEventListener("click", async () => {
        try {
          await api("DELETE", `/spaces/${g.id}/members/${u.id}`);
          li.remove();
          out.textContent = t("admin.member_removed", { name: u.display_name });
        } catch (err) {
          out.textContent = ctx.errorText(err);
        }
      });
      li.append(remove);
    }
    return li;
  };
  for (const u of members) list.append(row(u));
  main.append(h("h2", {}, t("admin.members")), list);
  if (manages) {
    const form = h(
      "form",
      { class: "card", id: "add-member-form" },
      ctx.field("add-member", t("admin.member_add_handle"), h("input", { required: true, placeholder: "@handle", "data-field": "user" })),
      h("button", { type: "submit" }, t("admin.member_add")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const u = await byHandle(form.querySelector("#add-member").value);
        if (!u) {
          out.textContent = t("admin.no_such_member");
          return;
        }
        await post(`/spaces/${g.id}/members`, { user: u.id });
        list.append(row(u));
        form.reset();
        out.textContent = t("admin.member_added", { name: u.display_name });
      } catch (err) {
        out.textContent = ctx.errorText(err);
      }
    });
    main.append(form, await requestsSection(g, list, row, out));
  }
  if (isAdmin) {
    const save = h("button", { type: "button", id: "save-coordinators" }, t("admin.coordinators_save"));
    save.addEventListener("click", async () => {
      const users = [...list.querySelectorAll("input.coordinator:checked")].map((b) => b.value);
      try {
        await put(`/spaces/${g.id}/coordinators`, { users });
        out.textContent = t("profile.saved");
      } catch (err) {
        out.textContent = ctx.errorText(err);
      }
    });
    main.append(h("p", {}, save));
  }
  main.append(out);
}

/** The requests to join a group, each approved (the member joins the list) or declined. */
async function requestsSection(g, members, row, out) {
  const list = h("ul", { class: "requests", id: "join-requests" });
  const section = h("section", { class: "card" }, h("h2", {}, t("admin.requests")), list);
  const empty = () => {
    if (!list.children.length) list.append(h("li", { class: "meta" }, t("admin.no_requests")));
  };
  for (const r of await get(`/spaces/${g.id}/join-requests`)) {
    const u = r.user;
    const answer = (approve) => async () => {
      try {
        await post(`/spaces/${g.id}/join-requests/${u.id}/${approve ? "approve" : "reject"}`, {});
        li.remove();
        if (approve) members.append(row(u));
        out.textContent = t(approve ? "admin.request_approved" : "admin.request_declined", { name: u.display_name });
        empty();
      } catch (err) {
        out.textContent = ctx.errorText(err);
      }
    };
    const yes = h("button", { type: "button", class: "approve-join" }, t("admin.request_approve"));
    const no = h("button", { type: "button", class: "link" }, t("admin.request_decline"));
    yes.addEventListener("click", answer(true));
    no.addEventListener("click", answer(false));
    const li = h(
      "li",
      { class: "request" },
      h("a", { href: `#/u/${u.handle}` }, u.display_name),
      ` @${u.handle} `,
      r.message ? h("q", {}, r.message) : null,
      " ",
      yes,
      " ",
      no,
    );
    list.append(li);
  }
  empty();
  return section;
}

// ---- spaces: names and descriptions per language, who posts, archive ----

function spaceEditor(sp, langs) {
  const out = h("p", { class: "meta", role: "status" });
  const per = (kind, l, value, max) =>
    ctx.field(`${kind}-${sp.id}-${l}`, t(`admin.space_${kind}`, { lang: langName(l) }), h(kind === "description" ? "textarea" : "input", { maxlength: max, rows: 2, "data-lang": l, class: kind, value: kind === "description" ? undefined : value || "" }, kind === "description" ? value || "" : null));
  const policy = h(
    "select",
    { id: `policy-${sp.id}` },
    ["members", "moderators"].map((p) => h("option", { value: p, selected: sp.post_policy === p }, t(`admin.policy.${p}`))),
  );
  const archived = h("input", { type: "checkbox", id: `archived-${sp.id}`, checked: Boolean(sp.archived) });
  const visibility = h(
    "select",
    { id: `visibility-${sp.id}` },
    ["public", "private"].map((v) => h("option", { value: v, selected: sp.visibility === v }, t(`admin.visibility.${v}`))),
  );
  const listed = h("input", { type: "checkbox", id: `listed-${sp.id}`, checked: Boolean(sp.listed) });
  const listedRow = h("p", {}, h("label", { for: listed.id }, listed, " ", t("admin.space_listed")));
  const showListed = () => (listedRow.hidden = visibility.value !== "private");
  visibility.addEventListener("change", showListed);
  showListed();
  const form = h(
    "form",
    { class: "space-editor" },
    langs.map((l) => per("name", l, (sp.names || {})[l], 80)),
    langs.map((l) => per("description", l, (sp.descriptions || {})[l], 500)),
    ctx.field(`policy-${sp.id}`, t("admin.space_policy"), policy),
    ctx.field(`visibility-${sp.id}`, t("admin.space_visibility"), visibility),
    listedRow,
    h("p", {}, h("label", { for: archived.id }, archived, " ", t("admin.space_archived"))),
    h("button", { type: "submit" }, t("profile.save")),
    out,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const names = {};
    const descriptions = {};
    for (const el of form.querySelectorAll("input.name")) if (el.value.trim()) names[el.dataset.lang] = el.value;
    for (const el of form.querySelectorAll("textarea.description")) if (el.value.trim()) descriptions[el.dataset.lang] = el.value;
    try {
      const body = { names, descriptions, post_policy: policy.value, archived: archived.checked, visibility: visibility.value };
      if (visibility.value === "private") body.listed = listed.checked;
      await patch(`/spaces/${sp.id}`, body);
      out.textContent = t("profile.saved");
    } catch (err) {
      ctx.showError(form, out, err);
    }
  });
  return h("details", { class: "space-edit" }, h("summary", {}, sp.name, sp.archived ? ` (${t("admin.space_archived")})` : ""), form);
}

function spacesSection(spaces, langs) {
  const list = h("div", { id: "spaces-edit" }, spaces.map((sp) => spaceEditor(sp, langs)));
  return h("section", { class: "card", id: "spaces-card" }, h("h2", {}, t("admin.spaces")), h("p", { class: "meta" }, t("admin.spaces_note")), list);
}

// ---- moderation ----

const DAYS = [1, 7, 30, 365];

function reviewSection(review) {
  const out = h("p", { class: "meta", role: "status" });
  const list = h("ul", { class: "review", id: "review" });
  for (const item of review) {
    const p = item.post;
    const li = h("li", { class: "review-item" });
    const text = p.hidden ? item.hidden_body || "" : p.body;
    li.append(
      h("blockquote", {}, text),
      h("p", { class: "meta" }, p.hidden ? t("admin.review_hidden") : "", item.flags.map((f) => t("admin.review_flag", { reason: f.reason })).join(" · ")),
    );
    const reason = h("input", { id: `hide-reason-${p.id}`, maxlength: 500, placeholder: t("admin.reason") });
    const act = h("button", { type: "button", class: p.hidden ? "restore" : "hide" }, t(p.hidden ? "admin.restore" : "admin.hide"));
    act.addEventListener("click", async () => {
      try {
        await post(`/posts/${p.id}/${p.hidden ? "restore" : "hide"}`, p.hidden ? {} : { reason: reason.value || undefined });
        li.remove();
        out.textContent = t(p.hidden ? "admin.restored" : "admin.hidden");
      } catch (err) {
        out.textContent = ctx.errorText(err);
      }
    });
    li.append(h("p", {}, p.hidden ? null : h("label", { for: reason.id }, t("admin.reason"), " ", reason), " ", act, " ", h("a", { href: `#/p/${p.id}` }, t("admin.review_open"))));
    list.append(li);
  }
  if (!review.length) list.append(h("li", { class: "meta" }, t("admin.review_none")));
  return h("section", { class: "card", id: "review-card" }, h("h2", {}, t("admin.review")), list, out);
}

/** Finding a member by handle: suspend or lift, roles (admins), erase on request (admins). */
function memberTools(isAdmin) {
  const out = h("p", { class: "meta", role: "status" });
  const panel = h("div", { id: "member-panel" });
  const form = h(
    "form",
    { id: "member-find" },
    ctx.field("member-handle", t("admin.member_find"), h("input", { required: true, placeholder: "@handle" })),
    h("button", { type: "submit" }, t("admin.find")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    panel.replaceChildren();
    try {
      const u = await byHandle(form.querySelector("#member-handle").value);
      if (!u) {
        out.textContent = t("admin.no_such_member");
        return;
      }
      out.textContent = "";
      panel.append(memberPanel(u, isAdmin, out));
    } catch (err) {
      out.textContent = ctx.errorText(err);
    }
  });
  return h("section", { class: "card", id: "members-card" }, h("h2", {}, t("admin.member_tools")), form, panel, out);
}

function memberPanel(u, isAdmin, out) {
  const box = h("div", { class: "member-panel" }, h("h3", {}, u.display_name, ` @${u.handle}`));
  const days = h("select", { id: "suspend-days" }, DAYS.map((d) => h("option", { value: d }, t("admin.days", { n: d }))));
  const reason = h("input", { id: "suspend-reason", maxlength: 500 });
  const suspend = h("button", { type: "button", id: "suspend" }, t("admin.suspend"));
  suspend.addEventListener("click", async () => {
    const until = new Date(Date.now() + Number(days.value) * 86400000).toISOString();
    try {
      await put(`/users/${u.id}/suspension`, { until, reason: reason.value || undefined });
      out.textContent = t("admin.suspended", { name: u.display_name });
    } catch (err) {
      out.textContent = ctx.errorText(err);
    }
  });
  const lift = h("button", { type: "button", class: "link", id: "lift" }, t("admin.lift"));
  lift.addEventListener("click", async () => {
    try {
      await api("DELETE", `/users/${u.id}/suspension`);
      out.textContent = t("admin.lifted", { name: u.display_name });
    } catch (err) {
      out.textContent = ctx.errorText(err);
    }
  });
  box.append(
    h("p", {}, h("label", { for: days.id }, t("admin.suspend_for")), " ", days, " ", h("label", { for: reason.id }, t("admin.reason")), " ", reason, " ", suspend, " ", lift),
  );
  if (isAdmin) {
    const roles = h(
      "fieldset",
      { class: "roles" },
      h("legend", {}, t("admin.roles")),
      ["translator", "moderator", "admin"].map((r) => h("label", {}, h("input", { type: "checkbox", name: "role", value: r, checked: u.roles.includes(r) }), " ", t(`admin.role.${r}`))),
    );
    const save = h("button", { type: "button", id: "save-roles" }, t("profile.save"));
    save.addEventListener("click", async () => {
      const picked = [...roles.querySelectorAll("input:checked")].map((i) => i.value);
      try {
        await put(`/users/${u.id}/roles`, { roles: ["member", ...picked] });
        out.textContent = t("profile.saved");
      } catch (err) {
        out.textContent = ctx.errorText(err);
      }
    });
    box.append(roles, h("p", {}, save));
  }
  return box;
}

async function logSection() {
  const log = await get("/moderation/log");
  const name = (id) => {
    const cell = h("td", {}, "…");
    userName(id).then((n) => (cell.textContent = n));
    return cell;
  };
  const rows = log.slice(0, 100).map((e) =>
    h(
      "tr",
      {},
      h("td", {}, when(e.at)),
      name(e.moderator),
      h("td", {}, t(`admin.action.${e.action}`), " ", e.post ? h("a", { href: `#/p/${e.post}` }, t("admin.review_open")) : null),
      e.user ? name(e.user) : h("td", {}),
      h("td", {}, e.reason || ""),
      h("td", {}, e.until ? when(e.until) : ""),
    ),
  );
  const heads = [t("admin.log_when"), t("admin.log_who"), t("admin.log_what"), t("admin.log_member"), t("admin.reason"), t("admin.log_until")];
  const table = h(
    "table",
    { id: "modlog" },
    h("thead", {}, h("tr", {}, heads.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows),
  );
  return h("section", { class: "card", id: "log-card" }, h("h2", {}, t("admin.log")), log.length ? table : h("p", { class: "meta" }, t("admin.log_none")));
}

function communityForm(config) {
  const out = h("p", { class: "meta", role: "status" });
  const mode = h(
    "select",
    { "data-field": "signup" },
    ["open", "approval", "invite"].map((m) => h("option", { value: m, selected: config.signup === m }, t(`admin.signup.${m}`))),
  );
  const welcomes = config.ui_languages.map((l) =>
    ctx.field(
      `welcome-${l}`,
      t("admin.welcome", { lang: langName(l) }),
      h("textarea", { rows: 3, lang: l, placeholder: config.welcome[l] || "", "data-lang": l }, (config.welcome_custom || {})[l] || ""),
    ),
  );
  const form = h(
    "form",
    { class: "card", id: "community-form" },
    h("h2", {}, t("admin.community")),
    ctx.field("community-name", t("admin.name"), h("input", { value: config.name, maxlength: 80, required: true, "data-field": "name" })),
    ctx.field("community-signup", t("admin.signup"), mode),
    h("fieldset", {}, h("legend", {}, t("admin.welcomes")), welcomes),
    h("button", { type: "submit" }, t("profile.save")),
    out,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const welcome = {};
    for (const ta of form.querySelectorAll("textarea[data-lang]")) welcome[ta.dataset.lang] = ta.value;
    try {
      ctx.state.config = await patch("/config", { name: form.querySelector("#community-name").value, signup: mode.value, welcome });
      out.textContent = t("profile.saved");
      ctx.chrome();
    } catch (err) {
      ctx.showError(form, out, err);
    }
  });
  return form;
}

function signupList(signups) {
  const out = h("p", { class: "meta", role: "status" });
  const list = h("ul", { class: "signups", id: "signups" });
  const show = () => {
    if (!list.children.length) list.append(h("li", { class: "meta" }, t("admin.signups_none")));
  };
  for (const u of signups) {
    const li = h("li", { class: "signup" }, h("strong", {}, u.display_name), ` @${u.handle} `);
    const decide = (verdict) =>
      h("button", {
        type: "button",
        class: verdict === "approve" ? "approve" : "link reject",
        on: {
          click: async () => {
            try {
              await post(`/admin/signups/${u.id}/${verdict}`);
              li.remove();
              out.textContent = t(`admin.${verdict}d`, { name: u.display_name });
              show();
            } catch (err) {
              out.textContent = ctx.errorText(err);
            }
          },
        },
      }, t(`admin.${verdict}`));
    li.append(decide("approve"), " ", decide("reject"));
    list.append(li);
  }
  show();
  return h("section", { class: "card", id: "signups-card" }, h("h2", {}, t("admin.signups")), list, out);
}

function inviteLink(invite) {
  return invite.url.startsWith("/") ? location.origin + invite.url : invite.url;
}

function inviteRow(invite, list, out) {
  const link = inviteLink(invite);
  const uses = invite.max_uses ? t("admin.invite_uses_of", { n: invite.uses, max: invite.max_uses }) : t("admin.invite_uses", { n: invite.uses });
  const li = h(
    "li",
    { class: "invite" },
    h("strong", {}, invite.label || t("admin.invite_unlabelled")),
    " ",
    h("input", { class: "invite-link", readonly: true, value: link, "aria-label": t("admin.invite_link"), size: 40 }),
    " ",
    h("span", { class: "meta" }, uses, invite.expires_at ? ` · ${t("admin.invite_until", { date: when(invite.expires_at) })}` : ""),
  );
  const copy = h("button", { type: "button", class: "link" }, t("admin.copy"));
  copy.addEventListener("click", async () => {
    const input = li.querySelector(".invite-link");
    input.select();
    try {
      await navigator.clipboard.writeText(link);
      out.textContent = t("admin.copied");
    } catch {
      out.textContent = t("admin.copy_by_hand");
    }
  });
  const revoke = h("button", { type: "button", class: "link revoke" }, t("admin.revoke"));
  revoke.addEventListener("click", async () => {
    try {
      await api("DELETE", `/invites/${encodeURIComponent(invite.code)}`);
      li.remove();
      out.textContent = t("admin.revoked");
    } catch (err) {
      out.textContent = ctx.errorText(err);
    }
  });
  li.append(" ", copy, " ", revoke);
  return li;
}

function inviteSection(invites, spaces) {
  const out = h("p", { class: "meta", role: "status" });
  const list = h("ul", { class: "invites", id: "invites" });
  for (const i of invites) list.append(inviteRow(i, list, out));
  const form = h(
    "form",
    { id: "invite-form" },
    ctx.field("invite-label", t("admin.invite_label"), h("input", { maxlength: 80, placeholder: t("admin.invite_label_example"), "data-field": "label" })),
    h(
      "fieldset",
      { class: "invite-spaces" },
      h("legend", {}, t("admin.invite_spaces")),
      spaces.map((sp) => h("label", {}, h("input", { type: "checkbox", name: "invite-space", value: sp.id }), " ", sp.name)),
    ),
    ctx.field("invite-max", t("admin.invite_max"), h("input", { type: "number", min: 1, max: 10000, "data-field": "max_uses" })),
    ctx.field("invite-expires", t("admin.invite_expires"), h("input", { type: "date", "data-field": "expires_at" })),
    h("button", { type: "submit" }, t("admin.invite_create")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { spaces: ctx.checked(form, "invite-space") };
    const label = form.querySelector("#invite-label").value.trim();
    const max = form.querySelector("#invite-max").value;
    const expires = form.querySelector("#invite-expires").value;
    if (label) body.label = label;
    if (max) body.max_uses = Number(max);
    if (expires) body.expires_at = expires;
    try {
      const invite = await post("/invites", body);
      list.prepend(inviteRow(invite, list, out));
      form.reset();
      out.textContent = t("admin.invite_made");
    } catch (err) {
      ctx.showError(form, out, err);
    }
  });
  return h("section", { class: "card", id: "invites-card" }, h("h2", {}, t("admin.invites")), form, list, out);
}

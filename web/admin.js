// Running the community from the browser: the community's name, how people join and
// the welcome texts (admins), invitation links for a cohort, and new accounts waiting
// for approval (admins and moderators). Loaded only when someone opens it.

import { h, when } from "./dom.js";
import { api, get, post, patch } from "./api.js";
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
  const [config, signups, invites, spaces] = await Promise.all([get("/config"), get("/admin/signups"), get("/invites"), get("/spaces")]);
  state.config = config;
  if (isAdmin) main.append(communityForm(config));
  main.append(signupList(signups), inviteSection(invites, spaces));
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

// The reader's notifications: mentions, replies, direct messages and posts where they
// watch, newest first, each with the post as it is now. Loaded when it is opened.

import { h, when } from "./dom.js";
import { get, put, userName } from "./api.js";
import { t } from "./i18n.js";

export async function notificationsPage(main, app) {
  const { state, title, route } = app;
  title(main, t("notif.title"));
  if (!state.me) {
    location.hash = "#/signin";
    return;
  }
  const list = await get("/notifications");
  const ul = h("ul", { class: "notifications", id: "notifications" });
  for (const n of list) {
    const who = h("span", { class: "author" }, n.from);
    userName(n.from).then((name) => (who.textContent = name));
    ul.append(
      h(
        "li",
        { class: n.read ? "read" : "unread" },
        who,
        " ",
        t(`notif.${n.kind}`),
        " ",
        h("a", { href: `#/room/${n.room}` }, when(n.created_at)),
        n.post.deleted ? h("p", { class: "body deleted" }, t("post.deleted")) : h("p", { class: "body", lang: n.post.lang }, n.post.body.slice(0, 280)),
      ),
    );
  }
  if (!list.length) ul.append(h("li", {}, t("notif.none")));
  main.append(ul);
  if (list.some((n) => !n.read)) {
    const b = h("button", { type: "button" }, t("notif.mark_read"));
    b.addEventListener("click", async () => {
      await put("/notifications/read", { until: list[0].id });
      route();
    });
    main.append(b);
  }
}

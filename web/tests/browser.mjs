// Browser tests of the web client: headless Chromium (Debian's package) driven by
// playwright-core, against a real server.
//
//   node web/tests/browser.mjs BASE_URL SCREENSHOT_DIR
//
// The admin password comes from CB_ADMIN_PASSWORD; CHROMIUM overrides /usr/bin/chromium.
// Run by the integration test `browser::the_web_client_works_in_a_real_browser`, which
// starts the server. Each scenario saves screenshots; the exit status is non-zero when
// any scenario fails.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";

// axe-core (pinned in package.json), injected into pages to check accessibility.
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: browser.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const ADMIN_PASSWORD = process.env.CB_ADMIN_PASSWORD;
const TIMEOUT = 15000;

// ---- the API, for setting the scene ----

async function call(method, path, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${base}/api/v1${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return json;
}

let n = 0;
async function user(prefix, languages) {
  n += 1;
  const handle = `${prefix}${n}${Date.now() % 100000}`;
  const v = await call("POST", "/auth/register", null, { handle, password: "a long password", display_name: prefix, languages });
  return { token: v.token, user: v.user, handle };
}

async function admin() {
  const v = await call("POST", "/auth/login", null, { handle: "admin", password: ADMIN_PASSWORD });
  return v.token;
}

/** A new public chat space made by an admin; its room is `.room`. */
async function chatSpace(adminToken, slug, name) {
  return call("POST", "/spaces", adminToken, {
    slug: `${slug}${Date.now() % 100000}`,
    name,
    kind: "chat",
    visibility: "public",
    post_policy: "members",
  });
}

async function spaceId(slug) {
  const spaces = await call("GET", "/spaces");
  return spaces.find((s) => s.slug === slug);
}

// ---- mail, from the maildir of the tests' SMTP server (CB_MAILDIR) ----

/** The token of the newest mailed link to `to` holding `route`, waiting for it. */
async function mailedToken(to, route) {
  const dir = process.env.CB_MAILDIR;
  assert(dir, "CB_MAILDIR is not set");
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    for (const sub of ["new", "cur"]) {
      let names = [];
      try {
        names = readdirSync(`${dir}/${sub}`);
      } catch {
        continue;
      }
      for (const name of names) {
        // Quoted-printable soft breaks and `=3D` undone: enough to read a link.
        const raw = readFileSync(`${dir}/${sub}/${name}`, "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
        if (!raw.includes(`To: ${to}`)) continue;
        const m = raw.match(new RegExp(`#/${route}\\?token=([\\w-]+)`));
        if (m) return m[1];
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} with a ${route} link`);
}

// ---- the browser ----

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

/** A browser context signed in as `who` (or a guest), interface in `ui`. */
async function context(who, { ui = "en", locale = "en-GB", width = 1000 } = {}) {
  // Behind the test's proxy the certificate is self-signed.
  const ignoreHTTPSErrors = base.startsWith("https://");
  const ctx = await browser.newContext({ locale, viewport: { width, height: 800 }, ignoreHTTPSErrors });
  await ctx.addInitScript(
    ([token, ui]) => {
      try {
        if (token && !sessionStorage.getItem("cb.init")) {
          localStorage.setItem("cb.token", token);
          sessionStorage.setItem("cb.init", "1");
        }
        if (ui) localStorage.setItem("cb.ui-lang", ui);
      } catch {
        // about:blank has no storage.
      }
    },
    [who ? who.token : null, ui],
  );
  const errors = [];
  ctx.on("weberror", (e) => errors.push(String(e.error())));
  ctx.errors = errors;
  return ctx;
}

async function open(ctx, hash) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("dialog", (d) => {
    if (page.acceptNext) {
      page.acceptNext = false;
      d.accept();
      return;
    }
    page.sawDialog = true;
    d.dismiss();
  });
  await page.goto(`${base}/${hash}`);
  await page.locator('#conn[data-state="online"]').waitFor();
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

async function expectCount(page, locator, count, what) {
  const deadline = Date.now() + TIMEOUT;
  let last = -1;
  while (Date.now() < deadline) {
    last = await locator.count();
    if (last === count) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: expected ${count}, found ${last}`);
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const bodyWith = (page, text) => page.locator(".post .body", { hasText: text });

// ---- scenarios ----

const scenarios = {};

scenarios["two people chat live; one drops offline and comes back with every message exactly once"] = async () => {
  const a = await user("alice", ["en"]);
  const b = await user("bruno", ["en"]);
  const lobby = await spaceId("lobby");
  const ctxA = await context(a);
  const ctxB = await context(b);
  // Bruno's socket goes through a switch the test can cut.
  let blocked = false;
  const routes = new Set();
  await ctxB.routeWebSocket(/\/ws$/, (ws) => {
    if (blocked) {
      ws.close();
      return;
    }
    routes.add(ws);
    ws.connectToServer();
  });
  const pa = await open(ctxA, `#/room/${lobby.room}`);
  const pb = await open(ctxB, `#/room/${lobby.room}`);
  await pa.fill("#composer", "hello from Alice");
  await pa.press("#composer", "Enter");
  await bodyWith(pb, "hello from Alice").waitFor();
  // Typing indicator.
  await pa.fill("#composer", "typing…");
  await pb.locator(".typing", { hasText: "alice" }).waitFor();
  await pa.fill("#composer", "");

  blocked = true;
  await ctxB.setOffline(true);
  for (const ws of routes) await ws.close();
  routes.clear();
  await pb.locator('#conn:not([data-state="online"])').waitFor();
  for (let i = 1; i <= 3; i++) {
    await pa.fill("#composer", `while you were away ${i}`);
    await pa.press("#composer", "Enter");
  }
  await expectCount(pa, bodyWith(pa, "while you were away"), 3, "Alice's own posts");
  await pb.fill("#composer", "typed while offline");
  await pb.press("#composer", "Enter");
  await pb.locator(".pending-post", { hasText: "typed while offline" }).waitFor();
  await shot(pb, "chat-offline");

  blocked = false;
  await ctxB.setOffline(false);
  await pb.locator('#conn[data-state="online"]').waitFor({ timeout: 30000 });
  for (let i = 1; i <= 3; i++) await expectCount(pb, bodyWith(pb, `while you were away ${i}`), 1, `missed post ${i} on Bruno's page`);
  await expectCount(pb, bodyWith(pb, "typed while offline"), 1, "Bruno's offline post on his page");
  await expectCount(pa, bodyWith(pa, "typed while offline"), 1, "Bruno's offline post on Alice's page");
  await expectCount(pb, bodyWith(pb, "hello from Alice"), 1, "the first post after the replay");
  await expectCount(pb, pb.locator(".pending-post"), 0, "posts still pending");
  // A mention lights Bruno's notifications at once.
  await pa.fill("#composer", `@${b.handle} see you in Turin`);
  await pa.press("#composer", "Enter");
  await pb.locator("#unread-count", { hasText: "1" }).waitFor();
  await pb.click("#nav-notifications");
  await pb.locator("#notifications li.unread", { hasText: "see you in Turin" }).waitFor();
  await shot(pa, "chat-alice");
  await shot(pb, "chat-bruno-back");
  await ctxA.close();
  await ctxB.close();
};

scenarios["a Spanish post appears in English after a translator publishes it through the desk"] = async () => {
  const adminToken = await admin();
  const es = await user("carmen", ["es"]);
  const en = await user("edward", ["en"]);
  const tr = await user("teresa", ["es", "en"]);
  await call("PUT", `/users/${tr.user.id}/roles`, adminToken, { roles: ["translator"] });
  await call("PUT", "/me/translator", tr.token, { pairs: [{ from: "es", to: "en" }] });
  const general = await spaceId("general");
  const made = await call("POST", `/spaces/${general.id}/rooms`, es.token, {
    title: "Cooperativa de café",
    body: "La cooperativa de café de Puebla abre su tienda mañana",
    nonce: `es-${Date.now()}`,
    lang: "es",
  });
  const ctxEn = await context(en);
  const reader = await open(ctxEn, `#/room/${made.room.id}`);
  const post = reader.locator(`.post[data-post="${made.post.id}"]`);
  await post.locator(".awaiting").waitFor();
  await shot(reader, "translation-awaiting");

  const ctxTr = await context(tr);
  const desk = await open(ctxTr, "#/desk");
  const item = desk.locator(`.item[data-post="${made.post.id}"]`);
  await item.locator("button.claim").click();
  // A translation is Markdown too, and its markup as safe as a post's.
  await item.locator("textarea").fill('The Puebla **coffee** cooperative opens its shop tomorrow <img src=x onerror="window.__xss = 12">');
  await shot(desk, "translation-desk");
  await item.locator("button.submit").click();
  await desk.locator(".notice", { hasText: "Published" }).waitFor();
  await expectCount(desk, item, 0, "the published item left the queue");
  // The thread's title waits on the desk too, beside its first post.
  const titled = desk.locator(`.title-item[data-room="${made.room.id}"]`);
  await titled.locator(".thread-title", { hasText: "Cooperativa de café" }).waitFor();
  await titled.locator("input").fill("The coffee cooperative");
  await titled.locator("button.submit").click();
  await expectCount(desk, titled, 0, "the translated title left the queue");
  // Her work, the post and the title, is credited on the desk, beside each language's coverage.
  await desk.reload();
  await desk.locator("#translators li", { hasText: "teresa" }).filter({ hasText: "2 translations" }).waitFor();
  await desk.locator("#coverage th", { hasText: "English" }).waitFor();

  // A short answer in the thread comes with its context: the thread, its place, its
  // author, and what it answers with that one's translation.
  const reply = await call("POST", `/rooms/${made.room.id}/posts`, es.token, { body: "¡Sí, claro! Allí estaré.", nonce: `es2-${Date.now()}`, lang: "es" });
  await desk.reload();
  const next = desk.locator(`.item[data-post="${reply.id}"]`);
  await next.locator(".context", { hasText: "“Cooperativa de café”, post 2" }).waitFor();
  await next.locator(".context", { hasText: "General discussion" }).waitFor();
  await next.locator(".context", { hasText: "carmen" }).waitFor();
  await next.locator("button.claim").click();
  const earlier = next.locator(".before blockquote.earlier");
  await earlier.locator("p", { hasText: "La cooperativa de café de Puebla" }).waitFor();
  await earlier.locator("p.translated", { hasText: "coffee" }).waitFor();
  await shot(desk, "translation-desk-context");
  await next.locator("button.link", { hasText: "Release" }).click();
  // A sentence translated before comes back from the translation memory, filled in.
  const again = await call("POST", `/rooms/${made.room.id}/posts`, es.token, { body: "La cooperativa de café de Puebla abre su tienda mañana.", nonce: `again-${Date.now()}`, lang: "es" });
  await desk.reload();
  const repeat = desk.locator(`.item[data-post="${again.id}"]`);
  await repeat.locator("button.claim").click();
  await repeat.locator(".suggestions .suggestion", { hasText: "100%" }).waitFor();
  const filled = await repeat.locator("textarea").inputValue();
  assert(filled.startsWith("The Puebla **coffee** cooperative opens its shop tomorrow"), `the exact match fills the draft: ${filled}`);
  await shot(desk, "translation-memory");
  // The glossary's terms are marked in the original with their approved translations; a
  // draft that leaves one out is warned about, not refused.
  await repeat.locator(".original .body mark", { hasText: "cooperativa" }).waitFor();
  await repeat.locator(".glossary li", { hasText: "cooperative" }).waitFor();
  await repeat.locator("textarea").fill("Tomorrow the shop opens in Puebla.");
  await repeat.locator("button.submit").click();
  await repeat.locator("[role=alert]", { hasText: "not in your translation: cooperative" }).waitFor();
  await repeat.locator("button.submit", { hasText: "Publish anyway" }).waitFor();
  // A translator adds a pair of terms to the glossary from the desk.
  await repeat.locator(".glossary summary").click();
  await repeat.locator(".glossary input[lang=es]").fill("tienda solidaria");
  await repeat.locator(".glossary input[lang=en]").fill("solidarity shop");
  await repeat.locator(".glossary button.add-term").click();
  await repeat.locator(".glossary [role=status]", { hasText: "Added to the glossary" }).waitFor();
  const terms = await call("GET", "/glossary");
  assert(terms.some((c) => (c.terms.en || []).includes("solidarity shop")), "the new concept is in the glossary");
  await repeat.locator("button.link", { hasText: "Release" }).click();

  // Chat small talk waits only when a reader asks: "Translate this".
  const lobby = (await call("GET", "/spaces")).find((x) => x.slug === "lobby");
  const hola = await call("POST", `/rooms/${lobby.room}/posts`, es.token, { body: "¡Hola a todos!", nonce: `hola-${Date.now()}`, lang: "es" });
  await desk.reload();
  await desk.locator(`.item[data-post="${reply.id}"]`).waitFor(); // the queue is shown
  assert((await desk.locator(`.item[data-post="${hola.id}"]`).count()) === 0, "small talk stays out of the queue");
  const chat = await open(ctxEn, `#/room/${lobby.room}`);
  const line = chat.locator(`.post[data-post="${hola.id}"]`);
  await line.locator("button.request", { hasText: "Translate this" }).click();
  await line.locator(".note", { hasText: "Translation requested." }).waitFor();
  // Another English reader sees that it was asked for.
  const ctxOlga = await context(await user("olga", ["en"]));
  const olga = await open(ctxOlga, `#/room/${lobby.room}`);
  await olga.locator(`.post[data-post="${hola.id}"] .requested`, { hasText: "Translation requested." }).waitFor();
  assert((await olga.locator(`.post[data-post="${hola.id}"] button.request`).count()) === 0, "asked once is enough");
  await ctxOlga.close();
  await desk.reload();
  await desk.locator(`.item[data-post="${hola.id}"] .context`, { hasText: "in the chat" }).waitFor();

  const body = post.locator(".body");
  await body.filter({ hasText: "coffee cooperative opens" }).waitFor();
  assert((await body.getAttribute("lang")) === "en", "the translation carries lang=en");
  await body.locator("strong", { hasText: "coffee" }).waitFor();
  await expectCount(reader, body.locator("img"), 0, "an image from a translation");
  assert((await reader.evaluate(() => window.__xss)) === undefined, "no script ran from a translation");
  await post.locator(".note", { hasText: "teresa" }).waitFor();
  await shot(reader, "translation-shown");
  await post.locator("button.toggle").click();
  await body.filter({ hasText: "La cooperativa de café" }).waitFor();
  assert((await body.getAttribute("lang")) === "es", "the original carries lang=es");
  // The title in English, the original a click away.
  await reader.reload();
  const heading = reader.locator("h1");
  await heading.filter({ hasText: "The coffee cooperative" }).waitFor();
  assert((await heading.getAttribute("lang")) === "en", "the translated title carries lang=en");
  await reader.click("#title-toggle");
  await heading.filter({ hasText: "Cooperativa de café" }).waitFor();
  assert((await heading.getAttribute("lang")) === "es", "the original title carries lang=es");
  await reader.goto(`${base}/#/space/${general.id}`);
  await reader.locator(`.threads a[href="#/room/${made.room.id}"]`, { hasText: "The coffee cooperative" }).waitFor();
  // A document's title and description wait on the desk too, and its library shows them
  // in the reader's language once given.
  const up = await fetch(`${base}/api/v1/files?name=programa.txt`, { method: "POST", headers: { Authorization: `Bearer ${es.token}` }, body: "Programa de la feria del café" });
  const file = await up.json();
  await call("POST", `/rooms/${made.room.id}/posts`, es.token, { body: "El programa", nonce: `f-${Date.now()}`, files: [file.id], lang: "es" });
  await call("PATCH", `/files/${file.id}`, es.token, { title: "Programa de la feria del café de Puebla", description: "Los horarios y los puestos de la feria" });
  await desk.reload();
  const doc = desk.locator(`#desk-files li[data-file="${file.id}"]`);
  await doc.locator("h3", { hasText: "Programa de la feria" }).waitFor();
  await doc.locator("input").fill("Programme of the Puebla coffee fair");
  await doc.locator("textarea").fill("The fair's times and stands");
  await doc.locator("button.submit").click();
  await expectCount(desk, doc, 0, "the translated document left the desk");
  await reader.goto(`${base}/#/library/${general.id}`);
  await reader.locator("#library button.file-name", { hasText: "Programme of the Puebla coffee fair" }).waitFor();
  // Pairs are chosen from lists of languages, named in the interface's language.
  const prof = await open(ctxTr, "#/profile");
  await prof.locator("#pairs-list li").first().waitFor();
  assert((await prof.inputValue("#pairs-list li:first-child .pair-from")) === "es", "the pair she has");
  assert(
    (await prof.locator("#pairs-list li:first-child .pair-from option[value=es]").textContent()) === "Spanish",
    "languages named in the interface's language",
  );
  await prof.click("#add-pair");
  await prof.selectOption("#pairs-list li:last-child .pair-from", "pt");
  await prof.selectOption("#pairs-list li:last-child .pair-to", "en");
  await prof.click("#pairs-form button[type=submit]");
  await prof.locator("[role=status]", { hasText: "Saved" }).waitFor();
  const saved = await call("GET", "/me", tr.token);
  assert(saved.translator_pairs.some((p) => p.from === "pt" && p.to === "en"), `pairs saved: ${JSON.stringify(saved.translator_pairs)}`);
  assert((await prof.locator("#pairs-list li:last-child .pair-to option[value=it]").count()) === 0, "into community languages only");
  // She pauses her queue: the desk offers nothing until she resumes.
  await prof.check("#pairs-paused");
  await prof.click("#pairs-form button[type=submit]");
  await prof.locator("[role=status]", { hasText: "Saved" }).waitFor();
  assert((await call("GET", "/translations/queue?to=en", tr.token)).length === 0, "a paused queue lists nothing");
  await prof.goto(`${base}/#/desk`);
  await prof.locator("#desk-paused").waitFor();
  await prof.goto(`${base}/#/profile`);
  await prof.uncheck("#pairs-paused");
  await prof.click("#pairs-form button[type=submit]");
  await prof.locator("[role=status]", { hasText: "Saved" }).waitFor();
  assert((await call("GET", "/translations/queue?to=en", tr.token)).length > 0, "resumed");
  await ctxEn.close();
  await ctxTr.close();
};

scenarios["a search in Portuguese finds a French thread"] = async () => {
  const fr = await user("fatou", ["fr"]);
  const general = await spaceId("general");
  await call("POST", `/spaces/${general.id}/rooms`, fr.token, {
    title: "Les coopératives de femmes à Thiès",
    body: "Au Sénégal, les coopératives de femmes transforment le mil et le fonio.",
    nonce: `fr-${Date.now()}`,
    lang: "fr",
  });
  const ctx = await context(null, { ui: "pt", locale: "pt-PT" });
  const page = await open(ctx, "#/search");
  const hit = page.locator(".hit", { hasText: "Thiès" });
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    await page.fill("#search-q", "cooperativas de mulheres");
    await page.click("#search-form button[type=submit]");
    await page.locator("#search-total").waitFor();
    if ((await hit.count()) > 0) break;
    assert(Date.now() < deadline, "the French thread was never found");
    await page.goto(`${base}/#/search`);
    await page.waitForTimeout(200);
  }
  assert((await hit.locator(".tag.lang").first().textContent()) === "fr", "matched_lang is fr");
  const marks = await hit.locator("mark").allTextContents();
  assert(marks.includes("coopératives") && marks.includes("femmes"), `marked words: ${marks}`);
  assert((await hit.locator(".snippet").getAttribute("lang")) === "fr", "the snippet carries lang=fr");
  await shot(page, "search-pt-finds-fr");
  await ctx.close();
};

scenarios["the interface follows the browser's language and switches to French"] = async () => {
  const ctx = await browser.newContext({ locale: "pt-BR" });
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(`${base}/#/`);
  await page.locator("#nav a", { hasText: "Pesquisar" }).waitFor();
  assert((await page.locator("html").getAttribute("lang")) === "pt", "html lang=pt");
  await page.selectOption("#ui-lang", "fr");
  await page.locator("#nav a", { hasText: "Recherche" }).waitFor();
  await page.locator("h1", { hasText: "Espaces" }).waitFor();
  assert((await page.locator("html").getAttribute("lang")) === "fr", "html lang=fr");
  // The skip link (the first thing Tab reaches on a page) moves focus to the content and
  // leaves the page as it is.
  await page.reload();
  await page.locator("h1", { hasText: "Espaces" }).waitFor();
  const before = page.url();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  assert(page.url() === before, `the skip link keeps the route (${page.url()})`);
  await page.locator("h1", { hasText: "Espaces" }).waitFor();
  assert((await page.evaluate(() => document.activeElement && document.activeElement.id)) === "view", "focus is on the content");
  // A guest reads the server's welcome (GET /config) in the interface's language.
  const config = await call("GET", "/config");
  await page.locator("#welcome", { hasText: config.welcome.fr.slice(0, 40) }).waitFor();
  assert((await page.title()).endsWith(config.name), "the title names the community");
  await page.reload();
  await page.locator("#nav a", { hasText: "Recherche" }).waitFor();
  // A wrong password is told in French.
  await page.goto(`${base}/#/signin`);
  await page.fill("#in-handle", "nobody-here");
  await page.fill("#in-password", "not the password");
  await page.click("#signin-form button[type=submit]");
  await page.locator(".error", { hasText: "Identifiant ou mot de passe incorrect" }).waitFor();
  // A refused sign-up says why in French, next to the field at fault.
  await page.goto(`${base}/#/signin`);
  await page.fill("#up-handle", "ab");
  await page.fill("#up-password", "a phrase of several words");
  await page.click("#signup-form button[type=submit]");
  await page.locator("#up-handle-error", { hasText: "Un identifiant a de 3 à 32 caractères" }).waitFor();
  assert((await page.getAttribute("#up-handle", "aria-invalid")) === "true", "the field is marked invalid");
  // So does a display name refused on the profile page.
  const fr = await user("francoise", ["fr"]);
  const frCtx = await context(fr, { ui: "fr", locale: "fr-FR" });
  const prof = await open(frCtx, "#/profile");
  await prof.fill("#profile-name", "\u200b\u200b");
  await prof.click("#profile-form button[type=submit]");
  await prof.locator("#profile-name-error", { hasText: "Ce nom ne peut pas être utilisé" }).waitFor();
  await frCtx.close();
  await shot(page, "interface-fr");
  await ctx.close();
};

scenarios["posts are Markdown rendered safely: HTML shows as text, links are safe, nothing runs"] = async () => {
  const m = await user("mallory", ["en"]);
  const lobby = await spaceId("lobby");
  const attacks = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '<a href="javascript:window.__xss=3">click</a>',
    '<svg onload="window.__xss = 4"><circle r="5"/></svg>',
  ];
  const tricks = [
    "[click me](javascript:window.__xss=5)",
    "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9Njwvc2NyaXB0Pg==)",
    '<b onmouseover="window.__xss=7">hover</b> and <<script>script>window.__xss=8<</script>/script>',
  ];
  const markdown = "**Bom dia**, see [the ILO](https://www.ilo.org/) and `code`";
  const all = [...attacks, ...tricks, markdown];
  for (const [i, body] of all.entries()) {
    await call("POST", `/rooms/${lobby.room}/posts`, m.token, { body, nonce: `xss-${i}-${Date.now()}`, lang: "en" });
  }
  const ctx = await context(m);
  const page = await open(ctx, `#/room/${lobby.room}`);
  for (const body of attacks) {
    const el = page.locator(".post .body").filter({ hasText: body });
    await el.first().waitFor();
    assert((await el.first().textContent()).trim() === body, `shown as text: ${body}`);
  }
  // Markdown becomes markup: emphasis, code, and a link that opens a new tab safely.
  const md = page.locator(".post .body strong", { hasText: "Bom dia" });
  await md.first().waitFor();
  const link = page.locator('.post .body a[href="https://www.ilo.org/"]');
  assert((await link.getAttribute("target")) === "_blank", "links open in a new tab");
  assert((await link.getAttribute("rel")) === "nofollow noopener ugc", "links carry rel=nofollow noopener ugc");
  await page.locator(".post .body", { hasText: "click me" }).first().waitFor();
  await expectCount(
    page,
    page.locator(".posts img, .posts script, .posts svg, .posts iframe, .posts [onmouseover], .posts [onerror], .posts [onload]"),
    0,
    "elements or handlers made from post text",
  );
  await expectCount(page, page.locator('.posts a[href^="javascript"], .posts a[href^="data"], .posts a[href^="JaVa"]'), 0, "active links");
  await page.locator(".post .body", { hasText: "hover" }).first().hover();
  await page.locator(".post .body", { hasText: "click me" }).first().click();
  assert((await page.evaluate(() => window.__xss)) === undefined, "no script ran");
  assert(!page.sawDialog, "no dialog opened");
  // A display name and a thread title are text wherever they show.
  const nameAttack = '<img src=x onerror="window.__xss = 10">';
  const evil = await call("POST", "/auth/register", null, {
    handle: `evil${Date.now() % 100000}`,
    password: "a long password",
    display_name: nameAttack,
  });
  await call("POST", `/rooms/${lobby.room}/posts`, evil.token, { body: "hello from evil", nonce: `evil-${Date.now()}`, lang: "en" });
  const general = await spaceId("general");
  const titleAttack = '<svg onload="window.__xss = 11"></svg><b>bold title</b>';
  await call("POST", `/spaces/${general.id}/rooms`, evil.token, { title: titleAttack, body: "a thread", nonce: `evil-t-${Date.now()}` });
  await page.locator(".post .author", { hasText: nameAttack }).first().waitFor();
  await page.goto(`${base}/#/space/${general.id}`);
  await page.locator("a", { hasText: titleAttack }).first().waitFor();
  await expectCount(page, page.locator("main img, main svg, main b"), 0, "elements made from names and titles");
  assert((await page.evaluate(() => window.__xss)) === undefined, "no script ran from a name or a title");
  await page.goto(`${base}/#/room/${lobby.room}`);
  // Search snippets are text too.
  await page.goto(`${base}/#/search?q=onerror`);
  await page.locator("#search-total").waitFor();
  assert((await page.evaluate(() => window.__xss)) === undefined, "no script ran from a snippet");
  await expectCount(page, page.locator("#results img"), 0, "images in search results");
  await shot(page, "xss-as-text");
  await ctx.close();
};

scenarios["members reply, react, edit and delete, live on each other's pages"] = async () => {
  const a = await user("carla", ["en"]);
  const b = await user("diego", ["en"]);
  const general = await spaceId("general");
  const made = await call("POST", `/spaces/${general.id}/rooms`, a.token, {
    title: "Solidarity finance",
    body: "Who has the **guide**?",
    nonce: `t-${Date.now()}`,
  });
  const room = made.room.id;
  // A thread of one post says so in the singular.
  const ps = await open(await context(a), `#/space/${general.id}`);
  await ps.locator("li", { hasText: "Solidarity finance" }).locator(".meta", { hasText: /^1 post ·/ }).waitFor();
  await ps.close();
  const pa = await open(await context(a), `#/room/${room}`);
  const pb = await open(await context(b), `#/room/${room}`);
  // From the room's heading, the composer is one link away.
  await pb.locator("a.to-composer").click();
  assert((await pb.evaluate(() => document.activeElement.id)) === "composer", "the link focuses the composer");
  // "@" offers the room's participants; Enter takes the one chosen.
  await pb.fill("#composer", "Thanks @car");
  await pb.locator("#composer-mentions [role=option]", { hasText: `@${a.user.handle}` }).waitFor();
  await pb.press("#composer", "Enter");
  assert((await pb.inputValue("#composer")) === `Thanks @${a.user.handle} `, "the handle is inserted, nothing sent");
  await pb.fill("#composer", "");
  // Diego replies, quoting: the reply links to the original.
  await pb.locator(".post", { hasText: "Who has the" }).first().locator("button.reply").click();
  await pb.locator(".replying", { hasText: "carla" }).waitFor();
  assert((await pb.inputValue("#composer")).startsWith("> Who has the **guide**?"), "the reply quotes the original");
  await pb.fill("#composer", `${await pb.inputValue("#composer")}I do, @${a.user.handle}: [here](https://www.ilo.org/)`);
  await pb.press("#composer", "Enter");
  const reply = pa.locator(".post", { hasText: "I do," });
  await reply.locator(".reply-to").waitFor();
  // It mentions Carla: on her page it is marked, and her handle is a link.
  await pa.locator(".post.mentions-me", { hasText: "I do," }).locator("a.mention").waitFor();
  await reply.locator("blockquote", { hasText: "Who has the" }).waitFor();
  // Carla reacts to it; Diego sees the count live; Carla's own reaction is marked.
  await reply.hover();
  await reply.locator('button.reaction[aria-label="React with 👍"]').click();
  await pb.locator(".post", { hasText: "I do," }).locator("button.reaction", { hasText: "👍 1" }).waitFor();
  await reply.locator("button.reaction.mine", { hasText: "👍 1" }).waitFor();
  // Still hers after a reload: the server says which reactions are the reader's.
  await pa.reload();
  await pa.locator(".post", { hasText: "I do," }).locator("button.reaction.mine", { hasText: "👍 1" }).waitFor();
  // Carla edits her post; Diego sees the new text live.
  await pa.locator(".post", { hasText: "Who has the" }).first().locator("button.edit").click();
  await pa.fill(".edit-body", "Who has the **new** guide?");
  await pa.click(".edit-form button[type=submit]");
  await pb.locator(".post .body strong", { hasText: "new" }).waitFor();
  // "(edited)" opens the earlier versions.
  await pb.locator(".post", { hasText: "Who has the" }).first().locator("button.edited").click();
  await pb.locator(".history li .body strong", { hasText: "guide" }).waitFor();
  // Diego deletes his reply; it goes from Carla's page too.
  pb.acceptNext = true;
  await pb.locator(".post", { hasText: "I do," }).locator("button.delete").click();
  await expectCount(pa, pa.locator(".post", { hasText: "I do," }), 0, "the deleted reply's text");
  await pa.locator(".post .body.deleted").first().waitFor();
  assert(!pa.sawDialog && !pb.sawDialog, "no unexpected dialog");
  await shot(pa, "post-actions");
  // Diego leaves; Carla writes on; Diego comes back to the first post he has not read,
  // under a "New" line, with the way back to the space above.
  await pb.close();
  for (let i = 1; i <= 3; i++) {
    await call("POST", `/rooms/${room}/posts`, a.token, { body: `after you left ${i}`, nonce: `left-${i}`, lang: "en" });
  }
  const back = await open(await context(b), `#/room/${room}`);
  await back.locator("#new-divider + .post", { hasText: "after you left 1" }).waitFor();
  await back.locator(".crumbs a", { hasText: "General" }).waitFor();
  // Moving to another page puts focus on its heading.
  await back.locator(".crumbs a").click();
  await back.locator("h1", { hasText: "General" }).waitFor();
  // The heading shows before the page has loaded its threads; focus moves once it has.
  const focused = await back
    .waitForFunction(() => document.activeElement.tagName === "H1", null, { timeout: 5000 })
    .then(() => true, () => false);
  assert(focused, "focus on the new page's heading");
};

scenarios["a chat room opens at its newest, loads older ones, and follows new ones"] = async () => {
  const adminToken = await admin();
  const a = await user("elena", ["en"]);
  const b = await user("fatou", ["en"]);
  const space = await chatSpace(adminToken, "chat", "Busy chat");
  const roomId = space.room;
  for (let i = 1; i <= 130; i++) {
    await call("POST", `/rooms/${roomId}/posts`, a.token, { body: `line ${i} of the day`, nonce: `c-${i}`, lang: "en" });
  }
  const pb = await open(await context(b), `#/room/${roomId}`);
  await bodyWith(pb, "line 130 of the day").waitFor();
  await expectCount(pb, bodyWith(pb, "line 1 of the day"), 0, "the oldest line, not loaded");
  await expectCount(pb, pb.locator(".post"), 50, "posts on opening");
  assert(
    await pb.evaluate(() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150),
    "the room opens at the bottom",
  );
  // Consecutive lines of one author read as one block.
  assert((await pb.locator(".post.grouped").count()) >= 40, "consecutive posts grouped");
  // Earlier ones on request, in order above.
  await pb.click("#older");
  await bodyWith(pb, "line 80 of the day").waitFor();
  // At least the 50 before, in order above; left at the top (a slow page may be), the
  // reader gets the rest by itself as well.
  const order = await pb.locator(".post .body").allTextContents();
  const lines = order.map((t) => Number((/line (\d+) /.exec(t) || [])[1]));
  assert(order.length === 100 || order.length === 130, `posts after loading older ones: ${order.length}`);
  assert(lines.every((n, i) => i === 0 || n === lines[i - 1] + 1) && lines[lines.length - 1] === 130, `in order: ${lines[0]} .. ${lines[lines.length - 1]}`);
  assert(lines[0] <= 31, `the 50 before loaded: from ${lines[0]}`);
  // Scrolling up to the top loads the rest by itself.
  // Scrolled up, a new line does not pull the reader down: a button says it came.
  await pb.evaluate(() => window.scrollTo(0, 0));
  await bodyWith(pb, "line 1 of the day").waitFor();
  await pb.locator("#older").waitFor({ state: "hidden" });
  await call("POST", `/rooms/${roomId}/posts`, a.token, { body: "a new line arrives", nonce: "c-new", lang: "en" });
  await bodyWith(pb, "a new line arrives").waitFor();
  await pb.locator("#jump", { hasText: "1 new message" }).waitFor();
  const arrived = await bodyWith(pb, "a new line arrives").boundingBox();
  assert(arrived && arrived.y > pb.viewportSize().height, "the reader was not pulled down to it");
  await pb.click("#jump");
  await pb.locator("#jump").waitFor({ state: "hidden" });
  assert(
    await pb.evaluate(() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150),
    "the button jumps to the newest",
  );
  await shot(pb, "chat-window");
  // A link to an old post opens the room there, the post highlighted.
  const early = (await call("GET", `/rooms/${roomId}/posts?after_seq=0&limit=20`)).find((p) => p.body === "line 10 of the day");
  await pb.goto(`${base}/#/p/${early.id}`);
  await pb.locator(".post.highlight", { hasText: "line 10 of the day" }).waitFor();
  await bodyWith(pb, "line 11 of the day").waitFor();
  // Away and back: a "New" line marks where Fatou stopped reading, the newest in view.
  await pb.goto("about:blank");
  await call("POST", `/rooms/${roomId}/posts`, a.token, { body: "while you were gone", nonce: "c-gone", lang: "en" });
  await pb.goto(`${base}/#/room/${roomId}`);
  await pb.locator("#new-divider + .post", { hasText: "while you were gone" }).waitFor();
};

scenarios["light on a slow link: the client's bytes at 400 kbit/s and 400 ms"] = async () => {
  // A busy chat to open at the end: 2,001 messages.
  const adminToken = await admin();
  const g = await user("gloria", ["en"]);
  const chat = await chatSpace(adminToken, "big", "Big chat");
  for (let i = 0; i < 2000; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        call("POST", `/rooms/${chat.room}/posts`, g.token, { body: `message ${i + j + 1}`, nonce: `big-${i + j}`, lang: "en" }),
      ),
    );
  }
  // The newest, after all of them.
  await call("POST", `/rooms/${chat.room}/posts`, g.token, { body: "the last message", nonce: "big-last", lang: "en" });
  const ctx = await context(g);
  const page = await ctx.newPage();
  page.setDefaultTimeout(30000);
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 400,
    downloadThroughput: 400_000 / 8,
    uploadThroughput: 400_000 / 8,
  });
  const responses = new Map();
  cdp.on("Network.responseReceived", (e) => responses.set(e.requestId, { url: e.response.url, status: e.response.status }));
  cdp.on("Network.loadingFinished", (e) => {
    const r = responses.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  const clientBytes = () =>
    [...responses.values()].filter((r) => !r.url.includes("/api/") && !r.url.includes("/ws")).reduce((n, r) => n + (r.bytes || 0), 0);
  let started = Date.now();
  await page.goto(`${base}/#/`);
  await page.locator("ul.spaces li").first().waitFor();
  const first = { bytes: clientBytes(), ms: Date.now() - started };
  responses.clear();
  started = Date.now();
  await page.goto("about:blank");
  await page.goto(`${base}/#/`);
  await page.locator("ul.spaces li").first().waitFor();
  const repeat = { bytes: clientBytes(), ms: Date.now() - started };
  started = Date.now();
  await page.goto(`${base}/#/room/${chat.room}`);
  await bodyWith(page, "the last message").waitFor();
  const chatMs = Date.now() - started;
  console.log(
    `BUDGET first visit: client ${first.bytes} bytes, spaces shown in ${first.ms} ms; repeat visit: client ${repeat.bytes} bytes, ${repeat.ms} ms; chat of 2,000: newest shown in ${chatMs} ms`,
  );
  assert(first.bytes <= 30 * 1024, `first visit: ${first.bytes} bytes of client, over 30 KB`);
  assert(repeat.bytes <= 5 * 1024, `repeat visit: ${repeat.bytes} bytes of client, over 5 KB`);
  await ctx.close();
};

scenarios["every screen passes axe-core with no serious or critical violation"] = async () => {
  const t = await user("tomas", ["en", "fr"]);
  await call("PUT", "/me/translator", t.token, { pairs: [{ from: "en", to: "fr" }] }).catch(() => {});
  const general = await spaceId("general");
  const lobby = await spaceId("lobby");
  const made = await call("POST", `/spaces/${general.id}/rooms`, t.token, { title: "Accessible thread", body: "A **first** post", nonce: `a11y-${Date.now()}` });
  const screens = [
    [null, "#/"],
    [null, "#/signin"],
    [t, "#/"],
    [t, `#/space/${general.id}`],
    [t, `#/room/${made.room.id}`],
    [t, `#/room/${lobby.room}`],
    [t, "#/search?q=post"],
    [t, "#/desk"],
    [t, "#/profile"],
    [t, "#/notifications"],
    [{ token: await admin() }, "#/admin"],
    [t, "#/people"],
    [t, `#/u/${t.handle}`],
  ];
  const found = [];
  for (const [who, hash] of screens) {
    // axe is injected as a script of the page, which the client's CSP would refuse.
    const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 800 } });
    if (who) await ctx.addInitScript((token) => localStorage.setItem("cb.token", token), who.token);
    const page = await ctx.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(`${base}/${hash}`);
    await page.locator('#conn[data-state="online"]').waitFor();
    await page.locator("main h1").first().waitFor();
    await page.waitForTimeout(300);
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
    });
    for (const v of result) found.push(`${hash}${who ? "" : " (guest)"}: ${v}`);
    await ctx.close();
  }
  assert(found.length === 0, `axe-core found:\n${found.join("\n")}`);
};

scenarios["a member flags a post and a moderator hides it, live on the member's page"] = async () => {
  const adminToken = await admin();
  const m = await user("marta", ["en"]);
  const spam = await user("spammer", ["en"]);
  const mod = await user("moderadora", ["en"]);
  await call("PUT", `/users/${mod.user.id}/roles`, adminToken, { roles: ["moderator"] });
  const lobby = await spaceId("lobby");
  const p = await call("POST", `/rooms/${lobby.room}/posts`, spam.token, { body: "cheap followers zzbuy", nonce: `spam-${Date.now()}`, lang: "en" });
  const ctxM = await context(m);
  const page = await open(ctxM, `#/room/${lobby.room}`);
  const post = page.locator(`.post[data-post="${p.id}"]`);
  // In a chat a post's buttons show when it is pointed at.
  await post.hover();
  await post.locator("button.flag").click();
  await post.locator(".flag-form input").fill("spam");
  await post.locator(".flag-form button[type=submit]").click();
  await post.locator(".meta", { hasText: "Flagged" }).waitFor();
  const review = await call("GET", "/moderation/review", mod.token);
  assert(review.some((r) => r.post.id === p.id && r.flags.some((f) => f.reason === "spam")), "the flag reached the review list");
  const ctxMod = await context(mod);
  const mp = await open(ctxMod, `#/room/${lobby.room}`);
  await mp.locator(`.post[data-post="${p.id}"]`).hover();
  await mp.locator(`.post[data-post="${p.id}"] button.moderate`).click();
  await post.locator(".deleted", { hasText: "Hidden by a moderator" }).waitFor();
  await expectCount(page, bodyWith(page, "zzbuy"), 0, "the hidden text on the member's page");
  await shot(page, "moderation-hidden");
  await mp.locator(`.post[data-post="${p.id}"]`).hover();
  await mp.locator(`.post[data-post="${p.id}"] button.moderate`, { hasText: "Restore" }).click();
  await bodyWith(page, "zzbuy").waitFor();
  await ctxM.close();
  await ctxMod.close();
};

scenarios["the layout works at 360 px and every control is labelled"] = async () => {
  const u = await user("phone", ["pt"]);
  const ctx = await context(u, { width: 360, ui: "pt" });
  const lobby = await spaceId("lobby");
  for (const hash of ["#/", `#/room/${lobby.room}`, "#/search", "#/profile"]) {
    const page = await open(ctx, hash);
    await page.locator("h1").waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(wide <= 360, `${hash}: ${wide} px wide at 360`);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, textarea")]
        .filter((el) => el.type !== "hidden" && !el.closest("label") && !(el.id && document.querySelector(`label[for="${el.id}"]`)))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert(unlabelled.length === 0, `${hash}: unlabelled controls ${unlabelled}`);
    // The header stays in view, compact; in a room the composer is within thumb's reach.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const header = await page.locator("header.top").boundingBox();
    assert(header && header.y >= -1 && header.height <= 100, `${hash}: header ${JSON.stringify(header)}`);
    if (hash.startsWith("#/room/")) {
      const composer = await page.locator("#composer").boundingBox();
      const height = page.viewportSize().height;
      assert(composer && composer.y + composer.height <= height + 1, `${hash}: composer out of view ${JSON.stringify(composer)}`);
    }
    await shot(page, `phone-${hash.replace(/[^a-z]/g, "") || "home"}`);
    await page.close();
  }
  await ctx.close();
};

scenarios["an admin opens a cohort from the browser: a welcome, an invitation link into a working group, an approval"] = async () => {
  const adminToken = await admin();
  const group = await call("POST", "/spaces", adminToken, {
    slug: `academy${Date.now() % 100000}`,
    name: "Académie 2027",
    kind: "forum",
    visibility: "private",
    post_policy: "members",
  });
  const ctxAdmin = await context({ token: adminToken }, { ui: "fr" });
  try {
    const pa = await open(ctxAdmin, "#/admin");
    await pa.locator("#community-form").waitFor();
    await pa.selectOption("#community-signup", "invite");
    await pa.fill("#welcome-fr", "Bienvenue à la promotion 2027 de l'Académie !");
    await pa.click("#community-form button[type=submit]");
    await pa.locator("#community-form [role=status]", { hasText: "Enregistré" }).waitFor();
    const general = pa.locator("#spaces-edit details", { hasText: "General discussion" });
    await general.locator("summary").click();
    await general.locator("textarea[data-lang=fr]").fill("Tout ce qui touche à l'ESS, dans toutes les langues.");
    await general.locator("button[type=submit]").click();
    await general.locator("[role=status]", { hasText: "Enregistré" }).waitFor();
    await pa.fill("#invite-label", "Promotion 2027");
    await pa.locator(`input[name=invite-space][value="${group.id}"]`).check();
    await pa.fill("#invite-max", "5");
    await pa.click("#invite-form button[type=submit]");
    const row = pa.locator("#invites li.invite", { hasText: "Promotion 2027" });
    await row.waitFor();
    const link = await row.locator(".invite-link").inputValue();
    assert(/#\/join\/[\w-]+$/.test(link), `an invitation link: ${link}`);
    await shot(pa, "admin-cohort");

    // A guest reads the French welcome and that joining is by invitation, then follows the link.
    const ctxGuest = await context(null, { ui: "fr" });
    const pg = await open(ctxGuest, "#/");
    await pg.locator("#welcome", { hasText: "promotion 2027" }).waitFor();
    await pg.locator("#join-how", { hasText: "invitation" }).waitFor();
    await pg.locator("ul.spaces li", { hasText: "Tout ce qui touche à l'ESS" }).waitFor();
    await pg.goto(link);
    await pg.locator("#up-invite").waitFor();
    const handle = `ama${Date.now() % 100000}`;
    await pg.fill("#up-handle", handle);
    await pg.fill("#up-password", "a long password");
    await pg.click("#signup-form button[type=submit]");
    await pg.locator("#nav-notifications").waitFor();
    await pg.goto(`${base}/#/space/${group.id}`);
    await pg.locator("main h1", { hasText: "Académie 2027" }).waitFor();
    await shot(pg, "joined-by-invitation");
    await ctxGuest.close();

    // With approval, a newcomer waits; a moderator lets them in from the same page.
    await call("PATCH", "/config", adminToken, { signup: "approval" });
    const ctxNew = await context(null, { ui: "pt" });
    const pn = await open(ctxNew, "#/signin");
    const waiting = `ines${Date.now() % 100000}`;
    await pn.fill("#up-handle", waiting);
    await pn.fill("#up-password", "a long password");
    await pn.click("#signup-form button[type=submit]");
    await pn.locator("#pending", { hasText: "aprovação" }).waitFor();
    await ctxNew.close();
    await pa.reload();
    const pending = pa.locator("#signups li.signup", { hasText: waiting });
    await pending.waitFor();
    await pending.locator("button.approve").click();
    await pa.locator("#signups-card [role=status]", { hasText: waiting }).waitFor();
    const login = await call("POST", "/auth/login", null, { handle: waiting, password: "a long password" });
    assert(login.token, "the approved member signs in");
  } finally {
    await call("PATCH", "/config", adminToken, { signup: "open", welcome: { fr: "" } });
    const g = await spaceId("general");
    await call("PATCH", `/spaces/${g.id}`, adminToken, { descriptions: {} });
    await ctxAdmin.close();
  }
};

scenarios["a member describes their work in French and a peer finds them in English"] = async () => {
  const awa = await user("awa", ["fr"]);
  const ctxA = await context(awa, { ui: "fr" });
  const pa = await open(ctxA, "#/profile");
  await pa.locator("#profile-form").waitFor();
  await pa.fill("#profile-country", "SN");
  await pa.fill("#profile-org", "Réseau des coopératives de Thiès");
  await pa.fill("#profile-expertise", "Économie sociale, droit coopératif");
  await pa.fill("#profile-editions", "Agadir 2013");
  await pa.fill("#profile-bio", "Juriste, **coopératives** agricoles.");
  await pa.click("#profile-form button[type=submit]");
  await pa.locator("[role=status]", { hasText: "Enregistré" }).waitFor();
  await pa.fill("#profile-country", "Sénégal");
  await pa.click("#profile-form button[type=submit]");
  await pa.locator("#profile-form .field-error", { hasText: "deux lettres" }).waitFor();
  // A picture: an image uploaded from the profile page, shown instead of initials.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
  await pa.locator("#picture").setInputFiles({ name: "awa.png", mimeType: "image/png", buffer: png });
  await pa.locator(".picture .avatar.big img").waitFor();
  await pa.waitForFunction(() => {
    const img = document.querySelector(".picture .avatar.big img");
    return img && img.complete && img.naturalWidth === 256;
  }, null, { timeout: TIMEOUT });
  await shot(pa, "profile-fr");
  await ctxA.close();

  const kim = await user("kim", ["en", "ko"]);
  const ctxK = await context(kim, { ui: "en" });
  const pk = await open(ctxK, "#/people");
  await pk.fill("#people-q", "social economy");
  await pk.click("#directory-form button[type=submit]");
  const found = pk.locator("#people li.person", { hasText: "awa" });
  await found.waitFor();
  await found.locator(".expertise", { hasText: "Économie sociale" }).waitFor();
  await pk.fill("#people-q", "nobody-by-that-name");
  await pk.click("#directory-form button[type=submit]");
  await pk.locator("main [role=status]", { hasText: "Nobody matches" }).waitFor();
  await pk.goto(`${base}/#/u/${awa.handle}`);
  await pk.locator("main h1", { hasText: "awa" }).waitFor();
  await pk.locator("dl.facts dd", { hasText: "Senegal" }).waitFor();
  await pk.locator(".bio strong", { hasText: "coopératives" }).waitFor();
  await shot(pk, "person-en");

  // Kim writes to Awa privately; Awa finds the conversation on her home page.
  await pk.click("#message-person");
  await pk.locator("#composer").waitFor();
  await pk.fill("#composer", "Hello Awa, about cooperative law in Senegal");
  await pk.press("#composer", "Enter");
  await bodyWith(pk, "about cooperative law").waitFor();
  const ctxA2 = await context(awa, { ui: "fr" });
  const pa2 = await open(ctxA2, "#/");
  const dm = pa2.locator("#dms a", { hasText: "kim" });
  await dm.waitFor();
  await dm.click();
  await bodyWith(pa2, "about cooperative law").waitFor();
  await shot(pa2, "direct-conversation");
  await ctxA2.close();
  await ctxK.close();
};

scenarios["a member downloads their data and deletes their account"] = async () => {
  const leo = await user("leo", ["es"]);
  await call("POST", `/spaces/${(await spaceId("general")).id}/rooms`, leo.token, { title: "Hasta pronto", body: "Mi último mensaje", nonce: `leo-${Date.now()}` });
  const ctx = await context(leo, { ui: "es" });
  const page = await open(ctx, "#/profile");
  await page.locator("#my-data").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-me")]);
  const path = await download.path();
  const data = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(path, "utf8")));
  assert(data.user.handle === leo.handle && data.posts[0].post.body === "Mi último mensaje", `the export: ${JSON.stringify(data).slice(0, 200)}`);
  await page.fill("#erase-password", "not my password");
  await page.click("#erase-form button[type=submit]");
  await page.locator("#erase-form .field-error").waitFor();
  await page.fill("#erase-password", "a long password");
  await page.click("#erase-form button[type=submit]");
  await page.locator("#nav a[href='#/signin']").waitFor();
  let refused = false;
  await call("POST", "/auth/login", null, { handle: leo.handle, password: "a long password" }).catch(() => (refused = true));
  assert(refused, "the erased account signs in no more");
  await ctx.close();
};

scenarios["staff set up a working group with its coordinator and moderate from the browser"] = async () => {
  const adminToken = await admin();
  const [coord, member, troll] = [await user("nia", ["en"]), await user("omar", ["fr"]), await user("troll", ["en"])];
  const ctxAdmin = await context({ token: adminToken }, { ui: "en" });
  const pa = await open(ctxAdmin, "#/admin");
  const name = `Triangular ${Date.now() % 100000}`;
  await pa.fill("#group-name", name);
  await pa.click("#group-form button[type=submit]");
  await pa.locator("main h1", { hasText: name }).waitFor();
  await pa.fill("#add-member", coord.handle);
  await pa.click("#add-member-form button[type=submit]");
  const row = pa.locator("#members li.member", { hasText: coord.handle });
  await row.waitFor();
  await row.locator("input.coordinator").check();
  await pa.click("#save-coordinators");
  await pa.locator("main [role=status]", { hasText: "Saved" }).waitFor();
  const groupHash = new URL(pa.url()).hash;

  // The coordinator adds a member to their group from the same page.
  const ctxC = await context(coord, { ui: "en" });
  const pc = await open(ctxC, groupHash);
  await pc.fill("#add-member", member.handle);
  await pc.click("#add-member-form button[type=submit]");
  await pc.locator("#members li.member", { hasText: member.handle }).waitFor();
  await shot(pc, "group-coordinator");
  const groupId = groupHash.split("/").pop();
  const made0 = await call("POST", `/spaces/${groupId}/rooms`, coord.token, { title: "Agenda", body: "Our agenda", nonce: `agenda-${Date.now()}` });
  await pc.goto(`${base}/#/room/${made0.room.id}`);
  await pc.locator("#pin").click();
  await pc.locator("#pin", { hasText: "Unpin" }).waitFor();
  const pinnedRoom = await call("GET", `/rooms/${made0.room.id}`, coord.token);
  assert(pinnedRoom.pinned === true, "the coordinator pinned the thread");
  await pc.locator("article.post .avatar").first().waitFor();
  await ctxC.close();

  // A flagged post is hidden from the review list; its author is suspended for a day.
  const general = await spaceId("general");
  const made = await call("POST", `/spaces/${general.id}/rooms`, troll.token, { title: "Buy now", body: "spam spam spam", nonce: `spam-${Date.now()}` });
  await call("POST", `/posts/${made.post.id}/flags`, member.token, { reason: "spam" });
  await pa.goto(`${base}/#/admin`);
  const item = pa.locator("#review li.review-item", { hasText: "spam spam spam" });
  await item.waitFor();
  await item.locator("input").fill("advertising");
  await item.locator("button.hide").click();
  await pa.locator("#review-card [role=status]", { hasText: "Hidden" }).waitFor();
  await pa.fill("#member-handle", troll.handle);
  await pa.click("#member-find button[type=submit]");
  await pa.locator("#suspend").click();
  await pa.locator("#members-card [role=status]", { hasText: "suspended" }).waitFor();
  let refused = false;
  await call("POST", "/auth/login", null, { handle: troll.handle, password: "a long password" }).catch(() => (refused = true));
  assert(refused, "the suspended member cannot sign in");
  await pa.reload();
  await pa.locator("#modlog td", { hasText: "hid a post" }).first().waitFor();
  await pa.locator("#modlog td", { hasText: "suspended a member" }).first().waitFor();
  await pa.locator("#figures-months tbody tr").nth(11).waitFor();
  const width = await pa.locator("#figures-months tbody tr").nth(11).locator(".bar").evaluate((el) => el.getBoundingClientRect().width);
  assert(width > 0, "this month's bar is drawn");
  await pa.click("#backup-now");
  await pa.locator("#backups-card [role=status]", { hasText: "Backup taken" }).waitFor();
  await pa.locator("#backups li", { hasText: "collective-brain-" }).first().waitFor();
  await shot(pa, "moderation");
  await ctxAdmin.close();
};

scenarios["a member finds a listed working group, asks to join in French, and its coordinator approves"] = async () => {
  const adminToken = await admin();
  const [coord, amina] = [await user("coord", ["en"]), await user("amina", ["fr"])];
  const name = `Droit coopératif ${Date.now() % 100000}`;
  const group = await call("POST", "/spaces", adminToken, { slug: `droit-${Date.now() % 100000}`, name, kind: "forum", visibility: "private", post_policy: "members" });
  await call("POST", `/spaces/${group.id}/members`, adminToken, { user: coord.user.id });
  await call("PUT", `/spaces/${group.id}/coordinators`, adminToken, { users: [coord.user.id] });

  // The admin lists the group and describes it from the page that runs the community.
  const ctxAdmin = await context({ token: adminToken }, { ui: "en" });
  const pa = await open(ctxAdmin, "#/admin");
  const editor = pa.locator("#spaces-edit details", { hasText: name });
  await editor.locator("summary").click();
  assert(await editor.locator(`#listed-${group.id}`).isVisible(), "a private group can be listed");
  await editor.locator(`#description-${group.id}-fr`).fill("Le droit des coopératives en Afrique francophone");
  await editor.locator(`#listed-${group.id}`).check();
  await editor.locator("button[type=submit]").click();
  await editor.locator("[role=status]", { hasText: "Saved" }).waitFor();
  const listed = await call("GET", `/spaces/${group.id}`, adminToken);
  assert(listed.listed === true, "the group is listed");
  await ctxAdmin.close();

  // A member finds it among the working groups and asks to join, in French.
  const ctxA = await context(amina, { ui: "fr", locale: "fr-FR" });
  const pm = await open(ctxA, "#/people");
  const item = pm.locator(`#groups li[data-space="${group.id}"]`);
  await item.waitFor();
  await item.locator("text=Le droit des coopératives en Afrique francophone").waitFor();
  await item.locator("input.join-message").fill("Je travaille sur l'OHADA");
  await item.locator("button[type=submit]", { hasText: "Demander à rejoindre" }).click();
  await item.locator("[role=status]", { hasText: "Demande envoyée" }).waitFor();
  await shot(pm, "join-request");

  // Its coordinator sees the request with its message, and approves it.
  const ctxC = await context(coord, { ui: "en" });
  const pc = await open(ctxC, `#/group/${group.id}`);
  const req = pc.locator("#join-requests li.request", { hasText: amina.handle });
  await req.locator("q", { hasText: "OHADA" }).waitFor();
  await req.locator("button.approve-join").click();
  await pc.locator("#members li.member", { hasText: amina.handle }).waitFor();
  await pc.locator("#join-requests", { hasText: "No requests waiting" }).waitFor();
  await ctxC.close();

  await pm.reload();
  await pm.locator(`#groups li[data-space="${group.id}"] a`, { hasText: "Ouvrir" }).click();
  await pm.locator("main h1", { hasText: name }).waitFor();
  await ctxA.close();
};

scenarios["a member attaches a photo and the minutes in Portuguese, and finds them in the space's library"] = async () => {
  const adminToken = await admin();
  const ana = await user("ana", ["pt"]);
  const forum = await call("POST", "/spaces", adminToken, { slug: `docs${Date.now() % 100000}`, name: "Documentos", kind: "forum", visibility: "public", post_policy: "members" });
  const made = await call("POST", `/spaces/${forum.id}/rooms`, ana.token, { title: "Reunião de Campinas", body: "A reunião", nonce: `r-${Date.now()}` });
  const ctx = await context(ana, { ui: "pt", locale: "pt-BR" });
  const page = await open(ctx, `#/room/${made.room.id}`);
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
  await page.locator("#attach").setInputFiles([
    { name: "foto.png", mimeType: "image/png", buffer: png },
    { name: "ata.txt", mimeType: "text/plain", buffer: Buffer.from("Ata da reunião sobre cooperativas de crédito em Campinas.\n") },
  ]);
  await expectCount(page, page.locator("#uploads li[data-file]"), 2, "both uploads finished");
  await page.fill("#composer", "Fotos e ata da reunião");
  await page.keyboard.press("Enter");
  const post = page.locator("article.post", { hasText: "Fotos e ata da reunião" });
  await post.locator(".files img.thumb").waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector(".files img.thumb");
    return img && img.src.startsWith("blob:") && img.complete && img.naturalWidth > 0;
  }, null, { timeout: TIMEOUT });
  await post.locator(".files button.file.doc", { hasText: "ata.txt" }).waitFor();
  assert((await page.locator("#uploads li").count()) === 0, "the tray is emptied once sent");
  await shot(page, "files-post");

  // The space's library lists both, and a document downloads under its name.
  await page.goto(`${base}/#/space/${forum.id}`);
  await page.locator("#library-link").click();
  await page.locator("#library li.library-item", { hasText: "foto.png" }).waitFor();
  const item = page.locator("#library li.library-item", { hasText: "ata.txt" });
  await item.locator("a", { hasText: "Reunião de Campinas" }).waitFor();
  const [dl] = await Promise.all([page.waitForEvent("download"), item.locator("button.file-name").click()]);
  assert(dl.suggestedFilename() === "ata.txt", `downloaded as ${dl.suggestedFilename()}`);
  // Its uploader gives it a title and a year, in place.
  await item.locator("details.describe summary").click();
  await item.locator("input[name=title]").fill("Ata da reunião de Campinas");
  await item.locator("input[name=year]").fill("2013");
  await item.locator("form.describe button[type=submit]").click();
  await page.locator("#library li.library-item button.file-name", { hasText: "Ata da reunião de Campinas" }).waitFor();
  await page.fill("#library-year", "2013");
  await page.click("#library-form button[type=submit]");
  await expectCount(page, page.locator("#library li.library-item"), 1, "found by year");
  await page.fill("#library-year", "");
  await page.fill("#library-q", "foto");
  await page.click("#library-form button[type=submit]");
  await expectCount(page, page.locator("#library li.library-item"), 1, "found by name");
  await shot(page, "library");
  await ctx.close();
};

scenarios["a member verifies their address, picks a daily summary, and resets a forgotten password from the mailed link, in Spanish"] = async () => {
  const sofia = await user("sofia", ["es"]);
  const address = `${sofia.handle}@example.org`;
  const ctx = await context(sofia, { ui: "es", locale: "es-MX" });
  const page = await open(ctx, "#/profile");
  await page.fill("#profile-email", address);
  await page.click("#email-form button[type=submit]");
  await page.locator("#email-form [role=status]", { hasText: address }).waitFor();
  const verify = await mailedToken(address, "verify-email");
  await page.goto(`${base}/#/verify-email?token=${verify}`);
  await page.locator("main [role=status]", { hasText: "Su dirección está verificada" }).waitFor();
  let me = await call("GET", "/me", sofia.token);
  assert(me.email_verified === true, "verified");

  // Her choices of mail, in her profile.
  await page.goto(`${base}/#/profile`);
  await page.locator("#mail-choices").waitFor();
  assert((await page.locator("#mail-digest option:checked").textContent()) === "Cada semana", "weekly by default");
  await page.selectOption("#mail-digest", "daily");
  await page.locator("#mail-choices [role=status]", { hasText: "Guardado" }).waitFor();
  me = await call("GET", "/me", sofia.token);
  assert(me.email_settings.digest === "daily", `digest ${JSON.stringify(me.email_settings)}`);
  await shot(page, "mail-choices");
  await ctx.close();

  // Signed out, she forgot her password: "forgot" on the sign-in page, then the link.
  const guest = await context(null, { ui: "es", locale: "es-MX" });
  const signin = await open(guest, "#/signin");
  await signin.locator('#signin-form a[href="#/reset-password"]').click();
  await signin.fill("#reset-login", sofia.handle);
  await signin.click("#reset-form button[type=submit]");
  await signin.locator("#reset-form [role=status]", { hasText: "va en camino" }).waitFor();
  const reset = await mailedToken(address, "reset-password");
  await signin.goto(`${base}/#/reset-password?token=${reset}`);
  await signin.fill("#reset-password-new", "una contraseña nueva y larga");
  await signin.click("#reset-form button[type=submit]");
  await signin.locator("#reset-form [role=status]", { hasText: "Su contraseña cambió" }).waitFor();
  await shot(signin, "password-reset");
  const r = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${sofia.token}` } });
  assert(r.status === 401, "every session ended");
  await call("POST", "/auth/login", null, { handle: sofia.handle, password: "una contraseña nueva y larga" });
  await guest.close();
};

// ---- behind the TLS proxy (CB_BEHIND_PROXY=1: base is nginx's https:// address) ----

const proxied = {};

proxied["over HTTPS through nginx: a member signs in and posts, another sees it live over wss, and a socket idle past nginx's 60 s still receives"] = async () => {
  assert(base.startsWith("https://"), `this scenario runs behind the TLS proxy, not at ${base}`);
  const ines = await user("ines", ["pt"]);
  const kwame = await user("kwame", ["en"]);
  const lobby = await spaceId("lobby");
  // Kwame's page and every socket it opens.
  const ctxK = await context(kwame);
  const sockets = [];
  ctxK.on("page", (p) => p.on("websocket", (ws) => sockets.push(ws)));
  const pk = await open(ctxK, `#/room/${lobby.room}`);
  assert(sockets.length === 1 && sockets[0].url().startsWith("wss://"), `sockets: ${sockets.map((w) => w.url())}`);
  // Ines signs in from the sign-in page.
  const ctxI = await context(null, { ui: "pt", locale: "pt-BR" });
  const pi = await open(ctxI, "#/signin");
  await pi.fill("#in-handle", ines.handle);
  await pi.fill("#in-password", "a long password");
  await pi.click("#signin-form button[type=submit]");
  await pi.locator('#nav a[href="#/profile"]').waitFor();
  await pi.goto(`${base}/#/room/${lobby.room}`);
  await pi.locator('#conn[data-state="online"]').waitFor();
  await pi.fill("#composer", "Olá, pelo proxy com TLS");
  await pi.press("#composer", "Enter");
  await bodyWith(pk, "Olá, pelo proxy com TLS").waitFor();
  await shot(pk, "proxy-live");
  // Quiet for longer than nginx's default proxy_read_timeout (60 s): the same socket
  // stays open (the server's pings keep it alive) and gets the next post.
  await pk.waitForTimeout(65_000);
  await pi.fill("#composer", "Depois de um minuto de silêncio");
  await pi.press("#composer", "Enter");
  await bodyWith(pk, "Depois de um minuto de silêncio").waitFor();
  assert(sockets.length === 1, `Kwame's page opened ${sockets.length} sockets: the first was cut`);
  assert(!sockets[0].isClosed(), "Kwame's socket closed");
  await ctxI.close();
  await ctxK.close();
};

// ---- run ----

if (process.env.CB_BEHIND_PROXY) {
  for (const name of Object.keys(scenarios)) delete scenarios[name];
  Object.assign(scenarios, proxied);
}

// CB_SCENARIO=words runs only the scenarios whose name holds them (while working on one).
const only = process.env.CB_SCENARIO;
for (const name of Object.keys(scenarios)) if (only && !name.includes(only)) delete scenarios[name];
let failed = 0;
for (const [name, run] of Object.entries(scenarios)) {
  const started = Date.now();
  try {
    await run();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
    let i = 0;
    for (const ctx of browser.contexts()) {
      if (ctx.errors && ctx.errors.length) console.log(`  page errors: ${ctx.errors.join("; ")}`);
      for (const page of ctx.pages()) {
        i += 1;
        await page.screenshot({ path: `${shots}/FAILED-${Object.keys(scenarios).indexOf(name)}-${i}.png`, fullPage: true }).catch(() => {});
      }
      await ctx.close().catch(() => {});
    }
  }
}
await browser.close();
console.log(`${Object.keys(scenarios).length - failed} passed, ${failed} failed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);

// The HTTP API under /api/v1, with the bearer token of the signed-in user.

import { t, addStrings } from "./i18n.js";

const KEY = "cb.token";

export const session = {
  get token() {
    return localStorage.getItem(KEY);
  },
  set token(t) {
    if (t) localStorage.setItem(KEY, t);
    else localStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "internal";
    this.field = e.field;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    // Words for an error about one field come with the first such error.
    if (json && json.error && json.error.field) await addStrings("errors").catch(() => {});
    throw new ApiError(r.status, json);
  }
  return json;
}

export const get = (p) => api("GET", p);
export const post = (p, b) => api("POST", p, b ?? {});
export const put = (p, b) => api("PUT", p, b ?? {});
export const patch = (p, b) => api("PATCH", p, b ?? {});

const images = new Map();
/** An image of the API (a member's picture) as a blob: URL, fetched once with the token. */
export function imageUrl(path) {
  if (!images.has(path)) {
    const headers = session.token ? { Authorization: `Bearer ${session.token}` } : {};
    images.set(path, fetch(path, { headers }).then((r) => (r.ok ? r.blob() : Promise.reject(r.status))).then(URL.createObjectURL));
  }
  return images.get(path);
}

const users = new Map();
/** A user (id, handle, display name...), fetched once; null when it cannot be read. */
export function userOf(id) {
  if (!users.has(id)) users.set(id, get(`/users/${encodeURIComponent(id)}`).catch(() => null));
  return users.get(id);
}

/** A user's display name, fetched once ("deleted member" for an erased account). */
export function userName(id) {
  return userOf(id).then((u) => (u ? (u.deleted ? t("user.deleted") : u.display_name || u.handle) : id));
}

// One WebSocket for everything, that survives bad connections.
//
// - Reconnects with exponential backoff (0.5 s doubling to 10 s, with jitter).
// - Remembers, per room, the last seq it delivered, and resubscribes with `since`, so a
//   reconnection replays exactly what was missed: nothing lost, nothing shown twice
//   (events at or below the last seq are dropped as well, should one come again).
// - Posts wait in an outbox until their ack; after a reconnection they are sent again
//   with their original nonce, which the server answers with the first ack, so a post
//   typed offline is sent once and appears once.

export class Live extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.state = "offline";
    this.rooms = new Map(); // room -> {since, handler}
    this.outbox = new Map(); // nonce -> frame
    this.waiting = new Map(); // ref -> {resolve, reject}
    this.queue = null; // {to, handler} for the translators' desk
    this.attempt = 0;
    this.ws = null;
    this.closed = false;
    this.seq = 0;
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.dispatchEvent(new CustomEvent("state", { detail: s }));
  }

  start() {
    this.closed = false;
    this.connect();
  }

  stop() {
    this.closed = true;
    if (this.ws) this.ws.close(1000);
    this.setState("offline");
  }

  connect() {
    if (this.closed) return;
    this.setState("connecting");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", token: this.token || undefined }));
    ws.onmessage = (m) => {
      let f;
      try {
        f = JSON.parse(m.data);
      } catch {
        return;
      }
      this.onFrame(f);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState("offline");
      for (const [, w] of this.waiting) w.reject(new Error("connection lost"));
      this.waiting.clear();
      if (e.code === 4001) {
        this.dispatchEvent(new CustomEvent("signed-out"));
        return;
      }
      if (this.closed) return;
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  raw(frame) {
    if (this.ws && this.state === "online") {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  onFrame(f) {
    switch (f.type) {
      case "welcome":
        this.attempt = 0;
        this.setState("online");
        // What the user's own stream said while offline is refetched, not replayed.
        this.dispatchEvent(new CustomEvent("resync"));
        for (const [room, r] of this.rooms) this.raw({ type: "subscribe", room, since: r.since });
        if (this.queue) this.raw({ type: "subscribe_queue", to: this.queue.to });
        for (const [, frame] of this.outbox) this.raw(frame);
        break;
      case "event": {
        const r = this.rooms.get(f.room);
        if (!r || f.seq <= r.since) return;
        r.since = f.seq;
        r.handler(f);
        break;
      }
      case "subscribed": {
        const r = this.rooms.get(f.room);
        if (r) r.handler(f);
        break;
      }
      case "lagged":
        // A subscription fell behind and ended: follow it again from where it stopped.
        // The user's own stream (`user: true`) and a space's room list have no seq to
        // resume from: listeners refetch what they show (notifications, room lists).
        if (f.room && this.rooms.has(f.room)) {
          this.raw({ type: "subscribe", room: f.room, since: this.rooms.get(f.room).since });
        } else if (f.queue && this.queue) {
          this.raw({ type: "subscribe_queue", to: this.queue.to });
        } else {
          this.dispatchEvent(new CustomEvent("lagged", { detail: f }));
        }
        break;
      case "ack":
        this.outbox.delete(f.nonce);
        this.dispatchEvent(new CustomEvent("ack", { detail: f }));
        break;
      case "typing": {
        const r = this.rooms.get(f.room);
        if (r) r.handler(f);
        break;
      }
      case "queue_item":
      case "queue_title":
      case "queue_removed":
        if (this.queue) this.queue.handler(f);
        break;
      case "search_results": {
        const w = this.waiting.get(f.ref);
        if (w) {
          this.waiting.delete(f.ref);
          w.resolve(f);
        }
        break;
      }
      case "error": {
        if (f.ref && this.waiting.has(f.ref)) {
          this.waiting.get(f.ref).reject(new Error(f.message));
          this.waiting.delete(f.ref);
        } else if (f.ref && this.outbox.has(f.ref) && f.code !== "rate_limited" && f.code !== "internal") {
          // Refused for good (too long, no access...): do not send it again.
          this.outbox.delete(f.ref);
          this.dispatchEvent(new CustomEvent("refused", { detail: f }));
        }
        this.dispatchEvent(new CustomEvent("error-frame", { detail: f }));
        break;
      }
      default:
        this.dispatchEvent(new CustomEvent(f.type, { detail: f }));
    }
  }

  /** Follows a room from `since`; `handler` gets its events, `subscribed` and typing. */
  subscribe(room, since, handler) {
    this.rooms.set(room, { since, handler });
    this.raw({ type: "subscribe", room, since });
  }

  unsubscribe(room) {
    if (this.rooms.delete(room)) this.raw({ type: "unsubscribe", room });
  }

  /** Sends a post, now or after the next reconnection; returns its nonce. */
  post(room, body, extra = {}) {
    const nonce = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const frame = { type: "post", room, body, nonce, ...extra };
    this.outbox.set(nonce, frame);
    this.raw(frame);
    return nonce;
  }

  typing(room) {
    this.raw({ type: "typing", room });
  }

  read(room, seq) {
    this.raw({ type: "read", room, seq });
  }

  followQueue(to, handler) {
    this.queue = { to, handler };
    this.raw({ type: "subscribe_queue", to });
  }

  /** A search over the socket, answered by `search_results`. */
  search(params) {
    this.seq += 1;
    const ref = `s${this.seq}`;
    return new Promise((resolve, reject) => {
      if (!this.raw({ type: "search", ref, ...params })) {
        reject(new Error("offline"));
        return;
      }
      this.waiting.set(ref, { resolve, reject });
    });
  }
}

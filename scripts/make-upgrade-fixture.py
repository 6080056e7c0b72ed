#!/usr/bin/env python3
"""Writes the upgrade fixture: a small data dir of this build's schema, and what it holds.

    cargo build && scripts/make-upgrade-fixture.py target/debug/collective-brain N

starts the binary on a new data dir, writes through the API what a community has (forum
threads and replies in several languages, chat, a private working group, an edit, a
published translation, an attached file), stops it with SIGTERM, and writes
tests/fixtures/schema-N.tar.gz (the data dir without its search index, which is rebuilt)
and tests/fixtures/schema-N.json (every post: id, room, body, language). The upgrade test
opens every fixture with the current build and finds every post. Make one when SCHEMA
rises, before the migration step lands; keep the old ones.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "correct horse battery"


def main():
    binary, schema = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "tests", "fixtures", f"schema-{schema}")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        env = dict(os.environ, CB_DATA_DIR=data, CB_LISTEN="127.0.0.1:0", CB_ADMIN_PASSWORD=ADMIN_PASSWORD,
                   CB_RATE_LIMITS="false", CB_BACKUP_EVERY_HOURS="0", RUST_LOG="info", NO_COLOR="1")
        server = subprocess.Popen([binary, "serve"], env=env, stderr=subprocess.PIPE, text=True)
        base = None
        for line in server.stderr:
            m = re.search(r"listening on ([\d.:]+)", line)
            if m:
                base = f"http://{m.group(1)}/api/v1"
                break
        api = Api(base)
        posts = write_community(api)
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
        with tarfile.open(out + ".tar.gz", "w:gz") as tar:
            for name in sorted(os.listdir(data)):
                if name != "index":
                    tar.add(os.path.join(data, name), arcname=name)
    with open(out + ".json", "w", encoding="utf-8") as f:
        json.dump({"schema": int(schema), "admin_password": ADMIN_PASSWORD, "password": PASSWORD, "posts": posts},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {out}.tar.gz ({os.path.getsize(out + '.tar.gz')} bytes) and {out}.json: {len(posts)} posts")


class Api:
    def __init__(self, base):
        self.base = base
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/spaces")
                return
            except OSError:
                time.sleep(0.05)

    def call(self, method, path, token=None, body=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", ctype)
        if token:
            req.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return json.loads(text) if text else None


def write_community(api):
    admin = api.call("POST", "/auth/login", body={"handle": "admin", "password": ADMIN_PASSWORD})["token"]
    people = {}
    for handle, langs in [("ana", ["pt", "en"]), ("marc", ["fr", "en"]), ("lucia", ["es", "fr"])]:
        v = api.call("POST", "/auth/register", body={"handle": handle, "password": PASSWORD, "languages": langs,
                                                      "display_name": handle.capitalize()})
        people[handle] = v
    ana, marc, lucia = (people[h]["token"] for h in ("ana", "marc", "lucia"))
    spaces = {s["slug"]: s for s in api.call("GET", "/spaces")}
    posts = []

    def keep(p, room):
        posts.append({"id": p["id"], "room": room, "body": p["body"], "lang": p.get("lang")})
        return p

    t = api.call("POST", f"/spaces/{spaces['general']['id']}/rooms", ana,
                 {"title": "Cooperativas de reciclagem em Campinas", "nonce": "f1",
                  "body": "As cooperativas de catadores de Campinas organizam a coleta seletiva com a prefeitura."})
    room = t["room"]["id"]
    first = keep(t["post"], room)
    keep(api.call("POST", f"/rooms/{room}/posts", marc,
                  {"body": "À Montréal, les coopératives de travail ont obtenu des contrats publics semblables.",
                   "nonce": "f2", "reply_to": first["id"]}), room)
    reply = keep(api.call("POST", f"/rooms/{room}/posts", lucia,
                          {"body": "En Puebla trabajamos con mercados solidarios y monedas locales.", "nonce": "f3"}),
                 room)
    edited = api.call("PATCH", f"/posts/{reply['id']}", lucia,
                      {"body": "En Puebla trabajamos con mercados solidarios, monedas locales y cooperativas."})
    posts[-1]["body"] = edited["body"]
    # A file attached to a post.
    f = api.call("POST", "/files?name=acta.txt", ana, raw="Ata da reunião de Campinas: economia solidária.".encode(),
                 ctype="text/plain")
    keep(api.call("POST", f"/rooms/{room}/posts", ana, {"body": "A ata da reunião.", "nonce": "f4",
                                                          "files": [f["id"]]}), room)
    # Chat.
    lobby = spaces["lobby"]["room"]
    for i, (who, body) in enumerate([(marc, "Bonjour à toutes et à tous depuis Montréal !"),
                                     (ana, "Bom dia! Alguém vai a Turim em junho?"),
                                     (lucia, "¡Yo voy a Turín con la delegación de Puebla!")]):
        keep(api.call("POST", f"/rooms/{lobby}/posts", who, {"body": body, "nonce": f"c{i}"}), lobby)
    # A private working group.
    g = api.call("POST", "/spaces", admin, {"slug": "wg-south-south", "name": "South-South cooperation",
                                             "kind": "forum", "visibility": "private", "post_policy": "members"})
    for who in ("ana", "lucia"):
        api.call("POST", f"/spaces/{g['id']}/members", admin, {"user": people[who]["user"]["id"]})
    t = api.call("POST", f"/spaces/{g['id']}/rooms", ana,
                 {"title": "Triangular cooperation with Mozambique", "nonce": "g1",
                  "body": "Draft terms for the exchange between Campinas, Puebla and Maputo."})
    keep(t["post"], t["room"]["id"])
    # A published translation.
    api.call("PUT", f"/users/{people['marc']['user']['id']}/roles", admin, {"roles": ["translator"]})
    api.call("PUT", "/me/translator", marc, {"pairs": [{"from": "pt", "to": "fr"}]})
    api.call("POST", "/translations/claim", marc, {"post": first["id"], "lang": "fr"})
    api.call("POST", f"/posts/{first['id']}/translations", marc,
             {"lang": "fr", "body": "Les coopératives de ramasseurs de Campinas organisent le tri avec la mairie."})
    return posts


if __name__ == "__main__":
    main()

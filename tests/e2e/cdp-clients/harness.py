"""The admin side of the real-client tests: sets Rapport up, writes each client's plan of calls,
and checks through Rapport's API that what the client sent arrived. Standard library only.

    harness.py setup  --url URL --password PW --clients a,b,c --out sources.json
    harness.py plan   --client NAME --run RUN --out plan.json
    harness.py count429 --url URL
    harness.py verify --url URL --password PW --sources sources.json --client NAME
                      --plan plan.json --stats stats.json --before429 N

Every failed check is printed; the exit status is 1 if there was any.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

ADMIN = "admin@rapport.local"
REGISTERED = "Order Completed"
UNREGISTERED = "Unregistered Thing"
RETRY_RATE = 5  # events per second on the rate-limited source
RETRY_BATCH = 5  # events per request in the burst
RETRY_BURST = 30  # events in the burst


class Api:
    def __init__(self, url: str, password: str | None = None):
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        if password is not None:
            self.call("POST", "/api/v1/auth/login", {"email": ADMIN, "password": password})

    def call(self, method: str, path: str, body=None, expect=(200, 201), headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        # The session cookie's requests say they are not cross-site (the server's CSRF check).
        req.add_header("x-requested-with", "rapport-e2e")
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with self.opener.open(req, timeout=30) as res:
                status, text = res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if status not in expect:
            raise SystemExit(f"{method} {path} answered {status}: {text[:500]}")
        return json.loads(text) if text.strip().startswith(("{", "[")) else text

    def get(self, path: str, **query):
        return self.call("GET", path + "?" + urllib.parse.urlencode(query) if query else path)


# ---- setup


def setup(a) -> int:
    api = Api(a.url, a.password)
    api.call("POST", "/api/v1/cdp/event-types", {"name": REGISTERED, "schema": {"type": "object"}})
    out = {}
    for client in a.clients.split(","):
        main = api.call(
            "POST",
            "/api/v1/cdp/sources",
            {"name": f"{client}", "kind": "server", "schema_policy": "quarantine", "rate_limit": None},
        )
        retry = api.call(
            "POST",
            "/api/v1/cdp/sources",
            {"name": f"{client} burst", "kind": "server", "schema_policy": "quarantine", "rate_limit": RETRY_RATE},
        )
        out[client] = {
            "main": {"id": main["id"], "write_key": main["write_key"]},
            "retry": {"id": retry["id"], "write_key": retry["write_key"]},
        }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    return 0


# ---- the plan of calls one client sends


def plan(a) -> int:
    p = f"{a.client}-{a.run}"
    user, anon = f"user-{p}", f"anon-{p}"
    email = f"{a.client}.{a.run}@example.com".lower()
    an_hour_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).replace(microsecond=0)
    main = [
        # Before sign-up: only an anonymous id.
        {"type": "page", "message_id": f"{p}-page-anon", "anonymous_id": anon, "name": "首页 Home",
         "properties": {"path": "/", "title": "欢迎光临"}},
        {"type": "identify", "message_id": f"{p}-identify", "user_id": user,
         "traits": {"email": email, "name": "张伟 Zhang Wei", "city": "上海"}},
        {"type": "track", "message_id": f"{p}-track", "user_id": user, "event": REGISTERED,
         "timestamp": an_hour_ago.isoformat(),
         "properties": {"order_id": f"o-{p}", "revenue": 99.5, "currency": "CNY",
                        "products": [{"name": "乌龙茶", "quantity": 2}], "备注": "请尽快发货 ✓"}},
        {"type": "page", "message_id": f"{p}-page", "user_id": user, "name": "定价 Pricing",
         "properties": {"path": "/pricing", "title": "价格"}},
        {"type": "screen", "message_id": f"{p}-screen", "user_id": user, "name": "设置 Settings",
         "properties": {"tab": "通知"}},
        {"type": "group", "message_id": f"{p}-group", "user_id": user, "group_id": f"group-{p}",
         "traits": {"name": "上海示例有限公司", "employees": 42}},
        {"type": "alias", "message_id": f"{p}-alias", "user_id": user, "previous_id": anon},
        # Not registered: quarantined, not stored.
        {"type": "track", "message_id": f"{p}-unregistered", "user_id": user, "event": UNREGISTERED,
         "properties": {"x": 1}, "held": "unregistered_event_type"},
    ]
    retry = [
        {"type": "track", "message_id": f"{p}-burst-{i:02d}", "user_id": user, "event": REGISTERED,
         "properties": {"i": i, "名称": f"第{i}件"}}
        for i in range(RETRY_BURST)
    ]
    out = {
        "client": a.client,
        "main": main,
        "retry": retry,
        "retry_batch": RETRY_BATCH,
        "profile": {"user_id": user, "anonymous_id": anon, "email": email, "name": "张伟 Zhang Wei"},
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    return 0


# ---- checks


def count_429(url: str) -> int:
    # /metrics needs the token run.sh gives the server (RAPPORT_METRICS_TOKEN).
    token = os.environ["RAPPORT_METRICS_TOKEN"]
    text = Api(url).call("GET", "/metrics", headers={"authorization": f"Bearer {token}"})
    total = 0
    for line in text.splitlines():
        m = re.match(r'rapport_http_requests_total\{(.*)\}\s+(\d+)', line)
        if m and 'status="429"' in m.group(1) and 'route="/v1/' in m.group(1):
            total += int(m.group(2))
    return total


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def verify(a) -> int:
    api = Api(a.url, a.password)
    with open(a.sources, encoding="utf-8") as f:
        sources = json.load(f)[a.client]
    with open(a.plan, encoding="utf-8") as f:
        p = json.load(f)
    with open(a.stats, encoding="utf-8") as f:
        stats = json.load(f)
    failures: list[str] = []

    def check(ok: bool, what: str):
        if not ok:
            failures.append(what)

    # Every messageId stored exactly once, in the right source, with the right type and ids.
    for source, calls in (("main", p["main"]), ("retry", p["retry"])):
        source_id = sources[source]["id"]
        expected = [c for c in calls if not c.get("held")]
        for c in expected:
            m = c["message_id"]
            rows = api.get("/api/v1/cdp/events", message_id=m)
            if len(rows) != 1:
                failures.append(f"{m}: stored {len(rows)} times, expected exactly once")
                continue
            e = rows[0]
            check(e["source_id"] == source_id, f"{m}: source_id {e['source_id']}, expected {source_id}")
            check(e["type"] == c["type"], f"{m}: type {e['type']!r}, expected {c['type']!r}")
            check(e["user_id"] == c.get("user_id"), f"{m}: user_id {e['user_id']!r}, expected {c.get('user_id')!r}")
            if c.get("anonymous_id"):
                check(e["anonymous_id"] == c["anonymous_id"],
                      f"{m}: anonymous_id {e['anonymous_id']!r}, expected {c['anonymous_id']!r}")
            name = c.get("event") or c.get("name")
            if name:
                check(e["name"] == name, f"{m}: name {e['name']!r}, expected {name!r}")
            body = e["body"]
            if "properties" in c:
                check(body.get("properties") == c["properties"],
                      f"{m}: properties {body.get('properties')!r}, expected {c['properties']!r}")
            if c["type"] == "identify":
                # Segment puts traits at the top level; RudderStack's Python SDK in context.traits.
                traits = body.get("traits") or (body.get("context") or {}).get("traits") or {}
                check(all(traits.get(k) == v for k, v in c["traits"].items()),
                      f"{m}: traits {traits!r}, expected {c['traits']!r}")
            if c["type"] == "group":
                check(body.get("groupId") == c["group_id"], f"{m}: groupId {body.get('groupId')!r}")
                check(body.get("traits") == c["traits"], f"{m}: group traits {body.get('traits')!r}")
            if c["type"] == "alias":
                check(body.get("previousId") == c["previous_id"], f"{m}: previousId {body.get('previousId')!r}")
            if c.get("timestamp"):
                got, want = parse_time(e["timestamp"]), parse_time(c["timestamp"])
                check(abs((got - want).total_seconds()) < 5,
                      f"{m}: timestamp {e['timestamp']}, expected about {c['timestamp']} (the client's)")
        listed = api.get("/api/v1/cdp/events", source_id=source_id, limit=1000)
        ids = sorted(r["message_id"] for r in listed)
        want = sorted(c["message_id"] for c in expected)
        check(ids == want, f"{source} source holds {len(ids)} events {ids[:5]}..., expected exactly {len(want)}: "
                           f"missing {sorted(set(want) - set(ids))}, unexpected {sorted(set(ids) - set(want))}")

    # Unregistered track: not stored, but held (quarantined) with its reason.
    held = api.get("/api/v1/cdp/held", source_id=sources["main"]["id"])
    for c in (c for c in p["main"] if c.get("held")):
        m = c["message_id"]
        rows = api.get("/api/v1/cdp/events", message_id=m)
        check(rows == [], f"{m}: an unregistered event was stored ({len(rows)} rows); it must be quarantined")
        mine = [h for h in held if h.get("message_id") == m]
        if len(mine) != 1:
            failures.append(f"{m}: {len(mine)} held entries in /api/v1/cdp/held, expected 1")
        else:
            h = mine[0]
            check(h["reason_code"] == c["held"], f"{m}: held reason_code {h['reason_code']!r}, expected {c['held']!r}")
            check(h["disposition"] == "quarantined", f"{m}: held disposition {h['disposition']!r}")
            check(h.get("name") == c["event"], f"{m}: held name {h.get('name')!r}")

    # identify made a profile carrying the email; alias joined the anonymous id to it.
    want = p["profile"]
    found = api.call(
        "GET",
        "/api/v1/cdp/profiles?" + urllib.parse.urlencode({"identifier_type": "user_id", "identifier": want["user_id"]}),
        expect=(200, 404),
    )
    profiles = found.get("profiles", []) if isinstance(found, dict) else []
    if len(profiles) != 1:
        failures.append(f"profile for user_id {want['user_id']}: {found!r}")
    else:
        prof = profiles[0]
        idents = {(i["type"], i["value"]) for i in prof["identifiers"]}
        check(("email", want["email"]) in idents, f"profile {prof['id']}: no email identifier {want['email']}: {idents}")
        check(("user_id", want["user_id"]) in idents, f"profile {prof['id']}: no user_id identifier: {idents}")
        check(("anonymous_id", want["anonymous_id"]) in idents,
              f"profile {prof['id']}: alias did not join anonymous_id {want['anonymous_id']}: {idents}")
        traits = prof.get("traits") or {}
        check(traits.get("email") == want["email"], f"profile {prof['id']}: traits.email {traits.get('email')!r}")
        check(traits.get("name") == want["name"], f"profile {prof['id']}: traits.name {traits.get('name')!r}")
        by_email = api.get("/api/v1/cdp/profiles", identifier_type="email", identifier=want["email"])
        check([x["id"] for x in by_email["profiles"]] == [prof["id"]],
              f"profile by email {want['email']}: {[x['id'] for x in by_email['profiles']]}, expected [{prof['id']}]")

    # The burst was refused at least once (429) and the client retried: it cannot pass otherwise.
    server_429 = count_429(a.url) - a.before429
    client_429 = int(stats.get("429", 0))
    check(server_429 >= 1, f"the server answered no 429 to the burst (rapport_http_requests_total delta "
                           f"{server_429}): the retry path was not exercised")
    check(client_429 >= 1, f"the client saw no 429 (statuses seen: {stats})")
    print(f"[{a.client}] 429 answered by the server: {server_429}; HTTP statuses the client saw: {stats}")

    if failures:
        print(f"[{a.client}] FAILED {len(failures)} check(s):", *failures, sep="\n  ", file=sys.stderr)
        return 1
    n = len([c for c in p["main"] if not c.get("held")]) + len(p["retry"])
    print(f"[{a.client}] ok: {n} events stored exactly once, 1 quarantined, profile with email, 429s retried")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--url", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--clients", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("plan")
    s.add_argument("--client", required=True)
    s.add_argument("--run", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("count429")
    s.add_argument("--url", required=True)
    s = sub.add_parser("verify")
    s.add_argument("--url", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--sources", required=True)
    s.add_argument("--client", required=True)
    s.add_argument("--plan", required=True)
    s.add_argument("--stats", required=True)
    s.add_argument("--before429", type=int, required=True)
    a = ap.parse_args()
    if a.cmd == "setup":
        return setup(a)
    if a.cmd == "plan":
        return plan(a)
    if a.cmd == "count429":
        print(count_429(a.url))
        return 0
    return verify(a)


if __name__ == "__main__":
    sys.exit(main())

"""Fills a fresh Rapport workspace with one of everything the API's paths name (a contact, a
custom object with a field, a view, a source with a profile and events, an event type, a
segment with a snapshot, a tag, a sales user and role), so the fuzz reaches past `404`, and
writes the schemathesis configuration that sends those identifiers.

    seed.py --url URL --token TOKEN --metrics-token METRICS_TOKEN --out schemathesis.toml

Every path parameter the fuzz may meet is pinned to a seeded value (listed in PATHS below);
bodies, query strings and the other headers stay generated. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request

OBJECT = "fuzz_item"  # the custom object the fuzz may archive, purge and change
FIELD = "size"  # a field of it


class Api:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body=None, expect=(200, 201, 202, 204), headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        headers = {"authorization": f"Bearer {self.token}", **(headers or {})}
        for name, value in headers.items():
            req.add_header(name, value)
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status, text = res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if status not in expect:
            raise SystemExit(f"seed: {method} {path} answered {status}: {text[:500]}")
        return json.loads(text) if text.strip().startswith(("{", "[")) else text


def label(text: str) -> dict:
    return {"en": text, "zh": text}


def seed(api: Api) -> dict[str, str]:
    ids: dict[str, str] = {}
    company = api.call("POST", "/api/v1/objects/company/records", {"values": {"name": "Fuzz Co"}})
    contact = api.call(
        "POST",
        "/api/v1/objects/contact/records",
        {"values": {"name": "Fuzz Person", "email": "fuzz@example.com", "company": company["id"]}},
    )
    ids["contact"] = contact["id"]
    api.call(
        "POST",
        "/api/v1/objects",
        {
            "api_name": OBJECT,
            "label": label("Fuzz item"),
            "plural_label": label("Fuzz items"),
            "fields": [{"api_name": FIELD, "label": label("Size"), "type": "integer"}],
        },
    )
    view = api.call(
        "POST",
        "/api/v1/objects/contact/views",
        {"name": "Fuzz view", "kind": "list", "columns": ["name", "email"], "shared": True},
    )
    ids["view"] = view["id"]

    source = api.call("POST", "/api/v1/cdp/sources", {"name": "Fuzz server", "kind": "server"})
    ids["source"] = source["id"]
    ids["write_key"] = source["write_key"]
    api.call(
        "POST",
        "/api/v1/cdp/event-types",
        {"name": "Order Completed", "schema": {"type": "object", "properties": {"total": {"type": "number"}}}},
    )
    batch = [
        {"type": "identify", "userId": "fuzz-user", "traits": {"email": "fuzz@example.com", "plan": "pro"}},
        {"type": "track", "userId": "fuzz-user", "event": "Order Completed", "properties": {"total": 12}},
        {"type": "identify", "anonymousId": "fuzz-anon", "traits": {"email": "fuzz-2@example.com"}},
        {"type": "alias", "userId": "fuzz-user", "previousId": "fuzz-anon"},
    ]
    basic = base64.b64encode(f"{source['write_key']}:".encode()).decode()
    api.call("POST", "/v1/batch", {"batch": batch}, headers={"authorization": f"Basic {basic}"})
    profiles = api.call("GET", "/api/v1/cdp/profiles?identifier_type=user_id&identifier=fuzz-user")
    ids["profile"] = profiles["profiles"][0]["id"]
    merges = api.call("GET", "/api/v1/cdp/merges")
    if merges.get("data"):
        ids["merge"] = merges["data"][0]["id"]

    segment = api.call(
        "POST",
        "/api/v1/cdp/segments",
        {
            "name": "Fuzz buyers",
            "condition": {
                "behavior": {
                    "event": "Order Completed",
                    "window": {"last": 30, "unit": "days"},
                    "count": {"op": "gte", "value": 1},
                }
            },
        },
    )
    ids["segment"] = segment["id"]
    for _ in range(100):  # a new segment is built by a worker within a second or two
        if api.call("GET", f"/api/v1/cdp/segments/{segment['id']}")["state"] == "live":
            break
        time.sleep(0.2)
    else:
        raise SystemExit("seed: the segment did not become live within 20 seconds")
    first = api.call("POST", f"/api/v1/cdp/segments/{segment['id']}/snapshots", {"name": "First"})
    second = api.call("POST", f"/api/v1/cdp/segments/{segment['id']}/snapshots", {"name": "Second"})
    ids["snapshot"], ids["snapshot_other"] = first["id"], second["id"]
    # The contact's customer profile is made by a worker (the contact-profiles outbox consumer)
    # shortly after the contact: until then tagging answers 404.
    tag_path = f"/api/v1/cdp/contacts/{contact['id']}/tags"
    for _ in range(100):
        tagged = api.call("POST", tag_path, {"tag": "vip"}, expect=(200, 201, 204, 404))
        if not (isinstance(tagged, dict) and tagged.get("code") == "not_found"):
            break
        time.sleep(0.2)
    else:
        raise SystemExit("seed: the contact had no customer profile within 20 seconds")

    roles = api.call("GET", "/api/v1/roles")
    sales = next(r for r in roles if not r["is_admin"])
    ids["role"] = sales["id"]
    user = api.call(
        "POST",
        "/api/v1/users",
        {"email": "fuzz-sales@example.com", "name": "Fuzz Sales", "password": "Fuzz-sales-pw-1", "role_id": sales["id"]},
    )
    ids["user"] = user["id"]
    return ids


def paths(ids: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Each path template with the values of its parameters."""
    p = "/api/v1/cdp"
    record = {"object": "contact", "id": ids["contact"]}
    out = [
        ("/api/v1/objects/{object}", {"object": OBJECT}),
        ("/api/v1/objects/{object}/purge", {"object": OBJECT}),
        ("/api/v1/objects/{object}/restore", {"object": OBJECT}),
        ("/api/v1/objects/{object}/fields", {"object": OBJECT}),
        ("/api/v1/objects/{object}/fields/{field}", {"object": OBJECT, "field": FIELD}),
        ("/api/v1/objects/{object}/fields/{field}/purge", {"object": OBJECT, "field": FIELD}),
        ("/api/v1/objects/{object}/fields/{field}/restore", {"object": OBJECT, "field": FIELD}),
        ("/api/v1/objects/{object}/records", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/aggregate", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/batch/create", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/batch/update", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/export", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/query", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/repair", {"object": "contact"}),
        ("/api/v1/objects/{object}/records/{id}", record),
        ("/api/v1/objects/{object}/records/{id}/history", record),
        ("/api/v1/objects/{object}/records/{id}/history/restore", record),
        ("/api/v1/objects/{object}/records/{id}/restore", record),
        (
            "/api/v1/objects/{object}/records/{id}/related/{related}/{field}",
            {**record, "related": "deal", "field": "contact"},
        ),
        ("/api/v1/objects/{object}/related", {"object": "contact"}),
        ("/api/v1/objects/{object}/views", {"object": "contact"}),
        ("/api/v1/objects/{object}/views/{id}", {"object": "contact", "id": ids["view"]}),
        (f"{p}/contacts/{{id}}/journey", {"id": ids["contact"]}),
        (f"{p}/contacts/{{id}}/tags", {"id": ids["contact"]}),
        (f"{p}/contacts/{{id}}/tags/{{tag}}", {"id": ids["contact"], "tag": "vip"}),
        (f"{p}/profiles/{{id}}", {"id": ids["profile"]}),
        (f"{p}/profiles/{{id}}/segments", {"id": ids["profile"]}),
        (f"{p}/profiles/{{id}}/timeline", {"id": ids["profile"]}),
        (f"{p}/profiles/{{id}}/lineage/{{segment_id}}", {"id": ids["profile"], "segment_id": ids["segment"]}),
        (f"{p}/sources/{{id}}", {"id": ids["source"]}),
        (f"{p}/sources/{{id}}/rotate-key", {"id": ids["source"]}),
        (f"{p}/sources/{{id}}/rotate-verification-secret", {"id": ids["source"]}),
        (f"{p}/snapshots/{{id}}", {"id": ids["snapshot"]}),
        (f"{p}/snapshots/{{id}}/members", {"id": ids["snapshot"]}),
        (f"{p}/snapshots/{{id}}/members.csv", {"id": ids["snapshot"]}),
        (f"{p}/snapshots/{{id}}/push", {"id": ids["snapshot"]}),
        (f"{p}/snapshots/{{id}}/diff/{{other}}", {"id": ids["snapshot"], "other": ids["snapshot_other"]}),
        ("/api/v1/roles/{id}", {"id": ids["role"]}),
        ("/api/v1/users/{id}", {"id": ids["user"]}),
    ]
    for tail in ("", "/changes", "/evaluate", "/members", "/members.csv", "/recount", "/snapshots", "/versions"):
        out.append((f"{p}/segments/{{id}}{tail}", {"id": ids["segment"]}))
    if "merge" in ids:
        out.append((f"{p}/merges/{{id}}/undo", {"id": ids["merge"]}))
    return out


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string for these values


def config(ids: dict[str, str], url: str, token: str, metrics_token: str) -> str:
    lines = [
        "# Written by tests/conformance/seed.py for one run; not committed.",
        f"base-url = {toml_string(url)}",
        "",
        "[headers]",
        f"Authorization = {toml_string('Bearer ' + token)}",
        # Bearer tokens need no CSRF proof, but a generated cookie could make a request look
        # like a browser's; the header keeps every request past the CSRF check.
        'X-Requested-With = "rapport-conformance"',
        "",
    ]
    for path, values in paths(ids):
        params = ", ".join(f"{toml_string('path.' + k)} = {toml_string(v)}" for k, v in values.items())
        lines += ["[[operations]]", f"include-path = {toml_string(path)}", f"parameters = {{ {params} }}", ""]
    # The tracking API takes the source's write key as the HTTP Basic user.
    basic = base64.b64encode(f"{ids['write_key']}:".encode()).decode()
    lines += [
        "[[operations]]",
        'include-path-regex = "^/v1/"',
        f"headers = {{ Authorization = {toml_string('Basic ' + basic)} }}",
        "",
    ]
    lines += [
        "[[operations]]",
        'include-path = "/metrics"',
        f"headers = {{ Authorization = {toml_string('Bearer ' + metrics_token)} }}",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--metrics-token", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ids = seed(Api(args.url, args.token))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(config(ids, args.url, args.token, args.metrics_token))
    print(f"seed: {len(ids)} identifiers", file=sys.stderr)


if __name__ == "__main__":
    main()

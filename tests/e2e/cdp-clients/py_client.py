"""Sends the calls of a plan (made by `harness.py plan`) to Rapport with a real Python client
library; harness.py then verifies them through Rapport's API.

    py_client.py --lib segment|rudder --name NAME --host URL --write-key K --retry-write-key RK
                 --plan PLAN.json

`segment` is PyPI segment-analytics-python (module segment.analytics; writeKey in the body);
`rudder` is PyPI rudder-sdk-python (module rudderstack.analytics; gzip and HTTP Basic auth by
default). Both are used through their Client class with the `host` option, as documented.
Exits non-zero if the library reported any delivery error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys



def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", choices=["segment", "rudder"], required=True)
    ap.add_argument("--name", required=True, help="client name used in ids and the manifest")
    ap.add_argument("--host", required=True)
    ap.add_argument("--write-key", required=True)
    ap.add_argument("--retry-write-key", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--stats", required=True, help="where to write the HTTP statuses the library saw")
    a = ap.parse_args()

    logging.basicConfig(level=logging.WARNING, format=f"[{a.name}] %(name)s %(levelname)s %(message)s")
    errors: list[str] = []

    def on_error(exc, batch):
        ids = [m.get("messageId") for m in batch]
        errors.append(f"{exc!r} for {ids}")

    if a.lib == "segment":
        from segment.analytics import Client
        from segment.analytics import request as transport
        from segment.analytics.version import VERSION

        # Defaults: gzip=False, writeKey in the JSON body (2.4 also adds HTTP Basic auth).
        def make(key, **kw):
            return Client(key, host=a.host, on_error=on_error, **kw)

        library = f"segment-analytics-python {VERSION}"
    else:
        from rudderstack.analytics import Client
        from rudderstack.analytics import request as transport
        from rudderstack.analytics.version import VERSION

        # Defaults: gzip=True, HTTP Basic auth with the write key.
        def make(key, **kw):
            return Client(key, host=a.host, on_error=on_error, **kw)

        library = f"rudder-sdk-python {VERSION}"

    # backoff (imported by both libraries) sets its logger to INFO: one line per retry otherwise.
    logging.getLogger("backoff").setLevel(logging.WARNING)

    # Observe (not change) what the library's HTTP session receives: both libraries post through
    # one module-level requests.Session named _session.
    statuses: dict[str, int] = {}

    def seen(response, *args, **kwargs):
        key = str(response.status_code)
        statuses[key] = statuses.get(key, 0) + 1

    transport._session.hooks["response"].append(seen)

    with open(a.plan, encoding="utf-8") as f:
        plan = json.load(f)

    # 1. One of each call, with explicit messageIds, then flush.
    client = make(a.write_key, upload_interval=0.1)
    for c in plan["main"]:
        send(client, c)
    client.flush()
    client.shutdown()

    # 2. A burst against a rate-limited source, in batches of plan["retry_batch"]: the server answers 429
    #    (Retry-After) to some; the library must retry them. Library defaults for retries
    #    (segment: waits the Retry-After, uncounted; rudder: exponential backoff, 10 retries).
    burst = make(a.retry_write_key, upload_size=plan["retry_batch"], upload_interval=0.05)
    for c in plan["retry"]:
        send(burst, c)
    burst.flush()
    burst.shutdown()

    with open(a.stats, "w", encoding="utf-8") as f:
        json.dump(statuses, f)
    if errors:
        print(f"[{a.name}] the library reported delivery errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    print(f"[{a.name}] {library}: sent {len(plan['main'])} calls and a burst of {len(plan['retry'])}")
    return 0


def send(client, c):
    kind = c["type"]
    common = {"message_id": c["message_id"]}
    if c.get("timestamp"):
        common["timestamp"] = dt.datetime.fromisoformat(c["timestamp"])
    if c.get("user_id"):
        common["user_id"] = c["user_id"]
    if kind == "identify":
        ok = client.identify(traits=c["traits"], anonymous_id=c.get("anonymous_id"), **common)
    elif kind == "track":
        ok = client.track(event=c["event"], properties=c["properties"], anonymous_id=c.get("anonymous_id"), **common)
    elif kind == "page":
        ok = client.page(name=c["name"], category=c.get("category"), properties=c["properties"],
                         anonymous_id=c.get("anonymous_id"), **common)
    elif kind == "screen":
        ok = client.screen(name=c["name"], properties=c["properties"], anonymous_id=c.get("anonymous_id"), **common)
    elif kind == "group":
        ok = client.group(group_id=c["group_id"], traits=c["traits"], anonymous_id=c.get("anonymous_id"), **common)
    elif kind == "alias":
        ok = client.alias(previous_id=c["previous_id"], **common)
    else:
        raise ValueError(kind)
    queued = ok[0] if isinstance(ok, tuple) else True
    if not queued:
        raise RuntimeError(f"the library did not queue {c['message_id']}")


if __name__ == "__main__":
    sys.exit(main())

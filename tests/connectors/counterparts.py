"""The outside parties of Rapport's connectors, on loopback, for the integration tests.

An SMTP server (aiosmtpd, with login) and one HTTP server playing:
  - a WeCom group robot        POST /cgi-bin/webhook/send?key=
  - a DingTalk custom robot    POST /robot/send?access_token=&timestamp=&sign=
  - a Feishu custom bot        POST /open-apis/bot/v2/hook/<id>
  - Aliyun SMS (SendSms)       POST /aliyun/      signature checked with aliyun-python-sdk-core
  - Tencent Cloud SMS          POST /tencent/     TC3 signature checked with tencentcloud-sdk-python
  - an HTTP SMS gateway        POST /sms-gateway
  - an ERP                     POST /erp/orders/<no>, GET /erp/stock/<sku>
  - a Standard Webhooks sender POST /_sign?secret=&id=  answers the headers the
                               `standardwebhooks` library signs the body with
Each checks credentials and signatures as its platform does and answers as it does. Every
request is recorded; GET /_received answers them all (SMTP messages parsed). POST
/_mode?party=<name>&mode=down|up makes a party answer 503 (down) or normally (up).

Prints one JSON line with the ports, then serves until stdin closes.
"""

import asyncio
import base64
import datetime
import email
import email.policy
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from aliyunsdkcore.auth.composer import rpc_signature_composer
from standardwebhooks.webhooks import Webhook
from tencentcloud.common.sign import Sign

SMTP_USER = "crm@example.cn"
SMTP_PASSWORD = "口令-s3cret"
WECOM_KEY = "wecom-key-693a91f6"
DINGTALK_TOKEN = "dingtalk-token-1f2e"
DINGTALK_SECRET = "SECdingtalk0123456789"
FEISHU_HOOK = "feishu-hook-0a1b2c"
FEISHU_SECRET = "feishu-secret-xyz"
ALIYUN_ID = "LTAI5tTestKeyId"
ALIYUN_SECRET = "aliyun-secret-key"
TENCENT_ID = "AKIDtestSecretId"
TENCENT_KEY = "tencent-secret-key"
GATEWAY_TOKEN = "gateway-token"
ERP_HMAC = "erp-hmac-secret"
STOCK = {"A100": 10, "B200": 0}

received = []
modes = {}
lock = threading.Lock()


def record(entry):
    with lock:
        received.append(entry)


class Smtp:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        record({
            "party": "smtp",
            "ok": True,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.authenticated,
            "subject": message["subject"],
            "from": message["from"],
            "to": message["to"],
            "multipart": message.get_content_type(),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
            "list_unsubscribe": message["list-unsubscribe"],
            "list_unsubscribe_post": message["list-unsubscribe-post"],
        })
        return "250 OK"


def smtp_auth(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == SMTP_USER
        and auth_data.password.decode() == SMTP_PASSWORD
    )
    return AuthResult(success=ok)


def dingtalk_check(query):
    if query.get("access_token") != DINGTALK_TOKEN:
        return {"errcode": 300001, "errmsg": "token is not exist"}
    timestamp = query.get("timestamp", "")
    sign = query.get("sign", "")
    expected = base64.b64encode(hmac.new(
        DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
    ).digest()).decode()
    if not timestamp or abs(time.time() * 1000 - int(timestamp)) > 3600_000 or sign != expected:
        return {"errcode": 310000, "errmsg": "sign not match"}
    return {"errcode": 0, "errmsg": "ok"}


def feishu_check(body):
    timestamp = body.get("timestamp", "")
    expected = base64.b64encode(hmac.new(
        f"{timestamp}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256
    ).digest()).decode()
    if not timestamp or abs(time.time() - int(timestamp)) > 3600 or body.get("sign") != expected:
        return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
    return {"code": 0, "msg": "success", "data": {}}


def aliyun_check(form):
    params = {k: v[0] for k, v in form.items()}
    signature = params.pop("Signature", "")
    if params.get("AccessKeyId") != ALIYUN_ID:
        return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
    compose = getattr(rpc_signature_composer, "__compose_string_to_sign")
    sign = getattr(rpc_signature_composer, "__get_signature")
    expected = sign(compose("POST", params), ALIYUN_SECRET)
    if signature != expected:
        return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with our calculation."}
    if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
        return 400, {"Code": "InvalidAction", "Message": "bad action"}
    return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}


def tencent_check(headers, body):
    authorization = headers.get("Authorization", "")
    try:
        algorithm, rest = authorization.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        secret_id, date, service, _ = fields["Credential"].split("/")
    except ValueError:
        return {"Error": {"Code": "AuthFailure.InvalidAuthorization", "Message": "bad header"}}
    if secret_id != TENCENT_ID:
        return {"Error": {"Code": "AuthFailure.SecretIdNotFound", "Message": "unknown id"}}
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{headers.get(h, '').lower() if h == 'x-tc-action' else headers.get(h, '')}\n" for h in signed)
    canonical = "\n".join([
        "POST", "/", "", canonical_headers, fields["SignedHeaders"],
        hashlib.sha256(body).hexdigest(),
    ])
    timestamp = headers.get("X-TC-Timestamp", "0")
    to_sign = "\n".join([
        algorithm, timestamp, f"{date}/{service}/tc3_request",
        hashlib.sha256(canonical.encode()).hexdigest(),
    ])
    expected = Sign.sign_tc3(TENCENT_KEY, date, service, to_sign)
    if fields["Signature"] != expected or abs(time.time() - int(timestamp)) > 300:
        return {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials could not be validated."}}
    payload = json.loads(body)
    return {"SendStatusSet": [
        {"SerialNo": "2640:0", "PhoneNumber": number, "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success", "IsoCode": "CN"}
        for number in payload["PhoneNumberSet"]
    ]}


class Http(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_received":
            with lock:
                return self.answer(200, received)
        url = urlparse(self.path)
        if not url.path.startswith("/erp/stock/"):
            return self.answer(404, {})
        # The ERP's stock query: signed like its orders (HMAC of "timestamp." and no body).
        if modes.get("stock") == "down":
            record({"party": "stock", "ok": False, "down": True})
            return self.answer(503, {"error": "down for maintenance"})
        timestamp = self.headers.get("X-Rapport-Timestamp", "")
        expected = "sha256=" + hmac.new(ERP_HMAC.encode(), f"{timestamp}.".encode(), hashlib.sha256).hexdigest()
        ok = self.headers.get("X-Signature") == expected
        sku = unquote(url.path.rsplit("/", 1)[1])
        record({"party": "stock", "ok": ok, "sku": sku})
        if not ok:
            return self.answer(401, {"error": "bad signature"})
        self.answer(200, {"data": {"sku": sku, "available": STOCK.get(sku, 0)}})

    def do_POST(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if url.path == "/_mode":
            modes[query["party"]] = query["mode"]
            return self.answer(200, {})
        if url.path == "/_sign":
            now = datetime.datetime.now(tz=datetime.timezone.utc)
            signature = Webhook(query["secret"]).sign(query["id"], now, raw.decode())
            return self.answer(200, {
                "webhook-id": query["id"],
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature,
            })
        party = {
            "/cgi-bin/webhook/send": "wecom",
            "/robot/send": "dingtalk",
            "/aliyun/": "aliyun",
            "/tencent/": "tencent",
            "/sms-gateway": "gateway",
        }.get(url.path)
        if url.path.startswith("/open-apis/bot/v2/hook/"):
            party = "feishu"
        if url.path.startswith("/erp/orders/"):
            party = "erp"
        if party is None:
            return self.answer(404, {})
        if modes.get(party) == "down":
            record({"party": party, "ok": False, "down": True})
            return self.answer(503, {"error": "down for maintenance"})
        status, answer = 200, None
        body = {}
        if party == "wecom":
            body = json.loads(raw)
            answer = {"errcode": 0, "errmsg": "ok"} if query.get("key") == WECOM_KEY else {"errcode": 93000, "errmsg": "invalid webhook url"}
            ok = answer["errcode"] == 0
        elif party == "dingtalk":
            body = json.loads(raw)
            answer = dingtalk_check(query)
            ok = answer["errcode"] == 0
        elif party == "feishu":
            body = json.loads(raw)
            if url.path.rsplit("/", 1)[1] != FEISHU_HOOK:
                answer = {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            else:
                answer = feishu_check(body)
            ok = answer["code"] == 0
        elif party == "aliyun":
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            status, answer = aliyun_check(parse_qs(raw.decode()))
            ok = answer["Code"] == "OK"
        elif party == "tencent":
            body = json.loads(raw)
            answer = {"Response": {**tencent_check(self.headers, raw), "RequestId": "a0aa-test"}}
            ok = "Error" not in answer["Response"]
        elif party == "gateway":
            body = json.loads(raw)
            ok = self.headers.get("Authorization") == f"Bearer {GATEWAY_TOKEN}"
            status, answer = (200, {"result": "queued"}) if ok else (401, {"result": "unauthorized"})
        else:
            body = json.loads(raw) if raw else {}
            timestamp = self.headers.get("X-Rapport-Timestamp", "")
            expected = "sha256=" + hmac.new(ERP_HMAC.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
            ok = self.headers.get("X-Signature") == expected
            order_no = unquote(url.path.rsplit("/", 1)[1])
            status, answer = (200, {"data": {"orderNo": f"SO-{order_no}", "status": "SHIPPED"}}) if ok else (401, {"error": "bad signature"})
        record({"party": party, "ok": ok, "path": url.path, "query": query, "body": body, "headers": dict(self.headers)})
        self.answer(status, answer)


def free_port():
    # aiosmtpd's controller connects to its port to see it is up, so it needs a real one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    smtp_port = free_port()
    controller = Controller(
        Smtp(), hostname="127.0.0.1", port=smtp_port,
        authenticator=smtp_auth, auth_required=True, auth_require_tls=False,
    )
    controller.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(json.dumps({"smtp": smtp_port, "http": http.server_address[1]}), flush=True)
    sys.stdin.read()
    http.shutdown()
    controller.stop()


if __name__ == "__main__":
    main()

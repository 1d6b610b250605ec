"""A counting proxy in front of moto: every AWS call made by a client is
forwarded unchanged and tallied by client (which proxy port it came in on),
service and operation, with the messages or items it carried and the
request units AWS would bill for it.

Operation: the `X-Amz-Target` header (`DynamoDB_20120810.PutItem`,
`AmazonSQS.SendMessage`), or `Action=` of a query-protocol SQS call.
"""

from __future__ import annotations

import copy
import http.client
import json
import math
import re
import threading
import urllib.parse
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SQS_CHUNK = 64 * 1024
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"}


def ddb_size(v) -> int:
    """Approximate DynamoDB size in bytes of one attribute value (JSON wire form)."""
    if not isinstance(v, dict) or len(v) != 1:
        return 0
    (t, x), = v.items()
    if t == "S":
        return len(x.encode())
    if t == "N":
        return len(x.lstrip("-").replace(".", "")) // 2 + 2
    if t == "B":
        return len(x) * 3 // 4
    if t in ("BOOL", "NULL"):
        return 1
    if t in ("SS", "NS", "BS"):
        return sum(len(e.encode()) for e in x)
    if t == "L":
        return 3 + sum(1 + ddb_size(e) for e in x)
    if t == "M":
        return 3 + sum(1 + len(k.encode()) + ddb_size(e) for k, e in x.items())
    return 0


def item_size(item: dict | None) -> int:
    return sum(len(k.encode()) + ddb_size(v) for k, v in (item or {}).items())


def wru(item: dict | None, transactional: bool = False) -> float:
    """Write request units: one per started KiB of the item (1 when unknown)."""
    units = max(1, math.ceil(item_size(item) / 1024)) if item else 1
    return units * (2 if transactional else 1)


def rru(total_bytes: int, consistent: bool, transactional: bool = False) -> float:
    """Read request units for one read of `total_bytes`: 1 per started 4 KiB
    strongly consistent, half that eventually consistent, twice in a transaction."""
    units = max(1, math.ceil(total_bytes / 4096))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2


class Tally:
    """Counters: (client, service, op) -> calls, messages/items, billed units."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: dict = defaultdict(lambda: {"calls": 0, "units": 0.0, "items": 0,
                                               "billed": 0.0, "empty": 0})

    def add(self, key, items: int, billed: float, empty: bool = False) -> None:
        with self.lock:
            r = self.rows[key]
            r["calls"] += 1
            r["items"] += items
            r["billed"] += billed
            r["empty"] += int(empty)

    def snapshot(self) -> dict:
        with self.lock:
            return copy.deepcopy(dict(self.rows))


def diff(after: dict, before: dict) -> dict:
    out = {}
    for k, v in after.items():
        b = before.get(k, {})
        d = {f: v[f] - b.get(f, 0) for f in v}
        if d["calls"]:
            out[k] = d
    return out


def classify(headers, body: bytes, resp: bytes) -> tuple[str, str, int, float, bool]:
    """(service, operation, messages or items, billed units, empty receive)."""
    target = headers.get("X-Amz-Target", "")
    if target:
        prefix, op = target.split(".", 1)
        service = "dynamodb" if prefix.startswith("DynamoDB") else (
            "sqs" if prefix == "AmazonSQS" else prefix.lower())
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        try:
            res = json.loads(resp or b"{}")
        except ValueError:
            res = {}
    else:
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        op = form.get("Action", ["?"])[0]
        if op.endswith("Batch"):
            n = len([k for k in form if re.search(r"Entry\.\d+\.Id$", k)])
        elif op == "ReceiveMessage":
            n = resp.count(b"<Message>")
        else:
            n = 1
        size = len(resp) if op == "ReceiveMessage" else len(body)
        return "sqs", op, n, math.ceil(max(size, 1) / SQS_CHUNK), op == "ReceiveMessage" and n == 0
    if service == "sqs":
        if op.endswith("Batch"):
            n = len(req.get("Entries", []))
        elif op == "ReceiveMessage":
            n = len(res.get("Messages", []))
        else:
            n = 1
        size = len(resp) if op == "ReceiveMessage" else len(body)
        return service, op, n, math.ceil(max(size, 1) / SQS_CHUNK), op == "ReceiveMessage" and n == 0
    if service == "dynamodb":
        return ("dynamodb", op) + ddb_units(op, req, res) + (False,)
    return service, op, 1, 0.0, False


def ddb_units(op: str, req: dict, res: dict) -> tuple[int, float]:
    """(items read or written, request units) of one DynamoDB call."""
    consistent = bool(req.get("ConsistentRead"))
    if op == "PutItem":
        return 1, wru(req.get("Item"))
    if op in ("UpdateItem", "DeleteItem"):
        return 1, 1.0
    if op == "BatchWriteItem":
        n, u = 0, 0.0
        for reqs in req.get("RequestItems", {}).values():
            for w in reqs:
                n += 1
                u += wru(w.get("PutRequest", {}).get("Item"))
        return n, u
    if op == "TransactWriteItems":
        items = req.get("TransactItems", [])
        return len(items), sum(wru(i.get("Put", {}).get("Item"), True) for i in items)
    if op == "GetItem":
        return 1, rru(item_size(res.get("Item")), consistent)
    if op in ("Query", "Scan"):
        size = sum(item_size(i) for i in res.get("Items", []))
        return 1, rru(size, consistent)
    if op == "BatchGetItem":
        n, u = 0, 0.0
        for items in res.get("Responses", {}).values():
            for i in items:
                n += 1
                u += rru(item_size(i), True)
        return max(n, 1), u
    if op == "TransactGetItems":
        items = res.get("Responses", [])
        return len(items), sum(rru(item_size(i.get("Item")), True, True) for i in items)
    return 1, 0.0


READ_OPS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class CountingProxy:
    """One HTTP proxy per client label, all forwarding to `upstream`
    (host, port) and counting into one `Tally`."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.tally = Tally()
        self.servers: list[ThreadingHTTPServer] = []

    def listen(self, label: str) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                resp = r.read()
                conn.close()
                service, op, items, billed, empty = classify(self.headers, body, resp)
                proxy.tally.add((label, service, op), items, billed, empty)
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp)))
                self.end_headers()
                self.wfile.write(resp)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()

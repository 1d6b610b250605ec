"""A small stand-in for the Lambda Runtime API, so the release `ingress`
and `dispatcher` binaries run as they do in Lambda, and an SQS event source
that polls the queue in batches for the dispatcher (the part Lambda's event
source mapping plays).

One `Runtime` per function process: the process long-polls
`GET /2018-06-01/runtime/invocation/next`, and answers with
`POST /2018-06-01/runtime/invocation/{id}/response` (or `/error`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Invocation:
    def __init__(self, event: dict):
        self.id = str(uuid.uuid4())
        self.event = json.dumps(event).encode()
        self.done = threading.Event()
        self.response: bytes | None = None
        self.error: bytes | None = None
        self.started = 0.0
        self.duration = 0.0


class Runtime:
    """The Runtime API of one function: `invoke(event)` hands the event to
    the function's next `/next` and waits for its answer."""

    def __init__(self, function_arn: str):
        self.arn = function_arn
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.running: dict[str, Invocation] = {}
        self.durations: list[float] = []
        self.init_error: bytes | None = None
        self.closed = False
        rt = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: bytes = b"", headers: dict | None = None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self._reply(404)
                while not rt.closed:
                    try:
                        inv = rt.pending.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    inv.started = time.monotonic()
                    rt.running[inv.id] = inv
                    deadline = int(time.time() * 1000) + 60_000
                    return self._reply(200, inv.event, {
                        "Lambda-Runtime-Aws-Request-Id": inv.id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline),
                        "Lambda-Runtime-Invoked-Function-Arn": rt.arn,
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                    })
                self._reply(503)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if self.path == PREFIX + "/init/error":
                    rt.init_error = body
                    return self._reply(202, b"{}")
                parts = self.path[len(PREFIX):].split("/")  # '', invocation, id, kind
                if len(parts) != 4 or parts[1] != "invocation":
                    return self._reply(404)
                inv = rt.running.pop(parts[2], None)
                if inv is None:
                    return self._reply(400, b'{"errorMessage": "unknown request id"}')
                inv.duration = time.monotonic() - inv.started
                rt.durations.append(inv.duration)
                if parts[3] == "response":
                    inv.response = body
                else:
                    inv.error = body or b"error"
                inv.done.set()
                self._reply(202, b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, event: dict, timeout: float = 60) -> dict:
        inv = Invocation(event)
        self.pending.put(inv)
        if not inv.done.wait(timeout):
            raise RuntimeError(f"{self.arn}: no answer within {timeout} s")
        if inv.error is not None:
            raise RuntimeError(f"{self.arn}: function error {inv.error[:500]!r}")
        return json.loads(inv.response or b"null")

    def close(self):
        self.closed = True
        self.server.shutdown()
        self.server.server_close()


def lambda_env(name: str, memory_mb: int, runtime: Runtime) -> dict:
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    }


def http_api_event(method: str, path: str, headers: dict, body: bytes) -> dict:
    """An API Gateway HTTP API (payload format 2.0) event for one request."""
    now = time.time()
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs.setdefault("host", "bench.execute-api.us-east-1.amazonaws.com")
    hdrs.setdefault("user-agent", "hooklane-bench")
    hdrs.update({"x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "https",
                 "x-forwarded-port": "443", "content-length": str(len(body))})
    path_only, _, query = path.partition("?")
    try:
        text, b64 = body.decode(), False
    except UnicodeDecodeError:
        text, b64 = base64.b64encode(body).decode(), True
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path_only,
        "rawQueryString": query, "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench",
            "domainName": hdrs["host"], "domainPrefix": "bench",
            "http": {"method": method, "path": path_only, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": hdrs["user-agent"]},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text, "isBase64Encoded": b64,
    }


def sqs_call(endpoint: str, op: str, payload: dict) -> dict:
    """One SQS call in the JSON protocol (moto does not check signatures)."""
    req = urllib.request.Request(endpoint, data=json.dumps(payload).encode(), method="POST",
                                 headers={
                                     "Content-Type": "application/x-amz-json-1.0",
                                     "X-Amz-Target": f"AmazonSQS.{op}",
                                     "Authorization": "AWS4-HMAC-SHA256 Credential=testing/"
                                     "20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, "
                                     "Signature=0"})
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
    return json.loads(raw) if raw else {}


class EventSource:
    """Lambda's SQS event source mapping for the dispatcher: receive up to
    10, invoke, delete every record the answer did not name in
    `batchItemFailures`. Runs until `stop()`."""

    def __init__(self, endpoint: str, queue_url: str, queue_arn: str, dispatcher: Runtime):
        self.endpoint, self.queue_url, self.arn = endpoint, queue_url, queue_arn
        self.dispatcher = dispatcher
        self.batches: list[int] = []
        self.failures = 0
        self.errors: list[str] = []
        self.paused = threading.Event()
        self.paused.set()
        self.idle = threading.Event()
        self.idle.set()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def resume(self):
        self.paused.clear()

    def pause(self):
        """Stops polling; answers once no receive or invocation is in flight."""
        self.idle.clear()
        self.paused.set()
        self.idle.wait(timeout=70)

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=10)

    def _loop(self):
        while not self.stopping:
            if self.paused.is_set():
                self.idle.set()
                time.sleep(0.05)
                continue
            self.idle.clear()
            try:
                self._once()
            except Exception as e:  # noqa: BLE001 - keep polling, report at the end
                self.errors.append(repr(e))
                time.sleep(0.5)

    def _once(self):
        got = sqs_call(self.endpoint, "ReceiveMessage", {
            "QueueUrl": self.queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
            "AttributeNames": ["All"], "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"]})
        msgs = got.get("Messages", [])
        if not msgs:
            return
        records = [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"], "attributes": m.get("Attributes", {}),
            "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody") or hashlib.md5(
                m["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs", "eventSourceARN": self.arn, "awsRegion": "us-east-1",
        } for m in msgs]
        self.batches.append(len(records))
        answer = self.dispatcher.invoke({"Records": records}) or {}
        failed = {f.get("itemIdentifier") for f in answer.get("batchItemFailures", [])}
        self.failures += len(failed)
        done = [m for m in msgs if m["MessageId"] not in failed]
        if done:
            sqs_call(self.endpoint, "DeleteMessageBatch", {
                "QueueUrl": self.queue_url,
                "Entries": [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(done)]})

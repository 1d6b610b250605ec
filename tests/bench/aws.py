"""Step 5: AWS calls per webhook and per published event, counted on the
wire. moto stands in for AWS behind a counting proxy; the release `ingress`
and `dispatcher` binaries run as Lambda functions under a Runtime API
stand-in; the stand-in's SQS polling plays Lambda's event source mapping
and is counted on its own. `hooklane dev --backend aws` (dispatcher off,
talking to moto directly, not counted) creates the table, the queue, the
bot, the hook and the endpoint through the admin API."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from awswire import READ_OPS, WRITE_OPS, CountingProxy, diff
from harness import (Procs, free_port, heading, http, http_json, line, sink_stats,
                     start_listener, wait_healthy)
from lambdas import EventSource, Runtime, http_api_event, lambda_env, sqs_call

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123"
TABLE, QUEUE = "hooklane-bench", "hooklane-bench"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}

# us-east-1 list prices, USD. Sources: stored copies of aws.amazon.com's
# pricing pages were not available; the figures below match the AWS
# whitepaper "How AWS Pricing Works" (Lambda) and current third-party
# summaries of the AWS pricing pages (HTTP API, SQS, DynamoDB on-demand
# after the November 2024 reduction).
PRICES = {
    "http_api_per_m": 1.00,      # HTTP API, first 300 M requests a month
    "sqs_per_m": 0.40,           # standard queue, per million requests (64 KiB chunks)
    "ddb_wru_per_m": 0.625,      # on-demand write request units
    "ddb_rru_per_m": 0.125,      # on-demand read request units
    "lambda_req_per_m": 0.20,    # Lambda requests
    "lambda_gbs_x86": 0.0000166667,  # Lambda duration per GB-second, x86_64
    "lambda_gbs_arm": 0.0000133334,  # arm64
}
PRICE_SOURCES = [
    "Lambda: docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html",
    "HTTP API: awsforengineers.com/blog/aws-api-gateway-pricing-explained (May 2025)",
    "SQS: cloudburn.io/blog/amazon-sqs-pricing (March 2026; 64 KiB chunk rule)",
    "DynamoDB: airbyte.com/data-engineering-resources/dynamodb-pricing (on-demand, Nov 2024 cut)",
]


@dataclass
class Settings:
    calls: int          # M: inbound webhooks, and as many publishes
    warmup: int
    drain: int
    bins: Path
    work: Path
    venv: Path
    template: Path


def template_memory(template: Path) -> tuple[int, int, str]:
    """(ingress MB, dispatcher MB, architecture) from the SAM template."""
    text = template.read_text()
    glob = re.search(r"^Globals:.*?MemorySize:\s*(\d+)", text, re.S | re.M)
    default = int(glob.group(1)) if glob else 128

    def fn(name: str) -> int:
        m = re.search(rf"^  {name}:\n(.*?)(?=^  \S)", text, re.S | re.M)
        mm = re.search(r"^\s{6}MemorySize:\s*(\d+)", m.group(1), re.M) if m else None
        return int(mm.group(1)) if mm else default

    arch = re.search(r"Architecture:\s*\n\s*Type: String\s*\n\s*Default:\s*(\S+)", text)
    return fn("IngressFunction"), fn("DispatcherFunction"), arch.group(1) if arch else "x86_64"


@dataclass
class Window:
    """What one kind of message cost: counts by client, invocations, durations."""
    kind: str
    n: int              # counted calls (the ingress's divisor)
    drained_n: int      # messages the event source drained (warm-up calls included)
    accepted: int = 0
    counts: dict = field(default_factory=dict)
    ingress_s: list = field(default_factory=list)
    dispatcher_s: list = field(default_factory=list)
    batches: list = field(default_factory=list)
    delivered: int = 0
    drained: bool = True


class Stack:
    def __init__(self, procs: Procs, s: Settings):
        self.procs, self.s = procs, s
        moto_port = free_port()
        self.moto_url = f"http://127.0.0.1:{moto_port}"
        moto = procs.start("moto", [str(s.venv / "bin" / "moto_server"), "-H", "127.0.0.1",
                                    "-p", str(moto_port)])
        deadline = time.monotonic() + 30
        while True:
            try:
                http("GET", self.moto_url + "/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or moto.poll() is not None:
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.2)
        self.sink, _ = start_listener(procs, "aws-sink", s.bins / "bench-sink")
        self.proxy = CountingProxy(("127.0.0.1", moto_port))
        ports = {label: self.proxy.listen(label) for label in
                 ("ingress", "dispatcher", "event source")}

        # Setup through hooklane dev's admin API, straight to moto (not counted).
        port = free_port()
        self.dev_url = f"http://127.0.0.1:{port}"
        dev = procs.start("aws-dev", [str(s.bins / "hooklane"), "dev", "--backend", "aws",
                                      "--addr", f"127.0.0.1:{port}",
                                      "--data-dir", str(s.work / "aws-dev-data")],
                          env=dict(AWS_ENV, AWS_ENDPOINT_URL=self.moto_url,
                                   HOOKLANE_TABLE=TABLE, HOOKLANE_QUEUE_NAME=QUEUE,
                                   HOOKLANE_DISPATCH="false", HOOKLANE_LOG="warn",
                                   HOOKLANE_ADMIN_TOKEN=ADMIN_TOKEN))
        wait_healthy(self.dev_url, dev, procs.log_path("aws-dev"), timeout=60)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        bot = http_json("POST", self.dev_url + "/v1/bots", {"name": "bench", "id": "bench"},
                        admin)
        self.api_key = bot["api_key"]
        self.hook = http_json("POST", self.dev_url + "/v1/bots/bench/hooks", {
            "name": "bench", "auth": {"type": "api_key"},
            "actions": [{"type": "http_request", "method": "POST", "url": self.sink + "/action",
                         "body": {"run": "{event.id}", "order": "{payload.order}"}}]},
            admin)["id"]
        http_json("POST", self.dev_url + "/v1/bots/bench/endpoints",
                  {"name": "sink", "type": "custom", "url": self.sink + "/endpoint"}, admin)
        procs.stop(dev)

        queue_url = sqs_call(self.moto_url, "GetQueueUrl", {"QueueName": QUEUE})["QueueUrl"]
        self.ingress_mb, self.dispatcher_mb, self.arch = template_memory(s.template)
        self.ingress = Runtime("arn:aws:lambda:us-east-1:123456789012:function:hooklane-ingress")
        self.dispatcher = Runtime(
            "arn:aws:lambda:us-east-1:123456789012:function:hooklane-dispatcher")
        common = dict(AWS_ENV, HOOKLANE_TABLE=TABLE, HOOKLANE_QUEUE_URL=queue_url,
                      HOOKLANE_ALLOW_PRIVATE_TARGETS="true", HOOKLANE_LOG="warn")
        procs.start("lambda-ingress", [str(s.bins / "ingress")], env=dict(
            common, AWS_ENDPOINT_URL=ports["ingress"],
            **lambda_env("hooklane-ingress", self.ingress_mb, self.ingress)))
        procs.start("lambda-dispatcher", [str(s.bins / "dispatcher")], env=dict(
            common, AWS_ENDPOINT_URL=ports["dispatcher"],
            **lambda_env("hooklane-dispatcher", self.dispatcher_mb, self.dispatcher)))
        self.esm = EventSource(ports["event source"], queue_url,
                               f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}", self.dispatcher)
        self.body_hook = (s.work / "hook.json").read_bytes()
        self.body_publish = (s.work / "publish.json").read_bytes()

    def close(self):
        self.esm.stop()
        self.ingress.close()
        self.dispatcher.close()
        self.proxy.close()

    def call(self, kind: str) -> int:
        path = (f"/hooks/bench/{self.hook}" if kind == "webhook" else "/v1/bots/bench/events")
        body = self.body_hook if kind == "webhook" else self.body_publish
        answer = self.ingress.invoke(http_api_event("POST", path, {
            "content-type": "application/json", "authorization": f"Bearer {self.api_key}"},
            body))
        return int(answer.get("statusCode", 0))

    def round(self, kind: str, n: int, warm: int) -> Window:
        """`warm` calls, then n counted calls, with the event source paused;
        then the event source drains all of them. The ingress is counted
        over the n calls only (its caches warm), the dispatcher and the event
        source over the drain, per message drained (warm + n)."""
        w = Window(kind, n, warm + n)
        start = sink_stats(self.sink)["unique"]
        w.accepted = sum(self.call(kind) == 202 for _ in range(warm))
        before = self.proxy.tally.snapshot()
        i0 = len(self.ingress.durations)
        w.accepted += sum(self.call(kind) == 202 for _ in range(n))
        mid = self.proxy.tally.snapshot()
        d0, b0 = len(self.dispatcher.durations), len(self.esm.batches)
        w.ingress_s = self.ingress.durations[i0:]
        self.esm.resume()
        deadline = time.monotonic() + self.s.drain
        while time.monotonic() < deadline:
            if sink_stats(self.sink)["unique"] - start >= w.accepted:
                break
            time.sleep(0.2)
        else:
            w.drained = False
        time.sleep(1.5)  # the last batch's deletes, then an empty poll
        self.esm.pause()
        w.delivered = sink_stats(self.sink)["unique"] - start
        w.counts = diff(mid, before)
        w.counts.update(diff(self.proxy.tally.snapshot(), mid))
        w.dispatcher_s = self.dispatcher.durations[d0:]
        w.batches = self.esm.batches[b0:]
        return w


def per_msg(w: Window, ops, service: str, field_: str = "items") -> float:
    """A figure per message: the ingress's over the counted calls, the rest
    over every message drained."""
    total = 0.0
    for (lab, svc, op), v in w.counts.items():
        if svc == service and op in ops:
            total += v[field_] / (w.n if lab == "ingress" else w.drained_n)
    return total


SENDS = {"SendMessage", "SendMessageBatch"}
RECEIVES = {"ReceiveMessage"}
DELETES = {"DeleteMessage", "DeleteMessageBatch"}


def report(w: Window, stack: Stack, kind_label: str) -> float:
    heading(f"5. AWS calls per {kind_label} ({w.drained_n} sent, {w.n} of them counted at "
            f"the ingress; {w.accepted} accepted, {w.delivered} delivered"
            f"{'' if w.drained else ', NOT all within the bound'}; per message, batch entries "
            "counted one by one)")
    print(f"  {'client':<14} {'service':<9} {'operation':<28} {'calls/msg':>10} "
          f"{'items/msg':>10} {'units/msg':>10}")
    for (lab, svc, op), v in sorted(w.counts.items()):
        n = w.n if lab == "ingress" else w.drained_n
        empty = f"  ({v['empty']} empty receives, not priced)" if v["empty"] else ""
        print(f"  {lab:<14} {svc:<9} {op:<28} {v['calls'] / n:>10.2f} {v['items'] / n:>10.2f} "
              f"{v['billed'] / n:>10.2f}{empty}")
    per = {
        "SQS sends": per_msg(w, SENDS, "sqs"),
        "SQS receives (event source + dispatcher)": per_msg(w, RECEIVES, "sqs"),
        "SQS deletes (event source + dispatcher)": per_msg(w, DELETES, "sqs"),
        "DynamoDB reads": per_msg(w, READ_OPS, "dynamodb"),
        "DynamoDB writes": per_msg(w, WRITE_OPS, "dynamodb"),
    }
    for k, v in per.items():
        if kind_label == "inbound webhook" and k == "SQS sends":
            line(k, f"{v:.2f}", "1", abs(v - 1) < 0.005)
        elif kind_label == "inbound webhook" and k == "DynamoDB reads":
            line(k, f"{v:.2f}", "0 (warm)", v < 0.005)
        elif kind_label == "inbound webhook" and k == "DynamoDB writes":
            line(k, f"{v:.2f}", "<= 1", v <= 1.005)
        else:
            line(k, f"{v:.2f}")

    # Cost per million.
    p = PRICES
    gbs_price = p["lambda_gbs_arm"] if stack.arch == "arm64" else p["lambda_gbs_x86"]
    # Empty receives are a cost of the event source's polling over time, not per message.
    sqs_units = sum((v["billed"] - v["empty"]) / (w.n if lab == "ingress" else w.drained_n)
                    for (lab, svc, op), v in w.counts.items() if svc == "sqs")
    wru = per_msg(w, WRITE_OPS, "dynamodb", "billed")
    rru = per_msg(w, READ_OPS, "dynamodb", "billed")
    invocations = len(w.ingress_s) / w.n + len(w.dispatcher_s) / w.drained_n
    gbs = (sum(w.ingress_s) / w.n * stack.ingress_mb
           + sum(w.dispatcher_s) / w.drained_n * stack.dispatcher_mb) / 1024
    cost = {
        "HTTP API": p["http_api_per_m"],
        "SQS": sqs_units * p["sqs_per_m"],
        "DynamoDB writes": wru * p["ddb_wru_per_m"],
        "DynamoDB reads": rru * p["ddb_rru_per_m"],
        "Lambda requests": invocations * p["lambda_req_per_m"],
        "Lambda GB-seconds": gbs * gbs_price * 1e6,
    }
    print(f"  cost per million {kind_label}s (us-east-1):")
    for k, v in cost.items():
        print(f"    {k:<20} ${v:.3f}")
    total = sum(cost.values())
    batch = sum(w.batches) / len(w.batches) if w.batches else 0
    print(f"    ({sqs_units:.2f} SQS requests, {wru:.2f} WRU, {rru:.2f} RRU, "
          f"{invocations:.2f} invocations per message; mean dispatcher batch {batch:.1f}; "
          f"ingress {1000 * avg(w.ingress_s):.1f} ms x {stack.ingress_mb} MB, dispatcher "
          f"{1000 * avg(w.dispatcher_s):.1f} ms/batch x {stack.dispatcher_mb} MB)")
    line("total without Lambda GB-seconds (moto-bound)",
         f"${total - cost['Lambda GB-seconds']:.2f}/M")
    if kind_label == "inbound webhook":
        line("total", f"${total:.2f}/M", "about $2.40/M", total <= 2.40 * 1.05)
    else:
        line("total", f"${total:.2f}/M")
    return total


def avg(xs: list) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def assumptions(stack: Stack) -> None:
    heading("5. Pricing assumptions")
    p = PRICES
    for text in [
        f"us-east-1 list prices: HTTP API ${p['http_api_per_m']:.2f}/M requests (one per call, "
        "under 512 KB); SQS standard "
        f"${p['sqs_per_m']:.2f}/M requests, each 64 KiB of a call's payload one request; "
        f"DynamoDB on-demand ${p['ddb_wru_per_m']}/M WRU, ${p['ddb_rru_per_m']}/M RRU; Lambda "
        f"${p['lambda_req_per_m']:.2f}/M requests and ${p['lambda_gbs_x86']:.10f}/GB-s x86_64 "
        f"(${p['lambda_gbs_arm']:.10f} arm64). No free tiers, no data transfer, no CloudWatch.",
        f"Memory from infra/template.yaml: ingress {stack.ingress_mb} MB, dispatcher "
        f"{stack.dispatcher_mb} MB, architecture {stack.arch}; event source batch of up to 10 "
        "(calls are made with the event source paused, so batches fill as in a busy queue).",
        "Durations are measured here (next -> response at the Runtime API stand-in) against "
        "moto on loopback: moto is slower than DynamoDB and SQS, so GB-seconds are an upper "
        "bound; the Lambda cost is billed per 1 ms of them.",
        "WRU: one per started KiB of a PutItem item (UpdateItem/DeleteItem: 1; transactions "
        "x2). RRU: one per started 4 KiB read strongly consistent, half eventually consistent "
        "(a Query counts its items' total size once). Item sizes are estimated from the wire "
        "JSON.",
        "Warm path: a warm-up round runs first, and each counted round starts with warm-up "
        "calls right before the counted ones, so the ingress's caches (bots, hooks; 5 s) "
        "are warm; the dispatcher's figures are per message it drained, warm-up included. "
        "The event source's empty receives are a cost of polling over time and are left out "
        "of the per-message price.",
        "Price sources (stored copies found with the search tool; AWS's own pricing pages "
        "were not among them): " + "; ".join(PRICE_SOURCES),
    ]:
        print(f"  - {text}")


def run(procs: Procs, s: Settings) -> None:
    heading(f"5. AWS path: ingress and dispatcher as Lambda functions against moto, "
            f"{s.calls} webhooks and {s.calls} publishes")
    stack = Stack(procs, s)
    try:
        stack.round("webhook", 0, s.warmup)  # the dispatcher's first calls too
        stack.round("publish", 0, s.warmup)
        hooks = stack.round("webhook", s.calls, s.warmup)
        pubs = stack.round("publish", s.calls, s.warmup)
        report(hooks, stack, "inbound webhook")
        report(pubs, stack, "published event")
        assumptions(stack)
        if stack.esm.failures or stack.esm.errors:
            print(f"  event source: {stack.esm.failures} records reported failed; errors: "
                  f"{stack.esm.errors[:3]}")
    finally:
        stack.close()

"""Steps 1-4 of the benchmark: `hooklane dev` on the embedded backend under
wrk, beside a bare hyper server, and end to end to a local sink."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from harness import (Procs, WrkResult, cpu_seconds, free_port, heading, http_json, line,
                     proc_status, run_wrk, sink_stats, start_listener, wait_for_sink,
                     wait_healthy)

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123"


@dataclass
class Settings:
    seconds: int
    conns: int
    threads: int
    drain: int
    stall: int
    bins: Path  # target/release
    work: Path


class Dev:
    """One `hooklane dev` (release, embedded backend, fresh data dir)."""

    def __init__(self, procs: Procs, s: Settings, name: str):
        self.procs, self.name = procs, name
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = procs.start(name, [
            str(s.bins / "hooklane"), "dev", "--addr", f"127.0.0.1:{port}",
            "--data-dir", str(s.work / f"{name}-data")],
            env={"HOOKLANE_ADMIN_TOKEN": ADMIN_TOKEN, "HOOKLANE_LOG": "warn",
                 "HOOKLANE_BACKEND": "embedded"})
        wait_healthy(self.url, self.proc, procs.log_path(name))
        self.admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        bot = http_json("POST", self.url + "/v1/bots", {"name": "bench", "id": "bench"},
                        self.admin)
        self.api_key = bot["api_key"]

    def post(self, path: str, body: dict) -> dict:
        return http_json("POST", self.url + path, body, self.admin)

    def peak_rss_mib(self) -> float:
        return proc_status(self.proc.pid, "VmHWM") / 1024

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.procs.stop(self.proc)


def wrk_line(label: str, r: WrkResult) -> None:
    line(f"{label}: accepted/s", f"{r.accepted_per_s:,.0f}")
    line(f"{label}: p50 / p99", f"{r.p50_ms:.2f} / {r.p99_ms:.2f} ms")
    if r.other or r.errors:
        line(f"{label}: other answers / socket errors", f"{r.other} / {r.errors}")


def hook_calls(procs: Procs, s: Settings, sink: str, bodies: dict[str, Path]) -> dict:
    """Step 1 (bare hyper vs hooklane dev, hook calls under wrk), step 3 (the
    same calls' http_request actions reaching the sink) and step 4 (peak RSS)."""
    heading(f"1. Hook calls accepted: wrk {s.threads} threads, {s.conns} connections, "
            f"{s.seconds} s, {bodies['hook'].stat().st_size} B JSON body;\n   "
            "the hook: api_key auth, one http_request action to the sink")
    bare_url, bare_proc = start_listener(procs, "bare", s.bins / "bench-bare")
    bare = run_wrk(bare_url + "/hooks/bench/h", bodies["hook"], "Bearer x", s.seconds,
                   s.conns, s.threads, s.work, "bare")
    procs.stop(bare_proc)
    wrk_line("bare hyper (202)", bare)

    dev = Dev(procs, s, "dev-hooks")
    hook = dev.post("/v1/bots/bench/hooks", {
        "name": "bench", "auth": {"type": "api_key"},
        "actions": [{"type": "http_request", "method": "POST", "url": sink + "/action",
                     "body": {"run": "{event.id}", "order": "{payload.order}"}}]})
    http_json("POST", sink + "/_reset")
    cpu0 = dev.cpu()
    r = run_wrk(f"{dev.url}/hooks/bench/{hook['id']}", bodies["hook"], f"Bearer {dev.api_key}",
                s.seconds, s.conns, s.threads, s.work, "dev-hooks")
    cpu_load = dev.cpu() - cpu0
    wrk_line("hooklane dev", r)
    ratio = r.accepted_per_s / bare.accepted_per_s if bare.accepted_per_s else 0.0
    line("ratio hooklane / bare", f"{ratio:.3f}", ">= 0.5", ratio >= 0.5)
    line("hooklane p99", f"{r.p99_ms:.2f} ms", "< 5 ms", r.p99_ms < 5)
    line("hooklane CPU during the load", f"{cpu_load:.1f} s in {r.seconds:.1f} s")

    heading("3. Hook call -> http_request action, end to end (the calls of step 1)")
    stats, bounded = wait_for_sink(sink, r.accepted, s.drain, s.stall)
    report_e2e(r, stats, bounded, s, target=5000)
    cpu_all = dev.cpu() - cpu0

    heading("4. Peak RSS of hooklane dev (VmHWM) through steps 1 and 3")
    rss = dev.peak_rss_mib()
    line("peak RSS", f"{rss:.1f} MiB", "< 100 MiB", rss < 100)
    line("hooklane CPU, load + drain", f"{cpu_all:.1f} s")
    dev.stop()
    return {"bare": bare, "hooks": r, "ratio": ratio, "rss": rss}


def report_e2e(r: WrkResult, stats: dict, bounded: bool, s: Settings, target: int) -> float:
    delivered = stats["unique"]
    span = (stats["last_ms"] - r.started_ms) / 1000 if stats["last_ms"] else 0.0
    rate = delivered / span if span > 0 else 0.0
    line("accepted (202 answers read by wrk)", f"{r.accepted:,}")
    line("delivered to the sink (unique)", f"{delivered:,}")
    line("requests at the sink (with repeats)", f"{stats['total']:,}")
    if span:
        line("first call -> last delivery", f"{span:.1f} s")
    line("end-to-end rate", f"{rate:,.0f}/s", f">= {target:,}/s", rate >= target)
    # Calls in flight when wrk stopped (at most one per connection) may be
    # accepted without wrk reading the answer: delivered may exceed accepted.
    all_in = delivered >= r.accepted
    line("every accepted message delivered", "yes" if all_in else "no", "yes", all_in)
    if bounded:
        print(f"  (stopped waiting: {s.drain} s at most, or {s.stall} s without a new delivery)")
    return rate


def publishes(procs: Procs, s: Settings, sink: str, bodies: dict[str, Path]) -> dict:
    """Step 2: publish -> signed delivery to a custom endpoint on the sink."""
    heading(f"2. Publish -> delivery, end to end: wrk {s.threads} threads, {s.conns} "
            f"connections, {s.seconds} s, {bodies['publish'].stat().st_size} B JSON body")
    dev = Dev(procs, s, "dev-publish")
    dev.post("/v1/bots/bench/endpoints", {"name": "sink", "type": "custom",
                                          "url": sink + "/endpoint"})
    http_json("POST", sink + "/_reset")
    cpu0 = dev.cpu()
    r = run_wrk(f"{dev.url}/v1/bots/bench/events", bodies["publish"], f"Bearer {dev.api_key}",
                s.seconds, s.conns, s.threads, s.work, "dev-publish")
    wrk_line("publishes", r)
    stats, bounded = wait_for_sink(sink, r.accepted, s.drain, s.stall)
    rate = report_e2e(r, stats, bounded, s, target=8700)
    line("peak RSS (this instance)", f"{dev.peak_rss_mib():.1f} MiB")
    line("hooklane CPU, load + drain", f"{dev.cpu() - cpu0:.1f} s")
    dev.stop()
    return {"publish": r, "rate": rate, "delivered": stats["unique"],
            "sink": sink_stats(sink)}


def run(procs: Procs, s: Settings, bodies: dict[str, Path]) -> None:
    sink, _ = start_listener(procs, "sink", s.bins / "bench-sink")
    t0 = time.monotonic()
    hook_calls(procs, s, sink, bodies)
    publishes(procs, s, sink, bodies)
    print(f"\n  (embedded-backend steps took {time.monotonic() - t0:.0f} s)", flush=True)

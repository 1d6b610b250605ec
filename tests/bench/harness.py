"""Shared pieces of the benchmark: child processes that are always stopped,
loopback HTTP calls, wrk runs, the sink's tally, and the report lines.

Python standard library only. Every wait is bounded in time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------- processes


class Procs:
    """Child processes started by the benchmark; `stop_all` ends each of
    them (by its own id) and is safe to call more than once."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.children: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        """Starts a child in its own process group, so `stop` also ends
        anything the child started."""
        log = open(self.logdir / f"{name}.log", "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        p.bench_name = name  # type: ignore[attr-defined]
        self.children.append(p)
        return p

    def log_path(self, name: str) -> Path:
        return self.logdir / f"{name}.log"

    def stop(self, p: subprocess.Popen, grace: float = 5.0) -> None:
        """Ends the child's process group (the group's id is the child's own)."""
        def signal_group(sig):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass

        if p.poll() is None:
            signal_group(signal.SIGTERM)
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                signal_group(signal.SIGKILL)
                p.wait(timeout=5)
        signal_group(signal.SIGTERM)  # anything the child left behind in its group
        if p in self.children:
            self.children.remove(p)

    def stop_all(self) -> None:
        for p in list(reversed(self.children)):
            try:
                self.stop(p)
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_line(path: Path, pattern: str, timeout: float, proc: subprocess.Popen) -> re.Match:
    """Waits until the log at `path` has a line matching `pattern`."""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                m = rx.search(line)
                if m:
                    return m
        if proc.poll() is not None:
            raise RuntimeError(f"{path.name}: exited with {proc.returncode}:\n{tail(path)}")
        time.sleep(0.05)
    raise RuntimeError(f"{path.name}: no line matching {pattern!r} within {timeout} s:\n{tail(path)}")


def tail(path: Path, n: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def start_listener(procs: Procs, name: str, binary: Path) -> tuple[str, subprocess.Popen]:
    """Starts one of the test kit's bench servers on a free loopback port
    and answers its base URL and process."""
    p = procs.start(name, [str(binary), "127.0.0.1:0"])
    m = wait_for_line(procs.log_path(name), r"listening (\S+)", 10, p)
    return f"http://{m.group(1)}", p


def proc_status(pid: int, field: str) -> int:
    """A kB figure from /proc/PID/status (VmHWM, VmRSS); 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


# -------------------------------------------------------------------- http


def http(method: str, url: str, body=None, headers: dict | None = None,
         timeout: float = 10.0) -> tuple[int, bytes]:
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_json(method: str, url: str, body=None, headers: dict | None = None) -> dict:
    status, raw = http(method, url, body, headers)
    if not 200 <= status < 300:
        raise RuntimeError(f"{method} {url}: {status} {raw[:300]!r}")
    return json.loads(raw) if raw else {}


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}:\n{tail(log)}")
        try:
            if http("GET", url + "/healthz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}/healthz did not answer within {timeout} s:\n{tail(log)}")


# --------------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    accepted: int
    other: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    started_ms: int  # Unix epoch ms just before wrk started

    @property
    def accepted_per_s(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


def run_wrk(url: str, body_file: Path, auth: str | None, seconds: int, conns: int,
            threads: int, logdir: Path, name: str) -> WrkResult:
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file), BENCH_AUTH=auth or "")
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(HERE / "wrk.lua"), url]
    started_ms = int(time.time() * 1000)
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    (logdir / f"{name}.wrk.txt").write_text(out.stdout + out.stderr)
    m = re.search(r"^BENCH (.*)$", out.stdout, re.M)
    if not m:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    f = dict(kv.split("=") for kv in m.group(1).split())
    return WrkResult(
        accepted=int(f["accepted"]), other=int(f["other"]), requests=int(f["requests"]),
        seconds=int(f["duration_us"]) / 1e6, p50_ms=int(f["p50_us"]) / 1000,
        p99_ms=int(f["p99_us"]) / 1000, errors=int(f["errors"]), started_ms=started_ms)


# -------------------------------------------------------------------- sink


def sink_stats(sink: str) -> dict:
    return http_json("GET", sink + "/_stats")


def wait_for_sink(sink: str, expected: int, bound: float, stall: float,
                  settle: float = 1.0) -> tuple[dict, bool]:
    """Waits until the sink has `expected` unique messages, at most `bound`
    seconds, giving up early after `stall` seconds without a new one; once
    there, waits until `settle` seconds pass without a new one (calls still
    in flight when wrk stopped were accepted too, uncounted by wrk).
    Answers the last tally and whether the wait stopped at a bound."""
    deadline = time.monotonic() + bound
    last_unique, last_change = -1, time.monotonic()
    while True:
        s = sink_stats(sink)
        now = time.monotonic()
        if s["unique"] != last_unique:
            last_unique, last_change = s["unique"], now
        if s["unique"] >= expected and now - last_change >= settle:
            return s, False
        if now >= deadline or (s["unique"] < expected and now - last_change >= stall):
            return s, s["unique"] < expected
        time.sleep(0.1)


# ------------------------------------------------------------------ report


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def line(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    t = f"   target {target}: {verdict(ok)}" if target and ok is not None else (
        f"   target {target}" if target else "")
    print(f"  {label:<44} {value:>16}{t}", flush=True)


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def json_body(kind: str, size: int = 1024) -> bytes:
    """A JSON body of about `size` bytes: a hook call (with bot-builder
    variables) or an event publish."""
    items = []
    base = {"order": "ord_01HZX3", "user": {"id": "u_42", "name": "Ada Lovelace",
                                              "email": "ada@example.com"}}
    if kind == "publish":
        doc = {"event": "order.created", "data": dict(base, items=items)}
    else:
        doc = dict(base, items=items,
                   variables=[{"name": "Amount", "variable": "{amount}", "value": "12"}])
    n = 0
    while len(json.dumps(doc)) < size - 60:
        items.append({"sku": f"SKU-{n:05d}", "qty": n % 7 + 1, "price": "19.90"})
        n += 1
    return json.dumps(doc).encode()

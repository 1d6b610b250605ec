"""Hooklane's throughput benchmark (run through tests/bench.sh): prints
figures beside their targets; asserts nothing."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aws
import local
from harness import Procs, json_body


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(prog="tests/bench.sh", description=__doc__)
    ap.add_argument("--seconds", type=int, default=10, help="each wrk load phase (10)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--drain", type=int, default=60,
                    help="longest wait for the sink to have every message (60 s)")
    ap.add_argument("--stall", type=int, default=20,
                    help="stop waiting after this long without a new delivery (20 s)")
    ap.add_argument("--aws-calls", type=int, default=200,
                    help="webhooks, and publishes, sent on the AWS path (200)")
    ap.add_argument("--only", choices=["local", "aws"], help="run only one part")
    ap.add_argument("--venv", type=Path, default=root / ".venv",
                    help="the virtualenv with moto_server (tests/run.sh creates .venv)")
    ap.add_argument("--bins", type=Path,
                    default=Path(os.environ.get("CARGO_TARGET_DIR", root / "target")) / "release")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work dir and print it")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hooklane-bench-"))
    procs = Procs(work)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    bodies = {"hook": work / "hook.json", "publish": work / "publish.json"}
    bodies["hook"].write_bytes(json_body("hook"))
    bodies["publish"].write_bytes(json_body("publish"))

    commit = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"],
                            capture_output=True, text=True).stdout.strip()
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.machine())
    print(f"Hooklane throughput benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"  commit {commit}")
    print(f"  machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    print(f"  fsync of a 4 KiB append in the data dir's file system: {fsync_ms(work):.2f} ms "
          "(mean of 20)", flush=True)
    t0 = time.monotonic()
    try:
        if a.only != "aws":
            part("embedded backend", lambda: local.run(procs, local.Settings(
                seconds=a.seconds, conns=a.connections, threads=a.threads, drain=a.drain,
                stall=a.stall, bins=a.bins, work=work), bodies))
            procs.stop_all()
        if a.only != "local":
            moto = a.venv / "bin" / "moto_server"
            if not moto.exists():
                print(f"\n== 5. AWS path skipped: {moto} is missing (tests/run.sh creates "
                      ".venv; or give --venv)")
            else:
                part("AWS path", lambda: aws.run(procs, aws.Settings(
                    calls=a.aws_calls, warmup=5, drain=a.drain, bins=a.bins, work=work,
                    venv=a.venv, template=root / "infra" / "template.yaml")))
    finally:
        procs.stop_all()
        print(f"\n(benchmark took {time.monotonic() - t0:.0f} s; logs in {work}"
              f"{'' if a.keep_logs else ', removed'})")
        if not a.keep_logs:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def part(name: str, run) -> None:
    """Runs one part; a failure is printed and the next part still runs."""
    try:
        run()
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
        print(f"\n!! the {name} part stopped: {e}", flush=True)


def fsync_ms(directory: Path, n: int = 20) -> float:
    """Mean time of a 4 KiB write + fsync in `directory`, in milliseconds:
    the floor under one durable write at a time."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        t = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            os.fsync(fd)
        return (time.perf_counter() - t) / n * 1000
    finally:
        os.close(fd)
        path.unlink()


if __name__ == "__main__":
    sys.exit(main())

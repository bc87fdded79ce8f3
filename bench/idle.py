"""CPU used by an idle `python app.py --watch` server: the watcher must not wake itself, and the chat's
queue must not spin.

    python bench/idle.py [--seconds 20]

Target (SECURITY.md, the watcher): under 0.1 CPU-s in 20 s. Served from a copy of the index and article,
so nothing of the project is touched.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=15.0, help="wait after the chat is ready")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-idle-") as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        shutil.copytree(ROOT / "index", Path(tmp) / "index")
        shutil.copy(ROOT / "data" / "sino-soviet-relations.txt", Path(tmp) / "article.txt")
        server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--watch",
                                   "--index", f"{tmp}/index", "--source", f"{tmp}/article.txt"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=2).json().get("chat_ready"):
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                time.sleep(0.5)
            time.sleep(args.settle)
            before = cpu_seconds(server.pid)
            time.sleep(args.seconds)
            used = cpu_seconds(server.pid) - before
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(15)
    print(f"idle --watch server: {used:.2f} CPU-s in {args.seconds:.0f} s (target < 0.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

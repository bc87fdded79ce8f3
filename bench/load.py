"""Load on the running app: many users at once on the JSON API, the Gradio API beside it, a person
arriving meanwhile, and a soak with rebuilds. Writes bench/load.json and prints a Markdown table.

    python bench/load.py [--users 16,64] [--seconds 60] [--gradio-seconds 30] [--soak 600]

The app runs as `python app.py --watch` in its own process on a copy of the index and the article, so
the soak's rebuilds (the copy edited on disk once a minute) never touch the repository. Every answer
is checked: its citations must point at passages it shows and quote them. Nothing here is a test:
the figures are reported whether or not they meet the targets.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "load"
QUESTIONS = [json.loads(line)["question"] for line in
             (ROOT / "data" / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def citations_valid(data: dict) -> bool:
    shown = {p["n"] for p in data["passages"]}
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    if not markers <= shown or set(data["citations"]) != markers:
        return False
    return all(piece.strip() in data["passages"][int(n) - 1]["text"]
               for piece, n in re.findall(r"(.+?)\s*\[(\d+)\]", data["answer"]))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class App:
    """`python app.py --watch` on a copy of the index and the article."""

    def __init__(self) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        shutil.copytree(ROOT / "index", WORK / "index")
        self.source = WORK / "article.txt"
        shutil.copy(ROOT / "data" / "sino-soviet-relations.txt", self.source)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(self.port), "--index", str(WORK / "index"),
             "--source", str(self.source), "--watch"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        while True:  # the API answers first; the chat page follows once Gradio is loaded
            try:
                if httpx.get(self.url + "/api/status", timeout=2).json().get("chat_ready"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"app.py exited:\n{self.process.stderr.read()[-2000:]}")
            time.sleep(0.1)
        self.start_s = time.perf_counter() - began

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def keep_asking(ask, stop: float, n: int, out: dict, lock: threading.Lock) -> None:
    """One user: ask the questions in turn until `stop`; `ask(question)` returns (answered, citations valid)."""
    i = n
    while time.perf_counter() < stop:
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        began = time.perf_counter()
        try:
            ok, valid = ask(question)
        except Exception:
            ok = valid = False
        elapsed = time.perf_counter() - began
        with lock:
            out["latencies"].append(elapsed)
            out["errors"] += not ok
            out["invalid"] += ok and not valid


def json_api_user(url: str, stop: float, n: int, out: dict, lock: threading.Lock) -> None:
    with httpx.Client(timeout=60) as client:
        def ask(question: str) -> tuple[bool, bool]:
            reply = client.post(url + "/api/ask", json={"question": question, "k": 5})
            return reply.status_code == 200, reply.status_code == 200 and citations_valid(reply.json())

        keep_asking(ask, stop, n, out, lock)


def gradio_user(url: str, stop: float, n: int, out: dict, lock: threading.Lock) -> None:
    from gradio_client import Client  # the bench extra: only for the load run

    client = Client(url + "/", verbose=False)
    keep_asking(lambda q: (True, citations_valid(client.predict(q, 5, None, None, api_name="/ask"))),
                stop, n, out, lock)


def arriving_person(url: str) -> dict:
    """What a person opening the page during the load waits for: the page, then the first streamed
    piece of an answer through the chat's own event (Gradio's queue, as the browser uses it)."""
    from gradio_client import Client  # the bench extra: only for the load run

    began = time.perf_counter()
    page = httpx.get(url + "/", timeout=60)
    page_s = time.perf_counter() - began
    client = Client(url + "/", verbose=False)
    began = time.perf_counter()
    job = client.submit("When did Gorbachev visit Beijing?", None, api_name="/chat")
    first = None
    while not job.done():
        if first is None and job.outputs():
            first = time.perf_counter() - began
        time.sleep(0.005)
    total = time.perf_counter() - began
    return {"page_s": round(page_s, 3), "page_status": page.status_code,
            "first_update_s": round(first if first is not None else total, 3), "answer_s": round(total, 3)}


def run_load(app: App, users: int, seconds: float, user=json_api_user, with_person: bool = True) -> dict:
    out = {"latencies": [], "errors": 0, "invalid": 0}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=user, args=(app.url, stop, n, out, lock), daemon=True) for n in range(users)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    person = None
    if with_person:
        time.sleep(min(5.0, seconds / 3))
        person = arriving_person(app.url)
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    lat = out["latencies"]
    return {"users": users, "seconds": round(wall, 1), "answers": len(lat) - out["errors"],
            "answers_per_s": round((len(lat) - out["errors"]) / wall, 1),
            "p50_ms": round(percentile(lat, 0.5) * 1000, 1), "p95_ms": round(percentile(lat, 0.95) * 1000, 1),
            "errors": out["errors"], "invalid_citations": out["invalid"], "person": person,
            "rss_mb": round(rss_mb(app.process.pid), 1)}


def soak(app: App, seconds: float, users: int = 8, rebuild_every: float = 60.0) -> dict:
    """Steady load while the source is edited on disk once a minute (the watcher rebuilds); RSS sampled."""
    out = {"latencies": [], "errors": 0, "invalid": 0}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    threads = [threading.Thread(target=json_api_user, args=(app.url, stop, n, out, lock), daemon=True)
               for n in range(users)]
    for t in threads:
        t.start()
    original = app.source.read_text(encoding="utf-8")
    samples, edits, next_edit = [], 0, time.perf_counter() + rebuild_every / 2
    while time.perf_counter() < stop:
        samples.append(rss_mb(app.process.pid))
        if time.perf_counter() >= next_edit:
            edits += 1
            extra = f"\n\nA paragraph added by the load benchmark, edit {edits}.\n" if edits % 2 else ""
            app.source.write_text(original + extra, encoding="utf-8")
            next_edit += rebuild_every
        time.sleep(5)
    for t in threads:
        t.join()
    rebuilt = httpx.get(app.url + "/api/status").json()["message"]
    quarter = max(1, len(samples) // 4)
    return {"seconds": seconds, "users": users, "source_edits": edits, "answers": len(out["latencies"]),
            "errors": out["errors"], "invalid_citations": out["invalid"],
            "rss_first_quarter_mb": round(statistics.median(samples[:quarter]), 1),
            "rss_last_quarter_mb": round(statistics.median(samples[-quarter:]), 1),
            "rss_max_mb": round(max(samples), 1), "last_rebuild": rebuilt}


def report(r: dict) -> str:
    lines = ["| endpoint | users | answers/s | p50 ms | p95 ms | errors | invalid citations | page s | "
             "first update s | server RSS MB |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, runs in (("POST /api/ask", r["json"]), ("Gradio /ask (gradio_client)", r["gradio"])):
        for x in runs:
            p = x["person"] or {}
            lines.append(f"| {name} | {x['users']} | {x['answers_per_s']} | {x['p50_ms']} | {x['p95_ms']} | "
                         f"{x['errors']} | {x['invalid_citations']} | {p.get('page_s', '-')} | "
                         f"{p.get('first_update_s', '-')} | {x['rss_mb']} |")
    if r.get("soak"):
        s = r["soak"]
        lines += ["", f"Soak: {s['seconds']:.0f} s, {s['users']} users, {s['source_edits']} edits of the source "
                      f"(each rebuilt by the watcher), {s['answers']} answers, {s['errors']} errors, "
                      f"{s['invalid_citations']} invalid citations; RSS median {s['rss_first_quarter_mb']} MB in the "
                      f"first quarter, {s['rss_last_quarter_mb']} MB in the last, max {s['rss_max_mb']} MB."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="16,64")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--gradio-seconds", type=float, default=30, help="0 skips the Gradio API comparison")
    parser.add_argument("--soak", type=float, default=0, help="seconds of soak with a rebuild a minute (600)")
    args = parser.parse_args()
    app = App()
    try:
        r = {"app_start_s": round(app.start_s, 2), "rss_idle_mb": round(rss_mb(app.process.pid), 1),
             "json": [], "gradio": []}
        for users in [int(u) for u in args.users.split(",")]:
            r["json"].append(run_load(app, users, args.seconds))
            print(r["json"][-1], flush=True)
        if args.gradio_seconds:
            r["gradio"].append(run_load(app, 16, args.gradio_seconds, gradio_user, with_person=False))
            print(r["gradio"][-1], flush=True)
        if args.soak:
            r["soak"] = soak(app, args.soak)
            print(r["soak"], flush=True)
    finally:
        app.close()
    (ROOT / "bench" / "load.json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    print(report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

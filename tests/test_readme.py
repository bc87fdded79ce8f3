"""Every command and snippet in the README, run as written (placeholders filled in), in a copy of the
project so nothing in the repository changes.

`readme_commands()` reads the README; each command must be in RUNS (how it is run and what its output
must show) or in NOT_RUN (with the reason), so a command added to the README without a test fails here.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
QUESTION = "When did Gorbachev visit Beijing?"


def readme_commands(text: str) -> list[str]:
    """Command lines: indented lines and ```bash lines that start with a command (comments dropped)."""
    out, fence = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            continue
        if fence == "bash" and line.strip() and not line.startswith("#") or \
                fence is None and re.match(r" {4}(make|rag|python|pip|\.venv/bin/|curl) ", line):
            out.append(re.split(r"\s+# ", line.strip())[0])
    return out


def readme_snippets(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def as_run(command: str) -> str:
    """Optional parts `[--x Y]` included; README placeholders left for the run to fill."""
    return re.sub(r"\[([^\]]+)\]", r"\1", command)


# README command -> (stdin, strings the output must hold). The command runs in bash, in the project
# copy, with .venv/bin first on PATH and RAG_INDEX / RAG_SOURCE pointing at copies.
RUNS: dict[str, tuple[str | None, list[str]]] = {
    f'rag ask "{QUESTION}"': (None, ["1989", "[1]"]),
    'rag ask "..." --json': (None, ['"refused": false', '"citations"']),
    "rag ask --batch questions.jsonl --json": (None, ['"question": "Who did Mao send to Korea?"']),
    "rag chat": (f"{QUESTION}\nAnd why?\n", ["1989"]),
    'rag search "Gorbachev Beijing summit" -k 5 [--json]': (None, ['"section"', "1989"]),
    "rag build [--source PATH] [--index DIR] [--force]": (None, ["embedded"]),
    "rag info [--json]": (None, ["fresh"]),
    "rag eval --suite": (None, ["chernobyl", "faroe-islands", "router-manual", "mean over documents"]),
    "rag eval --suite --followups": (None, ["sino-soviet-relations", "followup", "switch", "mean over documents"]),
    "python -m rag.evaluation.fit --loo": (None, ["leave-one-document-out"]),
    "rag build --source path/to/notes.md": (None, ["embedded"]),
    'rag ask --answerer openai --base-url http://localhost:11434/v1 --model llama3.2 "Why did Mao distrust Khrushchev?"':
        (None, ["[1]"]),
    'rag ask --answerer openai --base-url http://localhost:8080/v1 --model local "Why did Mao distrust Khrushchev?"':
        (None, ["[1]"]),
    'rag ask --answerer openai --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-1.5B-Instruct "..."':
        (None, ["[1]"]),
}
SERVERS = {"make run": "make run", "python app.py": "python app.py"}  # started, asked, stopped
CURL = 'curl -s http://127.0.0.1:7860/api/ask -H "Content-Type: application/json" -d \'{"question": "When did Gorbachev visit Beijing?", "k": 5}\''
NOT_RUN = {
    "make test": "it is the command that runs this test (CI runs it in a fresh clone)",
    "pip install -e '.[local-llm]'": "downloads Gemma 3 270M; test_generative covers the backend with "
                                                "a tiny model, and runs Gemma when the extra is installed",
    'rag ask --answerer local --model gemma3-270m "When did Gorbachev visit Beijing?"': "needs the local-llm extra",
    'rag ask --answerer local --model path/to/model-folder-or-file.gguf "..."': "needs the local-llm extra and a model",
}


def test_every_readme_command_is_run_or_says_why_not():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 15
    unknown = [c for c in commands if c not in RUNS and c not in SERVERS and c not in NOT_RUN and c != CURL]
    assert unknown == []


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    """A copy of the index and data with the repository's tools linked in, and the environment to use it."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "index", work / "index")
    shutil.copytree(ROOT / "data", work / "data")
    for name in (".venv", "app.py", "Makefile", "pyproject.toml", "requirements.lock", "requirements-test.lock"):
        (work / name).symlink_to(ROOT / name)
    (work / "questions.jsonl").write_text(
        json.dumps({"question": "Who did Mao send to Korea?"}) + "\n" + json.dumps({"question": QUESTION}) + "\n")
    notes = work / "path" / "to" / "notes.md"
    notes.parent.mkdir(parents=True)
    notes.write_text("# Field notes\n\n## The bridge\n\nThe old stone bridge over the Vell river was built in 1788 "
                     "by the mason Otto Brandt. It was repaired after the flood of 1911.\n")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "RAG_INDEX": str(work / "index"),
           "RAG_SOURCE": str(work / "data" / "sino-soviet-relations.txt"), "PYTHONUNBUFFERED": "1"}
    return {"work": work, "env": env}


@pytest.fixture(scope="module")
def llm_endpoint():
    """An OpenAI-compatible server on loopback that answers any model name with a cited sentence."""
    from test_generative import ScriptedServer, sse

    class AnyModel(ScriptedServer):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self._send(200, "text/event-stream", sse("The passages answer it. [1]"))

    server = ThreadingHTTPServer(("127.0.0.1", 0), AnyModel)
    server.daemon_threads = True
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def filled(command: str, project: dict, endpoint: str) -> str:
    work = project["work"]
    command = as_run(command).replace('"..."', f'"{QUESTION}"')
    command = command.replace("--source PATH", f"--source {work / 'data' / 'sino-soviet-relations.txt'}")
    command = command.replace("--index DIR", f"--index {work / 'other-index'}")
    command = re.sub(r"http://localhost:\d+/v1", endpoint, command)
    if command.startswith("python -m rag.evaluation.fit"):
        command += f" --out {work / 'answerability.json'} --work {work / 'fit'}"  # not over the shipped model
    if command.startswith("rag build --source path/to/notes.md"):
        command += f" --index {work / 'notes-index'}"  # the article's copy stays for the other commands
    return command


# The honest figures: `rag eval --suite`'s means over the ten test documents, as the README reports them
# (measured 2026-12-07, rule 25's verifier soup and decision: recall@1 0.855, accuracy 0.824, false refusals
# 0.099, refusals 0.690; with rule 28's summaries, accuracy 0.821: one question), less a noise margin of
# 0.02 (0.03 for refusals): a question or two of the 400
# flipping between machines. Each refit chosen on validation moves them with it (0.838, 0.801, 0.124, 0.646
# before; the test figures are only scored). The follow-ups' (`--followups`, 222 questions: recall@1 0.916,
# accuracy 0.876, false refusals 0.101, refusals 0.575), with the same margins (0.886, 0.851, 0.127, 0.560
# before).
SUITE_FLOORS = {
    "rag eval --suite": {"r@1": (">=", 0.835), "acc": (">=", 0.804), "false-ref": ("<=", 0.119),
                         "ref-unans": (">=", 0.660)},
    "rag eval --suite --followups": {"r@1": (">=", 0.896), "acc": (">=", 0.856), "false-ref": ("<=", 0.121),
                                     "ref-unans": (">=", 0.545)},
}


def suite_means(output: str) -> dict[str, float]:
    """The "mean over documents" row of `rag eval --suite`'s table, by column name."""
    header = next(line for line in output.splitlines() if line.split()[:2] == ["r@1", "r@3"]).split()
    row = next(line for line in output.splitlines() if line.startswith("mean over documents"))
    return dict(zip(header, map(float, row.removeprefix("mean over documents").split())))


@pytest.mark.parametrize("command", list(RUNS))
def test_readme_command(command, project, llm_endpoint):
    stdin, expected = RUNS[command]
    run = subprocess.run(["bash", "-c", filled(command, project, llm_endpoint)], input=stdin, capture_output=True,
                         text=True, cwd=project["work"], env=project["env"], timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    for piece in expected:
        assert piece in run.stdout + run.stderr
    if command in SUITE_FLOORS:
        means = suite_means(run.stdout)
        for column, (sense, floor) in SUITE_FLOORS[command].items():
            assert (means[column] >= floor) if sense == ">=" else (means[column] <= floor), (column, means)


def free_port() -> int:
    from test_app import free_port as port

    return port()


def start(command: str, project: dict, port: int, env: dict | None = None) -> subprocess.Popen:
    env = {**project["env"], "RAG_PORT": str(port), "PORT": str(port), **(env or {})}
    env = {k: v for k, v in env.items() if v is not None}  # None: unset
    return subprocess.Popen(["bash", "-c", command], cwd=project["work"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_for(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.stdout.read()[-2000:]}")
        try:
            if httpx.get(url + "/api/status", timeout=2).json().get("chat_ready"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"no answer from {url} in {seconds} s")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.parametrize("command, title", [
    ("make run", "Sino-Soviet relations"),
    ("python app.py", "Field notes"),
])
def test_readme_server_commands_serve_the_chat(command, title, project):
    env = {}
    if command.endswith("app.py"):  # "Another document": the index built from notes.md
        subprocess.run(["bash", "-c", filled("rag build --source path/to/notes.md", project, "")],
                       cwd=project["work"], env=project["env"], check=True, capture_output=True)
        # the index remembers its source: RAG_SOURCE (the article, for the other commands) is unset
        env = {"RAG_INDEX": str(project["work"] / "notes-index"), "RAG_SOURCE": None}
    port = free_port()
    process = start(SERVERS[command] + (f" PORT={port}" if command == "make run" else ""), project, port, env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url, process)
        assert httpx.get(url + "/api/status").json()["title"] == title
        assert title in httpx.get(url + "/").text
    finally:
        stop(process)


def test_readme_curl_and_python_snippets_against_the_app(project):
    port = free_port()
    process = start("python app.py", project, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url, process)
        curl = subprocess.run(["bash", "-c", CURL.replace("127.0.0.1:7860", f"127.0.0.1:{port}")],
                              capture_output=True, text=True, timeout=60)
        assert "1989" in json.loads(curl.stdout)["answer"]
        client_snippet, pipeline_snippet = readme_snippets(README.read_text(encoding="utf-8"), "python")
        shown = subprocess.run([sys.executable, "-c", client_snippet.replace("127.0.0.1:7860", f"127.0.0.1:{port}")],
                               capture_output=True, text=True, cwd=project["work"], env=project["env"], timeout=120)
        assert shown.returncode == 0, shown.stderr[-2000:]
        assert "special interest" in shown.stdout and shown.stdout.rstrip().endswith("[1]")
    finally:
        stop(process)
    shown = subprocess.run([sys.executable, "-c", pipeline_snippet], capture_output=True, text=True,
                           cwd=project["work"], env=project["env"], timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "1989" in shown.stdout and "'citations': [1" in shown.stdout


def test_readme_answer_schema_names_every_field_of_the_answer_json():
    from rag import Pipeline

    block = re.search(r"The answer JSON.*?```\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    documented = set(re.findall(r'"(\w+)":', block))
    data = Pipeline.load(ROOT / "index").ask(QUESTION).to_json()
    actual = set(data) | set(data["passages"][0]) | set(data["timings_ms"])
    assert documented == actual


def test_readme_question_format_is_what_the_evaluation_reads(tmp_path):
    from rag.evaluation import evaluate

    block = re.search(r"```json\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    lines = [json.loads(line) for line in re.findall(r"^\{.*?\}$", block.replace("\n ", " "), re.M)]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert [q["id"] for q in evaluate.load_questions(path)] == ["q1", "q2"]

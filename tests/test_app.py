"""The web app, launched on a free port and driven with gradio_client (real model, copies of index and data)."""
from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

gradio_client = pytest.importorskip("gradio_client")

from conftest import (
    ROOT,  # noqa: E402
    plain,  # noqa: E402
)

from rag.errors import RagError  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Answer, Outcome  # noqa: E402
from rag.web import app as web  # noqa: E402
from rag.web import launch, server  # noqa: E402
from rag.web.chat import ChatService, example_questions, heading_of, safe_name  # noqa: E402
from rag.web.conversation import Conversation  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def project_copy(tmp: Path) -> Settings:
    """The committed index and the article, copied so rebuilds in tests never touch the repository."""
    shutil.copytree(ROOT / "index", tmp / "index")
    shutil.copytree(ROOT / "data", tmp / "data")
    return Settings(index_dir=tmp / "index", source_or_none=tmp / "data" / "sino-soviet-relations.txt")


class Served:
    """The app as `python app.py` serves it (FastAPI with the chat mounted), in a thread on a free port."""

    def __init__(self, settings: Settings, auth=None, watch: bool = False, token: str | None = None,
                 **server_options) -> None:
        self.service = ChatService(settings, watch=watch)
        self.app = web.build_app(self.service)
        self.port = free_port()
        self.running = server.serve(server.create_server(self.service, self.app, auth, token, **server_options),
                                    "127.0.0.1", self.port, block=False)
        self.url = f"http://127.0.0.1:{self.port}/"

    def client(self, auth=None):
        return gradio_client.Client(self.url, auth=auth, verbose=False)

    def close(self) -> None:
        self.running.close()

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with Served(project_copy(tmp_path_factory.mktemp("app"))) as server:
        yield server


def check_answer_json(data: dict) -> None:
    shown = {p["n"] for p in data["passages"]}
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert markers <= shown and set(data["citations"]) == markers
    for piece, n in re.findall(r"(.+?)\s*\[(\d+)\]", data["answer"]):
        assert piece.strip() in data["passages"][int(n) - 1]["text"]


def test_ask_returns_the_json_answer(served):
    data = served.client().predict("When did Gorbachev visit Beijing?", 5, None, api_name="/ask")
    assert not data["refused"] and "May 1989" in data["answer"]
    assert set(data) >= {"question", "answer", "refused", "citations", "passages", "timings_ms"}
    check_answer_json(data)
    cited = data["passages"][data["citations"][0] - 1]
    assert cited["used_sentences"] and "summit" in cited["text"]


def test_refusal(served):
    data = served.client().predict("What is the capital of France?", 5, None, api_name="/ask")
    assert data["refused"] and "does not say" in data["answer"] and data["passages"]
    assert data["citations"] == []


@pytest.mark.parametrize("question, k, history, message", [
    ("   ", 5, None, "Please type a question"),
    ("When?", 500, None, "k must be a whole number from 1 to 20"),
    ("When?", 3.7, None, "k must be a whole number from 1 to 20"),  # never truncated silently
    ("When?", "1e400", None, "k must be a whole number from 1 to 20"),
    ("When?", 5, "not a list", "history must be a list"),
])
def test_bad_input_is_a_clear_error(served, question, k, history, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        served.client().predict(question, k, history, api_name="/ask")


def test_markup_in_a_question_is_only_text(served):
    data = served.client().predict("<script>alert(1)</script>", 5, None, api_name="/ask")
    assert data["question"] == "<script>alert(1)</script>" and isinstance(data["answer"], str)


def test_follow_up_pairs(served):
    client = served.client()  # the history reaches the pipeline: "he" is read as Gorbachev
    b = client.predict("What did he say to the Chinese magazine?", 5, ["Tell me about Gorbachev's visit"],
                       api_name="/ask")
    assert "special interest" in b["answer"] or "similar problems" in b["answer"]
    c = client.predict("When did Gorbachev visit Beijing?", 5, ["Who did Mao send to Korea?"], api_name="/ask")
    assert "May 1989" in c["answer"]


def test_chat_endpoint_renders_links_and_highlights(served):
    messages, sources = served.client().predict("Why did Mao distrust Khrushchev?", "extractive",
                                                        api_name="/chat")
    reply = messages[-1]["content"]
    reply = reply if isinstance(reply, str) else str(reply)
    assert 'href="#source-1"' in reply
    assert "<mark>" in sources and 'id="source-1"' in sources
    assert "abandoning the strict traditions" in plain(sources)


def test_rebuild_while_questions_are_asked(served, tmp_path):
    source = served.service.source
    original = source.read_text(encoding="utf-8")
    chunks_before = served.service.status().chunks
    source.write_text(original.replace(
        "Gorbachev visited Beijing in May 1989 for the first summit between the two nations in thirty years.",
        "Gorbachev visited Beijing in May 1989 for the first summit between the two nations in thirty years. "
        "The visit was covered by journalists from many countries, who reported on the talks at length."),
        encoding="utf-8")
    assert served.service.status().warning == "The source changed since the index was built"
    answers, errors, stop = [], [], threading.Event()

    def keep_asking():
        client = served.client()
        while not stop.is_set():
            try:
                answers.append(client.predict("When did Gorbachev visit Beijing?", 5, None, api_name="/ask"))
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(exc)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        time.sleep(1)
        client = served.client()
        done = []
        clicks = [threading.Thread(target=lambda: done.append(client.predict(api_name="/rebuild"))) for _ in range(2)]
        for t in clicks:
            t.start()
        for t in clicks:
            t.join(timeout=300)
        time.sleep(1)
    finally:
        stop.set()
        asker.join(timeout=60)
    assert not errors, errors
    assert len(answers) >= 3 and all("May 1989" in a["answer"] for a in answers)
    statuses = [plain(s) for s in done]
    assert len(statuses) == 2
    assert any("Rebuilt:" in s for s in statuses), statuses
    assert sum("Rebuilt:" in s for s in statuses) + sum("A rebuild is running" in s for s in statuses) == 2
    assert sum("Rebuilt:" in s and "embedded 0," not in s for s in statuses) == 1  # one build did the work
    status = served.service.status()
    assert not status.warning and status.chunks >= chunks_before
    assert "embedded" in status.message
    fresh = served.client().predict("Who reported on the talks at length?", 5, None, api_name="/ask")
    assert "journalists" in fresh["answer"]


def test_rebuild_error_keeps_serving(tmp_path):
    settings = project_copy(tmp_path)
    server = Served(settings)
    try:
        settings.source_or_none.unlink()
        status = plain(server.client().predict(api_name="/rebuild"))
        assert "Rebuild failed" in status and "Source not found" in status
        data = server.client().predict("When did Gorbachev visit Beijing?", 5, None, api_name="/ask")
        assert "May 1989" in data["answer"]
        settings.source_or_none.write_text("", encoding="utf-8")
        status = plain(server.client().predict(api_name="/rebuild"))
        assert "is empty" in status
    finally:
        server.close()


MARKUP_DOC = """Markup test

The <script>alert("owned")</script> tag was found in the archive in 1950. Another line shows <img src=x onerror="alert(1)"> as plain text, and **bold** stays literal.
"""


def test_markup_in_a_source_is_shown_as_text(tmp_path):
    source = tmp_path / "markup.txt"
    source.write_text(MARKUP_DOC, encoding="utf-8")
    server = Served(Settings(index_dir=tmp_path / "index", source_or_none=source))
    try:
        messages, sources = server.client().predict("What tag was found in the archive in 1950?",
                                                        "extractive", api_name="/chat")
        reply = str(messages[-1]["content"])
        for html_text in (reply, sources):
            assert "<script>" not in html_text and "<img" not in html_text
        assert "&lt;script&gt;" in sources and "&lt;img" in sources
        assert '<script>alert("owned")</script>' in plain(sources)
    finally:
        server.close()


def test_auth_protects_ask_and_rebuild(tmp_path):
    server = Served(project_copy(tmp_path), auth=("ann", "s3cret"))
    try:
        with pytest.raises(ValueError, match="login"):  # gradio_client refuses to connect without credentials
            server.client().predict("When did Gorbachev visit Beijing?", 5, None, api_name="/ask")
        with pytest.raises(ValueError, match="login|credentials|Could not"):
            server.client(auth=("ann", "wrong")).predict(api_name="/rebuild")
        data = server.client(auth=("ann", "s3cret")).predict("When did Gorbachev visit Beijing?", 5, None,
                                                             api_name="/ask")
        assert "May 1989" in data["answer"]
    finally:
        server.close()


def test_non_loopback_host_needs_auth(capsys):
    assert launch.main(["--host", "0.0.0.0", "--port", str(free_port())]) == 2
    assert "--auth" in capsys.readouterr().err
    assert launch.is_loopback("127.0.0.1") and launch.is_loopback("::1") and launch.is_loopback("localhost")
    assert not launch.is_loopback("0.0.0.0") and not launch.is_loopback("192.168.1.5")
    with pytest.raises(RagError, match="user:password"):
        launch.parse_auth("no-colon")
    assert launch.parse_auth("a:b:c") == ("a", "b:c")


def test_a_start_whose_build_fails_says_why_not_only_that_no_index_exists(capsys, tmp_path):
    code = launch.main(["--port", str(free_port()), "--index", str(tmp_path / "index"),
                        "--source", str(tmp_path / "missing.md")])
    assert code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: Source not found: {tmp_path / 'missing.md'}"


def test_a_busy_port_is_one_clear_line(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert launch.main(["--port", str(port)]) == 1
    assert capsys.readouterr().err.strip() == f"error: port {port} is in use: use --port or PORT=."


@pytest.mark.parametrize("value, expected", [
    ("abc", "--port: invalid port 'abc': give a number from 1 to 65535"),
    ("70000", "--port: invalid port 70000: give a number from 1 to 65535"),
    ("0", "--port: invalid port 0: give a number from 1 to 65535"),
    ("-5", "--port: invalid port -5: give a number from 1 to 65535"),
])
def test_a_bad_port_in_the_environment_is_a_usage_error(capsys, monkeypatch, value, expected):
    monkeypatch.setenv("RAG_PORT", value)
    with pytest.raises(SystemExit) as stopped:
        launch.main([])
    assert stopped.value.code == 2 and expected in capsys.readouterr().err


@pytest.mark.parametrize("host, expected", [
    ("192.0.2.1", "this machine has no address 192.0.2.1"),  # a documentation address, never this machine's
    ("no-such-host.invalid", "is not a name or address this machine can resolve"),
])
def test_a_host_the_server_cannot_listen_on_says_why(host, expected):
    assert expected in launch.listen_problem(host, 8765)


def test_an_ipv6_loopback_host_can_be_listened_on():
    assert launch.listen_problem("::1", 0) is None


def test_questions_sent_at_once_are_all_answered_each_after_its_question(served):
    """Two calls of one session at the same time (the browser test covers the order of typed questions)."""
    client = served.client()
    jobs = [client.submit(q, "extractive", api_name="/chat")
            for q in ("When did Gorbachev visit Beijing?", "What is the capital of France?")]
    finals = [job.result(timeout=120)[0] for job in jobs]
    messages = max(finals, key=len)
    texts = [plain(m["content"] if isinstance(m["content"], str) else " ".join(p["text"] for p in m["content"]))
             for m in messages]
    assert len(texts) == 4
    replies = dict(zip(texts[0::2], texts[1::2]))
    assert "May 1989" in replies["When did Gorbachev visit Beijing?"]
    assert "does not say" in replies["What is the capital of France?"]


def test_an_error_turn_keeps_every_message_with_its_own_turn():
    conversation = Conversation()
    broken = conversation.add("\u200b\u200b")
    broken.error = "Please type a question."
    answered = conversation.add("When did Gorbachev visit Beijing?")
    answered.answer = Answer("When did Gorbachev visit Beijing?", "In May 1989. [1]", Outcome.ANSWERED, [1], [])
    messages = conversation.messages()
    assert len(messages) == 4 and "Please type a question." in messages[1]["content"]
    assert conversation.turn_of(3) is answered and conversation.turn_of(1) is broken
    assert conversation.turn_of(4) is None
    assert conversation.context(conversation.add("and then?")) == ["When did Gorbachev visit Beijing?"]
    conversation.reset()
    assert conversation.messages() == [] and conversation.turn_of(0) is None


def test_a_stale_index_is_served_at_once_and_rebuilt_in_the_background(tmp_path):
    settings = project_copy(tmp_path)
    source = settings.source_or_none
    source.write_text(source.read_text(encoding="utf-8") + "\n\nAftermath\n\nThe archive of the talks opened "
                      "to historians in 2031, long after the events.\n", encoding="utf-8")
    service = ChatService(settings)
    assert service.background is not None  # serving already; the rebuild runs beside it
    assert "May 1989" in service.answer_json("When did Gorbachev visit Beijing?")["answer"]
    service.background.join(timeout=300)
    assert service.message.startswith("Rebuilt:") and not service.status().warning
    assert "2031" in service.answer_json("When did the archive of the talks open to historians?")["answer"]


def test_documents_uploaded_in_the_chat_are_answered_from_and_removed(tmp_path):
    from gradio_client import handle_file
    from test_readers import HTML, make_pdf

    pdf, html_page, scan = tmp_path / "boiler manual.pdf", tmp_path / "kettle.html", tmp_path / "scan.pdf"
    pdf.write_bytes(make_pdf(["The boiler of the Ruritanian embassy starts at six in the morning.",
                              "The embassy pump is serviced every spring by a caretaker named Olek Varga."]))
    html_page.write_bytes(HTML)
    scan.write_bytes(make_pdf([""]))
    server = Served(project_copy(tmp_path / "project"))
    try:
        client = server.client()
        status, documents, _, _, _ = client.predict([handle_file(str(pdf)), handle_file(str(html_page)),
                                                     handle_file(str(scan))], api_name="/upload")
        assert "Added boiler manual.pdf, kettle.html" in plain(status)
        assert "Not added: Source scan.pdf has no text layer (a scanned image?)" in plain(status)
        assert "status-error\">⚠ Not added: Source scan.pdf" in status  # a refusal is shown as an error
        server.service.background.join(timeout=300)
        assert server.service.message.startswith("Added boiler manual.pdf, kettle.html. Rebuilt:")  # kept after it
        assert heading_of(server.service) == "## Ask: 3 documents"
        folder = tmp_path / "project" / "workspace" / "documents"
        assert sorted(p.name for p in folder.iterdir()) == ["boiler manual.pdf", "kettle.html",
                                                            "sino-soviet-relations.txt"]
        assert [name for name, _ in server.service.documents()] == sorted(p.name for p in folder.iterdir())
        data = client.predict("Who services the embassy pump?", 5, None, api_name="/ask")
        assert "Olek Varga" in data["answer"]
        cited = data["passages"][data["citations"][0] - 1]
        assert cited["source"] == "boiler manual.pdf" and (cited["page"], cited["last_page"]) == (1, 2)
        assert "May 1989" in client.predict("When did Gorbachev visit Beijing?", 5, None, api_name="/ask")["answer"]

        status, _, _, _ = client.predict("boiler manual.pdf", api_name="/remove")
        assert "Removed boiler manual.pdf" in plain(status)
        server.service.background.join(timeout=300)
        assert server.service.message.startswith("Removed boiler manual.pdf. Rebuilt:")  # the last change only
        assert heading_of(server.service) == "## Ask: 2 documents"
        data = client.predict("Who services the embassy pump?", 5, None, api_name="/ask")
        assert "Olek Varga" not in data["answer"]
        assert all(p["source"] != "boiler manual.pdf" for p in data["passages"])
    finally:
        server.close()


@pytest.mark.parametrize("name, safe", [
    ("notes.md", "notes.md"), ("../../etc/passwd.txt", "passwd.txt"), ("..\\\\..\\\\win.md", "win.md"),
    ("/abs/path/ok.pdf", "ok.pdf"), ("tool.exe", None), ("", None), ("what?.html", "what_.html"),
])
def test_upload_names_never_leave_the_documents_folder(name, safe):
    assert safe_name(name) == safe


def test_an_upload_over_the_size_limit_is_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Words here. " * 2000, encoding="utf-8")
    service = ChatService(project_copy(tmp_path / "project"))
    service.inbox = tmp_path  # as if it came through the upload route
    assert service.add_documents([big], max_bytes=1000) == "Not added: big.txt is larger than 0 MB."
    assert not (tmp_path / "project" / "workspace" / "documents").exists()


def test_a_watched_source_edited_on_disk_is_rebuilt(tmp_path):
    settings = project_copy(tmp_path)
    service = ChatService(settings, watch=True)
    try:
        source = settings.source_or_none
        source.write_text(source.read_text(encoding="utf-8") + "\n\nAftermath\n\nA museum of the border talks "
                          "opened in Harbin in 2032, after the events.\n", encoding="utf-8")
        for _ in range(600):  # the watcher waits for the writes to settle, then rebuilds
            if service.message.startswith("Rebuilt:"):
                break
            time.sleep(0.2)
        assert service.message.startswith("Rebuilt:") and "embedded" in service.message
        assert not service.status().warning
        assert "2032" in service.answer_json("When did the museum of the border talks open in Harbin?")["answer"]
    finally:
        service.watcher.stop()


@pytest.mark.parametrize("changed, relevant", [
    ("docs/new.md", True), ("docs/sub/page.html", True), ("docs/.hidden.md", False), ("docs/image.png", False),
    ("elsewhere/new.md", False),
])
def test_which_changes_the_watcher_reacts_to(tmp_path, changed, relevant):
    from rag.service import SourceWatcher

    (tmp_path / "docs").mkdir()
    watcher = SourceWatcher(tmp_path / "docs", on_change=lambda: None)
    assert watcher.relevant(str(tmp_path / changed)) is relevant


@pytest.mark.parametrize("sections, examples", [
    (["Introduction", "History"], ["What does the document say about History?"]),
    (["Kiln notes", "Russian Civil War and Mongolia"], ["What about Russian Civil War and Mongolia?"]),  # 63 chars
    (["A section title far too long to fit either wording of an example"], ["Give an overview of the document."]),
    (["Kiln notes", "Trade", "Trade", "Ports"],
     ["What does the document say about Trade?", "What does the document say about Ports?"]),
    (["Kiln notes"], ["What does the document say about Kiln notes?"]),  # a lead alone is kept
])
def test_example_questions_fit_gradios_sixty_characters(sections, examples):
    from types import SimpleNamespace

    index = SimpleNamespace(chunks=[SimpleNamespace(section=s, source="a.txt") for s in sections])
    assert example_questions(index) == examples


def test_example_questions_take_each_document_in_turn():
    from types import SimpleNamespace

    chunks = [SimpleNamespace(section=s, source=source) for source, sections in
              [("a.txt", ["Kilns", "Firing", "Glazes", "Clay"]), ("b.md", ["Tides", "Neap tides", "Spring tides"])]
              for s in sections]
    assert example_questions(SimpleNamespace(chunks=chunks), most=3) == [
        "What does the document say about Firing?", "What does the document say about Neap tides?",
        "What does the document say about Glazes?"]

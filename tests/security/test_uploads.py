"""Attacks through the upload: forged paths, PDF bombs, name clashes and links, disk use, and a server
killed before its rebuild. Each test reproduces the attack first."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import bombs
import httpx
import pytest
from test_app import Served, project_copy

from rag.errors import SourceError
from rag.ingest import readers
from rag.ingest.pdf import pdf_text
from rag.settings import Settings
from rag.web import uploads
from rag.web.chat import ChatService

SECRET = "The vault code of the Zembla lighthouse is 7319."


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


@pytest.fixture
def service(tmp_path: Path) -> ChatService:
    """The chat's service on a copy of the project, with an inbox of its own; rebuilds run inline."""
    chat = ChatService(project_copy(tmp_path / "project"))
    chat.inbox = tmp_path / "inbox"
    chat.inbox.mkdir()
    chat.rebuild_in_background = lambda: None  # the tests look at files, not at the rebuilt index
    return chat


def arrive(service: ChatService, name: str, data: bytes) -> Path:
    """A file as Gradio's upload route leaves it: in a folder of its own inside the inbox."""
    folder = service.inbox / os.urandom(4).hex()
    folder.mkdir()
    (folder / name).write_bytes(data)
    return folder / name


# -- forged paths

@pytest.mark.slow
@pytest.mark.parametrize("forged, route", [
    ("absolute", "gradio_api/call/upload"), ("relative", "gradio_api/call/upload"),
    ("missing", "gradio_api/call/upload"), ("url", "gradio_api/call/upload"),
    ("absolute", "gradio_api/queue/join"), ("absolute", "gradio_api/run/upload"),
    ("absolute", "gradio_api/call/v2/upload"), ("absolute", "gradio_api//call/upload/"),
])
def test_a_forged_upload_path_is_refused_over_http_and_never_answerable(tmp_path, secret_file, forged, route):
    server = Served(project_copy(tmp_path / "project"))
    try:
        path = {"absolute": str(secret_file), "relative": os.path.relpath(secret_file),
                "missing": str(secret_file.with_name("nothing.txt")), "url": "http://127.0.0.1:9/x.txt"}[forged]
        body = {"data": [[{"path": path, "meta": {"_type": "gradio.FileData"}}]], "fn_index": 0,
                "session_hash": "x", "event_data": None, "trigger_id": None}
        reply = httpx.post(server.url + route, json=body, timeout=30)
        assert reply.status_code == 400
        assert reply.json() == {"error": uploads.FORGED}  # one message: no existence oracle
        answer = httpx.post(server.url + "api/ask", json={"question": "What is the vault code of the Zembla "
                                                                       "lighthouse?"}, timeout=30).json()
        assert "7319" not in json.dumps(answer)
        assert not (tmp_path / "project" / "workspace" / "documents").exists()
    finally:
        server.close()


def test_the_service_takes_only_files_from_its_inbox(service, secret_file):
    assert service.add_documents([secret_file]) == f"Not added: {uploads.FORGED.rstrip('.')}."
    assert secret_file.exists()  # neither read nor deleted


@pytest.mark.parametrize("path, inside", [
    ("inbox/a/b.txt", True), ("inbox/../elsewhere/secret.txt", False), ("elsewhere/secret.txt", False),
    ("inbox/a/link.txt", False), ("", False), ("http://host/inbox/a.txt", False),
])
def test_which_paths_lie_inside_the_inbox(tmp_path, secret_file, path, inside):
    inbox = tmp_path / "inbox"
    (inbox / "a").mkdir(parents=True)
    (inbox / "a" / "b.txt").write_text("x")
    (inbox / "a" / "link.txt").symlink_to(secret_file)
    assert uploads.inside(tmp_path / path if path and "://" not in path else path, inbox) is inside


# -- PDF bombs

@pytest.mark.parametrize("bomb, reason", [
    (bombs.text_bomb, "expands to more than"),
    (bombs.page_bomb, "has 5,000 pages"),
    (bombs.zlib_bomb, "has no text layer"),  # pdfium gives up on the stream: no text, refused
])
def test_a_pdf_bomb_is_refused_and_the_rest_of_the_batch_is_added(service, bomb, reason):
    good = arrive(service, "notes.txt", b"The ferry leaves at noon.\n")
    bad = arrive(service, "bomb.pdf", bomb())
    outcome = service.add_documents([bad, good])
    assert "Added notes.txt" in outcome and "Not added: Source bomb.pdf " in outcome and reason in outcome
    assert not bad.exists() and not good.exists()  # both upload files are gone


# -- names and links

def test_a_name_clash_gets_a_numbered_name_and_replaces_nothing(service):
    service.add_documents([arrive(service, "dup.md", b"# First\n\nThe first text.\n")])
    outcome = service.add_documents([arrive(service, "dup.md", b"# Second\n\nThe second text.\n")])
    folder = service.documents_folder()
    assert outcome == "Added dup (2).md; updating the index."
    assert (folder / "dup.md").read_text() == "# First\n\nThe first text.\n"
    assert service.add_documents([arrive(service, "dup.md", b"# First\n\nThe first text.\n")]) == \
        "Not added: dup.md is already among the documents."


def test_an_upload_never_writes_through_a_link(service, tmp_path):
    target = tmp_path / "outside.md"
    target.write_text("untouched")
    folder = service.documents_folder()
    folder.mkdir(parents=True)
    (folder / "page.md").symlink_to(target)
    assert service.add_documents([arrive(service, "page.md", b"# Page\n\nNew text.\n")]) == \
        "Added page (2).md; updating the index."
    assert target.read_text() == "untouched"


def test_the_shipped_article_cannot_be_replaced_by_an_upload_of_its_name(service):
    article = service.source
    outcome = service.add_documents([arrive(service, article.name, b"Forged article text.\n")])
    assert outcome == "Added sino-soviet-relations (2).txt; updating the index."
    assert (service.documents_folder() / article.name).read_bytes() == article.read_bytes()


@pytest.mark.parametrize("name", ["report.doc", "data.csv", "README"])
def test_an_upload_of_a_type_not_read_says_so(service, name):
    outcome = service.add_documents([arrive(service, name, b"Made-up content.\n")])
    assert outcome.startswith(f"Not added: {name} is not a type this reads: add .docx, .htm, .html, ")
    assert "(an old .doc: save it as .docx)" in outcome


def test_an_uploads_rebuild_counts_as_running_before_its_first_report(service):
    service.add_documents([arrive(service, "kites.md", b"# Kites\n\nA made-up page on kites.\n")])
    assert service.status().warning  # no rebuild started (the fixture's is a no-op): the source changed
    release = threading.Event()
    service.background = threading.Thread(target=release.wait)
    service.background.start()
    try:
        shown = service.status()
        assert shown.warning == "" and "Updating the index" in shown.message
    finally:
        release.set()
        service.background.join()


def test_a_name_made_safe_says_what_it_was(service):
    outcome = service.add_documents([arrive(service, "<i>odd & notes.txt", b"A made-up note on kites.\n")])
    assert outcome == "Added _i_odd _ notes.txt (from <i>odd & notes.txt); updating the index."


def test_remove_takes_only_indexed_documents(service):
    folder = service.documents_folder()
    folder.mkdir(parents=True)
    (folder / ".env").write_text("SECRET=1")
    (folder / "tool.sh").write_text("echo")
    for name in (".env", "tool.sh", "../index/manifest.json"):
        assert service.remove_document(name) == f"{name} is not among the documents."
    assert (folder / ".env").exists() and (folder / "tool.sh").exists()


@pytest.mark.parametrize("name, data", [("heads.md", b"# One\n\n## Two\n"), ("marks.txt", b"* * *\n--\n")])
def test_an_upload_with_no_passage_is_refused_not_silently_added(service, name, data):
    outcome = service.add_documents([arrive(service, name, data)])
    assert outcome == f"Not added: {name} holds no passage to answer from (only headings, or no sentences)."
    assert not (service.documents_folder() / name).exists()


def test_a_full_disk_refuses_the_upload_with_its_reason(service, monkeypatch):
    def full(folder):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(service.settings, "record_source", full)
    outcome = service.add_documents([arrive(service, "notes.md", b"# Notes\n\nA made-up note on kites.\n")])
    assert outcome == ("Not added: notes.md could not be stored: the documents folder cannot be written "
                       "(No space left on device).")
    assert service.changes == [] and list(service.inbox.rglob("*")) == []


def served_as_on_disk_now(service: ChatService) -> None:
    """The served index as if a rebuild had just finished, and no other after it: its documents are the
    folder's files as they are now."""
    listed = [(p.name, 1) for p in sorted(service.documents_folder().iterdir())]
    service.documents = lambda: listed


@pytest.mark.parametrize("name", ["Q&A.txt", "sub/deeper/nested.txt", "with space/ünïcode name.txt"])
def test_a_document_the_folder_held_under_any_name_can_be_removed(service, name):
    service.add_documents([arrive(service, "kites.md", b"# Kites\n\nA made-up page on kites.\n")])
    path = service.documents_folder() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("A made-up page on tides.\n")
    listed = [(name, 1), ("kites.md", 1)]
    service.documents = lambda: listed
    assert service.remove_document(name) == f"Removed {name}; updating the index."
    assert not path.exists()


def test_a_link_out_of_the_folder_is_not_removed_through_it(service, tmp_path):
    service.add_documents([arrive(service, "kites.md", b"# Kites\n\nA made-up page on kites.\n")])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("untouched")
    (service.documents_folder() / "linked").symlink_to(outside)
    service.documents = lambda: [("linked/keep.txt", 1), ("kites.md", 1)]
    assert service.remove_document("linked/keep.txt") == "linked/keep.txt is not among the documents."
    assert (outside / "keep.txt").read_text() == "untouched"


def test_a_document_stored_under_a_numbered_name_can_be_removed(service):
    service.add_documents([arrive(service, "dup.md", b"# First\n\nThe first text.\n")])
    service.add_documents([arrive(service, "dup.md", b"# Second\n\nThe second text.\n")])
    served_as_on_disk_now(service)
    assert service.remove_document("dup (2).md") == "Removed dup (2).md; updating the index."
    assert not (service.documents_folder() / "dup (2).md").exists()


def test_removals_before_the_rebuild_cannot_empty_the_folder(service):
    service.add_documents([arrive(service, "extra.md", b"# Extra\n\nA made-up page on kites.\n")])
    served_as_on_disk_now(service)  # the served index keeps listing both while no rebuild has run
    names = sorted(p.name for p in service.documents_folder().iterdir())
    assert [service.remove_document(name) for name in names] == [
        f"Removed {names[0]}; updating the index.", "The last document cannot be removed: add another first."]
    assert [p.name for p in service.documents_folder().iterdir()] == names[1:]


# -- disk

def test_upload_files_are_deleted_once_taken_or_refused(service):
    taken, refused = arrive(service, "a.txt", b"Some text.\n"), arrive(service, "b.exe", b"MZ")
    service.add_documents([taken, refused])
    assert list(service.inbox.rglob("*")) == []


def test_stale_uploads_are_swept_and_the_inbox_has_a_quota(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "x").mkdir(parents=True)
    old = inbox / "x" / "old.bin"
    old.write_bytes(b"0" * 1000)
    os.utime(old, (0, 0))
    fresh = inbox / "fresh.bin"
    fresh.write_bytes(b"0" * 10)
    assert uploads.sweep(inbox) == 1 and not old.exists() and fresh.exists()
    assert uploads.folder_bytes(inbox) == 10


def test_the_documents_folder_has_a_total_cap(service):
    outcome = service.add_documents([arrive(service, "big.txt", b"Words here. " * 200)], max_total=100)
    assert outcome.startswith("Not added: big.txt would take the documents over")


# -- a server killed before its rebuild

def test_an_upload_survives_a_kill_before_its_rebuild(service, tmp_path, monkeypatch):
    service.add_documents([arrive(service, "ferry.txt", b"The Zembla ferry leaves at noon.\n")])
    # kill -9 here: the rebuild never ran. A new server, started with no flags, finds the switch on disk.
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "project" / "workspace"))
    monkeypatch.delenv("RAG_INDEX", raising=False)
    restarted = Settings.from_env()
    assert restarted.index_dir == tmp_path / "project" / "workspace" / "index"
    assert restarted.source(None) == (tmp_path / "project" / "workspace" / "documents").resolve()
    again = ChatService(restarted)
    again.background.join(timeout=300)
    assert "ferry.txt" in [name for name, _ in again.documents()]
    assert not restarted.source_record.exists()  # the manifest records the source now


@pytest.mark.slow
def test_an_upload_through_the_chat_leaves_nothing_downloadable(tmp_path, monkeypatch):
    from gradio_client import Client, handle_file

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "inbox"))  # a private inbox, as app.py makes
    note = tmp_path / "note.txt"
    note.write_text("The Zembla ferry leaves at noon.\n")
    server = Served(project_copy(tmp_path / "project"))
    try:
        Client(server.url, verbose=False).predict([handle_file(str(note))], api_name="/upload")
        assert server.service.inbox == (tmp_path / "inbox").resolve()
        left = [p for p in server.service.inbox.rglob("*") if p.is_file()]
        assert left == []  # the copy Gradio kept of the upload, and its spooling file, are gone
        assert (tmp_path / "project" / "workspace" / "documents" / "note.txt").exists()
    finally:
        server.close()


@pytest.mark.slow
def test_an_upload_survives_a_real_kill_9_of_the_server(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from gradio_client import Client, handle_file
    from test_app import free_port

    note = tmp_path / "ferry.txt"
    note.write_text("The Zembla ferry leaves at noon.\n")
    # As `make run` starts it: no flags; the workspace is a private one. The committed index is only read.
    environment = {k: v for k, v in os.environ.items() if k not in ("RAG_INDEX", "RAG_SOURCE")}
    environment["RAG_HOME"] = str(tmp_path / "workspace")

    def start(port: int) -> subprocess.Popen:
        server = subprocess.Popen([sys.executable, str(Path(__file__).parents[2] / "app.py"), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=2).json().get("chat_ready"):
                    return server
            except (httpx.HTTPError, ValueError):
                time.sleep(0.5)
        server.kill()
        raise AssertionError("the server did not start")

    port = free_port()
    server = start(port)
    try:
        Client(f"http://127.0.0.1:{port}/", verbose=False).predict([handle_file(str(note))], api_name="/upload")
    finally:
        server.send_signal(signal.SIGKILL)  # before (or while) the rebuild runs
        server.wait(10)
    port = free_port()
    server = start(port)
    try:
        deadline = time.monotonic() + 180
        names: list[str] = []
        while time.monotonic() < deadline and "ferry.txt" not in names:
            names = [d["name"] for d in httpx.get(f"http://127.0.0.1:{port}/api/status").json()["documents"]]
            time.sleep(1)
        assert "ferry.txt" in names
    finally:
        server.terminate()
        server.wait(15)


def test_a_part_file_left_by_a_crash_blocks_nothing(service):
    folder = service.documents_folder()
    folder.mkdir(parents=True)
    (folder / ".stale.md.part").write_text("half")
    assert service.add_documents([arrive(service, "stale.md", b"# Stale\n\nWhole now.\n")]) == \
        "Added stale.md; updating the index."


def test_two_uploads_of_one_name_at_once_both_land(service):
    outcomes = []
    files = [arrive(service, "race.md", f"# Race\n\nText number {i}.\n".encode()) for i in range(4)]
    threads = [threading.Thread(target=lambda f=f: outcomes.append(service.add_documents([f]))) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted(f"Added {n}; updating the index." for n in
                                      ("race.md", "race (2).md", "race (3).md", "race (4).md"))


def test_one_upload_takes_a_bounded_number_of_files(service):
    files = [arrive(service, f"n{i}.txt", f"Note {i}.\n".encode()) for i in range(uploads.MAX_FILES + 3)]
    outcome = service.add_documents(files)
    assert outcome.endswith(f"Not added: 3 of the files: one upload takes at most {uploads.MAX_FILES}.")
    assert list(service.inbox.rglob("*.txt")) == []


@pytest.mark.slow
def test_a_body_too_deep_to_read_is_refused_like_a_forged_path(tmp_path):
    server = Served(project_copy(tmp_path / "project"))
    try:
        body = '{"data": ' + "[" * 3000 + "]" * 3000 + "}"
        reply = httpx.post(server.url + "gradio_api/queue/join", content=body,
                           headers={"Content-Type": "application/json"}, timeout=10)
        assert reply.status_code == 400 and reply.json() == {"error": uploads.FORGED}
    finally:
        server.close()


@pytest.mark.parametrize("limits, reason", [
    (readers.ReadLimits(seconds=0.3), "took longer than"),
    (readers.ReadLimits(memory_bytes=150_000_000, max_chars=10**9, min_chars=10**9),
     "memory|could not be read as a PDF|stopped"),
])
def test_pdf_reading_is_stopped_past_its_time_and_memory(limits, reason):
    with pytest.raises(SourceError, match=reason):
        readers.isolated(pdf_text, "PDF", bombs.text_bomb(pages=2000, lines=400), Path("bomb.pdf"), limits)


def test_deeply_nested_html_is_read_within_the_same_limits():
    nested = b"<div>" * 3000 + b"<p>a</p>" * 3000 + b"</div>" * 3000
    with pytest.raises(SourceError, match="took longer than"):
        readers.isolated(readers.html_text, "HTML page", nested, Path("deep.html"), readers.ReadLimits(seconds=0.5))


def test_uploads_and_their_index_live_in_the_workspace_and_the_shipped_ones_stay_as_they_are(service, tmp_path):
    shipped = {p.name: p.read_bytes() for p in (tmp_path / "project" / "index").iterdir() if p.is_file()}
    service.add_documents([arrive(service, "ferry.txt", b"The Zembla ferry leaves at noon.\n")])
    service.rebuild()
    assert "ferry.txt" in [name for name, _ in service.documents()]
    assert service.settings.index_dir == tmp_path / "project" / "workspace" / "index"
    assert {p.name: p.read_bytes() for p in (tmp_path / "project" / "index").iterdir() if p.is_file()} == shipped
    assert not (tmp_path / "project" / "data" / "documents").exists()

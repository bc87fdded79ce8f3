"""A build tells how far it has got; the terminal and the chat's status bar show it."""
from __future__ import annotations

import io
import threading

import pytest
from conftest import plain

from rag.index.build import build_index
from rag.index.progress import BuildProgress, Stage, TerminalProgress
from rag.settings import Settings
from rag.web import render
from rag.web.service import ChatService


def test_a_build_reports_reading_each_file_then_embedding_to_the_end_then_saving(tmp_path, fake_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("alpha.txt", "beta.txt"):
        (folder / name).write_text(f"The {name[:-4]} pump runs quietly. It was serviced in 1999.\n", encoding="utf-8")
    heard: list[BuildProgress] = []
    build_index(folder, tmp_path / "index", fake_embedder, progress=heard.append)
    stages = [p.stage for p in heard]
    assert [p.detail for p in heard if p.stage is Stage.READING] == ["alpha.txt", "beta.txt"]
    assert stages.index(Stage.EMBEDDING) > stages.index(Stage.READING) and stages[-1] is Stage.SAVING
    last = [p for p in heard if p.stage is Stage.EMBEDDING][-1]
    assert last.done == last.total == len(fake_embedder.embedded)
    assert [p.fraction for p in heard] == sorted(p.fraction for p in heard)  # the bar never goes back


@pytest.mark.parametrize("progress, now, text", [
    (BuildProgress(Stage.READING, 2, 5, "manual.pdf", 0.0), 1.0, "Reading file 3 of 5: manual.pdf"),
    (BuildProgress(Stage.EMBEDDING, 250, 1000, "manual.pdf", 0.0), 10.0,
     "Embedding manual.pdf: 250 of 1,000 texts (25%), about 30 s left"),
    (BuildProgress(Stage.EMBEDDING, 100, 10_000, "", 0.0), 6.0, "Embedding 100 of 10,000 texts (1%), about 10 min left"),
    (BuildProgress(Stage.EMBEDDING, 0, 10, "", 0.0), 6.0, "Embedding 0 of 10 texts (0%)"),
    (BuildProgress(Stage.SAVING, 0, 1), 0.0, "Saving the index"),
])
def test_progress_reads_as_a_sentence_with_the_time_left(progress, now, text):
    assert progress.describe(now) == text


def test_the_terminal_line_in_a_log_is_written_once_per_tenth():
    stream = io.StringIO()
    show = TerminalProgress(stream)
    for done in range(0, 1001, 50):
        show(BuildProgress(Stage.EMBEDDING, done, 1000, "", 0.0))
    assert len(stream.getvalue().splitlines()) == 11  # 0%, 10%, ... 100%


def test_while_a_rebuild_runs_the_status_bar_shows_its_progress_not_a_stale_warning(tmp_path, small_source,
                                                                                     fake_embedder):
    service = ChatService(Settings(index_dir=tmp_path / "index", source_or_none=small_source), embedder=fake_embedder,
                          answerers={})
    text = small_source.read_text(encoding="utf-8")
    small_source.write_text(text.replace("Most tea", "A new quay opened in 1990. Most tea"), encoding="utf-8")
    embedding, release = threading.Event(), threading.Event()
    slow = service.embedder.embed

    def held(texts):
        embedding.set()
        release.wait(10)
        return slow(texts)

    service.embedder.embed = held
    rebuild = threading.Thread(target=service.rebuild)
    rebuild.start()
    try:
        assert embedding.wait(10)
        shown = plain(render.status_html(service.status()))
        assert "Embedding tea.txt: 0 of" in shown and "Updating the index" in shown
        assert "source changed" not in shown and "Press" not in shown
        assert '<progress max="1" value="0.1">' in render.status_html(service.status())
    finally:
        release.set()
        rebuild.join(10)
    done = plain(render.status_html(service.status()))
    assert "Rebuilt:" in done and "Embedding" not in done



def test_a_rebuild_asked_for_while_one_runs_follows_it_and_reads_the_newer_source(tmp_path, small_source,
                                                                                  fake_embedder):
    service = ChatService(Settings(index_dir=tmp_path / "index", source_or_none=small_source), embedder=fake_embedder,
                          answerers={})
    text = small_source.read_text(encoding="utf-8")
    small_source.write_text(text.replace("Most tea", "A new quay opened in 1990. Most tea"), encoding="utf-8")
    embedding, release = threading.Event(), threading.Event()
    slow = service.embedder.embed

    def held(texts):
        embedding.set()
        release.wait(10)
        return slow(texts)

    service.embedder.embed = held
    first = threading.Thread(target=service.rebuild)
    first.start()
    try:
        assert embedding.wait(10)
        # the first build has read the source; a later edit must not be left out
        small_source.write_text(text.replace("Most tea", "A lighthouse was lit in 1994. Most tea"), encoding="utf-8")
        assert service.rebuild() == "A rebuild is running; the index will be updated again right after it."
    finally:
        release.set()
        first.join(20)
    assert not first.is_alive() and service.service.status().fresh
    assert "lighthouse" in " ".join(c.text for c in service.pipeline.index.chunks)


def test_a_rebuild_asked_for_while_one_fails_unexpectedly_still_runs(tmp_path, small_source, fake_embedder):
    service = ChatService(Settings(index_dir=tmp_path / "index", source_or_none=small_source), embedder=fake_embedder,
                          answerers={})
    text = small_source.read_text(encoding="utf-8")
    small_source.write_text(text.replace("Most tea", "A new quay opened in 1990. Most tea"), encoding="utf-8")
    embedding, release, calls = threading.Event(), threading.Event(), []
    slow = service.embedder.embed

    def failing_once(texts):
        calls.append(len(texts))
        if len(calls) == 1:
            embedding.set()
            release.wait(10)
            raise OSError("No space left on device")
        return slow(texts)

    service.embedder.embed = failing_once
    first = threading.Thread(target=service.rebuild)
    first.start()
    try:
        assert embedding.wait(10)
        assert service.rebuild() == "A rebuild is running; the index will be updated again right after it."
    finally:
        release.set()
        first.join(20)
    assert len(calls) >= 2 and service.service.status().fresh
    assert "1990" in " ".join(c.text for c in service.pipeline.index.chunks)

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
from rag.web.chat import ChatService


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


class HeldRebuild:
    """A chat service whose source was just edited, and a rebuild in a thread held at its first embedding
    until `release()`; with `fail`, that first embedding raises it instead of going on."""

    def __init__(self, tmp_path, source, embedder, fail: Exception | None = None) -> None:
        self.service = ChatService(Settings(index_dir=tmp_path / "index", source_or_none=source), embedder=embedder,
                                   answerers={})
        self.source, self.text = source, source.read_text(encoding="utf-8")
        self.edit("A new quay opened in 1990.")
        self.embedding, self.released, self.calls = threading.Event(), threading.Event(), 0
        embed = self.service.embedder.embed

        def held(texts):
            self.calls += 1
            if self.calls == 1:
                self.embedding.set()
                self.released.wait(10)
                if fail is not None:
                    raise fail
            return embed(texts)

        self.service.embedder.embed = held
        self.thread = threading.Thread(target=self.service.rebuild)
        self.thread.start()
        assert self.embedding.wait(10)

    def edit(self, sentence: str) -> None:
        self.source.write_text(self.text.replace("Most tea", f"{sentence} Most tea"), encoding="utf-8")

    def release(self) -> None:
        self.released.set()
        self.thread.join(20)
        assert not self.thread.is_alive()

    def indexed(self) -> str:
        return " ".join(c.text for c in self.service.pipeline.index.chunks)


QUEUED = "A rebuild is running; the index will be updated again right after it."


def test_while_a_rebuild_runs_the_status_bar_shows_its_progress_not_a_stale_warning(tmp_path, small_source,
                                                                                     fake_embedder):
    held = HeldRebuild(tmp_path, small_source, fake_embedder)
    try:
        shown = plain(render.status_html(held.service.status()))
        assert "Embedding tea.txt: 0 of" in shown and "Updating the index" in shown
        assert "source changed" not in shown and "Press" not in shown
        assert '<progress max="1" value="0.1">' in render.status_html(held.service.status())
    finally:
        held.release()
    done = plain(render.status_html(held.service.status()))
    assert "Rebuilt:" in done and "Embedding" not in done


def test_a_rebuild_asked_for_while_one_runs_follows_it_and_reads_the_newer_source(tmp_path, small_source,
                                                                                  fake_embedder):
    held = HeldRebuild(tmp_path, small_source, fake_embedder)
    try:
        held.edit("A lighthouse was lit in 1994.")  # after the running build read the source
        assert held.service.rebuild() == QUEUED
    finally:
        held.release()
    assert held.service.service.status().fresh and "lighthouse" in held.indexed()


def test_a_rebuild_asked_for_while_one_fails_unexpectedly_still_runs(tmp_path, small_source, fake_embedder):
    held = HeldRebuild(tmp_path, small_source, fake_embedder, fail=OSError("No space left on device"))
    try:
        assert held.service.rebuild() == QUEUED
    finally:
        held.release()
    assert held.calls >= 2 and held.service.service.status().fresh and "1990" in held.indexed()

"""The index and its source under an unlucky operator: shape-preserving corruption, a bad file in the
folder, a watcher that must stay idle, a watched source that is not there."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexCorrupt
from rag.index.build import build_index
from rag.index.folder import load_index
from rag.ingest import source as sources
from rag.service import RagService, SourceWatcher
from rag.settings import Settings
from rag.web.chat import ChatService


def zero_faiss_body(index: Path) -> None:
    data = (index / "index.faiss").read_bytes()
    (index / "index.faiss").write_bytes(data[:64] + b"\0" * (len(data) - 64))


def nan_vectors(index: Path) -> None:
    vectors = np.load(index / "chunk_vectors.npy")
    np.save(index / "chunk_vectors.npy", np.full_like(vectors, np.nan), allow_pickle=False)


def rows_out_of_range(index: Path) -> None:
    lines = (index / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["sentence_rows"] = [10_000]
    (index / "chunks.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")


@pytest.mark.parametrize("damage", [zero_faiss_body, nan_vectors, rows_out_of_range])
def test_corruption_that_keeps_the_shape_is_caught_when_loading(small_index, damage):
    load_index(small_index)
    damage(small_index)
    with pytest.raises(IndexCorrupt, match="damaged"):
        load_index(small_index)


def test_a_damaged_index_is_rebuilt_at_start(small_index, small_source, fake_embedder):
    nan_vectors(small_index)
    service = RagService.start(Settings(index_dir=small_index, source_or_none=small_source), fake_embedder, {})
    assert service.last_build is not None and service.status().fresh


def test_one_unreadable_file_in_a_folder_is_skipped_and_reported(tmp_path, fake_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("The ferry leaves at noon every day.\n")
    (folder / "bad.txt").write_bytes(b"\x00\x01binary")
    report = build_index(folder, tmp_path / "index", fake_embedder)
    assert "could not read 1 file (Source" in report.summary() and "bad.txt looks like a binary file" in report.summary()
    service = RagService.start(Settings(index_dir=tmp_path / "index", source_or_none=folder), fake_embedder, {})
    assert service.status().fresh  # the skipped file does not make the index look stale


def test_status_reads_a_file_again_only_when_it_changed(small_source, monkeypatch):
    sources.source_hashes(small_source)
    reads = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or original(self))
    sources.source_hashes(small_source)
    assert reads == []
    small_source.write_text(small_source.read_text() + "\nMore.\n")
    sources.source_hashes(small_source)
    assert reads == [small_source]


def test_an_idle_watcher_is_not_woken_by_the_freshness_check(small_index, small_source, fake_embedder):
    service = RagService.start(Settings(index_dir=small_index, source_or_none=small_source.parent), fake_embedder, {})
    woken = []
    watcher = SourceWatcher(small_source.parent, lambda: woken.append(1), debounce=0.1).start()
    try:
        for _ in range(5):
            service.status()  # opens and reads every source file
            for path in small_source.parent.iterdir():
                path.read_bytes()
            time.sleep(0.1)
        time.sleep(0.5)
        assert woken == []
        small_source.write_text(small_source.read_text() + "\nAn edit.\n")
        deadline = time.monotonic() + 5
        while not woken and time.monotonic() < deadline:
            time.sleep(0.05)
        assert woken  # a real change still wakes it
    finally:
        watcher.stop()


@pytest.mark.slow
def test_watching_a_source_that_is_not_there_says_so_and_serves(tmp_path):
    from test_app import project_copy

    from rag.web.chat import ChatService

    settings = project_copy(tmp_path)
    settings.source_or_none = tmp_path / "gone" / "article.txt"
    service = ChatService(settings, watch=True)
    assert service.watcher is None and "Not watching the source" in service.error
    assert "1989" in service.answer_json("When did Gorbachev visit Beijing?")["answer"]


@pytest.mark.slow
def test_building_the_chat_leaves_a_running_build_progress_bar_alone(tmp_path):
    """A rebuild at startup shows a tqdm bar; Gradio's track_tqdm patched tqdm while the chat was built,
    and that bar crashed at its next update ("Rebuild failed (AttributeError)")."""
    import io

    from test_app import project_copy
    from tqdm import tqdm

    from rag.web import app as web

    service = ChatService(project_copy(tmp_path))
    bar = tqdm(total=3, file=io.StringIO())  # as a build running in the background has
    web.build_app(service)
    bar.update(1)
    bar.close()
    assert bar.n == 1

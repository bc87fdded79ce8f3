"""The on-disk index: manifest, staleness, incremental rebuilds, atomic swaps, the lock, and errors."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, FakeEmbedder

from rag.cli import main
from rag.errors import IndexCorrupt, IndexWriteError, RagError, SourceError
from rag.index import vectors
from rag.index.build import BulkEmbedding, build_index, extracted_copy
from rag.index.folder import load_index, read_manifest
from rag.index.lock import build_lock
from rag.index.staleness import Staleness, stale_reasons
from rag.ingest import source
from rag.ingest.chunking import ChunkSettings
from rag.ingest.document import clean, mask_debris


def test_manifest_records_how_the_index_was_built(small_index: Path, small_source: Path):
    manifest = read_manifest(small_index)
    assert manifest["format_version"] == 3
    assert manifest["model"] == {"name": "fake-hash-embedder", "dim": 64}
    assert manifest["chunker"] == ChunkSettings().as_dict()
    files = manifest["source"]["files"]
    assert [f["name"] for f in files] == ["tea.txt"] and len(files[0]["sha256"]) == 64
    assert Path(manifest["source"]["path"]) == Path("src/tea.txt")  # relative: works in any clone
    index = load_index(small_index)
    assert manifest["counts"] == {"chunks": len(index.chunks), "sentences": len(index.sentence_keys)}
    assert {"python", "faiss-cpu", "numpy", "bm25s"} <= set(manifest["versions"])
    assert manifest["built_at"].endswith("+00:00")
    assert not list(small_index.rglob("*.pkl")) and not list(small_index.rglob("*.pickle"))


def test_chunks_round_trip_with_exact_offsets(small_index: Path, small_source: Path):
    raw = small_source.read_text(encoding="utf-8")
    index = load_index(small_index)
    assert [c.section for c in index.chunks] == ["Tea in Ruritania", "History", "Trade"]
    for chunk in index.chunks:
        assert clean(mask_debris(raw[chunk.start:chunk.end])) == chunk.text
    assert "[1]" not in index.chunks[1].text and "citation needed" not in index.chunks[1].text
    assert "Smith, J." not in " ".join(c.text for c in index.chunks)  # the references are left out


def test_fresh_index_has_no_stale_reasons(small_index: Path, small_source: Path, fake_embedder):
    assert stale_reasons(read_manifest(small_index), small_source, fake_embedder) == []
    assert stale_reasons(read_manifest(small_index), None, fake_embedder, index_dir=small_index) == []


@pytest.mark.parametrize("change, kind, expected", [
    ("source", Staleness.SOURCE_CHANGED, "source changed since the build (tea.txt)"),
    ("model", Staleness.MODEL, "built with model fake-hash-embedder, not another-model"),
    ("dim", Staleness.MODEL, "built with 64-dimensional vectors, not 32"),
    ("chunker", Staleness.CHUNKER, "chunker settings"),
    ("missing", Staleness.SOURCE_UNREADABLE, "Source not found"),
])
def test_every_stale_case(small_index: Path, small_source: Path, change: str, kind: Staleness, expected: str):
    embedder, settings = FakeEmbedder(), ChunkSettings()
    if change == "source":
        small_source.write_text(small_source.read_text() + "\nNew paragraph here.\n")
    elif change == "model":
        embedder.name = "another-model"
    elif change == "dim":
        embedder.dim = 32
    elif change == "chunker":
        settings = ChunkSettings(max_chars=300)
    elif change == "missing":
        small_source.unlink()
    reasons = stale_reasons(read_manifest(small_index), small_source, embedder, settings)
    assert [r.kind for r in reasons] == [kind]
    assert expected in reasons[0].message


def test_a_folder_file_that_cannot_be_read_leaves_the_index_fresh(tmp_path, small_source, fake_embedder,
                                                                   monkeypatch):
    folder = small_source.parent
    (folder / "locked.txt").write_text("A made-up note on kites.\n", encoding="utf-8")
    hash_of, read = source.file_hash, source.read_file  # as root every file reads: the refusal is made up

    def refusing(path, name):
        if path.name == "locked.txt":
            raise SourceError(f"Cannot read source {path}: Permission denied.")
        return read(path, name)
    monkeypatch.setattr(source, "read_file", refusing)
    monkeypatch.setattr(source, "file_hash", lambda path: None if path.name == "locked.txt" else hash_of(path))
    build_index(folder, tmp_path / "index", fake_embedder)
    manifest = read_manifest(tmp_path / "index")
    assert [f["name"] for f in manifest["source"]["unreadable"]] == ["locked.txt"]
    assert stale_reasons(manifest, folder, fake_embedder) == []


def test_a_folder_file_whose_name_is_not_utf8_is_reported_not_fatal(tmp_path, small_source, fake_embedder):
    folder = small_source.parent
    with open(os.fsencode(folder) + b"/r\xe9sum\xe9.txt", "wb") as f:  # Latin-1 bytes in the name
        f.write(b"A made-up note on kites.\n")
    build_index(folder, tmp_path / "index", fake_embedder)
    manifest = read_manifest(tmp_path / "index")
    assert [(f["name"], f["reason"]) for f in manifest["source"]["unreadable"]] == [
        ("r\ufffdsum\ufffd.txt", "its file name is not valid UTF-8: rename it")]
    assert [f["name"] for f in manifest["source"]["files"]] == ["tea.txt"]
    assert stale_reasons(manifest, folder, fake_embedder) == []


def test_a_folder_files_reason_names_it_without_the_server_path(tmp_path, small_source, fake_embedder):
    (small_source.parent / "blank.txt").write_text("  \n")
    report = build_index(small_source.parent, tmp_path / "index", fake_embedder)
    assert [u["reason"] for u in report.unreadable] == ["Source blank.txt is empty"]


def test_files_of_other_types_are_told_not_passed_over(capsys, tmp_path, small_source, fake_embedder_name):
    folder = small_source.parent
    for name in ("report.doc", "data.csv", "sub/notes.rtf", ".DS_Store", ".git/config"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("made-up bytes")
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    index = tmp_path / "index"
    capsys.readouterr()
    assert main(["build", "--source", str(folder), "--index", str(index)]) == 0
    note = ("ignored 4 files (data.csv: a type this does not read; gone.txt: a link to nothing; report.doc: an old "
            "Word file, save it as .docx; ...)")
    assert note in capsys.readouterr().out
    assert main(["info", "--index", str(index)]) == 0
    assert note in capsys.readouterr().out


def test_rebuilding_an_unchanged_source_embeds_nothing(small_index: Path, small_source: Path):
    embedder = FakeEmbedder()
    report = build_index(small_source, small_index, embedder)
    assert report.embedded == 0 and embedder.embedded == []
    index = load_index(small_index)
    assert report.reused == report.chunks + report.sentences + len(index.words) - _shared(index)


def _shared(index) -> int:
    """Chunk and sentence texts that hash alike are embedded once."""
    keys = [c.id for c in index.chunks] + index.sentence_keys
    return len(keys) - len(set(keys))


def test_editing_one_paragraph_re_embeds_only_what_changed(small_index: Path, small_source: Path):
    raw = small_source.read_text()
    small_source.write_text(raw.replace("A smaller share goes to Elbonia by river barge.",
                                        "A smaller share goes to Elbonia by train."))
    embedder = FakeEmbedder()
    report = build_index(small_source, small_index, embedder)
    # The Trade chunk, its one edited sentence and the one new word; nothing else.
    assert report.embedded == 3, embedder.embedded
    assert "train" in embedder.embedded
    assert any("by train" in t for t in embedder.embedded)
    assert not any("Royal Tea Board" in t for t in embedder.embedded)


def test_force_re_embeds_everything(small_index: Path, small_source: Path):
    embedder = FakeEmbedder()
    report = build_index(small_source, small_index, embedder, force=True)
    assert report.reused == 0 and report.embedded > 0


def test_a_failed_build_leaves_the_previous_index(small_index: Path, small_source: Path, tmp_path: Path):
    before = (small_index / "manifest.json").read_text()
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    with pytest.raises(RagError, match="empty"):
        build_index(empty, small_index, FakeEmbedder())

    class Exploding(FakeEmbedder):
        def embed(self, texts):
            raise RuntimeError("out of memory")

    small_source.write_text(small_source.read_text().replace("Most tea", "Most green tea"))
    with pytest.raises(RuntimeError):
        build_index(small_source, small_index, Exploding())
    assert (small_index / "manifest.json").read_text() == before
    assert load_index(small_index).chunks
    assert not list(small_index.parent.glob(".index.tmp-*"))


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
from rag.index.build import build_index

class Slow(FakeEmbedder):
    def embed(self, texts):
        print("embedding", flush=True)
        time.sleep(30)
        return super().embed(texts)

build_index({source!r}, {index!r}, Slow(), force=True)
"""


def test_a_build_killed_mid_way_leaves_the_old_index_loadable(small_index: Path, small_source: Path):
    before = load_index(small_index)
    script = KILL_SCRIPT.format(tests=str(ROOT / "tests"), source=str(small_source), index=str(small_index))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "embedding"  # it holds the lock and is mid-build
    with pytest.raises(RagError, match="Another build"):
        build_index(small_source, small_index, FakeEmbedder())  # two builds at once: the second is refused
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = load_index(small_index)
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]
    report = build_index(small_source, small_index, FakeEmbedder())  # the lock died with the process
    assert report.embedded == 0
    assert not list(small_index.parent.glob(".index.tmp-*"))  # the killed build's leftovers are gone


def test_a_kill_between_the_two_renames_is_recovered(small_index: Path):
    old = small_index.with_name(".index.old")
    os.rename(small_index, old)  # the moment between "move old aside" and "move new in"
    assert load_index(small_index).chunks
    assert small_index.exists() and not old.exists()


def test_a_reader_during_a_builds_swap_waits_for_the_new_folder(small_index: Path):
    old, new = small_index.with_name(".index.old"), small_index.with_name("built-meanwhile")
    shutil.copytree(small_index, new)
    moved = []

    def move_new_in():
        os.rename(new, small_index)  # fails if a reader put the old folder back meanwhile
        moved.append(True)
    with build_lock(small_index):  # a build is between its two renames
        os.rename(small_index, old)
        mover = threading.Timer(0.2, move_new_in)
        mover.start()
        assert load_index(small_index).chunks
        mover.join()
    assert moved == [True] and old.exists()


def test_a_full_disk_is_a_clear_error_and_leaves_the_previous_index(small_index: Path, small_source: Path,
                                                                     monkeypatch):
    before = (small_index / "manifest.json").read_text()

    def full(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(vectors, "save", full)
    small_source.write_text(small_source.read_text().replace("Most tea", "Most green tea"))
    with pytest.raises(IndexWriteError, match=r"Cannot write the index in .*: No space left on device\.$"):
        build_index(small_source, small_index, FakeEmbedder())
    assert (small_index / "manifest.json").read_text() == before
    assert not list(small_index.parent.glob(".index.tmp-*"))


def test_the_lock_refuses_a_second_build(small_index: Path, small_source: Path):
    with build_lock(small_index):
        with pytest.raises(RagError, match="Another build"):
            build_index(small_source, small_index, FakeEmbedder())


# ---------------------------------------------------------------- errors, as the CLI shows them

def _run_cli(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()  # drop what fixtures printed
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize("content, expected", [
    (None, "Source not found"),
    (b"", "is empty"),
    (b"  \n\n \t\n", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "is a PNG image, not text"),
    (b"\x00\x01\x02 made-up bytes", "binary"),
    ("Caf\xe9 au lait.".encode("latin-1"), "not UTF-8"),
])
def test_bad_sources_get_one_clear_sentence(capsys, tmp_path: Path, small_index: Path, content, expected):
    source = tmp_path / "bad.txt"
    if content is not None:
        source.write_bytes(content)
    before = (small_index / "manifest.json").read_text()
    code, err = _run_cli(capsys, "build", "--source", str(source), "--index", str(small_index))
    assert code == 1
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert (small_index / "manifest.json").read_text() == before


def test_unsupported_file_type_and_missing_file(capsys, tmp_path: Path):
    pdf = tmp_path / "doc.odt"
    pdf.write_bytes(b"%PDF-1.4")
    code, err = _run_cli(capsys, "build", "--source", str(pdf), "--index", str(tmp_path / "i"))
    assert code == 1 and "is not a file type this reads (.docx, .htm, .html, .markdown, .md, .pdf, .text, .txt)" in err
    code, err = _run_cli(capsys, "build", "--source", str(tmp_path / "nothing-here"), "--index", str(tmp_path / "i"))
    assert code == 1 and "not found" in err


def test_index_folder_that_cannot_be_written(capsys, tmp_path: Path, small_source: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, err = _run_cli(capsys, "build", "--source", str(small_source), "--index", str(blocker / "index"))
    assert code == 1 and "Cannot" in err and "Traceback" not in err


@pytest.mark.parametrize("damage, flags", [
    ("truncate-faiss", ""),
    ("garbage-manifest", " --source PATH"),  # the manifest no longer says what the index was built from
    ("truncate-manifest", " --source PATH"),
    ("delete-chunks", ""),
    ("truncate-vectors", ""),
])
def test_corrupt_index_files_get_a_clear_message(capsys, small_index: Path, small_source: Path, damage: str,
                                                 flags: str):
    if damage == "truncate-faiss":
        path = small_index / "index.faiss"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage-manifest":
        (small_index / "manifest.json").write_text("{not json")
    elif damage == "truncate-manifest":
        (small_index / "manifest.json").write_text(json.dumps({"format_version": 2}))
    elif damage == "delete-chunks":
        (small_index / "chunks.jsonl").unlink()
    elif damage == "truncate-vectors":
        path = small_index / "chunk_vectors.npy"
        path.write_bytes(path.read_bytes()[:150])
    with pytest.raises(IndexCorrupt):
        load_index(small_index)
    code, err = _run_cli(capsys, "search", "tea", "--index", str(small_index))
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err
    advice = f"rag build --index {small_index}{flags} --force"
    assert f"rebuild with `{advice}`" in err
    code, err = _run_cli(capsys, *advice.replace("PATH", str(small_source)).split()[1:])  # the advice, followed
    assert code == 0 and load_index(small_index).manifest["counts"]["chunks"] > 0


@pytest.mark.parametrize("target, expected", [
    ("docs", "holds the source"),  # the documents folder itself
    (".", "holds the source"),  # the folder above it
    ("notes.odt", "is a file"),
    ("other", "is not an index folder (it holds thesis.tex)"),
])
def test_a_build_never_replaces_a_folder_or_file_it_did_not_write(capsys, tmp_path: Path, monkeypatch,
                                                                 target, expected):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("A page about kilns.\n\nKilns fire clay at high heat for hours.\n")
    (tmp_path / "notes.odt").write_text("my notes")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "thesis.tex").write_text("my thesis")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    code, err = _run_cli(capsys, "build", "--source", "docs", "--index", target)
    assert code == 1 and expected in err and "Traceback" not in err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def test_an_index_is_rebuilt_in_place_and_an_empty_folder_is_filled(small_index: Path, small_source: Path,
                                                                    tmp_path: Path):
    build_index(small_source, small_index, FakeEmbedder(), force=True)
    (tmp_path / "empty").mkdir()
    build_index(small_source, tmp_path / "empty", FakeEmbedder())
    assert load_index(tmp_path / "empty").manifest["counts"] == load_index(small_index).manifest["counts"]


def test_a_hidden_file_left_in_an_index_folder_does_not_block_its_rebuild(small_index, small_source):
    (small_index / ".DS_Store").write_text("left by a file browser")
    build_index(small_source, small_index, FakeEmbedder(), force=True)
    assert load_index(small_index).chunks


def test_an_earlier_answers_file_is_kept_when_the_run_fails(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "answers.jsonl").write_text("earlier answers\n")
    (tmp_path / "q.jsonl").write_text(json.dumps({"question": "Why?", "answerable": False}) + "\n")
    def no_index(settings):
        raise RagError("No index here.")
    monkeypatch.setattr("rag.cli._pipeline", no_index)  # the run fails after the answers' place was checked
    code, err = _run_cli(capsys, "eval", "--questions", "q.jsonl", "--answers", "answers.jsonl")
    assert code == 1 and (tmp_path / "answers.jsonl").read_text() == "earlier answers\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.jsonl", "q.jsonl"]  # nothing left beside it


def test_the_index_named_as_dot_is_the_current_folder(capsys, small_index: Path, monkeypatch):
    monkeypatch.chdir(small_index)
    code, err = _run_cli(capsys, "info", "--index", ".")
    assert code == 0 and "Traceback" not in err


def test_the_root_cannot_be_the_index(capsys, small_source: Path):
    code, err = _run_cli(capsys, "build", "--source", str(small_source), "--index", "/")
    assert code == 1 and "cannot be /" in err


def test_an_index_inside_its_source_folder_is_not_read_as_a_document(tmp_path: Path, fake_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.html").write_text("<p>The kiln fires clay pots at a high heat for many hours.</p>")
    build_index(folder, folder / "index", fake_embedder)
    build_index(folder, folder / "index", fake_embedder)
    assert {c.source for c in load_index(folder / "index").chunks} == {"a.html"}


def test_a_file_whose_name_is_near_the_limit_is_indexed(tmp_path: Path, fake_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / ("k" * 250 + ".html")).write_text("<p>The kiln fires clay pots at a high heat for many hours.</p>")
    build_index(folder, tmp_path / "index", fake_embedder)
    assert len(load_index(tmp_path / "index").chunks) == 1


@pytest.mark.parametrize("name, expected", [
    ("a.pdf", "a.pdf.txt"),
    ("sub/a.pdf", "sub/a.pdf.txt"),
    ("sub/" + "é" * 10 + ".pdf", "sub/" + "é" * 10 + ".pdf.txt"),
])
def test_an_extracted_copy_keeps_its_name_when_it_fits(name, expected):
    assert extracted_copy(name, limit=30) == expected


def test_an_extracted_copy_of_a_long_name_is_cut_and_told_apart_by_a_hash():
    first, second = extracted_copy("sub/" + "é" * 40 + "1.pdf", 30), extracted_copy("sub/" + "é" * 40 + "2.pdf", 30)
    assert first != second and first.startswith("sub/é") and first.endswith(".txt")
    assert all(len(part.encode("utf-8")) <= 30 for part in first.split("/"))


def test_missing_index_tells_how_to_build(capsys, tmp_path: Path):
    code, err = _run_cli(capsys, "info", "--index", str(tmp_path / "nowhere"))
    assert code == 1 and "rag build" in err


def test_a_folder_source_indexes_every_text_file(tmp_path: Path, fake_embedder):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Alpha\n\nThe alpha file talks about apples and more apples here.\n")
    (folder / "sub" / "b.md").write_text("# Beta\n\nThe beta file talks about bananas.\n")
    (folder / "ignored.odt").write_bytes(b"%PDF")
    build_index(folder, tmp_path / "index", fake_embedder)
    index = load_index(tmp_path / "index")
    assert sorted({c.source for c in index.chunks}) == ["a.txt", "sub/b.md"]
    assert {c.section for c in index.chunks} == {"Alpha", "Beta"}


@pytest.mark.parametrize("argv", [["chat", "-k", "0"], ["search", "kilns", "-k", "21"], ["ask", "Why?", "-k", "x"],
                                  ["eval", "--questions", "q.jsonl", "-k", "-1"]])
def test_a_bad_k_is_a_usage_error_before_anything_runs(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2 and "give a whole number from 1 to 20" in capsys.readouterr().err


def test_the_parsers_limit_of_k_is_the_pipelines():
    from rag import cli, pipeline
    assert cli.MAX_K == pipeline.MAX_K


@pytest.mark.parametrize("answers", ["nowhere/at/all/answers.jsonl", "a-folder"])
def test_answers_that_cannot_be_written_are_told_before_the_run(capsys, tmp_path, monkeypatch, answers):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "nowhere").write_text("a file where a folder is needed")
    (tmp_path / "q.jsonl").write_text(json.dumps({"question": "Why?", "answerable": False}) + "\n")
    code, err = _run_cli(capsys, "eval", "--questions", "q.jsonl", "--answers", answers)
    assert code == 1 and err.startswith(f"error: Cannot write the answers file {answers}:")


@pytest.mark.parametrize("value, shown", [("0", "0.0"), ("-5", "-5.0"), ("nan", "nan")])
def test_a_bad_timeout_flag_is_one_clear_line(capsys, value, shown):
    assert main(["ask", "--timeout", value, "When was the kiln built?"]) == 1
    assert capsys.readouterr().err == f"error: --timeout must be a number of seconds above 0, not {shown!r}.\n"


@pytest.mark.parametrize("value", ["1m", "0", "-5", "nan", "inf"])
def test_a_bad_llm_timeout_in_the_environment_is_one_clear_line(capsys, monkeypatch, value):
    monkeypatch.setenv("RAG_LLM_TIMEOUT", value)
    assert main(["info"]) == 1
    assert capsys.readouterr().err == f"error: RAG_LLM_TIMEOUT must be a number of seconds above 0, not {value!r}.\n"


def test_cli_build_summary_and_info(capsys, tmp_path: Path, small_source: Path, fake_embedder_name):
    index_dir = tmp_path / "cli-index"
    assert main(["build", "--source", str(small_source), "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "chunks" in out and "embedded" in out and "reused 0" in out
    assert main(["build", "--if-stale", "--source", str(small_source), "--index", str(index_dir)]) == 0
    assert "fresh; nothing to build" in capsys.readouterr().out
    assert main(["info", "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "status:   fresh" in out and "tea.txt" in out
    small_source.write_text(small_source.read_text() + "\nMore words.\n")
    assert main(["info", "--index", str(index_dir)]) == 0
    assert "STALE" in capsys.readouterr().out


def test_above_the_exact_limit_the_index_is_hnsw_and_recorded(tmp_path, small_source, fake_embedder):
    """The switch to an approximate index is automatic and written to the manifest; it still loads and finds."""
    import numpy as np

    from rag.index import vectors

    report = build_index(small_source, tmp_path / "index", fake_embedder, exact_limit=1)
    assert report.index_kind == "hnsw-ip"
    assert read_manifest(tmp_path / "index")["vector_index"] == "hnsw-ip"
    index = load_index(tmp_path / "index")
    assert index.vectors.hnsw.efSearch == vectors.EF_SEARCH
    scores, rows = vectors.search(index.vectors, index.chunk_vectors[2], 1)
    assert rows[0] == 2 and np.isclose(scores[0], 1.0, atol=1e-5)


def test_a_no_op_rebuild_leaves_every_file_byte_for_byte(small_index: Path, small_source: Path):
    def snapshot() -> dict[str, bytes]:
        return {str(p.relative_to(small_index)): p.read_bytes() for p in sorted(small_index.rglob("*")) if p.is_file()}

    before = snapshot()
    build_index(small_source, small_index, FakeEmbedder())
    assert snapshot() == before


def test_trailing_back_matter_is_reported_not_silently_dropped(small_index: Path, small_source: Path, capsys):
    manifest = read_manifest(small_index)
    assert manifest["skipped"] == [{"source": "tea.txt", "section": "References", "chars": 43}]
    report = build_index(small_source, small_index, FakeEmbedder(), force=True)
    assert "left out 1 trailing back-matter section (References; 43 characters)" in report.summary()


def test_advice_names_the_index_it_is_about(capsys, small_index: Path, small_source: Path, fake_embedder_name):
    (small_index / "manifest.json").write_text("{not json")
    code, err = _run_cli(capsys, "search", "tea", "--index", str(small_index))
    assert code == 1 and f"rebuild with `rag build --index {small_index} --source PATH --force`" in err


def test_a_deleted_source_asks_for_one_instead_of_a_rebuild(capsys, small_index: Path, small_source: Path,
                                                            fake_embedder_name):
    small_source.unlink()
    code = main(["info", "--index", str(small_index)])
    out = capsys.readouterr().out
    assert code == 0 and "Source not found" in out
    assert f"`rag build --index {small_index} --source PATH`" in out


class TwoPrecisions(FakeEmbedder):
    """A fake with an int8 sibling, as the ONNX embedder has."""

    def __init__(self) -> None:
        super().__init__()
        self.quick = FakeEmbedder()

    def bulk(self) -> FakeEmbedder:
        return self.quick


@pytest.mark.parametrize("bulk, long_ones_in_int8", [
    (BulkEmbedding(min_texts=1, min_chars=60), True),  # a large build: its long texts go to the int8 model
    (BulkEmbedding(min_texts=10_000, min_chars=60), False),  # a small one: all fp32
])
def test_a_large_build_embeds_its_long_texts_with_the_int8_sibling(tmp_path, small_source, bulk, long_ones_in_int8):
    embedder = TwoPrecisions()
    report = build_index(small_source, tmp_path / "index", embedder, bulk=bulk)
    assert all(len(t) > 60 for t in embedder.quick.embedded)
    assert bool(embedder.quick.embedded) is long_ones_in_int8
    assert all(len(t) <= 60 for t in embedder.embedded) is long_ones_in_int8
    assert report.in_int8 == len(embedder.quick.embedded)


def test_a_text_source_builds_the_committed_index_byte_for_byte():
    """A page field of PDFs must not change how a text's chunks are written: `rag build` on the shipped
    article leaves `index/` as committed (its vectors aside: the real model is not loaded here)."""
    from rag.ingest.chunking import ChunkSettings, chunk_sections
    from rag.ingest.document import parse

    raw = (ROOT / "data" / "sino-soviet-relations.txt").read_text(encoding="utf-8")
    chunks = chunk_sections(parse(raw), "sino-soviet-relations.txt", ChunkSettings())
    committed = [json.loads(line) for line in (ROOT / "index" / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    written = [{k: v for k, v in c.to_json().items() if k != "sentence_rows"} for c in chunks]
    assert written == [{k: v for k, v in c.items() if k != "sentence_rows"} for c in committed]

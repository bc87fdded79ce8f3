"""Integration: the committed index of the shipped article, with the real model."""
from __future__ import annotations

import pytest
from conftest import ARTICLE, ROOT

from rag.embedding.embedders import create_embedder
from rag.index.folder import load_index, read_manifest
from rag.index.staleness import stale_reasons


def test_committed_index_is_fresh_against_data():
    reasons = stale_reasons(read_manifest(ROOT / "index"), ARTICLE, create_embedder())
    assert reasons == [], f"index/ is stale ({reasons}): run `rag build` and commit index/"


def test_committed_index_loads_and_is_consistent():
    index = load_index(ROOT / "index")
    raw = ARTICLE.read_text(encoding="utf-8")
    assert len(index.chunks) > 20
    for chunk in index.chunks:
        assert chunk.source == "sino-soviet-relations.txt"
        assert chunk.text[:20] in " ".join(raw[chunk.start:chunk.end].split())


@pytest.mark.slow
def test_search_ranks_the_summit_first(real_pipeline):
    passages = real_pipeline.search(real_pipeline.analyse("Gorbachev Beijing summit"), k=5)
    assert "Gorbachev visited Beijing in May 1989" in passages[0].text
    assert set(passages[0].retrievers) == {"bm25", "dense"}


@pytest.mark.slow
def test_cli_search_json(capsys):
    import json

    from rag.cli import main

    assert main(["search", "Gorbachev Beijing summit", "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and "May 1989" in hits[0]["text"]
    assert [h["n"] for h in hits] == [1, 2, 3]

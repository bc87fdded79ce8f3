"""Shared fixtures: a tiny deterministic fake embedder for fast unit tests, the real model for the rest."""
from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.embedder import offline_environment
from rag.embedding.embedders import EMBEDDERS
from rag.text.terms import terms

offline_environment()  # as the entry points do, before any test imports gradio or transformers

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "data" / "sino-soviet-relations.txt"
EVAL = ROOT / "data" / "eval"  # the evaluation suite, copied from the team's shared folder
SHARED_EVAL = ROOT.parent / "shared" / "eval"


class FakeEmbedder:
    """Hashed bag of stemmed words: texts sharing words get similar vectors. Counts its calls."""

    name = "fake-hash-embedder"
    dim = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for term in terms(text) or ["<empty>"]:
                h = int.from_bytes(hashlib.md5(term.encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out


SMALL_DOC = """Tea in Ruritania

Ruritania is a small kingdom famous for its tea. The kingdom exports about 4,000 tonnes of tea each year.

History

Tea was brought to Ruritania by the merchant Anton Vell in 1802. King Rudolf III founded the Royal Tea Board in 1851.[1] The board still sets prices today.[citation needed]

Trade

Most tea is sold to Graustark. A smaller share goes to Elbonia by river barge.

References

1. ^ Smith, J. (1999). Ruritanian Tea. p. 4.
"""


@pytest.fixture
def fake_embedder_name(monkeypatch):
    """The fake, registered by name the way a plugin would be, and chosen through the environment."""
    EMBEDDERS.register("fake", FakeEmbedder)
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    yield "fake"
    EMBEDDERS.unregister("fake")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def small_source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "tea.txt"
    path.parent.mkdir()
    path.write_text(SMALL_DOC, encoding="utf-8")
    return path


@pytest.fixture
def small_index(tmp_path: Path, small_source: Path, fake_embedder: FakeEmbedder) -> Path:
    from rag.index.build import build_index

    index_dir = tmp_path / "index"
    build_index(small_source, index_dir, fake_embedder)
    return index_dir


@pytest.fixture(scope="session")
def real_pipeline():
    """The committed index of the article with the real model, loaded once for the session."""
    from rag import Pipeline

    return Pipeline.load(ROOT / "index")


def plain(text_html: str) -> str:
    """Visible text of rendered HTML: what the tests read of the page's pieces."""
    return html.unescape(re.sub(r"<[^>]+>", "", text_html))

"""Offline question answering over a document, every claim cited to a numbered passage."""
from __future__ import annotations

from rag.errors import RagError

__all__ = ["Answer", "Passage", "Pipeline", "RagError"]


def __getattr__(name: str):
    """`from rag import Pipeline` loads the pipeline (numpy, FAISS, BM25) on first use: importing `rag.cli`
    or `rag.errors` does not, so `rag --help` answers at once (PEP 562)."""
    if name == "Pipeline":
        from rag.pipeline import Pipeline  # heavy: numpy, FAISS and BM25, only when asked for
        return Pipeline
    if name in ("Answer", "Passage"):
        from rag import types  # numpy: with the types, only when asked for
        return getattr(types, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")

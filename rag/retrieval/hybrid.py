"""Hybrid retrieval: dense (FAISS) and keyword (BM25) rankings fused by reciprocal rank."""
from __future__ import annotations

from enum import Enum

import numpy as np

from rag.errors import QuestionError
from rag.index import vectors
from rag.index.folder import Index
from rag.retrieval.passages import Hit, distinct_top, to_passage
from rag.types import Passage

RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of the very top ranks
DEPTH = 50  # candidates taken from each retriever before fusion


def dense_ranking(index: Index, query_vector: np.ndarray, depth: int = DEPTH) -> list[tuple[int, float]]:
    scores, rows = vectors.search(index.vectors, query_vector, depth)
    return [(int(r), float(s)) for r, s in zip(rows, scores)]


def keyword_ranking(index: Index, query: str, depth: int = DEPTH) -> list[tuple[int, float]]:
    scores = index.keyword.scores(query)
    if len(scores) > depth:
        top = np.argpartition(-scores, depth)[:depth]
    else:
        top = np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(r), float(scores[r])) for r in top if scores[r] > 0]


def fuse(index: Index, dense: list[tuple[int, float]], keyword: list[tuple[int, float]]) -> list[Hit]:
    hits: dict[int, Hit] = {}
    for rank, (row, score) in enumerate(dense, 1):
        hit = hits.setdefault(row, Hit(row, index.chunks[row], 0.0))
        hit.dense_rank = rank
        hit.score += 1.0 / (RRF_K + rank)
    for rank, (row, score) in enumerate(keyword, 1):
        hit = hits.setdefault(row, Hit(row, index.chunks[row], 0.0))
        hit.keyword_rank = rank
        hit.score += 1.0 / (RRF_K + rank)
    return sorted(hits.values(), key=lambda h: (-h.score, h.row))


class RetrievalMode(str, Enum):
    """Hybrid for answers; one retriever alone for the baselines of `rag eval`."""
    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"

    @classmethod
    def from_str(cls, value: str | RetrievalMode) -> RetrievalMode:
        try:
            return cls(value)
        except ValueError:
            raise QuestionError(f"Unknown retrieval mode {value!r}: choose from "
                                f"{', '.join(m.value for m in cls)}.") from None


def retrieve(index: Index, text: str, vector: np.ndarray, k: int = 5,
             mode: RetrievalMode = RetrievalMode.HYBRID) -> list[Passage]:
    """The k best passages for a search text and its embedding, numbered from 1."""
    dense = dense_ranking(index, vector) if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE) else []
    keyword = keyword_ranking(index, text) if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25) else []
    groups = distinct_top(fuse(index, dense, keyword), k)
    return [to_passage(n, group, index, vector) for n, group in enumerate(groups, 1)]

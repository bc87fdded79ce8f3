"""Hybrid retrieval: dense (FAISS) and keyword (BM25) rankings fused by reciprocal rank."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from rag import vector_index
from rag.chunking import Chunk
from rag.index import Index

RRF_K = 60  # the constant from Cormack et al. (2009); damps the weight of the very top ranks
DEPTH = 50  # candidates taken from each retriever before fusion


@dataclass
class Hit:
    row: int
    chunk: Chunk
    score: float  # fused (RRF)
    dense_rank: int | None = None  # 1-based; None when that retriever did not return it
    keyword_rank: int | None = None

    @property
    def retrievers(self) -> list[str]:
        return [name for name, rank in (("dense", self.dense_rank), ("bm25", self.keyword_rank)) if rank]


def dense_ranking(index: Index, query_vector: np.ndarray, depth: int = DEPTH) -> list[tuple[int, float]]:
    scores, rows = vector_index.search(index.vectors, query_vector, depth)
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


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end


@dataclass
class Group:
    """One passage slot: the best hit plus any overlapping neighbour merged into it."""
    hits: list[Hit]

    @property
    def best(self) -> Hit:
        return self.hits[0]

    def overlaps(self, hit: Hit) -> bool:
        return any(_overlaps(h.chunk, hit.chunk) for h in self.hits)


def distinct_top(hits: list[Hit], k: int, max_merged: int = 2) -> list[Group]:
    """The k best passages. A chunk that overlaps a better one does not take a slot of its own:
    it is merged into that passage (at most `max_merged` chunks a passage), so its new sentences
    stay available without showing the shared sentence twice."""
    groups: list[Group] = []
    for rank, hit in enumerate(hits):
        home = next((g for g in groups if g.overlaps(hit)), None)
        if home is not None:
            if len(home.hits) < max_merged and rank < 2 * k:  # only neighbours that rank well themselves
                home.hits.append(hit)
        elif len(groups) < k:
            groups.append(Group([hit]))
        elif rank >= 2 * k:
            break
    return groups


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
            from rag.errors import QuestionError

            raise QuestionError(f"Unknown retrieval mode {value!r}: choose from "
                                f"{', '.join(m.value for m in cls)}.") from None


def retrieve(index: Index, query: str, query_vector: np.ndarray, k: int = 5,
             mode: RetrievalMode = RetrievalMode.HYBRID) -> list[Group]:
    dense = dense_ranking(index, query_vector) if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE) else []
    keyword = keyword_ranking(index, query) if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25) else []
    return distinct_top(fuse(index, dense, keyword), k)

"""Ranked hits -> the passages shown: overlapping neighbours merged into one slot, sentences in order."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.index.folder import Index
from rag.ingest.chunking import Chunk
from rag.types import Passage, Sentence


@dataclass
class Hit:
    """One chunk in the fused ranking (`rag.retrieval.hybrid.fuse`)."""
    row: int
    chunk: Chunk
    score: float  # fused (RRF)
    dense_rank: int | None = None  # 1-based; None when that retriever did not return it
    keyword_rank: int | None = None

    @property
    def retrievers(self) -> list[str]:
        return [name for name, rank in (("dense", self.dense_rank), ("bm25", self.keyword_rank)) if rank]


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end


@dataclass
class Group:
    """One passage slot: the best hit plus any overlapping neighbour merged into it."""
    hits: list[Hit]  # best first

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


def to_passage(n: int, group: Group, index: Index, query_vector: np.ndarray | None) -> Passage:
    """A passage from its best chunk and any overlapping neighbour merged into it."""
    best = group.best.chunk
    rows: dict[int, Sentence] = {}
    page_of: dict[int, int] = {}
    for hit in group.hits:
        rows.update(zip(hit.chunk.sentence_rows, hit.chunk.sentences))
        page_of.update(zip(hit.chunk.sentence_rows, hit.chunk.sentence_pages))
    ordered = sorted(rows.items(), key=lambda item: item[1].start)
    sentences = [s for _, s in ordered]
    similarity = max(float(index.chunk_vectors[h.row] @ query_vector) for h in group.hits) \
        if query_vector is not None else 0.0
    return Passage(
        n=n, chunk_id=best.id, source=best.source, section=best.section,
        text=" ".join(s.text for s in sentences), start=sentences[0].start, end=sentences[-1].end,
        score=group.best.score, retrievers=sorted({r for h in group.hits for r in h.retrievers}),
        sentences=sentences, sentence_rows=[row for row, _ in ordered], similarity=similarity,
        page=min((h.chunk.page for h in group.hits if h.chunk.page), default=None),
        last_page=max((h.chunk.last_page for h in group.hits if h.chunk.last_page), default=None),
        chunk_ids=[h.chunk.id for h in group.hits],
        sentence_pages=[page_of.get(row, 0) for row, _ in ordered] if page_of else [],
    )

"""One round of search: the round's questions embedded in one call of the embedder, then each one's
passages. A question is searched in one round; a two-step question in two (its description with it,
then the rest of it asked about the name the description stands for)."""
from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from rag.embedding.embedder import Embedder
from rag.index.folder import Index
from rag.retrieval.hybrid import RetrievalMode, retrieve
from rag.types import Passage, Query


class WordVectors(Protocol):
    """The document's own word vectors (`rag.answering.signals.DocumentStats` has them): a word the
    document holds is not embedded again."""

    def has_word(self, word: str) -> bool: ...

    def word_vector(self, word: str) -> np.ndarray: ...


def embedded(queries: list[Query], embedder: Embedder, stats: WordVectors) -> list[Query]:
    """Each query with its vector and its content words' vectors: the document's where it has them, the
    rest embedded in the same call as the questions."""
    new = list(dict.fromkeys(w for q in queries for w in q.content_words if not stats.has_word(w)))
    vectors = embedder.embed([*(q.search for q in queries), *new])
    found = dict(zip(new, vectors[len(queries):]))
    return [dataclasses.replace(q, vector=vector, word_vectors={
                **{w: stats.word_vector(w) for w in q.content_words if stats.has_word(w)},
                **{w: found[w] for w in q.content_words if not stats.has_word(w)}})
            for q, vector in zip(queries, vectors)]


def search(index: Index, embedder: Embedder, stats: WordVectors, queries: list[Query], k: int,
           mode: RetrievalMode = RetrievalMode.HYBRID) -> list[tuple[Query, list[Passage]]]:
    """The round's queries, embedded, each with its k passages."""
    return [(q, retrieve(index, q.search, q.vector, k, mode)) for q in embedded(queries, embedder, stats)]

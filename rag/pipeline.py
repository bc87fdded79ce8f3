"""A question's path: check it, search with the conversation if needed, answer, cite.

    Pipeline.load(index_dir) -> .ask(question, k, history) -> Answer
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from rag.answer import Answer, Answerer, Passage, Reply, finalize
from rag.embedder import Embedder, MiniLMEmbedder
from rag.errors import RagError
from rag.extractive import ExtractiveAnswerer
from rag.followup import context_for
from rag.index import Index, load_index
from rag.question import document_names, years_in
from rag.document import Sentence
from rag.retrieve import Group, retrieve
from rag.terms import normalize

MAX_QUESTION_CHARS = 2000
QUESTION_START = re.compile(r"\W*(who|whom|whose|what|when|where|which|why|how|did|does|do|is|are|was|were|can|could)\b",
                            re.I)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_question(question: object) -> str:
    """The question as text, or a RagError the user can act on."""
    if not isinstance(question, str):
        raise RagError("The question must be text.")
    text = re.sub(r"\s+", " ", CONTROL.sub(" ", question)).strip()
    if not text:
        raise RagError("Please type a question.")
    if len(text) > MAX_QUESTION_CHARS:
        raise RagError(f"The question is too long ({len(text):,} characters); please keep it under "
                       f"{MAX_QUESTION_CHARS:,}.")
    return text


def search_text(question: str, context: str = "") -> str:
    """What retrieval sees: case, quotes, dashes and stray punctuation folded, so "WHO led ...???" and
    "who led ..." search alike; the turns a follow-up leans on come first."""
    text = re.sub(r"[^\w\s'$%.,&/?-]", " ", normalize(f"{context} {question}"))
    text = re.sub(r"\s*\?[\s?]*", "? ", text)  # "???" -> "?"
    text = re.sub(r"\s+", " ", text).strip(" .,")
    if QUESTION_START.match(question) and not text.endswith("?"):
        text += "?"  # the model reads "who led x" best as the question it is
    return text


class Pipeline:
    """`generators`: optional generative answerers by name; the extractive one is always there."""

    def __init__(self, index: Index, embedder: Embedder | None = None,
                 generators: dict[str, Answerer] | None = None, default: str = "extractive") -> None:
        self.embedder = embedder or MiniLMEmbedder()
        if index.manifest["model"]["name"] != self.embedder.name:
            raise RagError(f"The index was built with {index.model}, not {self.embedder.name}: "
                           "rebuild it with `rag build --force`.")
        self.generators = dict(generators or {})
        if default != "extractive" and default not in self.generators:
            raise RagError(f"Unknown answerer {default!r}: choose from {', '.join(self.answerer_names)}.")
        self.default = default
        self._lock = threading.Lock()
        self.swap(index)

    @classmethod
    def load(cls, index_dir: str | Path = "index", embedder: Embedder | None = None,
             generators: dict[str, Answerer] | None = None, default: str = "extractive") -> Pipeline:
        return cls(load_index(Path(index_dir)), embedder, generators, default)

    @property
    def answerer_names(self) -> list[str]:
        return ["extractive", *self.generators]

    def swap(self, index: Index) -> None:
        """Serve a newly built index; questions in flight finish on the old one."""
        section_years: dict[tuple[str, str], set[str]] = {}
        for chunk in index.chunks:
            section_years.setdefault((chunk.source, chunk.section), set()).update(years_in(chunk.text))
        names = document_names(chunk.text for chunk in index.chunks)
        extractive = ExtractiveAnswerer(index.keyword.idf, index.keyword.knows, names)
        with self._lock:
            self.index, self.section_years, self.extractive = index, section_years, extractive

    def answerer(self, name: str | None = None) -> Answerer:
        name = name or self.default
        if name == "extractive":
            return self.extractive
        if name not in self.generators:
            raise RagError(f"Unknown answerer {name!r}: choose from {', '.join(self.answerer_names)}.")
        return self.generators[name]

    # -- asking

    def retrieve(self, question: str, k: int = 5, history: list[str] | None = None,
                 retrieval: str = "hybrid") -> tuple[list[Passage], str, np.ndarray]:
        """The k passages for a question (with the conversation it leans on), and that context."""
        question = clean_question(question)
        index, section_years = self.index, self.section_years  # one consistent snapshot
        context = context_for(question, history)
        query = search_text(question, context)
        query_vector = self.embedder.embed([query])[0]
        groups = retrieve(index, query, query_vector, max(1, int(k)), retrieval)
        passages = [self._passage(n, group, index, section_years, query_vector) for n, group in enumerate(groups, 1)]
        return passages, context, query_vector

    def ask(self, question: str, k: int = 5, history: list[str] | None = None, retrieval: str = "hybrid",
            answerer: str | None = None) -> Answer:
        answer = None
        for item in self.ask_stream(question, k, history, retrieval, answerer):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, k: int = 5, history: list[str] | None = None,
                   retrieval: str = "hybrid", answerer: str | None = None) -> Iterator[str | Answer]:
        """Text pieces of the answer as they are produced, then the complete, validated Answer.

        When a generative answerer fails or its text cannot be trusted, the Answer is the extractive
        one (answerer "extractive-fallback", with a notice), replacing the pieces already streamed."""
        began = time.perf_counter()
        question = clean_question(question)
        chosen = self.answerer(answerer)
        passages, context, query_vector = self.retrieve(question, k, history, retrieval)
        retrieved = time.perf_counter()
        reply: Reply | None = None
        if chosen is not self.extractive:
            # The same evidence check as the extractive answer: a question whose names or years the
            # passages lack is refused without asking a model that might make something up.
            evidence = self.extractive.evidence(question, passages, query_vector, context)
            if isinstance(evidence, Reply):
                reply = evidence
                reply.notice = f"The passages do not support an answer, so the {chosen.name} model was not asked."
                yield reply.text
        for piece in ([] if reply else chosen.stream(question, passages, query_vector, context)):
            if isinstance(piece, Reply):
                reply = piece
            else:
                yield piece
        assert reply is not None
        if reply.fallback:
            notice = reply.notice
            reply = self.extractive.reply(question, passages, query_vector, context)
            reply.answerer, reply.notice = "extractive-fallback", f"{notice} Showing the extractive answer."
        answer = finalize(question, reply, passages)
        done = time.perf_counter()
        answer.query = search_text(question, context) if context else None
        answer.timings_ms = {"retrieve": (retrieved - began) * 1000, "answer": (done - retrieved) * 1000,
                             "total": (done - began) * 1000}
        yield answer

    @staticmethod
    def _passage(n: int, group: Group, index: Index, section_years: dict, query_vector: np.ndarray) -> Passage:
        """A passage from its best chunk and any overlapping neighbour merged into it."""
        best = group.best.chunk
        rows: dict[int, Sentence] = {}
        for hit in group.hits:
            rows.update(zip(hit.chunk.sentence_rows, hit.chunk.sentences))
        ordered = sorted(rows.items(), key=lambda item: item[1].start)
        sentences = [s for _, s in ordered]
        return Passage(
            n=n, chunk_id=best.id, source=best.source, section=best.section,
            text=" ".join(s.text for s in sentences), start=sentences[0].start, end=sentences[-1].end,
            score=group.best.score, retrievers=sorted({r for h in group.hits for r in h.retrievers}),
            sentences=sentences, sentence_vectors=index.sentence_vectors[[row for row, _ in ordered]],
            section_years=section_years.get((best.source, best.section), set()),
            relevance=max(float(index.chunk_vectors[h.row] @ query_vector) for h in group.hits),
            chunk_ids=[h.chunk.id for h in group.hits],
        )

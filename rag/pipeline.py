"""A question's path, each stage once and in order:

    analyse (Query) -> search (embed, retrieve: passages) -> evidence (the answerability decision)
        -> answerer (or a refusal) -> finalize (checked citations) -> Answer

A two-step question ("When did the surveyor who mapped the delta die?") takes two rounds of the first three
stages: its description is analysed, embedded and searched with it; when the evidence asks for it
(`Evidence.follow`), the rest of the question, asked about the name the description stands for, is
searched and weighed (`EvidenceJudge.conclude`).

    Pipeline.load(index_dir).ask(question, k, history) -> Answer
"""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Iterator

from rag.answering import language
from rag.answering.answerers import ANSWERERS
from rag.answering.citations import finalize, refusal, reply_of
from rag.answering.evidence import EvidenceJudge
from rag.answering.extractive import ExtractiveAnswerer
from rag.answering.model import AnswerabilityModel, load_model
from rag.answering.query import analyse
from rag.answering.rules import ALL_RULES, Rule
from rag.answering.signals import DocumentStats
from rag.answering.verifier import Verifier
from rag.embedding.embedder import Embedder
from rag.embedding.embedders import create_embedder
from rag.errors import AnswererError, IndexCorrupt, QuestionError
from rag.index.folder import Index, load_index
from rag.index.staleness import embedding_mismatches
from rag.retrieval.hybrid import RetrievalMode, retrieve
from rag.retrieval.search import embedded, search
from rag.types import Answer, Answerer, Passage, Query, Reply

MAX_K = 20


class Pipeline:
    """`answerers`: by name, the extractive one included (added when missing). `model` and `threshold`
    override the shipped answerability model (the refit and the evaluation pass their own)."""

    def __init__(self, index: Index, embedder: Embedder | None = None,
                 answerers: dict[str, Answerer] | None = None, default: str = "extractive",
                 model: AnswerabilityModel | None = None, threshold: float | None = None,
                 verifier: Verifier | bool = True, rules: frozenset[Rule] = ALL_RULES) -> None:
        self.embedder = embedder or create_embedder()
        if index.manifest["model"]["name"] != self.embedder.name:
            raise IndexCorrupt(f"The index was built with {index.model}, not {self.embedder.name}: "
                               "rebuild it with `rag build --force`.")
        mismatches = embedding_mismatches(index.manifest, self.embedder)
        if mismatches:
            raise IndexCorrupt(f"The index was {'; '.join(mismatches)}: rebuild it with `rag build --force`"
                               " (or choose the embedder it was built with, RAG_EMBEDDER).")
        self.answerers = {"extractive": ExtractiveAnswerer(), **(answerers or {})}
        self.default = default
        self.answerer(default)  # unknown names fail now, not at the first question
        self.model = model or load_model()
        self.threshold = threshold
        # True: the shipped verifier, when the model reads its signals; False: none (training it).
        self.verifier = verifier if isinstance(verifier, Verifier) else (
            Verifier() if verifier and self.model.reads_verifier else None)
        self.rules = rules
        self._lock = threading.Lock()
        self.swap(index)

    @classmethod
    def load(cls, index_dir: str | Path = "index", embedder: Embedder | None = None, **options) -> Pipeline:
        return cls(load_index(Path(index_dir)), embedder, **options)

    @property
    def answerer_names(self) -> list[str]:
        return list(self.answerers)

    @property
    def extractive(self) -> Answerer:
        return self.answerers["extractive"]

    def warm(self) -> None:
        """Load the models now (the embedder, the language identifier, and the verifier when the decision
        reads it), not inside the first answer's time."""
        self.embedder.embed(["warm up"])
        language.detector()
        if self.verifier is not None:
            self.verifier.load()

    def swap(self, index: Index) -> None:
        """Serve a newly built index; questions in flight finish on the old one. The index and its judge
        are one attribute, so a question never reads one without the other."""
        judge = EvidenceJudge(DocumentStats.from_index(index), self.model, self.threshold, verifier=self.verifier,
                              rules=self.rules)
        with self._lock:
            self._served = (index, judge)

    @property
    def index(self) -> Index:
        return self._served[0]

    @property
    def judge(self) -> EvidenceJudge:
        return self._served[1]

    def answerer(self, name: str | None = None) -> Answerer:
        name = name or self.default
        if name not in self.answerers:
            ANSWERERS.get(name)  # a name no plugin registers: the registry's one error, listing every answerer
            raise AnswererError(f"The {name} answerer is not configured here: choose from "
                                f"{', '.join(self.answerer_names)}.")
        return self.answerers[name]

    # -- asking

    def analyse(self, question: object, history: list[str] | None = None) -> Query:
        """The analysed question with its embedding, and its words' (for the training and the tools that
        read one round's signals: no description is split off)."""
        return embedded([analyse(question, history, two_step=False)], self.embedder, self.judge.stats)[0]

    def search(self, query: Query, k: int = 5, retrieval: RetrievalMode | str = RetrievalMode.HYBRID,
               index: Index | None = None) -> list[Passage]:
        """The k passages for an analysed question."""
        return retrieve(index or self.index, query.search, query.vector, check_k(k), RetrievalMode.from_str(retrieval))

    def ask(self, question: object, k: int = 5, history: list[str] | None = None,
            retrieval: RetrievalMode | str = RetrievalMode.HYBRID, answerer: str | None = None) -> Answer:
        return reply_of_answer(self.ask_stream(question, k, history, retrieval, answerer))

    def ask_stream(self, question: object, k: int = 5, history: list[str] | None = None,
                   retrieval: RetrievalMode | str = RetrievalMode.HYBRID,
                   answerer: str | None = None) -> Iterator[str | Answer]:
        """Text pieces of the answer as they are produced, then the complete, validated Answer.

        When a generative answerer fails or its text cannot be trusted, the Answer is the extractive
        one (answerer "extractive-fallback", with a notice), replacing the pieces already streamed."""
        began = time.perf_counter()
        k = check_k(k)
        chosen = self.answerer(answerer)
        index, judge = self._served  # one consistent snapshot, even across a swap
        retrieval = RetrievalMode.from_str(retrieval)
        query = analyse(question, history)
        (query, passages), *described = search(index, self.embedder, judge.stats,
                                                [query, *filter(None, [query.described])], k, retrieval)
        evidence = judge.decide(query, passages, *described)
        if evidence.follow is not None:  # a two-step question's second round
            [(second, passages)] = search(index, self.embedder, judge.stats,
                                          [analyse(evidence.follow.question, two_step=False)], k, retrieval)
            evidence = judge.conclude(evidence, second, passages)
        passages = evidence.passages
        retrieved = time.perf_counter()
        reply: Reply | None = None
        if evidence.refused:
            reply = refusal(index.manifest.get("title", ""), evidence.reason)
            if chosen is not self.extractive:
                reply = dataclasses.replace(reply, notice=f"The passages do not support an answer, so the "
                                                          f"{chosen.name} model was not asked.")
            yield reply.text
        else:
            for piece in chosen.stream(query, passages, evidence):
                if isinstance(piece, Reply):
                    reply = piece
                else:
                    yield piece
        assert reply is not None
        if reply.fallback:
            notice = reply.notice
            reply = dataclasses.replace(reply_of(self.extractive.stream(query, passages, evidence)),
                                        answerer="extractive-fallback", notice=f"{notice} Showing the extractive answer.")
        answer = finalize(query.text, reply, passages)
        done = time.perf_counter()
        yield dataclasses.replace(answer, query=query.search if query.context else None, confidence=evidence.confidence,
                                  timings_ms={"retrieve": (retrieved - began) * 1000,
                                              "answer": (done - retrieved) * 1000, "total": (done - began) * 1000})


def reply_of_answer(stream: Iterator[str | Answer]) -> Answer:
    answer = None
    for item in stream:
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer


def check_k(k: object) -> int:
    """k as a whole number from 1 to MAX_K, or a QuestionError: never truncated or guessed."""
    if isinstance(k, bool) or not isinstance(k, (int, float, str)):
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K}.")
    try:
        value = float(k)
    except (ValueError, OverflowError):  # "abc", or an int too large for a float
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K}.") from None
    if not value.is_integer() or not 1 <= value <= MAX_K:
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K}.")
    return int(value)

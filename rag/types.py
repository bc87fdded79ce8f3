"""The values the stages hand each other, in one place and immutable: a stage returns new values and never
changes what it was given (`dataclasses.replace`).

    Sentence -> Passage (retrieval) -> Query + Candidate (the answer decision) -> Reply (an answerer)
    -> Answer (validated citations)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterator, Protocol

import numpy as np

from rag.text.patterns import QUANTITY
from rag.text.terms import STOPWORDS, words


@dataclass(frozen=True)
class Sentence:
    start: int  # raw offsets: raw[start:end] is the text it came from
    end: int
    text: str  # cleaned


class Choice(StrEnum):
    """A StrEnum whose error for an unknown value lists the valid ones (a mode read from a file, an
    argument or a request names the one it expected)."""

    @classmethod
    def _missing_(cls, value: object):
        raise ValueError(f"Unknown {cls.__name__} {value!r}: choose from {', '.join(m.value for m in cls)}.")


class QuestionKind(Choice):
    """What the answer must hold (rag.answering.query.answer_kind): a quantity, a year, a day, some time,
    a name, a cause, a mechanism, several points, or anything else."""
    COUNT = "count"
    YEAR = "year"
    DATE = "date"
    WHEN = "when"
    WHO = "who"
    WHERE = "where"
    WHY = "why"
    HOW = "how"
    SUMMARY = "summary"
    OTHER = "other"


class Outcome(Choice):
    """What became of a question: answered from the document, refused because the document does not say
    (the closest passages shown instead), or not read because it is not in English."""
    ANSWERED = "answered"
    REFUSED = "refused"
    NOT_ENGLISH = "not_english"


@dataclass(frozen=True)
class Query:
    text: str  # the question as asked, whitespace and control characters cleaned
    context: str  # the earlier turns a follow-up leans on, "" for a self-contained question
    search: str  # what retrieval searches for and embeds
    kind: QuestionKind
    years: frozenset[str]  # "1929", "1960s": tokens the evidence must share
    names: tuple[str, ...]  # capitalised words of the question (and its context), lower-cased
    terms: tuple[str, ...]  # stemmed content words of the question itself
    context_terms: tuple[str, ...] = ()  # of the turns it leans on: half weight
    units: frozenset[str] = frozenset()  # "how far": {"length"}, the units the answer's quantity must carry
    english: bool = True
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # embedding of `search`
    word_vectors: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)  # of `content_words`
    # A two-step question's description ("the surveyor who mapped the delta"), found first as a question
    # of its own (its context is this question); None for any other question.
    described: Query | None = field(default=None, compare=False, repr=False)

    @property
    def content_words(self) -> tuple[str, ...]:
        """The question's own content words, lower-cased and unstemmed: what soft matching compares."""
        return tuple(dict.fromkeys(w for w in words(self.text) if w not in STOPWORDS and not w.isdigit()))

    @property
    def numbers(self) -> set[str]:
        return {m.group().lower().strip("$.,") for m in QUANTITY.finditer(self.text)}


@dataclass(frozen=True)
class Passage:
    """A numbered passage shown with an answer, with where it came from. Stages that renumber or mark
    the quoted sentences return new Passages (`dataclasses.replace`), never change one in place."""
    n: int  # 1-based position in the list shown with the answer
    chunk_id: str
    source: str
    section: str
    text: str
    start: int
    end: int
    score: float
    retrievers: list[str]
    sentences: list[Sentence] = field(default_factory=list, repr=False)
    sentence_rows: list[int] = field(default_factory=list, repr=False)  # their rows in the index's vectors
    used_sentences: list[list[int]] = field(default_factory=list)
    similarity: float = 0.0  # cosine of the passage and the question: a score a person can read
    page: int | None = None  # the page it starts on, for paged sources (PDF)
    last_page: int | None = None  # the page its last sentence starts on
    chunk_ids: list[str] = field(default_factory=list)  # more than one when overlapping neighbours merged
    sentence_pages: list[int] = field(default_factory=list, repr=False)  # each sentence's page (PDF)

    def quoted_pages(self) -> list[int]:
        """The pages of the sentences the answer quotes: what a citation names, not where the passage starts."""
        used = {(start, end) for start, end in self.used_sentences}
        return sorted({page for s, page in zip(self.sentences, self.sentence_pages) if (s.start, s.end) in used and page})

    def to_json(self) -> dict:
        return {"n": self.n, "chunk_id": self.chunk_id, "source": self.source, "section": self.section,
                "text": self.text, "start": self.start, "end": self.end, "score": round(self.score, 6),
                "similarity": round(self.similarity, 4), "page": self.page,
                "last_page": self.last_page, "retrievers": self.retrievers, "used_sentences": self.used_sentences,
                "chunk_ids": self.chunk_ids, "quoted_pages": self.quoted_pages()}


@dataclass(frozen=True, eq=False)
class Candidate:
    """One sentence of a shown passage, with the signals the answer decision reads."""
    passage: Passage
    sentence: Sentence
    signals: dict[str, float]
    score: float = 0.0  # the ranking score
    eligible: bool = True  # holds the kind of answer a typed question needs, its year, the birth or death asked


@dataclass(frozen=True)
class Reply:
    """An answerer's output before validation."""
    text: str
    outcome: Outcome = Outcome.ANSWERED
    quoted: list[tuple[int, Sentence]] = field(default_factory=list)  # (passage n, sentence) it quotes
    answerer: str = "extractive"
    notice: str | None = None  # e.g. why a generative answer fell back
    fallback: bool = False  # the answerer could not answer usefully: the pipeline answers extractively

    @property
    def refused(self) -> bool:
        return self.outcome is not Outcome.ANSWERED


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    outcome: Outcome
    citations: list[int]
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    answerer: str = "extractive"
    notice: str | None = None
    query: str | None = None  # what retrieval searched for, when a follow-up was expanded
    confidence: float = 0.0  # the answerability model's probability that the document answers the question

    @property
    def refused(self) -> bool:
        return self.outcome is not Outcome.ANSWERED

    def to_json(self) -> dict:
        data = {"question": self.question, "answer": self.answer, "refused": self.refused,
                "outcome": self.outcome.value,
                "citations": self.citations, "passages": [p.to_json() for p in self.passages],
                "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
                "answerer": self.answerer, "confidence": round(self.confidence, 3)}
        if self.notice:
            data["notice"] = self.notice
        if self.query and self.query != self.question:
            data["query"] = self.query
        return data


class Answerer(Protocol):
    """An analysed question, its passages and the evidence judged to support an answer -> Reply.
    Answerers are asked only when the evidence supports an answer: refusing is not theirs to decide."""

    name: str

    def stream(self, query, passages: list[Passage], evidence) -> Iterator[str | Reply]:
        """Text pieces as they come, then the final Reply."""
        ...

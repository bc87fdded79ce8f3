"""What an answer is: the passages shown, the text, its citations, and their validation.

Every answerer (extractive here, generative ones elsewhere) returns a `Reply`;
`finalize` turns it into an `Answer` whose `[n]` markers are parsed and checked
against the passages shown, never trusted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Protocol

from rag.ingest.document import Sentence

MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass
class Passage:
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


@dataclass
class Reply:
    """An answerer's output before validation."""
    text: str
    refused: bool = False
    quoted: list[tuple[int, Sentence]] = field(default_factory=list)  # (passage n, sentence) it quotes
    answerer: str = "extractive"
    notice: str | None = None  # e.g. why a generative answer fell back
    fallback: bool = False  # the answerer could not answer usefully: the pipeline answers extractively


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[int]
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    answerer: str = "extractive"
    notice: str | None = None
    query: str | None = None  # what retrieval searched for, when a follow-up was expanded
    confidence: float = 0.0  # the answerability model's probability that the document answers the question

    def to_json(self) -> dict:
        data = {"question": self.question, "answer": self.answer, "refused": self.refused,
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


ENGLISH_ONLY = ("Questions are answered in English only (the embedding model reads English): please ask in "
                "English. The closest passages are shown for you to check.")


def refusal(title: str = "", reason: str | None = None) -> Reply:
    """What every refusal says: the document does not answer, and why when a reason stands out."""
    if reason == "not English":
        return Reply(ENGLISH_ONLY, refused=True)
    subject = f"The document ({title})" if title else "The document"
    text = f"{subject} does not say" + (f": {reason}." if reason else ".")
    return Reply(text + " The closest passages are shown for you to check.", refused=True)


def reply_of(stream: Iterator[str | Reply]) -> Reply:
    """The final Reply of an answerer's stream."""
    result = None
    for item in stream:
        if isinstance(item, Reply):
            result = item
    assert result is not None, "an answerer's stream must end with a Reply"
    return result


def strip_invalid_markers(text: str, valid: set[int]) -> str:
    """Drop markers that point at no shown passage (a model may invent [9])."""
    out = MARKER.sub(lambda m: m.group() if int(m.group(1)) in valid else "", text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", out)).strip()


def cited(text: str, valid: set[int]) -> list[int]:
    """The passage numbers the text cites, in order of first use."""
    seen: list[int] = []
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        if n in valid and n not in seen:
            seen.append(n)
    return seen


def finalize(question: str, reply: Reply, passages: list[Passage]) -> Answer:
    valid = {p.n for p in passages}
    text = strip_invalid_markers(reply.text, valid)
    by_n = {p.n: p for p in passages}
    for p in passages:
        p.used_sentences = []
    for n, sentence in reply.quoted:
        if n in by_n and [sentence.start, sentence.end] not in by_n[n].used_sentences:
            by_n[n].used_sentences.append([sentence.start, sentence.end])
    citations = [] if reply.refused else cited(text, valid)
    return Answer(question, text, reply.refused, citations, passages, answerer=reply.answerer,
                  notice=reply.notice)

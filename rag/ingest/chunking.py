"""Sentence-aware chunks that never cross a section and carry their provenance."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Callable

from rag.ingest.document import Section
from rag.types import Sentence


@dataclass(frozen=True)
class ChunkSettings:
    max_chars: int = 600
    overlap_sentences: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Chunk:
    id: str  # sha256 of section and text: the embedding cache key
    source: str
    section: str
    start: int  # raw offsets: raw[start:end] is the text it came from
    end: int
    text: str  # cleaned
    sentences: list[Sentence] = field(default_factory=list)
    sentence_rows: list[int] = field(default_factory=list)  # rows in the index's sentence vectors
    page: int | None = None  # the page it starts on, for paged formats (PDF)
    last_page: int | None = None  # the page its last sentence starts on
    sentence_pages: list[int] = field(default_factory=list)  # the page of each sentence (PDF), for citations

    def embed_text(self) -> str:
        return f"{self.section}: {self.text}"

    def to_json(self) -> dict:
        data = asdict(self)
        data["sentences"] = [[s.start, s.end, s.text] for s in self.sentences]
        if not self.sentence_pages:
            del data["sentence_pages"]  # text has no pages: its chunks are written as they always were
        return data

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        sentences = [Sentence(start, end, text) for start, end, text in data["sentences"]]
        return cls(**{**data, "sentences": sentences})


def chunk_id(section: str, text: str) -> str:
    return hashlib.sha256(f"{section}\n{text}".encode()).hexdigest()


def pack(sentences: list[Sentence], settings: ChunkSettings) -> list[list[Sentence]]:
    """Greedy groups of whole sentences up to max_chars, neighbours sharing `overlap` sentences.

    A sentence longer than max_chars becomes a chunk of its own rather than being split.
    """
    groups: list[list[Sentence]] = []
    i = 0
    while i < len(sentences):
        group = [sentences[i]]
        size = len(sentences[i].text)
        j = i + 1
        while j < len(sentences) and size + 1 + len(sentences[j].text) <= settings.max_chars:
            size += 1 + len(sentences[j].text)
            group.append(sentences[j])
            j += 1
        groups.append(group)
        if j >= len(sentences):
            break
        # Step back for the overlap, but always move forward by at least one sentence.
        i = max(i + 1, j - settings.overlap_sentences)
    return groups


def chunk_sections(sections: list[Section], source: str, settings: ChunkSettings,
                   page_at: Callable[[int], int | None] | None = None) -> list[Chunk]:
    chunks = []
    for section in sections:
        if section.skipped:
            continue
        for group in pack(section.sentences, settings):
            text = " ".join(s.text for s in group)
            chunks.append(Chunk(
                id=chunk_id(section.title, text), source=source, section=section.title,
                start=group[0].start, end=group[-1].end, text=text, sentences=group,
                page=page_at(group[0].start) if page_at else None,
                last_page=page_at(group[-1].start) if page_at else None,
                sentence_pages=[page_at(s.start) or 0 for s in group] if page_at and page_at(group[0].start) else [],
            ))
    return chunks

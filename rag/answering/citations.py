"""An answer's citations: every answerer returns a `Reply`, and `finalize` turns it into an `Answer` whose
`[n]` markers are parsed and checked against the passages shown, never trusted; `refusal` is what every
refusal says."""
from __future__ import annotations

import dataclasses
import re
from typing import Iterator

from rag.types import Answer, Outcome, Passage, Reply

MARKER = re.compile(r"\[(\d{1,3})\]")


ENGLISH_ONLY = ("Questions are answered in English only (the embedding model reads English): please ask in "
                "English. The closest passages are shown for you to check.")


def refusal(title: str = "", reason: str | None = None) -> Reply:
    """What every refusal says: the document does not answer, and why when a reason stands out."""
    if reason == "not English":
        return Reply(ENGLISH_ONLY, Outcome.NOT_ENGLISH)
    if re.fullmatch(r"\d[\d,]* documents", title):  # the title of a folder of several: "6 documents"
        text = f"The {title} do not say"
    else:
        text = (f"The document ({title})" if title else "The document") + " does not say"
    text += f": {reason}." if reason else "."
    return Reply(text + " The closest passages are shown for you to check.", Outcome.REFUSED)


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
    """The answer: its markers checked against the passages shown, and each passage given the sentences
    the reply quotes from it (new Passages; the ones given are left as they were)."""
    valid = {p.n for p in passages}
    text = strip_invalid_markers(reply.text, valid)
    used: dict[int, list[list[int]]] = {p.n: [] for p in passages}
    for n, sentence in reply.quoted:
        if n in used and [sentence.start, sentence.end] not in used[n]:
            used[n].append([sentence.start, sentence.end])
    shown = [dataclasses.replace(p, used_sentences=used[p.n]) for p in passages]
    citations = [] if reply.refused else cited(text, valid)
    return Answer(question, text, reply.outcome, citations, shown, answerer=reply.answerer,
                  notice=reply.notice)

"""The hand rules of the answer decision, each a named check that refuses or filters where the model
alone answers. Each states its measured effect on the validation documents (whole pipeline, rule
switched off against on: `python -m rag.rules_effect`, bench/results.md).
"""
from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import Callable

from rag.answering import lexicon
from rag.answering.query import NAME_RUN, Query
from rag.terms import STOPWORDS, normalize, stem, terms

class Rule(str, Enum):
    """The hand rules, by name. Their measured effects are in their docstrings below and in
    bench/results.md."""
    UNKNOWN_NAMES = "unknown-names"  # refuse when the question names what the document never mentions
    NEAR_MISS = "near-miss"  # the opposite, another superlative or a sibling is no answer
    YEAR = "year"  # the question's year must be in the sentence or its section
    TYPED_ANSWER = "typed-answer"  # "how many", "which year", "what date" need a number, year or date
    LIFE_EVENTS = "life-events"  # a birth or death date needs a sentence that dates one
    BRIDGE_ONLY = "bridge-only"  # a two-step answer that is only the bridge sentence, about nothing asked

    @classmethod
    def parse(cls, name: str) -> Rule:
        try:
            return cls(name)
        except ValueError:
            raise ValueError(f"unknown rule {name!r}: choose from {', '.join(r.value for r in cls)}") from None


ALL_RULES = frozenset(Rule)
OPPOSITE = {a: b for a, b in lexicon.OPPOSITES} | {b: a for a, b in lexicon.OPPOSITES}

# "the most abundant", "its least", "largest", "best"; not "most local parties" or "absorbs most strongly".
SUPERLATIVE = re.compile(r"(?<=\bthe\s)(?:most|least)\s+[a-z]{3,}\b|(?<=\bits\s)(?:most|least)\s+[a-z]{3,}\b"
                         r"|\b[a-z]{2,}est\b|\b(?:best|worst)\b")
MARK = r"(?:[a-z]|[ivx]{1,4}|\d{1,3})\b(?![.,]\d)"
QUALIFIED = re.compile(rf"\b([a-z]{{3,}})\s+({MARK}(?:\s*(?:,|and|or|&)\s*{MARK})*)")
SUBORDINATE = re.compile(r"\b(?:after|before|since|until|once|following)\b", re.I)
ORDINAL_BEFORE = re.compile(r"\b(\d{1,3}(?:st|nd|rd|th))\s+([a-z]{3,})\b")  # "the 36th Division"


def event_missing(query: Query, sentence: str) -> bool:
    """A question about when someone was born or died, and a sentence that dates no birth or death."""
    return query.kind in ("year", "date", "when") and any(
        not given.search(sentence) for given in events_asked(query.text))


@lru_cache(maxsize=4096)
def events_asked(question: str) -> tuple[re.Pattern, ...]:
    """What a sentence must hold to date the birth or death the question asks about; nothing when the
    birth or death only dates something else ("... after Mao died?")."""
    if SUBORDINATE.search(question):
        return ()
    return tuple(given for asked, given in lexicon.LIFE_EVENTS if asked.search(question))


@lru_cache(maxsize=65_536)
def superlatives(text: str) -> frozenset[str]:
    """"largest", "most abundant", "best": what a near miss swaps ("most of" is no superlative)."""
    found = set()
    for match in SUPERLATIVE.findall(normalize(text)):
        parts = match.split()
        if match in lexicon.NOT_SUPERLATIVES or (len(parts) == 2 and parts[1] in STOPWORDS):
            continue
        found.add(match)
    return frozenset(found)


@lru_cache(maxsize=65_536)
def qualifiers(text: str) -> dict[str, frozenset[str]]:
    """"chlorophyll b" -> {"chlorophyl": {"b"}}; "Apollo 13", "photosystems I and II": the letters, numerals
    or numbers that tell siblings apart, by the stem of the word they follow. Cached, as `superlatives` is:
    the same sentences come back question after question."""
    out: dict[str, set[str]] = {}
    for word, marks in QUALIFIED.findall(normalize(text)):
        if word not in STOPWORDS and word not in lexicon.QUESTION_WORDS:
            out.setdefault(stem(word), set()).update(m for m in re.split(r"\s*(?:,|\band\b|\bor\b|&)\s*", marks) if m)
    for mark, word in ORDINAL_BEFORE.findall(normalize(text)):
        out.setdefault(stem(word), set()).add(mark)
    return {word: frozenset(marks) for word, marks in out.items()}


def qualifier_class(mark: str) -> str:
    if mark.isdigit():
        return "number"
    if re.fullmatch(r"\d+(?:st|nd|rd|th)", mark):
        return "ordinal"
    return "roman" if set(mark) <= set("ivx") else "letter"


def may_contrast(question: str) -> bool:
    """The question has a word a near miss could swap: one with an opposite, a superlative, a qualifier."""
    return bool(superlatives(question) or qualifiers(question) or any(t in OPPOSITE for t in terms(question)))


def contrast(question: str, sentence: str, similarity: Callable[[str, str], float] | None = None,
             synonym: float = 0.5) -> tuple[str, str] | None:
    """(asked, given) when the sentence gives an alternative to what the question asks and not the asked
    thing itself: the opposite ("lowest" for "highest", "opened" for "closed"), another superlative ("most
    abundant" for "largest"; "biggest" is the same when `similarity` of the two words reaches `synonym`),
    or a sibling ("chlorophyll a" for "chlorophyll b"). A near miss, not an answer; else None."""
    asked, given = set(terms(question)), set(terms(sentence))
    for t in sorted(asked):
        if OPPOSITE.get(t) in given and t not in given:
            return written(t, question), written(OPPOSITE[t], sentence)
    wanted, offered = superlatives(question), superlatives(sentence)
    if wanted and offered and not any(
            w == o or (similarity and similarity(w.split()[-1], o.split()[-1]) >= synonym)
            for w in wanted for o in offered):
        return sorted(wanted)[0], sorted(offered)[0]
    siblings = qualifiers(sentence)
    for word, marks in sorted(qualifiers(question).items()):
        others = siblings.get(word, frozenset())
        classes = {qualifier_class(m) for m in marks}
        if others and not others & marks and {qualifier_class(m) for m in others} <= classes:
            return written(word, question, sorted(marks)[0]), written(word, sentence, sorted(others)[0])
    return None


def unknown_names(query: Query, name_known: Callable[[str, Query], bool], document_names: frozenset[str]) -> list[str]:
    """The question's names the document never mentions, in any spelling (`name_known`), except
    those written beside a name it does mention, as a name: "Mikhail Gorbachev" where the text says
    "Gorbachev"; but "Lake Tanganyika" where it writes "the lake" is not let through."""
    missing = [n for n in query.names if not name_known(n, query)]
    if not missing:
        return []
    beside = set()
    for run in NAME_RUN.finditer(f"{query.context} {query.text}"):
        parts = [re.sub(r"['’]s$", "", p).lower() for p in re.findall(r"[^\W\d_][\w'’]*", run.group())]
        if any(p in query.names and p not in missing and p in document_names for p in parts):
            beside.update(parts)
    return [n for n in missing if n not in beside]


def written(stem_: str, text: str, mark: str = "") -> str:
    """A stem as the text writes it ("increas" -> "increased"), with its qualifier when given ("chlorophyll
    b"; an ordinal comes first: "36th Division")."""
    if mark and qualifier_class(mark) == "ordinal":
        found = re.search(rf"\b{re.escape(mark)}\s+{re.escape(stem_)}\w*", text, re.IGNORECASE)
        return found.group() if found else f"{mark} {stem_}"
    tail = rf"\s+{re.escape(mark)}\b" if mark else ""
    found = re.search(rf"\b{re.escape(stem_)}\w*{tail}", text, re.IGNORECASE)
    return found.group() if found else f"{stem_} {mark}".strip()


def as_written(word: str, text: str) -> str:
    found = re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
    return found.group() if found else word

"""The hand rules of the answer decision, each a named check that refuses or filters where the model
alone answers. A rule stays only while it shows a gain on the validation documents (whole pipeline,
rule switched off against on: `python -m rag.evaluation.rules_effect`); `Rule` records each one's measured effect.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import Callable

from rag.text.patterns import NAME_RUN
from rag.text.terms import bare
from rag.types import Query


class Rule(str, Enum):
    """The hand rules, by name, with their effect on the validation documents when switched off (whole
    pipeline, mean of 7 documents, the verifier-reading decision of 2026-12-02; bench/results.md).
    Four more were removed then, each showing no gain there: near misses (an opposite, another
    superlative or a sibling is no answer: -0.007 accuracy, no refusal gained), a birth or death date
    needing a sentence that dates one (no effect), the question's year needing to be in the sentence
    or its section (no effect), and a two-step answer that is only the bridge sentence (-0.004
    accuracy, no refusal gained)."""
    # Refuse when the question names what the document never mentions: off, refusals of unanswerable
    # questions 0.328 -> 0.285, for accuracy 0.714 -> 0.718 and false refusals 0.114 -> 0.104.
    UNKNOWN_NAMES = "unknown-names"
    # "How many", "which year", "what date" need a sentence with a number, year or date: off, refusals
    # 0.328 -> 0.295, for accuracy 0.714 -> 0.721 and false refusals 0.114 -> 0.111.
    TYPED_ANSWER = "typed-answer"


ALL_RULES = frozenset(Rule)


def unknown_names(query: Query, name_known: Callable[[str, Query], bool], document_names: frozenset[str]) -> list[str]:
    """The question's names the document never mentions, in any spelling (`name_known`), except
    those written beside a name it does mention, as a name: "Mikhail Gorbachev" where the text says
    "Gorbachev"; but "Lake Tanganyika" where it writes "the lake" is not let through."""
    missing = [n for n in query.names if not name_known(n, query)]
    if not missing:
        return []
    beside = set()
    for run in NAME_RUN.finditer(f"{query.context} {query.text}"):
        parts = [bare(p).lower() for p in re.findall(r"[^\W\d_][\w'’]*", run.group())]
        if any(p in query.names and p not in missing and p in document_names for p in parts):
            beside.update(parts)
    return [n for n in missing if n not in beside]


def as_written(word: str, text: str) -> str:
    found = re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
    return found.group() if found else word

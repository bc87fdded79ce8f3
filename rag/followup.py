"""Follow-up questions: search with the conversation only when the new question leans on it."""
from __future__ import annotations

import re

from rag.question import question_names

# Words that point back at something said before: a person always, a thing unless the question names one.
PERSONAL = re.compile(r"\b(he|she|they|them|him|his|her|hers|their|theirs|the latter|the former)\b", re.I)
DEMONSTRATIVE = re.compile(r"\b(it|its|this|that|these|those|there|then|the same)\b", re.I)
CONTINUATION = re.compile(r"^\s*(and|but|also|so|what about|how about|and what|then)\b", re.I)


def leans_on_history(question: str) -> bool:
    """True when the question cannot stand alone: it points back, or starts as a continuation."""
    if CONTINUATION.search(question):
        return True
    if PERSONAL.search(question):
        return True
    # "Why did the Soviets invade Xinjiang at that time?" still names its topic.
    return bool(DEMONSTRATIVE.search(question)) and not question_names(question)


def context_for(question: str, history: list[str] | None) -> str:
    """The earlier question(s) to search with, or "" for a self-contained question."""
    if not history or not leans_on_history(question):
        return ""
    # The last turn that named its own topic; if it was itself a follow-up, its predecessor too.
    context = [history[-1]]
    if len(history) > 1 and leans_on_history(history[-1]):
        context.insert(0, history[-2])
    return " ".join(context)

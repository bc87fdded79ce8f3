"""Text a client sends is bounded and every pattern run over it is linear: no input under the body cap
costs more than a few milliseconds before retrieval (the attack was 1.9 s of CPU for one request)."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answering.query import MAX_QUESTION_CHARS, analyse
from rag.errors import QuestionError

TRICKY = st.sampled_from([" ", "?", "\t", "\n", "1", ",", ".", "A", "a", "'", "-", "$", "%", "é", "Mr ", "1990s "])
BUDGET_S = 0.05  # per request: the bound, far above the ~1 ms these take


@pytest.fixture(scope="module", autouse=True)
def warmed():
    """One question first: the lazily built word lists are a one-off cost, not what a request pays."""
    analyse("What is it?")


def cost(question: str, history: list[str] | None) -> float:
    """CPU seconds of this thread alone: other threads of the test session (servers, watchers) do not count."""
    began = time.thread_time()
    try:
        analyse(question, history)
    except QuestionError:
        pass
    return time.thread_time() - began


@settings(max_examples=60, deadline=None)
@given(runs=st.lists(st.tuples(TRICKY, st.integers(1, 8000)), min_size=1, max_size=6),
       in_history=st.booleans())
def test_no_text_under_the_body_cap_is_slow_to_analyse(runs, in_history):
    text = "".join(piece * count for piece, count in runs)[:31_000]
    question, history = ("and then?", [text]) if in_history else (text, None)
    assert cost(question, history) < BUDGET_S


@pytest.mark.parametrize("question, history", [
    ("and then?", [" " * 31_800]),  # the reported attack
    (" " * 31_000 + "x", None),
    ("?" + " " * (MAX_QUESTION_CHARS - 2) + "x", None),
    ("Who " + "A" * (MAX_QUESTION_CHARS - 10) + "?", ["who " * 400]),
    ("when?", ["When did it start?"] * 200),
    ("?" * MAX_QUESTION_CHARS, None),  # a run of marks: the sentence splitter once tried it from every mark
])
def test_the_worst_shapes_we_know_are_cheap(question, history):
    assert cost(question, history) < BUDGET_S


def test_history_is_bounded_in_items_and_length():
    with pytest.raises(QuestionError, match="at most"):
        analyse("and then?", ["earlier?"] * 201)
    with pytest.raises(QuestionError, match="earlier question"):
        analyse("and then?", ["x" * (MAX_QUESTION_CHARS + 1)])


@pytest.mark.parametrize("sentence", ["7" * 2000, ",".join(["12.5"] * 400), "1 " * 1000])
@pytest.mark.parametrize("question", ["How far is it?", "What did it cost?", "What is the phone number?",
                                      "How hot is it?", "How long is it?"])
def test_a_document_sentence_of_digits_is_cheap_to_check_for_units(sentence, question):
    """A document is client text too: its sentences go through the unit patterns (a run of digits once cost
    0.8 s per check, quadratic in its length)."""
    from rag.answering.signals import unit_missing
    units = analyse(question).units
    began = time.thread_time()
    unit_missing(units, sentence)
    assert time.thread_time() - began < 0.25

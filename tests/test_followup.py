"""Follow-up questions lean on the conversation; self-contained ones do not."""
from __future__ import annotations

import pytest

from rag.answering.query import context_for, leans_on_history


@pytest.mark.parametrize("question", [
    "When did they enter?", "What did he say to the Chinese magazine?", "and what did he do in 1972?",
    "Why did it fail?", "What about Mongolia?", "How did they react?", "Since when?", "At what price?",
])
def test_follow_ups(question):
    assert leans_on_history(question)


@pytest.mark.parametrize("question", [
    "When did Gorbachev visit Beijing?", "Who led the Mongolian guerrillas?", "What happened in 1969?",
    "Why did the Elbonians invade Graustark at that time?", "Who is Orla Venn?",
])
def test_self_contained(question):
    assert not leans_on_history(question)


def test_context_is_the_last_turn_that_named_its_topic():
    history = ["Who did Mao send to Korea?", "When did they enter?"]
    assert context_for("Why did they go?", history) == "Who did Mao send to Korea? When did they enter?"
    assert context_for("When did Gorbachev visit Beijing?", history) == ""
    assert context_for("When did they enter?", []) == ""
    assert context_for("What did he say?", ["Tell me about Gorbachev's visit"]) == "Tell me about Gorbachev's visit"


@pytest.mark.slow
def test_a_pronoun_follow_up_is_answered_from_the_turn_it_leans_on(real_pipeline):
    # Refused from the decision of 2026-12-06 to rule 24's (probability 0.30 under the threshold of 0.40, 0.21
    # under 0.36 with rule 17's); answered again with rule 25's verifier and decision (0.52).
    a = real_pipeline.ask("When did they enter?", history=["Who did Mao send to Korea?"])
    assert "19 October 1950" in a.answer, a.answer


@pytest.mark.slow
def test_follow_up_pairs_with_the_article(real_pipeline):
    b = real_pipeline.ask("What did he say to the Chinese magazine?", history=["Tell me about Gorbachev's visit"])
    assert "special interest" in b.answer or "similar problems" in b.answer, b.answer
    # An old topic does not drown a new, self-contained question.
    c = real_pipeline.ask("When did Gorbachev visit Beijing?", history=["Who did Mao send to Korea?"])
    assert "May 1989" in c.answer


@pytest.mark.slow
@pytest.mark.parametrize("question, first", [
    ("and what did he do in 1972?", "Nixon"),  # its own year leads, not the earlier turn
    ("and what did he think of him?", "distrusted"),  # without one, the earlier turn does
])
def test_a_follow_up_with_its_own_detail_ranks_that_detail_first(real_pipeline, question, first):
    query = real_pipeline.analyse(question, ["Why did Mao distrust Khrushchev?"])
    best = real_pipeline.judge.decide(query, real_pipeline.search(query)).candidates[0]
    assert first in best.sentence.text, best.sentence.text


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known gap (issue 18): refused from the decision of 2026-12-05 to rule "
                   "22's (0.32 under the threshold of 0.40) and again with rule 25's (0.29), answered with rule "
                   "24's (0.58), though the 1972 sentence ranks first (above); the decision is chosen on "
                   "validation, not moved back for one question of a test document")
def test_a_follow_up_with_its_own_year_is_not_answered_by_the_earlier_turn(real_pipeline):
    d = real_pipeline.ask("and what did he do in 1972?", history=["Why did Mao distrust Khrushchev?"])
    assert "Nixon" in d.answer, d.answer

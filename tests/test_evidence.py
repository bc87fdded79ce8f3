"""The answerability decision: a table of what each signal reads, then the decision itself (fake embedder, tiny document)."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeEmbedder

from rag import Pipeline
from rag.answering.evidence import EvidenceJudge, renumbered, rerank
from rag.answering.model import LogisticModel
from rag.answering.rules import unknown_names
from rag.answering.signals import counted_words, initialisms
from rag.index.folder import load_index
from rag.types import Passage, Sentence


@pytest.fixture
def pipeline(small_index: Path) -> Pipeline:
    return Pipeline(load_index(small_index), embedder=FakeEmbedder())


def signals(pipeline: Pipeline, question: str, sentence: str, section: str = "History") -> dict[str, float]:
    """The signals of one made-up sentence, as its own passage, for a question."""
    query = pipeline.analyse(question)
    passage = Passage(1, "c", "tea.txt", section, sentence, 0, len(sentence), 1.0, ["bm25"],
                      sentences=[Sentence(0, len(sentence), sentence)], sentence_rows=[0], similarity=0.5)
    return pipeline.judge.candidates(query, [passage])[0].signals


@pytest.mark.parametrize("signal, question, sentence, expected", [
    # names: the person asked about is the one the sentence talks about
    ("names", "When did Rudolf found the board?", "King Rudolf III founded the Royal Tea Board in 1851.", 1.0),
    ("names", "When did Anton found the board?", "King Rudolf III founded the Royal Tea Board in 1851.", 0.0),
    ("names", "What did Rudolf's board set?", "Rudolf's board still sets prices today.", 1.0),  # possessive
    ("names", "What does the RTB set?", "The Royal Tea Board still sets prices today.", 1.0),  # initialism
    ("names", "How much tea is sold?", "Most tea is sold to Graustark every year.", 1.0),  # no name asked: nothing missing
    # opposite: the sentence says the opposite of what is asked (opened, not closed; lowest, not highest)
    ("opposite", "When did the board close?", "The board opened its doors in 1851.", 1.0),
    ("opposite", "Which was the highest price?", "The lowest price was paid in 1900.", 1.0),
    ("opposite", "When did the board open?", "The board opened its doors in 1851.", 0.0),
    ("opposite", "Which was the highest price?", "The highest and the lowest price were paid in 1900.", 0.0),
    # counts_asked: a "how many" question needs a number of what it counts
    ("counts_asked", "How many tonnes does the kingdom export?", "The kingdom exports about 4,000 tonnes each year.", 1.0),
    ("counts_asked", "How many sailors crew a barge?", "A barge carries about 120 sacks of grain.", 0.0),  # a number, not of sailors
    ("counts_asked", "How many sailors crew a barge?", "A barge has no crew at all.", 0.0),  # no number
    ("counts_asked", "Who founded the board?", "The board was founded in 1851.", 1.0),  # not a "how many" question
    # kind_ok: the sentence holds the kind of answer asked for (a quantity, a year, a name, a cause)
    ("kind_ok", "How many tonnes does the kingdom export?", "The kingdom exports about 4,000 tonnes each year.", 1.0),
    ("kind_ok", "How many tonnes does the kingdom export?", "The kingdom exports tea to its neighbours.", 0.0),
    ("kind_ok", "In what year did the king set up the tea board?", "The board was founded in 1851 by the king.", 1.0),
    ("kind_ok", "Who brought tea to Ruritania?", "Tea was brought to Ruritania by the merchant Anton Vell.", 1.0),
    ("kind_ok", "Who brought tea to Ruritania?", "Tea was brought to Ruritania long ago by ship.", 0.0),
    ("kind_ok", "Why is tea sold to Graustark?", "Tea is sold to Graustark because the river runs there.", 1.0),
    # unit_missing: a measured quantity is asked and the sentence holds none of its unit
    ("unit_missing", "How far is the ferry crossing?", "The ferry crosses the lake in 40 minutes.", 1.0),
    ("unit_missing", "How far is the ferry crossing?", "The ferry crosses 12 km of open water.", 0.0),
    ("unit_missing", "How long is the crossing?", "The ferry crosses the lake in 40 minutes.", 0.0),  # a time or a length
    ("unit_missing", "What does a tea licence cost?", "A tea licence allows sales in one town.", 1.0),
    ("unit_missing", "What does a tea licence cost?", "A tea licence costs 30 crowns a year.", 0.0),
    ("unit_missing", "Who founded the board?", "The board was founded in 1851.", 0.0),  # no unit asked
])
def test_signal(pipeline, signal, question, sentence, expected):
    """One row per behaviour of one signal of one made-up sentence."""
    assert signals(pipeline, question, sentence)[signal] == expected


@pytest.mark.parametrize("question, unknown", [
    ("What did Napoleon think of Ruritania?", 0.5),
    ("What does the RTB do?", 0.0),  # spelled out in the document as Royal Tea Board
    ("Who founded the Royal Tea Board?", 0.0),
])
def test_names_the_document_never_mentions(pipeline, question, unknown):
    assert signals(pipeline, question, "Tea was brought to Ruritania by a merchant.")["names_unknown"] == unknown


@pytest.mark.parametrize("question, counted", [
    ("How many Elbonian river pilots were hired?", ("elbonian", "river", "pilots")),
    ("how many guilds were chartered", ("guilds", "chartered")),
    ("When did the board open?", ()),
])
def test_counted_words(question, counted):
    assert counted_words(question) == counted


@pytest.mark.parametrize("question, sentence, novel", [
    ("Who founded the Royal Tea Board?", "The Royal Tea Board was founded.", False),  # only restates
    ("Who founded the Royal Tea Board?", "King Rudolf III founded the Royal Tea Board in 1851.", True),
])
def test_novelty(pipeline, question, sentence, novel):
    assert (signals(pipeline, question, sentence)["novelty"] > 0.3) is novel


@pytest.mark.parametrize("question, missing", [
    ("How many plantations did Elbonia have in 1920?", 1.0),  # a year the sentence's section lacks
    ("What happened in 1851?", 0.0),
])
def test_year_missing(pipeline, question, missing):
    assert signals(pipeline, question, "King Rudolf III founded the Royal Tea Board in 1851.")["year_missing"] == missing


def test_soft_matching_counts_a_present_word_fully(pipeline):
    s = signals(pipeline, "When was the board founded?", "King Rudolf III founded the Royal Tea Board in 1851.")
    assert s["soft_weakest"] == 1.0 and s["soft_cover"] == 1.0


def test_initialisms_of_capitalised_runs():
    found = initialisms(["The United Nations met the Royal Tea Board of Ruritania."])
    assert "un" in found and "rtb" in found and {"unit", "nation"} <= found["un"]


def test_rerank_puts_the_passage_with_the_best_sentence_first(pipeline):
    query = pipeline.analyse("Who brought tea to Ruritania?")
    passages, _ = renumbered(pipeline.search(query, 3)[::-1], [])  # retrieval's order reversed: the best comes last
    candidates = pipeline.judge.candidates(query, passages)
    assert candidates[0].passage is not passages[0] and "Anton Vell" in candidates[0].sentence.text
    ordered = rerank(passages, candidates)
    assert ordered[0] is candidates[0].passage and {id(p) for p in ordered} == {id(p) for p in passages}
    numbered, moved = renumbered(ordered, candidates)
    assert [p.n for p in numbered] == [1, 2, 3] and moved[0].passage is numbered[0]
    assert numbered[0].text == ordered[0].text and numbered[0].n != ordered[0].n  # a renumbered copy


def test_a_missing_name_is_the_reason_given(pipeline):
    answer = pipeline.ask("What did Napoleon think of Ruritania?")
    assert answer.refused and "never mentions Napoleon" in answer.answer and answer.citations == []


def test_the_threshold_decides(small_index):
    """The same question is answered or refused by the model's threshold alone."""
    question = "Where is most tea sold?"
    always = Pipeline(load_index(small_index), FakeEmbedder(), threshold=0.0).ask(question)
    never = Pipeline(load_index(small_index), FakeEmbedder(), threshold=1.01).ask(question)
    assert not always.refused and "Graustark" in always.answer
    assert never.refused and never.answer.startswith("The document (Tea in Ruritania) does not say")


def test_the_judge_decides_with_the_model_it_is_given(pipeline):
    """A model of one signal (the ranking score, weight 0, bias 0: probability 0.5 for every sentence)
    answers or refuses by its own threshold, or by the threshold the judge is given."""
    model = LogisticModel(("score",), (0.0,), (1.0,), (0.0,), 0.0, 0.7)
    query = pipeline.analyse("Where is most tea sold?")
    passages = pipeline.search(query, 3)
    assert EvidenceJudge(pipeline.judge.stats, model).decide(query, passages).refused
    decided = EvidenceJudge(pipeline.judge.stats, model, threshold=0.2).decide(query, passages)
    assert not decided.refused and decided.confidence == 0.5


def one_sentence_passage(sentence: str, n: int = 1, start: int = 0) -> Passage:
    return Passage(n, f"c{n}", "tea.txt", "Trade", sentence, start, start + len(sentence), 1.0, ["bm25"],
                   sentences=[Sentence(start, start + len(sentence), sentence)], sentence_rows=[0], similarity=0.5)



@pytest.mark.parametrize("question, unknown", [
    ("What did Napoleon think of Ruritania?", ["napoleon"]),
    ("When did Marcus Vell found the board?", []),  # a first name the text leaves out, beside one it has
    ("Who sails the River Styx?", ["styx"]),  # beside "river", which the text writes as a common word
    ("What does the RTB set?", []),  # an initialism the text spells out
    ("Who sold tea to the Graustark court?", []),
])
def test_names_the_document_never_mentions_refuse(pipeline, question, unknown):
    judge = pipeline.judge
    assert unknown_names(pipeline.analyse(question), judge.reader.name_known, judge.stats.names) == unknown


def test_a_never_mentioned_name_refuses_even_a_judge_that_answers_anything(small_index):
    answer = Pipeline(load_index(small_index), FakeEmbedder(), threshold=0.0).ask("How much tea does Napoleon buy?")
    assert answer.refused and "it never mentions Napoleon" in answer.answer


class CountingVerifier:
    """A fake verifier: 0.9 for every pair, and the pairs it was asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def probabilities(self, question: str, texts: list[str]):
        self.asked += [(question, t) for t in texts]
        return [0.9] * len(texts)


def test_the_verifier_reads_the_best_few_only(pipeline):
    verifier = CountingVerifier()
    judge = EvidenceJudge(pipeline.judge.stats, pipeline.model, verifier=verifier, verified=2, verifier_weight=0.0)
    query = pipeline.analyse("Who brought tea to Ruritania?")
    passages = pipeline.search(query, 3)
    ranked = judge.ranked(query, passages)
    assert verifier.asked == [] and all("verifier" not in c.signals for c in ranked)
    verified = judge.candidates(query, passages)
    assert len(verifier.asked) == 2 and [c.signals.get("verifier") for c in verified[:3]] == [0.9, 0.9, None]
    judge.reader.verify(query, ranked)
    assert all("verifier" not in c.signals for c in ranked)  # what it was given is left as it was


class ListVerifier:
    """A fake verifier: the given probabilities, in the order of the pairs asked."""

    def __init__(self, probabilities: list[float]) -> None:
        self.given = probabilities

    def probabilities(self, question: str, texts: list[str]):
        return self.given[:len(texts)]


@pytest.mark.parametrize("probabilities, weight, order", [
    ([0.0, 1.0, 0.0], 0.0, [0, 1, 2, 3]),  # no weight: the ranking stays
    ([0.0, 1.0, 0.0], 10.0, [1, 0, 2, 3]),  # the second is lifted over the first
    ([0.0, 0.0, 1.0], 10.0, [2, 0, 1, 3]),  # the third too; the fourth, not verified, stays last
])
def test_the_verifier_reorders_the_few_it_reads(pipeline, probabilities, weight, order):
    judge = EvidenceJudge(pipeline.judge.stats, pipeline.model, verifier=ListVerifier(probabilities), verified=3,
                          verifier_weight=weight)
    query = pipeline.analyse("Who brought tea to Ruritania?")
    ranked = judge.ranked(query, pipeline.search(query, 3))
    assert len(ranked) >= 4 and all(c.eligible for c in ranked[:4])
    moved = judge.reader.verify(query, ranked)
    assert [ranked.index(next(r for r in ranked if r.sentence == m.sentence)) for m in moved[:4]] == order
